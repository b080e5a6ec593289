"""Writes of the ordering side: submitting orders and acting on register checks."""

from __future__ import annotations

import datetime
import logging
import uuid
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from cards import catalogue
from cards import selectors as card_selectors
from cards.models import Card, CardTransition, CardType
from cards.numbers import display
from cards.services import Holder, RevocationReason, card_issue, card_revoke
from hmsportal.audit import audit_fields, audit_record
from hmsportal.mail import mail_person
from hmsportal.models import AuditEntry, User
from hmsportal.outbox import outbox_record
from hmsportal.storage import read_document
from orders import employee_upload, selectors
from orders.billing import DeliveryAddress, delivery_fields, invoice_create

# Delegations live in orders.delegations; re-exported for the callers that know them here.
from orders.delegations import DelegationError as DelegationError
from orders.delegations import delegation_confirm as delegation_confirm
from orders.delegations import delegation_grant as delegation_grant
from orders.delegations import delegation_revoke as delegation_revoke
from orders.models import Order, OrderLine
from registry.facts import EmployeeListing, OrganisationFacts
from registry.rules import ALREADY_HAS_LIVE_CARD, Purpose, Reason, Verdict
from registry.services import register_check

logger = logging.getLogger(__name__)


# The kinds of ID document accepted, told by their first bytes (never by the upload's name,
# which the uploader chooses), and the extension each is stored with.
ID_DOCUMENT_KINDS = {
    b"%PDF-": ".pdf",
    b"\xff\xd8\xff": ".jpg",
    b"\x89PNG": ".png",
}


def id_document_extension(document: UploadedFile | ContentFile[bytes]) -> str | None:
    """The stored extension of an accepted ID document, or None if it is not one."""
    document.seek(0)
    head = document.read(8)
    document.seek(0)
    return next((ext for magic, ext in ID_DOCUMENT_KINDS.items() if head.startswith(magic)), None)


