from playwright.sync_api import expect

from tests.browser.helpers import open_account_menu
from tests.browser.helpers import PASSWORD
from tests.browser.helpers import register_and_log_in

NEW_PASSWORD = "another browser-tested passphrase"


def log_in(page, username, password):
    page.goto("/auth/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def test_password_change_logs_out_the_other_browser(new_page, screenshot):
    laptop = new_page(user_agent="Laptop browser")
    register_and_log_in(laptop, "traveller")
    phone = new_page(user_agent="Phone browser")
    log_in(phone, "traveller", PASSWORD)
    expect(phone.get_by_text("Logged in as traveller")).to_be_attached()

    open_account_menu(laptop)
    laptop.get_by_role("link", name="Account").click()
    sessions = laptop.get_by_role("list", name="Where you are logged in")
    expect(sessions).to_contain_text("Laptop browser")
    expect(sessions).to_contain_text("Phone browser")
    screenshot(laptop, "1-account")

    laptop.get_by_label("Current password").fill(PASSWORD)
    laptop.get_by_label("New password").fill(NEW_PASSWORD)
    laptop.get_by_role("button", name="Change password").click()
    expect(laptop.get_by_role("status")).to_contain_text("Your password is changed")
    expect(
        laptop.get_by_role("list", name="Where you are logged in")
    ).not_to_contain_text("Phone browser")
    screenshot(laptop, "2-changed")

    phone.reload()
    expect(phone.get_by_role("link", name="Log in")).to_be_visible()
    expect(phone.get_by_text("Logged in as")).to_have_count(0)
    screenshot(phone, "3-phone-logged-out")

    log_in(phone, "traveller", NEW_PASSWORD)
    expect(phone.get_by_text("Logged in as traveller")).to_be_attached()


def test_strict_csp_breaks_nothing(new_page):
    page = new_page()
    errors = []
    page.on("console", lambda message: errors.append(message.text))
    for path in ("/", "/auth/login", "/auth/register", "/no/such/page"):
        response = page.goto(path)
        policy = response.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in policy
        # The site's own stylesheet loads under the policy: the page is styled.
        weight = page.evaluate(
            "getComputedStyle(document.querySelector('.site-name')).fontWeight"
        )
        assert weight == "700", path
    violations = [text for text in errors if "Content Security Policy" in text]
    assert violations == []
