"""English all the way (issue 11, point 5): every page kind and every e-mail, rendered with
English chosen, holds no bokmål.

Each page is fetched as the person who sees it (anonymous, employer, cardholder, staff) with
the language cookie set to English; the text a reader sees (the page's text and its alt,
title, placeholder and aria-label attributes) must contain none of the bokmål words below
once the proper nouns are taken out: the registers' names, "HMS-kort", the test data's
people, organisations and places, and the language switcher's "Norsk bokmål".
"""

from __future__ import annotations

import datetime
import html
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.template.loader import render_to_string
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone, translation

from cards.models import Card, CardTransition, OrderingBlackout, PrintBatch
from cards.services import RevocationReason
from orders.confirmations import confirmation_token
from orders.employee_upload import upload_link_issue
from orders.models import BulkUpload, Delegation, OrderLine
from registry.datasets import registry_dataset_load
from tests.cards.factories import CardFactory, ProducerFactory
from tests.datasets import EMPLOYER, SUB_UNIT, WORKER, ensure_card_catalogue, small_dataset
from tests.hmsportal.factories import UserFactory
from tests.orders.factories import OrderFactory, OrderLineFactory

pytestmark = pytest.mark.django_db

NEWCOMER = "01017512419"

# Words that are bokmål and not English (the letters æ, ø and å are caught on their own);
# month names the two languages share are caught by case (bokmål writes them in lower case).
BOKMAL_WORDS = {
    "og", "ikke", "er", "kortet", "kort", "gyldig", "gyldige", "ugyldig", "bestilling",
    "bestillingen", "bestill", "bestilt", "arbeidsgiver", "arbeidsgiveren", "virksomhet",
    "virksomheten", "ansatt", "ansatte", "arbeidstaker", "arbeidsforhold", "arbeidsforholdet",
    "sperret", "trukket", "tilbake", "gjelder", "fra", "til", "med", "eller", "etter", "du",
    "deg", "din", "ditt", "dine", "vi", "har", "kan", "skal", "ved", "navn", "dato", "hjelp",
    "logg", "velg", "lagre", "avbryt", "neste", "forrige", "hei", "hilsen", "vennlig", "nei",
    "kl", "dager", "registeret", "utstedt", "innlogget", "tilgang", "fullmakt", "kortnummer",
    "sjekk", "kontroller", "oversikt", "endre", "slett", "opplysninger", "januar", "februar",
    "mars", "mai", "juni", "juli", "oktober", "desember", "mandag", "tirsdag", "onsdag", "torsdag", "fredag", "ikkje", "denne", "dette",
}  # fmt: skip
BOKMAL_EXACT = {"april", "august", "september", "november"}
# Proper nouns, in either language's text: names of registers and services, the scheme's
# name, and the people, organisations and places in the test data. Longest first.
PROPER_NOUNS = sorted(
    [
        "Bemanningsforetaksregisteret", "Merverdiavgiftsregisteret", "Renholdsregisteret",
        "Enhetsregisteret", "Folkeregisteret", "Aa-registeret", "a-meldingen", "a-melding",
        "ID-porten", "HMS-kortportalen", "HMS-kort", "Skatteetaten", "Arbeidstilsynet",
        "Norsk bokmål", "bokmål", "Fjordbygg AS avd. Voss", "Fjordbygg AS", "Kaigata",
        "Strandavegen", "Bergen", "Voss", "Kari Nordmann", "Ola Snekker", "Per Hansen",
        "Brønnøysundregistrene", "Arbeids- og velferdsetaten",
        # The Norwegian identity number's own name, explained in English where it is used.
        "fødselsnummer",
    ],
    key=len,
    reverse=True,
)  # fmt: skip
WORD = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*")
READER_ATTRIBUTES = re.compile(r'\b(?:alt|title|placeholder|aria-label|data-label)="([^"]*)"')


def bokmal_in(text: str) -> list[str]:
    """The bokmål words in the text a reader sees (empty: English only)."""
    for noun in PROPER_NOUNS:
        text = text.replace(noun, " ")
    found = []
    for word in WORD.findall(text):
        lower = word.lower()
        if lower in BOKMAL_WORDS or word in BOKMAL_EXACT or re.search("[æøå]", lower):
            found.append(word)
    return found


