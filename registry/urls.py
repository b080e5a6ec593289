from django.urls import path

from registry import views

app_name = "registry"

urlpatterns = [
    path("backoffice/registers/", views.register_status, name="register_status"),
]
