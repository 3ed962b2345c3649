"""What the browser tests share: an account's password, logging in, the
account menu, a picture to choose. Fixtures stay in ``conftest.py``."""

import io
import re

from PIL import Image as Pillow
from playwright.sync_api import expect

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