class OrderingClosed(Exception):
    """Ordering is closed now (a blackout window while the producer changes)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class AlreadyOrdered(Exception):
    """The person already has a live card of the type with the employer, or an open order.

    One card per person, employer and card type: a lost or stolen card is replaced from the
    card's own page, which revokes it first.
    """

    def __init__(self, *, card: Card | None, line: OrderLine | None) -> None:
        super().__init__("already has a live card or an open order of this type")
        self.card = card
        self.line = line


def already_ordered_check(
    *, national_id: str, employer_orgnr: str, card_type: CardType, renews: Card | None = None
) -> None:
    card = card_selectors.live_card_for(
        national_id=national_id, employer_orgnr=employer_orgnr, card_type=card_type
    )
    if renews is not None and card is not None and card.pk == renews.pk:
        # A renewal orders a second card beside the live one it renews (issue 10).
        card = None
    line = (
        None
        if card is not None
        else selectors.open_line_for(
            national_id=national_id, employer_orgnr=employer_orgnr, card_type=card_type
        )
    )
    if card is not None or line is not None:
        raise AlreadyOrdered(card=card, line=line)


@transaction.atomic
def order_submit(
    *,
    actor: User,
    employer: OrganisationFacts,
    employee: EmployeeListing,
    card_type: CardType,
    photo: ContentFile[bytes] | None = None,
    id_document: UploadedFile | None = None,
    employee_uploads: bool = False,
    employee_email: str | None = None,
    submission_token: str | None = None,
    delivery: DeliveryAddress | None = None,
) -> Order:
    """Place an order for one card; the register check runs once the order is committed.

    With employee_uploads the line instead waits for the employee to upload the photo and ID
    document through a personal link (orders/employee_upload.py), mailed to employee_email
    when one is given; the link's address is in the returned order's upload_links_issued.

    The same submission_token again (a double click, a reload, a retried request) returns the
    order it placed the first time instead of placing another. AlreadyOrdered when the person
    has a live card of the type with the employer, or an open order for one.
    """
    if submission_token:
        placed = selectors.order_for_submission(submission_token=submission_token, actor=actor)
        if placed is not None:
            placed.upload_links_issued = {}
            return placed
    now = timezone.now()
    blackout = catalogue.blackout_at(now)
    if blackout is not None:
        raise OrderingClosed(blackout.message(get_language()) or _("Ordering is closed right now."))
    national_id = employee.employment.national_id
    already_ordered_check(
        national_id=national_id, employer_orgnr=employer.orgnr, card_type=card_type
    )
    order = Order(
        employer_orgnr=employer.orgnr,
        employer_name=employer.name,
        ordered_by=actor,
        submission_token=submission_token or None,
        **delivery_fields(employer=employer, given=delivery),
    )
    order.full_clean()
    try:
        with transaction.atomic():
            order.save()
    except IntegrityError:
        # The same form sent twice at once: the other request placed the order.
        placed = selectors.order_for_submission(
            submission_token=submission_token or "", actor=actor
        )
        if placed is None:
            raise
        placed.upload_links_issued = {}
        return placed
    line, stored = order_line_add(
        order=order,
        card_type=card_type,
        national_id=employee.employment.national_id,
        first_name=employee.first_name,
        last_name=employee.last_name,
        workplace_orgnr=employee.employment.workplace_orgnr,
        photo=None if employee_uploads else photo,
        id_document=None if employee_uploads else id_document,
        day=timezone.localdate(now),
    )
    order.upload_links_issued = {}
    try:
        invoice_create(order=order, customer=employer)
    except BaseException:
        for storage, name in stored:
            storage.delete(name)
        raise
    order_line_placed(actor=actor, line=line, employee_email=employee_email)
    return order


def order_line_add(
    *,
    order: Order,
    card_type: CardType,
    national_id: str,
    first_name: str,
    last_name: str,
    workplace_orgnr: str,
    photo: ContentFile[bytes] | None,
    id_document: UploadedFile | ContentFile[bytes] | None,
    day: datetime.date,
    renews: Card | None = None,
) -> tuple[OrderLine, list[tuple[Any, str]]]:
    """Add one saved line to an order, with its files stored (encrypted), or with none when
    both are None: it then waits for the employee's upload link. Returns the line and the
    stored files, which the caller deletes if its transaction fails after this.

    A renewal (renews) may carry the old card's photo without an ID document: the identity
    was checked when the card it renews was ordered.

    Shared by order_submit (one card), the bulk order (orders/bulk.py) and renewals
    (orders/renewals.py).
    """
    line = OrderLine(
        order=order,
        employer_orgnr=order.employer_orgnr,
        card_type=card_type,
        price_incl_vat=catalogue.price_on(card_type, day),
        national_id=national_id,
        first_name=first_name,
        last_name=last_name,
        workplace_orgnr=workplace_orgnr,
        renews=renews,
    )
    stored: list[tuple[Any, str]] = []
    if photo is None and id_document is None:
        line.state = OrderLine.State.AWAITING_FILES
    else:
        if photo is None or (id_document is None and renews is None):
            raise ValueError("an order without an employee upload link needs a photo and ID")
        # Stored names say nothing about the person (upload names often carry names or numbers).
        line.photo.save(f"{uuid.uuid4().hex}.jpg", photo, save=False)
        stored.append((line.photo.storage, line.photo.name))
        if id_document is not None:
            line.id_document.save(
                f"{uuid.uuid4().hex}{id_document_extension(id_document) or ''}",
                id_document,
                save=False,
            )
            stored.append((line.id_document.storage, line.id_document.name))
    order_line_save(line, stored=stored)
    return line, stored


def order_line_placed(*, actor: User, line: OrderLine, employee_email: str | None) -> None:
    """What follows a placed (and invoiced) line: the audit entry, then either the employee's
    upload link or, once committed, the register check and the order confirmation."""
    order = line.order
    audit_record(
        actor=actor,
        action=AuditEntry.Action.ORDER_PLACED,
        subject=order,
        organisation_orgnr=order.employer_orgnr,
        after={
            "line": line.pk,
            "card_type": line.card_type.code,
            **audit_fields(line, "first_name", "last_name", "workplace_orgnr", "state"),
            **audit_fields(line, "price_incl_vat", "photo", "id_document"),
            **({"renews": line.renews.number} if line.renews is not None else {}),
        },
    )
    if not hasattr(order, "upload_links_issued"):
        order.upload_links_issued = {}
    if line.state == OrderLine.State.AWAITING_FILES:
        # The confirmation waits for the files: until then nothing shows the card is coming.
        issued = employee_upload.upload_link_issue(
            line=line, actor=actor, email=employee_email or ""
        )
        order.upload_links_issued[line.pk] = issued.url
        return
    order_line_check_queue(line=line)


def order_line_check_queue(*, line: OrderLine) -> None:
    """Record, with the order, the line's register check and then the order confirmation mail.

    Through the outbox (hmsportal/outbox.py): a broker that is down when the order is made
    must not turn a committed order into an error page, nor lose its check. The confirmation
    is sent once, whenever it is first asked for.
    """
    outbox_record(task="orders.check_order_line", kwargs={"line_id": line.pk})
    # Recorded after the check: run eagerly, the mail already knows the check's outcome.
    outbox_record(task="orders.tell_orderer_confirmed", kwargs={"order_id": line.order_id})


@transaction.atomic
def order_lines_awaiting_check_queue() -> int:
    """Record a register check for every line still waiting for one (the daily retry of lines
    Aa-registeret does not show yet), through the outbox: a broker down halfway through must
    not drop the rest, and the check is idempotent if a message comes twice. Returns how many."""
    line_ids = list(selectors.lines_awaiting_registration().values_list("pk", flat=True))
    for line_id in line_ids:
        outbox_record(task="orders.check_order_line", kwargs={"line_id": line_id})
    return len(line_ids)


def order_line_save(line: OrderLine, *, stored: list[tuple[Any, str]]) -> None:
    """Save a new order line; AlreadyOrdered when another order for the person won the race.

    Files are not part of the transaction: if the line is not saved, the stored ones go.
    """
    try:
        line.full_clean(validate_constraints=False)
        with transaction.atomic():
            line.save()
    except IntegrityError as error:
        for storage, name in stored:
            storage.delete(name)
        # Another order for the person was placed between the check and this one (asked of
        # the database, not of the error's text, which each database words its own way).
        other = selectors.open_line_for(
            national_id=line.national_id,
            employer_orgnr=line.employer_orgnr,
            card_type=line.card_type,
        )
        if other is not None:
            raise AlreadyOrdered(card=None, line=other) from error
        raise
    except BaseException:
        for storage, name in stored:
            storage.delete(name)
        raise


def order_line_check(*, line_id: int, today: datetime.date | None = None) -> OrderLine:
    """Ask the registers about an order line and issue its card, wait, or reject it.

    The lookups run outside the row lock (a register may be slow); the result is applied
    under the lock, and only if nobody else has decided the line meanwhile. RegisterUnavailable
    propagates so the task can retry: the line stays as it is, never lost. Idempotent: a
    line already decided is returned as it is, so a second delivery issues no second card.
    """
    today = today or timezone.localdate()
    line = OrderLine.objects.select_related("card_type", "order").get(pk=line_id)
    if line.state not in (OrderLine.State.SUBMITTED, OrderLine.State.AWAITING_REGISTRATION):
        return line
    verdict = register_check(
        national_id=line.national_id,
        orgnr=line.workplace_orgnr,
        requirements=catalogue.requirements_for(line.card_type),
        on=today,
        purpose=Purpose.ORDER,
    )
    with transaction.atomic():
        line = (
            # The line's row only: FOR UPDATE on the joined card type too would make any card
            # of the type inserted meanwhile (an import) wait at its COMMIT for this (its
            # foreign key's check locks the card type), and this card for that one: deadlock.
            OrderLine.objects.select_for_update(of=("self",))
            .select_related("card_type", "order")
            .get(pk=line_id)
        )
        if line.state not in (OrderLine.State.SUBMITTED, OrderLine.State.AWAITING_REGISTRATION):
            return line
        before = audit_fields(line, "state", "reason_codes", "card")
        line.checked_at = timezone.now()
        issued: Card | None = None
        if verdict.eligible and verdict.valid_until and verdict.employer:
            issued = _card_issue_unless_live(
                line,
                verdict,
                employer=verdict.employer,
                valid_until=verdict.valid_until,
                today=today,
            )
        if issued is not None:
            line.card = issued
            line.state = OrderLine.State.APPROVED
            line.reason_codes = []
        elif verdict.eligible and verdict.valid_until and verdict.employer:
            # The person got a live card of the type with the employer while this line waited
            # (an import of the previous producer's cards, say): one card per person.
            line.state = OrderLine.State.REJECTED
            line.reason_codes = [ALREADY_HAS_LIVE_CARD]
            outbox_record(task="orders.tell_employer_rejected", kwargs={"line_id": line_id})
        elif verdict.awaiting_registration and not _waited_too_long(line, today):
            if line.awaiting_since is None:
                line.awaiting_since = today
                outbox_record(task="orders.tell_employer_awaiting", kwargs={"line_id": line_id})
            line.state = OrderLine.State.AWAITING_REGISTRATION
            line.reason_codes = verdict.reason_codes
        else:
            line.state = OrderLine.State.REJECTED
            line.reason_codes = verdict.reason_codes
            outbox_record(task="orders.tell_employer_rejected", kwargs={"line_id": line_id})
        line.save(update_fields=["state", "reason_codes", "awaiting_since", "checked_at", "card"])
        # Nothing is recorded when a daily retry finds the line waiting just as before.
        audit_record(
            actor=None,
            action=f"order_line.{line.state}",
            subject=line,
            subject_label=line.full_name,
            organisation_orgnr=line.employer_orgnr,
            before=before,
            after={
                **audit_fields(line, "state", "reason_codes"),
                "card": line.card.number if line.card else None,
            },
        )
    return line


@transaction.atomic
def order_line_reject(*, line: OrderLine, reason_codes: list[str], actor: User | None) -> OrderLine:
    """Reject an open order line for a reason decided outside its own register check (the
    card it renews ended with the employment), written like the check's rejection: under the
    row lock, with an audit entry saying who and why, and the mail to the orderer through the
    outbox. A line decided meanwhile is returned as it is.

    actor: the person who ended it, or None for the portal itself (the nightly re-check). The
    orderer is not mailed about what they did themselves.
    """
    line = OrderLine.objects.select_for_update(of=("self",)).select_related("order").get(pk=line.pk)
    if line.state not in OrderLine.OPEN_STATES:
        return line
    before = audit_fields(line, "state", "reason_codes")
    line.state = OrderLine.State.REJECTED
    line.reason_codes = list(reason_codes)
    line.save(update_fields=["state", "reason_codes"])
    audit_record(
        actor=actor,
        action=AuditEntry.Action.LINE_REJECTED,
        subject=line,
        subject_label=line.full_name,
        organisation_orgnr=line.employer_orgnr,
        before=before,
        after=audit_fields(line, "state", "reason_codes"),
    )
    if actor is None or actor.pk != line.order.ordered_by_id:
        outbox_record(task="orders.tell_employer_rejected", kwargs={"line_id": line.pk})
    return line


def order_lines_renewing_reject(
    *, card_ids: list[int], reason_codes: list[str], actor: User | None
) -> int:
    """Reject the open order lines that renew any of these cards (their employment ended: the
    register check would refuse the renewal anyway). Returns how many were rejected."""
    rejected = 0
    for line in OrderLine.objects.filter(
        renews_id__in=card_ids, state__in=OrderLine.OPEN_STATES
    ).order_by("pk"):
        line = order_line_reject(line=line, reason_codes=reason_codes, actor=actor)
        rejected += line.state == OrderLine.State.REJECTED
    return rejected


def _card_issue_unless_live(
    line: OrderLine,
    verdict: Verdict,
    *,
    employer: OrganisationFacts,
    valid_until: datetime.date,
    today: datetime.date,
) -> Card | None:
    """Issue the line's card, or None when the person has a live card of the type with the
    employer after all: it was made after this line's check began (the one-live-card rule,
    cards_one_live_card_per_person, refuses the second). Runs in a savepoint, so the line can
    still be rejected in the caller's transaction."""
    person = verdict.person
    try:
        with transaction.atomic():
            return card_issue(
                card_type=line.card_type,
                holder=Holder(
                    national_id=line.national_id,
                    first_name=person.first_name if person else line.first_name,
                    last_name=person.last_name if person else line.last_name,
                    birth_date=person.birth_date if person else None,
                ),
                workplace_orgnr=line.workplace_orgnr,
                employer_orgnr=employer.orgnr,
                employer_name=employer.name,
                valid_until=valid_until,
                photo=read_document(line.photo),
                actor=line.order.ordered_by,
                issued_on=today,
                valid_from=verdict.valid_from,
                renews=line.renews,
            )
    except (IntegrityError, ValidationError):
        # The rule is checked twice: by full_clean when the other card is already committed
        # (ValidationError), by the index when it commits while this one is inserted
        # (IntegrityError). Asked of the database, not of the error's text: any other
        # violation is not this race and propagates.
        live = card_selectors.live_card_for(
            national_id=line.national_id,
            employer_orgnr=employer.orgnr,
            card_type=line.card_type,
        )
        if live is None:
            raise
        logger.warning("Order line %s: the person got a live card meanwhile (%s)", line.pk, live.pk)
        return None


