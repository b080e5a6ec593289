"""Settings of the status benchmark's server: the portal's own, plus the bench-only URL."""

from hmsportal.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
