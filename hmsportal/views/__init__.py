"""Project-level pages, split by concern: public pages and the login."""

from hmsportal.views.login import dev_login, login_page
from hmsportal.views.pages import healthz, home

__all__ = ["dev_login", "healthz", "home", "login_page"]
