from django.contrib import admin
from django.urls import include, path

from cards.status_views import api_urlpatterns
from hmsportal import views
from hmsportal.views import errors
from hmsportal.views import login as login_views
from hmsportal.views.audit import backoffice_audit
from orders import views as order_views

urlpatterns = [
    # First: the status API and the status check are the busiest routes by far (site
    # systems' calls, every scanned QR code), and Django tries the patterns in order
    # (bench/README.md). The API is not under an include: one level less to resolve.
    *api_urlpatterns,
    path("", include("cards.urls")),
    path("", views.home, name="home"),
    path("login/", views.login_page, name="login"),
    path("login/idporten/", login_views.IdPortenLoginView.as_view(), name="idporten_login"),
    path(
        "login/idporten/callback/",
        login_views.IdPortenCallbackView.as_view(),
        name="idporten_callback",
    ),
    path("login/dev/", views.dev_login, name="dev_login"),
    path("login/done/", login_views.after_login, name="after_login"),
    path("logout/", login_views.logout, name="logout"),
    path("logout/done/", login_views.logged_out, name="logged_out"),
    path("healthz/", views.healthz, name="healthz"),
    path("account/contact/", views.contact_details, name="contact_details"),
    path("account/contact/confirm/<str:token>/", views.contact_confirm, name="contact_confirm"),
    # Without CSRF (see views.set_language): the display language, remembered on the user.
    path("i18n/setlang/", views.set_language, name="set_language"),
    path("backoffice/audit/", backoffice_audit, name="backoffice_audit"),
    path("orders/", include("orders.urls")),
    path("my-cards/", include("orders.cardholder_urls")),
    # The employee's own upload of photo and ID document, by the personal link (no login).
    path("u/", include("orders.employee_upload_urls")),
    # Public (no login): what an order confirmation's QR code leads to.
    path("confirmation/<str:token>/", order_views.order_confirmation, name="order_confirmation"),
    path("", include("registry.urls")),
    path("admin/", admin.site.urls),
]

# The portal's own error pages (used when DEBUG is off), in its layout and language.
handler400 = errors.bad_request
handler403 = errors.permission_denied
handler404 = errors.page_not_found
handler500 = errors.server_error
