"""Filters on the console handler that keep the log quiet and free of identity numbers.

An expected client error (a 403 for a page someone may not see, a 404 for an id that does
not exist, a 400 for a bad Host header) is one line: Django logs them with the exception's
traceback, which says nothing about a request that was answered as designed. And a line
about a person names them by an internal id; identity numbers that slip into a line anyway
(a register's error text, a third-party library) are masked before it is written.
"""

from __future__ import annotations

import logging


class ClientErrorsWithoutTraceback(logging.Filter):
    """Drop the traceback from records about requests answered with a 4xx status."""

    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "status_code", None)
        if isinstance(status, int) and 400 <= status < 500:
            record.exc_info = None
            record.exc_text = None
        return True


class IdentityNumbersMasked(logging.Filter):
    """Mask fødselsnumre and D-numbers in the message and the traceback, as the audit
    trail does (hmsportal.audit.identity_number_masked)."""

    def filter(self, record: logging.LogRecord) -> bool:
        # Imported here: the logging configuration is read before the apps are loaded.
        from hmsportal.audit import identity_number_masked

        try:
            message = record.getMessage()
        except Exception:  # a broken format string is for logging itself to report
            return True
        masked = identity_number_masked(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = identity_number_masked(record.exc_text)
        return True
