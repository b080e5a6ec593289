"""The portal's user (a person logged in through ID-porten or the development login) and the
audit trail of changes."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hmsportal.phone import validate_mobile_e164


class User(AbstractUser):
    """A person using the portal, identified by fødselsnummer or D-number when logged in
    through ID-porten; back-office staff may have none."""

    class Language(models.TextChoices):
        NB = "nb", _("Norwegian bokmål")
        EN = "en", _("English")

    national_id = models.CharField(
        _("national identity number"), max_length=11, unique=True, null=True, blank=True
    )
    full_name = models.CharField(_("full name"), max_length=200, blank=True)
    # `email` (from AbstractUser) is the address mail goes to once email_confirmed_at is set.
    # A new address waits in pending_email until the person follows the link sent to it, so
    # the confirmed one keeps working meanwhile.
    email_confirmed_at = models.DateTimeField(_("e-mail confirmed at"), null=True, blank=True)
    pending_email = models.EmailField(_("e-mail waiting for confirmation"), blank=True)
    mobile = models.CharField(
        _("mobile number"), max_length=16, blank=True, validators=[validate_mobile_e164]
    )
    language = models.CharField(
        _("language"), max_length=2, choices=Language.choices, default=Language.NB
    )

    def __str__(self) -> str:
        return self.full_name or self.username

    @property
    def confirmed_email(self) -> str:
        """The address the person has confirmed, or "" (then no mail is sent to them)."""
        return self.email if self.email and self.email_confirmed_at else ""


class AuditTrailIsAppendOnly(Exception):
    """An audit entry cannot be changed or deleted, only added."""


class AuditEntryQuerySet(models.QuerySet["AuditEntry"]):
    """Reads and inserts only: the trail is append-only (PostgreSQL's trigger refuses too)."""

    def update(self, **kwargs: Any) -> int:
        raise AuditTrailIsAppendOnly("the audit trail cannot be updated")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AuditTrailIsAppendOnly("the audit trail cannot be deleted from")

    def bulk_update(self, *args: Any, **kwargs: Any) -> int:
        raise AuditTrailIsAppendOnly("the audit trail cannot be updated")

    # QuerySet.delete is flagged so templates cannot call it; keep that on the override.
    delete.alters_data = True  # type: ignore[attr-defined]
    delete.queryset_only = True  # type: ignore[attr-defined]
    update.alters_data = True  # type: ignore[attr-defined]


class AuditEntry(models.Model):
    """One recorded change: who, for which organisation, what, before and after, when, from
    where. Written only by hmsportal.audit.audit_record; never changed or deleted."""

    class Action(models.TextChoices):
        ORDER_PLACED = "order.placed", _("Order placed")
        LINE_APPROVED = "order_line.approved", _("Approved after the register check")
        LINE_REJECTED = "order_line.rejected", _("Rejected after the register check")
        LINE_AWAITING = (
            "order_line.awaiting_registration",
            _("Waiting for Aa-registeret after the register check"),
        )
        DELEGATION_GRANTED = "delegation.granted", _("Access given")
        DELEGATION_REVOKED = "delegation.revoked", _("Access removed")
        DELEGATION_FLAGGED = (
            "delegation.flagged",
            _("Access flagged: the person who gave it no longer has a role"),
        )
        DELEGATION_CONFIRMED = "delegation.confirmed", _("Flagged access confirmed")
        DELEGATION_ENDED = "delegation.ended", _("Flagged access ended: not confirmed in time")
        CARD_ISSUED = "card.issued", _("Card issued")
        CARD_STATE_CHANGED = "card.state_changed", _("Card changed state")
        CARD_REVOKED = "card.revoked", _("Card revoked")
        CARD_REPLACED = "card.replaced", _("Card replaced")
        CARD_IMPORTED = "card.imported", _("Card imported from the previous producer")
        UPLOAD_LINK_ISSUED = "upload.link_issued", _("Upload link sent to the employee")
        UPLOAD_FILES_RECEIVED = "upload.files_received", _("Files uploaded by the employee")
        IDENTITY_CHECKED = "upload.identity_checked", _("The employee's ID checked by the orderer")
        UPLOAD_KEPT = "upload.kept", _("Uploaded file kept for the order form")
        CONTACT_CHANGED = "contact.changed", _("Contact details changed")
        EMAIL_CONFIRMED = "contact.email_confirmed", _("E-mail address confirmed")
        LOGIN = "login.succeeded", _("Logged in")
        LOGIN_FAILED = "login.failed", _("Login failed")

    at = models.DateTimeField(_("when"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        "hmsportal.User",
        # An audit trail outlives nothing it names: a person with entries cannot be deleted
        # (deactivate them instead), and SET_NULL would be an UPDATE, which the trail refuses.
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("who"),
    )
    # The name as it was when the change was made (names change; the trail must not).
    actor_name = models.CharField(_("who (name then)"), max_length=200, blank=True)
    organisation_orgnr = models.CharField(
        _("organisation number"), max_length=9, blank=True, db_index=True
    )
    action = models.CharField(_("what"), max_length=40, choices=Action.choices, db_index=True)
    subject_type = models.CharField(_("kind of record"), max_length=60, blank=True)
    subject_id = models.CharField(_("record"), max_length=40, blank=True)
    subject_label = models.CharField(_("record name"), max_length=200, blank=True)
    before = models.JSONField(_("before"), default=dict, blank=True)
    after = models.JSONField(_("after"), default=dict, blank=True)
    request_ip = models.GenericIPAddressField(_("from address"), null=True, blank=True)

    objects = AuditEntryQuerySet.as_manager()

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit trail")
        ordering = ["-at", "-pk"]
        indexes = [
            models.Index(fields=["organisation_orgnr", "-at"], name="audit_org_at_idx"),
            models.Index(fields=["subject_type", "subject_id"], name="audit_subject_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} {self.subject_label}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding or kwargs.get("force_update") or kwargs.get("update_fields"):
            raise AuditTrailIsAppendOnly("an audit entry cannot be changed")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AuditTrailIsAppendOnly("an audit entry cannot be deleted")


class OutboxMessage(models.Model):
    """A task a service asked for, written in the service's own transaction (hmsportal/outbox.py).

    The row commits with the change that needs the task, so a broker that is down when the
    change is made loses nothing: the dispatcher hands the row to the broker once it answers.
    """

    task_name = models.CharField(_("task"), max_length=200)
    kwargs = models.JSONField(_("arguments"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    # Set in the transaction that handed the message to the broker.
    dispatched_at = models.DateTimeField(_("handed to the broker at"), null=True, blank=True)
    # Set by the worker when the task body has finished, so that a second delivery of the
    # same message (hmsportal.celery.PortalTask) does not run it again.
    consumed_at = models.DateTimeField(_("carried out at"), null=True, blank=True)
    attempts = models.PositiveIntegerField(_("failed attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)

    class Meta:
        verbose_name = _("outbox message")
        verbose_name_plural = _("outbox")
        indexes = [
            # The dispatcher reads only what waits; the index stays as small as that.
            models.Index(
                fields=["id"],
                condition=models.Q(dispatched_at__isnull=True),
                name="outbox_waiting_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.task_name}"
