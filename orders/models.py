"""Orders: an employer's order of cards, one line per employee, and delegations."""

from __future__ import annotations

import uuid
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from hmsportal.storage import encrypted_storage
from orders import bulk_problems


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
    # Where the card is sent: the business address in Enhetsregisteret when the order was
    # placed, unless the orderer gave another.
    delivery_name = models.CharField(_("delivery name or c/o"), max_length=200, blank=True)
    delivery_street = models.CharField(_("delivery street address"), max_length=300, blank=True)
    delivery_postcode = models.CharField(_("delivery postcode"), max_length=4, blank=True)
    delivery_city = models.CharField(_("delivery city"), max_length=100, blank=True)
    # The one-time token of the form that placed the order: a double click, a reload after
    # POST or a retried request carries the same token and lands on this order.
    submission_token = models.CharField(max_length=64, unique=True, null=True, blank=True)

    # Set by order_submit, never stored: the addresses of the employee upload links it made,
    # by order line id. Only the tokens' hashes are kept, so this is the one moment the
    # orderer can be shown a link to send by SMS (orders/employee_upload.py).
    upload_links_issued: dict[int, str]

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"#{self.pk} {self.employer_name}"


class OrderLine(models.Model):
    """One card ordered for one employee."""

    class State(models.TextChoices):
        AWAITING_FILES = "awaiting_files", _("Waiting for the employee's photo and ID")
        # The employee uploaded their own ID: the orderer checks it before the register check.
        AWAITING_ID_CHECK = "awaiting_id_check", _("Waiting for you to check the ID")
        SUBMITTED = "submitted", _("Ordered, register check pending")
        AWAITING_REGISTRATION = "awaiting_registration", _("Waiting for Aa-registeret")
        APPROVED = "approved", _("Approved, card issued")
        REJECTED = "rejected", _("Rejected")

    # A line in one of these states is an order not yet decided: it counts as the person's
    # card of its type with the employer, like a live card does (one card per person).
    OPEN_STATES = (
        State.AWAITING_FILES,
        State.AWAITING_ID_CHECK,
        State.SUBMITTED,
        State.AWAITING_REGISTRATION,
    )

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    # The order's employer, kept on the line too so the database can hold the rule of one
    # open order line per person, employer and card type.
    employer_orgnr = models.CharField(
        _("employer organisation number"), max_length=9, db_index=True
    )
    card_type = models.ForeignKey("cards.CardType", on_delete=models.PROTECT, related_name="+")
    price_incl_vat = models.DecimalField(
        _("price incl. VAT (NOK)"), max_digits=10, decimal_places=2
    )
    national_id = models.CharField(_("identity number"), max_length=11)
    first_name = models.CharField(_("first name"), max_length=100)
    last_name = models.CharField(_("last name"), max_length=100)
    workplace_orgnr = models.CharField(_("workplace organisation number"), max_length=9)
    # Empty only while the line waits for the employee to upload them (EmployeeUploadLink).
    photo = models.FileField(
        _("photo"), storage=encrypted_storage, upload_to="orders/photos/", blank=True
    )
    id_document = models.FileField(
        _("copy of ID document"),
        storage=encrypted_storage,
        upload_to="orders/id-documents/",
        blank=True,
    )
    state = models.CharField(
        _("state"), max_length=30, choices=State.choices, default=State.SUBMITTED, db_index=True
    )
    reason_codes = models.JSONField(_("reasons"), default=list, blank=True)
    awaiting_since = models.DateField(_("waiting since"), null=True, blank=True)
    checked_at = models.DateTimeField(_("last register check"), null=True, blank=True)
    # The card this line renews (issue 10, renewals): it stays live beside the new one.
    renews = models.ForeignKey(
        "cards.Card", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
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
            ),
            models.CheckConstraint(
                # A renewal reuses the renewed card's photo and needs no new ID document:
                # the identity was checked when that card was first ordered. A line rejected
                # while it waited for the employee's files (the employment ended) has none.
                condition=Q(state__in=["awaiting_files", "rejected"])
                | (~Q(photo="") & (~Q(id_document="") | Q(renews__isnull=False))),
                name="orders_line_files_unless_awaiting",
                violation_error_message=_(
                    "An order line needs a photo and an ID document unless it waits for the employee to upload them."
                ),
            ),
            # Two orders for the same person placed at the same moment: one line, not two.
            models.UniqueConstraint(
                fields=["national_id", "employer_orgnr", "card_type"],
                condition=Q(
                    state__in=[
                        "awaiting_files",
                        "awaiting_id_check",
                        "submitted",
                        "awaiting_registration",
                    ]
                ),
                name="orders_line_one_open_per_person",
                violation_error_message=_(
                    "This person already has an order of this card type with this employer."
                ),
            ),
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
    # Where the grantee is told of the grant (blank only on grants older than issue 10).
    grantee_email = models.EmailField(_("e-mail address"), blank=True)
    may_grant_further = models.BooleanField(_("may give others access"), default=False)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    # Set by the nightly review when the person answering for the grant (who confirmed it,
    # else who gave it) no longer holds a key role: the grant stays in force until a current
    # key-role holder confirms it or DELEGATION_CONFIRM_DAYS pass.
    flagged_at = models.DateTimeField(_("flagged"), null=True, blank=True)
    confirmed_at = models.DateTimeField(_("confirmed"), null=True, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("confirmed by"),
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
    revocation_reason = models.CharField(_("why it ended"), max_length=40, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class RevocationReason(models.TextChoices):
        UNCONFIRMED = "unconfirmed", _("Not confirmed in time by a key-role holder")

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


class InvoiceNumberCounter(models.Model):
    """The last invoice number given: one row, locked while a number is taken, so that
    numbers follow each other without gaps (a rolled-back order gives its number back)."""

    last_number = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("invoice number counter")
        verbose_name_plural = _("invoice number counters")

    def __str__(self) -> str:
        return str(self.last_number)


class Invoice(models.Model):
    """The invoice for an order, to the employer. Every amount, name and address is stored
    as it was on the issue day, so an invoice never changes when prices or registers do."""

    order = models.OneToOneField(Order, on_delete=models.PROTECT, related_name="invoice")
    number = models.PositiveIntegerField(_("invoice number"), unique=True)
    kid = models.CharField(_("KID"), max_length=25, unique=True)
    issued_on = models.DateField(_("invoice date"))
    due_on = models.DateField(_("due date"))

    customer_orgnr = models.CharField(_("organisation number"), max_length=9)
    customer_name = models.CharField(_("customer"), max_length=300)
    customer_street = models.CharField(_("street address"), max_length=300, blank=True)
    customer_postcode = models.CharField(_("postcode"), max_length=10, blank=True)
    customer_city = models.CharField(_("city"), max_length=100, blank=True)

    issuer_name = models.CharField(_("issuer"), max_length=200)
    issuer_orgnr = models.CharField(_("issuer's organisation number"), max_length=9, blank=True)
    account_number = models.CharField(_("account number"), max_length=11)

    postage_excl_vat = models.DecimalField(_("postage excl. VAT"), max_digits=10, decimal_places=2)
    postage_vat = models.DecimalField(_("VAT on postage"), max_digits=10, decimal_places=2)
    postage_vat_rate = models.DecimalField(_("VAT rate"), max_digits=4, decimal_places=2)
    total_excl_vat = models.DecimalField(_("total excl. VAT"), max_digits=12, decimal_places=2)
    total_vat = models.DecimalField(_("VAT"), max_digits=12, decimal_places=2)
    total_incl_vat = models.DecimalField(_("total"), max_digits=12, decimal_places=2)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("invoice")
        verbose_name_plural = _("invoices")
        ordering = ["-number"]
        constraints = [
            models.CheckConstraint(
                condition=Q(due_on__gte=models.F("issued_on")),
                name="orders_invoice_due_after_issue",
                violation_error_message=_("An invoice cannot be due before it is issued."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.customer_name}"

    @property
    def postage_incl_vat(self) -> Decimal:
        return self.postage_excl_vat + self.postage_vat


class InvoiceLine(models.Model):
    """One card on an invoice: the card type and the person's name, never an identity number."""

    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    order_line = models.OneToOneField(
        OrderLine, on_delete=models.PROTECT, related_name="invoice_line"
    )
    card_type_name = models.CharField(_("card type"), max_length=100)
    person_name = models.CharField(_("name"), max_length=200)
    vat_rate = models.DecimalField(_("VAT rate"), max_digits=4, decimal_places=2)
    price_excl_vat = models.DecimalField(_("price excl. VAT"), max_digits=10, decimal_places=2)
    vat = models.DecimalField(_("VAT"), max_digits=10, decimal_places=2)
    price_incl_vat = models.DecimalField(_("price incl. VAT"), max_digits=10, decimal_places=2)

    class Meta:
        verbose_name = _("invoice line")
        verbose_name_plural = _("invoice lines")
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"{self.card_type_name}: {self.person_name}"


class UploadStash(models.Model):
    """A valid file from an order form that came back with an error, kept (encrypted) for an
    hour so the person need not choose it again; only the person who uploaded it can use it."""

    class Kind(models.TextChoices):
        PHOTO = "photo", _("photo")
        ID_DOCUMENT = "id_document", _("copy of ID document")

    key = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    file = models.FileField(_("file"), storage=encrypted_storage, upload_to="orders/stash/")
    content_type = models.CharField(_("content type"), max_length=100)
    original_name = models.CharField(_("file name"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("uploaded"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("kept upload")
        verbose_name_plural = _("kept uploads")

    def __str__(self) -> str:
        return f"{self.kind} {self.key}"


class EmployeeUploadLink(models.Model):
    """A personal link that lets the employee upload their own photo and ID document for an
    order line, without logging in. Only the token's SHA-256 is kept: the token itself exists
    only in the link that was mailed or shown to the orderer once."""

    order_line = models.ForeignKey(
        OrderLine,
        on_delete=models.CASCADE,
        related_name="upload_links",
        verbose_name=_("order line"),
    )
    token_hash = models.CharField(_("token (SHA-256)"), max_length=64, unique=True)
    email = models.EmailField(_("sent to"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("made by"),
    )
    created_at = models.DateTimeField(_("made"))
    expires_at = models.DateTimeField(_("works until"))
    used_at = models.DateTimeField(_("files received"), null=True, blank=True)
    replaced_at = models.DateTimeField(_("replaced"), null=True, blank=True)

    class Meta:
        verbose_name = _("employee upload link")
        verbose_name_plural = _("employee upload links")
        ordering = ["-created_at", "-pk"]
        constraints = [
            # Sending the link again replaces the old one: one live link per order line.
            models.UniqueConstraint(
                fields=["order_line"],
                condition=Q(used_at__isnull=True, replaced_at__isnull=True),
                name="orders_upload_link_one_live_per_line",
                violation_error_message=_("An order line has one live upload link at a time."),
            ),
            models.CheckConstraint(
                condition=Q(expires_at__gt=models.F("created_at")),
                name="orders_upload_link_expires_after_made",
                violation_error_message=_("An upload link must expire after it is made."),
            ),
        ]

    def __str__(self) -> str:
        return f"upload link {self.pk} for order line {self.order_line_id}"


class DigestItemSent(models.Model):
    """One item of the administrators' daily digest, sent to one person: each item (a card
    expiring, a card that became invalid, an order line waiting) reaches a person once."""

    class Kind(models.TextChoices):
        EXPIRING = "expiring", _("card expiring soon")
        INVALID = "invalid", _("card became invalid")
        WAITING = "waiting", _("order waiting")

    employer_orgnr = models.CharField(_("employer organisation number"), max_length=9)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("sent to"),
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    # What makes the item this item: the card and its valid-until, the card and the step that
    # made it invalid, the order line and what it waits for.
    item_key = models.CharField(_("item"), max_length=100)
    sent_at = models.DateTimeField(_("sent"))

    class Meta:
        verbose_name = _("digest item sent")
        verbose_name_plural = _("digest items sent")
        constraints = [
            models.UniqueConstraint(
                fields=["employer_orgnr", "recipient", "kind", "item_key"],
                name="orders_digest_item_once_per_recipient",
                violation_error_message=_("This item has already been sent to this person."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.item_key} → {self.recipient_id}"


class BulkUpload(models.Model):
    """A ZIP of orders (orders.csv with photos and ID copies) uploaded by an employer, checked
    row by row by a Celery task (orders/bulk.py) before the good rows are ordered at once."""

    class State(models.TextChoices):
        VALIDATING = "validating", _("Checking the rows")
        READY = "ready", _("Checked")
        ORDERED = "ordered", _("Ordered")
        FAILED = "failed", _("Could not be checked")
        EXPIRED = "expired", _("Expired")

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    employer_orgnr = models.CharField(
        _("employer organisation number"), max_length=9, db_index=True
    )
    state = models.CharField(
        _("state"), max_length=20, choices=State.choices, default=State.VALIDATING
    )
    progress_done = models.PositiveIntegerField(_("rows checked"), default=0)
    progress_total = models.PositiveIntegerField(_("rows"), default=0)
    # The uploaded ZIP, encrypted, only until its rows are checked.
    archive = models.FileField(
        _("ZIP file"), storage=encrypted_storage, upload_to="orders/bulk/", blank=True
    )
    # Why it could not be checked, as a code with its params (orders/bulk_problems.py),
    # worded in the reader's language when shown.
    failure_problem = models.JSONField(
        _("why it could not be checked"), null=True, blank=True, default=None
    )
    # Uploads that failed before failures were codes: the reason as text, in the language of
    # whoever uploaded the file. Shown as it is; never written any more.
    legacy_failure = models.TextField(_("why it could not be checked (as text)"), blank=True)
    order = models.OneToOneField(
        Order, on_delete=models.SET_NULL, null=True, blank=True, related_name="bulk_upload"
    )
    created_at = models.DateTimeField(_("uploaded"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("bulk order upload")
        verbose_name_plural = _("bulk order uploads")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.employer_orgnr} {self.created_at:%Y-%m-%d %H:%M}"

    @property
    def failure_message(self) -> str:
        """Why it could not be checked, in words in the active language ("" when it was)."""
        if self.failure_problem:
            return bulk_problems.problem_text(self.failure_problem)
        return self.legacy_failure


class BulkUploadRow(models.Model):
    """One row of a bulk upload's orders.csv and what its check found."""

    class Outcome(models.TextChoices):
        OK = "ok", _("Ready to order")
        ERROR = "error", _("Needs fixing")

    upload = models.ForeignKey(BulkUpload, on_delete=models.CASCADE, related_name="rows")
    row_number = models.PositiveIntegerField(_("row"))
    national_id = models.CharField(_("identity number"), max_length=11, blank=True)
    card_type = models.ForeignKey(
        "cards.CardType", on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    card_type_code = models.CharField(_("card type"), max_length=50, blank=True)
    first_name = models.CharField(_("first name"), max_length=100, blank=True)
    last_name = models.CharField(_("last name"), max_length=100, blank=True)
    workplace_orgnr = models.CharField(_("workplace organisation number"), max_length=9, blank=True)
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices)
    # What needs fixing, as codes with their params (orders/bulk_problems.py), put into words
    # in the reader's language when shown.
    problems = models.JSONField(_("problems"), default=list, blank=True)
    # Rows checked before problems were codes: their messages as text, in the language of
    # whoever uploaded the file. Shown as they are; never written any more.
    legacy_messages = models.JSONField(_("messages (as text)"), default=list, blank=True)
    # The employee uploads their own files through a link (mailed when an address is given).
    employee_uploads = models.BooleanField(_("link to the employee"), default=False)
    employee_email = models.EmailField(_("employee's e-mail"), blank=True)
    delivery_name = models.CharField(_("delivery name or c/o"), max_length=200, blank=True)
    delivery_street = models.CharField(_("delivery street address"), max_length=300, blank=True)
    delivery_postcode = models.CharField(_("delivery postcode"), max_length=4, blank=True)
    delivery_city = models.CharField(_("delivery city"), max_length=100, blank=True)
    # The checked files, encrypted, until the row is ordered or the upload expires.
    photo = models.FileField(
        _("photo"), storage=encrypted_storage, upload_to="orders/bulk/photos/", blank=True
    )
    id_document = models.FileField(
        _("copy of ID document"),
        storage=encrypted_storage,
        upload_to="orders/bulk/id-documents/",
        blank=True,
    )

    class Meta:
        verbose_name = _("bulk order row")
        verbose_name_plural = _("bulk order rows")
        ordering = ["row_number"]
        constraints = [
            models.UniqueConstraint(
                fields=["upload", "row_number"],
                name="orders_bulk_row_unique_number",
                violation_error_message=_("Each row of an upload is reported once."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.upload_id} #{self.row_number}"

    @property
    def national_id_masked(self) -> str:
        """The birth-date part only: the personal digits are never shown on pages."""
        if len(self.national_id) == 11 and self.national_id.isdigit():
            return f"{self.national_id[:6]}*****"
        return "*" * min(len(self.national_id), 11)

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def problem_messages(self) -> list[str]:
        """What needs fixing, in words in the active language (in the uploader's for rows
        checked before problems were stored as codes)."""
        if self.problems:
            return bulk_problems.problem_texts(self.problems)
        return [str(message) for message in self.legacy_messages]
