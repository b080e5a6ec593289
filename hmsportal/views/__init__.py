"""Project-level pages, split by concern: public pages, the login and the person's account."""

from hmsportal.views.account import contact_confirm, contact_details, set_language
from hmsportal.views.login import dev_login, login_page
from hmsportal.views.pages import healthz, home

__all__ = [
    "contact_confirm",
    "contact_details",
    "dev_login",
    "healthz",
    "home",
    "login_page",
    "set_language",
]
