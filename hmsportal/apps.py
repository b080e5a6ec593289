from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class HmsportalConfig(AppConfig):
    default = True
    name = "hmsportal"
    verbose_name = "HMS-kortportalen"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in, user_login_failed

        from hmsportal import audit

        # Logins reach the audit trail through Django's own signals: every way in (ID-porten,
        # the development login, the admin) passes through auth.login or authenticate.
        user_logged_in.connect(audit.login_recorded, dispatch_uid="hmsportal.audit.login")
        user_login_failed.connect(
            audit.login_failure_recorded, dispatch_uid="hmsportal.audit.login_failed"
        )


class PortalAdminConfig(admin_apps.AdminConfig):
    """Django's admin on the portal's admin site, which asks staff for a second factor."""

    # Named in INSTALLED_APPS; never the default of the hmsportal app.
    default = False
    default_site = "hmsportal.admin_site.PortalAdminSite"
