"""hmsportal: ordering, administration and public status check of HMS cards."""

from hmsportal.celery import app as celery_app

__all__ = ["celery_app"]
