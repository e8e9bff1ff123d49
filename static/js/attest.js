// Small progressive enhancements; every page works without JavaScript.
(function () {
  // Filter a long checkbox list (requirement picker) by typing.
  document.addEventListener("input", function (event) {
    var input = event.target;
    if (!input.matches || !input.matches("[data-filter-list]")) return;
    var list = document.getElementById(input.getAttribute("data-filter-list"));
    var needle = input.value.trim().toLowerCase();
    list.querySelectorAll("label").forEach(function (label) {
      var hit = !needle || label.textContent.toLowerCase().indexOf(needle) !== -1;
      label.classList.toggle("hidden", !hit);
    });
  });
  // Show the justification field only for "not applicable".
  function syncStatus() {
    var status = document.getElementById("id_status");
    var box = document.getElementById("na-justification");
    if (status && box) box.style.display = status.value === "not_applicable" ? "" : "none";
  }
  document.addEventListener("change", function (event) {
    if (event.target && event.target.id === "id_status") syncStatus();
  });
  document.addEventListener("DOMContentLoaded", syncStatus);
  // Evidence form: show the input for the chosen kind (file, link or note).
  function syncKind() {
    var chosen = document.querySelector("input[name=kind]:checked");
    if (!chosen) return;
    document.querySelectorAll("[data-kind]").forEach(function (box) {
      box.style.display = box.getAttribute("data-kind") === chosen.value ? "" : "none";
    });
  }
  document.addEventListener("change", function (event) {
    if (event.target && event.target.name === "kind") syncKind();
  });
  document.addEventListener("DOMContentLoaded", syncKind);
  // Filters that apply as soon as a choice is made (<select data-autosubmit>).
  document.addEventListener("change", function (event) {
    var field = event.target;
    if (field && field.matches && field.matches("[data-autosubmit]") && field.form) {
      field.form.submit();
    }
  });
  // Ask before a destructive form is sent (<form data-confirm="Delete …?">).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form && form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) event.preventDefault();
  }, true);
  // Close an open menu when clicking elsewhere.
  document.addEventListener("click", function (event) {
    document.querySelectorAll("details.menu[open]").forEach(function (menu) {
      if (!menu.contains(event.target)) menu.removeAttribute("open");
    });
  });
})();
