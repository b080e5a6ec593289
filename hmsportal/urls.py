from django.contrib import admin
from django.contrib.auth.views import LogoutView
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt
from django.views.i18n import set_language

from hmsportal import views

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.login_page, name="login"),
    path("login/dev/", views.dev_login, name="dev_login"),
    path("logout/", LogoutView.as_view(), name="logout"),
    path("healthz/", views.healthz, name="healthz"),
    # Without CSRF: changing the display language is harmless, and the token the form would
    # need sets a cookie on every public page, the status check included.
    path("i18n/setlang/", csrf_exempt(set_language), name="set_language"),
    path("orders/", include("orders.urls")),
    path("my-cards/", include("orders.cardholder_urls")),
    path("", include("cards.urls")),
    path("", include("registry.urls")),
    path("admin/", admin.site.urls),
]
