"""A profile, made in Chromium: a name, a bio with a link, and a picture that
shows on the author page and in bylines."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.helpers import loaded
from tests.browser.helpers import open_account_menu
from tests.browser.helpers import picture
from tests.browser.helpers import register_and_log_in


def test_a_profile_with_a_picture_and_a_bio(new_page, screenshot, tmp_path):
    page = new_page()
    register_and_log_in(page, "portrait")
    page.get_by_role("link", name="Write").click()
    page.get_by_label("Title").fill("A post with my face on it")
    page.get_by_role("button", name="Publish").click()

    open_account_menu(page)
    page.get_by_role("link", name="Account").click()
    page.get_by_label("Name", exact=True).fill("Pat Portrait")
    page.get_by_label("Bio").fill(
        "I paint *faces*. More at https://portraits.example/gallery"
    )
    page.get_by_label("Website").fill("portraits.example")
    page.get_by_role("button", name="Save profile").click()
    expect(page.get_by_role("status")).to_contain_text("Your profile is saved")

    page.get_by_label("Picture").set_input_files(picture(tmp_path, "face.png"))
    page.get_by_role("button", name="Upload picture").click()
    expect(page.get_by_role("status")).to_contain_text("Your picture is changed")
    preview = page.locator(".avatar-preview img.avatar")
    expect(preview).to_have_attribute("src", re.compile(r"^/avatars/\d+\.webp$"))
    assert loaded(preview)
    screenshot(page, "1-account")

    reader = new_page()
    reader.goto("/u/portrait")
    expect(reader.get_by_role("heading", level=1)).to_have_text("Pat Portrait")
    expect(reader.locator(".profile .handle")).to_have_text("@portrait")
    bio = reader.locator(".bio")
    expect(bio.locator("em")).to_have_text("faces")
    expect(bio.get_by_role("link")).to_have_attribute(
        "href", "https://portraits.example/gallery"
    )
    expect(
        reader.get_by_role("link", name="portraits.example", exact=True)
    ).to_be_visible()
    large = reader.locator(".profile img.avatar")
    expect(large).to_have_attribute("width", "96")
    assert loaded(large)
    screenshot(reader, "2-author-page")

    reader.goto("/")
    article = reader.get_by_role("article").filter(has_text="A post with my face on it")
    expect(article.locator(".meta-author")).to_contain_text("Pat Portrait")
    small = article.locator("img.avatar")
    expect(small).to_have_attribute("src", re.compile(r"^/avatars/\d+/small\.webp$"))
    assert loaded(small)
    screenshot(reader, "3-byline")
