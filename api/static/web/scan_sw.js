// 扫码作业's service worker, served as /scan-sw.js with the scope /scan: it keeps the scan page
// and the files it loads on the device, so the page opens with no network once it has been
// opened. Everything is network first (a file or page from the server when it answers within a
// few seconds, the device's copy otherwise), so a new version reaches the device as soon as it
// is online. Only GETs of this origin are looked at; the API's calls pass through untouched
// (the page keeps its own copy of documents and its queue of scans in IndexedDB).
"use strict";

var VERSION = "1";
var FILES = "ledger-scan-files-" + VERSION;  // the page's scripts, styles, icons
var PAGES = "ledger-scan-pages";  // the page itself: holds the session's name and CSRF token
var WAIT_MS = 4000;  // a slow network is not waited for longer than this
var SHELL = [
  "/static/web/app.css",
  "/static/web/app.js",
  "/static/htmx/htmx.min.js",
  "/static/web/scan.css",
  "/static/web/scan_queue.js",
  "/static/web/scan_sync.js",
  "/static/web/scan.js",
  "/static/web/camera.js",
  "/static/vendor/jsqr/jsQR.js",
  "/static/web/icon.svg",
  "/static/web/icon-180.png",
  "/static/web/icon-192.png",
  "/static/web/icon-512.png",
  "/scan.webmanifest"
];

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(FILES).then(function (cache) {
    // One file missing (a vendored decoder not there) must not stop the rest.
    return Promise.all(SHELL.map(function (path) {
      return cache.add(path).catch(function () { return null; });
    }));
  }).then(function () {
    return keepPage(new Request("/scan", { credentials: "same-origin" }));
  }).then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (names) {
    return Promise.all(names.filter(function (name) {
      return name.indexOf("ledger-scan-files-") === 0 && name !== FILES;
    }).map(function (name) { return caches.delete(name); }));
  }).then(function () { return self.clients.claim(); }));
});

// A page is kept only when it is the signed-in page itself (not the sign-in form it redirects
// to when the session has ended).
function keepable(response) {
  return response && response.ok && response.type === "basic" && !response.redirected;
}

function keepPage(request) {
  return fetch(request).then(function (response) {
    if (!keepable(response)) { return null; }
    return caches.open(PAGES).then(function (cache) {
      return cache.put(new URL(request.url).pathname, response);
    });
  }).catch(function () { return null; });
}

function fromNetwork(request, cacheName, key) {
  return new Promise(function (resolve, reject) {
    var timer = setTimeout(function () { reject(new Error("slow")); }, WAIT_MS);
    fetch(request).then(function (response) {
      clearTimeout(timer);
      if (keepable(response)) {
        var copy = response.clone();
        caches.open(cacheName).then(function (cache) { return cache.put(key, copy); })
          .catch(function () { return null; });
      }
      resolve(response);
    }, function (error) { clearTimeout(timer); reject(error); });
  });
}

function offlinePage() {
  var body = "<!doctype html><meta charset=utf-8><title>离线</title>" +
    "<p>没有网络，本机也还没有扫码作业页面的副本：请联网后打开一次扫码作业。</p>";
  return new Response(body, { status: 503,
    headers: { "Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store" } });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") { return; }
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) { return; }
  if (request.mode === "navigate" && url.pathname === "/scan") {
    event.respondWith(fromNetwork(request, PAGES, "/scan").catch(function () {
      return caches.open(PAGES).then(function (cache) { return cache.match("/scan"); })
        .then(function (kept) { return kept || offlinePage(); });
    }));
    return;
  }
  if (url.pathname.indexOf("/static/") === 0 || url.pathname === "/scan.webmanifest") {
    event.respondWith(fromNetwork(request, FILES, url.pathname).catch(function () {
      return caches.open(FILES).then(function (cache) { return cache.match(url.pathname); })
        .then(function (kept) { return kept || Response.error(); });
    }));
  }
});
