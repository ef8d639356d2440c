"""End to end in a real browser: a Data object's flow run as the Prefect UI shows it to an operator.

The other e2e tests check the Prefect REST API, which is what the UI reads; this one checks the
UI itself (the Vue SPA the stack's Prefect server serves next to its API), so that a run page,
its state, its progress artifact and its markdown summary really render. Headless Debian
chromium is driven by Selenium through Debian's chromedriver (scripts/ensure-browser.sh
installs both). Screenshots go to the test artifact directory whether the test passes or not.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest
import requests
from selenium import webdriver
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait

pytestmark = pytest.mark.e2e

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
# The SPA loads its bundle, then its settings, then the run over the API: slow on a busy 2-core box.
UI_TIMEOUT = 60
T = TypeVar("T")
ARTIFACTS_DIR = Path(os.environ.get("TEST_ARTIFACTS_DIR", Path(__file__).resolve().parents[2] / "test-artifacts"))


@pytest.fixture
def browser() -> Iterator[WebDriver]:
    """Headless chromium, always quit afterwards (a leaked chromium outlives the test session).

    Only a missing browser skips the test: ``make test`` installs it. The explicit driver path
    and browser binary keep Selenium Manager from looking for (and downloading) either.
    """
    missing = [str(path) for path in (CHROMIUM, CHROMEDRIVER) if not path.exists()]
    if missing:
        pytest.skip(f"{' and '.join(missing)} missing: run scripts/ensure-browser.sh as root to install chromium")
    options = webdriver.ChromeOptions()
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,1000"):
        options.add_argument(argument)
    options.binary_location = str(CHROMIUM)
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    try:
        driver.set_page_load_timeout(UI_TIMEOUT)
        yield driver
    finally:
        driver.quit()


def _body_text(driver: WebDriver) -> str:
    """What the page visibly says, for assertions and failure messages (never raises)."""
    try:
        return driver.find_element(By.TAG_NAME, "body").text
    except Exception as error:  # e.g. the page never loaded: report that instead of a second error
        return f"<no body text: {error!r}>"


def _screenshot(driver: WebDriver, name: str) -> Path:
    """Save what the browser shows now, so a reviewer (or a failure) has a picture of it."""
    ARTIFACTS_DIR.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS_DIR / name
    driver.save_screenshot(str(path))
    return path


def _wait_for(driver: WebDriver, condition: Callable[[WebDriver], T | bool], what: str, screenshot: str) -> T:
    """Wait for ``condition`` as the SPA renders; on timeout, fail with a screenshot and the page text.

    The screenshot is written either way, so a passing run leaves a picture of what it checked.
    """
    try:
        result = WebDriverWait(driver, UI_TIMEOUT, poll_frequency=0.5).until(condition)
    except TimeoutException:
        path = _screenshot(driver, screenshot)
        pytest.fail(
            f"the Prefect UI at {driver.current_url} did not show {what} within {UI_TIMEOUT}s "
            f"(screenshot: {path}); visible text:\n{_body_text(driver)[:3000]}"
        )
    _screenshot(driver, screenshot)
    return result


def _header_text(driver: WebDriver) -> str:
    """The page heading's text: the run name and its state badge, not the log lines below them."""
    return " ".join(element.text for element in driver.find_elements(By.TAG_NAME, "header"))


def _text_showing(read: Callable[[WebDriver], str], shows: Callable[[str], bool]) -> Callable[[WebDriver], str | bool]:
    """A wait condition: the text ``read`` from the page, once it ``shows`` what the test expects.

    Returning the text (not True) lets the test assert on exactly what the page said when it passed.
    """

    def condition(driver: WebDriver) -> str | bool:
        text = read(driver)
        return text if shows(text) else False

    return condition


def _artifact_data(prefect_api: str, key: str) -> object:
    """An artifact's data as the Prefect REST API returns it (what the UI page should render)."""
    response = requests.post(
        f"{prefect_api}/artifacts/filter", json={"artifacts": {"key": {"any_": [key]}}}, timeout=30
    )
    response.raise_for_status()
    return [artifact["data"] for artifact in response.json()]


