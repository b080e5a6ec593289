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
    path("i18n/", include("django.conf.urls.i18n")),
    path("orders/", include("orders.urls")),
    path("", include("cards.urls")),
    path("", include("registry.urls")),
    path("admin/", admin.site.urls),
]
