"""The audit trail (issue 10 point 7): every change recorded append-only, with who, which
organisation, what, before and after, when and from which address; never an identity number;
an organisation's administrators see their own trail, staff see all."""

from __future__ import annotations

import datetime
import io
import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from cards.models import Card, CardType
from cards.services import Holder as CardHolder
from cards.services import card_issue, card_transition, cards_activate_delivered, cards_recheck
from hmsportal import contact
from hmsportal.audit import audit_record, identity_number_masked
from hmsportal.models import AuditEntry, AuditTrailIsAppendOnly, User
from orders import stash
from orders.models import Delegation, OrderLine
from orders.services import card_report_lost_by_holder, order_line_check
from registry.datasets import registry_dataset_load
from registry.models import Employment
from tests.cards.factories import CardFactory, valid_orgnr
from tests.conftest import AUDIT_TRUNCATE_TRIGGER
from tests.datasets import EMPLOYER, OWNER, SUB_UNIT, WORKER, jpeg, small_dataset
from tests.hmsportal.factories import UserFactory

pytestmark = pytest.mark.django_db
A = AuditEntry.Action
DELEGATE = "01017512419"
CLIENT_IP = "203.0.113.7"
IDENTITY_NUMBERS = (WORKER, OWNER, DELEGATE)


@pytest.fixture
def owner(client) -> User:
    registry_dataset_load(dataset=small_dataset())
    user = UserFactory()
    client.force_login(user)
    return user


def _entry(action: str) -> AuditEntry:
    return AuditEntry.objects.get(action=action)


