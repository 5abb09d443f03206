"""The page of ``digitcnn serve`` in a real browser: headless Chromium driven by Selenium.

Needs Debian's ``chromium`` and ``chromium-driver``; without them the tests
are skipped, unless ``DIGITCNN_BROWSER_TESTS=required`` (as ``.ci/run``
sets it), when they fail. The docs' screenshot of the page is the drawn 7
of the first test, saved where ``DIGITCNN_SCREENSHOT`` says::

    DIGITCNN_SCREENSHOT=docs/_static/serve-page.png python -m pytest tests/test_page.py -k drawn
"""

from __future__ import annotations

import io
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import Split, number, on_paper, serving
from PIL import Image

from digitcnn import create_app

CHROMIUM = shutil.which("chromium")
DRIVER = shutil.which("chromedriver")
MISSING = "headless Chromium needs Debian's chromium and chromium-driver"


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    with serving(create_app()) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not (CHROMIUM and DRIVER):
        if os.environ.get("DIGITCNN_BROWSER_TESTS") == "required":
            pytest.fail(MISSING)
        pytest.skip(MISSING)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--window-size=1280,800"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(executable_path=DRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def answer_after(driver: Any, act: Any) -> str:
    """Do ``act``, wait for the page's answer, and return the large answer shown."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    driver.execute_script("document.body.dataset.state = 'waiting'")
    act()
    WebDriverWait(driver, 30).until(
        lambda d: (
            d.find_element(By.TAG_NAME, "body").get_attribute("data-state") in ("done", "error")
        )
    )
    assert driver.find_element(By.ID, "error").text == ""
    text: str = driver.find_element(By.ID, "answer").text
    return text


def test_a_digit_drawn_with_the_mouse_is_read(browser: Any, url: str) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    browser.get(url)
    canvas = browser.find_element(By.ID, "canvas")
    assert canvas.size == {"width": 280, "height": 280}

    def draw_a_seven() -> None:
        # offsets from the canvas's centre: a top bar, then the long stroke down-left
        strokes = ActionChains(browser).move_to_element_with_offset(canvas, -70, -90)
        strokes.click_and_hold()
        for x, y in [(-35, -90), (0, -90), (35, -90), (70, -90)]:
            strokes.move_to_element_with_offset(canvas, x, y)
        for step in range(1, 9):
            strokes.move_to_element_with_offset(canvas, 70 - step * 10, -90 + step * 23)
        strokes.release().perform()

    assert answer_after(browser, draw_a_seven) == "7"
    assert "sure" in browser.find_element(By.ID, "status").text
    bars = browser.find_element(By.ID, "bars")
    assert bars.is_displayed()
    assert len(bars.find_elements(By.TAG_NAME, "li")) == 10
    seen = browser.find_element(By.ID, "seen")
    assert seen.is_displayed()
    assert seen.get_attribute("src").startswith("data:image/png;base64,")
    if os.environ.get("DIGITCNN_SCREENSHOT"):
        browser.set_window_size(1100, 1000)  # the whole answer, down to the image seen
        browser.save_screenshot(os.environ["DIGITCNN_SCREENSHOT"])
        browser.set_window_size(1280, 800)

    browser.find_element(By.ID, "clear").click()
    assert browser.find_element(By.ID, "answer").text == "\N{EN DASH}"  # nothing read


def test_an_uploaded_photo_is_read(
    browser: Any, url: str, test_slice: Split, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By

    images, labels = test_slice
    photo = tmp_path / "photo.jpg"
    Image.fromarray(on_paper(images[1])).convert("RGB").save(photo, quality=85)
    browser.get(url)
    upload = browser.find_element(By.ID, "file")
    assert answer_after(browser, lambda: upload.send_keys(str(photo))) == str(labels[1])


def test_a_number_is_read_with_its_boxes(
    browser: Any, url: str, test_slice: Split, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By

    images, labels = test_slice
    picture = tmp_path / "number.png"
    Image.fromarray(number([images[i] for i in range(3, 7)])).save(picture)
    browser.get(url)
    browser.find_element(By.CSS_SELECTOR, "input[name=mode][value=number]").click()
    upload = browser.find_element(By.ID, "file")
    read = answer_after(browser, lambda: upload.send_keys(str(picture)))
    assert read == "".join(str(d) for d in labels[3:7])
    assert not browser.find_element(By.ID, "bars").is_displayed()
    # the boxes are drawn over the picture: its overlay has orange pixels
    overlay = browser.find_element(By.ID, "picture-overlay")
    shot = Image.open(io.BytesIO(overlay.screenshot_as_png)).convert("RGB")
    pixels = np.asarray(shot).astype(int)
    orange = (pixels[..., 0] > 150) & (pixels[..., 2] < 100) & (pixels[..., 1] < 150)
    assert orange.sum() > 50


def test_the_page_fits_a_phone(browser: Any, url: str) -> None:
    from selenium.webdriver.common.by import By

    browser.set_window_size(360, 740)
    try:
        browser.get(url)
        width = browser.execute_script("return document.documentElement.scrollWidth")
        assert width <= 360  # no sideways scrolling
        canvas = browser.find_element(By.ID, "canvas")
        assert canvas.size["width"] <= 360
        for control in ("read", "clear"):
            assert browser.find_element(By.ID, control).size["height"] >= 44  # easy to tap
    finally:
        browser.set_window_size(1280, 800)


def test_the_page_reads_with_the_keyboard_and_a_screen_reader(browser: Any, url: str) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    browser.get(url)
    named = (
        "const e = arguments[0]; return (e.labels && e.labels.length > 0) "
        "|| e.textContent.trim().length > 0 || !!e.getAttribute('aria-label')"
    )
    for control in browser.find_elements(By.CSS_SELECTOR, "button, input, [role=button]"):
        assert browser.execute_script(named, control), control.get_attribute("outerHTML")
    assert "upload" in browser.find_element(By.ID, "canvas").get_attribute("aria-label")
    assert browser.find_element(By.ID, "error").get_attribute("role") == "alert"
    live = browser.find_element(By.CSS_SELECTOR, "[aria-live]")
    assert live.find_element(By.ID, "answer")
    reached = []
    for _ in range(12):
        ActionChains(browser).send_keys(Keys.TAB).perform()
        reached.append(browser.switch_to.active_element.get_attribute("id"))
    assert {"read", "clear", "file", "drop"} <= set(reached)
