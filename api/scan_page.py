"""The scan page for warehouse clerks: /scan.

One server-rendered page with a little plain JavaScript (no build step, no framework) that talks
to the JSON API with the clerk's token. A handheld scanner works as a keyboard: it types the
label and presses Enter into an input that keeps the focus. Works on a phone's browser and a PC.
"""

from __future__ import annotations

from litestar import get
from litestar.response import Response

PAGE = """<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>扫码作业 · 宣传品与计生药具台账</title>
<style>
  body { font-family: "Noto Sans CJK SC", "Microsoft YaHei", "PingFang SC", sans-serif;
         margin: 0; padding: 8px; font-size: 16px; background: #f6f6f6; color: #111; }
  h1 { font-size: 20px; margin: 4px 0 8px; }
  section { background: #fff; border: 1px solid #ddd; border-radius: 6px; padding: 8px;
            margin-bottom: 8px; }
  label { display: inline-block; margin: 2px 8px 2px 0; }
  input, select, button { font-size: 16px; padding: 6px; margin: 2px 0; }
  button { min-width: 88px; }
  #payload { width: 100%; box-sizing: border-box; font-size: 22px; padding: 10px;
             text-transform: uppercase; font-family: monospace; }
  #feedback { font-size: 20px; padding: 12px; border-radius: 6px; margin: 6px 0;
              min-height: 28px; }
  .ok { background: #1b7f2a; color: #fff; }
  .again { background: #b58900; color: #fff; }
  .error { background: #c0262d; color: #fff; }
  .idle { background: #eee; color: #555; }
  table { border-collapse: collapse; width: 100%; font-size: 15px; }
  th, td { border-bottom: 1px solid #ddd; padding: 4px; text-align: left; }
  td.n { text-align: right; font-variant-numeric: tabular-nums; }
  .hidden { display: none; }
  .muted { color: #666; font-size: 14px; }
  .warn { background: #b85c00; color: #fff; }
  #shortage { border: 2px solid #b85c00; background: #fff8ef; }
  #shortage h2 { font-size: 17px; margin: 2px 0 6px; color: #8a4500; }
  #shortage select, #shortage input { width: 100%; box-sizing: border-box; }
  #confirm-shortage { width: 100%; background: #c0262d; color: #fff; border: 0;
                      border-radius: 6px; padding: 10px; font-size: 17px; margin-top: 6px; }
  #confirm-shortage:disabled { background: #d9a3a5; }
  #missing-packs { margin: 4px 0; }
  td.short { color: #c0262d; font-weight: bold; }
</style>
</head>
<body>
<h1>扫码作业</h1>

<section id="login">
  <label>访问令牌 <input id="token" type="password" autocomplete="off" size="30"></label>
  <button id="save-token" type="button">登录</button>
  <span id="who" class="muted"></span>
</section>

<section id="choose">
  <div>
    <label>扫描单 <select id="documents"><option value="">— 新建 —</option></select></label>
    <button id="refresh" type="button">刷新</button>
  </div>
  <div id="new-document">
    <label>用途
      <select id="purpose">
        <option value="issue">出库</option>
        <option value="confirm">到货签收</option>
        <option value="receive">到货入库</option>
        <option value="count">盘点</option>
      </select>
    </label>
    <label>库点 <input id="location" size="12"></label>
    <label class="for-issue">接收单位 <input id="destination" size="12"></label>
    <label class="for-issue">或申领单号 <input id="request" size="16"></label>
    <label class="for-confirm hidden">发货单号 <input id="shipment" size="18"></label>
    <button id="open" type="button">开单</button>
  </div>
</section>

<section id="work" class="hidden">
  <div id="title"></div>
  <input id="payload" autocomplete="off" autocapitalize="characters" spellcheck="false"
         placeholder="扫描或输入标签，回车确认">
  <div id="feedback" class="idle">等待扫描</div>
  <div class="for-issue">
    <label>改发原因（不按近效期先出时填写）<input id="reason" size="30"></label>
  </div>
  <div>
    <button id="undo" type="button">撤销上一包</button>
    <button id="post" type="button">完成过账</button>
    <button id="cancel" type="button">作废</button>
  </div>
  <section id="shortage" class="hidden" aria-live="polite">
    <h2>到货不足：以下未到，确认后才记为短少</h2>
    <table id="missing"><thead><tr><th>物资</th><th>批次</th><th>发出</th><th>实收</th>
      <th>短少</th></tr></thead><tbody></tbody></table>
    <div id="missing-packs" class="muted"></div>
    <label for="shortage-reason">短少原因</label>
    <select id="shortage-reason">
      <option value="lost_in_transit">运输丢失</option>
      <option value="damaged">破损</option>
      <option value="short_shipped">发货短少</option>
      <option value="other">其他（须填写说明）</option>
    </select>
    <label for="shortage-note">说明</label>
    <input id="shortage-note" maxlength="200" placeholder="如：外包装破损、少装一捆">
    <button id="confirm-shortage" type="button"></button>
    <button id="back-to-scan" type="button">返回继续扫描</button>
  </section>
  <h2 style="font-size:17px">合计</h2>
  <table id="totals"><thead><tr><th>物资</th><th>批次</th><th>包数</th><th>数量</th></tr></thead>
    <tbody></tbody><tfoot><tr><th colspan="2">总计</th><th id="total-packs" class="n">0</th>
    <th id="total-quantity" class="n">0</th></tr></tfoot></table>
  <h2 style="font-size:17px">已扫描</h2>
  <table id="lines"><thead><tr><th>#</th><th>物资</th><th>批次</th><th>包号</th><th>数量</th></tr>
    </thead><tbody></tbody></table>
</section>

<script>
"use strict";
var state = { token: localStorage.getItem("ledger-token") || "", doc: null, lines: [],
              busy: false, missing: null };
var $ = function (id) { return document.getElementById(id); };

function key() {
  return "scan-" + Date.now().toString(36) + "-" + Math.random().toString(36).slice(2);
}

function api(method, path, body) {
  var options = { method: method, headers: { "Authorization": "Bearer " + state.token } };
  if (method === "POST") {
    options.headers["Content-Type"] = "application/json";
    options.headers["Idempotency-Key"] = key();
    options.body = JSON.stringify(body || {});
  }
  return fetch("/api/v1" + path, options).then(function (response) {
    return response.json().then(function (data) {
      if (!response.ok) { throw data; }
      return data;
    });
  });
}

function feedback(kind, text) {
  var box = $("feedback");
  box.className = kind;
  box.textContent = text;
  if (navigator.vibrate && kind === "error") { navigator.vibrate(300); }
}

function problemText(problem) {
  if (problem && problem.detail) { return problem.detail; }
  return "网络或服务器错误，请重试";
}

function cell(row, text, numeric) {
  var td = document.createElement("td");
  td.textContent = text;
  if (numeric) { td.className = "n"; }
  row.appendChild(td);
}

function show(doc) {
  state.doc = doc;
  $("work").classList.remove("hidden");
  var where = doc.destination_code ? " → " + doc.destination_code : "";
  var ref = doc.request_number || doc.shipment_number || "";
  $("title").textContent = "扫描单 " + doc.id + " · " + doc.purpose_name + " · " +
    doc.location_name + where + (ref ? " · " + ref : "") + " · " +
    (doc.status === "open" ? "进行中" : doc.status === "posted" ? "已过账" : "已作废") +
    (doc.transaction_number ? " · " + doc.transaction_number : "");
  var issue = doc.purpose === "issue";
  Array.prototype.forEach.call(document.querySelectorAll("#work .for-issue"), function (e) {
    e.classList.toggle("hidden", !issue);
  });
  state.lines = doc.lines.slice();
  renderTotals(doc);
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
  // One amount per unit (500 张、60 只): quantities of different units are never added.
  var units = [], sums = {};
  summary.totals.forEach(function (t) {
    if (!(t.base_unit in sums)) { units.push(t.base_unit); sums[t.base_unit] = 0; }
    sums[t.base_unit] += t.quantity;
  });
  $("total-quantity").textContent = units.length ? units.map(function (u) {
    return sums[u] + " " + u;
  }).join("、") : "0";
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

// ---- a short arrival: the missing lines, then an explicit, named write-off --------------------

var REASONS = { lost_in_transit: "运输丢失", damaged: "破损", short_shipped: "发货短少",
                other: "其他" };

function missingTotal(missing) {  // "500 张、40 只": one amount per unit, never added across
  var units = [], sums = {};
  missing.forEach(function (m) {
    if (!(m.unit in sums)) { units.push(m.unit); sums[m.unit] = 0; }
    sums[m.unit] += m.missing;
  });
  return units.map(function (u) { return sums[u] + " " + u; }).join("、");
}

function shortageButton() {
  if (!state.missing) { return; }
  var reason = $("shortage-reason").value;
  var note = $("shortage-note").value.trim();
  $("confirm-shortage").textContent = "将记录短少 " + missingTotal(state.missing.missing) +
    "，原因：" + REASONS[reason] + (note ? "（" + note + "）" : "");
  $("confirm-shortage").disabled = reason === "other" && !note;
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

$("shortage-reason").addEventListener("change", shortageButton);
$("shortage-note").addEventListener("input", shortageButton);
$("back-to-scan").addEventListener("click", function () {
  hideShortage();
  feedback("idle", "请继续扫描");
});

$("confirm-shortage").addEventListener("click", function () {
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
});

function loadDocuments() {
  return api("GET", "/scan-documents?status=open&limit=50").then(function (page) {
    var select = $("documents");
    var chosen = select.value;
    select.innerHTML = '<option value="">— 新建 —</option>';
    page.items.forEach(function (doc) {
      var option = document.createElement("option");
      option.value = doc.id;
      option.textContent = doc.id + " · " + doc.purpose_name + " · " + doc.location_name +
        " · " + doc.packs + " 包";
      select.appendChild(option);
    });
    select.value = chosen;
  });
}

function login() {
  api("GET", "/me").then(function (me) {
    $("who").textContent = me.label + "（" + me.location_name + "）";
    if (!$("location").value) { $("location").value = me.location_code; }
    return loadDocuments();
  }).catch(function (problem) {
    $("who").textContent = problemText(problem);
  });
}

$("save-token").addEventListener("click", function () {
  state.token = $("token").value.trim();
  localStorage.setItem("ledger-token", state.token);
  login();
});

$("purpose").addEventListener("change", function () {
  var purpose = $("purpose").value;
  Array.prototype.forEach.call(document.querySelectorAll("#new-document .for-issue"),
    function (e) { e.classList.toggle("hidden", purpose !== "issue"); });
  Array.prototype.forEach.call(document.querySelectorAll("#new-document .for-confirm"),
    function (e) { e.classList.toggle("hidden", purpose !== "confirm"); });
});

$("documents").addEventListener("change", function () {
  var id = $("documents").value;
  $("new-document").classList.toggle("hidden", !!id);
  if (!id) { $("work").classList.add("hidden"); return; }
  api("GET", "/scan-documents/" + id).then(show).catch(function (p) {
    feedback("error", problemText(p));
  });
});

$("refresh").addEventListener("click", loadDocuments);

$("open").addEventListener("click", function () {
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
  }).catch(function (p) { feedback("error", problemText(p)); $("work").classList.remove("hidden"); });
});

$("payload").addEventListener("keydown", function (event) {
  if (event.key !== "Enter") { return; }
  event.preventDefault();
  var text = $("payload").value.trim();
  $("payload").value = "";
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
    if (result.status === "scanned") { state.lines.push(result.line); renderLines(); }
  }).catch(function (p) {
    feedback("error", problemText(p));
    if (p && p.code === "fefo_override_reason_required") { $("reason").focus(); return; }
  }).then(function () {
    state.busy = false;
    if (document.activeElement !== $("reason")) { $("payload").focus(); }
  });
});

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

$("undo").addEventListener("click", function () {
  act("undo", function () { return "已撤销上一包"; });
});
$("post").addEventListener("click", function () {
  act("post", function (doc) {
    return doc.transaction_number ? "已过账：" + doc.transaction_number : "已完成：共 " + doc.packs + " 包";
  });
});
$("cancel").addEventListener("click", function () {
  if (confirm("作废这张扫描单？")) { act("cancel", function () { return "已作废"; }); }
});

// Keep the focus on the scan input (a scanner types wherever the focus is).
document.addEventListener("click", function (event) {
  var tag = event.target.tagName;
  if (state.doc && state.doc.status === "open" && tag !== "INPUT" && tag !== "SELECT") {
    $("payload").focus();
  }
});

$("token").value = state.token;
if (state.token) { login(); }
</script>
</body>
</html>
"""


@get("/scan", sync_to_thread=False, include_in_schema=False)
def scan_page() -> Response[str]:
    return Response(
        PAGE,
        media_type="text/html",  # Litestar adds "; charset=utf-8"
        headers={"Cache-Control": "no-cache", "Content-Security-Policy": "frame-ancestors 'none'"},
    )
