"""The back office sees register outages."""

from __future__ import annotations

import pytest

from registry.models import RegisterLookup

pytestmark = pytest.mark.django_db


def test_staff_see_which_register_is_down(admin_client) -> None:
    RegisterLookup.objects.create(register="enhetsregisteret", key="914778271", outcome="found")
    RegisterLookup.objects.create(
        register="aa_registeret", key="01017512338", outcome="failed", detail="timed out after 5 s"
    )
    body = admin_client.get("/backoffice/registers/").content.decode()
    assert "timed out after 5 s" in body
    # Aa-registeret's latest answer is a failure: shown as not answering.
    aa_row = body[body.index("Aa-registeret") :].split("</tr>")[0]
    assert "✗" in aa_row
    er_row = body[body.index('<th scope="row">Enhetsregisteret</th>') :].split("</tr>")[0]
    assert "✓" in er_row


def test_the_register_page_is_for_staff_only(client, django_user_model) -> None:
    assert client.get("/backoffice/registers/").status_code == 302
    client.force_login(django_user_model.objects.create(username="employer"))
    assert client.get("/backoffice/registers/").status_code == 403
