"""The employee uploads their own photo and ID document through a personal link.

The orderer may not have the employee's photo at hand (the employee is on a site, abroad, or
only has a phone). Instead of uploading, they send the employee a link, by e-mail or as a link
to copy into an SMS. The link needs no login, so the token in it is the only key: 32 random
bytes, kept only as its SHA-256 (a leaked database opens no upload page). A link works until
EMPLOYEE_UPLOAD_LINK_DAYS have passed, until both files are in, or until a new link replaces it.
The order line waits in AWAITING_FILES meanwhile, and goes to the register check exactly like a
line whose files the orderer uploaded once both are in.
"""

from __future__ import annotations

import datetime
import enum
import hashlib
import secrets
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from hmsportal import ratelimit
from hmsportal.audit import audit_fields, audit_record
from hmsportal.mail import mail_person
from hmsportal.models import AuditEntry, User
from hmsportal.outbox import outbox_record
from orders.models import EmployeeUploadLink, OrderLine

TOKEN_BYTES = 32
# token_urlsafe(32) is 43 characters; anything much longer is not one of ours and is refused
# before it costs a hash and a query.
MAX_TOKEN_LENGTH = 64
# New links an orderer may make for one order line a minute: each one may send an e-mail,
# and the form must not become a way to flood someone's mailbox.
LINKS_PER_LINE_PER_MINUTE = 3


class LinkProblem(enum.Enum):
    """Why an upload link opens nothing."""

    UNKNOWN = "unknown"  # altered, cut short, or never made
    EXPIRED = "expired"
    USED = "used"  # both files are in
    REPLACED = "replaced"  # the orderer has made a new link since


class UploadLinkRefused(Exception):
    """The upload link does not work; nothing was changed."""

    def __init__(self, problem: LinkProblem) -> None:
        super().__init__(problem.value)
        self.problem = problem


class NotAwaitingFiles(ValueError):
    """The order line has its files already: a link for it would open nothing."""