def _waited_too_long(line: OrderLine, today: datetime.date) -> bool:
    if line.awaiting_since is None:
        return False
    return (today - line.awaiting_since).days >= settings.ORDER_AWAIT_REGISTRATION_DAYS


def _order_url(line: OrderLine) -> str:
    return settings.PORTAL_BASE_URL + reverse(
        "orders:order_detail",
        kwargs={"orgnr": line.order.employer_orgnr, "order_id": line.order_id},
    )


def employer_told_awaiting(*, line_id: int) -> None:
    """E-mail the person who ordered: Aa-registeret does not show the employment yet.

    Only to a confirmed address, in the orderer's language (hmsportal.mail).
    """
    line = OrderLine.objects.select_related("order__ordered_by").get(pk=line_id)
    mail_person(
        user=line.order.ordered_by,
        template_prefix="orders/email/order_line_awaiting",
        context={
            "line": line,
            "days": settings.ORDER_AWAIT_REGISTRATION_DAYS,
            "order_url": _order_url(line),
        },
    )


def employer_told_rejected(*, line_id: int) -> None:
    """E-mail the person who ordered: the order line was rejected, and why.

    Only to a confirmed address, in the orderer's language (hmsportal.mail).
    """
    line = OrderLine.objects.select_related("order__ordered_by").get(pk=line_id)
    mail_person(
        user=line.order.ordered_by,
        template_prefix="orders/email/order_line_rejected",
        context={
            "line": line,
            # Each reason gives its text in the language active while the mail is rendered.
            "reasons": [Reason(code) for code in line.reason_codes],
            "order_url": _order_url(line),
        },
    )


