"""WSGI entry point of the status benchmark: hmsportal with bench/settings.py."""

import os

from django.core.wsgi import get_wsgi_application

os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
application = get_wsgi_application()
