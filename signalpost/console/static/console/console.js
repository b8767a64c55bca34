// Signalpost console: live Markdown preview, message templates, local times, keyboard shortcuts.
// Everything works without it; it only saves time.
(function () {
  "use strict";

  function csrfToken(form) {
    var input = (form || document).querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  // Live preview: a textarea with data-preview="<id of the preview element>". The server renders it
  // with the public page's own Markdown function, so the preview is exactly what readers will see.
  function setupPreview(textarea) {
    var target = document.getElementById(textarea.dataset.preview);
    if (!target) return;
    var timer = null, seq = 0;
    function refresh() {
      var mine = ++seq;
      var body = new URLSearchParams();
      body.set("body", textarea.value);
      fetch("/console/preview", {
        method: "POST", body: body, credentials: "same-origin",
        headers: { "X-CSRFToken": csrfToken(textarea.form) },
      }).then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
        .then(function (html) {
          if (mine !== seq) return;
          target.innerHTML = html || '<p class="muted">Nothing to preview yet.</p>';
        })
        .catch(function () { if (mine === seq) target.textContent = "The preview is unavailable; the text will still be saved."; });
    }
    textarea.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(refresh, 250); });
    if (textarea.value) refresh();
  }

  // Message templates: a <select data-template-for="<textarea id>"> whose options carry data-body.
  function setupTemplates(select) {
    var textarea = document.getElementById(select.dataset.templateFor);
    if (!textarea) return;
    select.addEventListener("change", function () {
      var option = select.options[select.selectedIndex];
      if (!option || !option.dataset.body) return;
      if (textarea.value.trim() && textarea.value !== option.dataset.body &&
          !window.confirm("Replace the text you typed with this template?")) { select.selectedIndex = 0; return; }
      textarea.value = option.dataset.body;
      textarea.dispatchEvent(new Event("input"));
      textarea.focus();
    });
  }

  // Times: each <time datetime> gets the reader's own zone in its tooltip.
  function localTimes() {
    var fmt = new Intl.DateTimeFormat(undefined, { year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", timeZoneName: "short" });
    document.querySelectorAll("time[datetime]").forEach(function (el) {
      var d = new Date(el.getAttribute("datetime"));
      if (!isNaN(d) && el.getAttribute("datetime").length > 10) el.title = "Your time: " + fmt.format(d);
    });
  }

  function typing(el) {
    return el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName));
  }

  function setupShortcuts() {
    var pending = null;
    var go = { d: "/console/", i: "/console/incidents/", c: "/console/components/", m: "/console/maintenance/" };
    document.addEventListener("keydown", function (e) {
      if ((e.ctrlKey || e.metaKey) && e.key === "Enter" && typing(e.target) && e.target.form) {
        e.preventDefault();
        e.target.form.requestSubmit();
        return;
      }
      if (e.ctrlKey || e.metaKey || e.altKey || typing(e.target)) return;
      if (pending === "g" && go[e.key]) { window.location.href = go[e.key]; pending = null; return; }
      pending = null;
      if (e.key === "g") { pending = "g"; return; }
      if (e.key === "?") { var d = document.getElementById("shortcuts"); if (d && d.showModal) d.showModal(); return; }
      var link = document.querySelector('[data-shortcut="' + e.key + '"]');
      if (link) { e.preventDefault(); link.click(); }
    });
  }

  // Confirm before a destructive action: <form data-confirm="Question?">.
  function setupConfirms() {
    document.querySelectorAll("form[data-confirm]").forEach(function (form) {
      form.addEventListener("submit", function (e) {
        if (!window.confirm(form.dataset.confirm)) e.preventDefault();
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("textarea[data-preview]").forEach(setupPreview);
    document.querySelectorAll("select[data-template-for]").forEach(setupTemplates);
    localTimes();
    setupShortcuts();
    setupConfirms();
  });
})();
