"""Contact details: the e-mail address (confirmed by a link sent to it), mobile and language.

Mail about orders and access goes only to a confirmed address (`User.confirmed_email`). A new
address waits as `pending_email` until the person follows the link; the link is signed
(django.core.signing, with a salt of its own) and names the user and the address, so it
confirms nothing once the person has given another address, and it expires after
EMAIL_CONFIRMATION_MAX_AGE_DAYS.
"""

from __future__ import annotations

import datetime
import enum
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.base_user import BaseUserManager
from django.core import signing
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from hmsportal import ratelimit
from hmsportal.audit import audit_fields, audit_record
from hmsportal.models import AuditEntry, User
from hmsportal.outbox import outbox_record

CONFIRMATION_SALT = "hmsportal.contact.email-confirmation"
# Links a person may have sent a minute: the form must not become a way to flood someone
# else's mailbox.
CONFIRMATION_MAILS_PER_MINUTE = 3


class TooManyLinks(Exception):
    """The person has asked for many confirmation links in a short time."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"retry after {retry_after} s")
        self.retry_after = retry_after


def email_normalise(address: str) -> str:
    """The address as stored and compared: no surrounding space, the domain in lower case."""
    return BaseUserManager.normalize_email(address.strip())


def email_confirmation_token(*, user: User, email: str) -> str:
    """The signed, timestamped token in the confirmation link for this user and address."""
    return signing.dumps({"user": user.pk, "email": email}, salt=CONFIRMATION_SALT)


def email_confirmation_url(*, token: str) -> str:
    """The absolute link mailed to the address (it may be opened on another device)."""
    return settings.PORTAL_BASE_URL + reverse("contact_confirm", kwargs={"token": token})


class LinkProblem(enum.Enum):
    """Why a confirmation link confirms nothing."""

    INVALID = "invalid"  # altered, cut short, or for a user who no longer exists
    EXPIRED = "expired"
    USED = "used"  # the address it names is confirmed already
    REPLACED = "replaced"  # the person has given another address since it was sent


class LinkRefused(Exception):
    """The confirmation link cannot confirm anything; nothing was changed."""

    def __init__(self, problem: LinkProblem) -> None:
        super().__init__(problem.value)
        self.problem = problem


@dataclass(frozen=True)
class ConfirmationLink:
    """A confirmation link that still confirms: whose address, and which."""

    user: User
    email: str


def _confirmation_link_check(*, token: str, lock: bool) -> ConfirmationLink:
    max_age = datetime.timedelta(days=settings.EMAIL_CONFIRMATION_MAX_AGE_DAYS)
    try:
        signed = signing.loads(token, salt=CONFIRMATION_SALT, max_age=max_age)
    except signing.SignatureExpired:
        raise LinkRefused(LinkProblem.EXPIRED) from None
    except signing.BadSignature:
        raise LinkRefused(LinkProblem.INVALID) from None
    user_id, email = (
        (signed.get("user"), signed.get("email")) if isinstance(signed, dict) else (None, None)
    )
    if not isinstance(user_id, int) or not isinstance(email, str):
        raise LinkRefused(LinkProblem.INVALID)
    users = User.objects.select_for_update() if lock else User.objects.all()
    user = users.filter(pk=user_id).first()
    if user is None:
        raise LinkRefused(LinkProblem.INVALID)
    if user.pending_email == email:
        return ConfirmationLink(user=user, email=email)
    if user.confirmed_email == email:
        raise LinkRefused(LinkProblem.USED)
    raise LinkRefused(LinkProblem.REPLACED)


def confirmation_link_read(*, token: str) -> ConfirmationLink:
    """What a confirmation link would confirm; LinkRefused when it confirms nothing."""
    return _confirmation_link_check(token=token, lock=False)


@transaction.atomic
def email_confirm(*, token: str) -> User:
    """Make the address the link names the person's confirmed address; LinkRefused if not."""
    link = _confirmation_link_check(token=token, lock=True)
    user = link.user
    before = audit_fields(user, "email", "pending_email")
    user.email = link.email
    user.email_confirmed_at = timezone.now()
    user.pending_email = ""
    _save(user, ["email", "email_confirmed_at", "pending_email"])
    audit_record(
        actor=user,
        action=AuditEntry.Action.EMAIL_CONFIRMED,
        subject=user,
        before=before,
        after=audit_fields(user, "email", "pending_email"),
    )
    return user


@transaction.atomic
def contact_details_update(*, user: User, email: str, mobile: str, language: str) -> User:
    """Save the person's contact details; a new address waits for its link to be followed.

    Giving the address that is confirmed already withdraws a pending one; any other address
    becomes pending and a link is sent to it (again, if it was pending before). Raises
    TooManyLinks, saving nothing, when the person has asked for many links this minute.
    """
    user = User.objects.select_for_update().get(pk=user.pk)
    email = email_normalise(email)
    if email not in (user.confirmed_email, ""):
        _confirmation_budget_draw(user)
    before = audit_fields(user, "pending_email", "mobile", "language")
    user.mobile = mobile
    user.language = language
    user.pending_email = "" if email == user.confirmed_email else email
    _save(user, ["mobile", "language", "pending_email"])
    audit_record(
        actor=user,
        action=AuditEntry.Action.CONTACT_CHANGED,
        subject=user,
        before=before,
        after=audit_fields(user, "pending_email", "mobile", "language"),
    )
    if user.pending_email:
        _confirmation_send_record(user)
    return user


@transaction.atomic
def email_confirmation_resend(*, user: User) -> User:
    """Send the link for the pending address again (the mail may have been lost or expired).

    Raises TooManyLinks when the person has asked for many links this minute.
    """
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.pending_email:
        _confirmation_budget_draw(user)
        _confirmation_send_record(user)
    return user


@transaction.atomic
def user_language_set(*, user: User, language: str) -> User:
    """Remember the language the person chose: mail to them is written in it."""
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.language != language:
        before = {"language": user.language}
        user.language = language
        _save(user, ["language"])
        audit_record(
            actor=user,
            action=AuditEntry.Action.CONTACT_CHANGED,
            subject=user,
            before=before,
            after={"language": language},
        )
    return user


def email_confirmation_send(*, user_id: int) -> bool:
    """Mail the link for the user's pending address, if one still waits (task body)."""
    user = User.objects.get(pk=user_id)
    if not user.pending_email:
        return False
    from hmsportal.mail import mail_person

    token = email_confirmation_token(user=user, email=user.pending_email)
    return mail_person(
        user=user,
        template_prefix="hmsportal/email/email_confirmation",
        context={
            "email": user.pending_email,
            "url": email_confirmation_url(token=token),
            "days": settings.EMAIL_CONFIRMATION_MAX_AGE_DAYS,
        },
        to=user.pending_email,
    )


def _confirmation_budget_draw(user: User) -> None:
    decision = ratelimit.hit(
        scope="email-confirmation",
        budget=ratelimit.Budget(
            identity=f"user:{user.pk}", per_minute=CONFIRMATION_MAILS_PER_MINUTE
        ),
    )
    if not decision.allowed:
        raise TooManyLinks(decision.retry_after)


def _confirmation_send_record(user: User) -> None:
    outbox_record(task="hmsportal.send_email_confirmation", kwargs={"user_id": user.pk})


def _save(user: User, fields: list[str]) -> None:
    # Only the changed fields are validated: people logged in through ID-porten have no
    # password, which full_clean() would otherwise call missing.
    user.full_clean(exclude=[f.name for f in User._meta.fields if f.name not in fields])
    user.save(update_fields=fields)
