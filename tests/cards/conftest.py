from __future__ import annotations

import pytest

from hmsportal import ratelimit

WINDOW_START = 1_800_000_000.0  # a multiple of 60: the start of a rate-limit window


@pytest.fixture
def pinned_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """Ten seconds into a window, so a test's requests cannot straddle two windows."""
    monkeypatch.setattr(ratelimit, "_now", lambda: WINDOW_START + 10)
