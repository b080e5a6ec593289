// A "copy" button beside a link to send by SMS. Without JavaScript the button stays hidden and
// the link can be selected and copied by hand.
document.querySelectorAll("[data-copy-from]").forEach(function (button) {
  var field = document.getElementById(button.getAttribute("data-copy-from"));
  if (!field) return;
  var status = document.getElementById(button.getAttribute("data-copy-status"));
  button.hidden = false;
  button.addEventListener("click", function () {
    var done = function () {
      if (status) status.textContent = button.getAttribute("data-copied");
    };
    field.select();
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(field.value).then(done, function () {
        if (document.execCommand("copy")) done();
      });
    } else if (document.execCommand("copy")) {
      done();
    }
  });
});
