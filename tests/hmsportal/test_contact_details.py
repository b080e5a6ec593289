"""Contact details (issue 8 point 4): an e-mail address confirmed by a mailed link before
anything sends mail to the person, an optional mobile number, and the person's language."""

from __future__ import annotations

import datetime
import re
import time
from urllib.parse import quote

import pytest
from django.core import mail, signing
from django.utils import timezone

from hmsportal import contact
from hmsportal.account import login_destination
from hmsportal.mail import mail_person
from hmsportal.models import User
from orders.models import Delegation
from registry.datasets import registry_dataset_load
from tests.datasets import EMPLOYER, ensure_card_catalogue, small_dataset
from tests.hmsportal.factories import UserFactory

pytestmark = pytest.mark.django_db
CONTACT = "/account/contact/"
LINK_CONTEXT = {"email": "kari@fjordbygg.example", "url": "http://testserver/x/", "days": 3}
LINK = re.compile(r"http://testserver/account/contact/confirm/([^/\s]+)/")


@pytest.fixture(autouse=True)
def _links_to_the_test_server(settings) -> None:
    settings.PORTAL_BASE_URL = "http://testserver"


@pytest.fixture
def kari(client) -> User:
    """The dataset's managing director, logged in, who has given no e-mail address yet."""
    user = UserFactory(unconfirmed=True)
    client.force_login(user)
    return user


def _token(message: mail.EmailMessage) -> str:
    (token,) = LINK.findall(message.body)
    return token


def _confirm(client, token: str):
    return client.post(f"/account/contact/confirm/{token}/")


def _past_token(user: User, email: str, days_ago: float) -> str:
    """A confirmation token as the portal makes it, but signed days_ago."""

    class PastSigner(signing.TimestampSigner):
        def timestamp(self) -> str:
            return signing.b62_encode(int(time.time() - days_ago * 86400))

    return PastSigner(salt=contact.CONFIRMATION_SALT).sign_object(
        {"user": user.pk, "email": email}, serializer=signing.JSONSerializer
    )


def _unchanged(user: User, **expected: object) -> None:
    user.refresh_from_db()
    for field, value in expected.items():
        assert getattr(user, field) == value, field


# --- Giving and confirming an address


