"""Issue 11 point 1 (a): Redis, the broker, is down when an order is submitted.

The test stops a Redis of its own (tests/real_services.py) and submits an order through the
real view: the employer sees the order received, the order and its tasks are kept in the
outbox; once Redis answers again the beat task hands the tasks over, and a real worker
checks the line and issues the card.
"""

from __future__ import annotations

import time
import uuid

import pytest
from django.urls import reverse
from django.utils.html import escape
from django.utils.translation import gettext

from hmsportal.models import OutboxMessage
from hmsportal.tasks import outbox_dispatch
from orders.models import OrderLine
from registry.datasets import registry_dataset_load
from tests.datasets import EMPLOYER, WORKER, ensure_card_catalogue
from tests.datasets import small_dataset as _dataset
from tests.real_services import app_on_broker, worker_env, worker_start, worker_stop
from tests.test_slice import _order_one_card

pytestmark = [
    pytest.mark.services,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_an_order_made_while_the_broker_is_down_is_received_and_checked_once_it_is_back(
    client, settings, own_redis
) -> None:
    settings.DEV_LOGIN_ENABLED = True
    ensure_card_catalogue()
    registry_dataset_load(dataset=_dataset())
    queue = f"broker-down-{uuid.uuid4().hex[:8]}"

    with app_on_broker(own_redis.url, queue):
        own_redis.stop()
        _order_one_card(client)
        line = OrderLine.objects.get(national_id=WORKER)
        page = client.get(
            reverse("orders:order_detail", kwargs={"orgnr": EMPLOYER, "order_id": line.order_id})
        )

        # The employer sees the order received, as on any day.
        assert page.status_code == 200
        received = gettext(
            "The order is placed. We are checking the registers now; this page shows the result."
        )
        assert escape(received) in page.content.decode()
        assert line.state == OrderLine.State.SUBMITTED
        waiting = list(OutboxMessage.objects.order_by("pk"))
        assert [message.task_name for message in waiting] == [
            "orders.check_order_line",
            "orders.tell_orderer_confirmed",
        ]
        assert waiting[0].kwargs == {"line_id": line.pk}
        assert all(message.dispatched_at is None for message in waiting)
        # The first was tried right after the commit; the process then left the broker alone.
        assert (waiting[0].attempts, waiting[1].attempts) == (1, 0)
        assert "Connection refused" in waiting[0].last_error

        # Redis answers again: the beat task hands both over, oldest first.
        own_redis.start()
        assert outbox_dispatch() == 2
        assert own_redis.queued_tasks(queue) == [
            "orders.check_order_line",
            "orders.tell_orderer_confirmed",
        ]
        assert not OutboxMessage.objects.filter(dispatched_at__isnull=True).exists()
        assert outbox_dispatch() == 0

        # A real worker takes them: the line is checked and its card issued and rendered.
        worker = worker_start(
            env=worker_env(broker_url=own_redis.url, queue=queue), queue=queue, name=queue
        )
        try:
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline:
                # Checked, confirmed, and the card it issued rendered: three messages.
                if OutboxMessage.objects.filter(consumed_at__isnull=False).count() == 3:
                    break
                assert worker.poll() is None, "the Celery worker died"
                time.sleep(0.25)
            else:
                pytest.fail("the worker did not check the line within 90 s")
        finally:
            print(worker_stop(worker))
    line = OrderLine.objects.select_related("card").get(national_id=WORKER)
    assert line.state == OrderLine.State.APPROVED
    assert line.card is not None and line.card.pdf
    assert line.order.confirmation_mailed_at is not None
    assert not OutboxMessage.objects.filter(dispatched_at__isnull=True).exists()
