"""Passkeys' doors: JSON endpoints for each ceremony (``static/passkeys.js``
calls them) and the security page's forms that rename and remove one.

Each ceremony is two POSTs: the options (a new challenge, kept in the server
session with its purpose and time) and the browser's answer (the challenge
taken back out: it is spent whether or not the answer is good). Errors are
JSON under ``/auth/passkey`` (``{"errors": {field: [message]}}``).
"""

from __future__ import annotations

import datetime as dt
import functools
import ipaddress
import time
import typing as t
from urllib.parse import urlsplit

from flask import current_app
from flask import flash
from flask import Flask
from flask import g
from flask import jsonify
from flask import redirect
from flask import request
from flask import session
from flask import url_for
from flask.blueprints import BlueprintSetupState
from werkzeug import Response

from flaskr.blueprints.auth.forms import PasskeyNameForm
from flaskr.blueprints.auth.recovery_pages import RESET_TOKEN
from flaskr.blueprints.auth.security_pages import security_page
from flaskr.blueprints.auth.views import bp
from flaskr.plumbing.errors import answer_in_json
from flaskr.plumbing.errors import json_errors
from flaskr.plumbing.throttle import failed_form
from flaskr.plumbing.throttle import limiter
from flaskr.services.accounts import passkeys
from flaskr.services.accounts import recovery_codes
from flaskr.services.accounts.recovery import account_to_reset
from flaskr.services.accounts.second_factor import has_second_factor
from flaskr.services.accounts.second_factor import is_recent
from flaskr.services.accounts.second_factor import method_of
from flaskr.services.accounts.second_factor import PASSKEY
from flaskr.services.accounts.second_factor import PASSWORD
from flaskr.services.base.errors import Invalid
from flaskr.services.base.errors import NotAllowed
from flaskr.services.base.mail import site_title
from flaskr.web.shared_forms import ButtonForm
from flaskr.web.users import end_second_step
from flaskr.web.users import fresh_confirmation_required
from flaskr.web.users import mark_confirmed
from flaskr.web.users import note_passkey_verified
from flaskr.web.users import recently_confirmed
from flaskr.web.users import safe_next
from flaskr.web.users import second_step_pending
from flaskr.web.users import start_user_session

#: Where the JSON endpoints live: their errors are JSON too.
JSON_PREFIX = "/passkey"

#: How long a challenge may wait for the browser's answer.
CHALLENGE_LIFETIME = dt.timedelta(minutes=2)

#: Session key: the one challenge waiting for an answer in this browser.
_CHALLENGE = "passkey_challenge"

NOT_OFFERED = (
    "Passkeys are not offered on this site: its address (SITE_URL) is not set,"
    " or is not a domain name."
)
NO_CHALLENGE = "This passkey request expired or was already answered. Try again."

LOG_IN_AGAIN = "Log in again: the first step was not done, or took too long."

JsonAnswer = tuple[Response, int] | Response


def relying_party() -> passkeys.RelyingParty | None:
    """The site as passkeys know it, from ``SITE_URL``; ``None`` without one,
    or when its host is an IP address (browsers bind passkeys to domains)."""
    site_url = current_app.config["SITE_URL"]
    if not site_url:
        return None
    parts = urlsplit(str(site_url))
    host = parts.hostname or ""
    if not host or _is_ip_address(host):
        return None
    origin = f"{parts.scheme}://{host}"
    if parts.port is not None and (parts.scheme, parts.port) not in (
        ("http", 80),
        ("https", 443),
    ):
        origin += f":{parts.port}"
    return passkeys.RelyingParty(id=host, name=site_title(), origin=origin)


def _is_ip_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def passkeys_offered() -> bool:
    """Whether pages offer passkeys (templates ask)."""
    return relying_party() is not None


def passkey_way_offered() -> bool:
    """Whether this page offers to prove who you are with a passkey (the
    button's template asks): the site offers passkeys and, but for the
    login page, the account the page is for has one."""
    if not passkeys_offered():
        return False
    if request.endpoint == "auth.login":
        return True
    user = None
    if request.endpoint == "auth.second_step":
        pending = second_step_pending()
        user = pending[0] if pending else None
    elif request.endpoint == "auth.confirm_identity":
        user = g.user
    elif request.endpoint == "auth.reset_password_page":
        token = session.get(RESET_TOKEN, "")
        user = account_to_reset(token) if isinstance(token, str) and token else None
    return user is not None and passkeys.has_passkey(user)


def _error(field: str, message: str, status: int) -> JsonAnswer:
    return _problems({field: [message]}, status)


def _problems(problems: dict[str, list[str]], status: int) -> JsonAnswer:
    answer: JsonAnswer = json_errors(problems, status)
    return answer


def _body() -> dict[str, t.Any] | None:
    body = request.get_json(silent=True)
    return body if isinstance(body, dict) else None


