from django.contrib import admin

from cards.models import (
    ApiClient,
    Card,
    CardDesign,
    CardPrice,
    CardTransition,
    CardType,
    OrderingBlackout,
    PrintBatch,
    Producer,
)


class CardPriceInline(admin.TabularInline):
    model = CardPrice
    extra = 0


class CardDesignInline(admin.TabularInline):
    model = CardDesign
    extra = 0


@admin.register(CardType)
class CardTypeAdmin(admin.ModelAdmin):
    list_display = ["code", "name_nb", "requires_cleaning_approval", "is_orderable"]
    inlines = [CardPriceInline, CardDesignInline]


class CardTransitionInline(admin.TabularInline):
    model = CardTransition
    extra = 0
    readonly_fields = ["from_state", "to_state", "at", "actor", "reason"]
    can_delete = False


@admin.register(Card)
class CardAdmin(admin.ModelAdmin):
    list_display = [
        "number",
        "holder_first_name",
        "holder_last_name",
        "employer_name",
        "state",
        "valid_until",
    ]
    list_filter = ["state", "card_type", "imported"]
    search_fields = ["number", "holder_last_name", "employer_orgnr"]
    # Transitions are written by services only, so the admin shows them read-only.
    readonly_fields = ["state", "number", "reason_codes", "checked_at"]
    exclude = ["photo", "pdf"]
    inlines = [CardTransitionInline]


admin.site.register(Producer)
admin.site.register(OrderingBlackout)


@admin.register(PrintBatch)
class PrintBatchAdmin(admin.ModelAdmin):
    list_display = ["pk", "producer", "state", "created_at", "tracking_reference"]
    readonly_fields = ["state", "pdf", "progress_done", "progress_total"]
    filter_horizontal = ["cards"]


@admin.register(ApiClient)
class ApiClientAdmin(admin.ModelAdmin):
    list_display = ["name", "key_prefix", "lookups_per_minute", "is_active"]
    readonly_fields = ["key_prefix", "key_hash"]
