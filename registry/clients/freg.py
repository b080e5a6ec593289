"""Folkeregisteret (Skatteetaten) over its person lookup API.

REGISTERS.md: `GET personer/{id}?part=…` asks only for the parts needed (data
minimisation); errors are {"kode": "FREG-…", "melding": …}; 429 carries Retry-After in
milliseconds. Access takes a Maskinporten token for FOLKEREGISTERET_SCOPE (registry/clients/maskinporten.py;
a fixed FOLKEREGISTERET_TOKEN wins when set).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ImproperlyConfigured

from registry.clients.http import RegisterClient, ask_each, error_code, setting
from registry.clients.maskinporten import BearerToken
from registry.facts import PersonFacts, RegisterUnavailable
from registry.identifiers import InvalidIdentifier, parse_national_id
from registry.models import RegisterLookup

REGISTER = RegisterLookup.Register.FOLKEREGISTERET.value

# The parts hmsportal needs and no more: identity number status, name, birth date, residence
# permit, and citizenship to tell whether the permit rule applies (DOMAIN.md rule 7).
PARTS = ("identifikasjonsnummer", "navn", "foedsel", "opphold", "statsborgerskap")

# EU member states and the other EEA states (ISO 3166 alpha-3, as Folkeregisteret writes
# countries), plus Switzerland, whose citizens have the same access to work in Norway.
EEA_COUNTRIES = frozenset(
    {
        *("AUT", "BEL", "BGR", "HRV", "CYP", "CZE", "DNK", "EST", "FIN", "FRA", "DEU", "GRC"),
        *("HUN", "IRL", "ITA", "LVA", "LTU", "LUX", "MLT", "NLD", "POL", "PRT", "ROU", "SVK"),
        *("SVN", "ESP", "SWE"),
        *("ISL", "LIE", "NOR"),
        "CHE",
    }
)


def _date(value: Any) -> datetime.date | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.date.fromisoformat(value[:10])
    except ValueError:
        return None


def _entries(body: dict[str, Any], part: str) -> list[dict[str, Any]]:
    value = body.get(part)
    if isinstance(value, dict):
        value = [value]
    return [entry for entry in value or [] if isinstance(entry, dict)]


def _current(entries: list[dict[str, Any]]) -> dict[str, Any]:
    for entry in entries:
        if entry.get("erGjeldende") is True:
            return entry
    return entries[0] if entries else {}


# --- Unconfirmed (REGISTERS.md): the JSON nesting of a person. ----------------------------
# Assumed: each part is a top-level list of elements with erGjeldende; the date an identity
# number stopped being in use is the element's opphoerstidspunkt (or gyldighetstidspunkt);
# citizenship is a part "statsborgerskap" whose elements carry the country as "land".
# Without citizenship a person is taken as an EEA citizen unless Folkeregisteret records a
# residence permit for them (EEA citizens register residence, not a permit).
def person_from_freg(national_id: str, body: Any) -> PersonFacts:
    """Map Folkeregisteret's person document to PersonFacts; the only place that knows it."""
    if not isinstance(body, dict):
        raise RegisterUnavailable(REGISTER, "the answer is not a person")

    numbers = _entries(body, "identifikasjonsnummer")
    own = next((e for e in numbers if e.get("foedselsEllerDNummer") == national_id), None)
    id_in_use = True
    id_inactive_since = None
    if own is not None and own.get("status") == "opphoert":
        id_in_use = False
        metadata = own.get("metadata")
        if not isinstance(metadata, dict):
            metadata = {}
        id_inactive_since = _date(
            own.get("opphoerstidspunkt")
            or metadata.get("opphoerstidspunkt")
            or own.get("gyldighetstidspunkt")
            or metadata.get("gyldighetstidspunkt")
        )
    try:
        is_d_number = parse_national_id(national_id).is_d_number
    except InvalidIdentifier:
        is_d_number = own is not None and own.get("identifikatortype") == "dNummer"

    name = _current(_entries(body, "navn"))
    first_name = " ".join(
        str(part) for part in (name.get("fornavn"), name.get("mellomnavn")) if part
    )

    permit_until: datetime.date | None = None
    has_permit = False
    for stay in _entries(body, "opphold"):
        kind = stay.get("oppholdstillatelse")
        if kind == "permanent":
            has_permit = True
            permit_until = datetime.date.max
        elif kind == "midlertidig":
            has_permit = True
            until = _date(stay.get("oppholdTil"))
            if until is not None and (permit_until is None or until > permit_until):
                permit_until = until

    countries = {
        str(entry.get("land") or "").upper() for entry in _entries(body, "statsborgerskap")
    } - {""}
    eea_citizen = bool(countries & EEA_COUNTRIES) if countries else not has_permit

    return PersonFacts(
        national_id=national_id,
        first_name=first_name,
        last_name=str(name.get("etternavn") or ""),
        birth_date=_date(_current(_entries(body, "foedsel")).get("foedselsdato")),
        is_d_number=is_d_number,
        id_in_use=id_in_use,
        id_inactive_since=id_inactive_since,
        eea_citizen=eea_citizen,
        permit_until=permit_until,
    )