class TooManyLinks(Exception):
    """Many new links have been made for the order line in a short time."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"retry after {retry_after} s")
        self.retry_after = retry_after


@dataclass(frozen=True)
class IssuedUploadLink:
    """A link just made: the row, and the address with the token, known only now."""

    link: EmployeeUploadLink
    url: str


def upload_token_hash(token: str) -> str:
    """What is stored of a token: its SHA-256, in hex."""
    return hashlib.sha256(token.encode()).hexdigest()


def upload_link_url(*, token: str) -> str:
    """The absolute address of the upload page (it is opened on the employee's phone)."""
    return settings.PORTAL_BASE_URL + reverse("employee_upload:upload", kwargs={"token": token})


@transaction.atomic
def upload_link_issue(*, line: OrderLine, actor: User, email: str = "") -> IssuedUploadLink:
    """Make a new upload link for a line waiting for files, replacing a live one.

    With an e-mail address, the link is mailed to it once the transaction commits.
    """
    line = OrderLine.objects.select_for_update().get(pk=line.pk)
    if line.state != OrderLine.State.AWAITING_FILES:
        raise NotAwaitingFiles(f"order line {line.pk} is {line.state}")
    now = timezone.now()
    line.upload_links.filter(used_at__isnull=True, replaced_at__isnull=True).update(replaced_at=now)
    token = secrets.token_urlsafe(TOKEN_BYTES)
    link = EmployeeUploadLink(
        order_line=line,
        token_hash=upload_token_hash(token),
        email=email,
        created_by=actor,
        created_at=now,
        expires_at=now + datetime.timedelta(days=settings.EMPLOYEE_UPLOAD_LINK_DAYS),
    )
    link.full_clean()
    link.save()
    audit_record(
        actor=actor,
        action=AuditEntry.Action.UPLOAD_LINK_ISSUED,
        subject=line,
        subject_label=line.full_name,
        organisation_orgnr=line.employer_orgnr,
        after={"link": link.pk, "email": email, "expires_at": link.expires_at},
    )
    if email:
        # The token travels to the worker in the task's arguments: only its hash is stored
        # on the link, so the task could not build the link otherwise. The task checks it
        # against the row; the outbox deletes its copy a few days after dispatch.
        outbox_record(
            task="orders.send_employee_upload_link", kwargs={"link_id": link.pk, "token": token}
        )
    return IssuedUploadLink(link=link, url=upload_link_url(token=token))


@transaction.atomic
def upload_link_resend(*, line: OrderLine, actor: User, email: str = "") -> IssuedUploadLink:
    """Make a new link for the line and send it again; the old one stops working.

    Raises TooManyLinks, changing nothing, when many links were made for the line this minute.
    """
    decision = ratelimit.hit(
        scope="employee-upload-link",
        budget=ratelimit.Budget(identity=f"line:{line.pk}", per_minute=LINKS_PER_LINE_PER_MINUTE),
    )
    if not decision.allowed:
        raise TooManyLinks(decision.retry_after)
    return upload_link_issue(line=line, actor=actor, email=email)


def _link_check(*, token: str, lock: bool) -> EmployeeUploadLink:
    if not token or len(token) > MAX_TOKEN_LENGTH or not token.isascii():
        raise UploadLinkRefused(LinkProblem.UNKNOWN)
    links = EmployeeUploadLink.objects.select_related("order_line__order", "order_line__card_type")
    if lock:
        links = links.select_for_update()
    link = links.filter(token_hash=upload_token_hash(token)).first()
    if link is None:
        raise UploadLinkRefused(LinkProblem.UNKNOWN)
    if link.replaced_at is not None:
        raise UploadLinkRefused(LinkProblem.REPLACED)
    if link.used_at is not None or link.order_line.state != OrderLine.State.AWAITING_FILES:
        raise UploadLinkRefused(LinkProblem.USED)
    if link.expires_at <= timezone.now():
        raise UploadLinkRefused(LinkProblem.EXPIRED)
    return link


def upload_link_open(*, token: str) -> EmployeeUploadLink:
    """The live link behind a token, with its order line; UploadLinkRefused when none."""
    return _link_check(token=token, lock=False)


@transaction.atomic
def employee_files_receive(
    *,
    token: str,
    photo: ContentFile[bytes] | None,
    id_document: UploadedFile | None,
) -> OrderLine:
    """Store what the employee uploaded through their link (one file or both).

    Once the line has both files the link is used up and the line goes to the register check,
    as if the orderer had uploaded them. Raises UploadLinkRefused when the link does not work.
    """
    from orders.services import id_document_extension

    if photo is None and id_document is None:
        raise ValueError("no file to receive")
    link = _link_check(token=token, lock=True)
    line = OrderLine.objects.select_for_update().get(pk=link.order_line_id)
    if line.state != OrderLine.State.AWAITING_FILES:
        raise UploadLinkRefused(LinkProblem.USED)
    before = audit_fields(line, "photo", "id_document", "state")
    superseded: list[str] = []
    stored: list[str] = []
    # Files are not part of the transaction: if the order line is not saved, delete them.
    try:
        # Stored names say nothing about the person (upload names often carry names or numbers).
        if photo is not None:
            if line.photo:
                superseded.append(line.photo.name)
            line.photo.save(f"{uuid.uuid4().hex}.jpg", photo, save=False)
            stored.append(line.photo.name)
        if id_document is not None:
            if line.id_document:
                superseded.append(line.id_document.name)
            line.id_document.save(
                f"{uuid.uuid4().hex}{id_document_extension(id_document) or ''}",
                id_document,
                save=False,
            )
            stored.append(line.id_document.name)
        complete = bool(line.photo and line.id_document)
        if complete:
            # The employer's duty to check the identity stays theirs (DOMAIN.md): the orderer
            # looks at the ID the employee sent before the registers are asked.
            line.state = OrderLine.State.AWAITING_ID_CHECK
        line.full_clean()
        line.save(update_fields=["photo", "id_document", "state"])
    except BaseException:
        for name in stored:
            line.photo.storage.delete(name)
        raise
    # The employee is no portal user: no actor; the files are recorded by their stored names.
    audit_record(
        actor=None,
        action=AuditEntry.Action.UPLOAD_FILES_RECEIVED,
        subject=line,
        subject_label=line.full_name,
        organisation_orgnr=line.employer_orgnr,
        before=before,
        after=audit_fields(line, "photo", "id_document", "state"),
    )
    storage = line.photo.storage
    transaction.on_commit(lambda: [storage.delete(name) for name in superseded], robust=True)
    if complete:
        link.used_at = timezone.now()
        link.save(update_fields=["used_at"])
        outbox_record(task="orders.tell_orderer_files_received", kwargs={"line_id": line.pk})
    return line


class IdentityNotAwaited(Exception):
    """The line is not waiting for the orderer to check the employee's ID."""


@transaction.atomic
def order_line_identity_confirm(*, line: OrderLine, actor: User) -> OrderLine:
    """The orderer has checked the ID the employee uploaded: on to the register check."""
    from orders.services import order_line_check_queue

    line = OrderLine.objects.select_for_update().get(pk=line.pk)
    if line.state != OrderLine.State.AWAITING_ID_CHECK:
        raise IdentityNotAwaited(f"line {line.pk} is {line.state}")
    line.state = OrderLine.State.SUBMITTED
    line.save(update_fields=["state"])
    audit_record(
        actor=actor,
        action=AuditEntry.Action.IDENTITY_CHECKED,
        subject=line,
        organisation_orgnr=line.employer_orgnr,
        before={"state": OrderLine.State.AWAITING_ID_CHECK.value},
        after={"state": line.state},
    )
    order_line_check_queue(line=line)
    return line


def orderer_told_files_received(*, line_id: int) -> bool:
    """E-mail the orderer: the employee's files are in, and the ID waits for their check."""
    line = OrderLine.objects.select_related("order__ordered_by").get(pk=line_id)
    if line.state != OrderLine.State.AWAITING_ID_CHECK:
        return False
    return mail_person(
        user=line.order.ordered_by,
        template_prefix="orders/email/employee_files_received",
        context={
            "line": line,
            "order_url": settings.PORTAL_BASE_URL
            + reverse(
                "orders:order_detail",
                kwargs={"orgnr": line.order.employer_orgnr, "order_id": line.order_id},
            ),
        },
    )


def employee_told_upload_link(*, link_id: int, token: str) -> bool:
    """E-mail the employee their upload link; False when it no longer works or has no address.

    The employee is not a portal user and has no language of their own here: the mail is
    written in the orderer's language (they chose to write to this person), and replies go to
    the orderer's confirmed address. It names the employee, the employer and the card type,
    never an identity number.
    """
    link = (
        EmployeeUploadLink.objects.select_related(
            "order_line__order__ordered_by", "order_line__card_type", "created_by"
        )
        .filter(pk=link_id)
        .first()
    )
    if link is None or not link.email or link.token_hash != upload_token_hash(token):
        return False
    try:
        _link_check(token=token, lock=False)
    except UploadLinkRefused:
        return False
    orderer = link.created_by
    line = link.order_line
    context = {
        "name": line.full_name,
        "employer": line.order.employer_name,
        "card_type": line.card_type.name(orderer.language),
        "url": upload_link_url(token=token),
        "expires_at": link.expires_at,
    }
    with translation.override(orderer.language):
        subject = render_to_string("orders/email/employee_upload_link_subject.txt", context)
        body = render_to_string("orders/email/employee_upload_link_body.txt", context)
    EmailMessage(
        subject=" ".join(subject.split()),
        body=str(body),
        to=[link.email],
        reply_to=[orderer.confirmed_email] if orderer.confirmed_email else None,
    ).send()
    return True
