"""A register that answers slowly inside a web request (issue 11, point 1 c).

The person waits at most REGISTER_WEB_TIMEOUT_SECONDS for one register call; the page then
says which register is not answering. No card changes state and no order is lost or
half-saved. Workers keep the long REGISTER_TIMEOUT_SECONDS.

The registers are real HTTP servers on 127.0.0.1 that answer after REGISTER_DELAY seconds;
each records whether its answer was sent, so a test can tell that the page came back before
the register answered (no timing is measured).
"""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from cards.models import Card
from orders.models import Delegation, Order, OrderLine
from registry.clients.aareg import EMPLOYEES_PATH
from registry.clients.waiting import person_waiting, register_timeout_seconds
from tests.cards.factories import CardFactory
from tests.datasets import EMPLOYER, SUB_UNIT, WORKER, ensure_card_catalogue
from tests.hmsportal.factories import UserFactory
from tests.orders.factories import OrderLineFactory
from tests.registry.servers import ACCEPT_ENHET, Reply, enhet

pytestmark = pytest.mark.django_db

DELEGATE = "01017512419"
REGISTER_DELAY = 5.0
ENHET = f"/enheter/{EMPLOYER}"


@pytest.fixture
def registers(settings, http_backend, brreg, nav):
    """The http backend with a short web timeout; the open API, so no roles by identity."""
    settings.REGISTER_WEB_TIMEOUT_SECONDS = 1
    settings.REGISTER_TIMEOUT_SECONDS = 30
    settings.ENHETSREGISTERET_TOKEN = ""
    return {"brreg": brreg, "nav": nav}


@pytest.fixture
def delegate(client):
    """A delegate of the employer (the grant is hmsportal's own: no register needed for it)."""
    ensure_card_catalogue()
    owner = UserFactory()
    Delegation.objects.create(
        employer_orgnr=EMPLOYER,
        grantee_national_id=DELEGATE,
        grantee_name="Per Berg",
        granted_by=owner,
        valid_from=timezone.localdate() - datetime.timedelta(days=10),
    )
    user = UserFactory(username="per", national_id=DELEGATE, full_name="Per Berg")
    client.force_login(user)
    return user


@pytest.fixture
def cards_and_orders():
    """What a slow register must leave alone: an active card and a placed order."""
    card = CardFactory(
        holder_national_id=WORKER,
        employer_orgnr=EMPLOYER,
        workplace_orgnr=SUB_UNIT,
        state=Card.State.ACTIVE,
    )
    line = OrderLineFactory()
    return card, line


def _unchanged(card: Card, line: OrderLine, *, orders: int, lines: int) -> None:
    before = (card.state, card.checked_at, card.reason_codes)
    card.refresh_from_db()
    assert (card.state, card.checked_at, card.reason_codes) == before
    assert OrderLine.objects.get(pk=line.pk).state == line.state
    assert (Order.objects.count(), OrderLine.objects.count()) == (orders, lines)


def test_the_web_timeout_is_the_short_one_only_while_a_person_waits(settings) -> None:
    settings.REGISTER_WEB_TIMEOUT_SECONDS = 2
    settings.REGISTER_TIMEOUT_SECONDS = 5
    assert register_timeout_seconds() == 5
    with person_waiting():
        assert register_timeout_seconds() == 2
    assert register_timeout_seconds() == 5


def test_a_slow_enhetsregisteret_gives_the_page_that_names_it(
    client, registers, delegate, cards_and_orders
) -> None:
    brreg = registers["brreg"]
    brreg.add(ENHET, Reply(200, enhet(EMPLOYER), delay=REGISTER_DELAY), accept=ACCEPT_ENHET)
    card, line = cards_and_orders

    response = client.get(f"/orders/{EMPLOYER}/")

    assert response.status_code == 503
    html = response.content.decode()
    assert 'data-register-unavailable="Enhetsregisteret"' in html
    assert "Enhetsregisteret svarer ikke akkurat nå" in html
    # Asked once (a call that used up the web timeout is not tried again), and the page came
    # back before the register's answer was sent.
    assert len(brreg.hits(ENHET)) == 1
    assert brreg.answered == []
    _unchanged(card, line, orders=1, lines=1)


def test_a_slow_aa_registeret_names_aa_registeret_in_the_persons_language(
    client, registers, delegate, cards_and_orders
) -> None:
    registers["brreg"].add(ENHET, Reply(200, enhet(EMPLOYER)), accept=ACCEPT_ENHET)
    nav = registers["nav"]
    nav.add(EMPLOYEES_PATH, Reply(200, {"arbeidsforhold": []}, delay=REGISTER_DELAY))
    card, line = cards_and_orders
    client.cookies["django_language"] = "en"

    response = client.get(f"/orders/{EMPLOYER}/")

    assert response.status_code == 503
    html = response.content.decode()
    assert "Aa-registeret is not answering right now" in html
    assert "Traceback" not in html
    assert len(nav.hits(EMPLOYEES_PATH)) == 1
    assert nav.answered == []
    _unchanged(card, line, orders=1, lines=1)


def test_an_order_sent_while_aa_registeret_is_slow_is_not_half_saved(
    client, registers, delegate, cards_and_orders
) -> None:
    registers["brreg"].add(ENHET, Reply(200, enhet(EMPLOYER)), accept=ACCEPT_ENHET)
    nav = registers["nav"]
    nav.add(EMPLOYEES_PATH, Reply(200, {"arbeidsforhold": []}, delay=REGISTER_DELAY))
    card, line = cards_and_orders

    response = client.post(
        f"/orders/{EMPLOYER}/new/",
        {"employee": WORKER, "card_type": "construction", "step": "send"},
    )

    assert response.status_code == 503
    assert "Aa-registeret svarer ikke akkurat nå" in response.content.decode()
    assert nav.answered == []
    _unchanged(card, line, orders=1, lines=1)


def test_looking_up_an_organisation_while_enhetsregisteret_is_slow_says_so(
    client, registers, delegate
) -> None:
    brreg = registers["brreg"]
    brreg.add(f"{ENHET}/roller", Reply(200, {"rollegrupper": []}, delay=REGISTER_DELAY))
    brreg.add(ENHET, Reply(200, enhet(EMPLOYER), delay=REGISTER_DELAY), accept=ACCEPT_ENHET)

    response = client.post("/orders/", {"orgnr": EMPLOYER}, follow=True)

    html = response.content.decode()
    assert "Enhetsregisteret svarer ikke akkurat nå" in html
    assert brreg.answered == []
