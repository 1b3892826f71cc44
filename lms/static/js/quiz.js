/* Quiz page: an exam paper. Autosave answers as the officer goes, page through the questions, keep
 * the navigation panel (answered / not answered / flagged) up to date, and show the time left.
 *
 * The page works without this script: every question on one page, a "Save answers" button, flags as
 * checkboxes and "Review and submit" leading to the server's summary page. With it, every change is
 * sent to the server in a small JSON POST (CSRF token in the X-CSRFToken header); changes not yet
 * acknowledged are kept in localStorage, so a reload or a dropped connection loses nothing, and are
 * sent again every few seconds until the server has them; every page change saves at once. The server
 * decides the deadline: when it answers 409 the attempt is closed and we go to its review.
 */
(function () {
  "use strict";
  var form = document.getElementById("quiz-form");
  if (!form) { summaryTimer(); return; }
  if (!window.fetch) { return; }
  var saveUrl = form.getAttribute("data-save-url");
  var tokenInput = form.querySelector("input[name=csrf_token]");
  var token = tokenInput ? tokenInput.value : "";
  var stateEl = document.getElementById("save-state");
  var storeKey = "lms-quiz:" + saveUrl;
  var dirty = {};     // slot -> change counter
  var flagsDirty = false;
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

  function flaggedSlots() {
    var out = [];
    var boxes = form.querySelectorAll("input[name=flags]");
    for (var i = 0; i < boxes.length; i++) { if (boxes[i].checked) { out.push(parseInt(boxes[i].value, 10)); } }
    return out;
  }

  function save(useBeacon) {
    // Once the form is submitted it carries every answer; a late autosave would only meet a closed attempt.
    if (closed || inFlight || submitting) { return; }
    var slots = Object.keys(dirty);
    if (!slots.length && !flagsDirty) { return; }
    var answers = {};
    var sent = {};
    var sentFlags = flagsDirty;
    slots.forEach(function (slot) { answers[slot] = valuesOf(slot); sent[slot] = dirty[slot]; });
    var body = { answers: answers };
    if (flagsDirty) { body.flags = flaggedSlots(); flagsDirty = false; }
    inFlight = true;
    say("saving");
    fetch(saveUrl, {
      method: "POST",
      credentials: "same-origin",
      keepalive: !!useBeacon,
      headers: { "Content-Type": "application/json", "X-CSRFToken": token, "Accept": "application/json" },
      body: JSON.stringify(body)
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
      } else if (result.status === 403) {
        closed = true;
        say("forbidden");
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
        if (sentFlags) { flagsDirty = true; }
      }
    }).catch(function () {
      inFlight = false;
      if (sentFlags) { flagsDirty = true; }
      say("offline");
    });
  }

  var debounce = null;
  function changed(event) {
    var slot = slotOf(event.target);
    if (slot === null) { return; }
    if (event.target.name === "flags") {
      flagsDirty = true;
      paper.refresh(slot);
      window.clearTimeout(debounce);
      debounce = window.setTimeout(save, 200);
      return;
    }
    paper.refresh(slot);
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
    var announcer = document.getElementById("quiz-announce");
    var announced = {};
    var deadline = null;
    function announce(left) {
      // Polite and rare: at 10, 5 and 1 minute left, never every second.
      if (!announcer) { return; }
      [600, 300, 60].forEach(function (mark) {
        if (left <= mark && left > mark - 30 && !announced[mark]) {
          announced[mark] = true;
          announcer.textContent = mark === 60 ? announcer.getAttribute("data-minute")
            : (announcer.getAttribute("data-minutes") || "").replace("%(num)s", String(mark / 60));
        }
      });
    }
    function sync(seconds) { deadline = Date.now() + seconds * 1000; }
    function tick() {
      if (!el || deadline === null) { return; }
      var left = Math.max(0, Math.round((deadline - Date.now()) / 1000));
      var m = Math.floor(left / 60), s = left % 60;
      el.textContent = m + ":" + (s < 10 ? "0" : "") + s;
      el.parentNode.className = "quiz-timer" + (left <= 60 ? " quiz-timer-warn" : "");
      announce(left);
      if (left === 0 && !submitting && !closed && form) {
        submitting = true;
        writeStore();
        form.submit();  // the server keeps what arrives by the deadline (plus a short grace)
      }
    }
    if (el) {
      sync(parseInt(el.getAttribute("data-seconds"), 10) || 0);
      window.setInterval(tick, 1000);
    }
    return { sync: sync };
  })();


  // The exam paper: pages of questions, the navigation panel, flags. --------------------------------
  var paper = (function () {
    var boxes = Array.prototype.slice.call(form.querySelectorAll("fieldset.question"));
    var links = Array.prototype.slice.call(document.querySelectorAll("#quiz-nav a.qnav"));
    var countEl = document.getElementById("quiz-nav-count");
    var perPage = parseInt(form.getAttribute("data-per-page"), 10);
    if (isNaN(perPage) || perPage < 0) { perPage = 5; }
    if (window.matchMedia && window.matchMedia("(max-width: 39.99rem)").matches) { perPage = 1; }
    // A description (no number) goes with the question after it.
    var pages = [], page = [], count = 0, waiting = [];
    boxes.forEach(function (box) {
      if (!box.hasAttribute("data-number")) { waiting.push(box); return; }
      if (perPage > 0 && count === perPage) { pages.push(page); page = []; count = 0; }
      page = page.concat(waiting); waiting = [];
      page.push(box); count++;
    });
    page = page.concat(waiting);
    if (page.length) { pages.push(page); }
    var current = 0;
    var pager = null, label = null, prev = null, next = null;

    function pageOf(slot) {
      for (var i = 0; i < pages.length; i++) {
        for (var j = 0; j < pages[i].length; j++) { if (pages[i][j].getAttribute("data-slot") === String(slot)) { return i; } }
      }
      return 0;
    }

    function answered(slot) {
      return valuesOf(slot).some(function (v) { v = String(v).trim(); return v !== "" && !/^\d+:$/.test(v); });
    }

    function refresh(slot) {
      links.forEach(function (a) {
        if (slot !== undefined && a.getAttribute("data-slot") !== String(slot)) { return; }
        var s = a.getAttribute("data-slot");
        var flag = form.querySelector("input[name=flags][value='" + s + "']");
        var isAnswered = answered(s), isFlagged = !!(flag && flag.checked);
        a.classList.toggle("answered", isAnswered);
        a.classList.toggle("flagged", isFlagged);
        var state = a.querySelector(".qnav-state");
        if (state) {
          state.textContent = state.getAttribute(isAnswered ? "data-answered" : "data-unanswered") +
            (isFlagged ? ", " + state.getAttribute("data-flagged") : "");
        }
      });
      if (countEl) {
        var done = links.filter(function (a) { return a.classList.contains("answered"); }).length;
        countEl.textContent = (countEl.getAttribute("data-template") || "")
          .replace("%(answered)s", String(done)).replace("%(total)s", String(links.length));
      }
    }

    function show(index, focus) {
      if (pages.length < 2) { return; }
      current = Math.max(0, Math.min(pages.length - 1, index));
      boxes.forEach(function (box) { box.hidden = pages[current].indexOf(box) === -1; });
      links.forEach(function (a) {
        if (pageOf(a.getAttribute("data-slot")) === current) { a.setAttribute("aria-current", "true"); }
        else { a.removeAttribute("aria-current"); }
      });
      label.textContent = (form.getAttribute("data-page-label") || "")
        .replace("%(num)s", String(current + 1)).replace("%(total)s", String(pages.length));
      prev.disabled = current === 0;
      next.disabled = current === pages.length - 1;
      if (focus) {
        var target = focus === true ? pages[current][0] : focus;
        var legend = target.querySelector("legend");
        target.scrollIntoView({ block: "start" });
        if (legend) { legend.focus({ preventScroll: true }); }
      }
    }

    function go(index, focus) {
      if (index !== current) { save(false); }  // every page change saves at once
      show(index, focus);
    }

    if (pages.length > 1) {
      pager = document.createElement("div");
      pager.className = "quiz-pager";
      prev = document.createElement("button");
      prev.type = "button"; prev.className = "button"; prev.id = "quiz-prev";
      prev.textContent = "← " + (form.getAttribute("data-prev") || "");
      next = document.createElement("button");
      next.type = "button"; next.className = "button"; next.id = "quiz-next";
      next.textContent = (form.getAttribute("data-next") || "") + " →";
      label = document.createElement("span");
      label.className = "quiz-page-label"; label.id = "quiz-page-label";
      label.setAttribute("aria-live", "polite");
      pager.appendChild(prev); pager.appendChild(label); pager.appendChild(next);
      form.insertBefore(pager, document.getElementById("quiz-actions"));
      prev.addEventListener("click", function () { go(current - 1, true); });
      next.addEventListener("click", function () { go(current + 1, true); });
      form.classList.add("paged");
    }
    links.forEach(function (a) {
      a.addEventListener("click", function (event) {
        var slot = a.getAttribute("data-slot");
        var box = document.getElementById("q" + slot + "-box");
        if (!box || pages.length < 2) { return; }  // one page: the anchor scrolls by itself
        event.preventDefault();
        go(pageOf(slot), box);
      });
    });
    var hash = /^#q(\d+)-box$/.exec(window.location.hash || "");
    show(hash ? pageOf(hash[1]) : 0, hash ? document.getElementById("q" + hash[1] + "-box") : false);
    return { refresh: refresh, show: show };
  })();

  restore();
  paper.refresh();
  if (Object.keys(dirty).length) { save(false); }

  // The summary page has no answers to save, only the clock: at zero its form submits.
  function summaryTimer() {
    var el = document.getElementById("quiz-timer");
    var submitForm = document.getElementById("summary-form");
    var announcer = document.getElementById("quiz-announce");
    if (!el) { return; }
    var deadline = Date.now() + (parseInt(el.getAttribute("data-seconds"), 10) || 0) * 1000;
    var done = false, announced = {};
    window.setInterval(function () {
      var left = Math.max(0, Math.round((deadline - Date.now()) / 1000));
      el.textContent = Math.floor(left / 60) + ":" + (left % 60 < 10 ? "0" : "") + (left % 60);
      [600, 300, 60].forEach(function (mark) {
        if (announcer && left <= mark && left > mark - 30 && !announced[mark]) {
          announced[mark] = true;
          announcer.textContent = mark === 60 ? announcer.getAttribute("data-minute")
            : (announcer.getAttribute("data-minutes") || "").replace("%(num)s", String(mark / 60));
        }
      });
      if (left === 0 && !done && submitForm) { done = true; submitForm.submit(); }
    }, 1000);
  }
})();
