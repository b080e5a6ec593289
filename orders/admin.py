from django.contrib import admin

from orders.models import Delegation, Order, OrderLine


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
