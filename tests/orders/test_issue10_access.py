"""Every page of the administration (card register and exports, renewals, ending a card,
bulk ordering, access and its confirmation, the audit trail) tried by a grantee, a flagged
grantee, a revoked grantee, an expired grantee and a stranger.

Grants in force (flagged ones too, until they end) open the organisation's pages; the others
get the same 404 as an organisation that does not exist, so numbers cannot be probed.
"""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from cards.models import Card
from orders.models import BulkUpload, Delegation
from registry.datasets import registry_dataset_load
from tests.cards.factories import CardFactory
from tests.datasets import EMPLOYER, SUB_UNIT, WORKER, ensure_card_catalogue, small_dataset
from tests.hmsportal.factories import UserFactory

pytestmark = pytest.mark.django_db

PEOPLE = {
    "grantee": "01017512419",
    "flagged": "02028010470",
    "revoked": "02028010128",
    "expired": "02028010209",
    "stranger": "15068512345",
}
# The administration's pages (issue 10), by URL name; every one takes the organisation.
ADMINISTRATION = [
    "orders:card_list",
    "orders:card_export_csv",
    "orders:card_export_xlsx",
    "orders:card_renew",
    "orders:card_end",
    "orders:bulk_upload",
    "orders:bulk_detail",
    "orders:bulk_progress",
    "orders:bulk_order",
    "orders:bulk_report_xlsx",
    "orders:delegations",
    "orders:delegation_confirm",
    "orders:audit",
]


# What a delegate's GET gets where it is not the page itself.
EXPECTED_FOR_A_DELEGATE = {
    "orders:bulk_order": 405,  # POST only
    "orders:bulk_progress": 302,  # htmx's fragment; without htmx, to the upload's page
}


@pytest.fixture
def organisation():
    ensure_card_catalogue()
    registry_dataset_load(dataset=small_dataset())
    owner = UserFactory()
    today = timezone.localdate()
    grants = {}
    for kind in ("grantee", "flagged", "revoked", "expired"):
        grants[kind] = Delegation.objects.create(
            employer_orgnr=EMPLOYER,
            grantee_national_id=PEOPLE[kind],
            grantee_name=kind,
            granted_by=owner,
            valid_from=today - datetime.timedelta(days=10),
            valid_until=today - datetime.timedelta(days=1) if kind == "expired" else None,
            revoked_at=timezone.now() if kind == "revoked" else None,
            flagged_at=timezone.now() if kind == "flagged" else None,
        )
    card = CardFactory(
        holder_national_id=WORKER,
        employer_orgnr=EMPLOYER,
        workplace_orgnr=SUB_UNIT,
        employer_name="Fjordbygg AS",
        state=Card.State.ACTIVE,
    )
    upload = BulkUpload.objects.create(owner=owner, employer_orgnr=EMPLOYER)
    return {"owner": owner, "grants": grants, "card": card, "upload": upload}


def url_of(name: str, organisation: dict) -> str:
    kwargs: dict[str, object] = {"orgnr": EMPLOYER}
    if name == "orders:card_end":
        kwargs["number"] = organisation["card"].number
    elif name.startswith("orders:bulk_") and name != "orders:bulk_upload":
        kwargs["upload_id"] = organisation["upload"].pk
    elif name == "orders:delegation_confirm":
        kwargs["delegation_id"] = organisation["grants"]["flagged"].pk
    return reverse(name, kwargs=kwargs)


def test_the_list_covers_every_organisation_page_of_the_administration() -> None:
    """A new organisation page under cards/, bulk/, access/ or audit/ must join the list."""
    from orders import urls

    administration = {
        f"orders:{pattern.name}"
        for pattern in urls.urlpatterns
        if str(pattern.pattern).startswith("<str:orgnr>/")
        and str(pattern.pattern).split("/")[1] in {"cards", "bulk", "access", "audit"}
        and pattern.name not in {"card_detail"}  # the card page predates this issue
    }
    assert administration == set(ADMINISTRATION)


@pytest.mark.parametrize("kind", ["revoked", "expired", "stranger"])
def test_who_may_not_act_gets_404_on_every_page(client, organisation, kind) -> None:
    client.force_login(UserFactory(username=kind, national_id=PEOPLE[kind]))
    before = sorted(Delegation.objects.values_list("pk", "revoked_at", "flagged_at"))
    for name in ADMINISTRATION:
        url = url_of(name, organisation)
        assert client.get(url).status_code == 404, url
        assert client.post(url, {}).status_code in (404, 405), url
    assert sorted(Delegation.objects.values_list("pk", "revoked_at", "flagged_at")) == before
    assert Card.objects.get().state == Card.State.ACTIVE  # nothing ended either


@pytest.mark.parametrize("kind", ["grantee", "flagged"])
def test_a_grant_in_force_opens_the_pages_a_delegate_may_use(client, organisation, kind) -> None:
    client.force_login(UserFactory(username=kind, national_id=PEOPLE[kind]))
    for name in ADMINISTRATION:
        url = url_of(name, organisation)
        response = client.get(url)
        status = response.status_code
        if status == 302:
            assert "/login/" not in response["Location"], url
        if name == "orders:delegation_confirm":
            assert status == 404, url  # only a key-role holder confirms a flagged grant
        else:
            # The organisation's pages, its bulk uploads included (a POST-only page: 405).
            assert status == EXPECTED_FOR_A_DELEGATE.get(name, 200), (url, status)