# --- The cardholder reports their own card ---------------------------------------------

# What a holder may report about their own card: both stop the card at once, and only the
# employer can order the replacement (DOMAIN.md, "Who orders").
HOLDER_REPORT_REASONS = (RevocationReason.LOST, RevocationReason.STOLEN)


class CardNotReportable(ValueError):
    """The card is no longer live (already revoked, or expired): there is nothing to stop."""


@transaction.atomic
def card_report_lost_by_holder(*, actor: User, card: Card, reason: str) -> Card:
    """The holder reports their own card lost or stolen: it is revoked at once, and the person
    who ordered it is told by e-mail once the revocation is committed."""
    if reason not in HOLDER_REPORT_REASONS:
        raise ValueError(f"a holder cannot report a card as {reason!r}")
    if not actor.national_id or actor.national_id != card.holder_national_id:
        raise ValueError("only the card's holder can report it lost or stolen")
    locked = Card.objects.select_for_update().get(pk=card.pk)
    if locked.state not in Card.CHECKED_STATES:
        raise CardNotReportable(f"a {locked.state} card cannot be reported")
    revoked = card_revoke(card=locked, reason=reason, actor=actor)

    outbox_record(task="orders.tell_employer_card_reported", kwargs={"card_id": revoked.pk})
    return revoked


def employer_told_card_reported(*, card_id: int) -> None:
    """E-mail the person who ordered the card: its holder reported it lost or stolen.

    Only to a confirmed address, in the orderer's language (hmsportal.mail). Imported cards
    have no order line, and so nobody who ordered them: no e-mail.
    """
    card = Card.objects.select_related("card_type", "replaces").get(pk=card_id)
    line = selectors.order_line_behind(card)
    if line is None:
        return
    revocation = (
        CardTransition.objects.filter(card=card, to_state=Card.State.REVOKED)
        .order_by("-at", "-pk")
        .first()
    )
    mail_person(
        user=line.order.ordered_by,
        template_prefix="orders/email/card_reported",
        context={
            "card": card,
            "number": display(card.number),
            "card_type_name": card.card_type.name(line.order.ordered_by.language),
            "stolen": revocation is not None and revocation.reason == RevocationReason.STOLEN,
            "card_url": settings.PORTAL_BASE_URL
            + reverse(
                "orders:card_detail",
                kwargs={"orgnr": card.employer_orgnr, "number": card.number},
            ),
        },
    )
