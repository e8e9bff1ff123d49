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
  // Vendor document form: show the dates and opinion the chosen type takes
  // (<div data-doc-types="soc2_type2 bridge_letter">); every field shows until a type is chosen.
  function syncDocType() {
    var type = document.getElementById("id_doc_type");
    if (!type) return;
    document.querySelectorAll("[data-doc-types]").forEach(function (box) {
      var types = box.getAttribute("data-doc-types").split(" ");
      box.style.display = !type.value || types.indexOf(type.value) !== -1 ? "" : "none";
    });
  }
  document.addEventListener("change", function (event) {
    if (event.target && event.target.id === "id_doc_type") syncDocType();
  });
  document.addEventListener("DOMContentLoaded", syncDocType);
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

  // Date boxes take "2 Apr 2027" or ISO as typed; a calendar button beside each fills the box
  // in the same format through the browser's own date picker.
  var MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  function isoOf(text) {
    var iso = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text.trim());
    if (iso) return iso[0];
    var dmy = /^(\d{1,2})\s+([A-Za-z]{3})[A-Za-z]*\.?,?\s+(\d{4})$/.exec(text.trim());
    if (!dmy) return "";
    var month = MONTHS.map(function (m) { return m.toLowerCase(); }).indexOf(dmy[2].toLowerCase());
    if (month < 0) return "";
    return dmy[3] + "-" + String(month + 1).padStart(2, "0") + "-" + dmy[1].padStart(2, "0");
  }
  function enhanceDate(input) {
    if (input.dataset.enhanced || !input.parentNode) return;
    input.dataset.enhanced = "1";
    var wrap = document.createElement("span");
    wrap.className = "date-field";
    input.parentNode.insertBefore(wrap, input);
    wrap.appendChild(input);
    var picker = document.createElement("input");
    picker.type = "date";
    picker.tabIndex = -1;
    picker.setAttribute("aria-hidden", "true");
    var button = document.createElement("button");
    button.type = "button";
    button.className = "btn date-pick";
    button.setAttribute("aria-label", "Choose " + (input.getAttribute("aria-label") || "a date") + " on a calendar");
    button.innerHTML = '<svg viewBox="0 0 20 20" fill="currentColor" aria-hidden="true"><path d="M6 2h2v2h4V2h2v2h2a1 1 0 011 1v12a1 1 0 01-1 1H4a1 1 0 01-1-1V5a1 1 0 011-1h2V2zm-1 6v8h10V8H5z"/></svg>';
    wrap.appendChild(button);
    wrap.appendChild(picker);
    button.addEventListener("click", function () {
      picker.value = isoOf(input.value);
      if (picker.showPicker) picker.showPicker(); else picker.click();
    });
    picker.addEventListener("change", function () {
      var parts = picker.value.split("-");
      if (parts.length !== 3) return;
      input.value = Number(parts[2]) + " " + MONTHS[Number(parts[1]) - 1] + " " + parts[0];
      input.dispatchEvent(new Event("change", { bubbles: true }));
    });
  }
  // File inputs: the chosen file's name next to the "Choose a file" button.
  function enhanceFile(box) {
    if (box.classList.contains("enhanced")) return;
    var input = box.querySelector("input[type=file]");
    var name = box.querySelector("[data-file-name]");
    if (!input || !name) return;
    box.classList.add("enhanced");
    function sync() {
      var files = Array.prototype.map.call(input.files || [], function (f) { return f.name; });
      name.textContent = files.length ? files.join(", ") : "No file chosen";
    }
    input.addEventListener("change", sync);
    sync();
  }
  function enhance(root) {
    root.querySelectorAll("input[data-date-input]").forEach(enhanceDate);
    root.querySelectorAll("[data-file-picker]").forEach(enhanceFile);
  }
  document.addEventListener("DOMContentLoaded", function () { enhance(document); });
  document.addEventListener("htmx:load", function (event) { enhance(event.target); });
  // Close an open menu when clicking elsewhere.
  document.addEventListener("click", function (event) {
    document.querySelectorAll("details.menu[open]").forEach(function (menu) {
      if (!menu.contains(event.target)) menu.removeAttribute("open");
    });
  });
})();
