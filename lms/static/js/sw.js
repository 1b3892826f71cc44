/* Service worker: courses saved for offline reading.
 *
 * Nothing is cached until an officer presses "Save for offline reading" on a course page; the page then
 * sends the course's addresses (course page, every lesson) and this worker stores them, with the images
 * and files the lessons show, in one cache per course. Pages always come from the network first; only
 * when the network fails does a saved copy answer, so an online officer never reads a stale lesson.
 * Quizzes are never saved: offline, a quiz address answers with the saved "you are offline" page.
 */
"use strict";

var STATIC = "lms-static-v1";
var PREFIX = "lms-course:";

self.addEventListener("install", function () { self.skipWaiting(); });
self.addEventListener("activate", function (event) { event.waitUntil(self.clients.claim()); });

function sameOrigin(url) { return new URL(url, self.location.href).origin === self.location.origin; }

function filesOf(html, base) {
  // Images, audio, video and handouts the lesson shows (same site only).
  var out = [], re = /(?:src|href)="([^"]+)"/g, m;
  while ((m = re.exec(html))) {
    var url = new URL(m[1].replace(/&amp;/g, "&"), base);
    if (url.origin === self.location.origin && (/\/files\//.test(url.pathname) || /^\/static\//.test(url.pathname))) {
      out.push(url.pathname + url.search);
    }
  }
  return out;
}

function save(key, urls, statics) {
  var name = PREFIX + key;
  return caches.delete(name).then(function () { return caches.open(name); }).then(function (cache) {
    var bytes = 0, extra = [];
    return Promise.all(urls.map(function (url) {
      return fetch(url, { credentials: "same-origin" }).then(function (response) {
        if (!response.ok || response.redirected) { throw new Error("not saved: " + url); }
        return response.clone().blob().then(function (blob) {
          bytes += blob.size;
          return blob.text();
        }).then(function (html) {
          extra = extra.concat(filesOf(html, new URL(url, self.location.href)));
          return cache.put(url, response);
        });
      });
    })).then(function () {
      var unique = extra.filter(function (u, i) { return extra.indexOf(u) === i; });
      var files = unique.filter(function (u) { return !/^\/static\//.test(u); });
      // The stylesheet, scripts and icons the saved pages use, whatever the page template adds.
      statics = statics.concat(unique.filter(function (u) { return /^\/static\//.test(u) && statics.indexOf(u) < 0; }));
      return Promise.all(files.map(function (url) {
        return fetch(url, { credentials: "same-origin" }).then(function (response) {
          if (!response.ok) { return null; }
          return response.clone().blob().then(function (blob) { bytes += blob.size; return cache.put(url, response); });
        }, function () { return null; });
      }));
    }).then(function () {
      return caches.open(STATIC).then(function (s) { return s.addAll(statics); });
    }).then(function () { return { ok: true, bytes: bytes, count: urls.length }; });
  });
}

self.addEventListener("message", function (event) {
  var data = event.data || {}, port = event.ports && event.ports[0];
  var reply = function (value) { if (port) { port.postMessage(value); } };
  if (data.type === "save") {
    event.waitUntil(save(data.key, data.urls || [], data.statics || []).then(reply, function (err) {
      caches.delete(PREFIX + data.key);
      reply({ ok: false, error: String(err) });
    }));
  } else if (data.type === "remove") {
    event.waitUntil(caches.delete(PREFIX + data.key).then(function () { reply({ ok: true }); }));
  } else if (data.type === "status") {
    event.waitUntil(caches.has(PREFIX + data.key).then(function (has) { reply({ ok: true, saved: has }); }));
  }
});

function fromCaches(request) {
  return caches.keys().then(function (names) {
    var mine = names.filter(function (n) { return n.indexOf(PREFIX) === 0 || n === STATIC; });
    var tryNext = function (i, ignoreSearch) {
      if (i >= mine.length) { return Promise.resolve(undefined); }
      return caches.open(mine[i]).then(function (c) { return c.match(request, { ignoreSearch: ignoreSearch }); })
        .then(function (hit) { return hit || tryNext(i + 1, ignoreSearch); });
    };
    return tryNext(0, false).then(function (hit) { return hit || tryNext(0, true); });
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (!sameOrigin(request.url)) { return; }
  if (request.method === "POST" && request.mode !== "navigate" && /\/progress\/c\/[^/]+\/[^/]+\/complete$/.test(new URL(request.url).pathname)) {
    // Progress kept offline, sent by offline.js: through this worker, so that a dead link fails the
    // send (and the progress stays kept) even while the browser still believes it is online.
    event.respondWith(fetch(request));
    return;
  }
  if (request.method !== "GET") { return; }
  event.respondWith(fetch(request).catch(function () {
    return fromCaches(request).then(function (hit) {
      if (hit) { return hit; }
      if (request.mode === "navigate") {
        return fromCaches(new Request("/offline")).then(function (page) {
          return page || new Response("Offline", { status: 503, headers: { "Content-Type": "text/plain; charset=utf-8" } });
        });
      }
      return new Response("", { status: 503 });
    });
  }));
});
