from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class HmsportalConfig(AppConfig):
    default = True
    name = "hmsportal"
    verbose_name = "HMS-kortportalen"


class PortalAdminConfig(admin_apps.AdminConfig):
    """Django's admin on the portal's admin site, which asks staff for a second factor."""

    # Named in INSTALLED_APPS; never the default of the hmsportal app.
    default = False
    default_site = "hmsportal.admin_site.PortalAdminSite"
