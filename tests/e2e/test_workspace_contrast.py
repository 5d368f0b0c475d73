"""Readable contrast on every page of the 工作台: each piece of text a user can see, against
the background it is drawn on, at least 4.5:1 (3:1 for large text), as WCAG 2.x asks (AA).
Disabled controls are left out, as WCAG leaves them out."""

from __future__ import annotations

import pytest

from tests.e2e.workspace import DEMO_LOGINS

SESSIONS: dict[str, dict] = {}

# For each element with text of its own: its colour against the first opaque background
# found going up (a colour with transparency is blended over what is under it).
CONTRAST = """
function rgba(text) {
  var m = text.match(/rgba?\\(([^)]+)\\)/); if (!m) { return [255, 255, 255, 1]; }
  var p = m[1].split(',').map(parseFloat); return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
}
function lum(c) {
  var v = c.slice(0, 3).map(function (x) { x /= 255;
    return x <= 0.03928 ? x / 12.92 : Math.pow((x + 0.055) / 1.055, 2.4); });
  return 0.2126 * v[0] + 0.7152 * v[1] + 0.0722 * v[2];
}
function over(top, under) {
  var a = top[3]; return [0, 1, 2].map(function (i) { return top[i] * a + under[i] * (1 - a); }).concat([1]);
}
function background(el) {
  var layers = [];
  for (var node = el; node && node.nodeType === 1; node = node.parentElement) {
    var c = rgba(getComputedStyle(node).backgroundColor);
    if (c[3] > 0) { layers.push(c); if (c[3] >= 1) { break; } }
  }
  var colour = [255, 255, 255, 1];
  for (var i = layers.length - 1; i >= 0; i--) { colour = over(layers[i], colour); }
  return colour;
}
var bad = [];
document.querySelectorAll('body *').forEach(function (el) {
  var own = Array.prototype.some.call(el.childNodes, function (n) {
    return n.nodeType === 3 && n.textContent.trim(); });
  if (!own || el.closest('svg, [disabled], option, .skip')) { return; }
  var style = getComputedStyle(el), box = el.getBoundingClientRect();
  if (style.visibility === 'hidden' || style.display === 'none' || box.width === 0) { return; }
  var fg = over(rgba(style.color), background(el)), bg = background(el);
  var l1 = lum(fg), l2 = lum(bg), ratio = (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05);
  var size = parseFloat(style.fontSize), bold = parseInt(style.fontWeight, 10) >= 700;
  var need = (size >= 24 || (bold && size >= 18.66)) ? 3 : 4.5;
  if (ratio < need) {
    bad.push(el.tagName.toLowerCase() + (el.className ? '.' + el.className : '') + ' "' +
      el.textContent.trim().slice(0, 30) + '" ' + ratio.toFixed(2) + ':1');
  }
});
return bad;
"""


@pytest.mark.parametrize("login", DEMO_LOGINS)
def test_every_page_has_readable_contrast(workspace_page, login):
    page = workspace_page
    page.resize(1280)
    page.resume(login, SESSIONS)
    page.visit("/")
    found = {}
    for path, _ in page.menu():
        if path == "/schema":  # Swagger UI's own styles, not the workspace's
            continue
        page.visit(path)
        bad = page.driver.execute_script(CONTRAST)
        if bad:
            found[path] = bad[:5]
    assert found == {}


def test_the_check_finds_pale_text(workspace_page):
    page = workspace_page
    page.resize(1280)
    page.visit("/")  # the sign-in page (signed out)
    assert page.driver.execute_script(CONTRAST) == []
    page.driver.execute_script(
        "var p = document.createElement('p'); p.textContent = '浅灰色的字';"
        "p.style.color = '#b0b0b0'; document.querySelector('main').appendChild(p);"
    )
    (found,) = page.driver.execute_script(CONTRAST)
    assert found.startswith('p "浅灰色的字"')
