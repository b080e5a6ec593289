"""Cards: the card types and their prices and designs, the producers, and the cards.

A card outlives its order: it keeps everything needed to print and check it (holder,
employer, photo) so that an order can be deleted or anonymised without touching the card.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from hmsportal.storage import encrypted_storage


class CardType(models.Model):
    """A kind of HMS card (construction, cleaning, …): the scheme keeps widening, so data."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name_nb = models.CharField(_("name (bokmål)"), max_length=100)
    name_en = models.CharField(_("name (English)"), max_length=100)
    requires_cleaning_approval = models.BooleanField(
        _("requires approval in Renholdsregisteret"), default=False
    )
    requires_residence_permit = models.BooleanField(
        _("requires a work permit for workers from outside the EEA"), default=False
    )
    is_orderable = models.BooleanField(_("can be ordered"), default=True)

    class Meta:
        verbose_name = _("card type")
        verbose_name_plural = _("card types")
        ordering = ["code"]

    def __str__(self) -> str:
        # Form choices, the admin and back-office lists print the type as it is: in the
        # language of the page.
        return self.name(get_language())

    def name(self, language: str | None) -> str:
        return self.name_en if (language or "").startswith("en") else self.name_nb


class CardPrice(models.Model):
    """A card type's price from a date, including VAT, excluding postage."""

    card_type = models.ForeignKey(CardType, on_delete=models.CASCADE, related_name="prices")
    effective_from = models.DateField(_("effective from"))
    price_incl_vat = models.DecimalField(
        _("price incl. VAT (NOK)"), max_digits=10, decimal_places=2
    )
    vat_rate = models.DecimalField(_("VAT rate"), max_digits=4, decimal_places=2, default=0.25)

    class Meta:
        verbose_name = _("card price")
        verbose_name_plural = _("card prices")
        ordering = ["card_type", "-effective_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["card_type", "effective_from"],
                name="cards_price_one_per_day",
                violation_error_message=_("The card type already has a price from this date."),
            ),
            models.CheckConstraint(
                condition=Q(price_incl_vat__gte=0),
                name="cards_price_not_negative",
                violation_error_message=_("A price cannot be negative."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.card_type.code} {self.price_incl_vat} from {self.effective_from}"


class Postage(models.Model):
    """Postage added once per order (one delivery), including VAT, from a date."""

    effective_from = models.DateField(_("effective from"))
    amount_incl_vat = models.DecimalField(
        _("postage incl. VAT (NOK)"), max_digits=10, decimal_places=2
    )
    vat_rate = models.DecimalField(
        _("VAT rate"), max_digits=4, decimal_places=2, default=Decimal("0.25")
    )

    class Meta:
        verbose_name = _("postage")
        verbose_name_plural = _("postage")
        ordering = ["-effective_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["effective_from"],
                name="cards_postage_one_per_day",
                violation_error_message=_("There is already a postage from this date."),
            ),
            models.CheckConstraint(
                condition=Q(amount_incl_vat__gte=0),
                name="cards_postage_not_negative",
                violation_error_message=_("Postage cannot be negative."),
            ),
            models.CheckConstraint(
                condition=Q(vat_rate__gte=0) & Q(vat_rate__lt=1),
                name="cards_postage_vat_rate_fraction",
                violation_error_message=_("The VAT rate is a fraction, for example 0.25."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.amount_incl_vat} from {self.effective_from}"


class CardDesign(models.Model):
    """A printed design of a card type, in force from a date (seed page: new design 2020)."""

    class Template(models.TextChoices):
        DESIGN_2018 = "cards/pdf/design_2018.html", _("Design 2018–2019")
        DESIGN_2020 = "cards/pdf/design_2020.html", _("Design from 2020")

    card_type = models.ForeignKey(CardType, on_delete=models.CASCADE, related_name="designs")
    name = models.CharField(_("name"), max_length=100)
    template = models.CharField(_("template"), max_length=100, choices=Template.choices)
    effective_from = models.DateField(_("effective from"))

    class Meta:
        verbose_name = _("card design")
        verbose_name_plural = _("card designs")
        ordering = ["card_type", "-effective_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["card_type", "effective_from"],
                name="cards_design_one_per_day",
                violation_error_message=_("The card type already has a design from this date."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.card_type.code}: {self.name}"


class Producer(models.Model):
    """The card producer in force from a moment (seed page: IDEMIA, then Evry from 2 January)."""

    name = models.CharField(_("name"), max_length=200)
    orgnr = models.CharField(_("organisation number"), max_length=9, blank=True)
    effective_from = models.DateTimeField(_("effective from"), unique=True)

    class Meta:
        verbose_name = _("card producer")
        verbose_name_plural = _("card producers")
        ordering = ["-effective_from"]

    def __str__(self) -> str:
        return self.name


class OrderingBlackout(models.Model):
    """A window in which no cards can be ordered (seed page: 19 December to 2 January)."""

    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    message_nb = models.CharField(_("message (bokmål)"), max_length=300, blank=True)
    message_en = models.CharField(_("message (English)"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("ordering blackout")
        verbose_name_plural = _("ordering blackouts")
        ordering = ["starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")),
                name="cards_blackout_ends_after_start",
                violation_error_message=_("A blackout must end after it starts."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.starts_at:%Y-%m-%d %H:%M} – {self.ends_at:%Y-%m-%d %H:%M}"

    def message(self, language: str | None) -> str:
        """The message in the language ("" when none is written in it: never the other one)."""
        return self.message_en if (language or "").startswith("en") else self.message_nb


class CardStatusRules:
    """A card's status read from its fields, for Card and for the status API's facts
    (cards.selectors.status.CardStatusFacts: the same fields, no model instance)."""

    # Card's fields of these names (model fields are not annotated there).
    state: str
    valid_until: datetime.date
    valid_from: datetime.date | None
    reason_codes: list[str] | None
    holder_first_name: str
    holder_last_name: str

    @property
    def holder_name(self) -> str:
        return f"{self.holder_first_name} {self.holder_last_name}"

    def status_on(self, day: datetime.date) -> str:
        """valid, invalid, expired or revoked on the given day."""
        if self.state == Card.State.REVOKED:
            return "revoked"
        if self.state == Card.State.EXPIRED or day > self.valid_until:
            return "expired"
        if self.state == Card.State.INVALID or self.starts_after(day):
            return "invalid"
        return "valid"

    def starts_after(self, day: datetime.date) -> bool:
        """Whether the employment the card follows starts after the given day."""
        return self.valid_from is not None and day < self.valid_from

    def reason_codes_on(self, day: datetime.date) -> list[str]:
        """Why the card is invalid on the given day (register reason codes), if it is."""
        if self.status_on(day) != "invalid":
            return []
        if self.state == Card.State.INVALID:
            return list(self.reason_codes or [])
        return ["employment_not_started"]


class Card(CardStatusRules, models.Model):
    """An HMS card: one holder, one employer, one card type, a number and a life."""

    class State(models.TextChoices):
        APPROVED = "approved", _("Approved, waiting for production")
        IN_PRODUCTION = "in_production", _("In production")
        SHIPPED = "shipped", _("Shipped")
        ACTIVE = "active", _("Active")
        INVALID = "invalid", _("Invalid")
        REVOKED = "revoked", _("Revoked")
        EXPIRED = "expired", _("Expired")

    # States in which the card has been issued and counts as valid (within valid_until).
    VALID_STATES = (State.APPROVED, State.IN_PRODUCTION, State.SHIPPED, State.ACTIVE)
    # States the register re-check looks at.
    CHECKED_STATES = (*VALID_STATES, State.INVALID)

    number = models.CharField(_("card number"), max_length=12, unique=True)
    card_type = models.ForeignKey(CardType, on_delete=models.PROTECT, related_name="cards")
    state = models.CharField(_("state"), max_length=20, choices=State.choices, db_index=True)

    holder_national_id = models.CharField(
        _("holder's identity number"), max_length=11, db_index=True
    )
    holder_first_name = models.CharField(_("first name"), max_length=100)
    holder_last_name = models.CharField(_("last name"), max_length=100)
    holder_birth_date = models.DateField(_("date of birth"), null=True, blank=True)
    photo = models.FileField(
        _("photo"), storage=encrypted_storage, upload_to="cards/photos/", blank=True
    )

    # The unit where the employment is registered (may be a sub-unit) and its main unit,
    # whose name and number are printed on the card.
    workplace_orgnr = models.CharField(_("workplace organisation number"), max_length=9)
    employer_orgnr = models.CharField(
        _("employer organisation number"), max_length=9, db_index=True
    )
    employer_name = models.CharField(_("employer"), max_length=300)

    issuer_name = models.CharField(_("issuer"), max_length=200)
    design = models.ForeignKey(CardDesign, on_delete=models.PROTECT, null=True, blank=True)
    issued_on = models.DateField(_("issued"))
    valid_until = models.DateField(_("valid until"))
    # Set while the employment has not started (a card may be ordered 30 days ahead): the card
    # goes through production as usual but is not valid before this day.
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    reason_codes = models.JSONField(_("reasons"), default=list, blank=True)
    checked_at = models.DateTimeField(_("last register check"), null=True, blank=True)
    pdf = models.FileField(
        _("card PDF"), storage=encrypted_storage, upload_to="cards/pdf/", blank=True
    )
    imported = models.BooleanField(_("imported from the previous producer"), default=False)
    replaces = models.OneToOneField(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="replaced_by"
    )
    # A renewal: the card this one succeeds when the old one nears its valid-until. Both are
    # live until the new one is delivered (active); then the old one is revoked as renewed.
    renews = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="renewed_by"
    )
    # True while the card it renews is still live: only then may the two live side by side.
    # Cleared when that card ends (cards.services.renewals_unblock), so the one-card rule
    # holds again for the person from then on.
    renewal_pending = models.BooleanField(
        _("renewal waiting for the old card to end"), default=False
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("card")
        verbose_name_plural = _("cards")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_until__gte=models.F("issued_on")),
                name="cards_card_valid_after_issue",
                violation_error_message=_("A card cannot expire before it is issued."),
            ),
            # One live card per person, employer and card type (a second one would be billed
            # twice and could outlive the first's revocation). A replacement is issued after
            # the card it replaces is revoked, in the same transaction.
            models.UniqueConstraint(
                fields=["holder_national_id", "employer_orgnr", "card_type"],
                # A renewal may live beside the card it renews until it is delivered
                # (cards.services.cards_activate_delivered then ends the old one).
                condition=Q(
                    state__in=["approved", "in_production", "shipped", "active", "invalid"],
                    renewal_pending=False,
                ),
                name="cards_one_live_card_per_person",
                violation_error_message=_(
                    "This person already has a live card of this type with this employer."
                ),
            ),
        ]
        indexes = [
            models.Index(fields=["state", "employer_orgnr"]),
            # The employer's card register filters by employer, then sorts or ranges by these
            # (orders/views/employer.py card_list; bench/bench_register.py).
            models.Index(
                fields=["employer_orgnr", "valid_until"], name="cards_employer_valid_until"
            ),
            models.Index(
                fields=["employer_orgnr", "holder_last_name", "holder_first_name"],
                name="cards_employer_holder_name",
            ),
            models.Index(fields=["employer_orgnr", "number"], name="cards_employer_number"),
        ]

    def __str__(self) -> str:
        return self.number


class CardTransition(models.Model):
    """One step in a card's life: who moved it, when and why."""

    card = models.ForeignKey(Card, on_delete=models.CASCADE, related_name="transitions")
    from_state = models.CharField(max_length=20, blank=True)
    to_state = models.CharField(max_length=20)
    at = models.DateTimeField(auto_now_add=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    reason = models.CharField(_("reason"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("card transition")
        verbose_name_plural = _("card transitions")
        ordering = ["at", "pk"]
        constraints = [
            # Revoked is final (cards.services.ALLOWED_TRANSITIONS): a card is revoked once.
            # The status check reads the revocation with a plain join on this small index.
            models.UniqueConstraint(
                fields=["card"],
                condition=models.Q(to_state=Card.State.REVOKED),
                name="cards_one_revocation_per_card",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.card_id}: {self.from_state or '∅'} → {self.to_state}"


class CardCheck(models.Model):
    """A register check of one card whose outcome differed from the card's previous one.

    The record of what the registers said about this card, for its holder and its employer
    (issue 10, point 2), kept small enough for a nightly re-check of a million cards
    (issue 12):

    - A row is written only when a check's outcome (in order or not, and the reason codes)
      differs from the card's previous row: the card's first check, becoming not in order,
      other reasons, back in order. A check that finds what the last one found writes no
      row; it only moves Card.checked_at, so "last checked on …, unchanged" is the newest
      row plus checked_at.
    - The first row is the register check at ordering, written by cards.services.card_issue
      (the order line's check has just passed). A card issued without a check of its own (a
      replacement, a card taken over from the previous producer, a card from before these
      rows existed) gets its first row from its next re-check.
    - A register that does not answer writes nothing. The re-check then leaves the card as it
      was (cards.services.cards_recheck), the outage belongs to the register, not the card
      (RegisterLookup records it once per question and the back office's register status
      page shows it), and it strikes a whole batch, also cards whose registers did answer.
      Recording it per card would write two rows per live card for every outage (down, and
      back) and say nothing about any card; the card page shows instead that the last check
      is older than the last night.
    """

    class Kind(models.TextChoices):
        ORDER = "order", _("Register check at ordering")
        NIGHTLY = "nightly", _("Nightly check")
        # Outside the nightly run: Enhetsregisteret's change feed reported a change at the
        # employer, or the employer's cards were just taken over from the previous producer.
        EXTRA = "extra", _("Extra check after a change")

    class Outcome(models.TextChoices):
        IN_ORDER = "in_order", _("In order")
        NOT_IN_ORDER = "not_in_order", _("Not in order")

    card = models.ForeignKey(Card, on_delete=models.CASCADE, related_name="checks")
    # The moment of the check: the same value the check wrote to Card.checked_at.
    at = models.DateTimeField(_("checked"))
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    outcome = models.CharField(_("outcome"), max_length=12, choices=Outcome.choices)
    # As the rules engine gives them (registry.rules.REASONS has the text and fix of each).
    # In order may still carry employment_not_started: valid from the employment's start.
    reason_codes = models.JSONField(_("reasons"), default=list, blank=True)
    # The registers the card type's check consulted (registry.models.RegisterLookup.Register).
    registers = models.JSONField(_("registers"), default=list, blank=True)

    class Meta:
        verbose_name = _("card register check")
        verbose_name_plural = _("card register checks")
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["card", "-at"], name="cards_check_card_at")]

    def __str__(self) -> str:
        return f"{self.card_id} {self.kind} {self.outcome} {self.at:%Y-%m-%d %H:%M}"


class PrintBatch(models.Model):
    """Cards sent to the producer together: one PDF, one shipment."""

    class State(models.TextChoices):
        RENDERING = "rendering", _("Rendering")
        READY = "ready", _("Ready for printing")
        FAILED = "failed", _("Rendering failed")
        SHIPPED = "shipped", _("Shipped")

    producer = models.ForeignKey(Producer, on_delete=models.PROTECT, related_name="batches")
    state = models.CharField(max_length=20, choices=State.choices, default=State.RENDERING)
    cards = models.ManyToManyField(Card, related_name="print_batches")
    pdf = models.FileField(
        _("batch PDF"), storage=encrypted_storage, upload_to="cards/batches/", blank=True
    )
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    # Counts the renderings started: a rendering stores its PDF only while its number is still
    # the batch's, so one overtaken by a second delivery of the task cannot finish the batch.
    render_attempt = models.PositiveIntegerField(default=0)
    tracking_reference = models.CharField(_("tracking reference"), max_length=100, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    created_at = models.DateTimeField(auto_now_add=True)
    shipped_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("print batch")
        verbose_name_plural = _("print batches")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"#{self.pk} {self.producer} ({self.state})"


class ApiClient(models.Model):
    """A site-registration system with an API key and its own rate limit."""

    name = models.CharField(_("name"), max_length=200)
    key_prefix = models.CharField(max_length=8, unique=True)
    # SHA-256 of the whole key; the key itself is shown once, when created.
    key_hash = models.CharField(max_length=64, unique=True)
    lookups_per_minute = models.PositiveIntegerField(_("lookups per minute"), default=600)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("API client")
        verbose_name_plural = _("API clients")

    def __str__(self) -> str:
        return self.name


class RecheckRun(models.Model):
    """One night's re-check of every live card, fanned out over the workers in chunks."""

    class State(models.TextChoices):
        RUNNING = "running", _("Running")
        FINISHED = "finished", _("Finished")
        # A newer run started before this one finished: the newer one checks every card again.
        SUPERSEDED = "superseded", _("Superseded")

    state = models.CharField(max_length=20, choices=State.choices, default=State.RUNNING)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    # The day the verdicts are for (valid-until and employment dates are compared with it).
    on = models.DateField()
    total_cards = models.PositiveIntegerField(default=0)
    chunks_total = models.PositiveIntegerField(default=0)
    chunks_done = models.PositiveIntegerField(default=0)
    cards_checked = models.PositiveIntegerField(default=0)
    became_invalid = models.PositiveIntegerField(default=0)
    became_valid = models.PositiveIntegerField(default=0)
    expired = models.PositiveIntegerField(default=0)
    ended = models.PositiveIntegerField(default=0)
    failed_lookups = models.PositiveIntegerField(default=0)
    check_rows = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("re-check run")
        verbose_name_plural = _("re-check runs")
        ordering = ["-started_at", "-pk"]

    def __str__(self) -> str:
        return f"#{self.pk} {self.started_at:%Y-%m-%d %H:%M} ({self.state})"

    @property
    def percent_done(self) -> int:
        if not self.chunks_total:
            return 100 if self.state == self.State.FINISHED else 0
        return min(100, self.chunks_done * 100 // self.chunks_total)


class RecheckChunk(models.Model):
    """The live cards of a run whose primary keys fall in [first_pk, last_pk]: one task."""

    class State(models.TextChoices):
        PENDING = "pending", _("Waiting")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")

    run = models.ForeignKey(RecheckRun, on_delete=models.CASCADE, related_name="chunks")
    first_pk = models.BigIntegerField()
    last_pk = models.BigIntegerField()
    state = models.CharField(max_length=20, choices=State.choices, default=State.PENDING)
    # When its task was last handed to the broker, and last taken by a worker: a chunk not
    # done long after either is sent again (cards.rechecks.recheck_runs_resume).
    sent_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    # The Celery delivery (task id) that took it: the same message delivered again means the
    # worker that took it died (acks late), so that delivery may take the chunk over at once.
    claimed_by = models.CharField(max_length=255, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    done_at = models.DateTimeField(null=True, blank=True)
    cards_checked = models.PositiveIntegerField(default=0)
    failed_lookups = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["run", "first_pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["run", "first_pk"],
                name="recheck_chunk_unique_start",
                violation_error_message="A run has one chunk per range of cards.",
            ),
            models.CheckConstraint(
                condition=Q(first_pk__lte=models.F("last_pk")),
                name="recheck_chunk_range_ordered",
                violation_error_message="A chunk's range starts before it ends.",
            ),
        ]

    def __str__(self) -> str:
        return f"run {self.run_id} cards {self.first_pk}–{self.last_pk} ({self.state})"
