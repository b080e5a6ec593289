"""The rules engine: may this person hold a card of this type for this employer today?

A pure function of the register facts, the card type's requirements and the date, so that
every rule in DOMAIN.md can be tested without a database or a register. The numbers in the
comments refer to the list "When a card is valid" in DOMAIN.md.
"""

from __future__ import annotations

import datetime
import enum
from dataclasses import dataclass

from django.utils.translation import get_language

from registry.facts import (
    EmploymentFacts,
    OrganisationFacts,
    PersonFacts,
    RegisterFacts,
    Requirements,
)

# Ordering: a card may be ordered for a pre-registered employment starting within this many
# days (seed page, "Nye arbeidstakere?").
NEW_EMPLOYEE_DAYS = 30
# An inactive D-number invalidates a card only after this grace period (real practice).
D_NUMBER_GRACE_DAYS = 30
MAX_VALIDITY_YEARS = 2
# Organisation forms that must be in Merverdiavgiftsregisteret to order cards. A sole
# proprietorship (ENK) may lie under the VAT threshold, and public bodies, associations and
# foundations are outside the VAT scheme, so they are not required to be registered.
VAT_REQUIRED_FORMS = frozenset({"AS", "ASA", "ANS", "DA", "NUF", "SA", "KS", "BA"})


class Purpose(enum.StrEnum):
    ORDER = "order"
    RECHECK = "recheck"


@dataclass(frozen=True)
class ReasonText:
    nb: str
    en: str
    fix_nb: str
    fix_en: str


# The reason code of an order line refused because the person already has a live card.
ALREADY_HAS_LIVE_CARD = "already_has_live_card"

REASONS: dict[str, ReasonText] = {
    "employer_not_found": ReasonText(
        "Virksomheten finnes ikke i Enhetsregisteret.",
        "The employer is not registered in the Central Coordinating Register.",
        "Kontroller organisasjonsnummeret.",
        "Check the organisation number.",
    ),
    "employer_deleted": ReasonText(
        "Virksomheten er slettet fra Enhetsregisteret.",
        "The employer has been deleted from the Central Coordinating Register.",
        "Kort kan bare bestilles for virksomheter som er registrert.",
        "Cards can only be ordered for registered businesses.",
    ),
    "workplace_deleted": ReasonText(
        "Underenheten der arbeidsforholdet er registrert, er slettet.",
        "The sub-unit where the employment is registered has been deleted.",
        "Registrer arbeidsforholdet på riktig underenhet i Aa-registeret.",
        "Register the employment on the right sub-unit in Aa-registeret.",
    ),
    "employer_bankrupt": ReasonText(
        "Virksomheten er konkurs.",
        "The employer is bankrupt.",
        "Kortet kan ikke være gyldig mens virksomheten er konkurs.",
        "The card cannot be valid while the employer is bankrupt.",
    ),
    "employer_under_liquidation": ReasonText(
        "Virksomheten er under avvikling.",
        "The employer is being wound up.",
        "Kortet kan ikke være gyldig mens virksomheten er under avvikling.",
        "The card cannot be valid while the employer is being wound up.",
    ),
    "employer_forced_dissolution": ReasonText(
        "Virksomheten er under tvangsavvikling eller tvangsoppløsning.",
        "The employer is under forced dissolution.",
        "Kortet kan ikke være gyldig mens virksomheten tvangsavvikles.",
        "The card cannot be valid while the employer is under forced dissolution.",
    ),
    "employer_not_vat_registered": ReasonText(
        "Virksomheten er ikke registrert i Merverdiavgiftsregisteret.",
        "The employer is not registered for VAT.",
        "Registrer virksomheten i Merverdiavgiftsregisteret.",
        "Register the business for VAT.",
    ),
    "employer_staffing_not_approved": ReasonText(
        "Bemanningsforetaket er ikke godkjent i Bemanningsforetaksregisteret.",
        "The staffing business is not approved in the register of staffing businesses.",
        "Søk om godkjenning hos Arbeidstilsynet.",
        "Apply for approval from the Labour Inspection Authority.",
    ),
    "employer_cleaning_not_approved": ReasonText(
        "Virksomheten er ikke godkjent i Renholdsregisteret.",
        "The employer is not approved in the register of cleaning businesses.",
        "Søk om godkjenning i Renholdsregisteret hos Arbeidstilsynet.",
        "Apply for approval in the cleaning register.",
    ),
    "person_not_found": ReasonText(
        "Personen finnes ikke i Folkeregisteret.",
        "The person is not registered in the National Population Register.",
        "Kontroller fødselsnummeret eller D-nummeret.",
        "Check the national identity number or D-number.",
    ),
    "person_id_inactive": ReasonText(
        "D-nummeret er ikke lenger i bruk.",
        "The D-number is no longer active.",
        "D-nummeret må aktiveres igjen hos Skatteetaten.",
        "The D-number must be reactivated with the Tax Administration.",
    ),
    "employment_not_found": ReasonText(
        "Aa-registeret viser ikke noe arbeidsforhold hos virksomheten.",
        "Aa-registeret shows no employment with the employer.",
        "Meld arbeidsforholdet til Aa-registeret (a-meldingen).",
        "Report the employment to Aa-registeret (the a-melding).",
    ),
    "employment_starts_later": ReasonText(
        "Arbeidsforholdet starter om mer enn 30 dager.",
        "The employment starts in more than 30 days.",
        "Bestill kortet tidligst 30 dager før oppstart.",
        "Order the card no earlier than 30 days before the start.",
    ),
    "employment_not_started": ReasonText(
        "Arbeidsforholdet har ikke startet ennå.",
        "The employment has not started yet.",
        "Kortet blir gyldig når arbeidsforholdet starter.",
        "The card becomes valid when the employment starts.",
    ),
    "employment_ended": ReasonText(
        "Arbeidsforholdet er avsluttet.",
        "The employment has ended.",
        "Kortet følger arbeidsforholdet. Ved nytt arbeidsforhold må det bestilles nytt kort.",
        "The card follows the employment. A new employment needs a new card.",
    ),
    "residence_permit_missing": ReasonText(
        "Det er ikke registrert oppholdstillatelse som gir rett til å arbeide.",
        "No residence permit giving access to work is registered.",
        "Arbeidstakeren må ha gyldig oppholdstillatelse.",
        "The worker needs a valid residence permit.",
    ),
    "residence_permit_expired": ReasonText(
        "Oppholdstillatelsen er utløpt.",
        "The residence permit has expired.",
        "Arbeidstakeren må ha fornyet oppholdstillatelse.",
        "The worker needs a renewed residence permit.",
    ),
    # Not a register's answer but the portal's own rule (one live card per person, employer
    # and card type): the person got a card while their order line was being checked.
    ALREADY_HAS_LIVE_CARD: ReasonText(
        "Personen har allerede et gyldig kort av denne typen hos virksomheten.",
        "The person already has a live card of this type with the employer.",
        "Se kortet i kortregisteret. Et tapt eller stjålet kort erstattes fra kortets side.",
        "See the card in the card register. A lost or stolen card is replaced from its page.",
    ),
}


