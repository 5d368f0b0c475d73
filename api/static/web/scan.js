// 扫码作业 (/scan): plain JavaScript, no build step. It talks to the JSON API (/api/v1) with the
// signed-in session: the cookie goes along (credentials: "same-origin"), every POST carries the
// session's CSRF token (X-CSRF-Token, from <meta name="csrf-token">) and an Idempotency-Key, and
// a 401 (the session ended) sends the browser to the sign-in page and back here.
//
// A handheld scanner works as a keyboard: it types the label and presses Enter into #payload,
// which keeps the focus. Another source of labels (the camera, camera.js) calls
// ScanPage.submit(text), the same path the keyboard takes.
//
// Every scan is first stored on the device (scan_queue.js) with its own Idempotency-Key, then
// sent (scan_sync.js). With no network it waits there, shown as 待上传, and is sent in order
// when the network returns; a reload or a browser restart keeps it. The page itself opens with
// no network once it has been opened (the service worker, /scan-sw.js), and shows the last copy
// of its documents kept on the device. A document is not posted while scans for it wait.
(function () {
  "use strict";

  var $ = function (id) { return document.getElementById(id); };
  var page = document.getElementById("scan-page");
  var state = { doc: null, lines: [], missing: null, listed: {}, offline: false,
                user: page ? Number(page.getAttribute("data-user")) : 0,
                entries: [], live: {}, sending: null, results: [] };

  // ---- the API ----------------------------------------------------------------------------------

  var SIGN_IN = "/?next=/scan";

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }

  function newKey() {
    return "scan-" + Date.now().toString(36) + "-" + Math.random().toString(36).slice(2);
  }

  function api(method, path, body) {
    var options = { method: method, credentials: "same-origin",
                    headers: { "Accept": "application/json" } };
    if (method === "POST") {
      options.headers["Content-Type"] = "application/json";
      options.headers["X-CSRF-Token"] = csrfToken();
      options.headers["Idempotency-Key"] = newKey();
      options.body = JSON.stringify(body || {});
    }
    return fetch("/api/v1" + path, options).catch(function () {
      throw { network: true };  // no answer at all: offline, or the server unreachable
    }).then(function (response) {
      if (response.status === 401) {
        window.location.assign(SIGN_IN);
        return new Promise(function () {});  // leaving the page: nothing more to do
      }
      return response.text().then(function (text) {
        var data = null;
        try { data = text ? JSON.parse(text) : {}; } catch (ignored) { data = null; }
        if ([502, 503, 504].indexOf(response.status) >= 0) { throw { network: true }; }
        if (!response.ok || data === null) { throw data || {}; }
        return data;
      });
    });
  }

  // The API's answers end with an English gloss for other clients: "… (pack is not here)".
  function chinese(text) {
    return String(text || "").replace(/\s*\([\x20-\x7e]+\)\s*$/, "");
  }

  function problemText(problem) {
    if (problem && problem.network) { return "没有网络，连不上服务器：联网后再试"; }
    if (problem && problem.detail) { return chinese(problem.detail); }
    return "网络或服务器错误，请重试";
  }

  // ---- what the page shows ----------------------------------------------------------------------

  function feedback(kind, text) {
    var box = $("feedback");
    box.className = kind;
    box.textContent = text;
    if (navigator.vibrate && kind === "error") { navigator.vibrate(300); }
    // Other parts of the page (the camera) follow each answer: ok, again, queued, warn, error,
    // idle.
    document.dispatchEvent(new CustomEvent("scan:feedback", { detail: { kind: kind, text: text } }));
  }

  // label: what a narrow screen shows beside the value (app.css table.cards)
  function cell(row, text, numeric, label) {
    var td = document.createElement("td");
    td.textContent = text;
    if (numeric) { td.className = "n"; }
    if (label) { td.setAttribute("data-label", label); }
    row.appendChild(td);
    return td;
  }

  function toggleAll(selector, hidden) {
    Array.prototype.forEach.call(document.querySelectorAll(selector), function (e) {
      e.classList.toggle("hidden", hidden);
    });
  }

  // One amount per unit (500 张、60 只): quantities of different units are never added.
  function perUnit(entries, unitOf, amountOf) {
    var units = [], sums = {};
    entries.forEach(function (e) {
      var unit = unitOf(e);
      if (!(unit in sums)) { units.push(unit); sums[unit] = 0; }
      sums[unit] += amountOf(e);
    });
    return units.map(function (u) { return sums[u] + " " + u; }).join("、");
  }

  function statusName(status) {
    return status === "open" ? "进行中" : status === "posted" ? "已过账" : "已作废";
  }

  // A place's name as the page's pickers list it (their options carry data-name); its code
  // when the page does not list it.
  function placeName(code) {
    var found = Array.prototype.filter.call(document.querySelectorAll("option[data-name]"),
      function (option) { return option.value === code; });
    return found.length ? found[0].getAttribute("data-name") : code;
  }

  // A document as the server answered it (saved on the device for when there is no network),
  // or its last copy on the device (fromDevice).
  function show(doc, fromDevice) {
    state.doc = doc;
    if (!fromDevice) { window.ScanQueue.saveDocument(state.user, doc).catch(function () { return null; }); }
    remembered(doc.status === "open" ? doc.id : null);
    $("copy-note").classList.toggle("hidden", !fromDevice);
    $("work").classList.remove("hidden");
    var where = doc.destination_code ? " → " + placeName(doc.destination_code) : "";
    var ref = doc.request_number || doc.shipment_number || "";
    $("title").textContent = "扫描单 " + doc.id + " · " + doc.purpose_name + " · " +
      doc.location_name + where + (ref ? " · " + ref : "") + " · " + statusName(doc.status) +
      (doc.transaction_number ? " · " + doc.transaction_number : "");
    toggleAll("#work .for-issue", doc.purpose !== "issue");
    state.lines = doc.lines.slice();
    renderTotals(doc);
    countListed(doc);
    renderLines();
    var open = doc.status === "open";
    ["payload", "undo", "post", "cancel"].forEach(function (id) { $(id).disabled = !open; });
    if (!open || (state.missing && state.missing.document !== doc.id)) { hideShortage(); }
    renderQueue();
    if (open) { $("payload").focus(); }
  }

  // The open document a reload comes back to.
  function remembered(id) {
    var name = "ledger-scan-current:" + state.user;
    try {
      if (id === undefined) { return Number(localStorage.getItem(name)) || null; }
      if (id) { localStorage.setItem(name, String(id)); } else { localStorage.removeItem(name); }
    } catch (ignored) { return null; }
    return id;
  }

  function renderTotals(summary) {
    var totals = $("totals").querySelector("tbody");
    totals.innerHTML = "";
    summary.totals.forEach(function (t) {
      var row = document.createElement("tr");
      cell(row, t.item_name); cell(row, t.batch_number);
      cell(row, t.packs, true); cell(row, t.quantity + " " + t.base_unit, true);
      totals.appendChild(row);
    });
    $("total-packs").textContent = summary.packs;
    $("total-quantity").textContent = perUnit(summary.totals,
      function (t) { return t.base_unit; }, function (t) { return t.quantity; }) || "0";
  }

  function lineRow(line, number) {
    var row = document.createElement("tr");
    cell(row, number, true); cell(row, line.item_name); cell(row, line.batch_number);
    cell(row, line.serial, true); cell(row, line.quantity + " " + line.base_unit, true);
    return row;
  }

  function renderLines() {
    var lines = $("lines").querySelector("tbody");
    lines.innerHTML = "";
    var count = state.lines.length;
    state.lines.slice().reverse().forEach(function (l, i) {
      lines.appendChild(lineRow(l, count - i));
    });
  }

  // One more scanned line, newest first (a long document is not drawn again for each scan).
  function addLine(line) {
    state.lines.push(line);
    var lines = $("lines").querySelector("tbody");
    lines.insertBefore(lineRow(line, state.lines.length), lines.firstChild);
  }

  // ---- a short arrival: the missing lines, then an explicit, named write-off ------------------

  var REASONS = { lost_in_transit: "运输丢失", damaged: "破损", short_shipped: "发货短少",
                  other: "其他" };

  function missingTotal(missing) {  // "500 张、40 只": one amount per unit, never added across
    return perUnit(missing, function (m) { return m.unit; }, function (m) { return m.missing; });
  }

  function shortageButton() {
    if (!state.missing) { return; }
    var reason = $("shortage-reason").value;
    var note = $("shortage-note").value.trim();
    $("confirm-shortage").textContent = reason
      ? "将记录短少 " + missingTotal(state.missing.missing) + "，原因：" + REASONS[reason] +
        (note ? "（" + note + "）" : "")
      : "请先选择短少原因";
    $("confirm-shortage").disabled = !reason || (reason === "other" && !note);
  }

  function showShortage(problem) {
    state.missing = problem;
    var body = $("missing").querySelector("tbody");
    body.innerHTML = "";
    problem.missing.forEach(function (m) {
      var row = document.createElement("tr");
      cell(row, m.item_name); cell(row, m.batch_number);
      cell(row, m.shipped + " " + m.unit, true); cell(row, m.received + " " + m.unit, true);
      cell(row, m.missing + " " + m.unit, true);
      row.lastChild.classList.add("short");
      body.appendChild(row);
    });
    var packs = problem.missing_packs || [];
    var names = {};
    problem.missing.forEach(function (m) { names[m.item_code] = m.item_name; });
    $("missing-packs").textContent = packs.length ? "未扫到的包：" + packs.map(function (p) {
      return (names[p.item_code] || p.item_code) + " " + p.batch_number + " 第 " + p.serial +
        " 包";
    }).join("，") : "";
    $("shortage").classList.remove("hidden");
    feedback("warn", "到货不足，短少 " + missingTotal(problem.missing) +
      "。请核对：漏扫的包继续扫描；确实没到的，选择原因后确认短少");
    shortageButton();
  }

  function hideShortage() {
    state.missing = null;
    $("shortage").classList.add("hidden");
  }

  function confirmShortage() {
    if (!state.doc || !state.missing) { return; }
    var shortage = {
      reason: $("shortage-reason").value,
      note: $("shortage-note").value.trim(),
      lines: state.missing.missing.map(function (m) {
        return { item_code: m.item_code, batch_number: m.batch_number, quantity: m.missing };
      })
    };
    var total = missingTotal(state.missing.missing);
    $("confirm-shortage").disabled = true;
    api("POST", "/scan-documents/" + state.doc.id + "/post", { shortage: shortage })
      .then(function (doc) {
        hideShortage();
        $("shortage-note").value = "";
        show(doc);
        feedback("ok", "已过账：" + doc.transaction_number + "，已记录短少 " + total);
        loadDocuments();
      }).catch(function (p) {
        if (p && p.code === "shortage_unconfirmed" && p.missing) {
          p.document = state.doc.id;
          showShortage(p);  // what is missing changed meanwhile: show it again
          return;
        }
        $("confirm-shortage").disabled = false;
        feedback("error", problemText(p));
      });
  }

  // ---- documents: the open ones, opening a new one ---------------------------------------------

  function documentLabel(doc) {
    return doc.id + " · " + doc.purpose_name + " · " + doc.location_name + " · " + doc.packs +
      " 包";
  }

  // The open documents: the server's list, or with no network its last copy on the device.
  function loadDocuments() {
    return api("GET", "/scan-documents?status=open&limit=50").then(function (page) {
      window.ScanQueue.saveDocument(state.user, { id: 0, items: page.items })
        .catch(function () { return null; });
      listDocuments(page);
    }, function (p) {
      if (!p || !p.network) { throw p; }
      goneOffline(true);
      return window.ScanQueue.savedDocument(state.user, 0).then(function (saved) {
        listDocuments(saved || { items: [] });
      });
    });
  }

  function listDocuments(page) {
    {
      var select = $("documents");
      var chosen = select.value;
      select.innerHTML = '<option value="">— 新建 —</option>';
      state.listed = {};
      page.items.forEach(function (doc) {
        var option = document.createElement("option");
        option.value = doc.id;
        option.textContent = documentLabel(doc);
        state.listed[doc.id] = doc;
        select.appendChild(option);
      });
      select.value = chosen;
    }
  }

  // The list's entry of a document follows its count as packs are scanned (a scan answers
  // with the document's totals).
  function countListed(summary) {
    var doc = state.listed[summary.id];
    if (!doc) { return; }
    doc.packs = summary.packs;
    Array.prototype.forEach.call($("documents").options, function (option) {
      if (option.value === String(summary.id)) { option.textContent = documentLabel(doc); }
    });
  }

  function purposeChanged() {
    var purpose = $("purpose").value;
    toggleAll("#new-document .for-issue", purpose !== "issue");
    toggleAll("#new-document .for-confirm", purpose !== "confirm");
    toggleAll("#choose .for-count", purpose !== "count");
  }

  function documentChosen() {
    var id = $("documents").value;
    $("new-document").classList.toggle("hidden", !!id);
    if (!id) { $("work").classList.add("hidden"); remembered(null); state.doc = null; return; }
    api("GET", "/scan-documents/" + id).then(function (doc) { show(doc); }, function (p) {
      if (!p || !p.network) { throw p; }
      goneOffline(true);
      return window.ScanQueue.savedDocument(state.user, Number(id)).then(function (saved) {
        if (!saved) { throw { detail: "离线，本机没有这张扫描单的副本：联网后再打开" }; }
        show(saved, true);
      });
    }).catch(function (p) {
      feedback("error", problemText(p));
    });
  }

  function openDocument() {
    var body = { purpose: $("purpose").value, location_code: $("location").value.trim() };
    if (body.purpose === "issue") {
      if ($("request").value.trim()) { body.request_number = $("request").value.trim(); }
      else { body.destination_code = $("destination").value.trim(); }
    }
    if (body.purpose === "confirm") { body.shipment_number = $("shipment").value.trim(); }
    if (state.offline && !navigator.onLine) {
      feedback("error", "离线时不能开新单：联网后开单；已开的扫描单可以离线继续扫描");
      return;
    }
    $("open").disabled = true;  // one document per tap
    api("POST", "/scan-documents", body).then(function (doc) {
      feedback("idle", "已开单，请扫描");
      show(doc);
      $("new-document").classList.add("hidden");
      return loadDocuments().then(function () { $("documents").value = doc.id; });
    }).catch(function (p) {
      feedback("error", p && p.network
        ? "没有网络，不能开新单：联网后开单；已开的扫描单可以离线继续扫描" : problemText(p));
    }).then(function () { $("open").disabled = false; });
  }

  // ---- scanning: each label is stored on the device first, then sent -------------------------

  var LABEL_LENGTH_MAX = 200;  // ledger/limits.py label_payload_length_max (ours are <= 130)

  function submit(text) {
    text = (text || "").trim();
    if (!text) { return; }
    if (text.length > LABEL_LENGTH_MAX) {
      feedback("error", "标签过长（" + text.length + " 个字符），不是本系统的包装标签");
      return;
    }
    if (!state.doc || state.doc.status !== "open") {
      feedback("error", "请先开单或选择一张进行中的扫描单");
      return;
    }
    var reason = $("reason").value.trim();
    var ahead = waitingEntries().length;
    var twice = waitingEntries(state.doc.id).some(function (e) {
      return e.payload.toUpperCase() === text.toUpperCase() && e.reason === reason;
    });
    if (twice) {  // the same label again before the first was sent: it would count once anyway
      feedback("again", "这一包已在本机待上传，不重复计数");
      return;
    }
    window.ScanQueue.add(state.user, state.doc.id, text, reason).then(function (entry) {
      if (reason) { $("reason").value = ""; }
      state.entries.push(entry);
      if (!ahead) { state.live[entry.key] = true; }  // answered at once: shown as it comes
      else { feedback("queued", "已存本机，排队上传（待上传 " + (ahead + 1) + " 条）"); }
      renderQueue();
      flush();
    }, function () {
      feedback("error", "本机存储不可用（浏览器的隐私模式？），扫描未记录，请换用普通窗口");
    });
  }

  function waitingEntries(doc) {
    return state.entries.filter(function (e) {
      return e.state === "waiting" && (doc === undefined || e.doc === doc);
    });
  }

  // Sends the waiting scans in order until none is left or the network fails; one sender at a
  // time (a scan taken meanwhile is picked up by the loop).
  var flushing = false, again = false, retryTimer = null;

  function flush() {
    if (flushing) { again = true; return; }
    flushing = true;
    window.ScanSync.exclusive(function () {
      return sendAll({ ok: 0, again: 0, refused: 0 });
    })
      .catch(function () { return null; })
      .then(function () {
        flushing = false;
        renderQueueNow();
        saveDocumentNow();
        if (again) { again = false; flush(); }
      });
  }

  function sendAll(tally) {
    again = false;
    return window.ScanQueue.entries(state.user).then(function (all) {
      state.entries = all;
      renderQueue();
      var next = waitingEntries()[0];
      if (!next) { syncDone(tally); return null; }
      state.sending = next.key;
      return window.ScanSync.send(next).then(function (outcome) {
        state.sending = null;
        return settle(next, outcome, tally);
      }).then(function (goOn) { return goOn ? sendAll(tally) : null; });
    });
  }

  // What became of one scan; resolves true to go on with the next.
  function settle(entry, outcome, tally) {
    var live = state.live[entry.key];
    delete state.live[entry.key];
    if (outcome.kind === "answered") {
      if (!live) { tally[outcome.result.status === "scanned" ? "ok" : "again"] += 1; }
      // gone from the page's queue at once: a scan taken meanwhile is not "behind" it
      state.entries = state.entries.filter(function (e) { return e.key !== entry.key; });
      answered(entry, outcome.result, live);
      return window.ScanQueue.remove(entry.key).then(function () { return true; });
    }
    if (outcome.kind === "refused") {
      if (live) {  // just scanned: said at once, as a scanner's refusal always was
        feedback("error", problemText(outcome.problem));
        if (outcome.problem && outcome.problem.code === "fefo_override_reason_required") {
          $("reason").focus();
        }
        return window.ScanQueue.remove(entry.key).then(function () { return true; });
      }
      tally.refused += 1;
      entry.state = "refused";
      entry.problem = { code: outcome.problem.code || "", detail: problemText(outcome.problem) };
      return window.ScanQueue.put(entry).then(function () { return true; });
    }
    if (outcome.kind === "session") { window.location.assign(SIGN_IN); return false; }
    if (outcome.kind === "stale") { staleReload(); return false; }
    // network or later: the scan waits; every waiting one is now "queued", not live. It may
    // have reached the server all the same (only the answer lost): it is marked as sent once,
    // and 撤销上一包 no longer just drops it on the device.
    state.live = {};
    if (outcome.maybeSent !== false && !entry.tried) {
      entry.tried = true;
      window.ScanQueue.put(entry).catch(function () { return null; });
    }
    goneOffline(outcome.kind === "network");
    if (outcome.kind === "later") {
      feedback("queued", "服务器暂时无法处理（" + problemText(outcome.problem) + "），稍后自动重试");
    }
    retryLater();
    return Promise.resolve(false);
  }

  function answered(entry, result, live) {
    goneOnline();
    var doc = result.document;
    if (state.doc && doc && doc.id === state.doc.id) {
      if (result.status === "scanned") { hideShortage(); }  // what is missing has changed
      renderTotals(doc);
      if (result.status === "scanned") { addLine(result.line); }
      keepDocument(doc, result.status === "scanned" ? result.line : null);
    }
    if (doc) { countListed(doc); }
    if (live) {
      feedback(result.status === "scanned" ? "ok" : "again", chinese(result.message));
    } else {
      remember(entry, result.status === "scanned" ? "ok" : "again", chinese(result.message));
    }
  }

  // After scans that had waited were sent: one line for all of them, the document and the
  // list of open documents as the server has them now (another device may have changed them).
  function syncDone(tally) {
    var total = tally.ok + tally.again + tally.refused;
    if (!total) { return; }
    goneOnline();
    var parts = [];
    if (tally.ok) { parts.push(tally.ok + " 条已扫描"); }
    if (tally.again) { parts.push(tally.again + " 条重复（不计数）"); }
    if (tally.refused) { parts.push(tally.refused + " 条未通过，见下方"); }
    feedback(tally.refused ? "warn" : "ok", "待上传的 " + total + " 条扫描已上传：" +
      parts.join("，"));
    tally.ok = 0; tally.again = 0; tally.refused = 0;
    if (state.doc) { refreshDocument(); }
    loadDocuments().catch(function () { return null; });
  }

  function retryLater() {
    if (retryTimer) { return; }
    retryTimer = setTimeout(function () { retryTimer = null; flush(); }, 10000);
  }

  function staleReload() {
    if (navigator.onLine && !sessionStorage.getItem("ledger-scan-reloaded")) {
      sessionStorage.setItem("ledger-scan-reloaded", "1");
      window.location.reload();
      return;
    }
    feedback("error", "页面已过期，请刷新页面后继续；待上传的扫描保存在本机，不会丢失");
  }

  // ---- the device's queue on the page: 待上传, 未通过 and what was sent later -----------------

  function goneOffline(network) {
    state.offline = network;
    $("network").textContent = network ? "离线：扫描先存本机，联网后自动上传" : "";
    $("network").classList.toggle("hidden", !network);
    var waiting = waitingEntries().length;
    if (network) { feedback("queued", "已存本机，待上传 " + waiting + " 条（当前离线）"); }
  }

  function goneOnline() {
    if (!state.offline) { return; }
    state.offline = false;
    $("network").textContent = "";
    $("network").classList.add("hidden");
  }

  function remember(entry, kind, text) {
    state.results.unshift({ entry: entry, kind: kind, text: text });
    state.results = state.results.slice(0, 100);
    renderQueue();
  }

  // "2014年计划生育宣传历书 2014-01 第 4 包", read from the label's own text.
  function packText(entry) {
    var known = window.ScanSync.label(entry.payload);
    if (!known) { return "无法识别的标签 " + entry.payload.slice(0, 24); }
    return itemName(known.item_code) + " " + known.batch_number + " 第 " + known.serial + " 包";
  }

  var TIME = window.Intl ? new Intl.DateTimeFormat("zh-CN", {
    hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false }) : null;

  function clock(iso) {
    var moment = new Date(iso);
    if (isNaN(moment.getTime())) { return ""; }
    return TIME ? TIME.format(moment) : moment.toTimeString().slice(0, 8);
  }

  function itemName(code) {
    var found = state.lines.filter(function (l) { return l.item_code === code; })[0] ||
      ((state.doc && state.doc.totals) || []).filter(function (t) { return t.item_code === code; })[0];
    return found ? found.item_name : code;
  }

  // Drawn at most every 250 ms while a queue is being sent (each answer would otherwise draw
  // every table again, and a long queue would take longer for each scan it sends).
  var renderTimer = null;
  var SHOWN_MAX = 20;  // waiting scans listed; the count says how many there are

  function renderQueue() {
    if (!flushing) { renderQueueNow(); return; }
    if (renderTimer) { return; }
    renderTimer = setTimeout(function () { renderTimer = null; renderQueueNow(); }, 250);
  }

  function renderQueueNow() {
    if (renderTimer) { clearTimeout(renderTimer); renderTimer = null; }
    var doc = state.doc ? state.doc.id : null;
    var waiting = waitingEntries();
    var mine = waitingEntries(doc);
    $("queue").classList.toggle("hidden", !waiting.length);
    $("queue-count").textContent = waiting.length;
    $("queue-other").textContent = waiting.length > mine.length
      ? "（其中 " + (waiting.length - mine.length) + " 条属于其他扫描单）" : "";
    var body = $("queue-lines").querySelector("tbody");
    body.innerHTML = "";
    waiting.slice(0, SHOWN_MAX).forEach(function (e, i) {
      var row = document.createElement("tr");
      cell(row, i + 1, true, "序号"); cell(row, packText(e));
      cell(row, e.doc, true, "扫描单"); cell(row, clock(e.taken), false, "扫描时间");
      body.appendChild(row);
    });
    if (waiting.length > SHOWN_MAX) {
      var more = document.createElement("tr");
      cell(more, "……还有 " + (waiting.length - SHOWN_MAX) + " 条");
      body.appendChild(more);
    }
    var open = !!state.doc && state.doc.status === "open";
    $("post").disabled = !open || mine.length > 0;
    $("post-hint").textContent = open && mine.length
      ? "还有 " + mine.length + " 条扫描在本机待上传，上传后才能过账" : "";
    renderResults();
  }

  function renderResults() {
    var refused = state.entries.filter(function (e) { return e.state === "refused"; });
    var body = $("synced").querySelector("tbody");
    body.innerHTML = "";
    refused.forEach(function (e) { body.appendChild(resultRow(e, "error", e.problem.detail, true)); });
    state.results.forEach(function (r) { body.appendChild(resultRow(r.entry, r.kind, r.text, false)); });
    $("sync").classList.toggle("hidden", !refused.length && !state.results.length);
    $("refused-count").textContent = refused.length ? "，未通过 " + refused.length + " 条" : "";
    $("clear-refused").classList.toggle("hidden", !refused.length);
  }

  function resultRow(entry, kind, text, clearable) {
    var row = document.createElement("tr");
    row.className = "result-" + kind;
    cell(row, packText(entry));
    cell(row, entry.doc, true, "扫描单");
    cell(row, kind === "ok" ? "已扫描" : kind === "again" ? "重复，不计数" : "未通过：" + text,
      false, "结果");
    var actions = document.createElement("td");
    actions.className = "actions";
    if (clearable) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "secondary";
      button.textContent = "清除";
      button.setAttribute("data-key", entry.key);
      actions.appendChild(button);
    }
    row.appendChild(actions);
    return row;
  }

  function clearRefused(key) {
    window.ScanQueue.removeWhere(state.user, function (e) {
      return e.state === "refused" && (!key || e.key === key);
    }).then(function () { return window.ScanQueue.entries(state.user); }).then(function (all) {
      state.entries = all;
      renderQueue();
    });
  }

  // The server's copy again, once it answers (the page showed the device's).
  function refreshDocument() {
    var id = state.doc.id;
    api("GET", "/scan-documents/" + id).then(function (doc) {
      if (state.doc && state.doc.id === id) { show(doc); }
    }).catch(function () { return null; });
  }

  // The last copy of a document kept on the device, following each answer.
  function keepDocument(summary, line) {
    if (!state.doc || state.doc.id !== summary.id) { return; }
    var doc = state.doc;
    doc.totals = summary.totals; doc.packs = summary.packs; doc.quantities = summary.quantities;
    doc.status = summary.status;
    if (line) { doc.lines.push(line); }
    state.unsaved = true;
    if (!flushing) { saveDocumentNow(); }  // while sending: once the queue is through
  }

  function saveDocumentNow() {
    if (!state.unsaved || !state.doc) { return; }
    state.unsaved = false;
    window.ScanQueue.saveDocument(state.user, state.doc).catch(function () { return null; });
  }

  function payloadKey(event) {
    if (event.key !== "Enter") { return; }
    event.preventDefault();
    var text = $("payload").value;
    $("payload").value = "";
    submit(text);
  }

  // ---- undo, post, cancel --------------------------------------------------------------------------

  function act(action, done) {
    if (!state.doc) { return; }
    var id = state.doc.id;
    var waiting = waitingEntries(id).length;
    if (action === "post" && waiting) {
      feedback("warn", "还有 " + waiting + " 条扫描在本机待上传：上传后才能过账");
      return;
    }
    if (state.acting) { return; }  // a double tap: the first is still on its way
    state.acting = true;
    setActing(true);
    api("POST", "/scan-documents/" + id + "/" + action, {}).then(function (doc) {
      hideShortage();
      if (action === "cancel") {  // its waiting scans can no longer go anywhere
        window.ScanQueue.removeWhere(state.user, function (e) { return e.doc === id; })
          .then(function () { return window.ScanQueue.entries(state.user); })
          .then(function (all) { state.entries = all; renderQueue(); });
      }
      show(doc);
      feedback("ok", done(doc));
      loadDocuments();
    }).catch(function (p) {
      if (action === "post" && p && p.code === "shortage_unconfirmed" && p.missing) {
        p.document = id;
        showShortage(p);  // nothing was posted: the receiver must name the shortage
        return;
      }
      if (action === "undo") { hideShortage(); }
      feedback("error", problemText(p));
    }).then(function () {
      state.acting = false;
      setActing(false);
    });
  }

  // 撤销上一包, 完成过账 and 作废 wait while one of them is on its way (a double tap would
  // otherwise undo two packs).
  function setActing(on) {
    var open = !!state.doc && state.doc.status === "open";
    $("undo").disabled = on || !open;
    $("cancel").disabled = on || !open;
    if (on) { $("post").disabled = true; } else { renderQueue(); }
  }

  // 撤销上一包: the newest scan of the document; one still waiting on the device is simply
  // dropped there (unless it is being sent right now).
  function undo() {
    if (!state.doc) { return; }
    var waiting = waitingEntries(state.doc.id);
    var last = waiting[waiting.length - 1];
    if (!last) { act("undo", function () { return "已撤销上一包"; }); return; }
    if (last.key === state.sending) { feedback("warn", "这一包正在上传，请稍后再撤销"); return; }
    if (last.tried) {
      feedback("warn", "这一包可能已送到服务器（没收到回复）：联网上传后再撤销");
      return;
    }
    window.ScanQueue.remove(last.key).then(function () {
      return window.ScanQueue.entries(state.user);
    }).then(function (all) {
      state.entries = all;
      renderQueue();
      feedback("ok", "已撤销上一包（本机待上传的，未发送）");
    });
  }

  function cancelDocument() {
    var waiting = state.doc ? waitingEntries(state.doc.id).length : 0;
    var question = waiting
      ? "本机还有 " + waiting + " 条这张单的扫描待上传，作废后它们将被丢弃。确定作废这张扫描单？"
      : "作废这张扫描单？";
    if (window.confirm(question)) { act("cancel", function () { return "已作废"; }); }
  }

  // The page works offline once opened: its files are kept by the service worker.
  function registerWorker() {
    if (!("serviceWorker" in navigator) || !window.isSecureContext) { return; }
    navigator.serviceWorker.register("/scan-sw.js", { scope: "/scan" })
      .catch(function () { return null; });
  }

  // ---- wiring ------------------------------------------------------------------------------------

  function start() {
    $("shortage-reason").addEventListener("change", shortageButton);
    $("shortage-note").addEventListener("input", shortageButton);
    $("back-to-scan").addEventListener("click", function () {
      hideShortage();
      feedback("idle", "请继续扫描");
    });
    $("confirm-shortage").addEventListener("click", confirmShortage);
    $("purpose").addEventListener("change", purposeChanged);
    $("documents").addEventListener("change", documentChosen);
    $("refresh").addEventListener("click", loadDocuments);
    $("open").addEventListener("click", openDocument);
    $("payload").addEventListener("keydown", payloadKey);
    $("undo").addEventListener("click", undo);
    $("post").addEventListener("click", function () {
      act("post", function (doc) {
        return doc.transaction_number ? "已过账：" + doc.transaction_number
          : "已完成：共 " + doc.packs + " 包";
      });
    });
    $("cancel").addEventListener("click", cancelDocument);
    $("queue-send").addEventListener("click", flush);
    $("synced").addEventListener("click", function (event) {
      var key = event.target.getAttribute && event.target.getAttribute("data-key");
      if (key) { clearRefused(key); }
    });
    $("clear-refused").addEventListener("click", function () { clearRefused(null); });
    window.addEventListener("online", function () {
      goneOnline();
      flush();
      if (state.doc && !$("copy-note").classList.contains("hidden")) { refreshDocument(); }
    });
    window.addEventListener("offline", function () { goneOffline(true); });
    document.addEventListener("visibilitychange", function () {  // another tab may have sent
      if (!document.hidden) { flush(); if (state.doc && !state.offline) { refreshDocument(); } }
    });
    // Keep the focus on the scan input (a scanner types wherever the focus is).
    document.addEventListener("click", function (event) {
      var tag = event.target.tagName;
      if (state.doc && state.doc.status === "open" && tag !== "INPUT" && tag !== "SELECT" &&
          tag !== "A") {
        $("payload").focus();
      }
    });
    purposeChanged();
    registerWorker();
    window.ScanQueue.entries(state.user).catch(function () { return []; }).then(function (all) {
      state.entries = all;
      renderQueue();
      return loadDocuments();
    }).then(reopen).catch(function (p) { feedback("error", problemText(p)); }).then(flush);
  }

  // After a reload: the document that was open, and the queue's count.
  function reopen() {
    var id = remembered();
    if (!id || !state.listed[id]) { return; }
    $("documents").value = String(id);
    documentChosen();
    var waiting = waitingEntries().length;
    if (waiting) { feedback("queued", "本机有 " + waiting + " 条扫描待上传"); }
  }

  // What another source of labels (a camera) and later additions use.
  window.ScanPage = { submit: submit, feedback: feedback, state: state, api: api };

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