def test_giving_an_address_sends_one_mail_with_a_link_that_confirms_it(
    client, kari, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(CONTACT, {"email": " Kari@Fjordbygg.EXAMPLE ", "mobile": ""})
    assert response.status_code == 302
    kari.refresh_from_db()
    assert kari.pending_email == "Kari@fjordbygg.example"  # the domain part in lower case
    assert kari.confirmed_email == ""
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["Kari@fjordbygg.example"]
    assert message.subject == "Bekreft e-postadressen din for HMS-kort"
    assert "Klikk på lenken for å bekrefte adressen" in message.body
    assert "Lenken virker i 3 dager." in message.body

    page = client.get(CONTACT).content.decode()
    assert 'data-email-state="pending"' in page
    assert "Vi venter på at du klikker på lenken vi sendte til" in page
    assert "Send lenken på nytt" in page

    # The link may be opened on a phone where nobody is logged in.
    phone = type(client)()
    token = _token(message)
    shown = phone.get(f"/account/contact/confirm/{token}/")
    assert shown.status_code == 200
    assert "Bekreft adressen" in shown.content.decode()
    kari.refresh_from_db()
    assert kari.confirmed_email == ""  # opening the link (a mail filter may) confirms nothing

    confirmed = _confirm(phone, token)
    assert confirmed.status_code == 200
    assert "er nå bekreftet" in confirmed.content.decode()
    kari.refresh_from_db()
    assert kari.confirmed_email == "Kari@fjordbygg.example"
    assert kari.pending_email == ""
    assert kari.email_confirmed_at is not None
    assert 'data-email-state="confirmed"' in client.get(CONTACT).content.decode()


def test_a_link_used_twice_is_refused_the_second_time_and_changes_nothing(
    client, kari, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        client.post(CONTACT, {"email": "kari@fjordbygg.example"})
    token = _token(mail.outbox[0])
    assert _confirm(client, token).status_code == 200
    kari.refresh_from_db()
    confirmed_at = kari.email_confirmed_at

    for again in (client.get(f"/account/contact/confirm/{token}/"), _confirm(client, token)):
        assert again.status_code == 400
        body = again.content.decode()
        assert "Lenken er allerede brukt" in body
        assert "Du trenger ikke gjøre noe mer." in body
    _unchanged(kari, email="kari@fjordbygg.example", email_confirmed_at=confirmed_at)


@pytest.mark.parametrize(
    ("max_age_days", "days_ago", "confirms"), [(3, 2.9, True), (3, 3.1, False), (1, 2, False)]
)
def test_a_link_works_for_the_configured_number_of_days(
    client, kari, settings, max_age_days, days_ago, confirms
) -> None:
    settings.EMAIL_CONFIRMATION_MAX_AGE_DAYS = max_age_days
    User.objects.filter(pk=kari.pk).update(pending_email="kari@fjordbygg.example")
    token = _past_token(kari, "kari@fjordbygg.example", days_ago)

    response = _confirm(client, token)
    kari.refresh_from_db()
    if confirms:
        assert response.status_code == 200
        assert kari.confirmed_email == "kari@fjordbygg.example"
        return
    assert response.status_code == 400
    body = response.content.decode()
    assert "Lenken er utløpt" in body
    assert f"Lenken virker i {max_age_days} dag" in body
    assert "Send lenken på nytt" in body  # what to do
    _unchanged(kari, email="", email_confirmed_at=None, pending_email="kari@fjordbygg.example")


@pytest.mark.parametrize(
    "tamper",
    [
        lambda token: token[:-3],
        lambda token: token.replace(token[2], "A" if token[2] != "A" else "B", 1),
        lambda token: "not-a-token",
        # A token signed for another purpose (another salt) is not a confirmation link.
        lambda token: signing.dumps({"user": 1, "email": "x@example.no"}),
    ],
)
def test_a_tampered_link_is_refused_and_changes_nothing(
    client, kari, django_capture_on_commit_callbacks, tamper
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        client.post(CONTACT, {"email": "kari@fjordbygg.example"})
    token = tamper(_token(mail.outbox[0]))
    response = _confirm(client, token)
    assert response.status_code == 400
    assert "Lenken er ikke hel eller er endret" in response.content.decode()
    _unchanged(kari, email="", email_confirmed_at=None, pending_email="kari@fjordbygg.example")


def test_a_link_to_an_address_given_up_since_confirms_nothing(
    client, kari, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        client.post(CONTACT, {"email": "kari@fjordbygg.exmaple"})  # a typo
    with django_capture_on_commit_callbacks(execute=True):
        client.post(CONTACT, {"email": "kari@fjordbygg.example"})
    old, new = (_token(m) for m in mail.outbox)
    response = _confirm(client, old)
    assert response.status_code == 400
    assert "Du har gitt en annen e-postadresse etter at vi sendte denne lenken" in (
        response.content.decode()
    )
    _unchanged(kari, email="", pending_email="kari@fjordbygg.example")
    assert _confirm(client, new).status_code == 200
    _unchanged(kari, email="kari@fjordbygg.example", pending_email="")


def test_a_new_address_is_used_only_once_confirmed(
    client, django_capture_on_commit_callbacks
) -> None:
    kari = UserFactory()  # confirmed kari@fjordbygg.example
    client.force_login(kari)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(CONTACT, {"email": "kari.nordmann@example.no"})
    (link_mail,) = mail.outbox
    assert link_mail.to == ["kari.nordmann@example.no"]
    kari.refresh_from_db()
    assert kari.confirmed_email == "kari@fjordbygg.example"
    assert kari.pending_email == "kari.nordmann@example.no"
    page = client.get(CONTACT).content.decode()
    assert "Til da bruker vi kari@fjordbygg.example." in page

    # Mail meanwhile goes to the confirmed address.
    assert mail_person(
        user=kari, template_prefix="hmsportal/email/email_confirmation", context=LINK_CONTEXT
    )
    assert mail.outbox[-1].to == ["kari@fjordbygg.example"]

    _confirm(client, _token(link_mail))
    kari.refresh_from_db()
    assert kari.confirmed_email == "kari.nordmann@example.no"


def test_giving_the_confirmed_address_again_withdraws_the_pending_one(
    client, django_capture_on_commit_callbacks
) -> None:
    kari = UserFactory(pending_email="typo@example.no")
    client.force_login(kari)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(CONTACT, {"email": "kari@fjordbygg.example", "mobile": "91234567"})
    assert response.status_code == 302
    assert mail.outbox == []
    _unchanged(kari, email="kari@fjordbygg.example", pending_email="", mobile="+4791234567")


def test_the_link_can_be_sent_again(client, kari, django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        client.post(CONTACT, {"email": "kari@fjordbygg.example"})
        response = client.post(CONTACT, {"resend": "1"}, follow=True)
    assert "Vi har sendt lenken på nytt til kari@fjordbygg.example." in response.content.decode()
    assert [m.to for m in mail.outbox] == [["kari@fjordbygg.example"]] * 2
    # Either link confirms: both name the address that is waiting.
    assert _confirm(client, _token(mail.outbox[0])).status_code == 200


# --- Bad input


@pytest.mark.parametrize(
    ("email", "mobile", "field", "message"),
    [
        ("", "", "email", "Skriv inn e-postadressen din."),
        ("kari.fjordbygg.example", "", "email", "E-postadressen er ikke gyldig."),
        ("kari@fjordbygg", "", "email", "E-postadressen er ikke gyldig."),
        ("kari@fjordbygg.example", "123", "mobile", "Mobilnummeret er ikke gyldig."),
        ("kari@fjordbygg.example", "mobil", "mobile", "Mobilnummeret er ikke gyldig."),
        ("kari@fjordbygg.example", "22 12 34 56", "mobile", "Dette er ikke et mobilnummer."),
    ],
)
def test_bad_input_gets_a_norwegian_error_summary_and_nothing_is_saved(
    client, kari, django_capture_on_commit_callbacks, email, mobile, field, message
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(CONTACT, {"email": email, "mobile": mobile})
    assert response.status_code == 200
    body = response.content.decode()
    assert 'class="error-summary"' in body
    assert message in body
    assert f'href="#id_{field}"' in body and f'id="id_{field}"' in body
    assert mail.outbox == []
    _unchanged(kari, email="", pending_email="", mobile="", email_confirmed_at=None)


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("912 34 567", "+4791234567"),
        ("+47 41 23 45 67", "+4741234567"),
        ("0047 91234567", "+4791234567"),
        ("+46 70 123 45 67", "+46701234567"),
        ("", ""),
    ],
)
def test_the_mobile_number_is_stored_in_e164(client, kari, typed, stored) -> None:
    response = client.post(CONTACT, {"email": "kari@fjordbygg.example", "mobile": typed})
    assert response.status_code == 302
    _unchanged(kari, mobile=stored)


# --- Language


def test_an_english_user_gets_english_mail_and_keeps_english(
    client, kari, django_capture_on_commit_callbacks
) -> None:
    client.cookies["django_language"] = "en"
    with django_capture_on_commit_callbacks(execute=True):
        client.post(CONTACT, {"email": "kari@fjordbygg.example"})
    _unchanged(kari, language="en")
    (message,) = mail.outbox
    assert message.subject == "Confirm your e-mail address for HMS cards"
    assert "Click the link to confirm the address" in message.body
    assert "The link works for 3 days." in message.body


def test_switching_language_is_remembered_for_a_logged_in_person(client, kari) -> None:
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert response.status_code == 302
    _unchanged(kari, language="en")
    assert "Contact details" in client.get(CONTACT).content.decode()
    client.post("/i18n/setlang/", {"language": "nb", "next": "/"})
    _unchanged(kari, language="nb")
    client.post("/i18n/setlang/", {"language": "xx", "next": "/"})
    _unchanged(kari, language="nb")


def test_switching_language_still_works_without_login_and_without_csrf(client) -> None:
    client.handler.enforce_csrf_checks = True
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert response.status_code == 302
    assert response.cookies["django_language"].value == "en"


def test_mail_about_an_order_follows_the_person_not_the_sender(kari) -> None:
    User.objects.filter(pk=kari.pk).update(
        email="kari@fjordbygg.example", email_confirmed_at=timezone.now(), language="en"
    )
    kari.refresh_from_db()
    assert mail_person(
        user=kari,
        template_prefix="hmsportal/email/email_confirmation",
        context={**LINK_CONTEXT, "days": 1},
    )
    assert mail.outbox[0].subject == "Confirm your e-mail address for HMS cards"
    assert "The link works for 1 day." in mail.outbox[0].body


def test_no_mail_to_a_person_without_a_confirmed_address(kari) -> None:
    User.objects.filter(pk=kari.pk).update(pending_email="kari@fjordbygg.example")
    kari.refresh_from_db()
    assert not mail_person(
        user=kari, template_prefix="hmsportal/email/email_confirmation", context=LINK_CONTEXT
    )
    assert mail.outbox == []


# --- Where people are sent


def test_login_destination_sends_a_person_without_e_mail_to_contact_details() -> None:
    nobody = UserFactory(unconfirmed=True)
    assert login_destination(nobody, "/orders/") == f"{CONTACT}?next={quote('/orders/', safe='')}"
    assert login_destination(nobody, "orders:organisation_list") == f"{CONTACT}?next=%2Forders%2F"
    waiting = UserFactory(
        username="per", national_id=None, unconfirmed=True, pending_email="p@x.no"
    )
    assert login_destination(waiting, "/orders/") == "/orders/"
    confirmed = UserFactory(username="ola", national_id=None)
    assert login_destination(confirmed, "orders:organisation_list") == "/orders/"


def test_contact_details_need_login_and_the_link_does_not(client) -> None:
    response = client.get(CONTACT)
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")
    assert client.get("/account/contact/confirm/nonsense/").status_code == 400


@pytest.fixture
def employer_dataset() -> None:
    ensure_card_catalogue()
    registry_dataset_load(dataset=small_dataset())


@pytest.mark.parametrize("pending", ["", "kari@fjordbygg.example"])
def test_ordering_without_a_confirmed_address_leads_to_contact_details(
    client, kari, employer_dataset, pending
) -> None:
    User.objects.filter(pk=kari.pk).update(pending_email=pending)
    order_page = f"/orders/{EMPLOYER}/new/?employee=x"
    response = client.get(order_page)
    assert response.status_code == 302
    assert response["Location"] == f"{CONTACT}?next={quote(order_page, safe='')}"
    page = client.get(response["Location"]).content.decode()
    assert "Bekreft e-postadressen din før du bestiller kort eller gir andre tilgang." in page
    # Other pages stay open.
    assert client.get(f"/orders/{EMPLOYER}/").status_code == 200
    assert client.get("/orders/").status_code == 200

    User.objects.filter(pk=kari.pk).update(
        email="kari@fjordbygg.example", email_confirmed_at=timezone.now(), pending_email=""
    )
    assert client.get(order_page).status_code == 200
    # Back on the contact page, the way on is offered.
    page = client.get(response["Location"]).content.decode()
    assert f'href="{order_page}"' in page


def test_saving_details_that_need_no_link_returns_to_where_the_person_was_going(client) -> None:
    client.force_login(UserFactory())
    response = client.post(
        f"{CONTACT}?next=/orders/", {"email": "kari@fjordbygg.example", "next": "/orders/"}
    )
    assert response["Location"] == "/orders/"
    response = client.post(
        CONTACT, {"email": "kari@fjordbygg.example", "next": "https://evil.example/"}
    )
    assert response["Location"] == CONTACT
    # A bare word is not a page (it would be taken for a URL name): ignored, not a 500.
    response = client.post(f"{CONTACT}?next=orders", {"email": "kari@fjordbygg.example"})
    assert response["Location"] == CONTACT


def test_giving_access_needs_a_confirmed_address_but_seeing_and_removing_it_does_not(
    client, kari, employer_dataset
) -> None:
    today = timezone.localdate()
    access = f"/orders/{EMPLOYER}/access/"
    page = client.get(access)
    assert page.status_code == 200
    assert "Bekreft e-postadressen din før du gir andre tilgang." in page.content.decode()

    response = client.post(
        access, {"national_id": "01017512419", "name": "Per Hansen", "valid_from": today}
    )
    assert response.status_code == 302
    assert response["Location"] == f"{CONTACT}?next={quote(access, safe='')}"
    assert Delegation.objects.count() == 0

    given = Delegation.objects.create(
        employer_orgnr=EMPLOYER,
        grantee_national_id="01017512419",
        granted_by=kari,
        valid_from=today - datetime.timedelta(days=1),
    )
    response = client.post(access, {"revoke": str(given.pk)})
    assert response["Location"] == access
    given.refresh_from_db()
    assert given.revoked_at is not None


def test_links_cannot_be_asked_for_without_end(
    client, kari, pinned_clock, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        for n in range(contact.CONFIRMATION_MAILS_PER_MINUTE):
            assert client.post(CONTACT, {"email": f"kari{n}@fjordbygg.example"}).status_code == 302
        refused = client.post(CONTACT, {"email": "someone@example.no"})
        resend = client.post(CONTACT, {"resend": "1"}, follow=True)
    assert refused.status_code == 429
    assert "Du har bedt om mange lenker på kort tid. Vent 50 sekunder" in refused.content.decode()
    assert "Du har bedt om mange lenker på kort tid." in resend.content.decode()
    assert len(mail.outbox) == contact.CONFIRMATION_MAILS_PER_MINUTE
    _unchanged(kari, pending_email="kari2@fjordbygg.example")


def test_after_login_a_person_without_an_address_may_go_on_to_pages_that_need_none(
    client, employer_dataset
) -> None:
    """A cardholder sent here at their first login reaches "My HMS cards" without giving an
    address; the order form, which asks for one, is not offered as a way on (it would only
    send them back here)."""
    client.force_login(UserFactory(unconfirmed=True))
    page = client.get(f"{CONTACT}?next=/my-cards/").content.decode()
    assert (
        '<a href="/my-cards/" data-skip-contact>Ikke nå: gå videre uten e-postadresse</a>' in page
    )
    order_page = f"/orders/{EMPLOYER}/new/"
    page = client.get(f"{CONTACT}?next={quote(order_page, safe='')}").content.decode()
    assert "data-skip-contact" not in page
    assert f'href="{order_page}"' not in page
    assert "data-skip-contact" not in client.get(CONTACT).content.decode()
