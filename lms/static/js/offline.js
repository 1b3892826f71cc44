/* Offline reading: save an assigned course on this device, and keep lesson progress made offline.
 *
 * Without service workers (old browsers) nothing here runs and the pages work online as always. On a
 * course page the "Read offline" card asks the service worker (/sw.js) to save the course and shows
 * how much space it takes. On a lesson read offline, "Mark complete" is kept on the device and sent
 * when the connection returns; the server marks a lesson done once, so sending twice counts once.
 */
(function () {
  "use strict";
  if (!("serviceWorker" in navigator) || !window.fetch) { return; }
  var PENDING = "lms-offline-progress";

  function pending() { try { return JSON.parse(localStorage.getItem(PENDING) || "[]"); } catch (e) { return []; } }
  function keep(list) { try { localStorage.setItem(PENDING, JSON.stringify(list)); } catch (e) { /* full */ } }
  function token() { var t = document.querySelector("input[name=csrf_token]"); return t ? t.value : ""; }

  function ask(message) {
    return navigator.serviceWorker.ready.then(function (reg) {
      return new Promise(function (resolve) {
        var channel = new MessageChannel();
        channel.port1.onmessage = function (event) { resolve(event.data || {}); };
        (navigator.serviceWorker.controller || reg.active).postMessage(message, [channel.port2]);
      });
    });
  }

  function size(bytes, lang) {
    var mb = bytes / (1024 * 1024);
    var text = mb >= 1 ? mb.toFixed(1) + " MB" : Math.max(1, Math.round(bytes / 1024)) + " KB";
    return lang === "vi" ? text.replace(".", ",") : text;
  }

  // Lesson progress made offline -------------------------------------------------------------------
  var sending = false;
  function flush() {
    var list = pending();
    if (!list.length || sending || !navigator.onLine || !token()) { return; }
    sending = true;
    var item = list[0];
    var body = new FormData();
    body.append("csrf_token", token());
    body.append("lang", item.lang || "");
    fetch(item.action, { method: "POST", body: body, credentials: "same-origin", redirect: "follow" })
      .then(function (response) {
        sending = false;
        if (response.ok || response.status === 404 || response.status === 403) {
          // Sent (or the lesson is gone): either way it must not be sent again.
          keep(pending().filter(function (p) { return p.action !== item.action; }));
          var note = document.getElementById("offline-sync");
          if (note) { note.hidden = false; }
          showKept(item.action);
          flush();
        }
      }, function () { sending = false; });
  }

  // On a course page (also the saved copy opened offline): a lesson marked complete on this device
  // shows as done, noted "sent when the connection returns" until it is sent, then plain "done".
  function showKept(sent) {
    var outline = document.querySelector("ol.outline[data-kept]");
    if (!outline) { return; }
    var kept = pending().map(function (p) { return p.action; });
    Array.prototype.forEach.call(outline.querySelectorAll("li[data-complete]"), function (li) {
      var action = li.getAttribute("data-complete");
      var waiting = kept.indexOf(action) >= 0;
      if (!waiting && action !== sent && !li.classList.contains("kept")) { return; }
      li.classList.add("done", "kept");
      var check = li.querySelector(".check");
      if (check) { check.textContent = "\u2713"; }
      var note = li.querySelector(".kept-note");
      if (!note) {
        note = document.createElement("span");
        note.className = "kept-note";
        (li.querySelector("small") || li).appendChild(note);
      }
      note.textContent = " · " + outline.getAttribute(waiting ? "data-kept" : "data-sent");
    });
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    var action = form.getAttribute("action") || "";
    if (navigator.onLine || !/\/progress\/c\/[^/]+\/[^/]+\/complete$/.test(action)) { return; }
    event.preventDefault();
    var list = pending().filter(function (p) { return p.action !== action; });
    var lang = form.querySelector("input[name=lang]");
    list.push({ action: action, lang: lang ? lang.value : "", at: new Date().toISOString() });
    keep(list);
    var note = document.getElementById("offline-kept");
    if (note) { note.hidden = false; note.focus(); }
    var button = form.querySelector("button");
    if (button) { button.disabled = true; }
  }, true);
  window.addEventListener("online", flush);
  showKept(null);
  flush();

  // The "Read offline" card of a course page ------------------------------------------------------
  var card = document.getElementById("offline");
  if (!card) { return; }
  navigator.serviceWorker.register(card.getAttribute("data-worker"), { scope: "/" });
  var key = card.getAttribute("data-course");
  var lang = document.documentElement.lang;
  var state = document.getElementById("offline-state");
  var saveButton = document.getElementById("offline-save");
  var removeButton = document.getElementById("offline-remove");
  var storeKey = "lms-offline:" + key;

  function show(info) {
    if (info) {
      state.textContent = card.getAttribute("data-saved").replace("%(size)s", size(info.bytes, lang))
        .replace("%(date)s", new Date(info.at).toLocaleDateString(lang === "vi" ? "vi-VN" : "en-GB"));
      card.classList.add("is-offline");
    } else {
      state.textContent = card.getAttribute("data-not-saved");
      card.classList.remove("is-offline");
    }
    saveButton.textContent = card.getAttribute(info ? "data-update" : "data-save");
    removeButton.hidden = !info;
  }
  function remembered() { try { return JSON.parse(localStorage.getItem(storeKey) || "null"); } catch (e) { return null; } }

  card.hidden = false;
  show(null);
  ask({ type: "status", key: key }).then(function (reply) {
    if (!reply.saved) { localStorage.removeItem(storeKey); }
    show(reply.saved ? remembered() : null);
  });
  saveButton.addEventListener("click", function () {
    saveButton.disabled = true;
    state.textContent = card.getAttribute("data-saving");
    var urls = JSON.parse(card.getAttribute("data-urls") || "[]");
    var statics = JSON.parse(card.getAttribute("data-statics") || "[]");
    ask({ type: "save", key: key, urls: urls, statics: statics }).then(function (reply) {
      saveButton.disabled = false;
      if (reply.ok) {
        var info = { bytes: reply.bytes, at: Date.now() };
        localStorage.setItem(storeKey, JSON.stringify(info));
        show(info);
      } else {
        state.textContent = card.getAttribute("data-failed");
      }
    });
  });
  removeButton.addEventListener("click", function () {
    ask({ type: "remove", key: key }).then(function () { localStorage.removeItem(storeKey); show(null); });
  });
})();
