"""The registry's tables.

Two kinds of table live here. The embedded registry (Organisation, Role, Person,
Employment) holds the same facts as Enhetsregisteret, Folkeregisteret and Aa-registeret and
is used by the embedded default, the demo and most tests. CleaningApproval and
StaffingApproval are local copies of the open data files of Renholdsregisteret and
Bemanningsforetaksregisteret in every setup. RegisterLookup records every question asked of
a register, so that anyone can see why a card became invalid.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Organisation(models.Model):
    """A unit in Enhetsregisteret: a main unit, or a sub-unit with its main unit as parent."""

    orgnr = models.CharField(_("organisation number"), max_length=9, primary_key=True)
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="sub_units",
        verbose_name=_("main unit"),
    )
    name = models.CharField(_("name"), max_length=300)
    form = models.CharField(_("organisation form"), max_length=10, help_text="AS, ENK, NUF, BEDR …")
    registered_on = models.DateField(_("registered"), null=True, blank=True)
    deleted_on = models.DateField(_("deleted"), null=True, blank=True)
    bankrupt = models.BooleanField(_("bankrupt"), default=False)
    under_liquidation = models.BooleanField(_("under liquidation"), default=False)
    under_forced_dissolution = models.BooleanField(_("under forced dissolution"), default=False)
    vat_registered = models.BooleanField(_("registered for VAT"), default=False)
    industry_code = models.CharField(_("industry code"), max_length=10, blank=True)
    street = models.CharField(_("street address"), max_length=300, blank=True)
    postcode = models.CharField(_("postcode"), max_length=10, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(parent=models.F("orgnr")),
                name="registry_organisation_not_own_parent",
                violation_error_message=_("A unit cannot be its own main unit."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.orgnr})"

    @property
    def main_orgnr(self) -> str:
        return self.parent_id or self.orgnr


class Role(models.Model):
    """A person's role in a unit (Brønnøysund's role codes, e.g. DAGL, LEDE, INNH)."""

    class Code(models.TextChoices):
        DAGL = "DAGL", _("Managing director")
        LEDE = "LEDE", _("Chair of the board")
        NEST = "NEST", _("Deputy chair")
        MEDL = "MEDL", _("Board member")
        VARA = "VARA", _("Deputy board member")
        INNH = "INNH", _("Owner")
        DTPR = "DTPR", _("Partner (shared liability)")
        DTSO = "DTSO", _("Partner (full liability)")
        KOMP = "KOMP", _("General partner")
        BEST = "BEST", _("Managing shipowner")
        REPR = "REPR", _("Norwegian representative of a foreign business")
        KONT = "KONT", _("Contact person")
        REGN = "REGN", _("Accountant")
        REVI = "REVI", _("Auditor")
        PROK = "PROK", _("Procuration")
        SIGN = "SIGN", _("Signature")
        FFØR = "FFØR", _("Business manager")
        EIKM = "EIKM", _("Owner municipality")
        OTHER = "OTHER", _("Other role")

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="roles")
    person = models.ForeignKey("Person", on_delete=models.CASCADE, related_name="roles")
    code = models.CharField(_("role"), max_length=5, choices=Code.choices)

    class Meta:
        verbose_name = _("role")
        verbose_name_plural = _("roles")
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "person", "code"],
                name="registry_role_unique",
                violation_error_message=_("The person already holds this role in the unit."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.person_id} @ {self.organisation_id}"


class Person(models.Model):
    """A person in Folkeregisteret, by fødselsnummer or D-number."""

    national_id = models.CharField(_("national identity number"), max_length=11, primary_key=True)
    first_name = models.CharField(_("first name"), max_length=100)
    last_name = models.CharField(_("last name"), max_length=100)
    birth_date = models.DateField(_("date of birth"), null=True, blank=True)
    # A D-number can be deactivated (opphørt); a fødselsnummer is always in use.
    id_in_use = models.BooleanField(_("identity number in use"), default=True)
    id_inactive_since = models.DateField(_("identity number inactive since"), null=True, blank=True)
    eea_citizen = models.BooleanField(_("EEA citizen"), default=True)
    permit_until = models.DateField(_("residence permit until"), null=True, blank=True)

    class Meta:
        verbose_name = _("person")
        verbose_name_plural = _("persons")
        ordering = ["last_name", "first_name"]

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


class Employment(models.Model):
    """An employment in Aa-registeret, registered on the unit where the person works."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="employments"
    )
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="employments")
    start = models.DateField(_("start"))
    end = models.DateField(_("end"), null=True, blank=True)
    hired_out = models.BooleanField(_("hired out"), default=False)

    class Meta:
        verbose_name = _("employment")
        verbose_name_plural = _("employments")
        constraints = [
            models.CheckConstraint(
                condition=Q(end__isnull=True) | Q(end__gte=models.F("start")),
                name="registry_employment_end_after_start",
                violation_error_message=_("An employment cannot end before it starts."),
            ),
            models.UniqueConstraint(
                fields=["organisation", "person", "start"],
                name="registry_employment_unique",
                violation_error_message=_("This employment is already registered."),
            ),
        ]
        indexes = [models.Index(fields=["person", "organisation"])]

    def __str__(self) -> str:
        return f"{self.person_id} @ {self.organisation_id} {self.start}–{self.end or ''}"