@dataclass(frozen=True)
class Reason:
    """Why a person may not hold the card, with a stable code for machines."""

    code: str

    @property
    def _text(self) -> ReasonText:
        return REASONS[self.code]

    def text(self, language: str | None = None) -> str:
        english = (language or get_language() or "nb").startswith("en")
        return self._text.en if english else self._text.nb

    def fix(self, language: str | None = None) -> str:
        english = (language or get_language() or "nb").startswith("en")
        return self._text.fix_en if english else self._text.fix_nb

    def __str__(self) -> str:
        return self.text()


@dataclass(frozen=True)
class Verdict:
    """The rules engine's answer."""

    eligible: bool
    reasons: tuple[Reason, ...]
    # The latest date a card issued today may be valid until; None when not eligible.
    valid_until: datetime.date | None
    employment: EmploymentFacts | None = None
    person: PersonFacts | None = None
    employer: OrganisationFacts | None = None
    # The first day a card is valid when the employment starts later (ordering may run 30
    # days ahead); None when it has started.
    valid_from: datetime.date | None = None

    @property
    def reason_codes(self) -> list[str]:
        return [reason.code for reason in self.reasons]

    @property
    def awaiting_registration(self) -> bool:
        """The only problem is that Aa-registeret does not (yet) show the employment."""
        return self.reason_codes == ["employment_not_found"]

    @property
    def eligible_from_start(self) -> bool:
        """Everything is in order but the employment has not started: valid from valid_from."""
        return self.valid_from is not None and self.reason_codes == ["employment_not_started"]


def order_opens_on(employment_start: datetime.date) -> datetime.date:
    """The first day a card can be ordered for an employment (30 days before it starts)."""
    return employment_start - datetime.timedelta(days=NEW_EMPLOYEE_DAYS)


def add_years(day: datetime.date, years: int) -> datetime.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a year that has none
        return day.replace(year=day.year + years, day=28)


