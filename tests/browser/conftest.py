"""Playwright driving Debian's Chromium (/usr/bin/chromium), headless. No browser download.

Screenshots go to test-artifacts/ (git-ignored). Without Chromium the browser tests are skipped,
unless REQUIRE_BROWSER=1 (as in CI), where a missing browser is a failure.
"""

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="package")
def browser():
    """One Chromium for the browser tests, closed after the last of them.

    Playwright's sync API keeps an event loop running in this thread while it is open, so
    Django would refuse the (synchronous, safe) ORM calls the tests make around it: allow
    them, but only until the browser is closed. (Set for the whole session, the variable
    leaked into later tests, e.g. `check --deploy` run as a subprocess.)
    """
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        if os.environ.get("REQUIRE_BROWSER"):
            pytest.fail(f"Chromium not found at {CHROMIUM}: apt-get install chromium")
        pytest.skip(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with pytest.MonkeyPatch.context() as env, sync_playwright() as pw:
        env.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


@pytest.fixture
def screenshot(page):
    """screenshot(name) saves test-artifacts/<name>.png of the whole page and returns its path;
    screenshot(name, full_page=False) only the visible part (for very long pages)."""
    ARTIFACTS.mkdir(exist_ok=True)

    def take(name: str, full_page: bool = True) -> Path:
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=full_page)
        return path

    return take


@pytest.fixture
def login(page, live_server):
    def do(username: str, password: str):
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", password)
        page.click("button[type=submit]")
        page.wait_for_load_state()

    return do


@pytest.fixture
def demo(tmp_path, monkeypatch, live_server):
    """`seed_demo --products 40` against the demo's own feed server, which it yields."""
    from django.core.management import call_command

    from feeds.demo_server import DemoFeedServer

    server = DemoFeedServer(tmp_path / "demo-feeds").start()
    monkeypatch.setenv("DEMO_FEEDS_DIR", str(tmp_path / "demo-feeds"))
    monkeypatch.setenv("DEMO_FEEDS_URL", server.base_url)
    monkeypatch.setenv("DEMO_SITE_URL", live_server.url)
    call_command("seed_demo", products=40)
    yield server
    server.close()