class CleaningApproval(models.Model):
    """A main unit's entry in Renholdsregisteret (the register lists unapproved firms too)."""

    class Status(models.TextChoices):
        APPROVED_WITH_EMPLOYEES = "approved_with_employees", _("Approved with employees")
        APPROVED_WITHOUT_EMPLOYEES = "approved_without_employees", _("Approved without employees")
        APPLICATION_PENDING = "application_pending", _("Application being processed")
        CARD_ORDER_PENDING = "card_order_pending", _("HMS card order being processed")
        NOT_APPROVED = "not_approved", _("Not approved")

    orgnr = models.CharField(_("organisation number"), max_length=9, primary_key=True)
    name = models.CharField(_("name"), max_length=300, blank=True)
    status = models.CharField(_("status"), max_length=32, choices=Status.choices)

    class Meta:
        verbose_name = _("cleaning register entry")
        verbose_name_plural = _("cleaning register entries")

    def __str__(self) -> str:
        return f"{self.orgnr} {self.status}"


class StaffingApproval(models.Model):
    """A unit's entry in Bemanningsforetaksregisteret."""

    orgnr = models.CharField(_("organisation number"), max_length=9, primary_key=True)
    name = models.CharField(_("name"), max_length=300, blank=True)
    approved = models.BooleanField(_("approved"))
    status_text = models.CharField(_("status"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("staffing register entry")
        verbose_name_plural = _("staffing register entries")

    def __str__(self) -> str:
        return f"{self.orgnr} {'approved' if self.approved else 'not approved'}"


class RegisterFileLoad(models.Model):
    """One successful load of a register's open data file."""

    register = models.CharField(_("register"), max_length=40)
    source_url = models.CharField(_("source"), max_length=500)
    loaded_at = models.DateTimeField(_("loaded"), auto_now_add=True)
    entries = models.PositiveIntegerField(_("entries"))
    sha256 = models.CharField(max_length=64)

    class Meta:
        ordering = ["-loaded_at"]

    def __str__(self) -> str:
        return f"{self.register} {self.loaded_at:%Y-%m-%d %H:%M} ({self.entries})"


class RegisterLookup(models.Model):
    """One question asked of a register, and how it went."""

    class Register(models.TextChoices):
        ENHETSREGISTERET = "enhetsregisteret", "Enhetsregisteret"
        ROLES = "roles", _("Enhetsregisteret roles")
        EMPLOYMENT = "aa_registeret", "Aa-registeret"
        FOLKEREGISTERET = "folkeregisteret", "Folkeregisteret"
        CLEANING = "renholdsregisteret", "Renholdsregisteret"
        STAFFING = "bemanningsforetaksregisteret", "Bemanningsforetaksregisteret"

    class Outcome(models.TextChoices):
        FOUND = "found", _("Found")
        NOT_FOUND = "not_found", _("Not found")
        FAILED = "failed", _("Register unavailable")

    register = models.CharField(_("register"), max_length=40, choices=Register.choices)
    key = models.CharField(_("looked up"), max_length=40, db_index=True)
    at = models.DateTimeField(_("when"), auto_now_add=True, db_index=True)
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices)
    detail = models.CharField(_("detail"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("register lookup")
        verbose_name_plural = _("register lookups")
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.register} {self.key} {self.outcome}"


class ChangeFeedCursor(models.Model):
    """How far hmsportal has read one of the registers' change feeds.

    Enhetsregisteret's feeds ("enheter", "underenheter") and Folkeregisteret's event feed
    ("folkeregisteret").
    """

    feed = models.CharField(_("feed"), max_length=40, unique=True)
    # The highest oppdateringsid (Folkeregisteret: sequence number) seen; None until the feed
    # has answered with a change.
    last_update_id = models.BigIntegerField(_("last update id"), null=True, blank=True)
    # Folkeregisteret's feed answers 304 to a page whose ETag we sent back.
    etag = models.CharField(_("ETag"), max_length=200, blank=True)
    # Where the very first read started (used until an oppdateringsid is known).
    started_from = models.DateTimeField(_("read from"))
    read_at = models.DateTimeField(_("last read"), auto_now=True)

    class Meta:
        verbose_name = _("change feed cursor")
        verbose_name_plural = _("change feed cursors")

    def __str__(self) -> str:
        return f"{self.feed} {self.last_update_id or self.started_from.isoformat()}"


class RoleSeen(models.Model):
    """A key role Enhetsregisteret's authorised roles API showed, with the person's identity.

    Enhetsregisteret cannot be asked which units a person holds roles in; this table
    remembers the roles seen so that the question can be answered (and each answer is
    confirmed against the register before it is used).
    """

    orgnr = models.CharField(_("organisation number"), max_length=9)
    national_id = models.CharField(_("national identity number"), max_length=11)
    code = models.CharField(_("role"), max_length=5)
    seen_at = models.DateTimeField(_("seen"), auto_now=True)

    class Meta:
        verbose_name = _("role seen in Enhetsregisteret")
        verbose_name_plural = _("roles seen in Enhetsregisteret")
        constraints = [
            models.UniqueConstraint(
                fields=["orgnr", "national_id", "code"],
                name="registry_roleseen_unique",
                violation_error_message=_("This role is already recorded."),
            )
        ]
        indexes = [models.Index(fields=["national_id", "code"])]

    def __str__(self) -> str:
        return f"{self.code} {self.national_id} @ {self.orgnr}"


class UnitCopy(models.Model):
    """A unit in hmsportal's local copy of Enhetsregisteret (the nightly bulk files).

    Unlike Organisation (the embedded registry) this table has no foreign keys: the bulk
    files name main units that were deleted, and a sub-unit's main unit may be in tomorrow's
    file only. The hourly change feed marks changed units stale; a stale row is asked of the
    API again before it is used (registry/clients/brreg_copy.py).
    """

    orgnr = models.CharField(_("organisation number"), max_length=9, primary_key=True)
    sub_unit = models.BooleanField(_("sub-unit"), default=False)
    parent_orgnr = models.CharField(_("main unit"), max_length=9, blank=True)
    name = models.CharField(_("name"), max_length=300, blank=True)
    form = models.CharField(_("organisation form"), max_length=10, blank=True)
    registered_on = models.DateField(_("registered"), null=True, blank=True)
    deleted_on = models.DateField(_("deleted"), null=True, blank=True)
    bankrupt = models.BooleanField(_("bankrupt"), default=False)
    under_liquidation = models.BooleanField(_("under liquidation"), default=False)
    under_forced_dissolution = models.BooleanField(_("under forced dissolution"), default=False)
    vat_registered = models.BooleanField(_("registered for VAT"), default=False)
    industry_code = models.CharField(_("industry code"), max_length=10, blank=True)
    street = models.CharField(_("street address"), max_length=300, blank=True)
    postcode = models.CharField(_("postcode"), max_length=10, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    # When the row was last written, from a bulk file or from the API.
    written_at = models.DateTimeField(_("written"))
    # Set by the change feed: the register changed the unit after this row was written.
    stale_since = models.DateTimeField(_("changed in the register since"), null=True, blank=True)

    class Meta:
        verbose_name = _("unit in the copy of Enhetsregisteret")
        verbose_name_plural = _("units in the copy of Enhetsregisteret")
        indexes = [models.Index(fields=["sub_unit", "written_at"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.orgnr})"


class PersonCopy(models.Model):
    """What Folkeregisteret last said about a person hmsportal asked about.

    Kept for holders and order lines only (rows are written by lookups, never in bulk), so that
    the nightly re-check asks Folkeregisteret only about persons its event feed marks as
    changed (registry/person_copy.py).
    """

    national_id = models.CharField(_("national identity number"), max_length=11, primary_key=True)
    first_name = models.CharField(_("first name"), max_length=200, blank=True)
    last_name = models.CharField(_("last name"), max_length=200, blank=True)
    birth_date = models.DateField(_("date of birth"), null=True, blank=True)
    is_d_number = models.BooleanField(_("D-number"), default=False)
    id_in_use = models.BooleanField(_("identity number in use"), default=True)
    id_inactive_since = models.DateField(_("identity number inactive since"), null=True, blank=True)
    eea_citizen = models.BooleanField(_("EEA citizen"), default=True)
    permit_until = models.DateField(_("residence permit until"), null=True, blank=True)
    # When Folkeregisteret was asked (the facts are as of then).
    asked_at = models.DateTimeField(_("asked"))
    # Set by the event feed: an event about the person came after asked_at.
    changed_since = models.DateTimeField(_("changed in the register since"), null=True, blank=True)

    class Meta:
        verbose_name = _("person as last seen in Folkeregisteret")
        verbose_name_plural = _("persons as last seen in Folkeregisteret")

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name}"