def _relevant_employment(
    employments: tuple[EmploymentFacts, ...], main_orgnr: str, on: datetime.date, purpose: Purpose
) -> tuple[EmploymentFacts | None, str | None]:
    """The employment that carries the card, or the reason code why there is none (rule 3)."""
    with_employer = [e for e in employments if e.main_orgnr == main_orgnr]
    if not with_employer:
        return None, "employment_not_found"
    current = [e for e in with_employer if e.covers(on)]
    if current:
        # The one lasting longest carries the card.
        return max(current, key=lambda e: e.end or datetime.date.max), None
    horizon = on + datetime.timedelta(days=NEW_EMPLOYEE_DAYS)
    upcoming = [e for e in with_employer if on < e.start <= horizon]
    if upcoming:
        # Ordering may run 30 days ahead of the start; validity needs a started employment.
        # The re-check still names the employment: its start is when the card becomes valid.
        first = min(upcoming, key=lambda e: e.start)
        return first, (None if purpose is Purpose.ORDER else "employment_not_started")
    if any(e.start > horizon for e in with_employer):
        return None, "employment_starts_later"
    return None, "employment_ended"


def evaluate(
    *,
    facts: RegisterFacts,
    requirements: Requirements,
    on: datetime.date,
    purpose: Purpose = Purpose.ORDER,
) -> Verdict:
    """Decide whether the person may hold the card on the given day, and until when."""
    codes: list[str] = []
    main = facts.main_unit
    employer = facts.employer

    # Rule 2: the employer (its main unit) is registered and in business.
    if employer is None or main is None:
        codes.append("employer_not_found")
    else:
        if main.deleted_on is not None and main.deleted_on <= on:
            codes.append("employer_deleted")
        elif employer.deleted_on is not None and employer.deleted_on <= on:
            codes.append("workplace_deleted")
        if main.bankrupt:
            codes.append("employer_bankrupt")
        if main.under_liquidation:
            codes.append("employer_under_liquidation")
        if main.under_forced_dissolution:
            codes.append("employer_forced_dissolution")
        if main.form in VAT_REQUIRED_FORMS and not main.vat_registered:
            codes.append("employer_not_vat_registered")
        # Rule 5: staffing businesses must be approved.
        if main.is_staffing_business and facts.staffing_approved is not True:
            codes.append("employer_staffing_not_approved")
        # Rule 6: cleaning cards need an approved cleaning business (sub-units follow).
        if requirements.cleaning_approval and not (
            facts.cleaning_status is not None and facts.cleaning_status.is_approved
        ):
            codes.append("employer_cleaning_not_approved")

    # Rule 4: registered in Folkeregisteret with a number in use.
    person = facts.person
    permit_cap: datetime.date | None = None
    if person is None:
        codes.append("person_not_found")
    else:
        if not person.id_in_use:
            grace_ends = (
                person.id_inactive_since + datetime.timedelta(days=D_NUMBER_GRACE_DAYS)
                if person.id_inactive_since is not None
                else None
            )
            in_grace = purpose is Purpose.RECHECK and grace_ends is not None and on <= grace_ends
            if not in_grace:
                codes.append("person_id_inactive")
        # Rule 7: cleaning cards for workers from outside the EEA need a work permit.
        if requirements.residence_permit and not person.eea_citizen:
            if person.permit_until is None:
                codes.append("residence_permit_missing")
            elif person.permit_until < on:
                codes.append("residence_permit_expired")
            else:
                permit_cap = person.permit_until

    # Rule 3: an employment with this employer that has started (or starts within 30 days).
    employment: EmploymentFacts | None = None
    if main is not None:
        employment, employment_problem = _relevant_employment(
            facts.employments, main.orgnr, on, purpose
        )
        if employment_problem:
            codes.append(employment_problem)

    valid_from = employment.start if employment is not None and employment.start > on else None
    if codes:
        return Verdict(
            eligible=False,
            reasons=tuple(Reason(code) for code in codes),
            valid_until=None,
            employment=employment,
            person=person,
            employer=main,
            valid_from=valid_from,
        )

    # Rule 1: at most two years, never past a known employment end or permit end.
    start = max(on, employment.start) if employment else on
    if permit_cap is not None and permit_cap < start:
        # The permit ends before the employment starts: the card would never be valid.
        return Verdict(
            eligible=False,
            reasons=(Reason("residence_permit_expired"),),
            valid_until=None,
            employment=employment,
            person=person,
            employer=main,
        )
    caps = [add_years(on, MAX_VALIDITY_YEARS)]
    if employment is not None and employment.end is not None:
        caps.append(employment.end)
    if permit_cap is not None:
        caps.append(permit_cap)
    valid_until = max(min(caps), start)
    return Verdict(
        eligible=True,
        reasons=(),
        valid_until=valid_until,
        employment=employment,
        person=person,
        employer=main,
        valid_from=valid_from,
    )
