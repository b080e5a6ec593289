"""Whether a person is waiting for a register's answer, and how long a call may take then.

A worker can wait out a register's bad moment with the long REGISTER_TIMEOUT_SECONDS and
backed-off retries. A web request has a person in front of it: the middleware
(hmsportal.middleware.RegistersAnswerPeopleQuickly) marks the request, and every register
call made while serving it uses REGISTER_WEB_TIMEOUT_SECONDS instead, so a register that
answers slowly costs the page at most that long before it says which register is not
answering (issue 11, point 1 c). A context variable, not an argument: the register clients
sit several calls below the views (permissions, selectors, services shared with tasks), and
the one place that knows a person waits is the request's entry point.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.conf import settings

_person_waiting: ContextVar[bool] = ContextVar("register_person_waiting", default=False)


@contextmanager
def person_waiting() -> Iterator[None]:
    """Register calls inside this block use the web timeout and retry once, without waiting."""
    token = _person_waiting.set(True)
    try:
        yield
    finally:
        _person_waiting.reset(token)


def is_person_waiting() -> bool:
    return _person_waiting.get()


def register_timeout_seconds() -> float:
    """The timeout for one register call: the short web one while a person waits."""
    if _person_waiting.get():
        return float(getattr(settings, "REGISTER_WEB_TIMEOUT_SECONDS", 2.0))
    return float(getattr(settings, "REGISTER_TIMEOUT_SECONDS", 5.0))