# The event feed: REGISTERS.md gives `hendelser/feed?seq=N`, 1,000 a page, ETag/304, and no
# shape. Assumed: the page is a JSON list (or an object holding it under "hendelser") of
# events {"sekvensnummer": N, "hendelse": {"hendelsetype": …, "folkeregisteridentifikator":
# …}}, the sequence number and person possibly at the top level of the item instead. An event
# type is taken to concern hmsportal when its name mentions one of EVENT_TYPE_WORDS
# (identity number and its status, name, residence); an event without a type marks its
# person too (asking once too often is cheap, missing a change is not).
EVENT_FEED_PATH = "/hendelser/feed"
EVENT_PAGE_SIZE = 1000
EVENT_LIST_KEY = "hendelser"
EVENT_SEQUENCE_FIELD = "sekvensnummer"
EVENT_BODY_FIELD = "hendelse"
EVENT_TYPE_FIELD = "hendelsetype"
EVENT_PERSON_FIELD = "folkeregisteridentifikator"
EVENT_TYPE_WORDS = ("identifikasjonsnummer", "identifikator", "dnummer", "navn", "opphold")


@dataclass(frozen=True)
class PersonEvent:
    """One event in Folkeregisteret's feed: its sequence number and whom it concerns."""

    sequence: int
    national_id: str
    concerns_checks: bool


def person_events_from_freg(body: Any) -> list[PersonEvent]:
    """Map a page of the event feed; the only place that knows its shape."""
    items = body.get(EVENT_LIST_KEY) if isinstance(body, dict) else body
    if not isinstance(items, list):
        raise RegisterUnavailable(REGISTER, "the event feed did not answer with a list")
    events = []
    for item in items:
        if not isinstance(item, dict):
            raise RegisterUnavailable(REGISTER, "an event in the feed is not an object")
        event = item.get(EVENT_BODY_FIELD)
        event = event if isinstance(event, dict) else item
        sequence = item.get(EVENT_SEQUENCE_FIELD, event.get(EVENT_SEQUENCE_FIELD))
        if not isinstance(sequence, int):
            raise RegisterUnavailable(REGISTER, "an event in the feed has no sequence number")
        national_id = event.get(EVENT_PERSON_FIELD, item.get(EVENT_PERSON_FIELD))
        kind = str(event.get(EVENT_TYPE_FIELD) or "").casefold()
        events.append(
            PersonEvent(
                sequence=sequence,
                national_id=national_id if isinstance(national_id, str) else "",
                concerns_checks=not kind or any(word in kind for word in EVENT_TYPE_WORDS),
            )
        )
    return events


# ------------------------------------------------------------------------------------------


def events_client() -> RegisterClient:
    """Folkeregisteret's client for the event feed (the same base URL and token)."""
    return FolkeregisteretPopulationRegister().client


class FolkeregisteretPopulationRegister:
    """Persons by fødselsnummer or D-number, one lookup each (answers are cached)."""

    def __init__(self) -> None:
        base_url = str(setting("FOLKEREGISTERET_URL", ""))
        if not base_url:
            raise ImproperlyConfigured(
                "REGISTRY_BACKEND=http needs FOLKEREGISTERET_URL (see README.md)."
            )
        self.client = RegisterClient(
            register=REGISTER,
            base_url=base_url,
            token=BearerToken.from_settings(
                fixed_from="FOLKEREGISTERET_TOKEN", scope_from="FOLKEREGISTERET_SCOPE"
            ),
            retry_after_in_milliseconds=True,
        )

    def persons(self, national_ids: Iterable[str]) -> dict[str, PersonFacts]:
        valid: set[str] = set()
        for national_id in national_ids:
            try:
                parse_national_id(national_id)
            except InvalidIdentifier:
                continue  # not a number Folkeregisteret can know
            valid.add(national_id)
        answers = ask_each(valid, self._person)
        return {
            national_id: person for national_id, person in answers.items() if person is not None
        }

    def _person(self, national_id: str) -> PersonFacts | None:
        answer = self.client.get_json(
            f"/personer/{national_id}", params={"part": PARTS}, answers=(200, 404)
        )
        if answer.status == 404:
            # Folkeregisteret's own "not found" carries a FREG code; a bare 404 is a wrong URL.
            if error_code(answer.body).startswith("FREG"):
                return None
            raise RegisterUnavailable(REGISTER, "HTTP 404 without an error code (wrong URL?)")
        return person_from_freg(national_id, answer.body)
