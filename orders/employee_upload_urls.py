"""The employee's upload pages: public (the link is the key), outside the employer's area."""

from django.urls import path

from orders.views import employee_upload

app_name = "employee_upload"

urlpatterns = [
    path("received/", employee_upload.employee_upload_received, name="received"),
    path("<str:token>/", employee_upload.employee_upload_page, name="upload"),
]
