"""The embedded registry is editable in the admin (demo and test data)."""

from django.contrib import admin
from django.http import HttpRequest

from registry.models import (
    CleaningApproval,
    Employment,
    Organisation,
    Person,
    RegisterFileLoad,
    RegisterLookup,
    Role,
    StaffingApproval,
)


class RoleInline(admin.TabularInline):
    model = Role
    extra = 0
    raw_id_fields = ["person"]


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ["orgnr", "name", "form", "parent", "bankrupt", "deleted_on"]
    list_filter = ["form", "bankrupt", "under_liquidation", "vat_registered"]
    search_fields = ["orgnr", "name"]
    raw_id_fields = ["parent"]
    inlines = [RoleInline]


@admin.register(Person)
class PersonAdmin(admin.ModelAdmin):
    list_display = ["national_id", "first_name", "last_name", "id_in_use", "permit_until"]
    search_fields = ["national_id", "first_name", "last_name"]


@admin.register(Employment)
class EmploymentAdmin(admin.ModelAdmin):
    list_display = ["person", "organisation", "start", "end"]
    raw_id_fields = ["person", "organisation"]
    search_fields = ["person__national_id", "organisation__orgnr"]


@admin.register(CleaningApproval)
class CleaningApprovalAdmin(admin.ModelAdmin):
    list_display = ["orgnr", "name", "status"]
    list_filter = ["status"]
    search_fields = ["orgnr", "name"]


@admin.register(StaffingApproval)
class StaffingApprovalAdmin(admin.ModelAdmin):
    list_display = ["orgnr", "name", "approved"]
    search_fields = ["orgnr", "name"]


@admin.register(RegisterLookup)
class RegisterLookupAdmin(admin.ModelAdmin):
    list_display = ["at", "register", "key", "outcome", "detail"]
    list_filter = ["register", "outcome"]
    search_fields = ["key"]
    date_hierarchy = "at"

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(RegisterFileLoad)
class RegisterFileLoadAdmin(admin.ModelAdmin):
    list_display = ["loaded_at", "register", "entries", "source_url"]
