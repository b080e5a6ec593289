// The print batch page (and the re-check page): poll the progress every second; when the work
// ends (the state leaves data-progress-live, "rendering" by default), reload to show the
// download link, the failure or the run's figures. Without JavaScript the <noscript> refresh in the
// head does the same. The bar's width is set through the CSSOM, which the
// Content-Security-Policy allows (style attributes in the markup it would block).
(function () {
  var box = document.getElementById("batch-progress");
  if (!box || !window.fetch) { return; }
  var bar = box.querySelector("[role=progressbar]");
  var fill = box.querySelector("[data-progress-bar]");
  var text = box.querySelector("[data-progress-text]");
  var template = box.dataset.progressTemplate;
  var live = box.dataset.progressLive || "rendering";
  function poll() {
    fetch(box.dataset.progressUrl, {headers: {"Accept": "application/json"}, credentials: "same-origin"})
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (progress) {
        if (!progress) { return; }
        if (progress.state !== live) { window.location.reload(); return; }
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