def _keep_challenge(purpose: str, ceremony: passkeys.Ceremony) -> Response:
    """Keep ``ceremony``'s challenge for ``purpose`` (replacing any other)
    and answer with its options."""
    # Imported here, as in services.accounts.passkeys: a worker whose readers
    # never touch a passkey never loads webauthn.
    from webauthn.helpers import bytes_to_base64url

    session[_CHALLENGE] = {
        "purpose": purpose,
        "challenge": bytes_to_base64url(ceremony.challenge),
        "at": time.time(),
    }
    return jsonify(ceremony.options)


def _take_challenge(purpose: str) -> bytes | None:
    """The challenge kept for ``purpose`` in this browser, spent by asking;
    ``None`` if none, if it was for something else, or if it is too old."""
    from webauthn.helpers import base64url_to_bytes

    kept = session.pop(_CHALLENGE, None)
    if not isinstance(kept, dict) or kept.get("purpose") != purpose:
        return None
    if not is_recent(kept.get("at"), CHALLENGE_LIFETIME, time.time()):
        return None
    try:
        return base64url_to_bytes(str(kept.get("challenge")))
    except ValueError:
        return None


class _Refused(Exception):
    """A request the endpoint answers with a JSON error."""

    def __init__(self, answer: JsonAnswer) -> None:
        super().__init__()
        self.answer = answer


def _rp() -> passkeys.RelyingParty:
    rp = relying_party()
    if rp is None:
        raise _Refused(_error("body", NOT_OFFERED, 409))
    return rp


def _answer(purpose: str) -> tuple[passkeys.RelyingParty, bytes, object]:
    """The site, the spent challenge and the browser's answer of a verify
    request."""
    rp = _rp()
    challenge = _take_challenge(purpose)
    body = _body()
    if body is None or "credential" not in body:
        raise _Refused(_error("body", "Send the passkey's answer as JSON.", 400))
    if challenge is None:
        raise _Refused(_error("body", NO_CHALLENGE, 400))
    return rp, challenge, body["credential"]


def _refusals(view: t.Callable[..., JsonAnswer]) -> t.Callable[..., JsonAnswer]:
    """Answer the service's refusals and :class:`_Refused` in JSON."""

    @functools.wraps(view)
    def wrapped(**kwargs: t.Any) -> JsonAnswer:
        try:
            return view(**kwargs)
        except _Refused as refused:
            return refused.answer
        except Invalid as refusal:
            return _problems(refusal.problems, 422)
        except NotAllowed as refusal:
            return _error("body", str(refusal), 403)

    return wrapped


def _verify_limit(view: t.Callable[..., JsonAnswer]) -> t.Callable[..., JsonAnswer]:
    """Throttle a verify endpoint as the login is: refused answers count."""
    limited: t.Callable[..., JsonAnswer] = limiter.limit(
        lambda: current_app.config["LOGIN_ADDRESS_LIMITS"],
        deduct_when=failed_form,
    )(view)
    return limited


def _signed_in() -> t.Any:
    """The logged-in user, freshly confirmed (adding a passkey changes how
    the account logs in)."""
    if g.user is None:
        raise _Refused(_error("body", "Log in first.", 401))
    if not recently_confirmed():
        raise _Refused(
            _error("body", "Confirm it is you again, then add the passkey.", 403)
        )
    return g.user


# Adding a passkey (the security page).


@bp.post(JSON_PREFIX + "/register/options", endpoint="security_passkey_options")
@_refusals
def register_options() -> JsonAnswer:
    """Options to make a passkey; the name is checked first, so a wrong one
    does not cost a trip to the authenticator."""
    user = _signed_in()
    rp = _rp()
    body = _body() or {}
    Invalid.collect({"name": passkeys.name_problem(str(body.get("name") or ""))})
    return _keep_challenge("register", passkeys.registration_options(user, rp))


@bp.post(JSON_PREFIX + "/register", endpoint="security_passkey_register")
@_refusals
def register() -> JsonAnswer:
    """Keep the new passkey. The answer says whether the account has no
    recovery codes yet (the page then makes them)."""
    user = _signed_in()
    rp, challenge, credential = _answer("register")
    name = str((_body() or {}).get("name") or "")
    passkeys.register(user, rp, challenge, credential, name)
    flash(f"The passkey “{name.strip()}” is added.")
    return jsonify(
        # No #fragment: from the same page, the browser would only scroll.
        redirect=url_for("auth.security"),
        make_recovery_codes=recovery_codes.left(user) == 0,
    )


# Logging in with a passkey alone (discoverable: no name typed).


@bp.post(JSON_PREFIX + "/login/options", endpoint="passkey_login_options")
@_refusals
def login_options() -> JsonAnswer:
    return _keep_challenge("login", passkeys.login_options(_rp()))


@bp.post(JSON_PREFIX + "/login", endpoint="passkey_login")
@_verify_limit
@_refusals
def login() -> JsonAnswer:
    """Log in with a passkey, then go where the login page was going."""
    rp, challenge, credential = _answer("login")
    user = passkeys.authenticate(rp, challenge, credential, purpose=passkeys.LOGIN)
    start_user_session(user.id, PASSKEY)
    target = safe_next(str((_body() or {}).get("next") or ""))
    return jsonify(redirect=target or url_for("index"))


