"""Headless Chromium through Selenium (Debian `chromium` + `chromium-driver`), and screenshots saved as artifacts."""
from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path

import pytest

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-dev-shm-usage",
         "--disable-component-update", "--disable-sync", "--no-first-run"]
PHONE = {"width": 390, "height": 844, "pixelRatio": 3.0}
PHONE_AGENT = ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
               "Chrome/126.0 Mobile Safari/537.36")


def _driver(*, phone: bool = False):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    os.environ.setdefault("SE_OFFLINE", "true")  # never let Selenium Manager reach for a download
    profile = tempfile.mkdtemp(prefix="im-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS + [f"--user-data-dir={profile}"]:
        options.add_argument(flag)
    if phone:
        options.add_experimental_option("mobileEmulation", {"deviceMetrics": PHONE, "userAgent": PHONE_AGENT})
    else:
        options.add_argument("--window-size=1280,900")
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    driver.implicitly_wait(0)
    return driver, profile


@pytest.fixture
def browser():
    """A desktop-sized headless Chromium, closed after the test."""
    driver, profile = _driver()
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def phone():
    """A phone-sized headless Chromium (390×844, mobile user agent and touch metrics)."""
    driver, profile = _driver(phone=True)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


def screenshot(driver, name: str) -> Path:
    """Save the current page as tests/artifacts/<name>.png (kept out of git) and return its path."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / (re.sub(r"[^A-Za-z0-9_.-]+", "-", name) + ".png")
    driver.save_screenshot(str(path))
    return path


def wait_for(driver, element_id: str, timeout: float = 10):
    """The element with this id once the page holding it has loaded (polls the browser, no fixed sleep)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout).until(ec.presence_of_element_located((By.ID, element_id)))


def gone(element):
    """A wait condition: `element`'s page has been replaced. Chromium's driver sometimes answers a check of an element
    of the page being replaced with "Node with given id does not belong to the document" instead of a stale element
    error: that means gone too."""
    from selenium.common.exceptions import StaleElementReferenceException, WebDriverException

    def check(_driver) -> bool:
        try:
            element.is_enabled()
        except StaleElementReferenceException:
            return True
        except WebDriverException as exc:
            if "does not belong to the document" in str(exc):
                return True
            raise
        return False

    return check


def submit(driver, element_id: str, timeout: float = 15) -> None:
    """Click the element and wait until its page has gone and the next one has loaded (no element of the old page
    is ever read for the new one)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    element = driver.find_element(By.ID, element_id)
    element.click()
    WebDriverWait(driver, timeout).until(gone(element))
    WebDriverWait(driver, timeout).until(lambda d: d.execute_script("return document.readyState") == "complete")


IFRAME = (1000, 700)  # the host's iframe the admin pages must fit


def in_iframe(driver, origin: str, url: str) -> None:
    """Open `url` inside a 1,000 × 700 iframe of a page from the same origin (frame-ancestors allows 'self'), and
    switch into the frame once its document has loaded."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    driver.switch_to.default_content()
    driver.get(f"{origin}/admin/host-frame-page")  # an unknown admin URL: a small HTML page of our own origin
    width, height = IFRAME
    driver.execute_script(
        "document.open();document.write('<!doctype html><body style=\"margin:0\"><iframe id=\"host\" '"
        f"+ 'width=\"{width}\" height=\"{height}\" style=\"border:0\"></iframe></body>');document.close();"
        "document.getElementById('host').src = arguments[0];", url)
    WebDriverWait(driver, 15).until(ec.frame_to_be_available_and_switch_to_it((By.ID, "host")))
    WebDriverWait(driver, 15).until(lambda d: d.execute_script("return document.readyState") == "complete"
                                    and d.execute_script("return location.href") != "about:blank")


def overflow_x(driver) -> int:
    """How many pixels the framed page is wider than its iframe (0: it fits)."""
    return driver.execute_script("return document.documentElement.scrollWidth - document.documentElement.clientWidth")
