from django.urls import path

from cards import views
from cards.status_views import status_urlpatterns

app_name = "cards"

urlpatterns = [
    *status_urlpatterns,
    path("backoffice/print-queue/", views.print_queue, name="print_queue"),
]
