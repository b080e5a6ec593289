"""Project-level pages, split by concern: public pages and the login."""

from hmsportal.views.pages import dev_login, healthz, home, login_page

__all__ = ["dev_login", "healthz", "home", "login_page"]
