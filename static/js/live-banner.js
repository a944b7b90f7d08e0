// "Now on stage" on a judge's pages during the live final: follows the entry on stage by
// polling the public live state (/api/v1/contests/<slug>/live, ETag / 304). It never
// leaves the page by itself: it updates the banner and its link, and asks before leaving
// a scoring form whose typed scores are not saved.
(function () {
  "use strict";
  if (window.judgingLiveBanner) return;
  window.judgingLiveBanner = true;

  var EVERY = 5000;
  var dirty = false;

  function watchForm() {
    var form = document.getElementById("sheet-form");
    if (!form) return;
    form.addEventListener("input", function () { dirty = true; });
    form.addEventListener("submit", function () { dirty = false; });
  }

  function follow(banner) {
    var url = banner.getAttribute("data-live-url");
    var sheetUrl = banner.getAttribute("data-sheet-url");
    var here = banner.getAttribute("data-current-entry");
    var assigned = (banner.getAttribute("data-assigned") || "").split(",").filter(Boolean);
    var name = banner.querySelector("[data-live-entry]");
    var link = banner.querySelector("[data-live-link]");
    var etag = null;

    link.addEventListener("click", function (event) {
      // Where the sheet's script keeps and sends the scores it asks itself, only when
      // something is really unsent.
      if (window.judgingSheetAsksBeforeLeaving) return;
      if (dirty && !window.confirm(banner.getAttribute("data-leave-warning"))) {
        event.preventDefault();
      }
    });

    function show(live) {
      var on = live && live.on_stage;
      if (!on) {
        name.textContent = banner.getAttribute("data-empty-text");
        link.hidden = true;
        banner.classList.remove("is-new");
        return;
      }
      var id = String(on.entry.id);
      var changed = name.textContent !== on.entry.code + " " + on.entry.title;
      name.textContent = on.entry.code + " " + on.entry.title;
      var canOpen = assigned.indexOf(id) !== -1 && id !== here;
      link.hidden = !canOpen;
      if (canOpen) link.href = sheetUrl + id;
      banner.classList.toggle("is-new", canOpen && changed);
    }

    function tick() {
      var headers = {};
      if (etag) headers["If-None-Match"] = etag;
      fetch(url, { cache: "no-store", credentials: "same-origin", headers: headers })
        .then(function (response) {
          if (response.status === 200) {
            etag = response.headers.get("ETag");
            return response.json().then(show);
          }
          if (response.status === 404) show(null);
          return null;
        })
        .catch(function () { /* try again at the next tick */ })
        .then(function () { setTimeout(tick, document.hidden ? EVERY * 4 : EVERY); });
    }

    tick();
  }

  function start() {
    watchForm();
    document.querySelectorAll("[data-live-banner]").forEach(follow);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
