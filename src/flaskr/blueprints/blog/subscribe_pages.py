"""Following by e-mail: the form on the home, post, author and Subscribe
pages, and the pages its mailed links open (confirm, preferences, leave).

The form sits on pages the page cache shares between visitors, which must
make no session (``tests/test_page_cache.py``), so for a visitor it carries
no CSRF token: it acts for nobody (it reads no session, and only mails the
address typed a link to confirm), other sites' posts are still refused by
the ``Origin`` and ``Sec-Fetch-Site`` check, and the honeypot, the signed
fill-time stamp and the limits per client and per address bound what a bot
can do. A logged-in reader's form carries a token, checked here.

A link from a mail is opened with a GET, which changes nothing (mail
scanners open links): it shows a button, and the POST does the work. The
unsubscribe link's POST is also RFC 8058's one-click unsubscribe, which a
mail program sends from anywhere without a token, so that one endpoint is
exempt from both the CSRF token and the cross-site check.
"""

from __future__ import annotations

import typing as t

from flask import abort
from flask import current_app
from flask import flash
from flask import Flask
from flask import g
from flask import make_response
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask.blueprints import BlueprintSetupState
from werkzeug import Response
from wtforms import SelectChoice  # type: ignore[attr-defined]

from flaskr.blueprints.blog.forms import PreferencesForm
from flaskr.blueprints.blog.forms import SUBSCRIBE_PREFIX as PREFIX
from flaskr.blueprints.blog.forms import SubscribeForm
from flaskr.blueprints.blog.views import bp
from flaskr.models import Subscriber
from flaskr.models import User
from flaskr.plumbing.kept_pages import kept_per_visitor
from flaskr.plumbing.kept_pages import shows_reactions_of
from flaskr.plumbing.protection import open_endpoint_to_other_sites
from flaskr.plumbing.throttle import limiter
from flaskr.services.base import roles
from flaskr.services.base.addresses import email_key
from flaskr.services.base.errors import Invalid
from flaskr.services.base.mail import deliver_due_mail
from flaskr.services.social import subscriber_links
from flaskr.services.social import subscriptions
from flaskr.web.bot_check import form_started_stamp
from flaskr.web.bot_check import refused_as_bot
from flaskr.web.bot_check import REFUSED_MESSAGE
from flaskr.web.bot_check import SUBSCRIBE
from flaskr.web.shared_forms import ButtonForm
from flaskr.web.shared_forms import INVALID_FORM
from flaskr.web.shared_forms import show_problems
from flaskr.web.users import safe_next

#: Pages opened from a mailed link keep the link out of other sites' logs.
NO_REFERRER = {"Referrer-Policy": "no-referrer"}


def _for_visitor() -> dict[str, t.Any]:
    """The form's CSRF setting: a token only for a logged-in reader."""
    return {"csrf": g.user is not None}


def new_subscribe_form(author: User | None = None) -> SubscribeForm:
    """An empty follow form for ``author``'s posts (the site's if ``None``),
    stamped now; templates call it (``subscribe_form``)."""
    form = SubscribeForm(formdata=None, prefix=PREFIX, meta=_for_visitor())
    form.to.data = subscriptions.follow_value(author)
    form.form_started.data = form_started_stamp(SUBSCRIBE)
    return form


def may_subscribe_with_account(user: User | None) -> bool:
    """Whether ``user`` follows with one button (their confirmed address)."""
    return user is not None and user.email is not None and roles.may_take_part(user)


bp.add_app_template_global(new_subscribe_form, "subscribe_form")
bp.add_app_template_global(may_subscribe_with_account, "may_subscribe_with_account")
bp.add_app_template_global(subscriptions.may_be_followed, "may_be_followed_by_mail")


@bp.route("/subscribe")
@kept_per_visitor
def subscribe() -> str:
    """How to follow the site: by e-mail, its feeds, each writer's and tag's."""
    shows_reactions_of(())
    form = new_subscribe_form()
    return render_template("blog/subscribe.html", form=form, author=None)


