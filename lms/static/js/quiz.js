/* Quiz page: autosave answers as the officer goes, and show the time left.
 *
 * The page works without this script (a "Save answers" button and a plain form submit). With it, every
 * change is sent to the server in a small JSON POST (CSRF token in the X-CSRFToken header); changes not
 * yet acknowledged are kept in localStorage, so a reload or a dropped connection loses nothing, and are
 * sent again every few seconds until the server has them. The server decides the deadline: when it
 * answers 409 the attempt is closed and we go to its review.
 */
(function () {
  "use strict";
  var form = document.getElementById("quiz-form");
  if (!form || !window.fetch) { return; }
  var saveUrl = form.getAttribute("data-save-url");
  var tokenInput = form.querySelector("input[name=csrf_token]");
  var token = tokenInput ? tokenInput.value : "";
  var stateEl = document.getElementById("save-state");
  var storeKey = "lms-quiz:" + saveUrl;
  var dirty = {};     // slot -> change counter
  var counter = 0;
  var inFlight = false;
  var closed = false;
  var submitting = false;

  function say(kind) {
    if (!stateEl) { return; }
    stateEl.textContent = stateEl.getAttribute("data-" + kind) || "";
    stateEl.className = "save-state save-" + kind;
  }

  function slotOf(el) {
    var box = el.closest ? el.closest("[data-slot]") : null;
    return box ? box.getAttribute("data-slot") : null;
  }

  function valuesOf(slot) {
    var out = [];
    var fields = form.querySelectorAll("[name='q" + slot + "']");
    for (var i = 0; i < fields.length; i++) {
      var f = fields[i];
      if ((f.type === "radio" || f.type === "checkbox") && !f.checked) { continue; }
      out.push(f.value);
    }
    return out;
  }

  function readStore() {
    try { return JSON.parse(window.localStorage.getItem(storeKey) || "{}"); } catch (e) { return {}; }
  }

  function writeStore() {
    var pending = {};
    Object.keys(dirty).forEach(function (slot) { pending[slot] = valuesOf(slot); });
    try {
      if (Object.keys(pending).length) { window.localStorage.setItem(storeKey, JSON.stringify(pending)); }
      else { window.localStorage.removeItem(storeKey); }
    } catch (e) { /* private mode: autosave still works while online */ }
  }

  function restore() {
    var pending = readStore();
    Object.keys(pending).forEach(function (slot) {
      var values = pending[slot] || [];
      var fields = form.querySelectorAll("[name='q" + slot + "']");
      if (!fields.length) { return; }
      for (var i = 0; i < fields.length; i++) {
        var f = fields[i];
        if (f.type === "radio" || f.type === "checkbox") { f.checked = values.indexOf(f.value) !== -1; }
        else if (f.tagName === "SELECT") {
          var prefix = (f.options[0] && f.options[0].value) || "";
          var match = values.filter(function (v) { return v.split(":")[0] === prefix.split(":")[0]; })[0];
          if (match !== undefined) { f.value = match; }
        } else { f.value = values[0] || ""; }
      }
      dirty[slot] = ++counter;
    });
  }

  function save(useBeacon) {
    // Once the form is submitted it carries every answer; a late autosave would only meet a closed attempt.
    if (closed || inFlight || submitting) { return; }
    var slots = Object.keys(dirty);
    if (!slots.length) { return; }
    var answers = {};
    var sent = {};
    slots.forEach(function (slot) { answers[slot] = valuesOf(slot); sent[slot] = dirty[slot]; });
    inFlight = true;
    say("saving");
    fetch(saveUrl, {
      method: "POST",
      credentials: "same-origin",
      keepalive: !!useBeacon,
      headers: { "Content-Type": "application/json", "X-CSRFToken": token, "Accept": "application/json" },
      body: JSON.stringify({ answers: answers })
    }).then(function (response) {
      return response.json().then(function (data) { return { status: response.status, data: data }; },
                                   function () { return { status: response.status, data: {} }; });
    }).then(function (result) {
      inFlight = false;
      if (result.status === 200 && result.data.ok) {
        Object.keys(sent).forEach(function (slot) { if (dirty[slot] === sent[slot]) { delete dirty[slot]; } });
        writeStore();
        say(Object.keys(dirty).length ? "saving" : "saved");
        if (typeof result.data.seconds_left === "number") { timer.sync(result.data.seconds_left); }
      } else if (result.status === 409) {
        closed = true;
        dirty = {};
        writeStore();
        say("closed");
        if (result.data.review) { window.location.href = result.data.review; }
      } else {
        // A value the server refused (400): show its message; the slot stays dirty for the next try.
        if (stateEl && result.data.error) { stateEl.textContent = result.data.error; stateEl.className = "save-state save-error"; }
        else { say("offline"); }
      }
    }).catch(function () {
      inFlight = false;
      say("offline");
    });
  }

  var debounce = null;
  function changed(event) {
    var slot = slotOf(event.target);
    if (slot === null) { return; }
    dirty[slot] = ++counter;
    writeStore();
    window.clearTimeout(debounce);
    debounce = window.setTimeout(save, event.type === "input" ? 1500 : 200);
  }

  form.addEventListener("change", changed);
  form.addEventListener("input", changed);
  form.addEventListener("submit", function () { submitting = true; window.clearTimeout(debounce); writeStore(); });
  window.setInterval(function () { save(false); }, 10000);
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden" && !submitting) { save(true); }
  });
  window.addEventListener("online", function () { save(false); });

  var timer = (function () {
    var el = document.getElementById("quiz-timer");
    var deadline = null;
    function sync(seconds) { deadline = Date.now() + seconds * 1000; }
    function tick() {
      if (!el || deadline === null) { return; }
      var left = Math.max(0, Math.round((deadline - Date.now()) / 1000));
      var m = Math.floor(left / 60), s = left % 60;
      el.textContent = m + ":" + (s < 10 ? "0" : "") + s;
      el.parentNode.className = "quiz-timer" + (left <= 60 ? " quiz-timer-warn" : "");
      if (left === 0 && !submitting && !closed) {
        submitting = true;
        form.submit();  // the server keeps what arrives by the deadline (plus a short grace)
      }
    }
    if (el) {
      sync(parseInt(el.getAttribute("data-seconds"), 10) || 0);
      window.setInterval(tick, 1000);
    }
    return { sync: sync };
  })();

  restore();
  if (Object.keys(dirty).length) { save(false); }
})();
