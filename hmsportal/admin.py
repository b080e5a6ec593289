from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from hmsportal.models import User


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
