"""Accounts and profiles in the JSON API: register, log in, the current user,
profiles, follows. The rules and messages are the HTML site's services'."""

from __future__ import annotations

from flask import current_app
from flask import g
from flask import jsonify
from flask import request
from werkzeug import Response
from werkzeug.exceptions import NotFound

from flaskr.blueprints.api.core import bp
from flaskr.blueprints.api.core import read_body
from flaskr.blueprints.api.core import text_field
from flaskr.blueprints.api.core import token_required
from flaskr.blueprints.api.core import unauthorized
from flaskr.blueprints.api.schemas import image_url
from flaskr.blueprints.api.schemas import profile_json
from flaskr.blueprints.api.schemas import user_json
from flaskr.db import db
from flaskr.models import User
from flaskr.models.governance import WITHDRAWN_STATES
from flaskr.plumbing.throttle import failed_form
from flaskr.plumbing.throttle import limiter
from flaskr.services.accounts import users as accounts
from flaskr.services.accounts.directory import find_user
from flaskr.services.accounts.login_policy import log_in_by_address
from flaskr.services.accounts.sessions import start_api_session
from flaskr.services.accounts.users import AccountUpdate
from flaskr.services.accounts.users import AddressLinks
from flaskr.services.accounts.users import shown_address
from flaskr.services.social import follows
from flaskr.web.site_links import site_link
from flaskr.web.site_links import token_link_maker
from flaskr.web.users import rename_limit_key


def _user_response(user: User, token: str, status: int = 200) -> Response:
    response = jsonify({"user": user_json(user, token, shown_address(user))})
    response.status_code = status
    return response


def _new_token(user: User) -> str:
    return start_api_session(user.id, request.headers.get("User-Agent", ""))


def _address_links() -> AddressLinks:
    return AddressLinks(
        confirm=token_link_maker("auth.open_confirm_link"),
        forgot=site_link("auth.forgot_password"),
    )


@bp.route("/users", methods=["POST"])
@limiter.limit(lambda: current_app.config["REGISTER_LIMITS"])
def register() -> Response:
    """Register, with the HTML form's rules; the address is mailed a link to
    confirm it, as there. Answers with a token: the client is logged in.
    Only while anyone may join: otherwise 403, and people register on the
    website (``accounts.register_api_client``)."""
    fields = read_body("user")
    user, token = accounts.register_api_client(
        text_field(fields, "username") or "",
        text_field(fields, "password") or "",
        text_field(fields, "email") or "",
        links=_address_links(),
        user_agent=request.headers.get("User-Agent", ""),
    )
    return _user_response(user, token, 201)


@bp.route("/users/login", methods=["POST"])
@limiter.limit(
    lambda: current_app.config["LOGIN_ADDRESS_LIMITS"], deduct_when=failed_form
)
def login() -> Response:
    """Log in by e-mail address and password: the HTML login's lockout and
    limits apply. Each login makes a new token. An account that is not
    active (suspended, removed, waiting for approval), or that has a second
    factor (which this login cannot ask for), gets a 403 saying why."""
    fields = read_body("user")
    email = text_field(fields, "email", required=True) or ""
    password = text_field(fields, "password", required=True) or ""
    user_id = (
        log_in_by_address(
            email,
            password,
            via="api",
            waiting_allowed=False,
            second_step_possible=False,
        )
        if email and password
        else None
    )
    user = db.session.get(User, user_id) if user_id is not None else None
    if user is None:
        raise unauthorized("Incorrect email or password.")
    return _user_response(user, _new_token(user))


@bp.route("/user")
@token_required
def current_user() -> Response:
    """The user the token is for, with that token."""
    return _user_response(g.user, g.api_token)


def _not_renaming() -> bool:
    """For ``exempt_when``: the request keeps the username, so the rename
    limit does not apply to it."""
    body = request.get_json(silent=True)
    fields = body.get("user") if isinstance(body, dict) else None
    return not isinstance(fields, dict) or fields.get("username") in (
        None,
        getattr(g.get("user"), "username", None),
    )


@bp.route("/user", methods=["PUT"])
@limiter.shared_limit(
    lambda: current_app.config["RENAME_LIMITS"],
    scope="rename",  # shared with the account page's renames
    key_func=rename_limit_key,
    exempt_when=_not_renaming,
    deduct_when=lambda response: response.status_code == 200,
)
@token_required
def update_current_user() -> Response:
    """Change the username, password, address, bio or picture: all of them
    or, if any is refused, none (``accounts.update_account``)."""
    user: User = g.user
    fields = read_body("user")
    update = AccountUpdate(
        username=text_field(fields, "username"),
        password=text_field(fields, "password"),
        current_password=text_field(fields, "currentPassword"),
        email=text_field(fields, "email"),
        bio=text_field(fields, "bio"),
        image=text_field(fields, "image"),
    )
    accounts.update_account(
        user,
        update,
        image_address=image_url(user),
        links=_address_links(),
        keep_session=g.api_token_id,
        via="api",
    )
    return _user_response(user, g.api_token)


def _profile_of(username: str) -> User:
    """:raise 404: no account has that name, or it is suspended or removed."""
    user = find_user(username)
    if user is None or user.state in WITHDRAWN_STATES:
        raise NotFound(f"There is no user {username}.")
    return user


def _profile_response(user: User) -> Response:
    following = follows.is_following(g.user, user)
    return jsonify({"profile": profile_json(user, following=following)})


@bp.route("/profiles/<username>")
def profile(username: str) -> Response:
    """A profile; ``following`` says whether the token's user follows it."""
    return _profile_response(_profile_of(username))


@bp.route("/profiles/<username>/follow", methods=["POST", "DELETE"])
@token_required
def follow(username: str) -> Response:
    """Follow a user (POST) or stop (DELETE); again: no change. Nobody follows
    themselves (422)."""
    user = _profile_of(username)
    if request.method == "POST":
        follows.follow(g.user, user)
    else:
        follows.unfollow(g.user, user)
    return _profile_response(user)
