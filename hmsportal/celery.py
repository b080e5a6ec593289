"""The Celery application: register checks and card PDFs run on its workers."""

import logging
import os
from typing import Any

from celery import Celery, Task
from celery.schedules import crontab
from celery.signals import worker_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hmsportal.settings")

logger = logging.getLogger(__name__)


class PortalTask(Task):  # type: ignore[misc]
    """Every task of the portal: a delivery of an outbox message already carried out is skipped.

    The outbox delivers at least once (hmsportal/outbox.py): a dispatcher that dies between
    sending and recording it sends the message again. The message's task id names it, and the
    message is marked carried out when the task body returns, so the second delivery does
    nothing. A task that fails or is retried is not marked, and a worker killed mid-task has
    its message delivered again (acks_late): it then runs again, which each task allows.
    """

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        from hmsportal import outbox

        message_id = outbox.outbox_message_id(self.request.id)
        if message_id is None:
            return super().__call__(*args, **kwargs)
        if outbox.outbox_consumed(message_id=message_id):
            logger.info("%s: outbox message %s already carried out, skipped", self.name, message_id)
            return None
        result = super().__call__(*args, **kwargs)
        outbox.outbox_consumed_mark(message_id=message_id)
        return result


app = Celery("hmsportal", task_cls=PortalTask)
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

app.conf.beat_schedule = {
    # Tasks recorded while the broker was down (hmsportal/outbox.py) go out once it answers.
    # A run that waits in a queue longer than the interval is useless: the next one comes.
    "outbox-dispatch": {
        "task": "hmsportal.outbox_dispatch",
        "schedule": 15.0,
        "options": {"expires": 15},
    },
    # The whole card population is re-checked at night, when the registers are quiet.
    "recheck-cards-nightly": {
        "task": "cards.recheck_all_cards",
        "schedule": crontab(hour=2, minute=15),
    },
    # Enhetsregisteret's bulk files, before the night's re-check reads organisations from them.
    "registry-enhetsregisteret-nightly": {
        "task": "registry.load_enhetsregisteret",
        "schedule": crontab(hour=1, minute=0),
    },
    # A night's run whose chunks were lost (a worker killed, a deploy) gets them sent again.
    "recheck-runs-resume": {
        "task": "cards.recheck_runs_resume",
        "schedule": crontab(minute="*/5"),
        "options": {"expires": 300},
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
    # Persons whose identity number, name or residence changed are asked again at night.
    "registry-person-events-hourly": {
        "task": "registry.read_person_events",
        "schedule": crontab(minute=37),
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


@worker_ready.connect
def _outbox_dispatch_at_start(**_: Any) -> None:
    """A worker that starts hands over what waits in the outbox, without waiting for beat."""
    from hmsportal.outbox import outbox_dispatch

    try:
        outbox_dispatch()
    # Start-up must not fail for it: the beat task tries again within seconds.
    except Exception:
        logger.exception("The outbox could not be dispatched at worker start-up")