def _target(value: str) -> User | None:
    """The writer (or ``None``, the site) a ``to`` or ``follow`` value names.

    :raise 400: it names nobody who may be followed.
    """
    found = subscriptions.followed_by_value(value)
    if found is False:
        abort(400, description="This writer cannot be followed by e-mail.")
    return found


def _address_key() -> str:
    """Throttling per address subscribed, however it is spelled."""
    typed = request.form.get(f"{PREFIX}-email", "").strip()[:320]
    try:
        return "subscribe:" + email_key(typed)
    except ValueError:  # not an address: the form refuses it anyway
        return "subscribe:" + typed.lower()


def _mail_sent(response: Response) -> bool:
    """For ``deduct_when``: only a request that mailed a link counts against
    its address."""
    return response.status_code == 200


@bp.route("/subscribe", methods=["POST"], endpoint="request_subscription")
@limiter.limit(lambda: current_app.config["SUBSCRIBE_LIMITS"], methods=["POST"])
@limiter.limit(
    lambda: current_app.config["SUBSCRIBE_ADDRESS_LIMITS"],
    methods=["POST"],
    key_func=_address_key,
    deduct_when=_mail_sent,
)
def request_subscription() -> Response | tuple[str, int]:
    """Mail a link to confirm following the site or a writer. The answer is
    the same page, after the same work, whether or not the address follows
    anything here (no enumeration): the look-up and the mail happen after
    the response, as "Forgot your password?" does."""
    if g.user is not None:
        current_app.extensions["csrf"].protect()  # 400 without the session's token
    form = SubscribeForm(prefix=PREFIX, meta=_for_visitor())
    author = _target(form.to.data)
    if refused_as_bot(form.homepage.data, form.form_started.data, SUBSCRIBE):
        form.form_errors.append(REFUSED_MESSAGE)
        return _form_again(form, author), 400
    if not form.validate():
        return _form_again(form, author), INVALID_FORM
    address, follow = form.email.data, form.to.data
    app = current_app._get_current_object()  # type: ignore[attr-defined]

    def record_and_mail() -> None:
        with app.app_context():
            target = subscriptions.followed_by_value(follow)
            if target is False:
                return  # the writer stopped writing in the last moment
            subscriptions.request_subscription(address, target)
            deliver_due_mail()

    page = render_template(
        "blog/subscribe_sent.html",
        address=address,
        target=subscriptions.target_name(author),
    )
    response = make_response(page)
    response.call_on_close(record_and_mail)
    return response


def _form_again(form: SubscribeForm, author: User | None) -> str:
    form.homepage.data = ""
    form.form_started.data = form_started_stamp(SUBSCRIBE)
    return render_template("blog/subscribe.html", form=form, author=author)


@bp.route("/subscribe/account", methods=["POST"])
@limiter.limit(lambda: current_app.config["SUBSCRIBE_LIMITS"], methods=["POST"])
def subscribe_with_account() -> Response:
    """Follow the site or a writer with the account's confirmed address, in
    one step; back to the page the button was on."""
    if g.user is None:
        abort(403, description="Log in to follow with your account's address.")
    if not ButtonForm().validate():
        abort(400)
    author = _target(request.form.get("to", "")[:40])
    subscriber = subscriptions.subscribe_account(g.user, author)
    flash(
        f"New posts of {subscriptions.target_name(author)} will be mailed to"
        f" {subscriber.email}. Each mail has a link to change that or stop."
    )
    back = safe_next(request.form.get("next", ""))
    return redirect(back or url_for("blog.index"))


def _subscriber_or_gone(token: str, purpose: str) -> Subscriber:
    """The subscriber a mailed link names.

    :raise 410: the link is not ours, or its subscriber left (or was removed).
    """
    subscriber = subscriptions.subscriber_for_link(token, purpose)
    if subscriber is None:
        page = render_template("blog/subscribe_link_invalid.html")
        abort(Response(page, 410, NO_REFERRER, mimetype="text/html"))
    return subscriber


