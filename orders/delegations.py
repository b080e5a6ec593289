"""Delegations that stay honest: giving, confirming and ending access, and the nightly review.

A key-role holder in Enhetsregisteret may give others the right to order and administer cards
(DOMAIN.md, "Who orders"); the grant says whether the grantee may give access further, and a
grantee who may never gives more than their own grant (no later end, no open end when theirs
has one). When the person answering for a grant (who confirmed it, else who gave it) no longer
holds a key role, the grant stays in force but is flagged; the organisation's current key-role
holders are asked to confirm or remove it, and one nobody confirms ends after
DELEGATION_CONFIRM_DAYS.
"""

from __future__ import annotations

import datetime
import logging
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import models, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from hmsportal.audit import audit_fields, audit_record
from hmsportal.mail import mail_person
from hmsportal.models import AuditEntry, User
from hmsportal.outbox import outbox_record
from orders.models import Delegation
from registry import selectors as registry_selectors
from registry.facts import OrganisationFacts, RegisterUnavailable

logger = logging.getLogger(__name__)


class DelegationError(ValueError):
    """The delegation cannot be given as asked."""


def _in_force(on: datetime.date) -> models.Q:
    return models.Q(revoked_at__isnull=True, valid_from__lte=on) & (
        models.Q(valid_until__isnull=True) | models.Q(valid_until__gte=on)
    )


def granting_delegation(*, national_id: str, orgnr: str) -> Delegation | None:
    """The person's own grant in force today that lets them give access further, or None."""
    return (
        Delegation.objects.filter(
            _in_force(timezone.localdate()),
            employer_orgnr=orgnr,
            grantee_national_id=national_id,
            may_grant_further=True,
        )
        .order_by(models.F("valid_until").desc(nulls_first=True))
        .first()
    )


def _url(name: str, **kwargs: object) -> str:
    return settings.PORTAL_BASE_URL + reverse(name, kwargs=kwargs)


@transaction.atomic
def delegation_grant(
    *,
    actor: User,
    employer: OrganisationFacts,
    grantee_national_id: str,
    grantee_name: str,
    valid_from: datetime.date,
    valid_until: datetime.date | None,
    grantee_email: str = "",
    may_grant_further: bool = False,
    through: Delegation | None = None,
) -> Delegation:
    """Give someone the right to order and administer cards for the employer.

    `through` is the actor's own grant when they give access as a delegate (not as a
    key-role holder): the new grant may not reach past it.
    """
    if actor.national_id == grantee_national_id:
        raise DelegationError(_("You cannot give access to yourself."))
    if through is not None:
        if not through.may_grant_further or through.grantee_national_id != actor.national_id:
            raise DelegationError(_("Your own access does not let you give others access."))
        if through.valid_until is not None and (
            valid_until is None or valid_until > through.valid_until
        ):
            raise DelegationError(
                _("The access cannot last longer than your own, which ends %(date)s.")
                % {"date": date_format(through.valid_until, "SHORT_DATE_FORMAT")}
            )
    existing = Delegation.objects.select_for_update().filter(
        employer_orgnr=employer.orgnr,
        grantee_national_id=grantee_national_id,
        revoked_at__isnull=True,
    )
    # Two periods overlap when each starts before the other ends (open ends never end).
    overlapping = existing.filter(
        models.Q(valid_until__isnull=True) | models.Q(valid_until__gte=valid_from)
    )
    if valid_until is not None:
        overlapping = overlapping.filter(valid_from__lte=valid_until)
    if overlapping.exists():
        raise DelegationError(_("This person already has access in this period."))
    delegation = Delegation(
        employer_orgnr=employer.orgnr,
        grantee_national_id=grantee_national_id,
        grantee_name=grantee_name,
        grantee_email=grantee_email,
        may_grant_further=may_grant_further,
        granted_by=actor,
        valid_from=valid_from,
        valid_until=valid_until,
    )
    delegation.full_clean()
    delegation.save()
    audit_record(
        actor=actor,
        action=AuditEntry.Action.DELEGATION_GRANTED,
        subject=delegation,
        subject_label=grantee_name,
        organisation_orgnr=employer.orgnr,
        after=audit_fields(
            delegation,
            "grantee_national_id",
            "grantee_name",
            "grantee_email",
            "may_grant_further",
            "valid_from",
            "valid_until",
        ),
    )
    if grantee_email:
        outbox_record(task="orders.tell_grantee", kwargs={"delegation_id": delegation.pk})
    return delegation