def page_text(content: str) -> str:
    """What a reader of the page reads: its text and the attributes read out or shown."""
    content = re.sub(r"<(script|style)\b.*?</\1>", " ", content, flags=re.S | re.I)
    # The language switcher names each language in itself.
    content = re.sub(r'<option value="nb"[^>]*>.*?</option>', " ", content, flags=re.S)
    content = re.sub(r'<[^>]+\blang="nb"[^>]*>.*?</[a-z]+>', " ", content, flags=re.S)
    attributes = " ".join(READER_ATTRIBUTES.findall(content))
    text = re.sub(r"<[^>]+>", " ", content)
    return html.unescape(text + " " + attributes)


def test_the_word_check_finds_bokmal_and_spares_proper_nouns() -> None:
    assert bokmal_in("Kortet er gyldig til 1. desember") == [
        "Kortet",
        "er",
        "gyldig",
        "til",
        "desember",
    ]
    assert bokmal_in("Søk") == ["Søk"]
    assert bokmal_in("Check Aa-registeret and HMS-kort for Kari Nordmann at Fjordbygg AS") == []


@pytest.fixture
def world():
    """An employer with an order, cards in every state, a delegation, a bulk upload, a print
    batch and an upcoming blackout; the people who see them."""
    ensure_card_catalogue()
    registry_dataset_load(dataset=small_dataset())
    owner = UserFactory(language="en")
    holder = UserFactory(
        username="ola", national_id=WORKER, full_name="Ola Snekker", email="ola@example.no"
    )
    staff = UserFactory(username="staff", national_id="", full_name="Staff Person", is_staff=True)
    today = timezone.localdate()
    card_fields = {
        "holder_national_id": WORKER,
        "holder_first_name": "Ola",
        "holder_last_name": "Snekker",
        "employer_orgnr": EMPLOYER,
        "workplace_orgnr": SUB_UNIT,
        "employer_name": "Fjordbygg AS",
        "issuer_name": "Fjordbygg AS",
    }
    from cards.models import CardType

    construction = CardType.objects.get(code="construction")
    cleaning = CardType.objects.get(code="cleaning")
    active = CardFactory(card_type=construction, state=Card.State.ACTIVE, **card_fields)
    revoked = CardFactory(card_type=construction, state=Card.State.REVOKED, **card_fields)
    CardTransition.objects.create(
        card=revoked, from_state="active", to_state="revoked", reason=RevocationReason.LOST
    )
    expired = CardFactory(
        card_type=construction,
        state=Card.State.EXPIRED,
        issued_on=today - datetime.timedelta(days=800),
        valid_until=today - datetime.timedelta(days=70),
        **card_fields,
    )
    invalid = CardFactory(
        card_type=cleaning,
        state=Card.State.INVALID,
        reason_codes=["employer_bankrupt", "employment_ended"],
        **card_fields,
    )
    queued = CardFactory(
        card_type=cleaning,
        state=Card.State.APPROVED,
        holder_first_name="Per",
        holder_last_name="Hansen",
        employer_name="Fjordbygg AS",
    )
    order = OrderFactory(ordered_by=owner, delivery_postcode="5003", delivery_city="Bergen")
    line = OrderLineFactory(order=order, state=OrderLine.State.APPROVED, card=active)
    waiting = OrderLineFactory(
        order=order,
        national_id=NEWCOMER,
        first_name="Per",
        last_name="Hansen",
        state=OrderLine.State.AWAITING_FILES,
        photo="",
        id_document="",
    )
    link = upload_link_issue(line=waiting, actor=owner)
    delegation = Delegation.objects.create(
        employer_orgnr=EMPLOYER,
        grantee_national_id=NEWCOMER,
        grantee_name="Per Hansen",
        granted_by=owner,
        valid_from=today,
        valid_until=today + datetime.timedelta(days=30),
        flagged_at=timezone.now(),
    )
    upload = BulkUpload.objects.create(owner=owner, employer_orgnr=EMPLOYER)
    batch = PrintBatch.objects.create(
        producer=ProducerFactory(), state=PrintBatch.State.READY, created_by=staff
    )
    batch.cards.add(queued)
    OrderingBlackout.objects.create(
        starts_at=timezone.now() + datetime.timedelta(days=5),
        ends_at=timezone.now() + datetime.timedelta(days=9),
        message_nb="Bytte av kortprodusent: ingen bestillinger i romjulen.",
        message_en="The card producer changes: no orders over Christmas.",
    )
    return {
        "owner": owner,
        "holder": holder,
        "staff": staff,
        "cards": {"active": active, "revoked": revoked, "expired": expired, "invalid": invalid},
        "order": order,
        "line": line,
        "waiting": waiting,
        "upload_url": link.url,
        "delegation": delegation,
        "upload": upload,
        "batch": batch,
    }


