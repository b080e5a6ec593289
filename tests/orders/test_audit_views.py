"""Who sees which audit trail: an organisation's administrators their own, staff everything."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from cards.numbers import display
from cards.services import card_transition
from hmsportal.audit import audit_record
from hmsportal.models import AuditEntry
from orders.models import Delegation
from registry.datasets import registry_dataset_load
from tests.cards.factories import CardFactory, valid_orgnr
from tests.datasets import EMPLOYER, SUB_UNIT, small_dataset
from tests.hmsportal.factories import UserFactory
from tests.orders.factories import OrderLineFactory

pytestmark = pytest.mark.django_db
A = AuditEntry.Action
DELEGATE = "01017512419"
OTHER = valid_orgnr()


@pytest.fixture
def trail(client):
    """Kari (key role at EMPLOYER) logged in; one card change at EMPLOYER, one elsewhere."""
    registry_dataset_load(dataset=small_dataset())
    owner = UserFactory()
    mine = CardFactory(employer_orgnr=EMPLOYER, holder_first_name="Ola")
    card_transition(card=mine, to_state="revoked", actor=owner, reason="employment_ended")
    theirs = CardFactory(employer_orgnr=OTHER)
    card_transition(card=theirs, to_state="revoked", actor=None, reason="stolen")
    client.force_login(owner)
    return {"owner": owner, "mine": mine, "theirs": theirs}


def test_an_administrator_sees_only_their_organisations_trail(client, trail) -> None:
    html = client.get(f"/orders/{EMPLOYER}/audit/").content.decode()
    assert display(trail["mine"].number) in html
    assert display(trail["theirs"].number) not in html
    # In plain Norwegian, not codes.
    assert "Kortet er tilbakekalt" in html and "arbeidsforholdet er avsluttet" in html
    assert "employment_ended" not in html  # no raw codes
    assert "Kari Nordmann" in html
    assert 'aria-current="page" href="/orders/' in html  # the tab is marked
    # Another organisation's trail, guessed by its number: 404, like one that does not exist.
    assert client.get(f"/orders/{OTHER}/audit/").status_code == 404
    assert client.get("/orders/123456789/audit/").status_code == 404
    # Through the sub-unit: the main unit's trail, the same one.
    assert (
        display(trail["mine"].number) in client.get(f"/orders/{SUB_UNIT}/audit/").content.decode()
    )


def test_a_delegate_sees_the_trail_and_a_revoked_one_does_not(client, trail) -> None:
    today = timezone.localdate()
    delegation = Delegation.objects.create(
        employer_orgnr=EMPLOYER,
        grantee_national_id=DELEGATE,
        grantee_name="Per Hansen",
        granted_by=trail["owner"],
        valid_from=today,
    )
    client.force_login(UserFactory(username="per", national_id=DELEGATE, full_name="Per Hansen"))
    assert (
        display(trail["mine"].number) in client.get(f"/orders/{EMPLOYER}/audit/").content.decode()
    )
    Delegation.objects.filter(pk=delegation.pk).update(revoked_at=timezone.now())
    assert client.get(f"/orders/{EMPLOYER}/audit/").status_code == 404
    client.logout()
    response = client.get(f"/orders/{EMPLOYER}/audit/")
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_staff_see_every_organisations_trail_and_others_may_not(client, trail, settings) -> None:
    settings.STAFF_SECOND_FACTOR_REQUIRED = False
    assert client.get("/backoffice/audit/").status_code == 403
    staff = UserFactory(username="siv", national_id=None, full_name="Siv Stab", is_staff=True)
    client.force_login(staff)
    html = client.get("/backoffice/audit/").content.decode()
    assert display(trail["mine"].number) in html and display(trail["theirs"].number) in html
    assert "Logget inn" in html  # logins are there too
    html = client.get("/backoffice/audit/", {"organisation": OTHER}).content.decode()
    assert display(trail["theirs"].number) in html and display(trail["mine"].number) not in html
    html = client.get("/backoffice/audit/", {"organisation": "12"}).content.decode()
    assert "Et organisasjonsnummer har 9 sifre." in html


def test_filters_by_kind_of_change_person_and_dates(client, trail) -> None:
    base = f"/orders/{EMPLOYER}/audit/"
    audit_record(
        actor=trail["owner"],
        action=A.DELEGATION_GRANTED,
        organisation_orgnr=EMPLOYER,
        subject_label="Per Hansen",
        after={"grantee_name": "Per Hansen"},
    )
    html = client.get(base, {"action": A.DELEGATION_GRANTED}).content.decode()
    assert "Per Hansen" in html and display(trail["mine"].number) not in html
    html = client.get(base, {"actor": "nordmann"}).content.decode()
    assert "Per Hansen" in html and display(trail["mine"].number) in html
    assert "Per Hansen" not in client.get(base, {"actor": "hansen"}).content.decode()
    today = timezone.localdate()
    html = client.get(base, {"date_from": today.isoformat()}).content.decode()
    assert display(trail["mine"].number) in html
    yesterday = (today - datetime.timedelta(days=1)).isoformat()
    html = client.get(base, {"date_to": yesterday}).content.decode()
    assert display(trail["mine"].number) not in html and "Ingen endringer passer." in html
    # Hostile or wrong input is explained; the page answers.
    response = client.get(
        base,
        {
            "action": "drop table",
            "date_from": "31.02.2027",
            "date_to": "2020-01-01",
            "page": "x",
            "actor": "a" * 500,
        },
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "Velg en type endring fra listen." in html
    assert "Skriv inn en ekte dato" in html
    assert "Navnet er for langt." in html


def test_the_trail_pages_and_reads_in_english(client, trail) -> None:
    for number in range(55):
        audit_record(
            actor=trail["owner"],
            action=A.CONTACT_CHANGED,
            organisation_orgnr=EMPLOYER,
            before={"n": number},
            after={"n": number + 1},
        )
    client.cookies["django_language"] = "en"
    first = client.get(f"/orders/{EMPLOYER}/audit/").content.decode()
    assert "Page 1 of 2" in first and "Next" in first
    assert "Card revoked" in first or "Contact details changed" in first
    second = client.get(f"/orders/{EMPLOYER}/audit/", {"page": "2"}).content.decode()
    assert "Card revoked" in second and "employment ended" in second
    assert "State: Approved, waiting for production → Revoked" in second
    assert "Audit trail" in second


def test_the_page_costs_the_same_queries_for_few_entries_and_many(client, trail) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    url = f"/orders/{EMPLOYER}/audit/"
    client.get(url)  # caches (the organisation's register answers) warm
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for number in range(40):
        audit_record(
            actor=trail["owner"],
            action=A.CONTACT_CHANGED,
            organisation_orgnr=EMPLOYER,
            after={"n": number},
        )
    with CaptureQueriesContext(connection) as many:
        html = client.get(url).content.decode()
    assert html.count("data-audit-entry=") == 41
    assert len(many.captured_queries) == len(few.captured_queries)


def test_values_read_in_the_pages_language_not_as_stored(client, trail) -> None:
    """Dates in the page's own short format, amounts with its decimal comma or point, and a
    generated storage name as plain "attached" (a raw path means nothing to a reader)."""
    audit_record(
        actor=trail["owner"],
        action=A.CARD_ISSUED,
        subject=trail["mine"],
        organisation_orgnr=EMPLOYER,
        after={"valid_until": "2028-12-02", "photo": "cards/photos/419606251991.jpg"},
    )
    order_line = OrderLineFactory(order__employer_orgnr=EMPLOYER)
    audit_record(
        actor=trail["owner"],
        action=A.ORDER_PLACED,
        subject=order_line.order,
        organisation_orgnr=EMPLOYER,
        after={"price_incl_vat": "1131.56"},
    )
    audit_record(
        actor=None,
        action=A.LINE_APPROVED,
        subject=order_line,
        organisation_orgnr=EMPLOYER,
        before={"card": None},
        after={"card": "419606251991"},
    )
    norwegian = client.get(f"/orders/{EMPLOYER}/audit/").content.decode()
    number = trail["mine"].number
    assert f"Kort {number[:4]} {number[4:8]} {number[8:]}" in norwegian
    assert "Kort: – → 4196 0625 1991" in norwegian
    assert "Gyldig til: 02.12.2028" in norwegian
    assert "1\xa0131,56" in norwegian
    assert "Bilde: lagt ved" in norwegian
    assert "cards/photos/" not in norwegian
    client.cookies["django_language"] = "en"
    english = client.get(f"/orders/{EMPLOYER}/audit/").content.decode()
    assert "Valid until: 2 Dec 2028" in english
    assert "02.12.2028" not in english
    assert "1,131.56" in english
    assert "Photo: attached" in english
