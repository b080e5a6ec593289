// GOV.UK error summary: focused on load so screen readers announce the problems at once.
// A file rather than an inline script: the Content-Security-Policy has no 'unsafe-inline'.
(function () {
  var summary = document.querySelector(".error-summary[data-autofocus]");
  if (summary) summary.focus();
})();
