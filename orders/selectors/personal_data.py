"""What personal data the portal holds about a person, and what each kind is for.

Shown on the person's own page ("Mine HMS-kort"); each register's part is asked of its app's
selectors, so the list stays true as the apps change.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import Count, Max, Q
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from cards import selectors as card_selectors
from hmsportal.models import User
from orders.models import Delegation, Order, OrderLine
from registry import selectors as registry_selectors


@dataclass(frozen=True)
class PersonalDataCategory:
    """One kind of personal data the portal holds about a person, and what it is for."""

    code: str
    name: str
    held: str
    purpose: str


def _date(value: datetime.date | datetime.datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        value = timezone.localtime(value).date()
    return date_format(value, "DATE_FORMAT")


def _masked(national_id: str) -> str:
    """The birth-date part of an identity number; the personal digits are never shown."""
    return f"{national_id[:6]} *****"


def personal_data_for(*, user: User) -> list[PersonalDataCategory]:
    """Exactly which kinds of personal data the portal holds about the user, with counts,
    dates and what each is for. Only categories actually held are listed."""
    categories: list[PersonalDataCategory] = []
    national_id = user.national_id or ""
    if national_id:
        categories.append(
            PersonalDataCategory(
                code="identity_number",
                name=_("Identity number (fødselsnummer or D-number)"),
                held=_masked(national_id),
                purpose=_(
                    "The key that ties your cards, order lines and register checks to you. "
                    "It is never shown on the card or in the public status check."
                ),
            )
        )
    cards = card_selectors.holder_cards_summary(national_id=national_id)
    lines = OrderLine.objects.filter(national_id=national_id) if national_id else None
    line_facts = (
        lines.aggregate(
            count=Count("pk"),
            with_photo=Count("pk", filter=~Q(photo="")),
            with_id_document=Count("pk", filter=~Q(id_document="")),
            latest=Max("order__created_at"),
        )
        if lines is not None
        else {"count": 0, "with_photo": 0, "with_id_document": 0, "latest": None}
    )
    if cards.count or line_facts["count"]:
        newest = cards.newest
        if newest is not None:
            held = newest.holder_name
            if newest.holder_birth_date:
                held += ", " + _("born %(date)s") % {"date": _date(newest.holder_birth_date)}
        else:
            newest_line = lines.order_by("-pk").first() if lines is not None else None
            held = newest_line.full_name if newest_line else ""
        categories.append(
            PersonalDataCategory(
                code="name_and_birth_date",
                name=_("Name and date of birth"),
                held=held,
                purpose=_("Printed on the card. Taken from Folkeregisteret."),
            )
        )
    photos = cards.with_photo + line_facts["with_photo"]
    if photos:
        categories.append(
            PersonalDataCategory(
                code="photo",
                name=_("Photo of you"),
                held=ngettext("%(count)d stored copy", "%(count)d stored copies", photos)
                % {"count": photos},
                purpose=_("Printed on the card and shown in the status check. Stored encrypted."),
            )
        )
    if line_facts["with_id_document"]:
        count = line_facts["with_id_document"]
        categories.append(
            PersonalDataCategory(
                code="id_document",
                name=_("Copy of your ID document"),
                held=ngettext("%(count)d copy", "%(count)d copies", count) % {"count": count},
                purpose=_(
                    "Your employer's check of your identity when ordering the card. "
                    "Stored encrypted."
                ),
            )
        )
    if cards.count:
        count = cards.count
        categories.append(
            PersonalDataCategory(
                code="cards",
                name=_("Your HMS cards"),
                held=ngettext(
                    "%(count)d card, the newest issued %(date)s",
                    "%(count)d cards, the newest issued %(date)s",
                    count,
                )
                % {"count": count, "date": _date(cards.latest)},
                purpose=_(
                    "The card shows who you work for. Its status can be checked by anyone "
                    "with the card number. The print file of each card is stored encrypted."
                ),
            )
        )
    if line_facts["count"]:
        count = line_facts["count"]
        categories.append(
            PersonalDataCategory(
                code="order_lines",
                name=_("Orders of cards for you"),
                held=ngettext(
                    "%(count)d order, the newest %(date)s",
                    "%(count)d orders, the newest %(date)s",
                    count,
                )
                % {"count": count, "date": _date(line_facts["latest"])},
                purpose=_("Your employer's order of the card: who ordered it and when."),
            )
        )
    lookups = registry_selectors.lookups_summary(key=national_id)
    if lookups.count:
        count = lookups.count
        categories.append(
            PersonalDataCategory(
                code="register_checks",
                name=_("Register checks about you"),
                held=ngettext(
                    "%(count)d lookup, the latest %(date)s",
                    "%(count)d lookups, the latest %(date)s",
                    count,
                )
                % {"count": count, "date": _date(lookups.latest)},
                purpose=_(
                    "Checking in Folkeregisteret and Aa-registeret that you may hold the card, "
                    "when it is ordered and every night after."
                ),
            )
        )
    delegations = (
        Delegation.objects.filter(grantee_national_id=national_id).aggregate(count=Count("pk"))
        if national_id
        else {"count": 0}
    )
    if delegations["count"]:
        count = delegations["count"]
        categories.append(
            PersonalDataCategory(
                code="delegations",
                name=_("Access given to you"),
                held=ngettext("%(count)d access", "%(count)d accesses", count) % {"count": count},
                purpose=_(
                    "Lets you order and administer HMS cards for an employer. "
                    "Given by someone with a role there."
                ),
            )
        )
    roles = registry_selectors.roles_seen_count(national_id=national_id)
    if roles:
        categories.append(
            PersonalDataCategory(
                code="roles",
                name=_("Your roles in organisations"),
                held=ngettext("%(count)d role", "%(count)d roles", roles) % {"count": roles},
                purpose=_(
                    "From Enhetsregisteret. Decides which employers you may order cards for."
                ),
            )
        )
    orders_placed = Order.objects.filter(ordered_by=user).count()
    if orders_placed:
        categories.append(
            PersonalDataCategory(
                code="orders_placed",
                name=_("Orders you have placed"),
                held=ngettext("%(count)d order", "%(count)d orders", orders_placed)
                % {"count": orders_placed},
                purpose=_("Shows who ordered each card for an employer."),
            )
        )
    contact = [value for value in (user.full_name, user.email, user.mobile) if value]
    if user.pending_email:
        contact.append(_("%(email)s (not confirmed yet)") % {"email": user.pending_email})
    categories.append(
        PersonalDataCategory(
            code="account",
            name=_("Your user account"),
            held=_("%(contact)s; account created %(created)s, last login %(login)s")
            % {
                "contact": ", ".join(contact) or _("no name or e-mail address"),
                "created": _date(user.date_joined),
                "login": _date(user.last_login) or "–",
            },
            purpose=_(
                "Logging you in, and the name, e-mail address and mobile number we use to "
                "contact you about cards you order and access you give."
            ),
        )
    )
    return categories
