// Keeps a part of a page current without reloading it, and runs its countdown timers.
//
// An element with data-poll-url is fetched again every data-poll-every seconds with
// If-None-Match; a 304 costs nothing, a 200 replaces the element's content with the
// server-rendered HTML (the same template the page was built with). The page works
// without this script: it is complete as served and refreshes itself through <noscript>.
//
// Timers ([data-timer] with data-started, an ISO time, and data-seconds) count down from
// the server's clock: each answer carries X-Server-Time, so a phone or projector whose
// own clock is wrong still shows the same time as everyone else.
(function () {
  "use strict";
  if (window.judgingPoll) return;
  window.judgingPoll = true;

  var offset = 0; // server clock minus this clock, in seconds

  function learnServerTime(response) {
    var t = parseFloat(response.headers.get("X-Server-Time"));
    if (!isNaN(t)) offset = t - Date.now() / 1000;
  }

  function pad(n) { return n < 10 ? "0" + n : String(n); }

  function updateTimers() {
    var now = Date.now() / 1000 + offset;
    document.querySelectorAll("[data-timer]").forEach(function (timer) {
      var clock = timer.querySelector("[data-clock]");
      var started = Date.parse(timer.getAttribute("data-started") || "");
      var seconds = parseInt(timer.getAttribute("data-seconds") || "0", 10);
      if (!clock || isNaN(started) || !seconds) {
        timer.classList.remove("is-warning", "is-over");
        return;
      }
      var left = Math.round(started / 1000 + seconds - now);
      var over = left < 0;
      var abs = Math.abs(left);
      clock.textContent = (over ? "+" : "") + pad(Math.floor(abs / 60)) + ":" + pad(abs % 60);
      timer.classList.toggle("is-over", over);
      timer.classList.toggle("is-warning", !over && left <= 60);
    });
  }

  function poll(element) {
    var url = element.getAttribute("data-poll-url");
    var every = 1000 * (parseFloat(element.getAttribute("data-poll-every")) || 10);
    var etag = element.getAttribute("data-etag") || null;

    function schedule() {
      // A hidden tab polls less often; it catches up as soon as it is shown again.
      setTimeout(tick, document.hidden ? every * 5 : every);
    }

    function tick() {
      var headers = {};
      if (etag) headers["If-None-Match"] = etag;
      fetch(url, { cache: "no-store", credentials: "same-origin", headers: headers })
        .then(function (response) {
          learnServerTime(response);
          var gone = element.getAttribute("data-gone");
          if (response.status === 404 && gone) {
            // Withdrawn (for a correction): say so instead of showing the old numbers.
            var note = document.createElement("p");
            note.className = "flash flash-warning";
            note.setAttribute("role", "status");
            note.textContent = gone;
            element.replaceChildren(note);
            etag = null;
            return null;
          }
          if (response.status !== 200) return null;
          etag = response.headers.get("ETag");
          return response.text();
        })
        .then(function (html) {
          if (html === null || html === undefined) return;
          if (element.contains(document.activeElement) && document.activeElement !== document.body) {
            // Never swap a form out from under a click or a keystroke: retry shortly.
            etag = null;
            return;
          }
          element.innerHTML = html;
          updateTimers();
          element.dispatchEvent(new CustomEvent("poll:updated", { bubbles: true }));
        })
        .catch(function () { /* offline for a moment: try again at the next tick */ })
        .then(schedule);
    }

    tick();
  }

  function start() {
    document.querySelectorAll("[data-poll-url]").forEach(poll);
    updateTimers();
    setInterval(updateTimers, 250);
    document.addEventListener("visibilitychange", updateTimers);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
