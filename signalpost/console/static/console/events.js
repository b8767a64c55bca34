// Incident and maintenance screens: the "u" shortcut's focus, templates that also set the status, and
// a maintenance window shown in the page's zone and in UTC while it is typed. All optional: the forms
// work without it, and the server checks every time again.
(function () {
  "use strict";

  // <a data-focus="ID">: console.js clicks it for its data-shortcut; the cursor lands in that field.
  function setupFocusLinks() {
    document.querySelectorAll("a[data-focus]").forEach(function (link) {
      link.addEventListener("click", function (e) {
        var target = document.getElementById(link.dataset.focus);
        if (!target) return;
        e.preventDefault();
        target.scrollIntoView({ block: "center" });
        target.focus();
      });
    });
  }

  // A template written for a status (<option data-status>) selects that status in the same form.
  function setupTemplateStatus(select) {
    select.addEventListener("change", function () {
      var option = select.options[select.selectedIndex];
      var textarea = document.getElementById(select.dataset.templateFor);
      var status = textarea && textarea.form && textarea.form.elements.namedItem("status");
      if (!option || !option.dataset.status || !status || status.tagName !== "SELECT") return;
      var known = Array.prototype.some.call(status.options, function (o) { return o.value === option.dataset.status; });
      if (known) status.value = option.dataset.status;
    });
  }

  // The zone's offset from UTC, in minutes, at an instant.
  function offsetAt(ms, zone) {
    var parts = {};
    new Intl.DateTimeFormat("en-US", {
      timeZone: zone, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit", second: "2-digit",
    }).formatToParts(new Date(ms)).forEach(function (p) { parts[p.type] = p.value; });
    var wall = Date.UTC(+parts.year, +parts.month - 1, +parts.day, +parts.hour % 24, +parts.minute, +parts.second);
    return Math.round((wall - Math.floor(ms / 1000) * 1000) / 60000);
  }

  // Every instant at which the wall clock in `zone` reads `value` (YYYY-MM-DDTHH:MM): none in the hour
  // skipped when clocks go forward, two in the hour repeated when they go back.
  function instantsOf(value, zone) {
    var m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(value || "");
    if (!m) return null;
    var wall = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5]);
    var day = 86400000, found = [];
    [offsetAt(wall - day, zone), offsetAt(wall + day, zone)].forEach(function (offset) {
      var ms = wall - offset * 60000;
      if (offsetAt(ms, zone) === offset && found.indexOf(ms) === -1) found.push(ms);
    });
    return found.sort();
  }

  function show(ms, zone) {
    return new Intl.DateTimeFormat("en-GB", {
      timeZone: zone, hourCycle: "h23", year: "numeric", month: "short", day: "numeric",
      hour: "2-digit", minute: "2-digit", timeZoneName: "short",
    }).format(new Date(ms));
  }

  function setupWindow(fieldset) {
    var out = fieldset.querySelector("[data-window-converted]");
    var zoneSelect = fieldset.querySelector("select");
    var pageZone = fieldset.dataset.pageZone || "UTC";
    if (!out || !zoneSelect) return;
    function refresh() {
      var lines = [], problem = false;
      fieldset.querySelectorAll("input[type=datetime-local]").forEach(function (input) {
        if (!input.value) return;
        var label = fieldset.querySelector('label[for="' + input.id + '"]');
        var name = label ? label.textContent.replace("*", "").trim() : input.name;
        var zone = zoneSelect.value, instants;
        try { instants = instantsOf(input.value, zone); } catch (e) { return; }
        if (!instants) return;
        if (instants.length === 0) {
          problem = true;
          lines.push(name + ": this time does not exist in " + zone + " (the clocks go forward then).");
        } else if (instants.length > 1) {
          problem = true;
          lines.push(name + ": this time happens twice in " + zone + " (the clocks go back then); choose UTC and enter the one you mean.");
        } else {
          lines.push(name + ": " + show(instants[0], pageZone) + (pageZone === "UTC" ? "" : " · " + show(instants[0], "UTC")));
        }
      });
      out.textContent = lines.join("\n");
      out.classList.toggle("error", problem);
    }
    fieldset.addEventListener("input", refresh);
    fieldset.addEventListener("change", refresh);
    refresh();
  }

  document.addEventListener("DOMContentLoaded", function () {
    setupFocusLinks();
    document.querySelectorAll("select[data-template-for]").forEach(setupTemplateStatus);
    document.querySelectorAll("fieldset[data-window]").forEach(setupWindow);
  });
})();
