// 扫码作业: sending the device's waiting scans (ScanQueue) to the server, one at a time, in the
// order they were taken, each with the Idempotency-Key it was given when it was taken — so a scan
// whose answer was lost on the way is sent again with the same key and counted once.
//
// send(entry) resolves with what became of it:
//   {kind: "answered", result}   the server took it (scanned, or already scanned)
//   {kind: "refused", problem}   the server refused it (not here, expired, forged …): final
//   {kind: "network", maybeSent} no answer (offline, timeout, a proxy's 502/503/504): send later;
//                                maybeSent unless the browser knew it was offline (the request
//                                may have reached the server and only its answer got lost)
//   {kind: "later", problem}     the server could not answer now (its error, key in use): later
//   {kind: "session"}            the session ended (401): sign in again, the scans wait
//   {kind: "stale"}              the page's CSRF token is an old session's (a page opened
//                                offline from the device's copy): reload the page
(function () {
  "use strict";

  var TIMEOUT_MS = 15000;
  var NETWORK_STATUSES = [0, 502, 503, 504];

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }

  function withTimeout(url, options) {
    var controller = window.AbortController ? new AbortController() : null;
    if (controller) { options.signal = controller.signal; }
    var timer = setTimeout(function () { if (controller) { controller.abort(); } }, TIMEOUT_MS);
    return fetch(url, options).then(function (response) {
      clearTimeout(timer);
      return response;
    }, function (error) {
      clearTimeout(timer);
      throw error;
    });
  }

  function classify(response, text) {
    var data = null;
    try { data = text ? JSON.parse(text) : null; } catch (ignored) { data = null; }
    var status = response.status;
    if (status === 401) { return { kind: "session" }; }
    if (status === 403 && data && data.code === "csrf_failed") { return { kind: "stale" }; }
    if (NETWORK_STATUSES.indexOf(status) >= 0 || data === null) {
      return { kind: "network", maybeSent: true };
    }
    if (response.ok) { return { kind: "answered", result: data }; }
    if (status >= 500 || status === 429 ||
        (status === 409 && data.code === "idempotency_key_in_progress")) {
      return { kind: "later", problem: data };
    }
    return { kind: "refused", problem: data };
  }

  function send(entry) {
    var body = { document: entry.doc, payload: entry.payload };
    if (entry.reason) { body.override_reason = entry.reason; }
    var options = {
      method: "POST", credentials: "same-origin",
      headers: { "Accept": "application/json", "Content-Type": "application/json",
                 "X-CSRF-Token": csrfToken(), "Idempotency-Key": entry.key },
      body: JSON.stringify(body)
    };
    return withTimeout("/api/v1/scans", options).then(function (response) {
      return response.text().then(function (text) { return classify(response, text); },
        function () { return { kind: "network", maybeSent: true }; });
    }, function () { return { kind: "network", maybeSent: navigator.onLine !== false }; });
  }

  // What a label says, read from its text (docs/labels.md): L1.item.batch.serial.qty.expiry…
  function label(payload) {
    var parts = String(payload || "").toUpperCase().split(".");
    if (parts.length < 7 || parts[0] !== "L1") { return null; }
    return { item_code: parts[1], batch_number: parts[2], serial: parts[3], quantity: parts[4] };
  }

  // One at a time across the device's tabs (Web Locks where the browser has them).
  function exclusive(work) {
    if (navigator.locks && navigator.locks.request) {
      return navigator.locks.request("ledger-scan-send", work);
    }
    return work();
  }

  window.ScanSync = { send: send, label: label, exclusive: exclusive };
})();
