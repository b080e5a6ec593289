from django.contrib import admin
from django.http import HttpRequest

from orders.models import Delegation, EmployeeUploadLink, Order, OrderLine


class OrderLineInline(admin.TabularInline):
    model = OrderLine
    extra = 0
    fields = ("first_name", "last_name", "card_type", "state", "reason_codes", "card")
    readonly_fields = ("first_name", "last_name", "card_type", "state", "reason_codes", "card")


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ["pk", "employer_name", "employer_orgnr", "ordered_by", "created_at"]
    search_fields = ["employer_orgnr", "employer_name"]
    inlines = [OrderLineInline]


@admin.register(Delegation)
class DelegationAdmin(admin.ModelAdmin):
    list_display = [
        "employer_orgnr",
        "grantee_national_id",
        "valid_from",
        "valid_until",
        "revoked_at",
    ]
    search_fields = ["employer_orgnr", "grantee_national_id"]


@admin.register(EmployeeUploadLink)
class EmployeeUploadLinkAdmin(admin.ModelAdmin):
    """Read only: links are made and replaced by the orderer, never by hand."""

    list_display = ("order_line", "email", "created_at", "expires_at", "used_at", "replaced_at")
    fields = (*list_display, "created_by")
    readonly_fields = (*list_display, "created_by")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
