// 工作台: every htmx request carries the session's CSRF token (from <meta name="csrf-token">).
document.addEventListener("htmx:configRequest", function (event) {
  var meta = document.querySelector('meta[name="csrf-token"]');
  if (meta) { event.detail.headers["X-CSRF-Token"] = meta.content; }
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
