"""Reads of the ordering side, split by who reads them: the employer's pages and tasks, the
cardholder's own page, and the account of personal data held about a person."""

from orders.selectors.cardholder import (
    HistoryEntry,
    HolderCard,
    card_history,
    card_register_checks,
    holder_card,
    holder_cards,
    order_line_behind,
)
from orders.selectors.employer import (
    delegated_orgnrs,
    delegations_for_employer,
    delegations_in_force,
    employer_unit_names,
    latest_line_by_person,
    lines_awaiting_registration,
    open_line_for,
    order_for_employer,
    order_for_submission,
    order_line_for_confirmation,
    order_line_for_employer,
    order_lines_with_cards,
    orders_for_employer,
    renewable_cards,
    unit_names_of,
    upload_links_live,
)
from orders.selectors.personal_data import PersonalDataCategory, personal_data_for

__all__ = [
    "HistoryEntry",
    "HolderCard",
    "PersonalDataCategory",
    "card_history",
    "card_register_checks",
    "delegated_orgnrs",
    "delegations_for_employer",
    "delegations_in_force",
    "employer_unit_names",
    "holder_card",
    "holder_cards",
    "latest_line_by_person",
    "lines_awaiting_registration",
    "open_line_for",
    "order_for_employer",
    "order_for_submission",
    "order_line_behind",
    "order_line_for_confirmation",
    "order_line_for_employer",
    "order_lines_with_cards",
    "orders_for_employer",
    "personal_data_for",
    "renewable_cards",
    "unit_names_of",
    "upload_links_live",
]
