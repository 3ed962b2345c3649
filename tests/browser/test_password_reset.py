"""Forgot your password, end to end in Chromium: the links are read from the
mails a real SMTP server (aiosmtpd on 127.0.0.1) received."""

from __future__ import annotations

import re
import threading
import typing as t

import pytest
from playwright.sync_api import Browser
from playwright.sync_api import expect
from werkzeug.serving import make_server

from flaskr import create_app
from flaskr.db import db
from flaskr.schema import init_db
from tests.browser.helpers import open_account_menu
from tests.browser.helpers import PASSWORD
from tests.browser.helpers import register_and_log_in
from tests.conftest import make_config
from tests.conftest import SmtpServer
from tests.helpers import free_port

NEW_PASSWORD = "another browser-tested passphrase"


class MailSite(t.NamedTuple):
    url: str
    smtp: SmtpServer


@pytest.fixture(scope="module")
def mail_site(tmp_path_factory: pytest.TempPathFactory) -> t.Iterator[MailSite]:
    smtp = SmtpServer(free_port())
    smtp.start()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    folder = tmp_path_factory.mktemp("mail-site")
    app = create_app(
        make_config(
            f"sqlite:///{folder / 'flaskr.sqlite'}",
            MAIL_SERVER="127.0.0.1",
            MAIL_PORT=smtp.port,
            SITE_URL=url,
            # Werkzeug's server skips a response's close() when the client
            # resets the connection, so a mail may wait for the timer's next
            # look (started by the first request; under gunicorn close()
            # always runs).
            BACKGROUND_INTERVAL=0.5,
        )
    )
    with app.app_context():
        init_db()
        db.engine.dispose()
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield MailSite(url, smtp)
    server.shutdown()
    thread.join()
    smtp.stop()


def link_in_last_mail(smtp: SmtpServer, to: str) -> str:
    mails = [m for m in smtp.inbox.messages if m["To"] == to]
    text = mails[-1].get_body(("plain",)).get_content()
    [link] = re.findall(r"http://127\.0\.0\.1:\d+/auth/\S+", text)
    return link


def wait_for_mail(smtp: SmtpServer, to: str, count: int) -> None:
    expect_count = lambda: sum(m["To"] == to for m in smtp.inbox.messages)  # noqa: E731
    for _ in range(100):
        if expect_count() >= count:
            return
        threading.Event().wait(0.05)
    got = [m["To"] for m in smtp.inbox.messages]
    raise AssertionError(f"{count} mails to {to} did not arrive: {got}")


def test_forgot_password_end_to_end(browser: Browser, mail_site, screenshot):
    context = browser.new_context(base_url=mail_site.url)
    page = context.new_page()
    register_and_log_in(page, "forgetful")

    open_account_menu(page)
    page.get_by_role("link", name="Account").click()
    expect(page.get_by_text("Add an e-mail address so you can reset")).to_be_visible()
    page.get_by_role("textbox", name="E-mail address").fill("forgetful@example.org")
    page.get_by_role("button", name="Add address").click()
    expect(page.get_by_role("status")).to_contain_text("We sent a link")
    wait_for_mail(mail_site.smtp, "forgetful@example.org", 1)
    page.goto(link_in_last_mail(mail_site.smtp, "forgetful@example.org"))
    page.get_by_role("button", name="Confirm the address").click()
    expect(page.get_by_role("status")).to_contain_text("is now the address")
    open_account_menu(page)
    page.get_by_role("button", name="Log out", exact=True).click()

    page.goto("/auth/login")
    page.get_by_role("link", name="Forgot your password?").click()
    page.get_by_label("Username or e-mail address").fill("Forgetful@example.org")
    page.get_by_role("button", name="Mail me a link").click()
    expect(page.get_by_role("heading", name="Check your mail")).to_be_visible()
    screenshot(page, "reset-requested")
    wait_for_mail(mail_site.smtp, "forgetful@example.org", 2)
    link = link_in_last_mail(mail_site.smtp, "forgetful@example.org")

    page.goto(link)
    expect(page).to_have_url(re.compile(r"/auth/reset$"))  # the token left the URL
    page.get_by_label("New password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Set the new password").click()
    expect(page.get_by_role("status")).to_contain_text("Your password is changed")

    page.get_by_label("Username").fill("forgetful")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_text("Incorrect username or password.")).to_be_visible()
    page.get_by_label("Username").fill("forgetful")
    page.get_by_label("Password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_text("Logged in as forgetful")).to_be_attached()

    # The link is spent.
    page.goto(link)
    expect(
        page.get_by_role("heading", name="This link no longer works")
    ).to_be_visible()
    context.close()
