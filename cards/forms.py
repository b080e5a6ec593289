"""Forms of the cards back office (print queue, print batches). Every error says what to do."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from cards.batches import (
    MAX_BATCH_CARDS,
    InvalidTrackingReference,
    print_queue_cards,
    tracking_reference_clean,
)


class CardIdsField(forms.Field):
    """Card ids from the queue table's checkboxes: whole numbers, at most MAX_BATCH_CARDS."""

    widget = forms.MultipleHiddenInput
    default_error_messages = {
        "invalid": _("The chosen cards could not be read. Reload the page and choose again."),
        "too_many": _("Choose at most %(max)d cards for one batch."),
    }

    def to_python(self, value: Any) -> list[int]:
        if value in self.empty_values:
            return []
        if not isinstance(value, list | tuple):
            value = [value]
        if len(value) > MAX_BATCH_CARDS:
            raise forms.ValidationError(
                self.error_messages["too_many"], code="too_many", params={"max": MAX_BATCH_CARDS}
            )
        ids: list[int] = []
        for item in value:
            text = str(item).strip()
            # isdecimal() alone would let through digits of other scripts and huge numbers.
            if not (text.isascii() and text.isdigit() and len(text) <= 18):
                raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
            ids.append(int(text))
        return list(dict.fromkeys(ids))


class PrintBatchCreateForm(forms.Form):
    """A new batch from the oldest N cards of the queue, or from the cards ticked in the table."""

    OLDEST = "oldest"
    SELECTED = "selected"

    selection = forms.ChoiceField(
        choices=[(OLDEST, _("The oldest cards")), (SELECTED, _("The chosen cards"))],
        widget=forms.HiddenInput,
        error_messages={
            "required": _("Choose which cards go into the batch."),
            "invalid_choice": _("Choose which cards go into the batch."),
        },
    )
    count = forms.IntegerField(
        label=_("Number of cards"),
        help_text=format_lazy(
            _("The oldest cards in the queue go first. Leave empty for all, up to {max}."),
            max=MAX_BATCH_CARDS,
        ),
        required=False,
        min_value=1,
        max_value=MAX_BATCH_CARDS,
        error_messages={
            "invalid": _("Enter the number of cards as a whole number, for example 200."),
            "min_value": _("Enter a number of cards of at least 1."),
            "max_value": _("A batch can hold at most %(limit_value)s cards."),
        },
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    cards = CardIdsField(label=_("Cards"), required=False)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        selection = cleaned.get("selection")
        if selection == self.OLDEST and "count" in cleaned:
            count = cleaned["count"] or MAX_BATCH_CARDS
            ids = list(print_queue_cards().values_list("pk", flat=True)[:count])
            if not ids:
                raise forms.ValidationError(_("There are no cards in the print queue."))
            cleaned["card_ids"] = ids
        elif selection == self.SELECTED and "cards" in cleaned:
            ids = cleaned["cards"]
            if not ids:
                self.add_error("cards", _("Tick at least one card in the table."))
                return cleaned
            queued = set(print_queue_cards().filter(pk__in=ids).values_list("pk", flat=True))
            if missing := [pk for pk in ids if pk not in queued]:
                self.add_error(
                    "cards",
                    _(
                        "%(count)d of the chosen cards are not in the print queue (any more). "
                        "Reload the page and choose again."
                    )
                    % {"count": len(missing)},
                )
                return cleaned
            cleaned["card_ids"] = ids
        return cleaned


class PrintBatchShipForm(forms.Form):
    """The producer's tracking reference for a shipped batch."""

    tracking_reference = forms.CharField(
        label=_("Tracking reference"),
        help_text=_("The consignment number from the courier: 4 to 100 letters, digits or dashes."),
        max_length=100,
        error_messages={
            "required": _("Enter the tracking reference of the shipment."),
            "max_length": _("The tracking reference can be at most 100 characters long."),
        },
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )

    def clean_tracking_reference(self) -> str:
        try:
            return tracking_reference_clean(self.cleaned_data["tracking_reference"])
        except InvalidTrackingReference as error:
            raise forms.ValidationError(str(error)) from None
