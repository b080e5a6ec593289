"""Ordering pages, split by who uses them: the employer's pages and the cardholder's own."""

from orders.views.cardholder import my_card_detail, my_card_report, my_cards
from orders.views.employer import (
    card_detail,
    card_list,
    delegation_list,
    employer_overview,
    invoice_pdf,
    kept_photo,
    order_card,
    order_detail,
    organisation_list,
)

__all__ = [
    "card_detail",
    "card_list",
    "delegation_list",
    "employer_overview",
    "invoice_pdf",
    "kept_photo",
    "my_card_detail",
    "my_card_report",
    "my_cards",
    "order_card",
    "order_detail",
    "organisation_list",
]
