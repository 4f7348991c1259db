"""The built site in a real browser: Debian's Chromium driven by pytest-playwright.

``make test`` runs these after the strict site build, against ``site/``, served on 127.0.0.1.
Playwright's own browser download does not work here, so the tests launch the system Chromium
(``QED_CHROMIUM``, default ``/usr/bin/chromium``) headless, with background networking off. Without
it they are skipped with one line saying what to install.

Every test's page is watched: a request to any host but the local server is blocked and recorded,
and a console error or an uncaught exception is recorded; either fails the test.
Screenshots go to ``build/screenshots/`` (test artifacts).
"""

from __future__ import annotations

import functools
import os
import shutil
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]
SITE = Path(os.environ.get("QED_SITE_DIR", ROOT / "site"))
SCREENSHOTS = ROOT / "build" / "screenshots"
CHROMIUM = os.environ.get("QED_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
# What the environment probe found Chromium needs on a machine with a closed network.
CHROMIUM_ARGS = [
    "--no-sandbox",  # CI runs as root
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


NO_BROWSER = (
    None if Path(CHROMIUM).is_file()
    else f"no Chromium at {CHROMIUM}: install Debian's chromium (apt-get install chromium) or set QED_CHROMIUM"
)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if NO_BROWSER:
        pytest.skip(NO_BROWSER)
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "headless": True, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def base_url():
    """Pages are opened by full address. Defined here, pytest-playwright's own fallback fixture (an
    instance method, which pytest 9 deprecates with a warning) is never used."""
    return None


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": {"width": 1280, "height": 900}, "locale": "en-US"}


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


@pytest.fixture(scope="session")
def site_url():
    """The built site/ served on 127.0.0.1 (an ephemeral port) for the whole session."""
    if not (SITE / "index.html").is_file():
        pytest.fail(f"no built site at {SITE}: run `make site` (or mkdocs build) first", pytrace=False)
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(SITE)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()


class Watch:
    """What a page did that it must not: requests to other hosts, console errors, uncaught exceptions."""

    def __init__(self):
        self.external: list[str] = []
        self.errors: list[str] = []


@pytest.fixture
def watch(page, site_url):
    local = urlsplit(site_url).netloc
    seen = Watch()

    def route(route):
        url = route.request.url
        parts = urlsplit(url)
        if parts.scheme in ("data", "blob", "about") or parts.netloc == local:
            route.continue_()
        else:
            seen.external.append(url)
            route.abort()

    page.route("**/*", route)
    page.on("console", lambda message: message.type == "error" and seen.errors.append(f"console: {message.text}"))
    page.on("pageerror", lambda error: seen.errors.append(f"uncaught: {error}"))
    yield seen
    assert seen.external == [], f"requests left localhost: {seen.external[:5]}"
    assert seen.errors == [], f"errors on the page: {seen.errors[:5]}"


@pytest.fixture
def site(page, site_url, watch):
    """A watched page and a function that opens a site path in it."""

    def open(path: str = ""):
        response = page.goto(site_url + path)
        assert response is not None and response.ok, f"{path}: HTTP {response and response.status}"
        page.wait_for_load_state("load")
        return page

    return open


def screenshot(page, name: str, **options) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), animations="disabled", **options)  # no half-finished header transitions
    return path
