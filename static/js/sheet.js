// The scoring page: the running total, and no lost score, online or off.
//
// The form works without this file (plain posts, the server answers with a page). With it:
// - every change is kept at once in localStorage, under a key per judge and sheet;
// - shortly after typing stops it is sent as a draft (the form's own POST, asking for JSON);
//   the status line says which state the sheet is in (saved / saving / offline, kept here);
// - when the network comes back, or the page is opened again, the kept copy is sent;
// - if the server's sheet changed meanwhile (version clash, 409; no longer writable, 404),
//   both are shown and the judge chooses: nothing is overwritten silently;
// - leaving the page with unsent changes asks first; submitting stays a plain form post,
//   refused here while offline so that nothing is lost.
(function () {
  "use strict";

  var DEBOUNCE = 1500;
  var RETRY = 10000;

  var form = document.getElementById("sheet-form");
  // This page asks before leaving with unsent changes (beforeunload, below): the live
  // banner's own question (live-banner.js) would only ask a second time.
  if (form) window.judgingSheetAsksBeforeLeaving = true;
  var output = document.getElementById("total");
  var inputs = form ? form.querySelectorAll("input.points") : [];

  function toHalfWidth(text) {
    return text.replace(/[\uFF10-\uFF19\uFF0E]/g, function (ch) {
      return String.fromCharCode(ch.charCodeAt(0) - 0xFEE0);
    });
  }

  // Sum in hundredths (integers) so 0.1 + 0.2 style float errors never show.
  function updateTotal() {
    if (!output) return;
    var cents = 0;
    inputs.forEach(function (input) {
      var text = toHalfWidth(input.value || "").trim();
      if (text === "" || isNaN(Number(text))) return;
      cents += Math.round(Number(text) * 100);
    });
    var whole = Math.floor(cents / 100);
    var rest = cents % 100;
    output.textContent = rest === 0 ? String(whole) : whole + "." + String(rest).padStart(2, "0").replace(/0$/, "");
  }

  if (form) {
    inputs.forEach(function (input) { input.addEventListener("input", updateTotal); });
    updateTotal();
  }

  var keeper = document.getElementById("sheet-keeper");
  if (!keeper) return;

  function readJSON(text, fallback) {
    try { return JSON.parse(text); } catch (e) { return fallback; }
  }

  var KEY = keeper.getAttribute("data-key");
  var server = readJSON(keeper.getAttribute("data-server"), null) || { version: 0, points: {}, comment: "", state: "not_started", writable: false };
  var criteria = readJSON(keeper.getAttribute("data-criteria"), []) || [];
  var T = readJSON(keeper.getAttribute("data-texts"), {}) || {};
  var statusLine = document.getElementById("save-status");
  var panel = document.getElementById("sheet-choice");
  var versionInput = form ? form.querySelector("input[name=version]") : null;

  // ------------------------------------------------------------ the copy kept on the phone

  var storage = (function () {
    try {
      var probe = KEY + ".probe";
      window.localStorage.setItem(probe, "1");
      window.localStorage.removeItem(probe);
      return window.localStorage;
    } catch (e) {
      return null;
    }
  })();

  function loadKept() {
    if (!storage) return null;
    var kept = readJSON(storage.getItem(KEY), null);
    return kept && kept.values ? kept : null;
  }

  function keep(record) {
    if (!storage) return false;
    try {
      storage.setItem(KEY, JSON.stringify(record));
      return true;
    } catch (e) {
      return false;
    }
  }

  function forget() {
    if (!storage) return;
    try { storage.removeItem(KEY); } catch (e) { /* nothing kept then */ }
  }

  // ------------------------------------------------------------ values

  function formValues() {
    var values = {};
    criteria.forEach(function (c) {
      var input = form.elements[c.key];
      values[c.key] = input ? input.value : "";
    });
    values.comment = form.elements.comment ? form.elements.comment.value : "";
    return values;
  }

  function serverValues(sheet) {
    var values = {};
    var points = (sheet && sheet.points) || {};
    criteria.forEach(function (c) { values[c.key] = points[c.key] || ""; });
    values.comment = (sheet && sheet.comment) || "";
    return values;
  }

  // The server reads full-width digits and keeps two decimals: "３０．５", "30.50" and
  // "30.5" are the same score.
  function sameNumber(a, b) {
    var x = toHalfWidth(String(a || "")).replace(/\s/g, "");
    var y = toHalfWidth(String(b || "")).replace(/\s/g, "");
    if (x === y) return true;
    if (x === "" || y === "" || isNaN(Number(x)) || isNaN(Number(y))) return false;
    return Math.round(Number(x) * 100) === Math.round(Number(y) * 100);
  }

  function sameValues(a, b) {
    if (!a || !b) return false;
    for (var i = 0; i < criteria.length; i++) {
      if (!sameNumber(a[criteria[i].key], b[criteria[i].key])) return false;
    }
    return String(a.comment || "").trim() === String(b.comment || "").trim();
  }

  function fill(values) {
    if (!form) return;
    criteria.forEach(function (c) {
      var input = form.elements[c.key];
      if (input) input.value = values[c.key] || "";
    });
    if (form.elements.comment) form.elements.comment.value = values.comment || "";
    updateTotal();
  }

  function setVersion(version) {
    if (versionInput) versionInput.value = String(version);
  }

  function currentVersion() {
    return versionInput ? parseInt(versionInput.value || "0", 10) || 0 : server.version;
  }

  // ------------------------------------------------------------ the status line

  function say(state, text) {
    if (!statusLine) return;
    statusLine.setAttribute("data-state", state);
    if (statusLine.textContent !== text) statusLine.textContent = text;
  }

  function sayOffline() {
    say("offline", storage ? T.offline : T.not_kept);
  }

  // ------------------------------------------------------------ field errors from a 400

  function clearErrors() {
    if (!form) return;
    form.querySelectorAll(".criterion").forEach(function (box) {
      box.classList.remove("has-error");
      box.querySelectorAll(".error").forEach(function (p) { p.remove(); });
      var input = box.querySelector("input.points");
      if (input) input.removeAttribute("aria-invalid");
    });
  }

  function showErrors(errors) {
    clearErrors();
    Object.keys(errors || {}).forEach(function (name) {
      var input = form.elements[name];
      if (!input || !input.closest) return;
      var box = input.closest(".criterion");
      input.setAttribute("aria-invalid", "true");
      if (!box) return;
      box.classList.add("has-error");
      var p = document.createElement("p");
      p.className = "error";
      p.textContent = errors[name];
      input.insertAdjacentElement("afterend", p);
    });
  }

  // ------------------------------------------------------------ sending

  var record = null;      // what is kept on the phone and not yet on the server
  var timer = null;       // the debounce or retry timer
  var sending = false;    // a save is on its way
  var again = false;      // typed while a save was on its way: send once more after it
  var clash = null;       // the server's sheet while the judge chooses
  var leaving = false;    // a submission is leaving the page: no question
  var afterSave = [];     // what waits for the save on its way (a submission)

  function schedule(delay) {
    clearTimeout(timer);
    timer = setTimeout(send, delay);
  }

  function body(values, version, action) {
    var data = new FormData();
    var token = form ? form.elements.csrf_token : document.querySelector("input[name=csrf_token]");
    if (token) data.append("csrf_token", token.value);
    data.append("version", String(version));
    criteria.forEach(function (c) { data.append(c.key, values[c.key] || ""); });
    data.append("comment", values.comment || "");
    data.append("action", action);
    return data;
  }

  function post(values, version, keepalive) {
    // (form.action would be the buttons named "action": the form posts to the page's URL)
    return fetch((form && form.getAttribute("action")) || window.location.href, {
      method: "POST",
      body: body(values, version, "save"),
      credentials: "same-origin",
      redirect: "manual",
      keepalive: !!keepalive,
      headers: { "Accept": "application/json", "X-Requested-With": "fetch" },
    });
  }

  function done() {
    sending = false;
    var waiting = afterSave;
    afterSave = [];
    waiting.forEach(function (fn) { fn(); });
    if (again && record && !clash) {
      again = false;
      schedule(0);
    }
  }

  function send(explicit) {
    clearTimeout(timer);
    if (!record || clash || leaving || !form) return;
    if (sending) {
      again = true;
      return;
    }
    if (navigator.onLine === false) {
      sayOffline();
      return;
    }
    var sent = record.values;
    sending = true;
    again = false;
    say("saving", T.saving);
    post(sent, record.base, false)
      .then(function (response) {
        if (response.type === "opaqueredirect" || response.status === 0) {
          say("error", T.signed_out);
          return;
        }
        return response.json().then(
          function (data) { answered(response.status, data || {}, sent, explicit); },
          function () { failed(); }
        );
      })
      .catch(function () {
        sayOffline();
        schedule(RETRY);
      })
      .then(done);
  }

  function failed() {
    say("error", T.failed);
    schedule(RETRY);
  }

  function answered(status, data, sent, explicit) {
    if (status === 200) {
      clearErrors();
      setVersion(data.version);
      server = { version: data.version, state: data.state, points: pointsOf(sent), comment: sent.comment, writable: data.state === "draft" };
      if (record && sameValues(record.values, sent)) {
        record = null;
        forget();
        say("saved", explicit ? T.draft_saved : T.saved);
      } else if (record) {
        record.base = data.version; // typed meanwhile: kept, sent again
        keep(record);
        again = true;
      }
      return;
    }
    if (status === 409 || status === 404) {
      disagree(data.sheet || null, data.error || T.changed);
      return;
    }
    if (status === 400 && data.errors) {
      showErrors(data.errors);
      say("error", T.invalid);
      return;
    }
    if (status === 400 && data.detail) { // the form expired (CSRF): reloading the page renews it
      say("error", data.detail);
      return;
    }
    failed();
  }

  function pointsOf(values) {
    var points = {};
    criteria.forEach(function (c) { if (values[c.key]) points[c.key] = values[c.key]; });
    return points;
  }

  // ------------------------------------------------------------ two versions: the judge chooses

  function disagree(sheet, reason) {
    if (!record) return;
    if (sheet && sameValues(record.values, serverValues(sheet))) {
      adopt(sheet); // the server has these very scores (sent before leaving, or elsewhere)
      return;
    }
    clash = sheet || { version: currentVersion(), state: "gone", points: {}, comment: "", writable: false };
    showChoice(reason);
  }

  function adopt(sheet) {
    server = sheet;
    setVersion(sheet.version);
    record = null;
    forget();
    say("saved", T.saved);
  }

  function cell(row, text) {
    var td = document.createElement("td");
    td.textContent = text === "" || text == null ? T.empty : text;
    row.appendChild(td);
  }

  function showChoice(reason) {
    if (!panel) return;
    var mine = record.values;
    var theirs = serverValues(clash);
    var rows = panel.querySelector("[data-choice-rows]");
    rows.textContent = "";
    criteria.concat([{ key: "comment", name: T.comment }]).forEach(function (c) {
      var row = document.createElement("tr");
      var th = document.createElement("th");
      th.scope = "row";
      th.textContent = c.name;
      row.appendChild(th);
      cell(row, mine[c.key]);
      cell(row, theirs[c.key]);
      if (c.key === "comment" ? String(mine.comment || "").trim() !== String(theirs.comment || "").trim() : !sameNumber(mine[c.key], theirs[c.key])) {
        row.className = "differs";
      }
      rows.appendChild(row);
    });
    panel.querySelector("[data-choice-reason]").textContent = reason;
    var writable = !!(clash.writable && form);
    panel.querySelector("[data-choice=mine]").hidden = !writable;
    panel.querySelector("[data-choice-locked]").hidden = writable;
    panel.hidden = false;
    say("clash", reason);
    panel.focus();
  }

  function keepMine() {
    var sheet = clash;
    clash = null;
    panel.hidden = true;
    record.base = sheet.version;
    keep(record);
    fill(record.values);
    setVersion(sheet.version);
    send();
  }

  function takeTheirs() {
    var sheet = clash;
    clash = null;
    panel.hidden = true;
    record = null;
    forget();
    if (!sheet.writable || !form) {
      leaving = true;
      window.location.reload(); // the page as the server has it now (locked, or closed)
      return;
    }
    fill(serverValues(sheet));
    adopt(sheet);
  }

  if (panel) {
    panel.querySelector("[data-choice=mine]").addEventListener("click", keepMine);
    panel.querySelector("[data-choice=server]").addEventListener("click", takeTheirs);
  }

  // ------------------------------------------------------------ typing, saving, submitting

  function changed() {
    if (!form) return;
    record = { base: record ? record.base : currentVersion(), values: formValues(), at: Date.now() };
    var kept = keep(record);
    if (clash) return; // kept; sent once the judge has chosen
    if (navigator.onLine === false) {
      sayOffline();
      return;
    }
    say("saving", kept ? T.saving : T.not_kept);
    schedule(DEBOUNCE);
  }

  if (form) {
    form.addEventListener("input", changed);

    // "Save draft" (or Enter in a field): saved at once, without leaving the page.
    var saveNow = function () {
      record = { base: record ? record.base : currentVersion(), values: formValues(), at: Date.now() };
      keep(record);
      if (clash) {
        panel.focus();
        return;
      }
      if (navigator.onLine === false) {
        sayOffline();
        return;
      }
      send(true);
    };

    var lastButton = null; // for browsers without SubmitEvent.submitter
    form.addEventListener("click", function (event) {
      var button = event.target.closest ? event.target.closest("button[name=action]") : null;
      if (button) lastButton = button;
    });

    form.addEventListener("submit", function (event) {
      var submitter = event.submitter || lastButton;
      lastButton = null;
      if (!submitter || submitter.value !== "submit") {
        event.preventDefault();
        saveNow();
        return;
      }
      record = { base: record ? record.base : currentVersion(), values: formValues(), at: Date.now() };
      keep(record); // kept until the server has it, whatever happens to this request
      if (navigator.onLine === false) {
        event.preventDefault();
        say("offline", T.offline_submit);
        return;
      }
      if (clash) {
        event.preventDefault();
        panel.focus();
        return;
      }
      clearTimeout(timer);
      if (sending) { // wait for the save on its way, then submit with its version
        event.preventDefault();
        afterSave.push(function () {
          if (clash) return;
          if (submitter && form.requestSubmit) form.requestSubmit(submitter);
        });
        return;
      }
      if (versionInput) versionInput.value = String(record.base);
      leaving = true;
    });
  }

  window.addEventListener("beforeunload", function (event) {
    if (!record || leaving) return;
    event.preventDefault();
    event.returnValue = "";
  });

  // Leaving anyway (the judge said so): one last try to send what is kept, without waiting.
  window.addEventListener("pagehide", function () {
    if (!record || leaving || clash || sending || !form || navigator.onLine === false) return;
    try { post(record.values, record.base, true).catch(function () {}); } catch (e) { /* kept */ }
  });

  window.addEventListener("online", function () {
    if (record && !clash) send();
  });
  window.addEventListener("offline", function () {
    if (record) sayOffline();
  });

  // ------------------------------------------------------------ opening the page

  function start() {
    var kept = loadKept();
    if (!kept) {
      if (server.version > 0 && form) say("saved", T.saved);
      return;
    }
    record = kept;
    if (sameValues(kept.values, serverValues(server))) {
      adopt(server); // the server has it already
      return;
    }
    if (!form || kept.base !== server.version) {
      disagree(server, T.changed);
      return;
    }
    fill(kept.values); // typed here, not sent yet: shown, and sent
    send();
  }

  start();
})();