# The second step of a login after the password.


def _pending_user() -> t.Any:
    pending = second_step_pending()
    if pending is None:
        raise _Refused(_error("body", LOG_IN_AGAIN, 400))
    return pending


@bp.post(JSON_PREFIX + "/second-step/options", endpoint="passkey_second_step_options")
@_refusals
def second_step_options() -> JsonAnswer:
    user, _ = _pending_user()
    return _keep_challenge("second step", passkeys.login_options(_rp(), user))


@bp.post(JSON_PREFIX + "/second-step", endpoint="passkey_second_step")
@_verify_limit
@_refusals
def second_step() -> JsonAnswer:
    """Finish a login whose password was right with one of its passkeys."""
    user, next_path = _pending_user()
    rp, challenge, credential = _answer("second step")
    try:
        passkeys.authenticate(
            rp, challenge, credential, user, purpose=passkeys.SECOND_STEP
        )
    except NotAllowed:
        end_second_step()
        raise
    end_second_step()
    start_user_session(user.id, method_of(PASSWORD, PASSKEY))
    return jsonify(redirect=safe_next(next_path) or url_for("index"))


# Confirming it is you before a risky change.


def _logged_in() -> t.Any:
    if g.user is None:
        raise _Refused(_error("body", "Log in first.", 401))
    return g.user


@bp.post(JSON_PREFIX + "/confirm/options", endpoint="passkey_confirm_options")
@_refusals
def confirm_options() -> JsonAnswer:
    return _keep_challenge("confirm", passkeys.login_options(_rp(), _logged_in()))


@bp.post(JSON_PREFIX + "/confirm", endpoint="passkey_confirm")
@_verify_limit
@_refusals
def confirm() -> JsonAnswer:
    """Confirm it is you with one of your passkeys, then go back."""
    user = _logged_in()
    rp, challenge, credential = _answer("confirm")
    passkeys.authenticate(rp, challenge, credential, user, purpose=passkeys.CONFIRM)
    mark_confirmed()
    target = safe_next(str((_body() or {}).get("next") or ""))
    return jsonify(redirect=target or url_for("auth.security"))


# A password reset's second step.


def _reset_user() -> t.Any:
    token = session.get(RESET_TOKEN, "")
    user = account_to_reset(token) if isinstance(token, str) and token else None
    if user is None or not has_second_factor(user):
        raise _Refused(_error("body", "Open the reset link from the mail again.", 400))
    return user


@bp.post(JSON_PREFIX + "/reset/options", endpoint="passkey_reset_options")
@_refusals
def reset_options() -> JsonAnswer:
    return _keep_challenge("reset", passkeys.login_options(_rp(), _reset_user()))


@bp.post(JSON_PREFIX + "/reset", endpoint="passkey_reset")
@_verify_limit
@_refusals
def reset() -> JsonAnswer:
    """Prove the reset link's account is yours with one of its passkeys; the
    reset form sent next may then change the password."""
    user = _reset_user()
    rp, challenge, credential = _answer("reset")
    passkeys.authenticate(rp, challenge, credential, user, purpose=passkeys.RESET)
    note_passkey_verified(user.id)
    return jsonify(verified=True)


# Renaming and removing (forms on the security page).


@bp.post(
    "/account/security/passkeys/<id:passkey_id>/rename",
    endpoint="security_passkey_rename",
)
@fresh_confirmation_required
def rename(passkey_id: int) -> Response | tuple[str, int, dict[str, str]]:
    """Give a passkey a new name."""
    form = PasskeyNameForm(prefix=f"passkey-{passkey_id}")
    if form.validate():
        try:
            passkeys.rename(g.user, passkey_id, form.name.data)
        except Invalid as refusal:
            # Not one of yours: no form on the page to show it beside.
            for message in refusal.problems.get("passkey", []):
                flash(message)
            form.name.errors = refusal.problems.get("name", [])
        else:
            flash("The passkey is renamed.")
            return redirect(url_for("auth.security", _anchor="passkeys"))
    return security_page(sent_back=True, passkey_form=form, passkey_id=passkey_id)


@bp.post(
    "/account/security/passkeys/<id:passkey_id>/remove",
    endpoint="security_passkey_remove",
)
@fresh_confirmation_required
def remove(passkey_id: int) -> Response | tuple[str, int, dict[str, str]]:
    """Remove a passkey: it no longer logs in."""
    if not ButtonForm().validate():
        return security_page(sent_back=True)
    try:
        name = passkeys.remove(g.user, passkey_id)
    except Invalid as refusal:
        flash(str(refusal))
        return security_page(sent_back=True)
    flash(f"The passkey “{name}” is removed: it no longer logs in.")
    return redirect(url_for("auth.security", _anchor="passkeys"))


@bp.record_once
def _set_up(state: BlueprintSetupState) -> None:
    app = t.cast(Flask, state.app)
    answer_in_json(app, (bp.url_prefix or "") + JSON_PREFIX)
    app.add_template_global(passkeys_offered)
    app.add_template_global(passkey_way_offered)
