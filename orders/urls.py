from django.urls import path

from orders import views

app_name = "orders"

urlpatterns = [
    path("", views.organisation_list, name="organisation_list"),
    path("kept/<str:key>/photo/", views.kept_photo, name="kept_photo"),
    path("<str:orgnr>/", views.employer_overview, name="employer"),
    path("<str:orgnr>/new/", views.order_card, name="order_card"),
    path("<str:orgnr>/bulk/", views.bulk_upload, name="bulk_upload"),
    path("<str:orgnr>/bulk/<int:upload_id>/", views.bulk_detail, name="bulk_detail"),
    path("<str:orgnr>/bulk/<int:upload_id>/report/", views.bulk_progress, name="bulk_progress"),
    path("<str:orgnr>/bulk/<int:upload_id>/order/", views.bulk_order, name="bulk_order"),
    path(
        "<str:orgnr>/bulk/<int:upload_id>/report.xlsx",
        views.bulk_report_xlsx,
        name="bulk_report_xlsx",
    ),
    path("<str:orgnr>/orders/<int:order_id>/", views.order_detail, name="order_detail"),
    path("<str:orgnr>/orders/<int:order_id>/lines/", views.order_lines, name="order_lines"),
    path(
        "<str:orgnr>/orders/<int:order_id>/lines/<int:line_id>/confirmation.pdf",
        views.order_confirmation_pdf,
        name="order_confirmation_pdf",
    ),
    path(
        "<str:orgnr>/orders/<int:order_id>/lines/<int:line_id>/document/<str:kind>/",
        views.line_document,
        name="line_document",
    ),
    path(
        "<str:orgnr>/orders/<int:order_id>/lines/<int:line_id>/identity/",
        views.identity_confirm,
        name="identity_confirm",
    ),
    path(
        "<str:orgnr>/orders/<int:order_id>/lines/<int:line_id>/upload-link/",
        views.upload_link_resend,
        name="upload_link_resend",
    ),
    path("<str:orgnr>/orders/<int:order_id>/invoice.pdf", views.invoice_pdf, name="invoice_pdf"),
    path("<str:orgnr>/cards/", views.card_list, name="card_list"),
    path("<str:orgnr>/cards/renew/", views.card_renew, name="card_renew"),
    path("<str:orgnr>/cards/export.csv", views.card_export_csv, name="card_export_csv"),
    path("<str:orgnr>/cards/export.xlsx", views.card_export_xlsx, name="card_export_xlsx"),
    path("<str:orgnr>/cards/<str:number>/", views.card_detail, name="card_detail"),
    path("<str:orgnr>/cards/<str:number>/end/", views.card_end, name="card_end"),
    path("<str:orgnr>/access/", views.delegation_list, name="delegations"),
    path(
        "<str:orgnr>/access/<int:delegation_id>/confirm/",
        views.delegation_confirm,
        name="delegation_confirm",
    ),
    path("<str:orgnr>/audit/", views.organisation_audit, name="audit"),
]
