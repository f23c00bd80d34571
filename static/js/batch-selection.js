/* Row selection for batch actions on the Charges, Claims and Appointments lists and in the
   Batch Operation Wizard. A `form[data-selection]` holds:
     row checkboxes `input[data-row]`, a page box `input[data-select-all]`,
     a counter `[data-selected-count]`, the hidden `input[data-all-matching]` (0/1),
     `[data-select-matching]` ("Select all N matching the filter"), `[data-clear-selection]`,
     `[data-when-some]` / `[data-when-all]` texts, and buttons `[data-needs-selection]`
     that stay disabled until something is selected.
   Rows arrive by htmx swaps (filters), so everything is delegated and re-read after each. */
(function () {
  "use strict";

  function parts(form) {
    return {
      rows: form.querySelectorAll("input[data-row]"),
      page: form.querySelector("input[data-select-all]"),
      all: form.querySelector("input[data-all-matching]"),
    };
  }

  function update(form) {
    var p = parts(form);
    var checked = 0;
    p.rows.forEach(function (box) { if (box.checked) checked += 1; });
    var all = !!(p.all && p.all.value === "1");
    form.querySelectorAll("[data-selected-count]").forEach(function (el) { el.textContent = checked; });
    if (p.page) {
      p.page.checked = all || (p.rows.length > 0 && checked === p.rows.length);
      p.page.indeterminate = !all && checked > 0 && checked < p.rows.length;
    }
    form.querySelectorAll("[data-when-some]").forEach(function (el) { el.hidden = all; });
    form.querySelectorAll("[data-when-all]").forEach(function (el) { el.hidden = !all; });
    form.querySelectorAll("[data-select-matching]").forEach(function (el) { el.hidden = all; });
    form.querySelectorAll("[data-clear-selection]").forEach(function (el) { el.hidden = !(all || checked); });
    form.querySelectorAll("[data-needs-selection]").forEach(function (el) { el.disabled = !(all || checked); });
  }

  function setRows(form, on) {
    parts(form).rows.forEach(function (box) { box.checked = on; });
  }

  function selectionForm(target) {
    return target && target.closest ? target.closest("form[data-selection]") : null;
  }

  document.addEventListener("change", function (event) {
    var form = selectionForm(event.target);
    if (!form) return;
    var p = parts(form);
    if (event.target.matches("input[data-select-all]")) {
      setRows(form, event.target.checked);
      if (!event.target.checked && p.all) p.all.value = "0";
    } else if (event.target.matches("input[data-row]") && !event.target.checked && p.all) {
      p.all.value = "0";  // unticking a row leaves "all matching"
    }
    update(form);
  });

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-select-matching], [data-clear-selection]");
    var form = selectionForm(button);
    if (!form) return;
    var p = parts(form);
    var all = button.matches("[data-select-matching]");
    if (p.all) p.all.value = all ? "1" : "0";
    setRows(form, all);
    update(form);
  });

  // "All matching" can be thousands of records: a list action asks once before starting.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches || !form.matches("form[data-selection]")) return;
    var all = form.querySelector("input[data-all-matching]");
    var button = event.submitter;
    if (!all || all.value !== "1" || !button || button.name !== "job_type") return;
    var count = Number(all.dataset.matching || 0).toLocaleString("en-US");
    var message = button.textContent.trim() + " for all " + count + " " + (all.dataset.noun || "records") +
      " matching the filter? This starts a batch job.";
    if (!window.confirm(message)) event.preventDefault();
  });

  function refresh() {
    document.querySelectorAll("form[data-selection]").forEach(update);
  }
  document.addEventListener("DOMContentLoaded", refresh);
  document.addEventListener("htmx:afterSettle", refresh);
  // Back/forward cache restores ticked boxes without the counters.
  window.addEventListener("pageshow", refresh);
})();
