"""What the browser tests share: an account's password, logging in, the
account menu, a picture to choose. Fixtures stay in ``conftest.py``."""

import io
import json
import re
import typing as t
from pathlib import Path

from PIL import Image as Pillow
from playwright.sync_api import expect

#: axe-core, installed by ``./dev.sh browser`` (npm).
AXE = Path(__file__).parent / "node_modules" / "axe-core" / "axe.min.js"
#: Every rule of WCAG 2.0, 2.1 and 2.2 A and AA, and axe's best practices.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]

#: The password of every account the browser tests register.
PASSWORD = "a browser-tested passphrase"


def log_in(page, username):
    """Log an account registered with ``PASSWORD`` in on ``page``."""
    page.goto("/auth/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in", exact=True).click()
    expect(page.locator("main")).to_be_visible()


def open_account_menu(page):
    """Open the header's account menu, where Drafts, Account and Log out are."""
    menu = page.locator(".account-menu")
    if menu.get_attribute("open") is None:
        page.locator(".account-button").click()
    expect(menu.locator(".menu-panel")).to_be_visible()


def register_and_log_in(page, username):
    """Register ``username`` with ``PASSWORD`` on ``page``, and log in."""
    page.goto("/auth/register")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Register").click()
    expect(page).to_have_url(re.compile(r"/auth/login$"))
    expect(page.get_by_role("status")).to_contain_text("Your account is ready")

    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in", exact=True).click()
    # In the header's account menu, which shows only when it is opened.
    expect(page.get_by_text(f"Logged in as {username}")).to_be_attached()


def picture(tmp_path, name="sunset.png"):
    """A PNG photo-sized picture in ``tmp_path``, for a file input."""
    path = tmp_path / name
    buffer = io.BytesIO()
    Pillow.new("RGB", (320, 240), (230, 120, 40)).save(buffer, "PNG")
    path.write_bytes(buffer.getvalue())
    return path


def loaded(image):
    """Whether the browser loaded and decoded ``image`` (not a broken icon)."""
    return image.evaluate("e => e.complete && e.naturalWidth > 0")


def axe_violations(page) -> str:
    """What axe-core (added to the page's context as an init script) finds
    wrong with ``page``, described for a failure message; empty if nothing."""
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", AXE_TAGS
    )
    violations: list[dict[str, t.Any]] = result["violations"]
    if not violations:
        return ""
    return json.dumps(
        [
            {
                "rule": found["id"],
                "help": found["help"],
                "nodes": [node["target"] for node in found["nodes"]][:5],
                "why": [node["failureSummary"] for node in found["nodes"]][:2],
            }
            for found in violations
        ],
        indent=1,
    )
