"""The sandbox's Confluence page viewer, as a person sees it in a real (headless) Chromium.

A page is published over the REST API as alice, with a heading, a table, status lozenges, a link to
another page, a chart, and attempts to run script; it is then opened at `/pages/<id>` with Basic
credentials answered to the viewer's challenge, and checked in the rendered DOM: what shows, how it
looks (computed colours, the chart's size), where the link leads, that nothing ran, and that a user
outside a read restriction sees "not found" rather than the page.

Set OKRBRIDGE_VIEWER_SCREENSHOT to a file path to keep a full-page screenshot of the rendered page.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from sandbox.server import SandboxServer

from .support import ContextFactory, missing_browser

_REASON = missing_browser()
if _REASON:
    pytest.skip(f"browser tests need headless Chromium: {_REASON}", allow_module_level=True)

from playwright.sync_api import Browser, ConsoleMessage, Dialog, HttpCredentials, Page, Response, expect  # noqa: E402
from playwright.sync_api import Error as PlaywrightError  # noqa: E402

pytestmark = pytest.mark.browser

API = "/wiki/rest/api"
PREFIX = "Browser test: "
TARGET_TITLE = f"{PREFIX}Sales detail"
MAIN_TITLE = f"{PREFIX}Company OKRs"
SECRET_TITLE = f"{PREFIX}Board notes"
SECRET_TEXT = "Acquisition target: Initech"


def _status(colour: str, title: str) -> str:
    """A Confluence status macro (a lozenge)."""
    return (
        f'<ac:structured-macro ac:name="status"><ac:parameter ac:name="colour">{colour}</ac:parameter>'
        f'<ac:parameter ac:name="title">{title}</ac:parameter></ac:structured-macro>'
    )


MAIN_STORAGE = (
    "<h2>Quarter summary</h2>"
    "<p>Where the company stands on its key results.</p>"
    "<table><tbody>"
    "<tr><th>Key result</th><th>Owner</th><th>Status</th></tr>"
    f"<tr><td>CO-1 Grow ARR to 12M</td><td>Bob Baker</td><td>{_status('Green', 'On track')}</td></tr>"
    f"<tr><td>CO-2 Hire 20 engineers</td><td>Dave</td><td>{_status('Red', 'Off track')}</td></tr>"
    "</tbody></table>"
    f'<p>Details: <ac:link><ri:page ri:content-title="{TARGET_TITLE}"/>'
    "<ac:link-body>Sales detail page</ac:link-body></ac:link></p>"
    '<ac:structured-macro ac:name="chart"><ac:parameter ac:name="type">bar</ac:parameter>'
    '<ac:parameter ac:name="title">Grades by month</ac:parameter><ac:rich-text-body><table><tbody>'
    "<tr><th>KR</th><th>Jan</th><th>Feb</th><th>Mar</th></tr>"
    "<tr><td>CO-1</td><td>0.2</td><td>0.5</td><td>0.7</td></tr>"
    "<tr><td>CO-2</td><td>0.1</td><td>0.3</td><td>0.4</td></tr>"
    "</tbody></table></ac:rich-text-body></ac:structured-macro>"
    # Attempts to run script, none of which may survive rendering:
    "<script>window.__pwned = 1; alert('script ran')</script>"
    '<p><img src="/no-such-image.png" onerror="window.__pwned = 2; alert(\'onerror ran\')"/></p>'
    '<p onmouseover="window.__pwned = 3" onclick="alert(\'onclick ran\')">Hover here</p>'
    "<p><a href=\"javascript:window.__pwned = 4; alert('javascript link ran')\">A javascript: link</a></p>"
)


@dataclass(frozen=True)
class Published:
    """Ids of the pages the tests open."""

    main: str
    target: str
    secret: str


def _rest(sandbox: SandboxServer, method: str, path: str, body: Any, login: str = "alice") -> dict[str, Any]:
    """One Confluence REST call as `login` (Basic: email + API token); fails the test unless it is 200."""
    response = requests.request(
        method,
        f"{sandbox.url}{API}/{path}",
        json=body,
        auth=(f"{login}@example.com", f"sandbox-token-{login}"),
        timeout=10,
    )
    assert response.status_code == 200, (method, path, response.status_code, response.text[:500])
    data: dict[str, Any] = response.json() if response.content else {}
    return data


def _create(sandbox: SandboxServer, title: str, storage: str) -> str:
    """Create a page in the OKR space as alice and return its id."""
    body = {
        "type": "page",
        "title": title,
        "space": {"key": "OKR"},
        "body": {"storage": {"value": storage, "representation": "storage"}},
    }
    return str(_rest(sandbox, "POST", "content", body)["id"])


@pytest.fixture(scope="module")
def published(sandbox: SandboxServer) -> Published:
    """The linked-to page, the main page, and a page only okr-executives may read."""
    target = _create(sandbox, TARGET_TITLE, "<p>Pipeline by region.</p>")
    main = _create(sandbox, MAIN_TITLE, MAIN_STORAGE)
    secret = _create(sandbox, SECRET_TITLE, f"<p>{SECRET_TEXT}</p>")
    restriction = [
        {
            "operation": "read",
            "restrictions": {"user": [], "group": [{"type": "group", "name": "okr-executives"}]},
        }
    ]
    _rest(sandbox, "PUT", f"content/{secret}/restriction", restriction)
    return Published(main=main, target=target, secret=secret)


def _rgb(css_colour: str) -> tuple[int, int, int]:
    """(r, g, b) of a computed `rgb(...)` / `rgba(...)` colour."""
    match = re.match(r"rgba?\((\d+),\s*(\d+),\s*(\d+)", css_colour)
    assert match, css_colour
    red, green, blue = (int(part) for part in match.groups())
    return red, green, blue


def _background(page: Page, selector: str) -> tuple[int, int, int]:
    """The computed background colour of the element `selector` matches."""
    return _rgb(page.locator(selector).evaluate("element => getComputedStyle(element).backgroundColor"))


def _open(page: Page, path: str) -> int:
    """Go to `path` and return the HTTP status of the document."""
    response = page.goto(path)
    assert response is not None
    return response.status


def test_the_page_renders_heading_table_lozenges_chart_and_link(
    context_as: ContextFactory, published: Published, tmp_path: Path
) -> None:
    page = context_as("alice").new_page()
    assert _open(page, f"/pages/{published.main}") == 200
    expect(page).to_have_title(f"{MAIN_TITLE} - okrbridge sandbox Confluence")
    expect(page.locator("h1.title")).to_have_text(MAIN_TITLE)
    expect(page.locator("header")).to_contain_text("Signed in as Alice Andersen")

    article = page.locator("article")
    expect(article.locator("h2")).to_have_text("Quarter summary")
    table = article.locator("table").first
    expect(table.locator("th")).to_have_text(["Key result", "Owner", "Status"])
    expect(table.locator("tr")).to_have_count(3)
    expect(table.locator("tr").nth(1).locator("td").first).to_have_text("CO-1 Grow ARR to 12M")

    # Lozenges: visible, upper-case like Confluence's, on clearly different colours.
    green, red = article.locator(".lozenge-green"), article.locator(".lozenge-red")
    expect(green).to_be_visible()
    expect(green).to_have_text("ON TRACK")
    expect(red).to_be_visible()
    expect(red).to_have_text("OFF TRACK")
    g_red, g_green, g_blue = _background(page, "article .lozenge-green")
    r_red, r_green, r_blue = _background(page, "article .lozenge-red")
    assert (g_red, g_green, g_blue) != (r_red, r_green, r_blue)
    assert g_green > g_red + 60 and g_green > g_blue, "the On track lozenge should be green"
    assert r_red > r_green + 60 and r_red > r_blue + 60, "the Off track lozenge should be red"
    assert _rgb(green.evaluate("element => getComputedStyle(element).color")) == (255, 255, 255)

    # The chart macro is an inline SVG that actually takes up room, with one bar per value.
    svg = article.locator("figure.chart svg")
    expect(svg).to_have_count(1)
    expect(svg).to_be_visible()
    box = svg.bounding_box()
    assert box is not None and box["width"] > 50 and box["height"] > 50, box
    assert svg.locator("rect").count() >= 6
    expect(article.locator("figure.chart figcaption")).to_have_text("Grades by month")

    screenshot = page.screenshot(path=tmp_path / "viewer.png", full_page=True)
    assert screenshot.startswith(b"\x89PNG") and len(screenshot) > 10_000
    if os.environ.get("OKRBRIDGE_VIEWER_SCREENSHOT"):
        Path(os.environ["OKRBRIDGE_VIEWER_SCREENSHOT"]).write_bytes(screenshot)

    # The page link leads to the other page in the viewer, credentials and all.
    link = article.get_by_role("link", name="Sales detail page")
    expect(link).to_have_attribute("href", f"/pages/{published.target}")
    link.click()
    page.wait_for_url(f"**/pages/{published.target}")
    expect(page).to_have_title(f"{TARGET_TITLE} - okrbridge sandbox Confluence")
    expect(page.locator("h1.title")).to_have_text(TARGET_TITLE)
    expect(page.locator("article")).to_have_text("Pipeline by region.")


def test_no_script_in_a_page_runs(context_as: ContextFactory, published: Published) -> None:
    page = context_as("alice").new_page()
    dialogs: list[str] = []
    csp_reports: list[str] = []

    def on_dialog(dialog: Dialog) -> None:
        """Record and dismiss any alert (none may appear)."""
        dialogs.append(dialog.message)
        dialog.dismiss()

    def on_console(message: ConsoleMessage) -> None:
        """Record Content-Security-Policy complaints (the renderer should leave CSP nothing to block)."""
        if "Content Security Policy" in message.text:
            csp_reports.append(message.text)

    page.on("dialog", on_dialog)
    page.on("console", on_console)
    assert _open(page, f"/pages/{published.main}") == 200
    page.wait_for_load_state("load")

    article = page.locator("article")
    expect(article.locator("script")).to_have_count(0)
    expect(article.locator("img")).to_have_count(0)
    handlers = article.evaluate(
        "root => [...root.querySelectorAll('*')].flatMap(e => [...e.attributes])"
        ".filter(a => a.name.startsWith('on')).map(a => a.name)"
    )
    assert handlers == []
    # What is left of the attempts is inert: hovering and clicking do nothing.
    hover_me = article.locator("p", has_text="Hover here")
    hover_me.hover()
    hover_me.click()
    javascript_link = article.get_by_text("A javascript: link")
    assert javascript_link.get_attribute("href") is None
    javascript_link.click()
    page.wait_for_timeout(200)

    assert page.evaluate("() => typeof window.__pwned") == "undefined"
    assert dialogs == []
    assert csp_reports == []
    assert page.url.endswith(f"/pages/{published.main}")


def test_the_browser_enforces_the_viewers_script_ban(
    context_as: ContextFactory, published: Published
) -> None:
    """Even a script that got into the DOM would not run: the browser applies the viewer's CSP."""
    page = context_as("alice").new_page()
    assert _open(page, f"/pages/{published.main}") == 200
    outcome = page.evaluate(
        """() => new Promise(resolve => {
            const report = blocked => resolve({ran: window.__injected === 1, blocked});
            document.addEventListener('securitypolicyviolation', event => report(event.violatedDirective));
            const script = document.createElement('script');
            script.textContent = 'window.__injected = 1';
            document.body.appendChild(script);
            setTimeout(() => report(null), 2000);
        })"""
    )
    assert outcome == {"ran": False, "blocked": "script-src-elem"}