def pages(world) -> list[tuple[str, str]]:
    """(who, URL) for every HTML page kind."""
    org = EMPLOYER
    order, line, cards = world["order"], world["line"], world["cards"]
    upload_path = world["upload_url"].split("://", 1)[-1].split("/", 1)[1]
    listed = [
        ("anonymous", reverse("home")),
        ("anonymous", reverse("login")),
        ("anonymous", reverse("dev_login")),
        ("anonymous", reverse("logged_out")),
        ("anonymous", reverse("cards:status")),
        ("anonymous", reverse("cards:status") + "?card=123"),
        ("anonymous", reverse("cards:status") + "?card=999999999999"),
        ("anonymous", reverse("order_confirmation", args=[confirmation_token(line)])),
        ("anonymous", reverse("order_confirmation", args=["expired-or-made-up"])),
        ("anonymous", "/" + upload_path),
        ("anonymous", reverse("employee_upload:upload", args=["made-up-token"])),
        ("anonymous", reverse("employee_upload:received")),
        ("anonymous", "/no-such-page/"),
        ("owner", reverse("contact_details")),
        ("owner", reverse("contact_confirm", args=["made-up-token"])),
        ("owner", reverse("orders:organisation_list")),
        ("owner", reverse("orders:employer", args=[org])),
        ("owner", reverse("orders:order_card", args=[org])),
        ("owner", reverse("orders:bulk_upload", args=[org])),
        ("owner", reverse("orders:bulk_detail", args=[org, world["upload"].pk])),
        ("owner", reverse("orders:order_detail", args=[org, order.pk])),
        ("owner", reverse("orders:card_list", args=[org])),
        ("owner", reverse("orders:card_renew", args=[org])),
        ("owner", reverse("orders:card_end", args=[org, cards["active"].number])),
        ("owner", reverse("orders:delegations", args=[org])),
        ("owner", reverse("orders:delegation_confirm", args=[org, world["delegation"].pk])),
        ("owner", reverse("orders:audit", args=[org])),
        ("owner", reverse("orders:employer", args=["999999999"])),  # 404
        ("holder", reverse("cardholder:my_cards")),
        ("staff", reverse("backoffice_audit")),
        ("staff", reverse("cards:print_queue")),
        ("staff", reverse("cards:recheck_runs")),
        ("staff", reverse("cards:batch_detail", args=[world["batch"].pk])),
        ("staff", reverse("registry:register_status")),
        ("holder", reverse("backoffice_audit")),  # 403
    ]
    for state, card in cards.items():
        listed.append(("anonymous", reverse("cards:status_card", args=[card.number])))
        listed.append(("owner", reverse("orders:card_detail", args=[org, card.number])))
        listed.append(("holder", reverse("cardholder:card_detail", args=[card.number])))
        if state == "active":
            listed.append(("holder", reverse("cardholder:card_report", args=[card.number])))
    return listed


# Named URLs that are not HTML pages, or are only reached by POST or a redirect.
NOT_PAGES = {
    "idporten_login", "idporten_callback", "after_login", "logout", "healthz", "set_language",
    "orders:kept_photo", "orders:order_lines", "orders:bulk_progress", "orders:bulk_order", "orders:bulk_report_xlsx",
    "orders:order_confirmation_pdf", "orders:line_document", "orders:identity_confirm",
    "orders:upload_link_resend", "orders:invoice_pdf", "orders:card_export_csv",
    "orders:card_export_xlsx", "cards:status_photo", "api_card", "cards:batch_progress",
    "cards:recheck_progress", "cards:batch_pdf", "cards:batch_ship", "cards:batch_retry",
}  # fmt: skip


def _url_names(patterns, namespace: str = "") -> set[str]:
    names = set()
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            if pattern.namespace == "admin":
                continue
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            names |= _url_names(pattern.url_patterns, inner)
        elif isinstance(pattern, URLPattern) and pattern.name:
            names.add(namespace + pattern.name)
    return names


def test_every_named_page_is_rendered_in_english(world) -> None:
    """A new page must join pages() (or NOT_PAGES, if it is no HTML page)."""
    visited = {
        resolved.view_name
        for _, url in pages(world)
        if (resolved := _resolve(url.split("?")[0])) is not None
    }
    assert _url_names(get_resolver().url_patterns) - NOT_PAGES - visited == set()


