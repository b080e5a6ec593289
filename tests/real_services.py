"""Real services a test starts and stops itself: a Redis on a port of its own, a Celery worker
process, and the portal's Celery app pointed at that Redis.

Tests of outages use these rather than the shared REDIS_URL: stopping the shared Redis would
break every other test, and a worker told to give back abandoned messages quickly would take
other tests' messages from a shared database.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import redis
from django.conf import settings

from hmsportal import outbox
from hmsportal.celery import app as celery_app

ROOT = Path(__file__).resolve().parent.parent

# A worker whose render chunk is small, so a test can kill it between two chunks of a batch
# (cards.batches.RENDER_CHUNK_CARDS is a module constant, patched here in the worker only).
_WORKER_WITH_SMALL_CHUNKS = """
import os, sys
import django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hmsportal.settings")
django.setup()
import cards.batches
cards.batches.RENDER_CHUNK_CARDS = int(os.environ["TEST_RENDER_CHUNK_CARDS"])
from celery.__main__ import main
sys.argv = ["celery", *sys.argv[1:]]
main()
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class RedisServer:
    """A redis-server process on its own port, without persistence; stop() and start() again."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                shutil.which("redis-server") or "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = self.client()
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                return
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url, socket_connect_timeout=2)

    def queued_tasks(self, queue: str) -> list[str]:
        """The task names of the messages waiting in a queue, oldest first."""
        import json

        raw = self.client().lrange(queue, 0, -1)
        return [json.loads(message)["headers"]["task"] for message in reversed(raw)]


def _pools_reset() -> None:
    # The app keeps connection and producer pools for the broker it first talked to.
    celery_app.pool.force_close_all()
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@contextmanager
def app_on_broker(url: str, queue: str) -> Iterator[None]:
    """The portal's Celery app sends to this broker and queue, for real (not eagerly)."""
    previous = (
        celery_app.conf.broker_url,
        celery_app.conf.task_default_queue,
        celery_app.conf.task_always_eager,
    )
    _pools_reset()
    celery_app.conf.broker_url = url
    celery_app.conf.task_default_queue = queue
    celery_app.conf.task_always_eager = False
    outbox._broker_down_until = 0.0
    try:
        yield
    finally:
        _pools_reset()
        (
            celery_app.conf.broker_url,
            celery_app.conf.task_default_queue,
            celery_app.conf.task_always_eager,
        ) = previous
        outbox._broker_down_until = 0.0


def worker_env(*, broker_url: str, queue: str, **extra: str) -> dict[str, str]:
    database = settings.DATABASES["default"]
    return {
        **os.environ,
        "DATABASE_URL": (
            f"postgres://{database['USER']}:{database.get('PASSWORD') or ''}@"
            f"{database['HOST'] or '127.0.0.1'}:{database['PORT'] or 5432}/{database['NAME']}"
        ),
        "CELERY_BROKER_URL": broker_url,
        "REDIS_URL": broker_url,
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "PORTAL_BASE_URL": settings.PORTAL_BASE_URL,
        **extra,
    }


def worker_start(
    *,
    env: dict[str, str],
    queue: str,
    name: str,
    small_chunks: int | None = None,
    pool: str = "solo",
) -> subprocess.Popen[str]:
    """A `celery worker` process: by default with the solo pool, where the process that
    consumes is the one a test kills; "prefork" runs one pool process under the worker."""
    arguments = [
        "-A",
        "hmsportal",
        "worker",
        "--pool",
        pool,
        "--concurrency",
        "1",
        "-Q",
        queue,
        "--hostname",
        f"{name}@%h",
        "--loglevel",
        "INFO",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
    ]
    if small_chunks is None:
        command = [sys.executable, "-m", "celery", *arguments]
    else:
        command = [sys.executable, "-c", _WORKER_WITH_SMALL_CHUNKS, *arguments]
        env = {**env, "TEST_RENDER_CHUNK_CARDS": str(small_chunks)}
    return subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def worker_stop(worker: subprocess.Popen[str]) -> str:
    """Stop the worker if it still runs; its output (the end of it) for the test's log."""
    if worker.poll() is None:
        worker.terminate()
    try:
        output, _ = worker.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        worker.kill()
        output, _ = worker.communicate()
    return (output or "")[-5000:]
