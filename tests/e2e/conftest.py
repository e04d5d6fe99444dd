"""Browser tests: Playwright drives Debian's Chromium (Playwright cannot download its own
browsers here). Screenshots of the main pages land in test-artifacts/screenshots/."""

import os
from pathlib import Path

import pytest

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


# Noise that says nothing about the project: WhiteNoise notes that STATIC_ROOT was never
# collected (the live server serves static files from the finders instead), and
# pytest-playwright's own fixtures use a pattern pytest 9 deprecates.
QUIET_WARNINGS = [
    "ignore:No directory at:UserWarning",
    "ignore:Session-scoped fixtures defined as instance methods:pytest.PytestRemovedIn10Warning",
]


def pytest_collection_modifyitems(items):
    here = Path(__file__).parent
    for item in items:
        if Path(str(item.fspath)).is_relative_to(here):
            item.add_marker(pytest.mark.browser)
            for spec in QUIET_WARNINGS:
                item.add_marker(pytest.mark.filterwarnings(spec))


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"),
        "args": CHROMIUM_ARGS,
    }


@pytest.fixture
def screenshot(page):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    def take(name: str) -> Path:
        path = ARTIFACTS / f"{name}.png"
        # From the top: scrolled down, a full-page shot draws the sticky header mid-page.
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


# Reports every Content-Security-Policy violation to the test, across navigations. Init
# scripts and bindings are injected by the browser itself, so the page's CSP (no inline
# script) does not block them.
_CSP_LISTENER = """
document.addEventListener("securitypolicyviolation", function (e) {
  window.__reportCspViolation(e.violatedDirective + " blocked " + (e.blockedURI || "inline") + " on " + location.pathname);
});
"""


class BrowserProblems:
    """What went wrong in the page: console errors, uncaught exceptions, CSP violations,
    and failed requests for the site's own static files."""

    def __init__(self, page, live_server):
        self.items: list[str] = []
        self._origin = live_server.url
        page.expose_binding("__reportCspViolation", lambda source, text: self.items.append(f"CSP: {text}"))
        page.add_init_script(_CSP_LISTENER)
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.items.append(f"page error: {error}"))
        page.on("response", self._response)

    def _console(self, message):
        if message.type == "error":
            self.items.append(f"console: {message.text} ({message.location.get('url', '')})")

    def _response(self, response):
        if response.url.startswith(self._origin + "/static/") and response.status >= 400:
            self.items.append(f"static file {response.url} answered {response.status}")

    def expect_none(self):
        found, self.items[:] = list(self.items), []
        assert not found, "problems in the browser:\n" + "\n".join(found)

    def forget(self):
        """Drop problems a test caused on purpose (a 404 page logs a failed load)."""
        self.items.clear()


@pytest.fixture
def problems(page, live_server):
    """Collects browser problems; every test using it fails if any are left at the end."""
    collected = BrowserProblems(page, live_server)
    yield collected
    collected.expect_none()


@pytest.fixture
def login(page, live_server):
    """Log in through the login form as a user of tests/conftest.py (password "correct-horse-battery")."""

    def do(username: str, password: str = "correct-horse-battery"):
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", password)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(f"{live_server.url}/")
        assert page.locator("details.menu summary").inner_text() == username

    return do