def _resolve(path: str):
    from django.urls import Resolver404, resolve

    try:
        return resolve(path)
    except Resolver404:
        return None


def test_every_page_kind_in_english_has_no_bokmal(client, world) -> None:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    found = {}
    logged_in = None
    for who, url in pages(world):
        if who != logged_in:
            client.logout()
            client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
            if who != "anonymous":
                client.force_login(world[who])
            logged_in = who
        response = client.get(url)
        assert response.status_code in (200, 400, 403, 404), (url, response.status_code)
        assert 'lang="en"' in response.content.decode(), url
        words = bokmal_in(page_text(response.content.decode()))
        if words:
            found[f"{who} {url}"] = sorted(set(words))
    assert found == {}


def test_the_same_pages_in_bokmal_do_have_bokmal(client, world) -> None:
    """The check is not vacuous: the pages it passes in English fail it in bokmål."""
    client.force_login(world["holder"])
    for url in (reverse("home"), reverse("cardholder:my_cards")):
        assert len(bokmal_in(page_text(client.get(url).content.decode()))) > 10, url


def test_english_pages_write_dates_the_english_way(client, world) -> None:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    client.force_login(world["holder"])
    card = world["cards"]["active"]
    content = client.get(reverse("cardholder:card_detail", args=[card.number])).content.decode()
    english = f"{card.valid_until.day} {card.valid_until:%B} {card.valid_until.year}"
    assert english in content
    assert f"{card.valid_until:%b}. {card.valid_until.day}," not in content  # Django's American


def test_bokmal_pages_write_dates_the_norwegian_way(client, world) -> None:
    client.force_login(world["holder"])
    card = world["cards"]["active"]
    content = client.get(reverse("cardholder:card_detail", args=[card.number])).content.decode()
    months = "januar februar mars april mai juni juli august september oktober november desember"
    month = months.split()[card.valid_until.month - 1]
    assert f"{card.valid_until.day}. {month} {card.valid_until.year}" in content


DATE_LIKE = re.compile(r"(_at|_on|until|_from|date|deadline)$")


class Anything:
    """A stand-in for any template variable: every attribute, item and loop gives one more."""

    def __getattr__(self, name: str) -> object:
        if name.startswith("__"):
            raise AttributeError(name)
        if DATE_LIKE.search(name):
            return datetime.date(2026, 12, 1)
        return Anything()

    def __getitem__(self, key: object) -> object:
        # Templates look items up before attributes.
        return getattr(self, key) if isinstance(key, str) else Anything()

    def __iter__(self):
        return iter([Anything()])

    def __len__(self) -> int:
        return 1

    def __int__(self) -> int:
        return 1

    def __str__(self) -> str:
        return "Example"


def email_templates() -> list[str]:
    root = Path(settings.BASE_DIR) / "templates"
    return sorted(str(path.relative_to(root)) for path in root.glob("*/email/*.txt"))


@pytest.mark.parametrize("template", email_templates())
def test_every_email_in_english_has_no_bokmal(template: str) -> None:
    context = {
        name: Anything()
        for name in (
            "user", "line", "lines", "order", "card", "cards", "employer", "employer_name",
            "name", "url", "link", "items", "expiring", "waiting", "delegation", "delegations",
            "granter", "card_type", "card_type_name", "number", "reason", "organisation",
        )
    }  # fmt: skip
    # Both plural forms: one and several.
    context["deadline"] = datetime.date(2026, 12, 1)
    numbers = {"days": 2, "count": 2, "expiry_days": 1}
    context |= {"waiting_otherwise": [Anything()], "awaiting_registration": [Anything()], **numbers}
    with translation.override("en"):
        text = render_to_string(template, context)
    assert bokmal_in(text) == []


def test_the_invoice_in_english_names_the_card_type_in_english(client, world) -> None:
    from orders.billing import invoice_create, invoice_quote

    order = world["order"]
    world["waiting"].delete()
    invoice = invoice_create(order=order)
    assert invoice.lines.get().card_type_name == "HMS-kort bygg og anlegg"  # as stored
    with translation.override("en"):
        quote = invoice_quote(invoice)
        context = {"invoice": invoice, "order": order, "quote": quote, "account_number": "1"}
        text = page_text(render_to_string("orders/pdf/invoice.html", context))
    assert bokmal_in(text) == []
    assert quote.lines[0].description == "HSE card construction"
    assert quote.lines[0].amounts.incl_vat == Decimal("131.56")
