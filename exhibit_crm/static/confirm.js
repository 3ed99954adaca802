// Buttons with data-confirm ask before they submit (instead of inline onclick handlers, which the CSP forbids).
document.addEventListener("click", function (event) {
  var button = event.target.closest ? event.target.closest("button[data-confirm], input[data-confirm]") : null;
  if (button && !window.confirm(button.getAttribute("data-confirm"))) {
    event.preventDefault();
  }
});