@transaction.atomic
def delegation_revoke(
    *, actor: User | None, delegation: Delegation, reason: str = ""
) -> Delegation:
    """End a delegation now (`reason` when it is not a person's choice)."""
    delegation = Delegation.objects.select_for_update().get(pk=delegation.pk)
    if delegation.revoked_at is None:
        delegation.revoked_at = timezone.now()
        delegation.revoked_by = actor
        delegation.revocation_reason = reason
        delegation.save(update_fields=["revoked_at", "revoked_by", "revocation_reason"])
        audit_record(
            actor=actor,
            action=(
                AuditEntry.Action.DELEGATION_ENDED
                if reason == Delegation.RevocationReason.UNCONFIRMED
                else AuditEntry.Action.DELEGATION_REVOKED
            ),
            subject=delegation,
            subject_label=delegation.grantee_name,
            organisation_orgnr=delegation.employer_orgnr,
            before={"revoked_at": None},
            after=audit_fields(delegation, "revoked_at", "revocation_reason"),
        )
    return delegation


@transaction.atomic
def delegation_confirm(*, actor: User, delegation: Delegation) -> Delegation:
    """A current key-role holder vouches for a flagged grant: the flag is cleared."""
    delegation = Delegation.objects.select_for_update().get(pk=delegation.pk)
    if delegation.revoked_at is not None:
        raise DelegationError(_("This access has already ended."))
    if delegation.flagged_at is None:
        return delegation
    before = audit_fields(delegation, "flagged_at", "confirmed_at")
    delegation.flagged_at = None
    delegation.confirmed_at = timezone.now()
    delegation.confirmed_by = actor
    delegation.save(update_fields=["flagged_at", "confirmed_at", "confirmed_by"])
    audit_record(
        actor=actor,
        action=AuditEntry.Action.DELEGATION_CONFIRMED,
        subject=delegation,
        subject_label=delegation.grantee_name,
        organisation_orgnr=delegation.employer_orgnr,
        before=before,
        after=audit_fields(delegation, "flagged_at", "confirmed_at"),
    )
    return delegation


@dataclass
class DelegationReview:
    """What one nightly review did."""

    flagged: int = 0
    ended: int = 0
    organisations_skipped: int = 0


