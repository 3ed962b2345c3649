import re

from playwright.sync_api import expect

from tests.browser.helpers import open_account_menu
from tests.browser.helpers import register_and_log_in

BODY = """# A heading

Some *emphasis*, a [link](https://example.org) and <b>raw html</b>.

- first
- second
"""


def test_draft_preview_publish_search_tag(new_page, screenshot):
    page = new_page()
    register_and_log_in(page, "writer")

    page.get_by_role("link", name="Write").click()
    page.get_by_label("Title").fill("Markdown in the browser")
    page.get_by_label("Body").fill(BODY)
    page.get_by_text("Post settings").click()
    page.get_by_label("Tags").fill("Browser Tests, markdown")
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_role("status")).to_contain_text("Draft saved")
    expect(page.get_by_text("Draft", exact=True)).to_be_visible()

    # Nobody else sees the draft.
    stranger = new_page()
    stranger.goto("/")
    expect(stranger.get_by_text("Markdown in the browser")).to_have_count(0)

    open_account_menu(page)
    page.get_by_role("link", name="Drafts").click()
    page.get_by_role("link", name="Edit").first.click()
    page.get_by_role("button", name="Preview").click()
    preview = page.get_by_role("region", name="Preview (not saved yet)")
    expect(preview.get_by_role("heading", name="A heading")).to_be_visible()
    expect(preview.locator("em")).to_have_text("emphasis")
    expect(preview).to_contain_text("<b>raw html</b>")
    screenshot(page, "1-preview")

    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_role("status")).to_contain_text("Your post is published")
    expect(page.get_by_role("link", name="#browser-tests")).to_be_visible()
    screenshot(page, "2-published")

    page.get_by_role("navigation", name="Site").get_by_role(
        "link", name="Search"
    ).click()
    page.get_by_role("searchbox", name="Search posts").fill("emphasis heading")
    page.get_by_role("button", name="Search").click()
    expect(page).to_have_url(re.compile(r"/search\?q=emphasis"))
    hit = page.get_by_role("article").first
    expect(hit.locator("mark").first).to_be_visible()
    screenshot(page, "3-search")
    hit.get_by_role("link", name="Markdown in the browser").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Markdown in the browser")

    page.get_by_role("link", name="#markdown").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Posts tagged #markdown")
    screenshot(page, "4-tag")

    stranger.goto("/")
    stranger.get_by_role("link", name="Markdown in the browser", exact=True).click()
    article = stranger.get_by_role("article")
    expect(article.get_by_role("heading", name="A heading")).to_be_visible()
    expect(article.get_by_role("link", name="link")).to_have_attribute(
        "href", "https://example.org"
    )
    expect(article.locator(".body").get_by_role("listitem")).to_have_count(2)
    screenshot(stranger, "5-read-by-a-stranger")
