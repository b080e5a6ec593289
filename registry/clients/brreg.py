"""Enhetsregisteret (Brønnøysundregistrene) over its open REST API.

REGISTERS.md: ask for a response version with the Accept header; a deleted unit may answer
200 with slettedato (trust slettedato, not the status code), a removed one 410, an unknown
one 404.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Iterable
from typing import Any

from registry.clients.http import RegisterClient, ask_each, cache_forget, setting
from registry.clients.maskinporten import BearerToken
from registry.facts import OrganisationFacts, RegisterUnavailable, RoleFacts
from registry.identifiers import is_valid_orgnr
from registry.models import RegisterLookup, RoleSeen

logger = logging.getLogger(__name__)

REGISTER = RegisterLookup.Register.ENHETSREGISTERET.value

ACCEPT_ENHET = "application/vnd.brreg.enhetsregisteret.enhet.v2+json;charset=UTF-8"
ACCEPT_UNDERENHET = "application/vnd.brreg.enhetsregisteret.underenhet.v2+json;charset=UTF-8"
ACCEPT_ROLLE = "application/vnd.brreg.enhetsregisteret.rolle.v1+json;charset=UTF-8"

# Searching sub-units by their main unit is the open API's search endpoint; REGISTERS.md
# does not describe it, so its page size is kept modest and its list key lives here.
_SUB_UNIT_PAGE_SIZE = 500
_SUB_UNIT_MAX_PAGES = 20
_SUB_UNIT_LIST_KEY = "underenheter"


# --- Unconfirmed (REGISTERS.md): the authorised roles API and the bulk files. ------------
# The authorised roles API: its base lies beside the open API
# (…/enhetsregisteret/autorisert-api), it needs a Maskinporten token (scope unconfirmed) and
# its person objects are assumed to carry the identity number as "fodselsnummer". Change
# these three things here only.
AUTHORISED_ROLES_PATH = "/autorisert-api/enheter/{orgnr}/roller"
AUTHORISED_PERSON_ID_FIELD = "fodselsnummer"


# The nightly bulk files: REGISTERS.md names `/enheter/lastned` and `/underenheter/lastned`
# only. Assumed here: each answers a gzip file of one JSON array whose items are enhet.v2 /
# underenhet.v2 bodies (so unit_facts maps them), asked for with these Accept headers. A body
# that arrives already decompressed (Content-Encoding: gzip) is read as plain JSON.
BULK_FILES: dict[str, tuple[str, str]] = {
    "enheter": (
        "/enheter/lastned",
        "application/vnd.brreg.enhetsregisteret.enhet.v2+gzip;charset=UTF-8",
    ),
    "underenheter": (
        "/underenheter/lastned",
        "application/vnd.brreg.enhetsregisteret.underenhet.v2+gzip;charset=UTF-8",
    ),
}


def _authorised_base_url() -> str:
    explicit = str(setting("ENHETSREGISTERET_AUTHORISED_URL", ""))
    if explicit:
        return explicit
    open_base = str(setting("ENHETSREGISTERET_URL", "https://data.brreg.no/enhetsregisteret/api"))
    return open_base.rstrip("/").removesuffix("/api")


# ------------------------------------------------------------------------------------------


def _date(value: Any) -> datetime.date | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.date.fromisoformat(value[:10])
    except ValueError:
        return None


def _code(value: Any) -> str:
    return str(value.get("kode") or "") if isinstance(value, dict) else ""


def _address(unit: dict[str, Any], *keys: str) -> tuple[str, str, str]:
    for key in keys:
        address = unit.get(key)
        if isinstance(address, dict):
            lines = [line for line in address.get("adresse") or [] if isinstance(line, str)]
            return (
                ", ".join(line.strip() for line in lines if line.strip()),
                str(address.get("postnummer") or ""),
                str(address.get("poststed") or ""),
            )
    return "", "", ""


def unit_facts(body: Any, *, sub_unit: bool) -> OrganisationFacts:
    """Map an enhet.v2 or underenhet.v2 body (also the short body of a deleted unit)."""
    if not isinstance(body, dict) or not isinstance(body.get("organisasjonsnummer"), str):
        raise RegisterUnavailable(REGISTER, "the answer is not a unit")
    address_keys = (
        ("beliggenhetsadresse", "postadresse")
        if sub_unit
        else ("forretningsadresse", "postadresse")
    )
    street, postcode, city = _address(body, *address_keys)
    deleted_on = _date(body.get("slettedato"))
    if sub_unit and deleted_on is None:
        # A closed sub-unit keeps answering 200 with nedleggelsesdato.
        deleted_on = _date(body.get("nedleggelsesdato"))
    parent = body.get("overordnetEnhet")
    return OrganisationFacts(
        orgnr=body["organisasjonsnummer"],
        name=str(body.get("navn") or ""),
        form=_code(body.get("organisasjonsform")),
        parent_orgnr=parent if sub_unit and isinstance(parent, str) and parent else None,
        registered_on=_date(body.get("registreringsdatoEnhetsregisteret")),
        deleted_on=deleted_on,
        bankrupt=body.get("konkurs") is True,
        under_liquidation=body.get("underAvvikling") is True,
        under_forced_dissolution=body.get("underTvangsavviklingEllerTvangsopplosning") is True,
        vat_registered=body.get("registrertIMvaregisteret") is True,
        industry_code=_code(body.get("naeringskode1")),
        street=street,
        postcode=postcode,
        city=city,
    )


def _gone_facts(orgnr: str, body: Any) -> OrganisationFacts | None:
    """A 410: the unit was removed. With its slettedato it is reported as deleted."""
    # Reporting the unit as deleted (rather than leaving it out) lets the rules engine say
    # "employer_deleted", which tells the employer what happened; without a slettedato we
    # cannot date it and leave it out ("employer_not_found"). Either way no card is valid.
    deleted_on = _date(body.get("slettedato")) if isinstance(body, dict) else None
    if deleted_on is None:
        return None
    return OrganisationFacts(orgnr=orgnr, name="", form="", deleted_on=deleted_on)


def _open_client() -> RegisterClient:
    return RegisterClient(
        register=REGISTER,
        base_url=str(setting("ENHETSREGISTERET_URL", "https://data.brreg.no/enhetsregisteret/api")),
        accept=ACCEPT_ENHET,
    )


def organisation_cache_forget(orgnrs: Iterable[str]) -> None:
    """Drop cached answers about these units (the change feed says they changed)."""
    for orgnr in orgnrs:
        for path in (f"/enheter/{orgnr}", f"/underenheter/{orgnr}", f"/enheter/{orgnr}/roller"):
            cache_forget(REGISTER, path)
        cache_forget(REGISTER, AUTHORISED_ROLES_PATH.format(orgnr=orgnr))


class BrregBusinessRegister:
    """Enhetsregisteret's open API; the authorised roles API when a token is configured."""

    def __init__(self) -> None:
        self.client = _open_client()
        self.token = BearerToken.from_settings(
            fixed_from="ENHETSREGISTERET_TOKEN", scope_from="ENHETSREGISTERET_SCOPE"
        )
        # Access checks ask for the roles of every remembered unit: one session for them all.
        self.authorised_client = RegisterClient(
            register=REGISTER, base_url=_authorised_base_url(), token=self.token
        )

    def organisations(self, orgnrs: Iterable[str]) -> dict[str, OrganisationFacts]:
        # The register answers 400 to a malformed number; it cannot be a unit.
        valid = {orgnr for orgnr in orgnrs if is_valid_orgnr(orgnr) and len(orgnr) == 9}
        answers = ask_each(valid, self._organisation)
        return {orgnr: unit for orgnr, unit in answers.items() if unit is not None}

    def _organisation(self, orgnr: str) -> OrganisationFacts | None:
        # Main units first: employers are named by their main unit's number (DOMAIN.md), and
        # the parent of every sub-unit is a main unit, so most lookups take one request.
        answer = self.client.get_json(
            f"/enheter/{orgnr}", accept=ACCEPT_ENHET, answers=(200, 404, 410)
        )
        if answer.status == 200:
            return unit_facts(answer.body, sub_unit=False)
        if answer.status == 410:
            return _gone_facts(orgnr, answer.body)
        answer = self.client.get_json(
            f"/underenheter/{orgnr}", accept=ACCEPT_UNDERENHET, answers=(200, 404, 410)
        )
        if answer.status == 200:
            return unit_facts(answer.body, sub_unit=True)
        if answer.status == 410:
            return _gone_facts(orgnr, answer.body)
        return None

    def sub_units(self, main_orgnr: str) -> list[OrganisationFacts]:
        units: list[OrganisationFacts] = []
        for page in range(_SUB_UNIT_MAX_PAGES):
            answer = self.client.get_json(
                "/underenheter",
                params={"overordnetEnhet": main_orgnr, "size": _SUB_UNIT_PAGE_SIZE, "page": page},
                accept=ACCEPT_UNDERENHET,
            )
            body = answer.body if isinstance(answer.body, dict) else {}
            embedded = body.get("_embedded") or {}
            units.extend(
                unit_facts(item, sub_unit=True) for item in embedded.get(_SUB_UNIT_LIST_KEY) or []
            )
            page_info = body.get("page") or {}
            if page + 1 >= int(page_info.get("totalPages") or 0):
                break
        return sorted(units, key=lambda u: (u.name, u.orgnr))

    def roles(self, orgnr: str) -> list[RoleFacts]:
        """Persons' current roles. National ids only come from the authorised API."""
        if self.token:
            answer = self.authorised_client.get_json(
                AUTHORISED_ROLES_PATH.format(orgnr=orgnr), accept=ACCEPT_ROLLE, answers=(200, 404)
            )
        else:
            answer = self.client.get_json(
                f"/enheter/{orgnr}/roller", accept=ACCEPT_ROLLE, answers=(200, 404)
            )
        if answer.status == 404:
            return []
        return _role_facts(orgnr, answer.body)

    def organisations_with_role(self, national_id: str, codes: Iterable[str]) -> list[str]:
        """Main units where the person holds one of the roles, as far as hmsportal has seen.

        Enhetsregisteret has no lookup by person, so candidates come from RoleSeen (recorded
        by registry.services.roles_refresh when a person claims a unit) and each is confirmed
        against the register before it is returned: a role that has ended never grants
        access from the table.
        Without a token the register gives no identity numbers and the answer is empty.
        """
        wanted = set(codes)
        if not self.token:
            return []
        candidates = (
            RoleSeen.objects.filter(national_id=national_id, code__in=wanted)
            .values_list("orgnr", flat=True)
            .distinct()
        )
        confirmed = []
        for orgnr in sorted(set(candidates)):
            if any(r.national_id == national_id and r.code in wanted for r in self.roles(orgnr)):
                confirmed.append(orgnr)
        return confirmed


def _role_facts(orgnr: str, body: Any) -> list[RoleFacts]:
    if not isinstance(body, dict) or not isinstance(body.get("rollegrupper", []), list):
        raise RegisterUnavailable(REGISTER, "the answer is not a list of roles")
    roles: list[RoleFacts] = []
    for group in body.get("rollegrupper") or []:
        for role in (group or {}).get("roller") or []:
            if not isinstance(role, dict) or role.get("fratraadt") or role.get("avregistrert"):
                continue
            person = role.get("person")
            # Roles held by another unit (an auditor firm, a parent company) are no person's.
            if not isinstance(person, dict):
                continue
            code = _code(role.get("type"))
            if not code:
                continue
            national_id = str(person.get(AUTHORISED_PERSON_ID_FIELD) or "")
            roles.append(RoleFacts(orgnr=orgnr, national_id=national_id, code=code))
    return roles
