from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.http import HttpRequest

from hmsportal.models import AuditEntry, OutboxMessage, User


@admin.register(User)
class PortalUserAdmin(UserAdmin):
    fieldsets = (
        *(UserAdmin.fieldsets or ()),
        (
            "HMS",
            {
                "fields": (
                    "national_id",
                    "full_name",
                    "email_confirmed_at",
                    "pending_email",
                    "mobile",
                    "language",
                )
            },
        ),
    )
    list_display = ["username", "full_name", "national_id", "is_staff"]
    search_fields = ["username", "full_name", "national_id"]


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """The audit trail, to read only: nobody adds, changes or deletes an entry here."""

    list_display = ["at", "action", "actor_name", "organisation_orgnr", "subject_label"]
    list_filter = ["action"]
    search_fields = ["organisation_orgnr", "actor_name", "subject_label"]
    date_hierarchy = "at"
    readonly_fields = [field.name for field in AuditEntry._meta.fields]
    actions = None

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: AuditEntry | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: AuditEntry | None = None) -> bool:
        return False


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """The outbox, to read only: what waits for the broker, and why (hmsportal/outbox.py).

    The arguments are not shown: an upload link's one-time token travels in them.
    """

    list_display = [
        "pk",
        "task_name",
        "created_at",
        "dispatched_at",
        "consumed_at",
        "attempts",
        "last_error",
    ]
    list_filter = [("dispatched_at", admin.EmptyFieldListFilter), "task_name"]
    date_hierarchy = "created_at"
    readonly_fields = [
        "task_name",
        "created_at",
        "dispatched_at",
        "consumed_at",
        "attempts",
        "last_error",
    ]
    fields = tuple(readonly_fields)
    actions = None

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: OutboxMessage | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: OutboxMessage | None = None) -> bool:
        return False
