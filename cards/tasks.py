"""Celery tasks of the cards app: they load ids and call a service."""

from __future__ import annotations

import datetime

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from cards import services


@shared_task(name="cards.render_card_pdf", acks_late=True, max_retries=3, default_retry_delay=30)
def render_card_pdf(*, card_id: int) -> None:
    services.card_render_pdf(card_id=card_id)


@shared_task(name="cards.recheck_all_cards", acks_late=True)
def recheck_all_cards() -> dict[str, int]:
    activated = services.cards_activate_delivered(
        shipped_before=timezone.now() - datetime.timedelta(days=settings.CARD_DELIVERY_DAYS)
    )
    summary = services.cards_recheck_all()
    return {
        "checked": summary.checked,
        "became_invalid": summary.became_invalid,
        "became_valid": summary.became_valid,
        "expired": summary.expired,
        "failed_lookups": summary.failed_lookups,
        "activated": activated,
    }


@shared_task(name="cards.recheck_organisations", acks_late=True)
def recheck_organisations_task(*, orgnrs: list[str]) -> None:
    services.cards_recheck_all(employer_orgnrs=orgnrs)


def recheck_organisations(orgnrs: list[str]) -> None:
    """The registry's change-feed hook: cards of changed organisations are re-checked now."""
    if orgnrs:
        recheck_organisations_task.delay(orgnrs=sorted(set(orgnrs)))
