// 扫码作业's store on the device (IndexedDB "ledger-scan"): the scans not yet answered by the
// server, and the last copy of each scan document seen, so that the page works with no network
// and survives a reload, a browser restart or a crash.
//
//   queue      one entry per scan, keyed by its Idempotency-Key (made once, when the scan is
//              taken, and stored before anything is sent): {key, seq, user, doc, payload,
//              reason, state: "waiting" | "refused", taken, problem}. "waiting" entries are
//              sent in seq order; "refused" ones stay until the user clears them.
//   documents  the last server copy of a document, keyed [user, id], and the user's list of
//              open documents under id 0.
//
// Every write resolves only when its transaction has committed: a scan reported as 待上传 is
// on the device.
(function () {
  "use strict";

  var NAME = "ledger-scan";
  var VERSION = 1;
  var opening = null;

  function open() {
    if (opening) { return opening; }
    opening = new Promise(function (resolve, reject) {
      if (!window.indexedDB) { reject(new Error("no IndexedDB")); return; }
      var request = indexedDB.open(NAME, VERSION);
      request.onupgradeneeded = function () {
        var db = request.result;
        var queue = db.createObjectStore("queue", { keyPath: "key" });
        queue.createIndex("user", ["user", "seq"]);
        db.createObjectStore("documents", { keyPath: ["user", "id"] });
      };
      request.onsuccess = function () {
        var db = request.result;
        db.onversionchange = function () { db.close(); opening = null; };
        resolve(db);
      };
      request.onerror = function () { opening = null; reject(request.error); };
      request.onblocked = function () { reject(new Error("IndexedDB blocked")); };
    });
    return opening;
  }

  // Runs work(stores) in one transaction; resolves with what work returned once it commits.
  function transaction(names, mode, work) {
    return open().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction(names, mode);
        var stores = {};
        names.forEach(function (n) { stores[n] = tx.objectStore(n); });
        var result;
        tx.oncomplete = function () { resolve(result && result.done ? result.value : result); };
        tx.onerror = function () { reject(tx.error); };
        tx.onabort = function () { reject(tx.error || new Error("aborted")); };
        result = work(stores);
      });
    });
  }

  // A value read inside a transaction, available once it commits ({done, value}).
  function reading(request, shape) {
    var holder = { done: true, value: undefined };
    request.onsuccess = function () { holder.value = shape ? shape(request.result) : request.result; };
    return holder;
  }

  function newKey() {
    var random = window.crypto && crypto.randomUUID ? crypto.randomUUID()
      : Date.now().toString(36) + "-" + Math.random().toString(36).slice(2);
    return "scan-" + random;
  }

  var lastSeq = 0;
  function nextSeq() {  // increasing even when two scans come in the same millisecond
    lastSeq = Math.max(lastSeq + 1, Date.now() * 1000);
    return lastSeq;
  }

  // All of a user's entries in the order they were taken.
  function entries(user) {
    return transaction(["queue"], "readonly", function (s) {
      var range = IDBKeyRange.bound([user, 0], [user, Number.MAX_VALUE]);
      return reading(s.queue.index("user").getAll(range));
    });
  }

  function add(user, doc, payload, reason) {
    var entry = { key: newKey(), seq: nextSeq(), user: user, doc: doc, payload: payload,
                  reason: reason || "", state: "waiting", taken: new Date().toISOString(),
                  problem: null };
    return transaction(["queue"], "readwrite", function (s) { s.queue.add(entry); })
      .then(function () { return entry; });
  }

  function put(entry) {
    return transaction(["queue"], "readwrite", function (s) { s.queue.put(entry); });
  }

  function remove(key) {
    return transaction(["queue"], "readwrite", function (s) { s.queue.delete(key); });
  }

  // Removes a user's entries of one document that match `which` (all when it is absent).
  function removeWhere(user, which) {
    return entries(user).then(function (all) {
      var gone = all.filter(which);
      return transaction(["queue"], "readwrite", function (s) {
        gone.forEach(function (e) { s.queue.delete(e.key); });
      }).then(function () { return gone.length; });
    });
  }

  function saveDocument(user, doc) {
    var copy = JSON.parse(JSON.stringify(doc));
    copy.user = user;
    return transaction(["documents"], "readwrite", function (s) { s.documents.put(copy); });
  }

  function savedDocument(user, id) {
    return transaction(["documents"], "readonly", function (s) {
      return reading(s.documents.get([user, id]));
    });
  }

  // Whether any user has scans waiting on this device (for the sign-out warning).
  function waitingOf(user) {
    return entries(user).then(function (all) {
      return all.filter(function (e) { return e.state === "waiting"; });
    });
  }

  // How many scans of anybody wait on this device (the sign-in page says so).
  function waitingCount() {
    return transaction(["queue"], "readonly", function (s) {
      return reading(s.queue.getAll(), function (all) {
        return all.filter(function (e) { return e.state === "waiting"; }).length;
      });
    });
  }

  window.ScanQueue = {
    open: open, entries: entries, add: add, put: put, remove: remove, removeWhere: removeWhere,
    saveDocument: saveDocument, savedDocument: savedDocument, waitingOf: waitingOf,
    waitingCount: waitingCount
  };
})();
