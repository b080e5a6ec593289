"""The Celery application: register checks and card PDFs run on its workers."""

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hmsportal.settings")

app = Celery("hmsportal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

app.conf.beat_schedule = {
    # The whole card population is re-checked at night, when the registers are quiet.
    "recheck-cards-nightly": {
        "task": "cards.recheck_all_cards",
        "schedule": crontab(hour=2, minute=15),
    },
    # Renholdsregisteret and Bemanningsforetaksregisteret publish whole files daily.
    "registry-open-data-daily": {
        "task": "registry.load_open_data",
        "schedule": crontab(hour=5, minute=30),
    },
    # Bankruptcies and deletions reach the affected cards within the hour.
    "registry-change-feed-hourly": {
        "task": "registry.read_change_feed",
        "schedule": crontab(minute=7),
    },
    # Order lines waiting for Aa-registeret to show a new employment are retried daily.
    "recheck-awaiting-order-lines": {
        "task": "orders.recheck_awaiting_order_lines",
        "schedule": crontab(hour=6, minute=0),
    },
    # Files kept for an order form that came back with an error live an hour at most.
    "purge-upload-stash": {
        "task": "orders.purge_upload_stash",
        "schedule": crontab(minute="*/10"),
    },
    # A bulk order's checked photos and ID copies are kept a week at most (orders/bulk.py).
    "expire-bulk-uploads": {
        "task": "orders.expire_bulk_uploads",
        "schedule": crontab(hour=3, minute=40),
    },
    # Lines still waiting after that get their orderer reminded, once (ORDER_REMINDER_AFTER_DAYS).
    "remind-waiting-orderers": {
        "task": "orders.remind_waiting_orderers",
        "schedule": crontab(hour=7, minute=0),
    },
    # Each organisation's administrators get one digest of what needs them, once a day after
    # the night's re-check and the morning's retry of waiting order lines.
    "administrator-digests-daily": {
        "task": "orders.send_administrator_digests",
        "schedule": crontab(hour=7, minute=30),
    },
    # Access given by someone who has since lost their key role is flagged, its confirmation
    # asked of the current key-role holders, and ended when nobody confirms it in time.
    "review-delegations-daily": {
        "task": "orders.review_delegations",
        "schedule": crontab(hour=3, minute=0),
    },
}