def _order_form(**overrides) -> dict:
    data = {
        "employee": f"{WORKER}:{SUB_UNIT}",
        "card_type": CardType.objects.get(code="construction").pk,
        "photo": SimpleUploadedFile("Ola 01017512338.jpg", jpeg(), content_type="image/jpeg"),
        "id_document": SimpleUploadedFile(
            "pass.pdf", b"%PDF-1.4\n%scan\n", content_type="application/pdf"
        ),
        "identity_checked": "on",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def assert_no_identity_number_in_the_trail() -> None:
    for entry in AuditEntry.objects.all():
        stored = json.dumps(
            [entry.before, entry.after, entry.subject_label, entry.actor_name, entry.subject_id]
        )
        for number in IDENTITY_NUMBERS:
            assert number not in stored, (entry.action, stored)


# --- Each change writes an entry ---------------------------------------------------------


def test_placing_an_order_records_who_where_what_and_from_which_address(
    client, owner, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/orders/{EMPLOYER}/new/", _order_form(), REMOTE_ADDR=CLIENT_IP)
    assert response.status_code == 302
    placed = _entry(A.ORDER_PLACED)
    line = OrderLine.objects.get()
    assert placed.actor == owner and placed.actor_name == "Kari Nordmann"
    assert placed.organisation_orgnr == EMPLOYER
    assert placed.request_ip == CLIENT_IP
    assert placed.subject_type == "orders.order" and placed.subject_id == str(line.order_id)
    assert placed.before == {}
    assert placed.after["card_type"] == "construction"
    assert placed.after["first_name"] == "Ola" and placed.after["line"] == line.pk
    # Files by their stored name, never their content or the name they were uploaded with.
    assert placed.after["photo"] == line.photo.name and "Ola" not in placed.after["photo"]
    assert placed.after["price_incl_vat"] == "131.56"
    # The register check ran (eagerly) in the same request: approved, and the card issued.
    approved = _entry(A.LINE_APPROVED)
    assert approved.actor is None and approved.organisation_orgnr == EMPLOYER
    assert approved.before["state"] == "submitted"
    assert approved.after == {
        "state": "approved",
        "reason_codes": [],
        "card": line.card.number,
    }
    issued = _entry(A.CARD_ISSUED)
    assert issued.actor == owner and issued.subject_label == line.card.number
    assert issued.after["state"] == "approved"
    assert_no_identity_number_in_the_trail()
    # On the organisation's page, in plain words: the card type by name, no raw codes.
    html = client.get(f"/orders/{EMPLOYER}/audit/").content.decode()
    assert "Bestilling sendt" in html and "Godkjent etter registerkontroll" in html
    assert "Korttype: HMS-kort bygg og anlegg" in html
    assert "construction" not in html and CLIENT_IP in html


def test_a_line_waiting_for_aa_registeret_is_recorded_once_then_its_rejection(
    owner, settings
) -> None:
    from tests.orders.factories import OrderLineFactory

    Employment.objects.filter(person_id=WORKER).delete()
    line = OrderLineFactory()
    order_line_check(line_id=line.pk)
    order_line_check(line_id=line.pk)  # the daily retry: nothing changed, nothing recorded
    waiting = _entry(A.LINE_AWAITING)
    assert waiting.before["state"] == "submitted"
    assert waiting.after["state"] == "awaiting_registration"
    settings.ORDER_AWAIT_REGISTRATION_DAYS = 0
    order_line_check(line_id=line.pk)
    rejected = _entry(A.LINE_REJECTED)
    assert rejected.before["state"] == "awaiting_registration"
    assert rejected.after["state"] == "rejected" and rejected.after["reason_codes"]


def test_giving_and_removing_access_is_recorded_with_the_number_masked(client, owner) -> None:
    today = timezone.localdate()
    client.post(
        f"/orders/{EMPLOYER}/access/",
        {
            "national_id": DELEGATE,
            "name": "Per Hansen",
            "email": "per@example.no",
            "valid_from": today.isoformat(),
        },
        REMOTE_ADDR=CLIENT_IP,
    )
    delegation = Delegation.objects.get()
    granted = _entry(A.DELEGATION_GRANTED)
    assert (granted.actor, granted.organisation_orgnr) == (owner, EMPLOYER)
    assert granted.subject_label == "Per Hansen"
    assert granted.after["grantee_national_id"] == "*********19"
    assert granted.after["valid_from"] == today.isoformat()
    assert granted.request_ip == CLIENT_IP

    client.post(f"/orders/{EMPLOYER}/access/", {"revoke": str(delegation.pk)})
    revoked = _entry(A.DELEGATION_REVOKED)
    assert revoked.before == {"revoked_at": None} and revoked.after["revoked_at"]
    # Removing it again changes nothing and records nothing.
    client.post(f"/orders/{EMPLOYER}/access/", {"revoke": str(delegation.pk)})
    assert AuditEntry.objects.filter(action=A.DELEGATION_REVOKED).count() == 1
    assert_no_identity_number_in_the_trail()


def test_revoking_and_replacing_a_card_is_recorded(client, owner) -> None:
    card = CardFactory(employer_orgnr=EMPLOYER, holder_national_id=WORKER, state=Card.State.ACTIVE)
    client.post(f"/orders/{EMPLOYER}/cards/{card.number}/", {"reason": "lost", "replace": "on"})
    revoked = _entry(A.CARD_REVOKED)
    assert revoked.actor == owner and revoked.organisation_orgnr == EMPLOYER
    assert revoked.before == {"state": "active"}
    assert revoked.after == {"state": "revoked", "reason": "lost"}
    replaced = _entry(A.CARD_REPLACED)
    replacement = Card.objects.get(replaces=card)
    assert replaced.before == {"card": card.number}
    assert replaced.after == {"card": replacement.number, "reason": "lost"}
    assert _entry(A.CARD_ISSUED).subject_label == replacement.number
    assert_no_identity_number_in_the_trail()


def test_a_holder_reporting_their_card_stolen_is_recorded_as_theirs() -> None:
    holder = UserFactory(username="ola", national_id=WORKER, full_name="Ola Snekker")
    card = CardFactory(employer_orgnr=EMPLOYER, holder_national_id=WORKER)
    card_report_lost_by_holder(actor=holder, card=card, reason="stolen")
    revoked = _entry(A.CARD_REVOKED)
    assert revoked.actor == holder and revoked.actor_name == "Ola Snekker"
    assert revoked.organisation_orgnr == EMPLOYER
    assert revoked.after == {"state": "revoked", "reason": "stolen"}


def test_card_state_changes_one_by_one_and_in_bulk_get_one_entry_per_card() -> None:
    staff = UserFactory(username="staff", national_id=None, full_name="Siv Stab", is_staff=True)
    one = CardFactory(employer_orgnr=EMPLOYER)
    card_transition(card=one, to_state=Card.State.IN_PRODUCTION, actor=staff, reason="batch")
    moved = _entry(A.CARD_STATE_CHANGED)
    assert (moved.actor, moved.before, moved.after) == (
        staff,
        {"state": "approved"},
        {"state": "in_production", "reason": "batch"},
    )

    shipped = [CardFactory(employer_orgnr=orgnr) for orgnr in (EMPLOYER, valid_orgnr())]
    for card in shipped:
        card_transition(card=card, to_state=Card.State.IN_PRODUCTION, actor=None, reason="b")
        card_transition(card=card, to_state=Card.State.SHIPPED, actor=None, reason="s")
    entries_before = AuditEntry.objects.count()
    assert cards_activate_delivered(shipped_before=timezone.now() + datetime.timedelta(1)) == 2
    delivered = AuditEntry.objects.filter(after__state="active")
    assert AuditEntry.objects.count() == entries_before + 2
    assert {e.subject_label for e in delivered} == {c.number for c in shipped}
    assert {e.organisation_orgnr for e in delivered} == {c.employer_orgnr for c in shipped}
    assert all(e.before == {"state": "shipped"} and e.actor is None for e in delivered)


def test_the_nightly_recheck_records_a_card_becoming_invalid(owner) -> None:
    card = card_issue(
        card_type=CardType.objects.get(code="construction"),
        holder=CardHolder(
            national_id=WORKER, first_name="Ola", last_name="Snekker", birth_date=None
        ),
        workplace_orgnr=SUB_UNIT,
        employer_orgnr=EMPLOYER,
        employer_name="Fjordbygg AS",
        valid_until=timezone.localdate() + datetime.timedelta(days=300),
        photo=b"",
        actor=None,
    )
    Employment.objects.filter(person_id=WORKER).delete()
    cards_recheck(cards=[Card.objects.select_related("card_type").get(pk=card.pk)])
    invalid = AuditEntry.objects.get(action=A.CARD_STATE_CHANGED)
    assert invalid.after["state"] == "invalid"
    assert invalid.after["reason"].startswith("register check failed")
    assert invalid.organisation_orgnr == EMPLOYER and invalid.actor is None
    assert_no_identity_number_in_the_trail()


def test_employee_upload_link_and_files_are_recorded(
    client, owner, django_capture_on_commit_callbacks
) -> None:
    import re

    data = _order_form(
        photo=None, id_document=None, files_from="employee", employee_email="ola@example.no"
    )
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/orders/{EMPLOYER}/new/", data)
    issued = _entry(A.UPLOAD_LINK_ISSUED)
    line = OrderLine.objects.get()
    assert issued.actor == owner and issued.organisation_orgnr == EMPLOYER
    assert issued.subject_label == "Ola Snekker" and issued.after["email"] == "ola@example.no"
    from django.core import mail

    (token,) = {
        m.group(1)
        for message in mail.outbox
        if (m := re.search(r"/u/([A-Za-z0-9_-]+)/", message.body))
    }
    employee = type(client)()
    with django_capture_on_commit_callbacks(execute=True):
        employee.post(
            f"/u/{token}/",
            {
                "photo": SimpleUploadedFile("me.jpg", jpeg(), content_type="image/jpeg"),
                "id_document": SimpleUploadedFile(
                    "pass.pdf", b"%PDF-1.4\n", content_type="application/pdf"
                ),
            },
            REMOTE_ADDR="198.51.100.20",
        )
    received = _entry(A.UPLOAD_FILES_RECEIVED)
    line.refresh_from_db()
    assert received.actor is None and received.request_ip == "198.51.100.20"
    assert received.before == {"photo": "", "id_document": "", "state": "awaiting_files"}
    assert received.after["photo"] == line.photo.name
    assert received.after["state"] == "awaiting_id_check"
    # The orderer's check of the employee's ID is recorded too.
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            f"/orders/{EMPLOYER}/orders/{line.order_id}/lines/{line.pk}/identity/",
            {f"id{line.pk}-identity_checked": "on"},
            REMOTE_ADDR="198.51.100.21",
        )
    checked = _entry(A.IDENTITY_CHECKED)
    assert checked.actor is not None and checked.request_ip == "198.51.100.21"
    assert checked.before == {"state": "awaiting_id_check"}
    assert checked.after == {"state": "submitted"}


def test_a_kept_upload_is_recorded_by_name_not_content(owner) -> None:
    stash.stash_put(owner=owner, kind="photo", content=jpeg(), name=f"{WORKER}.jpg")
    kept = _entry(A.UPLOAD_KEPT)
    assert kept.actor == owner
    assert kept.after["kind"] == "photo" and kept.after["file"].endswith(".jpg")
    assert WORKER not in json.dumps(kept.after)


def test_contact_details_and_the_email_confirmation_are_recorded(client, settings) -> None:
    settings.PORTAL_BASE_URL = "http://testserver"
    user = UserFactory(unconfirmed=True)
    client.force_login(user)
    client.post(
        "/account/contact/",
        {"email": "kari@fjordbygg.example", "mobile": "41234567", "language": "en"},
        REMOTE_ADDR=CLIENT_IP,
    )
    changed = _entry(A.CONTACT_CHANGED)
    assert changed.actor == user and changed.request_ip == CLIENT_IP
    assert changed.before == {"pending_email": "", "mobile": "", "language": "nb"}
    assert changed.after["pending_email"] == "kari@fjordbygg.example"
    assert changed.after["mobile"] == "+4741234567"
    token = contact.email_confirmation_token(user=user, email="kari@fjordbygg.example")
    contact.email_confirm(token=token)
    confirmed = _entry(A.EMAIL_CONFIRMED)
    assert confirmed.before == {"email": "", "pending_email": "kari@fjordbygg.example"}
    assert confirmed.after == {"email": "kari@fjordbygg.example", "pending_email": ""}


def test_logins_are_recorded_and_failures_without_the_identity_number(client, settings) -> None:
    settings.DEV_LOGIN_ENABLED = True
    registry_dataset_load(dataset=small_dataset())
    response = client.post("/login/dev/", {"national_id": OWNER}, REMOTE_ADDR=CLIENT_IP)
    assert response.status_code == 302
    login = _entry(A.LOGIN)
    assert login.actor is not None and login.actor.national_id == OWNER
    assert login.after == {"method": "dev"} and login.request_ip == CLIENT_IP

    client.logout()
    client.post(
        "/admin/login/", {"username": OWNER, "password": "wrong"}, REMOTE_ADDR="198.51.100.9"
    )
    failed = _entry(A.LOGIN_FAILED)
    assert failed.actor is None and failed.request_ip == "198.51.100.9"
    assert failed.subject_label == "*********88"
    assert "wrong" not in json.dumps([failed.before, failed.after])
    assert_no_identity_number_in_the_trail()


def test_the_client_address_is_the_one_our_proxies_name(client, owner, settings) -> None:
    settings.TRUSTED_PROXY_COUNT = 1
    client.post(
        f"/orders/{EMPLOYER}/access/",
        {
            "national_id": DELEGATE,
            "name": "Per",
            "email": "per@example.no",
            "valid_from": timezone.localdate().isoformat(),
        },
        REMOTE_ADDR="10.0.0.2",
        HTTP_X_FORWARDED_FOR="1.2.3.4, 192.0.2.44",
    )
    assert _entry(A.DELEGATION_GRANTED).request_ip == "192.0.2.44"


def test_identity_numbers_are_masked_wherever_a_caller_puts_them() -> None:
    entry = audit_record(
        actor=None,
        action=A.CONTACT_CHANGED,
        organisation_orgnr=EMPLOYER,
        subject_label=f"Ola {WORKER}",
        before={WORKER: "x", "nested": [{"id": f"{WORKER[:6]} {WORKER[6:]}"}]},
        after={"id": WORKER, "orgnr": EMPLOYER},
    )
    assert entry is not None
    assert_no_identity_number_in_the_trail()
    assert entry.after == {"id": "*********38", "orgnr": EMPLOYER}  # 9 digits stay
    assert identity_number_masked("card 1234 5678 9012") == "card 1234 5678 9012"
    # Inside a generated name only a valid identity number is masked.
    assert identity_number_masked("cdada84989224039bf.jpg") == "cdada84989224039bf.jpg"
    assert identity_number_masked(f"x{WORKER}y") == "x*********38y"
    assert identity_number_masked("id 12345678901") == "id *********01"
    with pytest.raises(TypeError):
        audit_record(actor=None, action=A.UPLOAD_KEPT, after={"photo": jpeg()})
    with pytest.raises(ValueError, match="unknown audit action"):
        audit_record(actor=None, action="card.painted")


# --- Append-only -------------------------------------------------------------------------


def test_the_application_cannot_change_or_delete_an_entry() -> None:
    entry = audit_record(actor=None, action=A.LOGIN_FAILED, after={"method": "admin"})
    assert entry is not None
    entry.subject_label = "changed"
    with pytest.raises(AuditTrailIsAppendOnly):
        entry.save()
    with pytest.raises(AuditTrailIsAppendOnly):
        entry.delete()
    with pytest.raises(AuditTrailIsAppendOnly):
        AuditEntry.objects.filter(pk=entry.pk).update(subject_label="changed")
    with pytest.raises(AuditTrailIsAppendOnly):
        AuditEntry.objects.all().delete()
    with pytest.raises(AuditTrailIsAppendOnly):
        AuditEntry.objects.bulk_update([entry], ["subject_label"])
    stored = AuditEntry.objects.get(pk=entry.pk)
    assert stored.subject_label == "" and stored.after == {"method": "admin"}


def test_a_person_in_the_trail_cannot_be_deleted() -> None:
    from django.db.models import ProtectedError

    user = UserFactory()
    audit_record(actor=user, action=A.CONTACT_CHANGED, subject=user)
    with pytest.raises(ProtectedError):
        user.delete()


def test_the_admin_is_read_only(client) -> None:
    staff = UserFactory(
        username="admin", national_id=None, is_staff=True, is_superuser=True, full_name="Adm"
    )
    client.force_login(staff)
    entry = AuditEntry.objects.get(action=A.LOGIN)
    assert client.get("/admin/hmsportal/auditentry/").status_code == 200
    assert client.get(f"/admin/hmsportal/auditentry/{entry.pk}/change/").status_code == 200
    assert client.get("/admin/hmsportal/auditentry/add/").status_code == 403
    response = client.post(f"/admin/hmsportal/auditentry/{entry.pk}/delete/", {"post": "yes"})
    assert response.status_code == 403
    assert AuditEntry.objects.filter(pk=entry.pk).exists()


def _refused(statement: str, params: list | None = None, *, match: str) -> None:
    """The statement fails with match, in a savepoint so the test's transaction goes on."""
    with (
        pytest.raises(DatabaseError, match=match),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement, params)


@pytest.mark.services
@pytest.mark.django_db(transaction=False)
def test_postgresql_refuses_update_delete_and_truncate_of_the_trail_even_to_its_owner(
    postgres_required,
) -> None:
    entry = audit_record(actor=None, action=A.LOGIN_FAILED, after={"method": "admin"})
    assert entry is not None
    table = AuditEntry._meta.db_table
    _refused(
        f"UPDATE {table} SET subject_label = 'changed' WHERE id = %s",  # noqa: S608
        [entry.pk],
        match="append-only: UPDATE refused",
    )
    _refused(f"DELETE FROM {table} WHERE id = %s", [entry.pk], match="append-only: DELETE refused")  # noqa: S608
    # The entry's deferred foreign-key checks are still pending in this transaction, and
    # PostgreSQL would refuse TRUNCATE for them before the trigger had its say.
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    _refused(f"TRUNCATE {table}", match="append-only: TRUNCATE refused")
    _refused(f"TRUNCATE {table} CASCADE", match="append-only: TRUNCATE refused")
    stored = AuditEntry.objects.get(pk=entry.pk)
    assert stored.subject_label == "" and stored.after == {"method": "admin"}
    # Adding stays possible.
    assert audit_record(actor=None, action=A.LOGIN_FAILED) is not None


@pytest.fixture
def app_role(postgres_required) -> Iterator[str]:
    """A new role that owns nothing, named for this test alone: roles are cluster-wide and the
    test processes run side by side. Created in the test's transaction, and dropped as well."""
    role = f"hms_app_test_{uuid.uuid4().hex[:16]}"
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE ROLE {role} NOLOGIN")
    yield role
    with connection.cursor() as cursor:
        cursor.execute("RESET ROLE")
        cursor.execute(f"DROP OWNED BY {role}")
        cursor.execute(f"DROP ROLE {role}")


@contextmanager
def _as_role(role: str) -> Iterator[None]:
    with connection.cursor() as cursor:
        cursor.execute(f"SET ROLE {role}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET ROLE")


@pytest.mark.services
def test_the_app_role_may_read_and_add_to_the_trail_and_nothing_else(app_role) -> None:
    table = AuditEntry._meta.db_table
    entry = audit_record(actor=None, action=A.LOGIN_FAILED, after={"method": "admin"})
    assert entry is not None
    card = CardFactory(employer_orgnr=EMPLOYER)
    out = io.StringIO()
    call_command("grant_app_role", app_role, stdout=out)
    assert f"SELECT, INSERT on {table}" in out.getvalue()

    with _as_role(app_role):
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_user")
            assert cursor.fetchone() == (app_role,)
        added = audit_record(actor=None, action=A.LOGIN_FAILED, after={"method": "dev"})
        assert added is not None
        assert AuditEntry.objects.filter(pk__in=[entry.pk, added.pk]).count() == 2
        denied = "permission denied"
        _refused(f"UPDATE {table} SET subject_label = 'x'", match=denied)  # noqa: S608
        _refused(f"DELETE FROM {table}", match=denied)  # noqa: S608
        _refused(f"TRUNCATE {table}", match=denied)
        for trigger in ("hmsportal_auditentry_append_only", "hmsportal_auditentry_no_truncate"):
            _refused(f"ALTER TABLE {table} DISABLE TRIGGER {trigger}", match="must be owner")
            _refused(f"DROP TRIGGER {trigger} ON {table}", match="must be owner")
        _refused(f"ALTER TABLE {table} DISABLE TRIGGER ALL", match="must be owner")
        _refused(f"DROP TABLE {table}", match="must be owner")
        # The app's ordinary tables are the app's to change.
        assert Card.objects.filter(pk=card.pk).update(holder_last_name="Nymann") == 1
        with transaction.atomic():
            Card.objects.select_for_update().get(pk=card.pk)

    # Privileges granted by hand are taken back when the command runs again (after a migrate).
    with connection.cursor() as cursor:
        cursor.execute(f"GRANT ALL ON {table} TO {app_role}")
    call_command("grant_app_role", app_role, stdout=io.StringIO())
    with _as_role(app_role):
        _refused(f"UPDATE {table} SET subject_label = 'x'", match="permission denied")  # noqa: S608
    assert AuditEntry.objects.filter(subject_label="x").count() == 0


@pytest.mark.services
def test_grant_app_role_refuses_a_role_that_could_step_around_the_triggers(
    postgres_required,
) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        (owner,) = cursor.fetchone()
    for role, reason in (
        (owner, "superuser|owns the tables"),
        ("hms_no_such_role_at_all", "There is no role"),
    ):
        with pytest.raises(CommandError, match=reason):
            call_command("grant_app_role", role, stdout=io.StringIO())


@pytest.mark.services
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_test_suites_flush_empties_the_trail_and_leaves_truncate_refused(
    postgres_required,
) -> None:
    table = AuditEntry._meta.db_table
    audit_record(actor=None, action=A.LOGIN_FAILED)
    # As TransactionTestCase flushes for serialized_rollback: the next transactional test
    # restores the seed rows, which post_migrate would otherwise have made twice.
    call_command("flush", verbosity=0, interactive=False, inhibit_post_migrate=True)
    assert not AuditEntry.objects.exists()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tgenabled FROM pg_trigger WHERE tgname = %s", [AUDIT_TRUNCATE_TRIGGER]
        )
        assert cursor.fetchall() == [("O",)]  # enabled again
    with (
        pytest.raises(DatabaseError, match="append-only: TRUNCATE refused"),
        connection.cursor() as cursor,
    ):
        cursor.execute(f"TRUNCATE {table}")


def test_an_idporten_login_and_a_refused_one_are_recorded(client, idporten) -> None:
    from tests.hmsportal.test_idporten import log_in

    assert log_in(client).status_code == 302
    login = _entry(A.LOGIN)
    assert login.actor is not None and login.actor.national_id == OWNER
    assert login.after == {"method": "idporten"} and login.request_ip == "127.0.0.1"
    client.logout()
    idporten.claim_overrides = {"pid": "15108695089"}  # a forged token
    assert log_in(client).status_code == 403
    refused = _entry(A.LOGIN_FAILED)
    assert refused.actor is None
    assert refused.after == {"method": "idporten", "reason": "person"}
    assert_no_identity_number_in_the_trail()
    assert "15108695089" not in json.dumps([refused.before, refused.after, refused.subject_label])
