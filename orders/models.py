"""Orders: an employer's order of cards, one line per employee, and delegations."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from hmsportal.storage import encrypted_storage


class Order(models.Model):
    """An order placed by a person acting for an employer (its main unit)."""

    employer_orgnr = models.CharField(
        _("employer organisation number"), max_length=9, db_index=True
    )
    employer_name = models.CharField(_("employer"), max_length=300)
    ordered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="orders"
    )
    created_at = models.DateTimeField(_("ordered"), auto_now_add=True)
    # When the order confirmation (with its PDFs) was e-mailed to the orderer: sent once.
    confirmation_mailed_at = models.DateTimeField(
        _("order confirmation e-mailed"), null=True, blank=True
    )

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"#{self.pk} {self.employer_name}"


class OrderLine(models.Model):
    """One card ordered for one employee."""

    class State(models.TextChoices):
        SUBMITTED = "submitted", _("Ordered, register check pending")
        AWAITING_REGISTRATION = "awaiting_registration", _("Waiting for Aa-registeret")
        APPROVED = "approved", _("Approved, card issued")
        REJECTED = "rejected", _("Rejected")

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    card_type = models.ForeignKey("cards.CardType", on_delete=models.PROTECT, related_name="+")
    price_incl_vat = models.DecimalField(
        _("price incl. VAT (NOK)"), max_digits=10, decimal_places=2
    )
    national_id = models.CharField(_("identity number"), max_length=11)
    first_name = models.CharField(_("first name"), max_length=100)
    last_name = models.CharField(_("last name"), max_length=100)
    workplace_orgnr = models.CharField(_("workplace organisation number"), max_length=9)
    photo = models.FileField(_("photo"), storage=encrypted_storage, upload_to="orders/photos/")
    id_document = models.FileField(
        _("copy of ID document"), storage=encrypted_storage, upload_to="orders/id-documents/"
    )
    state = models.CharField(
        _("state"), max_length=30, choices=State.choices, default=State.SUBMITTED, db_index=True
    )
    reason_codes = models.JSONField(_("reasons"), default=list, blank=True)
    awaiting_since = models.DateField(_("waiting since"), null=True, blank=True)
    checked_at = models.DateTimeField(_("last register check"), null=True, blank=True)
    card = models.OneToOneField(
        "cards.Card", on_delete=models.SET_NULL, null=True, blank=True, related_name="order_line"
    )
    # Mail the orderer gets at most once per line: the card is shipped; the line has waited
    # longer than ORDER_REMINDER_AFTER_DAYS.
    shipped_mailed_at = models.DateTimeField(_("shipping e-mailed"), null=True, blank=True)
    reminder_mailed_at = models.DateTimeField(_("reminder e-mailed"), null=True, blank=True)

    class Meta:
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(state="approved", card__isnull=False) | ~Q(state="approved"),
                name="orders_line_approved_has_card",
                violation_error_message=_("An approved order line must have a card."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name} ({self.card_type_id})"

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


class Delegation(models.Model):
    """The right to order and administer cards for an employer, given by someone who holds
    a key role there, optionally between two dates. Covers the main unit and its sub-units."""

    employer_orgnr = models.CharField(
        _("employer organisation number"), max_length=9, db_index=True
    )
    grantee_national_id = models.CharField(_("identity number"), max_length=11, db_index=True)
    grantee_name = models.CharField(_("name"), max_length=200, blank=True)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    valid_from = models.DateField(_("from"))
    valid_until = models.DateField(_("until"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("revoked by"),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("delegation")
        verbose_name_plural = _("delegations")
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True) | Q(valid_until__gte=models.F("valid_from")),
                name="orders_delegation_ends_after_start",
                violation_error_message=_("A delegation cannot end before it starts."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.grantee_national_id} @ {self.employer_orgnr}"
