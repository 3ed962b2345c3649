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
from flaskr.blueprints.api.core import Invalid
from flaskr.blueprints.api.core import invalid
from flaskr.blueprints.api.core import read_body
from flaskr.blueprints.api.core import text_field
from flaskr.blueprints.api.core import token_required
from flaskr.blueprints.api.core import unauthorized
from flaskr.blueprints.api.schemas import image_url
from flaskr.blueprints.api.schemas import profile_json
from flaskr.blueprints.api.schemas import user_json
from flaskr.db import db
from flaskr.models import User
from flaskr.plumbing.throttle import failed_form
from flaskr.plumbing.throttle import limiter
from flaskr.services.accounts.login_policy import check_password_attempt
from flaskr.services.accounts.login_policy import log_in_by_address
from flaskr.services.accounts.passwords import password_problem
from flaskr.services.accounts.profiles import bio_problem
from flaskr.services.accounts.profiles import remove_avatar
from flaskr.services.accounts.profiles import update_profile
from flaskr.services.accounts.recovery import email_key
from flaskr.services.accounts.recovery import email_problem
from flaskr.services.accounts.recovery import EmailTakenError
from flaskr.services.accounts.recovery import offer_address
from flaskr.services.accounts.recovery import pending_address
from flaskr.services.accounts.recovery import request_email_change
from flaskr.services.accounts.sessions import issue_api_token
from flaskr.services.accounts.users import change_password
from flaskr.services.accounts.users import find_user
from flaskr.services.accounts.users import held_name_message
from flaskr.services.accounts.users import register_user
from flaskr.services.accounts.users import rename
from flaskr.services.accounts.users import username_problem
from flaskr.services.accounts.users import UsernameHeldError
from flaskr.services.accounts.users import UsernameTakenError
from flaskr.services.base.security_log import log_event
from flaskr.services.base.site import make_first_account_admin
from flaskr.services.social import follows
from flaskr.web.site_links import site_link
from flaskr.web.site_links import token_link_maker
from flaskr.web.users import rename_limit_key


def _shown_email(user: User) -> str:
    """The confirmed address, else the one waiting for its link, else ""."""
    return user.email or pending_address(user) or ""


def _user_response(user: User, token: str, status: int = 200) -> Response:
    response = jsonify({"user": user_json(user, token, _shown_email(user))})
    response.status_code = status
    return response


def _new_token(user: User) -> str:
    token = issue_api_token(user.id, request.headers.get("User-Agent", ""))
    db.session.commit()
    return token


def _problems(checks: dict[str, str | None]) -> None:
    """:raise Invalid: naming every field with a problem."""
    found = {field: [problem] for field, problem in checks.items() if problem}
    if found:
        raise Invalid(found)


@bp.route("/users", methods=["POST"])
@limiter.limit(lambda: current_app.config["REGISTER_LIMITS"])
def register() -> Response:
    """Register, with the HTML form's rules; the address is mailed a link to
    confirm it, as there. Answers with a token: the client is logged in."""
    fields = read_body("user")
    username = text_field(fields, "username", required=True) or ""
    email = text_field(fields, "email", required=True) or ""
    password = text_field(fields, "password", required=True) or ""
    _problems(
        {
            "username": username_problem(username),
            "email": email_problem(email) if email else "Email is required.",
            "password": password_problem(password, username),
        }
    )
    taken = invalid("username", f"User {username} is already registered.")
    if find_user(username) is not None:
        raise taken
    try:
        user = register_user(username, password)
    except UsernameHeldError:
        raise invalid("username", held_name_message(username)) from None
    except UsernameTakenError:
        raise taken from None
    log_event("registered", user_id=user.id, via="api")
    if current_app.config["FIRST_ACCOUNT_IS_ADMIN"] and make_first_account_admin(user):
        log_event("admin_added", user_id=user.id, by="first_account")
    offer_address(
        user,
        email,
        token_link_maker("auth.open_confirm_link"),
        forgot_link=site_link("auth.forgot_password"),
    )
    return _user_response(user, _new_token(user), 201)


@bp.route("/users/login", methods=["POST"])
@limiter.limit(
    lambda: current_app.config["LOGIN_ADDRESS_LIMITS"], deduct_when=failed_form
)
def login() -> Response:
    """Log in by e-mail address and password: the HTML login's lockout and
    limits apply. Each login makes a new token."""
    fields = read_body("user")
    email = text_field(fields, "email", required=True) or ""
    password = text_field(fields, "password", required=True) or ""
    user_id = log_in_by_address(email, password) if email and password else None
    user = db.session.get(User, user_id) if user_id is not None else None
    if user is None:
        raise unauthorized("Incorrect email or password.")
    log_event("login_succeeded", user_id=user.id, via="api")
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
    """Change the username, password, address, bio or picture; what the
    account page's forms would refuse is refused here, and nothing is changed
    unless all of it can be."""
    user: User = g.user
    fields = read_body("user")
    username = text_field(fields, "username")
    password = text_field(fields, "password")
    current_password = text_field(fields, "currentPassword")
    email = text_field(fields, "email")
    bio = text_field(fields, "bio")
    image = fields.get("image")
    if image is not None and not isinstance(image, str):
        raise invalid("image", "image must be a string.")
    renaming = username is not None and username != user.username
    new_address = email is not None and not _is_current_address(user, email)
    _problems(
        {
            "username": username_problem(username) if renaming and username else None,
            "password": password_problem(password, username or user.username)
            if password is not None
            else None,
            "email": email_problem(email) if new_address and email else None,
            "bio": bio_problem(bio) if bio is not None else None,
            "image": None
            if image in (None, "", image_url(user))
            else "Flaskr does not fetch pictures from other sites: upload yours"
            " on your account page.",
        }
    )
    if renaming or password is not None:
        if not current_password:
            raise invalid(
                "currentPassword",
                "Enter your current password to change your username or password.",
            )
        if not check_password_attempt(user, current_password):
            raise invalid("currentPassword", "That is not your current password.")
    if renaming and username:
        _rename(user, username)
    if password is not None:
        change_password(user, password, keep_session=g.api_token_id)
        log_event("password_changed", user_id=user.id, via="api")
    if bio is not None:
        update_profile(
            user,
            display_name=user.display_name or "",
            bio=bio,
            website=user.website or "",
        )
    if image == "":
        remove_avatar(user)
    if new_address and email:
        try:
            request_email_change(
                user, email, token_link_maker("auth.open_confirm_link")
            )
        except EmailTakenError:
            raise invalid("email", "Another account uses that address.") from None
    return _user_response(user, g.api_token)


def _is_current_address(user: User, email: str) -> bool:
    if email_problem(email) is not None:
        return False
    shown = _shown_email(user)
    return bool(shown) and email_key(shown) == email_key(email)


def _rename(user: User, username: str) -> None:
    try:
        rename(user, username)
    except UsernameHeldError:
        raise invalid("username", held_name_message(username)) from None
    except UsernameTakenError:
        raise invalid("username", f"User {username} is already registered.") from None
    log_event("username_changed", user_id=user.id, via="api")


def _profile_of(username: str) -> User:
    """:raise 404: no account has that name."""
    user = find_user(username)
    if user is None:
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
