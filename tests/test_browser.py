"""The app in a real browser: `streamlit run app.py` on 127.0.0.1 over the demo warehouse,
Debian's chromium driven by Selenium. Every page opens, its main action runs, the expected
result is on screen, and a screenshot per page lands in benchmarks/results/screenshots/ (or
$SKILLMATCH_SCREENSHOTS).

Needs chromium and chromedriver (`scripts/setup_browser.sh`, run by `make test`). Without them
the test is skipped, unless SKILLMATCH_REQUIRE_BROWSER=1 (CI sets it), where it fails.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import REPO, free_port, settings_env

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
SCREENSHOTS = Path(os.environ.get("SKILLMATCH_SCREENSHOTS",
                                  REPO / "benchmarks" / "results" / "screenshots"))
TIMEOUT = 120

if not (CHROMIUM and DRIVER):
    if os.environ.get("SKILLMATCH_REQUIRE_BROWSER") == "1":
        raise RuntimeError("chromium/chromedriver not found: run scripts/setup_browser.sh")
    pytest.skip("chromium and chromedriver are not installed (scripts/setup_browser.sh)",
                allow_module_level=True)

from selenium import webdriver  # noqa: E402  (only importable where the browser test runs)
from selenium.common.exceptions import TimeoutException  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.remote.webelement import WebElement  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402


@pytest.fixture(scope="module")
def server(demo_settings, tmp_path_factory) -> Iterator[str]:
    port = free_port()
    env = {**settings_env(demo_settings), "SKILLMATCH_TALENT_SEARCH_ENABLED": "1"}
    log = open(tmp_path_factory.mktemp("streamlit") / "server.log", "w")  # noqa: SIM115
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(REPO / "app.py"),
         "--server.address", "127.0.0.1", "--server.port", str(port),
         "--server.headless", "true", "--server.fileWatcherType", "none",
         "--browser.gatherUsageStats", "false"],
        cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + TIMEOUT
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if process.poll() is not None or time.time() > deadline:
                raise RuntimeError(f"streamlit did not start; log: {log.name}")
            time.sleep(0.5)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[webdriver.Chrome]:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                "--disable-gpu", "--window-size=1400,1800"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def body_text(driver: webdriver.Chrome) -> str:
    return driver.execute_script("return document.body.innerText")


def running(driver: webdriver.Chrome) -> bool:
    """Whether Streamlit is still running the page (its status widget offers "Stop")."""
    return driver.execute_script(
        "const w = document.querySelector('[data-testid=\"stStatusWidget\"]');"
        "return !!w && w.innerText.includes('Stop');")


def wait_for_text(driver: webdriver.Chrome, *texts: str) -> None:
    """Until every text is on screen and the app has stopped running."""
    try:
        WebDriverWait(driver, TIMEOUT, poll_frequency=0.5).until(
            lambda d: all(t in body_text(d) for t in texts) and not running(d))
    except TimeoutException as exc:
        missing = [t for t in texts if t not in body_text(driver)]
        raise AssertionError(f"after {TIMEOUT}s, missing {missing}, still running: "
                             f"{running(driver)}") from exc


def no_exception(driver: webdriver.Chrome) -> None:
    errors = driver.find_elements(By.CSS_SELECTOR, "[data-testid='stException']")
    assert not errors, errors[0].text


def button(driver: webdriver.Chrome, label: str) -> WebElement:
    return driver.find_element(By.XPATH, f"//button[normalize-space(.)='{label}']")


def field(driver: webdriver.Chrome, tag: str, label: str) -> WebElement:
    return driver.find_element(By.XPATH, f"//{tag}[@aria-label='{label}']")


def choose(driver: webdriver.Chrome, label: str, option: str) -> None:
    """Pick an option in a Streamlit selectbox by typing it."""
    box = field(driver, "input", label)
    box.click()
    box.send_keys(option)
    WebDriverWait(driver, TIMEOUT).until(lambda d: d.find_elements(
        By.XPATH, f"//*[@role='option'][contains(normalize-space(.), '{option}')]"))
    box.send_keys(Keys.ENTER)


def shot(driver: webdriver.Chrome, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    height = driver.execute_script(
        "const m = document.querySelector('[data-testid=\"stMain\"]');"
        "return Math.max(document.body.scrollHeight, m ? m.scrollHeight : 0);")
    driver.set_window_size(1400, min(max(int(height) + 100, 900), 6000))
    assert driver.save_screenshot(str(path))
    driver.set_window_size(1400, 1800)
    assert path.stat().st_size > 10_000  # a rendered page, not a blank one
    return path


def open_page(driver: webdriver.Chrome, url: str, *texts: str) -> None:
    driver.get(url)
    wait_for_text(driver, *texts)
    no_exception(driver)


def test_every_page_and_its_main_action_in_a_browser(server: str, browser) -> None:
    d = browser
    open_page(d, server, "SkillMatch", "ESCO v1.1.1", "European Commission")
    shot(d, "1_overview")

    open_page(d, f"{server}/dashboard", "Regional labour-market dashboard", "Vacancies",
              "Reading:")
    d.find_element(By.XPATH, "//*[@role='tab'][normalize-space(.)='Skill gap']").click()
    wait_for_text(d, "Skills with the largest gap", "Gap index")
    charts = [c for c in d.find_elements(By.CSS_SELECTOR, "[data-testid='stVegaLiteChart']")
              if c.is_displayed()]
    assert charts and charts[0].size["height"] > 100, "the choropleth is drawn"
    no_exception(d)
    shot(d, "2_dashboard_skill_gap")

    open_page(d, f"{server}/talent", "Talent search", "Paste the vacancy text")
    text = field(d, "textarea", "Paste the vacancy text")
    text.send_keys("We are looking for a nurse who can plan and evaluate nursing care and "
                   "assess patients. You will use electronic health records.")
    text.send_keys(Keys.CONTROL, Keys.ENTER)
    time.sleep(1)
    button(d, "Extract requirements").click()
    wait_for_text(d, "Requirements (", "Search candidates")
    button(d, "Search candidates").click()
    wait_for_text(d, "Why these candidates", "1. syn-")
    no_exception(d)
    shot(d, "3_talent_search")

    open_page(d, f"{server}/modules", "Module planner", "Propose modules")
    minimum = field(d, "input", "Minimum vacancies per skill")  # 100 demo ads
    minimum.send_keys(Keys.CONTROL, "a")
    minimum.send_keys("2", Keys.ENTER)
    time.sleep(1)
    button(d, "Propose modules").click()
    wait_for_text(d, "Proposed module 1", "Nearest existing credentials")
    no_exception(d)
    shot(d, "4_module_planner")

    open_page(d, f"{server}/learner", "Learner advice", "Target occupation")
    choose(d, "Target occupation", "nurse responsible for general care")
    time.sleep(1)
    button(d, "Advise").click()
    wait_for_text(d, "Skill gap", "Step 1:")
    no_exception(d)
    shot(d, "5_learner_advice")

    open_page(d, f"{server}/explorer", "Type a skill, an occupation or a job title")
    query = field(d, "input", "Search ESCO skills and occupations (English or Dutch)")
    query.send_keys("verpleegkundige", Keys.ENTER)
    wait_for_text(d, "nurse responsible for general care", "Essential skills (")
    no_exception(d)
    shot(d, "6_taxonomy_explorer")

    open_page(d, f"{server}/status", "Data status", "Sources (latest run of each)",
              "Rejected records")
    shot(d, "7_data_status")
    assert len(list(SCREENSHOTS.glob("*.png"))) >= 7