def delegations_review(
    *, now: datetime.datetime | None = None, orgnrs: Collection[str] | None = None
) -> DelegationReview:
    """Flag the grants whose grantor no longer holds a key role, ask the organisation's
    key-role holders to confirm them, and end the flagged grants nobody confirmed in time.
    An organisation whose roles cannot be read today is left as it is. With orgnrs (the
    change feed's organisations) only their grants are looked at for flagging."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    review = DelegationReview()
    deadline = now - datetime.timedelta(days=settings.DELEGATION_CONFIRM_DAYS)
    for delegation in Delegation.objects.filter(
        _in_force(today), flagged_at__isnull=False, flagged_at__lte=deadline
    ).order_by("pk"):
        delegation_revoke(
            actor=None, delegation=delegation, reason=Delegation.RevocationReason.UNCONFIRMED
        )
        review.ended += 1
    unflagged = (
        Delegation.objects.filter(_in_force(today), flagged_at__isnull=True)
        .select_related("granted_by", "confirmed_by")
        .order_by("pk")
    )
    if orgnrs is not None:
        unflagged = unflagged.filter(employer_orgnr__in=list(orgnrs))
    by_organisation: dict[str, list[Delegation]] = defaultdict(list)
    for delegation in unflagged:
        by_organisation[delegation.employer_orgnr].append(delegation)
    for orgnr, delegations in by_organisation.items():
        try:
            holders = registry_selectors.key_role_national_ids(orgnr=orgnr)
        except RegisterUnavailable as error:
            logger.warning("Delegation review of %s skipped: %s", orgnr, error)
            review.organisations_skipped += 1
            continue
        flagged = [
            delegation
            for delegation in delegations
            if not _answered_for(delegation, orgnr=orgnr, holders=holders, today=today)
        ]
        if flagged:
            review.flagged += _delegations_flag(
                orgnr=orgnr, delegations=flagged, holders=holders, now=now
            )
    return review


def _answered_for(
    delegation: Delegation, *, orgnr: str, holders: set[str], today: datetime.date
) -> bool:
    """Whether the grant leads back to someone who holds a key role today.

    The person answering for it (whoever confirmed it, else whoever gave it) must hold a key
    role, or hold an unflagged grant in force that lets them give further and that itself
    leads back to a key-role holder. Followed to the top, so a chain ends with its head and
    two delegates cannot keep each other's access alive by granting to each other.
    """
    seen: set[int] = set()
    current: Delegation | None = delegation
    while current is not None and current.pk not in seen:
        seen.add(current.pk)
        answering = current.confirmed_by or current.granted_by
        national_id = answering.national_id
        if not national_id:
            return False
        if national_id in holders:
            return True
        current = (
            Delegation.objects.filter(
                _in_force(today),
                employer_orgnr=orgnr,
                grantee_national_id=national_id,
                may_grant_further=True,
                flagged_at__isnull=True,
            )
            .exclude(pk__in=seen)
            .select_related("granted_by", "confirmed_by")
            .order_by("pk")
            .first()
        )
    return False


@transaction.atomic
def _delegations_flag(
    *, orgnr: str, delegations: list[Delegation], holders: set[str], now: datetime.datetime
) -> int:
    """Flag the grants and ask the key-role holders (by mail, after commit) to confirm them."""
    flagged_ids = []
    for delegation in Delegation.objects.select_for_update().filter(
        pk__in=[d.pk for d in delegations], flagged_at__isnull=True, revoked_at__isnull=True
    ):
        delegation.flagged_at = now
        delegation.save(update_fields=["flagged_at"])
        audit_record(
            actor=None,
            action=AuditEntry.Action.DELEGATION_FLAGGED,
            subject=delegation,
            subject_label=delegation.grantee_name,
            organisation_orgnr=orgnr,
            before={"flagged_at": None},
            after=audit_fields(delegation, "flagged_at"),
        )
        flagged_ids.append(delegation.pk)
    if flagged_ids:
        outbox_record(
            task="orders.ask_key_role_holders",
            kwargs={
                "orgnr": orgnr,
                "delegation_ids": flagged_ids,
                "national_ids": sorted(holders),
            },
        )
    return len(flagged_ids)


def grantee_told(*, delegation_id: int) -> bool:
    """Tell the grantee of their access: to their confirmed address when they use the portal
    and have one, else to the address the grant names, in the granter's language."""
    delegation = Delegation.objects.select_related("granted_by").filter(pk=delegation_id).first()
    if delegation is None or delegation.revoked_at is not None:
        return False
    granter = delegation.granted_by
    employer_name = _employer_name(delegation.employer_orgnr)
    context = {
        "name": delegation.grantee_name,
        "granter": granter.full_name,
        "employer": employer_name,
        "delegation": delegation,
        "url": _url("orders:employer", orgnr=delegation.employer_orgnr),
    }
    grantee = (
        User.objects.filter(
            national_id=delegation.grantee_national_id,
            is_active=True,
            email_confirmed_at__isnull=False,
        )
        .exclude(email="")
        .first()
    )
    if grantee is not None and grantee.confirmed_email:
        return mail_person(
            user=grantee, template_prefix="orders/email/delegation_granted", context=context
        )
    if not delegation.grantee_email:
        return False
    with translation.override(granter.language):
        subject = render_to_string("orders/email/delegation_granted_subject.txt", context)
        body = render_to_string("orders/email/delegation_granted_body.txt", context)
    EmailMessage(
        subject=" ".join(subject.split()),
        body=str(body),
        to=[delegation.grantee_email],
        reply_to=[granter.confirmed_email] if granter.confirmed_email else None,
    ).send()
    return True


def key_role_holders_asked(
    *, orgnr: str, delegation_ids: list[int], national_ids: list[str]
) -> int:
    """Ask each key-role holder with a portal account and a confirmed address to confirm or
    remove the flagged grants; the number of people mailed."""
    delegations = list(
        Delegation.objects.filter(
            pk__in=delegation_ids, flagged_at__isnull=False, revoked_at__isnull=True
        )
        .select_related("granted_by")
        .order_by("grantee_name")
    )
    if not delegations:
        return 0
    employer_name = _employer_name(orgnr)
    deadline = max(d.flagged_at for d in delegations if d.flagged_at) + datetime.timedelta(
        days=settings.DELEGATION_CONFIRM_DAYS
    )
    grants = [
        {
            "name": delegation.grantee_name,
            "granter": delegation.granted_by.full_name,
            "url": _url("orders:delegation_confirm", orgnr=orgnr, delegation_id=delegation.pk),
        }
        for delegation in delegations
    ]
    mailed = 0
    for user in (
        User.objects.filter(
            national_id__in=national_ids, is_active=True, email_confirmed_at__isnull=False
        )
        .exclude(email="")
        .order_by("pk")
    ):
        if mail_person(
            user=user,
            template_prefix="orders/email/delegations_flagged",
            context={"employer": employer_name, "grants": grants, "deadline": deadline},
        ):
            mailed += 1
    return mailed


def _employer_name(orgnr: str) -> str:
    try:
        unit = registry_selectors.organisation_get(orgnr=orgnr)
    except RegisterUnavailable:
        unit = None
    return unit.name if unit is not None else orgnr
