"""The studio in a real headless Chromium (Debian's `chromium` + `chromedriver`, driven by Selenium).

Skipped where Chromium is not installed, except when NETBEND_REQUIRE_BROWSER=1 (CI sets it): then a
missing browser fails. NETBEND_STUDIO_SCREENSHOT=PATH copies the screenshot there (the README's).
"""
from __future__ import annotations

import base64
import io
import json
import os
import shlex
import shutil
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

pytest.importorskip("starlette")


def _browser() -> tuple[str, str]:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if not (chromium and driver):
        message = "needs Debian's chromium and chromium-driver (apt-get install chromium chromium-driver)"
        if os.environ.get("NETBEND_REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    try:
        import selenium  # noqa: F401
    except ImportError:
        if os.environ.get("NETBEND_REQUIRE_BROWSER") == "1":
            pytest.fail("needs selenium (pip install -e '.[test]')")
        pytest.skip("needs selenium")
    return chromium, driver


@pytest.fixture(scope="module")
def studio(tmp_path_factory):
    from netbend.studio.engine import Engine
    from netbend.studio.hub import Hub
    from netbend.studio.presets import Presets
    from netbend.studio.run import Background
    from netbend.studio.server import create_app

    from netbend.studio.osc import OscMap, OscServer
    from netbend.studio.server import osc_handler

    hub = Hub(Engine(None))
    presets = Presets(tmp_path_factory.mktemp("presets"))
    bg = Background(create_app(hub, presets=presets))
    bg.osc = OscServer("127.0.0.1", 0, osc_handler(hub, presets, OscMap({})))
    yield bg
    bg.osc.close()
    bg.stop()


@pytest.fixture(scope="module")
def downloads(tmp_path_factory):
    return tmp_path_factory.mktemp("downloads")


@pytest.fixture(scope="module")
def browser(downloads):
    chromium, driver_path = _browser()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1400,1020", "--force-device-scale-factor=1"):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    opts.add_experimental_option("prefs", {"download.default_directory": str(downloads),
                                           "download.prompt_for_download": False})
    driver = webdriver.Chrome(service=Service(driver_path), options=opts)
    driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    driver.set_script_timeout(60)
    yield driver
    driver.quit()


