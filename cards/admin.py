from typing import cast

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _

from cards.models import (
    ApiClient,
    Card,
    CardCheck,
    CardDesign,
    CardPrice,
    CardTransition,
    CardType,
    OrderingBlackout,
    Postage,
    PrintBatch,
    Producer,
)
from cards.services import REVOCABLE_STATES, RevocationReason, card_revoke
from hmsportal.models import User


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


@admin.register(Postage)
class PostageAdmin(admin.ModelAdmin):
    list_display = ["effective_from", "amount_incl_vat", "vat_rate"]


class CardTransitionInline(admin.TabularInline):
    model = CardTransition
    extra = 0
    readonly_fields = ["from_state", "to_state", "at", "actor", "reason"]
    can_delete = False


class CardCheckInline(admin.TabularInline):
    """The card's record of register checks: written by the checks only."""

    model = CardCheck
    extra = 0
    readonly_fields = ["at", "kind", "outcome", "reason_codes", "registers"]
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Card)
class CardAdmin(admin.ModelAdmin):
    """Cards change only through their services, so every change is a recorded transition."""

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
    exclude = ["photo", "pdf", "holder_national_id"]
    inlines = [CardTransitionInline, CardCheckInline]
    actions = ["withdraw"]

    def get_readonly_fields(self, request: HttpRequest, obj: object = None) -> list[str]:
        return [f.name for f in Card._meta.fields if f.name not in self.exclude]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    @admin.action(description=_("Withdraw the selected cards (revoke)"))
    def withdraw(self, request: HttpRequest, queryset: QuerySet[Card]) -> None:
        withdrawn = 0
        for card in queryset.filter(state__in=REVOCABLE_STATES):
            card_revoke(
                card=card, reason=RevocationReason.WITHDRAWN, actor=cast(User, request.user)
            )
            withdrawn += 1
        self.message_user(request, _("%(count)d cards withdrawn.") % {"count": withdrawn})


admin.site.register(Producer)
admin.site.register(OrderingBlackout)


@admin.register(PrintBatch)
class PrintBatchAdmin(admin.ModelAdmin):
    """Batches are made and shipped from the print queue, where every card move is recorded."""

    list_display = ["pk", "producer", "state", "created_at", "tracking_reference"]
    readonly_fields = [
        "producer",
        "state",
        "pdf",
        "progress_done",
        "progress_total",
        "tracking_reference",
        "created_by",
        "shipped_at",
    ]
    exclude = ["cards"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(ApiClient)
class ApiClientAdmin(admin.ModelAdmin):
    """Keys are issued with `manage.py create_api_client` (the key is shown only then)."""

    list_display = ["name", "key_prefix", "lookups_per_minute", "is_active"]
    readonly_fields = ["key_prefix", "key_hash"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
