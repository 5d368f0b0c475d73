"""Browser fixtures: headless Chromium and ChromeDriver from Debian's packages, with a font
that has Chinese glyphs (the report pages are in Chinese). The fixture installs what is
missing (the machine's CI runs as root) and fails — never skips — when it cannot."""

from __future__ import annotations

import fcntl
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1000,1400",
)


PACKAGES = ("chromium", "chromium-driver", "fonts-wqy-microhei")


def _chinese_font() -> bool:
    listed = subprocess.run(["fc-list", ":lang=zh"], capture_output=True, text=True)
    return listed.returncode == 0 and bool(listed.stdout.strip())


def _apt_install() -> subprocess.CompletedProcess:
    return subprocess.run(
        ["apt-get", "install", "-y", "-q", *PACKAGES],
        capture_output=True,
        text=True,
        env={"DEBIAN_FRONTEND": "noninteractive", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"},
        timeout=900,
    )


def ensure_chromium() -> tuple[str, str]:
    browser, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if browser and driver and _chinese_font():
        return browser, driver
    # Test workers run side by side (pytest-xdist): one installs while the others wait.
    with open(Path(tempfile.gettempdir()) / "ledger-tests-chromium.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        browser, driver = shutil.which("chromium"), shutil.which("chromedriver")
        if browser and driver and _chinese_font():
            return browser, driver
        install = _apt_install()
        if install.returncode != 0:  # the package lists may be stale on a fresh machine
            subprocess.run(["apt-get", "update", "-q"], capture_output=True, timeout=600)
            install = _apt_install()
    browser, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not (browser and driver and _chinese_font()):
        pytest.fail(f"could not install {', '.join(PACKAGES)}: {install.stderr[-2000:]}")
    return browser, driver


@pytest.fixture
def browser():
    chromium, chromedriver = ensure_chromium()
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(chromedriver), options=options)
    yield driver
    driver.quit()
