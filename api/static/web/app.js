// 工作台: every htmx request carries the session's CSRF token (from <meta name="csrf-token">).
document.addEventListener("htmx:configRequest", function (event) {
  var meta = document.querySelector('meta[name="csrf-token"]');
  if (meta) { event.detail.headers["X-CSRF-Token"] = meta.content; }
});
// A part that htmx loads after the page (data-load-failed: what to say then) says so when its
// request got no answer at all (no network, the server gone); an answer with an error status is
// swapped in as the server's own message (base.html's htmx-config).
["htmx:sendError", "htmx:timeout"].forEach(function (name) {
  document.addEventListener(name, function (event) {
    var part = event.target.closest && event.target.closest("[data-load-failed]");
    if (!part) { return; }
    var note = document.createElement("p");
    note.className = "alert bad";
    note.setAttribute("role", "alert");
    note.textContent = part.dataset.loadFailed;
    part.replaceChildren(note);
  });
});
// A button with data-confirm asks before its form is sent (红冲, 吊销 …).
document.addEventListener("submit", function (event) {
  var button = event.submitter;
  var text = (button && button.dataset.confirm) || event.target.dataset.confirm;
  if (text && !window.confirm(text)) { event.preventDefault(); }
});
// 主菜单 on a narrow screen scrolls sideways: the current item is scrolled into the middle (the
// menu only, never the page), and the edge with more items beyond it fades (app.css more-left/right).
(function () {
  var list = document.querySelector("nav.menu ul");
  if (!list) { return; }
  var current = list.querySelector("[aria-current]");
  if (current && list.scrollWidth > list.clientWidth) {
    var offset = current.getBoundingClientRect().left - list.getBoundingClientRect().left;
    list.scrollLeft += offset - (list.clientWidth - current.offsetWidth) / 2;
  }
  function edges() {
    var rest = list.scrollWidth - list.clientWidth - list.scrollLeft;
    list.classList.toggle("more-left", list.scrollLeft > 1);
    list.classList.toggle("more-right", rest > 1);
  }
  edges();
  list.addEventListener("scroll", edges, { passive: true });
  window.addEventListener("resize", edges);
})();
// 退出 with scans still waiting on this device (扫码作业's queue, scan_queue.js) asks first:
// they stay on the device and are sent the next time this user opens 扫码作业. Signing out
// also drops the device's copy of the 扫码作业 page (it holds this session's name and token).
(function () {
  var meta = document.querySelector('meta[name="ledger-user"]');
  if (!meta) {  // signed out (the sign-in page): no copy of a signed-in page stays
    if (window.caches) { caches.delete("ledger-scan-pages").catch(function () { return null; }); }
    var form = document.querySelector("main form");
    if (form && window.ScanQueue) {  // a session that ended with scans still on the device
      window.ScanQueue.waitingCount().then(function (count) {
        if (!count) { return; }
        var note = document.createElement("p");
        note.className = "alert warn";
        note.id = "scans-waiting";
        note.textContent = "本机有 " + count + " 条扫描待上传：登录后打开「扫码」页面即自动上传。";
        form.parentNode.insertBefore(note, form);
      }).catch(function () { return null; });
    }
    return;
  }
  var form = document.querySelector('form[action="/sign-out"]');
  if (!form || !window.ScanQueue) { return; }
  form.addEventListener("submit", function (event) {
    if (form.dataset.checked) { return; }
    event.preventDefault();
    window.ScanQueue.waitingOf(Number(meta.content)).catch(function () { return []; })
      .then(function (waiting) {
        var go = !waiting.length || window.confirm("本机还有 " + waiting.length +
          " 条扫描待上传（需要联网）。退出后它们仍保存在本机，你下次登录打开扫码作业时自动上传。" +
          "确定现在退出？");
        if (!go) { return; }
        var dropped = window.caches ? caches.delete("ledger-scan-pages") : Promise.resolve();
        dropped.catch(function () { return null; }).then(function () {
          form.dataset.checked = "1";
          form.submit();
        });
      });
  });
})();
