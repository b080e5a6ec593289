// Sends a form marked data-submit-on-load as soon as the page is shown (the ID-porten logout).
// Without JavaScript the form's button does the same.
document.querySelectorAll("form[data-submit-on-load]").forEach(function (form) {
  form.submit();
});
