"""Ordering pages, split by who uses them: the employer's pages and the cardholder's own."""

from orders.views.audit import organisation_audit
from orders.views.cardholder import my_card_detail, my_card_report, my_cards
from orders.views.employer import (
    card_detail,
    card_list,
    delegation_list,
    employer_overview,
    invoice_pdf,
    kept_photo,
    order_card,
    order_confirmation_pdf,
    order_detail,
    order_lines,
    organisation_list,
    upload_link_resend,
)
from orders.views.public import order_confirmation

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
    "order_confirmation",
    "order_confirmation_pdf",
    "order_detail",
    "order_lines",
    "organisation_audit",
    "organisation_list",
    "upload_link_resend",
]
