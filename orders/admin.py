from django.contrib import admin
from django.http import HttpRequest

from orders.models import Delegation, EmployeeUploadLink, Invoice, InvoiceLine, Order, OrderLine


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


class InvoiceLineInline(admin.TabularInline):
    model = InvoiceLine
    extra = 0
    can_delete = False
    fields = ("card_type_name", "person_name", "price_excl_vat", "vat", "price_incl_vat")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Invoice | None = None) -> bool:
        return False


@admin.register(Invoice)
class InvoiceAdmin(admin.ModelAdmin):
    """Invoices are read only: what was sent to the employer never changes."""

    list_display = ["number", "customer_name", "issued_on", "due_on", "total_incl_vat", "kid"]
    search_fields = ["number", "kid", "customer_orgnr", "customer_name"]
    inlines = [InvoiceLineInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Invoice | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Invoice | None = None) -> bool:
        return False