def wait(driver, script: str, timeout: float = 30):
    """Poll ``return (script)`` in the page until it is truthy; returns its value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = driver.execute_script(f"return ({script});")
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for: {script}")


def settled(driver) -> None:
    """Every change this page sent has been answered (painted, or refused with an error)."""
    wait(driver, "window.netbend && netbend.frames > 0 && netbend.sent.size === 0")


def last_bent(driver) -> bytes:
    return base64.b64decode(driver.execute_script(
        "const b = netbend.lastFrame.bent; let s = ''; for (const x of b) s += String.fromCharCode(x); return btoa(s);"))


def decode(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


def test_add_bend_move_slider_export_and_generate_the_same(studio, browser, downloads, tmp_path, monkeypatch):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    from netbend.cli import main

    browser.get(studio.url)
    settled(browser)
    assert browser.find_element(By.ID, "model-name").text.startswith("netbend-faces64")
    before = decode(last_bent(browser))
    browser.find_element(By.ID, "add-bend").click()
    wait(browser, "document.querySelectorAll('.entry').length === 1")
    settled(browser)
    assert np.array_equal(decode(last_bent(browser)), before)  # a new bend starts neutral (angle 0)
    slider = browser.find_element(By.CSS_SELECTOR, "[data-path='transforms.0.params.angle'][type=range]")
    frames = browser.execute_script("return netbend.frames")
    ActionChains(browser).click_and_hold(slider).move_by_offset(40, 0).move_by_offset(30, 0).release().perform()
    settled(browser)
    angle = browser.execute_script("return netbend.state.transforms[0].params.angle")
    assert angle > 10
    assert browser.execute_script("return netbend.frames") > frames
    after = decode(last_bent(browser))
    assert np.abs(after.astype(int) - before).mean() > 3  # the image changed
    number = browser.find_element(By.CSS_SELECTOR, "[data-path='transforms.0.params.angle'][type=number]")
    assert float(number.get_attribute("value")) == pytest.approx(angle)

    browser.find_element(By.ID, "export").click()
    plan_file = downloads / "plan.yaml"
    deadline = time.monotonic() + 30
    while not plan_file.is_file() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert plan_file.is_file(), "the browser did not download plan.yaml"
    command = browser.find_element(By.ID, "export-command").text
    assert "rotate" in plan_file.read_text()
    shutil.copy(plan_file, tmp_path / "plan.yaml")
    monkeypatch.chdir(tmp_path)
    res = CliRunner().invoke(main, shlex.split(command)[1:] + ["--raw", "raw.npy"])
    assert res.exit_code == 0, res.output
    generated = sorted((tmp_path / "out" / "studio").glob("*.png"))
    assert len(generated) == 1
    assert np.array_equal(decode(generated[0].read_bytes()), after)  # the pixels the page painted
    req = urllib.request.Request(studio.url + "api/raw", method="POST",
                                 data=json.dumps(browser.execute_script("return netbend.state")).encode())
    with urllib.request.urlopen(req, timeout=60) as r:
        studio_raw = np.load(io.BytesIO(r.read()))
    assert np.array_equal(np.load(tmp_path / "raw.npy"), studio_raw)  # bit for bit
    assert browser.execute_script("return netbend.errors") == []
    severe = [e["message"] for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert severe == []  # no script error, no failed request


def test_bad_input_shows_the_cli_message_and_keeps_the_image(studio, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    browser.get(studio.url)
    settled(browser)
    if not browser.find_elements(By.CSS_SELECTOR, ".entry"):
        browser.find_element(By.ID, "add-bend").click()
        settled(browser)
    Select(browser.find_element(By.CSS_SELECTOR, "[data-path='transforms.0.transform']")).select_by_value("blur")
    settled(browser)
    good = last_bent(browser)
    frames = browser.execute_script("return netbend.frames")
    field = browser.find_element(By.CSS_SELECTOR, "[data-path='transforms.0.params.sigma'][type=number]")
    field.clear()
    field.send_keys("-3")  # "-" alone is not a number yet: only "-3" is sent
    error = browser.find_element(By.ID, "error")
    wait(browser, "!document.getElementById('error').hidden")
    assert error.text == "netbend: error: state: transforms[0].params: parameter 'sigma' must be >= 0.0, got -3.0"
    settled(browser)
    assert browser.execute_script("return netbend.frames") == frames
    assert last_bent(browser) == good
    field.clear()
    field.send_keys("2")
    wait(browser, "document.getElementById('error').hidden")
    settled(browser)
    assert last_bent(browser) != good


def test_presets_plan_import_and_osc_from_the_page(studio, browser, tmp_path):
    from pythonosc.udp_client import SimpleUDPClient
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    root = Path(__file__).resolve().parent.parent
    browser.get(studio.url)
    settled(browser)
    browser.find_element(By.ID, "import-plan").send_keys(str(root / "examples" / "fig3_stochastic.yaml"))
    wait(browser, "document.querySelectorAll('.entry').length === 4")
    settled(browser)
    assert [e.get_attribute("value") for e in browser.find_elements(
        By.CSS_SELECTOR, "[data-path$='.transform']")] == ["erode", "dilate", "binary-thresh", "scalar-multiply"]
    Select(browser.find_element(By.ID, "save-slot")).select_by_value("2")
    browser.find_element(By.ID, "save-preset").click()
    wait(browser, "document.querySelector('#slots button:nth-child(2)').classList.contains('saved')")
    browser.find_element(By.CSS_SELECTOR, ".entry button[title=remove]").click()
    wait(browser, "document.querySelectorAll('.entry').length === 3")
    settled(browser)
    browser.find_element(By.CSS_SELECTOR, "#slots button:nth-child(2)").click()
    wait(browser, "document.querySelectorAll('.entry').length === 4")
    bad = tmp_path / "bad.yaml"
    bad.write_text("transforms:\n- {layer: 1, transform: rotate, params: [10], features: sideways}\n")
    browser.find_element(By.ID, "import-plan").send_keys(str(bad))
    wait(browser, "!document.getElementById('error').hidden")
    assert browser.find_element(By.ID, "error").text.startswith(
        "netbend: error: bad.yaml: transforms[0].features: must be one of all, random, cluster, indices")
    assert len(browser.find_elements(By.CSS_SELECTOR, ".entry")) == 4  # the last good state stays
    # an OSC message moves the control in the page
    SimpleUDPClient("127.0.0.1", studio.osc.port).send_message("/netbend/bend/3/p", 2.25)
    wait(browser, "document.querySelector(\"[data-path='transforms.3.params.p'][type=number]\").value === '2.25'")
    wait(browser, "netbend.frames > 0 && netbend.state.transforms[3].params.p === 2.25")
    browser.find_element(By.CSS_SELECTOR, "#osc-box summary").click()
    assert "/netbend/bend/3/p" in browser.find_element(By.ID, "osc").text


def test_two_tabs_follow_each_other(studio, browser):
    from selenium.webdriver.common.by import By

    browser.get(studio.url)
    settled(browser)
    first = browser.current_window_handle
    browser.switch_to.new_window("tab")
    browser.get(studio.url)
    wait(browser, "window.netbend && netbend.state !== null")
    second = browser.current_window_handle
    browser.switch_to.window(first)
    walk = browser.find_element(By.ID, "walk")
    browser.execute_script("arguments[0].value = 0.4; arguments[0].dispatchEvent(new Event('input', {bubbles: true}))", walk)
    settled(browser)
    browser.switch_to.window(second)
    wait(browser, "netbend.state.latent.walk === 0.4")
    assert browser.find_element(By.ID, "walk").get_attribute("value") == "0.4"
    browser.close()
    browser.switch_to.window(first)


def test_screenshot_with_clusters_and_look_inside(studio, browser, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    browser.get(studio.url)
    settled(browser)
    while (n := len(browser.find_elements(By.CSS_SELECTOR, ".entry"))):
        browser.find_element(By.CSS_SELECTOR, ".entry button[title=remove]").click()
        wait(browser, f"document.querySelectorAll('.entry').length === {n - 1}")
    browser.execute_script("netbend.state.latent.walk = 0; netbend.state.grid = 0;")
    settled(browser)
    browser.find_element(By.ID, "add-bend").click()
    settled(browser)
    Select(browser.find_element(By.CSS_SELECTOR, "[data-path='transforms.0.layer']")).select_by_value("3")
    Select(browser.find_element(By.CSS_SELECTOR, "[data-path='transforms.0.transform']")).select_by_value("scalar-multiply")
    settled(browser)
    Select(browser.find_element(By.CSS_SELECTOR, "[data-path='transforms.0.features']")).select_by_value("cluster")
    wait(browser, "document.querySelectorAll('.cluster img').length > 1")
    clusters = browser.find_elements(By.CSS_SELECTOR, ".cluster")
    clusters[1].click()
    settled(browser)
    clusters[0].click()  # now cluster 1 alone
    settled(browser)
    assert browser.execute_script("return netbend.state.transforms[0]['feature-param']") == [1]
    field = browser.find_element(By.CSS_SELECTOR, "[data-path='transforms.0.params.p'][type=number]")
    field.clear()
    field.send_keys("4")
    settled(browser)
    browser.find_element(By.ID, "add-bend").click()
    settled(browser)
    Select(browser.find_element(By.CSS_SELECTOR, "[data-path='transforms.1.features']")).select_by_value("random")
    settled(browser)
    grid_field = browser.find_element(By.CSS_SELECTOR, "[data-path='grid']")
    grid_field.clear()
    grid_field.send_keys("4")
    settled(browser)
    wait(browser, "!document.getElementById('grid-box').hidden && document.getElementById('grid').naturalWidth === 4 * 65 + 1")
    browser.find_element(By.CSS_SELECTOR, "#inside summary").click()
    wait(browser, "document.getElementById('inspect-img').complete && document.getElementById('inspect-img').naturalWidth > 0")
    slider = browser.find_element(By.CSS_SELECTOR, "[data-path='transforms.1.params.angle'][type=range]")
    browser.execute_script("arguments[0].value = 25; arguments[0].dispatchEvent(new Event('input', {bubbles: true}))", slider)
    settled(browser)
    time.sleep(0.5)
    assert browser.execute_script("return netbend.errors") == []
    assert browser.find_element(By.ID, "inspect-layer").get_attribute("value") == "3"  # follows the stack
    browser.set_window_size(1400, 1400)
    time.sleep(0.3)
    shot = tmp_path / "studio.png"
    browser.save_screenshot(str(shot))
    assert Image.open(shot).size[0] >= 1200
    target = os.environ.get("NETBEND_STUDIO_SCREENSHOT")
    if target:
        shutil.copy(shot, target)


def test_audio_page_plays_the_bent_clip(browser, tmp_path):
    from selenium.webdriver.common.by import By

    from netbend.studio.engine import open_engine
    from netbend.studio.hub import Hub
    from netbend.studio.run import Background
    from netbend.studio.server import create_app

    bg = Background(create_app(Hub(open_engine(None, audio=True))))
    try:
        browser.get(bg.url)
        wait(browser, "window.netbend && netbend.frames > 0 && netbend.sent.size === 0", timeout=120)
        assert browser.find_element(By.ID, "previews").is_displayed() is False
        browser.find_element(By.ID, "add-bend").click()
        settled(browser)
        slider = browser.find_element(By.CSS_SELECTOR, "[data-path='transforms.0.params.angle'][type=range]")
        browser.execute_script("arguments[0].value = 90; arguments[0].dispatchEvent(new Event('input', {bubbles: true}))", slider)
        wait(browser, "netbend.sent.size === 0", timeout=120)
        assert browser.execute_script("return netbend.state.transforms[0].params.angle") == 90
        wait(browser, "document.getElementById('bent-audio').duration > 2")
        wait(browser, "document.getElementById('spec-bent').naturalWidth > 100")
        assert browser.execute_script("return netbend.errors") == []
        browser.save_screenshot(str(tmp_path / "audio.png"))
        target = os.environ.get("NETBEND_STUDIO_AUDIO_SCREENSHOT")
        if target:
            shutil.copy(tmp_path / "audio.png", target)
    finally:
        bg.stop()
