from django.contrib import admin
from django.contrib.auth.views import LogoutView
from django.urls import include, path

from hmsportal import views

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.login_page, name="login"),
    path("login/dev/", views.dev_login, name="dev_login"),
    path("logout/", LogoutView.as_view(), name="logout"),
    path("healthz/", views.healthz, name="healthz"),
    path("account/contact/", views.contact_details, name="contact_details"),
    path("account/contact/confirm/<str:token>/", views.contact_confirm, name="contact_confirm"),
    # Without CSRF (see views.set_language): the display language, remembered on the user.
    path("i18n/setlang/", views.set_language, name="set_language"),
    path("orders/", include("orders.urls")),
    path("", include("cards.urls")),
    path("", include("registry.urls")),
    path("admin/", admin.site.urls),
]