def test_flow_run_page_shows_the_run_its_state_and_its_artifacts(stack, browser: WebDriver) -> None:
    """An operator following a Data object's flow_run_url sees the run, Completed, and its artifacts.

    Checks the flow-run page (name and final state in its heading), its Artifacts tab (both
    artifacts listed, linked to their pages), the progress artifact's page (100%) and the
    markdown summary's page (rendered, so ``**OK**`` shows as bold OK).
    """
    data = stack.client.create_data("e2e-sleep", {"seconds": 3})
    final = stack.wait([data["id"]])[data["id"]]
    assert final["status"] == "OK" and final["process_progress"] == 100, final
    flow_run_id = final["flow_run_id"]
    response = requests.get(f"{stack.prefect_api}/flow_runs/{flow_run_id}", timeout=30)
    response.raise_for_status()
    flow_run = response.json()
    assert flow_run["name"].startswith(f"data-{data['id']} "), flow_run["name"]
    ui = stack.prefect_ui
    progress_key, outputs_key = f"data-{data['id']}-progress", f"data-{data['id']}-outputs"

    # The embedded server wants its basic auth: without it the UI shows nothing of the run, and the
    # operator logs in once (the UI keeps the password in the browser's local storage).
    assert final["flow_run_url"] == f"{ui}/runs/flow-run/{flow_run_id}"
    browser.get(final["flow_run_url"])
    _wait_for(browser, _text_showing(_body_text, lambda text: "Authentication failed" in text),
              "the UI refusing an operator who has not logged in", "prefect-ui-unauthenticated.png")  # fmt: skip
    assert flow_run["name"] not in _body_text(browser)
    browser.get(f"{ui}/login")
    password = _wait_for(
        browser,
        lambda driver: next(iter(driver.find_elements(By.CSS_SELECTOR, "input[type='password']")), False),
        "the Prefect UI's login form",
        "prefect-ui-login.png",
    )
    password.send_keys(stack.env["PREFECT_API_AUTH_STRING"] + Keys.ENTER)
    _wait_for(
        browser, lambda driver: "/login" not in driver.current_url, "the login to finish", "prefect-ui-logged-in.png"
    )

    # The flow-run page, exactly the URL the API hands out as flow_run_url.
    browser.get(final["flow_run_url"])
    header = _wait_for(
        browser,
        _text_showing(_header_text, lambda text: flow_run["name"] in text and "Completed" in text),
        f"the run {flow_run['name']!r} in state Completed",
        "prefect-ui-flow-run.png",
    )
    assert flow_run["name"] in header and "Completed" in header, header

    # Its Artifacts tab lists both artifacts, each a link to its own page.
    browser.find_element(By.XPATH, "//li[normalize-space()='Artifacts']").click()

    def artifact_links(driver: WebDriver) -> dict[str, str] | bool:
        """key -> href of the artifact cards in the tab, once both are there (scrolled into view)."""
        cards: dict[str, WebElement] = {}
        for link in driver.find_elements(By.CSS_SELECTOR, "a[href*='/artifacts/artifact/']"):
            for key in (progress_key, outputs_key):
                if key in link.text:
                    cards[key] = link
        if len(cards) < 2:
            return False
        driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", cards[progress_key])
        return {key: card.get_attribute("href") for key, card in cards.items()}

    links = _wait_for(
        browser, artifact_links, f"the artifacts {progress_key} and {outputs_key}", "prefect-ui-flow-run-artifacts.png"
    )

    # The progress artifact's page shows the final progress, and links back to the run. Every
    # part is fetched separately (the run's name comes last), so wait for all of them at once.
    # The failure message quotes the Prefect API's value, to tell a UI problem from a backend one.
    browser.get(links[progress_key])
    progress = re.compile(r"Progress:\s*100(\.0+)?\s*%")
    text = _wait_for(
        browser,
        _text_showing(
            _body_text, lambda text: bool(progress.search(text)) and progress_key in text and flow_run["name"] in text
        ),
        f"{progress_key} with Progress: 100% for the run {flow_run['name']!r} "
        f"(the Prefect API has data={_artifact_data(stack.prefect_api, progress_key)!r} for it)",
        "prefect-ui-progress-artifact.png",
    )
    assert progress.search(text) and progress_key in text and flow_run["name"] in text, text[:3000]

    # The markdown summary's page renders it: "status **OK**" shows as "status OK".
    browser.get(links[outputs_key])
    text = _wait_for(
        browser,
        _text_showing(
            _body_text, lambda text: "status OK" in text and outputs_key in text and flow_run["name"] in text
        ),
        f"{outputs_key} with the rendered summary 'status OK' for the run {flow_run['name']!r}",
        "prefect-ui-outputs-artifact.png",
    )
    assert "status OK" in text and "**OK**" not in text, text[:3000]
