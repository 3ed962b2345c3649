"""Pressing Enter in a one-line field of the post form submits the form with
its first button (HTML's implicit submission); that must never publish. With
the editor's script, Enter in the title goes on to the text instead."""

from playwright.sync_api import expect

from tests.browser.helpers import register_and_log_in


def open_settings(page):
    page.get_by_text("Post settings").click()


def test_without_the_script_enter_in_the_title_saves_a_draft(new_page):
    page = new_page(java_script_enabled=False)
    register_and_log_in(page, "hasty")
    page.get_by_role("link", name="Write").click()
    page.get_by_label("Title").fill("Half a tit")
    page.get_by_label("Body").fill("Not finished")
    page.get_by_label("Title").press("Enter")
    expect(page.get_by_role("status").first).to_contain_text("Draft saved")

    stranger = new_page()
    stranger.goto("/")
    expect(stranger.get_by_text("Half a tit")).to_have_count(0)


def test_enter_in_the_tags_of_a_new_post_saves_a_draft(new_page):
    page = new_page()
    register_and_log_in(page, "hasty2")
    page.get_by_role("link", name="Write").click()
    page.get_by_label("Title").fill("Tagged in a hurry")
    open_settings(page)
    page.get_by_label("Tags").fill("half")
    page.get_by_label("Tags").press("Enter")
    expect(page.get_by_role("status").first).to_contain_text("Draft saved")
    expect(page.get_by_text("Draft", exact=True)).to_be_visible()

    stranger = new_page()
    stranger.goto("/")
    expect(stranger.get_by_text("Tagged in a hurry")).to_have_count(0)


def publish_then_edit(page, username, title="Live already"):
    register_and_log_in(page, username)
    page.get_by_role("link", name="Write").click()
    page.get_by_label("Title").fill(title)
    page.get_by_label("Body").fill("Published text")
    page.get_by_role("button", name="Publish").click()
    page.get_by_role("link", name="Edit").first.click()


def test_enter_in_the_tags_of_a_published_post_only_previews(new_page):
    page = new_page()
    publish_then_edit(page, "hasty3")
    page.get_by_label("Title").fill("Live alrea")
    open_settings(page)
    page.get_by_label("Tags").press("Enter")
    expect(page.get_by_role("region", name="Preview (not saved yet)")).to_be_visible()

    stranger = new_page()
    stranger.goto("/")
    expect(stranger.get_by_text("Live already", exact=True)).to_be_visible()
    expect(stranger.get_by_text("Live alrea", exact=True)).to_have_count(0)


def test_without_the_script_enter_in_a_published_title_only_previews(new_page):
    page = new_page(java_script_enabled=False)
    publish_then_edit(page, "hasty4", "Out as is")
    page.get_by_label("Title").fill("Out as i")
    page.get_by_label("Title").press("Enter")
    preview = page.get_by_role("region", name="Preview (not saved yet)")
    expect(preview).to_be_visible()
    # Drawn where it is seen, not below the whole form.
    expect(preview).to_be_in_viewport()

    stranger = new_page()
    stranger.goto("/")
    expect(stranger.get_by_text("Out as is", exact=True)).to_be_visible()
    expect(stranger.get_by_text("Out as i", exact=True)).to_have_count(0)
