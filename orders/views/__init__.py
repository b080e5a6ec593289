"""Ordering pages, split by what they are for: the employer's organisation, cards and access
(employer), placing and following an order (ordering), the cardholder's own page
(cardholder) and the public order confirmation (public)."""

from orders.views.audit import organisation_audit
from orders.views.bulk import bulk_detail, bulk_order, bulk_progress, bulk_report_xlsx, bulk_upload
from orders.views.card_ending import card_end
from orders.views.cardholder import my_card_detail, my_card_report, my_cards
from orders.views.employer import (
    card_detail,
    card_export_csv,
    card_export_xlsx,
    card_list,
    card_renew,
    delegation_confirm,
    delegation_list,
    employer_overview,
    organisation_list,
)
from orders.views.ordering import (
    identity_confirm,
    invoice_pdf,
    kept_photo,
    line_document,
    order_card,
    order_confirmation_pdf,
    order_detail,
    order_lines,
    upload_link_resend,
)
from orders.views.public import order_confirmation

__all__ = [
    "bulk_detail",
    "bulk_order",
    "bulk_progress",
    "bulk_report_xlsx",
    "bulk_upload",
    "card_detail",
    "card_end",
    "card_export_csv",
    "card_export_xlsx",
    "card_list",
    "card_renew",
    "delegation_confirm",
    "delegation_list",
    "employer_overview",
    "identity_confirm",
    "invoice_pdf",
    "kept_photo",
    "line_document",
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
