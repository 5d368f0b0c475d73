// 扫码作业 (/scan): plain JavaScript, no build step. It talks to the JSON API (/api/v1) with the
// signed-in session: the cookie goes along (credentials: "same-origin"), every POST carries the
// session's CSRF token (X-CSRF-Token, from <meta name="csrf-token">) and an Idempotency-Key, and
// a 401 (the session ended) sends the browser to the sign-in page and back here.
//
// A handheld scanner works as a keyboard: it types the label and presses Enter into #payload,
// which keeps the focus. Another source of labels (a camera) calls ScanPage.submit(text), the
// same path the keyboard takes.
(function () {
  "use strict";

  var $ = function (id) { return document.getElementById(id); };
  var state = { doc: null, lines: [], busy: false, missing: null, listed: {} };

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
    return fetch("/api/v1" + path, options).then(function (response) {
      if (response.status === 401) {
        window.location.assign(SIGN_IN);
        return new Promise(function () {});  // leaving the page: nothing more to do
      }
      return response.text().then(function (text) {
        var data = null;
        try { data = text ? JSON.parse(text) : {}; } catch (ignored) { data = null; }
        if (!response.ok || data === null) { throw data || {}; }
        return data;
      });
    });
  }

  function problemText(problem) {
    if (problem && problem.detail) { return problem.detail; }
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

  function cell(row, text, numeric) {
    var td = document.createElement("td");
    td.textContent = text;
    if (numeric) { td.className = "n"; }
    row.appendChild(td);
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

  function show(doc) {
    state.doc = doc;
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
    if (open) { $("payload").focus(); }
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

  function renderLines() {
    var lines = $("lines").querySelector("tbody");
    lines.innerHTML = "";
    var count = state.lines.length;
    state.lines.slice().reverse().forEach(function (l, i) {
      var row = document.createElement("tr");
      cell(row, count - i, true); cell(row, l.item_name); cell(row, l.batch_number);
      cell(row, l.serial, true); cell(row, l.quantity + " " + l.base_unit, true);
      lines.appendChild(row);
    });
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

  function loadDocuments() {
    return api("GET", "/scan-documents?status=open&limit=50").then(function (page) {
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
    });
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
    if (!id) { $("work").classList.add("hidden"); return; }
    api("GET", "/scan-documents/" + id).then(show).catch(function (p) {
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
    api("POST", "/scan-documents", body).then(function (doc) {
      feedback("idle", "已开单，请扫描");
      show(doc);
      return loadDocuments().then(function () { $("documents").value = doc.id; });
    }).catch(function (p) {
      feedback("error", problemText(p));
      $("work").classList.remove("hidden");
    });
  }

  // ---- scanning: one label into the open document ----------------------------------------------

  function submit(text) {
    text = (text || "").trim();
    if (!text || !state.doc || state.busy) { return; }
    state.busy = true;
    var body = { document: state.doc.id, payload: text };
    var reason = $("reason").value.trim();
    if (reason) { body.override_reason = reason; }
    api("POST", "/scans", body).then(function (result) {
      if (result.status === "scanned") { hideShortage(); }  // what is missing has changed
      feedback(result.status === "scanned" ? "ok" : "again", result.message);
      if (reason) { $("reason").value = ""; }
      renderTotals(result.document);
      countListed(result.document);
      if (result.status === "scanned") { state.lines.push(result.line); renderLines(); }
    }).catch(function (p) {
      feedback("error", problemText(p));
      if (p && p.code === "fefo_override_reason_required") { $("reason").focus(); }
    }).then(function () {
      state.busy = false;
      if (document.activeElement !== $("reason")) { $("payload").focus(); }
    });
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
    api("POST", "/scan-documents/" + id + "/" + action, {}).then(function (doc) {
      hideShortage();
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
    });
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
    $("undo").addEventListener("click", function () {
      act("undo", function () { return "已撤销上一包"; });
    });
    $("post").addEventListener("click", function () {
      act("post", function (doc) {
        return doc.transaction_number ? "已过账：" + doc.transaction_number
          : "已完成：共 " + doc.packs + " 包";
      });
    });
    $("cancel").addEventListener("click", function () {
      if (window.confirm("作废这张扫描单？")) { act("cancel", function () { return "已作废"; }); }
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
    loadDocuments().catch(function (p) { feedback("error", problemText(p)); });
  }

  // What another source of labels (a camera) and later additions use.
  window.ScanPage = { submit: submit, feedback: feedback, state: state, api: api };

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
