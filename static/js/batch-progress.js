// The print batch page: poll the batch's progress every second; when rendering ends, reload
// to show the download link or the failure. Without JavaScript the <noscript> refresh in the
// head does the same. The bar's width is set through the CSSOM, which the
// Content-Security-Policy allows (style attributes in the markup it would block).
(function () {
  var box = document.getElementById("batch-progress");
  if (!box || !window.fetch) { return; }
  var bar = box.querySelector("[role=progressbar]");
  var fill = box.querySelector("[data-progress-bar]");
  var text = box.querySelector("[data-progress-text]");
  var template = box.dataset.progressTemplate;
  function poll() {
    fetch(box.dataset.progressUrl, {headers: {"Accept": "application/json"}, credentials: "same-origin"})
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (progress) {
        if (!progress) { return; }
        if (progress.state !== "rendering") { window.location.reload(); return; }
        var percent = progress.total ? Math.min(100, Math.floor(progress.done * 100 / progress.total)) : 0;
        bar.setAttribute("aria-valuenow", progress.done);
        bar.setAttribute("aria-valuemax", progress.total);
        fill.style.width = percent + "%";
        text.textContent = template.replace("__done__", progress.done).replace("__total__", progress.total);
      })
      .catch(function () {})
      .finally(function () { window.setTimeout(poll, 1000); });
  }
  window.setTimeout(poll, 1000);
})();
