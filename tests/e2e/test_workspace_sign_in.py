"""The 工作台's sign-in page in headless Chromium: how it looks at a phone's and a PC's width,
signing in and out as each demo user, a wrong password, the keyboard alone, and how many bytes
a first visit costs. Screenshots go to build/screenshots/."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from tests.e2e.workspace import DEMO_LABELS, DEMO_LOGINS, FIRST_LOAD_MAX, WAIT, WIDTHS, shot_name


@pytest.mark.parametrize("width", WIDTHS)
def test_the_sign_in_page_at_a_phones_and_a_pcs_width(workspace_page, request, width):
    page = workspace_page
    page.resize(width)
    visit = page.visit("/")
    assert visit.status == 200
    assert page.driver.find_element(By.TAG_NAME, "h1").text == "工作台登录"
    for element_id in ("login", "password"):
        assert page.driver.find_element(By.ID, element_id).is_displayed()
    assert page.driver.find_element(By.CSS_SELECTOR, "form button[type=submit]").is_displayed()
    page.screenshot(shot_name(request))
    page.check(visit)
    assert visit.requested, "the performance log saw no request"


@pytest.mark.parametrize("login", DEMO_LOGINS)
def test_each_demo_user_signs_in_and_out(workspace_page, login):
    page = workspace_page
    visit = page.sign_in(login)
    assert visit.status == 200 and page.driver.current_url == page.base + "/"
    assert page.who().startswith(DEMO_LABELS[login] + " · "), page.who()
    assert ("/", "首页") in page.menu()
    page.check(visit)
    page.sign_out()
    assert (
        page.who() == "" and page.driver.find_element(By.ID, "login").get_attribute("value") == ""
    )
    # signed out for good: the home page is the sign-in page again
    page.visit("/")
    assert page.driver.find_elements(By.ID, "password") and page.who() == ""


def test_a_wrong_password_is_refused_in_chinese(workspace_page, request):
    page = workspace_page
    visit = page.sign_in("clerk@510121", "not-the-password", expect_ok=False)
    assert visit.status == 401
    error = page.driver.find_element(By.ID, "sign-in-error")
    assert "登录名或密码不对" in error.text
    assert page.driver.find_element(By.ID, "login").get_attribute("value") == "clerk@510121"
    assert page.driver.find_element(By.ID, "password").get_attribute("value") == ""
    assert page.who() == ""
    page.screenshot(shot_name(request))
    page.check(visit)


def test_the_keyboard_alone_signs_in(workspace_page):
    page = workspace_page
    page.visit("/")
    driver = page.driver
    # Tab from the heading (a click on it starts the keyboard's order there, as a reader does)
    driver.find_element(By.TAG_NAME, "h1").click()
    reached = []
    for _ in range(3):
        ActionChains(driver).send_keys(Keys.TAB).perform()
        focused = driver.switch_to.active_element
        reached.append(focused.get_attribute("id") or focused.get_attribute("type"))
    assert reached == ["login", "password", "submit"], reached
    # before them, the first stop of the page: the link that skips to the form
    ActionChains(driver).key_down(Keys.SHIFT).send_keys(Keys.TAB * 3).key_up(Keys.SHIFT).perform()
    assert driver.switch_to.active_element.text == "跳到正文"
    # Tab to the name, type both fields, Enter sends the form
    keys = (Keys.TAB, "approver@510121", Keys.TAB, "demo-password", Keys.ENTER)
    ActionChains(driver).send_keys(*keys).perform()
    WebDriverWait(driver, WAIT).until(lambda _: page.who())
    assert page.who().startswith(DEMO_LABELS["approver@510121"] + " · ")


def test_a_first_visit_transfers_at_most_200_kb(workspace_page, record_property):
    """Cold cache: the sign-in page, then (signed in) the home page, each with everything it
    loads; bytes as transferred (Network.loadingFinished encodedDataLength, headers too)."""
    page = workspace_page
    page.cold()
    sign_in_page = page.visit("/")
    page.sign_in("clerk@510121")
    page.cold()
    home = page.visit("/")
    assert page.who(), "not signed in"
    record_property("sign_in_bytes", sign_in_page.transferred)
    record_property("home_bytes", home.transferred)
    print(f"first load: sign-in page {sign_in_page.transferred:,} B, home {home.transferred:,} B")
    for visit in (sign_in_page, home):
        assert len(visit.requested) >= 3, visit.requested  # the page, its style and scripts
        assert 0 < visit.transferred <= FIRST_LOAD_MAX, (visit.url, visit.transferred)
