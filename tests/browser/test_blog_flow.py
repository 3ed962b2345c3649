import re

from playwright.sync_api import expect

from tests.browser.helpers import open_account_menu
from tests.browser.helpers import register_and_log_in


def test_register_write_edit_delete_log_out(new_page, screenshot):
    page = new_page()
    register_and_log_in(page, "reader")
    screenshot(page, "1-logged-in")

    page.get_by_role("link", name="Write").click()
    page.get_by_label("Title").fill("Hello from Chromium")
    page.get_by_label("Body").fill("First line\nSecond line <b>not bold</b>")
    screenshot(page, "2-writing")
    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello from Chromium")
    body = page.get_by_role("article")
    expect(body).to_contain_text(
        "First line\nSecond line <b>not bold</b>", use_inner_text=True
    )
    screenshot(page, "3-published")

    page.locator(".site-name").click()
    article = page.get_by_role("article").filter(has_text="Hello from Chromium")
    # A card's one link is its title; editing is on the post's page.
    expect(article.get_by_role("link", name=re.compile("^Edit"))).to_have_count(0)
    article.get_by_role("link", name="Hello from Chromium").click()
    page.get_by_role("link", name="Edit", exact=True).click()
    page.get_by_label("Title").fill("Hello, edited")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello, edited")
    # "updated" shows only when the edit came on a later day.
    expect(page.locator(".author-block")).not_to_contain_text("updated")
    screenshot(page, "4-edited")

    page.get_by_role("link", name="Edit", exact=True).click()
    page.get_by_role("link", name="Delete this post…").click()
    screenshot(page, "5-confirm-delete")
    page.get_by_role("button", name="Move to trash").click()
    expect(page.get_by_role("status")).to_contain_text(
        "Moved “Hello, edited” to the trash"
    )
    expect(page.get_by_role("heading", name="Hello, edited")).to_have_count(0)

    open_account_menu(page)
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("link", name="Log in")).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("You have been logged out")
    screenshot(page, "6-logged-out")


def test_form_errors_are_tied_to_their_fields(new_page, screenshot):
    page = new_page()
    page.goto("/auth/register")
    page.get_by_label("Username").fill("has spaces")
    page.get_by_label("Password").fill("password")
    page.get_by_role("button", name="Register").click()
    username = page.get_by_label("Username")
    expect(username).to_have_attribute("aria-invalid", "true")
    expect(username).to_have_accessible_description(re.compile("may contain only"))
    expect(page.get_by_label("Password")).to_have_accessible_description(
        re.compile("most commonly used")
    )
    screenshot(page, "register-errors")


def test_keyboard_skip_link_and_focus(new_page):
    page = new_page()
    page.goto("/")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    outline = skip.evaluate("e => getComputedStyle(e).outlineStyle")
    assert outline != "none"


def test_phone_and_dark_scheme(new_page, screenshot):
    page = new_page(viewport={"width": 375, "height": 740}, color_scheme="dark")
    register_and_log_in(page, "phone")
    # The heading shows before the stylesheet's revalidation ends; measure
    # the styled page, not the bare HTML.
    page.wait_for_load_state("load")
    expect(page.locator("body")).to_have_css("background-color", "rgb(21, 23, 26)")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, "the page scrolls sideways on a phone"
    screenshot(page, "phone-dark")
