// The stage progress page: refresh the counts every few seconds without a reload, and
// copy the reminder list. Without JavaScript the page is complete; it is just not live.
(function () {
  "use strict";
  var root = document.getElementById("progress");
  if (root) {
    var url = root.getAttribute("data-url");
    var every = 1000 * (parseInt(root.getAttribute("data-every"), 10) || 15);
    var set = function (el, value) {
      if (el && el.textContent !== String(value)) { el.textContent = String(value); }
    };
    var apply = function (data) {
      ["submitted", "needed", "drafts"].forEach(function (k) {
        set(root.querySelector('[data-total="' + k + '"]'), data[k]);
      });
      [["judge", data.judges], ["entry", data.entries]].forEach(function (pair) {
        Object.keys(pair[1] || {}).forEach(function (id) {
          var row = root.querySelector("[data-" + pair[0] + '="' + id + '"]');
          if (!row) { return; }
          pair[1][id].forEach(function (value, k) { set(row.querySelector('[data-k="' + k + '"]'), value); });
        });
      });
      var updated = root.querySelector("[data-updated]");
      if (updated) {
        updated.hidden = false;
        updated.querySelector("time").textContent = new Date().toLocaleTimeString();
      }
    };
    var poll = function () {
      if (document.hidden) { return; }
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) { if (data) { apply(data); } })
        .catch(function () {});
    };
    setInterval(poll, every);
  }
  document.querySelectorAll("[data-copy]").forEach(function (button) {
    button.addEventListener("click", function () {
      var box = document.querySelector(button.getAttribute("data-copy"));
      box.select();
      var done = function () { button.textContent = button.getAttribute("data-copied"); };
      if (navigator.clipboard) {
        navigator.clipboard.writeText(box.value).then(done, function () { document.execCommand("copy"); done(); });
      } else { document.execCommand("copy"); done(); }
    });
  });
})();
