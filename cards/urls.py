from cards import views
from cards.status_views import status_urlpatterns

app_name = "cards"

urlpatterns = [
    *status_urlpatterns,
    *views.backoffice_urlpatterns,
]
