/* Signalpost public pages: times in the reader's zone, relative times kept current, bar tooltips
   on touch screens, and a quiet refresh. The page works without any of this. */
(function () {
  "use strict";

  var MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  var REFRESH_MS = 60 * 1000;
  var MAX_BACKOFF_MS = 30 * 60 * 1000;

  var pageZone = document.documentElement.getAttribute("data-page-zone") || "UTC";
  var readerZone = null;
  var readerFormat = null;
  try {
    readerZone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    readerFormat = new Intl.DateTimeFormat("en-US", {
      year: "numeric", month: "numeric", day: "numeric", hour: "2-digit", minute: "2-digit",
      hourCycle: "h23", timeZoneName: "short"
    });
  } catch (e) {
    readerFormat = null;
  }

  // "Nov 3, 2026", as the server labels days.
  function dayLabel(ms) {
    var d = new Date(ms);
    return MONTHS[d.getUTCMonth()] + " " + d.getUTCDate() + ", " + d.getUTCFullYear();
  }

  // "Sep 12, 2017 22:53 CEST": the same shape as the server's page-zone text.
  function readerText(date) {
    var parts = {};
    readerFormat.formatToParts(date).forEach(function (p) { parts[p.type] = p.value; });
    var hour = parts.hour === "24" ? "00" : parts.hour;
    return MONTHS[Number(parts.month) - 1] + " " + Number(parts.day) + ", " + parts.year + " " +
      hour + ":" + parts.minute + " " + parts.timeZoneName;
  }

  function plural(n, unit) { return n + " " + unit + (n === 1 ? "" : "s"); }

  // Mirrors relative_text in signalpost/public/templatetags/public_tags.py.
  function relativeText(date, now) {
    var seconds = (now - date) / 1000;
    var future = seconds < 0;
    seconds = Math.abs(seconds);
    if (seconds < 45) { return "just now"; }
    var minutes = seconds / 60;
    var span;
    if (minutes < 45) { span = plural(Math.max(1, Math.round(minutes)), "minute"); }
    else if (minutes < 90) { span = "1 hour"; }
    else if (minutes < 24 * 60) { span = plural(Math.round(minutes / 60), "hour"); }
    else if (minutes < 42 * 60) { span = "1 day"; }
    else if (minutes < 30 * 24 * 60) { span = plural(Math.round(minutes / 1440), "day"); }
    else if (minutes < 45 * 24 * 60) { span = "1 month"; }
    else if (minutes < 365 * 24 * 60) { span = plural(Math.round(minutes / 43200), "month"); }
    else { span = plural(Math.floor(minutes / 525600), "year"); }
    return future ? "in " + span : span + " ago";
  }

  function localise(root) {
    if (readerFormat && readerZone && readerZone !== pageZone) {
      root.querySelectorAll("time.ts").forEach(function (el) {
        var date = new Date(el.getAttribute("datetime"));
        if (isNaN(date)) { return; }
        if (!el.title) { el.title = el.textContent; }  // the page's own zone stays one hover away
        el.textContent = readerText(date);
      });
      root.querySelectorAll("time.ago").forEach(function (el) {
        var date = new Date(el.getAttribute("datetime"));
        if (!isNaN(date)) { el.title = readerText(date); }
      });
    }
    refreshRelative(root);
    // Bars: our own tooltip replaces the browser's, which touch screens never show.
    root.querySelectorAll(".bar[title]").forEach(function (el) {
      el.setAttribute("data-tip", el.getAttribute("title"));
      el.removeAttribute("title");
    });
    // Calm days come as bare bars: their tooltip is the day (from the bar's position) at 100% uptime.
    root.querySelectorAll(".bars[data-first-day]").forEach(function (list) {
      var parts = list.getAttribute("data-first-day").split("-");
      var first = Date.UTC(+parts[0], +parts[1] - 1, +parts[2]);
      Array.prototype.forEach.call(list.children, function (bar, i) {
        if (!bar.hasAttribute("data-tip")) {
          bar.setAttribute("data-tip", dayLabel(first + i * 86400000) + "\n100% uptime");
        }
      });
    });
  }

  function refreshRelative(root) {
    var now = Date.now();
    root.querySelectorAll("time.ago").forEach(function (el) {
      var date = new Date(el.getAttribute("datetime"));
      if (!isNaN(date)) { el.textContent = relativeText(date, now); }
    });
  }

  // --- bar tooltips ---------------------------------------------------------------------------

  var tip = null;
  var activeBar = null;

  function showTip(bar) {
    if (!tip) {
      tip = document.createElement("div");
      tip.className = "tip";
      tip.setAttribute("role", "tooltip");
      tip.hidden = true;
      document.body.appendChild(tip);
    }
    if (activeBar) { activeBar.classList.remove("is-active"); }
    activeBar = bar;
    bar.classList.add("is-active");
    tip.textContent = bar.getAttribute("data-tip");
    tip.hidden = false;
    var box = bar.getBoundingClientRect();
    var width = tip.offsetWidth;
    var left = box.left + window.scrollX + box.width / 2 - width / 2;
    var maxLeft = window.scrollX + document.documentElement.clientWidth - width - 8;
    tip.style.left = Math.max(window.scrollX + 8, Math.min(left, maxLeft)) + "px";
    tip.style.top = (box.bottom + window.scrollY + 8) + "px";
  }

  function hideTip() {
    if (tip) { tip.hidden = true; }
    if (activeBar) { activeBar.classList.remove("is-active"); activeBar = null; }
  }

  function barFrom(target) {
    return target && target.closest ? target.closest(".bar[data-tip]") : null;
  }

  document.addEventListener("mouseover", function (event) {
    var bar = barFrom(event.target);
    if (bar) { showTip(bar); } else if (activeBar && !barFrom(event.relatedTarget)) { hideTip(); }
  });
  document.addEventListener("click", function (event) {
    var bar = barFrom(event.target);
    if (bar && bar !== activeBar) { showTip(bar); } else { hideTip(); }
  });
  document.addEventListener("keydown", function (event) { if (event.key === "Escape") { hideTip(); } });
  window.addEventListener("scroll", function () { if (activeBar && tip && !tip.hidden) { showTip(activeBar); } }, { passive: true });

  // --- quiet refresh ----------------------------------------------------------------------------
  // Every minute while the tab is visible, fetch this URL again and swap <main> if it changed. After a
  // failure wait exponentially longer, with random jitter, so that thousands of open tabs do not all
  // return at the same moment to a server that is just recovering.

  var main = document.querySelector("main");
  var footer = document.querySelector("footer");
  var served = { main: main ? main.innerHTML : "", footer: footer ? footer.innerHTML : "" };
  var etag = null;
  var failures = 0;
  var timer = null;
  var lastPoll = Date.now();

  function jitter(ms, spread) { return ms * (1 - spread + Math.random() * 2 * spread); }

  function nextDelay(retryAfterMs) {
    if (failures === 0) { return jitter(REFRESH_MS, 0.1); }
    var ceiling = Math.min(MAX_BACKOFF_MS, REFRESH_MS * Math.pow(2, failures));
    var delay = ceiling / 2 + Math.random() * ceiling / 2;
    return Math.max(delay, retryAfterMs || 0);
  }

  function schedule(ms) {
    clearTimeout(timer);
    timer = setTimeout(poll, ms);
  }

  function retryAfter(response) {
    var value = response.headers.get("Retry-After");
    var seconds = value ? Number(value) : NaN;
    return isNaN(seconds) ? 0 : Math.min(seconds * 1000, MAX_BACKOFF_MS);
  }

  function swap(html) {
    var doc = new DOMParser().parseFromString(html, "text/html");
    var newMain = doc.querySelector("main");
    if (!newMain || !main) { throw new Error("not a status page"); }
    if (newMain.innerHTML === served.main) { return; }
    served.main = newMain.innerHTML;
    main.innerHTML = newMain.innerHTML;
    var newFooter = doc.querySelector("footer");
    if (newFooter && footer) { served.footer = newFooter.innerHTML; footer.innerHTML = newFooter.innerHTML; }
    if (doc.title) { document.title = doc.title; }
    hideTip();
    localise(main);
    if (footer) { localise(footer); }
  }

  function poll() {
    timer = null;
    if (document.hidden) { return; }  // resumed by visibilitychange
    lastPoll = Date.now();
    var headers = { "Accept": "text/html" };
    if (etag) { headers["If-None-Match"] = etag; }
    var wait = 0;
    fetch(window.location.href, { headers: headers, cache: "no-store", credentials: "same-origin" })
      .then(function (response) {
        if (response.status === 304) { return null; }
        if (!response.ok) { wait = retryAfter(response); throw new Error("HTTP " + response.status); }
        etag = response.headers.get("ETag");
        return response.text();
      })
      .then(function (html) {
        if (html !== null) { swap(html); }
        failures = 0;
        schedule(nextDelay());
      })
      .catch(function () {
        failures += 1;
        schedule(nextDelay(wait));
      });
  }

  document.addEventListener("visibilitychange", function () {
    if (document.hidden || timer !== null || failures > 0) {
      if (!document.hidden && timer === null) { schedule(nextDelay()); }
      return;
    }
    var since = Date.now() - lastPoll;
    // Back after a while: refresh soon, but not all tabs in the same second.
    schedule(since >= REFRESH_MS ? jitter(3000, 1) : REFRESH_MS - since);
  });

  // The subscription form: only the fields of the channel chosen are shown (all of them without script).
  function channelFields(root) {
    var radios = root.querySelectorAll('input[name="channel"]');
    var fields = root.querySelectorAll("[data-channels]");
    if (!radios.length || !fields.length) { return; }
    function show() {
      var chosen = root.querySelector('input[name="channel"]:checked');
      var channel = chosen ? chosen.value : "";
      for (var i = 0; i < fields.length; i++) {
        var wanted = fields[i].getAttribute("data-channels").split(" ");
        fields[i].hidden = channel !== "" && wanted.indexOf(channel) < 0;
      }
    }
    for (var i = 0; i < radios.length; i++) { radios[i].addEventListener("change", show); }
    show();
  }

  function start() {
    localise(document);
    setInterval(function () { if (!document.hidden) { refreshRelative(document); } }, 30 * 1000);
    // A page with a form for this reader (subscribing) is never swapped: it would lose what they typed.
    if (main && main.getAttribute("data-refresh") !== "off" && window.fetch && window.DOMParser) {
      schedule(nextDelay());
    }
    channelFields(document);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