@bp.route("/subscribe/confirm/<token>", methods=("GET", "POST"))
def confirm_subscription(token: str) -> Response | tuple[str, int, dict[str, str]]:
    """Confirm following by e-mail: the GET shows a button (mail scanners open
    links), its POST confirms."""
    subscriber = _subscriber_or_gone(token, subscriber_links.CONFIRM)
    author = _target(request.args.get("follow", subscriptions.SITE)[:40])
    form = ButtonForm()
    if form.validate_on_submit():
        subscriptions.confirm(subscriber, author)
        flash(
            f"Done: new posts of {subscriptions.target_name(author)} will be"
            f" mailed to {subscriber.email}."
        )
        manage = subscriber_links.token(subscriber, subscriber_links.MANAGE)
        response = redirect(url_for("blog.manage_subscription", token=manage))
        response.headers.update(NO_REFERRER)
        return response
    already = subscriptions.follows(subscriber, author)
    page = render_template(
        "blog/subscribe_confirm.html",
        form=form,
        subscriber=subscriber,
        target=subscriptions.target_name(author),
        already=already,
        manage_token=subscriber_links.token(subscriber, subscriber_links.MANAGE),
    )
    return page, 200, NO_REFERRER


@bp.route("/subscribe/manage/<token>", methods=("GET", "POST"))
def manage_subscription(token: str) -> Response | tuple[str, int, dict[str, str]]:
    """A subscriber's mail preferences: what they follow, how often."""
    subscriber = _subscriber_or_gone(token, subscriber_links.MANAGE)
    following = subscriptions.following_of(subscriber)
    form = PreferencesForm()
    form.writers.choices = [
        SelectChoice(str(user.id), user.shown_name) for user in following.writers
    ]
    if not form.is_submitted():
        form.site.data = [subscriptions.SITE] if following.site else []
        form.writers.data = [str(user.id) for user in following.writers]
        form.cadence.data = subscriber.cadence
    elif form.validate():
        try:
            still = subscriptions.save_preferences(
                subscriber,
                site=subscriptions.SITE in (form.site.data or []),
                writer_ids=[
                    int(value)
                    for value in form.writers.data or []
                    if value.isdigit() and len(value) < 19
                ],
                cadence=form.cadence.data or "",
            )
        except Invalid as refusal:
            show_problems(form, refusal)
        else:
            if not still:
                return _left_page(), 200, NO_REFERRER
            flash("Your mail preferences are saved.")
            response = redirect(url_for("blog.manage_subscription", token=token))
            response.headers.update(NO_REFERRER)
            return response
    page = render_template(
        "blog/subscribe_manage.html",
        form=form,
        subscriber=subscriber,
        following=following,
        leave_token=subscriber_links.token(subscriber, subscriber_links.UNSUBSCRIBE),
    )
    return page, (INVALID_FORM if form.errors else 200), NO_REFERRER


def _left_page() -> str:
    return render_template("blog/subscribe_left.html")


@bp.route("/subscribe/unsubscribe/<token>", methods=("GET", "POST"))
def unsubscribe(token: str) -> tuple[str, int, dict[str, str]]:
    """Leave: the GET (the link in each mail) shows one button; the POST,
    from that button or from a mail program (RFC 8058 one-click), stops all
    mail and forgets the address. No login, no token of a session."""
    subscriber = _subscriber_or_gone(token, subscriber_links.UNSUBSCRIBE)
    if request.method == "POST":
        subscriptions.unsubscribe(subscriber)
        return _left_page(), 200, NO_REFERRER
    page = render_template("blog/subscribe_unsubscribe.html", subscriber=subscriber)
    return page, 200, NO_REFERRER


def _open_to_mail_programs(state: BlueprintSetupState) -> None:
    """RFC 8058: mail programs POST the unsubscribe link without a CSRF token
    and from anywhere; nothing else is opened so."""
    app = t.cast(Flask, state.app)
    app.extensions["csrf"].exempt(unsubscribe)
    # The visitor's follow form has no token (see the module); a logged-in
    # reader's token is checked in the view.
    app.extensions["csrf"].exempt(request_subscription)
    open_endpoint_to_other_sites(app, "blog.unsubscribe")


bp.record_once(_open_to_mail_programs)
