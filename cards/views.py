"""Back-office pages of the cards app (staff only): the print queue, the print batches and
the night's re-check."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cards import batches, rechecks
from cards.forms import PrintBatchCreateForm, PrintBatchShipForm
from cards.models import PrintBatch, RecheckRun
from hmsportal.backoffice import staff_required
from hmsportal.models import User

QUEUE_PAGE_SIZE = 50
BATCH_LIST_PAGE_SIZE = 20
BATCH_CARDS_PAGE_SIZE = 100


def _actor(request: HttpRequest) -> User | None:
    return request.user if isinstance(request.user, User) else None


def _batch_or_404(batch_id: int) -> PrintBatch:
    batch = batches.print_batch_get(batch_id=batch_id)
    if batch is None:
        raise Http404("No such print batch.")
    return batch


@staff_required
@require_http_methods(["GET", "POST"])
def print_queue(request: HttpRequest) -> HttpResponse:
    """The approved cards waiting for a batch, the form that makes one, and recent batches."""
    form = PrintBatchCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            batch = batches.print_batch_create(
                cards=form.cleaned_data["card_ids"], actor=_actor(request)
            )
        except batches.PrintBatchError as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request,
                _("Print batch #%(batch)d is made with %(count)d cards. The PDF is being rendered.")
                % {"batch": batch.pk, "count": batch.progress_total},
            )
            return redirect("cards:batch_detail", batch_id=batch.pk)
    language = get_language()
    counts = [(count.name(language), count.cards) for count in batches.print_queue_counts()]
    context = {
        "form": form,
        "queue_page": Paginator(batches.print_queue_cards(), QUEUE_PAGE_SIZE).get_page(
            request.GET.get("page")
        ),
        "queue_counts": counts,
        "queue_total": sum(cards for _name, cards in counts),
        "checked": set(request.POST.getlist("cards")),
        "batch_page": Paginator(batches.print_batches_recent(), BATCH_LIST_PAGE_SIZE).get_page(
            request.GET.get("batches")
        ),
        "max_batch_cards": batches.MAX_BATCH_CARDS,
    }
    return render(request, "cards/backoffice/print_queue.html", context)


def _batch_page(
    request: HttpRequest, batch: PrintBatch, ship_form: PrintBatchShipForm
) -> HttpResponse:
    total = batch.progress_total
    context = {
        "batch": batch,
        "form": ship_form,
        "percent": min(100, batch.progress_done * 100 // total) if total else 0,
        "card_page": Paginator(
            batches.print_batch_cards(batch=batch), BATCH_CARDS_PAGE_SIZE
        ).get_page(request.GET.get("page")),
        "rendering": batch.state == PrintBatch.State.RENDERING,
    }
    return render(request, "cards/backoffice/batch_detail.html", context)


@staff_required
@require_GET
def batch_detail(request: HttpRequest, batch_id: int) -> HttpResponse:
    """One batch: producer, state, rendering progress, download, shipping and its cards."""
    return _batch_page(request, _batch_or_404(batch_id), PrintBatchShipForm())


@staff_required
@require_GET
@never_cache
def batch_progress(request: HttpRequest, batch_id: int) -> JsonResponse:
    """The rendering progress the batch page polls: {"state", "done", "total"}."""
    batch = _batch_or_404(batch_id)
    return JsonResponse(
        {"state": batch.state, "done": batch.progress_done, "total": batch.progress_total}
    )


@staff_required
@require_GET
@never_cache
def batch_pdf(request: HttpRequest, batch_id: int) -> FileResponse:
    """The batch PDF for the producer, decrypted from storage as a download."""
    batch = _batch_or_404(batch_id)
    if not batch.pdf or batch.state not in (PrintBatch.State.READY, PrintBatch.State.SHIPPED):
        raise Http404("The batch has no PDF yet.")
    try:
        document = batch.pdf.open("rb")
    except FileNotFoundError:
        raise Http404("The batch PDF is missing from storage.") from None
    return FileResponse(
        document,
        as_attachment=True,
        filename=f"print-batch-{batch.pk}.pdf",
        content_type="application/pdf",
    )


@staff_required
@require_POST
def batch_ship(request: HttpRequest, batch_id: int) -> HttpResponse:
    """Mark a ready batch as shipped with the courier's tracking reference."""
    batch = _batch_or_404(batch_id)
    form = PrintBatchShipForm(request.POST)
    if form.is_valid():
        try:
            batches.print_batch_ship(
                batch=batch,
                tracking_reference=form.cleaned_data["tracking_reference"],
                actor=_actor(request),
            )
        except batches.PrintBatchError as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request, _("Print batch #%(batch)d is marked as shipped.") % {"batch": batch.pk}
            )
            return redirect("cards:batch_detail", batch_id=batch.pk)
    return _batch_page(request, batch, form)


@staff_required
@require_POST
def batch_retry(request: HttpRequest, batch_id: int) -> HttpResponse:
    """Render a failed batch again."""
    batch = _batch_or_404(batch_id)
    try:
        batches.print_batch_retry(batch=batch, actor=_actor(request))
    except batches.PrintBatchError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("The batch PDF is being rendered again."))
    return redirect("cards:batch_detail", batch_id=batch.pk)


@staff_required
@require_GET
@never_cache
def recheck_runs(request: HttpRequest) -> HttpResponse:
    """The night's re-check: the latest run with its progress, and the runs before it."""
    runs = rechecks.recheck_runs_recent()
    latest = runs[0] if runs else None
    context = {
        "latest": latest,
        "runs": runs,
        "running": latest is not None and latest.state == RecheckRun.State.RUNNING,
    }
    return render(request, "cards/backoffice/recheck_runs.html", context)


@staff_required
@require_GET
@never_cache
def recheck_progress(request: HttpRequest) -> JsonResponse:
    """The latest run's progress the re-check page polls: {"state", "done", "total"} in
    chunks, and the cards checked so far."""
    runs = rechecks.recheck_runs_recent(limit=1)
    if not runs:
        return JsonResponse({"state": "none", "done": 0, "total": 0, "cards_checked": 0})
    run = runs[0]
    return JsonResponse(
        {
            "state": run.state,
            "done": run.chunks_done,
            "total": run.chunks_total,
            "cards_checked": run.cards_checked,
        }
    )


backoffice_urlpatterns = [
    path("backoffice/rechecks/", recheck_runs, name="recheck_runs"),
    path("backoffice/rechecks/progress/", recheck_progress, name="recheck_progress"),
    path("backoffice/print-queue/", print_queue, name="print_queue"),
    path("backoffice/batches/<int:batch_id>/", batch_detail, name="batch_detail"),
    path("backoffice/batches/<int:batch_id>/progress/", batch_progress, name="batch_progress"),
    path("backoffice/batches/<int:batch_id>/pdf/", batch_pdf, name="batch_pdf"),
    path("backoffice/batches/<int:batch_id>/ship/", batch_ship, name="batch_ship"),
    path("backoffice/batches/<int:batch_id>/retry/", batch_retry, name="batch_retry"),
]