def test_a_restricted_page_is_not_found_for_a_user_outside_the_restriction(
    context_as: ContextFactory, published: Published
) -> None:
    frank = context_as("frank").new_page()
    status = _open(frank, f"/pages/{published.secret}")
    assert status in (403, 404)
    expect(frank.locator("h1.title")).to_have_text("Page not found")
    expect(frank.locator("header")).to_contain_text("Signed in as Frank Fischer")
    html = frank.content()
    assert SECRET_TEXT not in html and SECRET_TITLE not in html
    # Nor does the index give it away.
    assert _open(frank, "/pages/") == 200
    expect(frank.locator("main")).to_contain_text(MAIN_TITLE)
    expect(frank.locator("main")).not_to_contain_text(SECRET_TITLE)

    # alice, an executive, reads it (so the 404 above is the restriction, not a broken page).
    alice = context_as("alice").new_page()
    assert _open(alice, f"/pages/{published.secret}") == 200
    expect(alice.locator("article")).to_have_text(SECRET_TEXT)
    expect(alice.locator(".meta .restricted")).to_have_text("Read restricted")


def test_without_valid_credentials_the_browser_is_challenged_and_sees_no_page(
    browser: Browser, sandbox: SandboxServer, published: Published
) -> None:
    # No credentials: the viewer answers the browser with a Basic challenge (a real browser would
    # prompt; headless Chromium under Playwright cancels the navigation instead).
    anonymous = browser.new_context()
    try:
        page = anonymous.new_page()
        answers: list[tuple[int, str | None]] = []

        def on_response(answer: Response) -> None:
            """Record each answer's status and challenge."""
            answers.append((answer.status, answer.headers.get("www-authenticate")))

        page.on("response", on_response)
        with pytest.raises(PlaywrightError, match="ERR_INVALID_AUTH_CREDENTIALS"):
            page.goto(f"{sandbox.url}/pages/{published.main}")
        assert answers == [(401, 'Basic realm="okrbridge-sandbox"')]
    finally:
        anonymous.close()

    # A wrong token: the sign-in page, not the content.
    credentials: HttpCredentials = {"username": "alice@example.com", "password": "not-the-token"}
    wrong = browser.new_context(http_credentials=credentials)
    try:
        page = wrong.new_page()
        assert _open(page, f"{sandbox.url}/pages/{published.main}") == 401
        expect(page.locator("h1.title")).to_have_text("Sign in")
        assert MAIN_TITLE not in page.content()
    finally:
        wrong.close()
