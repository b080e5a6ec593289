"""The cardholder's own pages, under /my-cards/."""

from django.urls import path

from orders.views import cardholder

app_name = "cardholder"

urlpatterns = [
    path("", cardholder.my_cards, name="my_cards"),
    path("<str:number>/", cardholder.my_card_detail, name="card_detail"),
    path("<str:number>/report/", cardholder.my_card_report, name="card_report"),
]
