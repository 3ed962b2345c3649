"""``flask --app flaskr check-deploy``: report settings unsafe in production."""

from __future__ import annotations

import os

import click
from flask import current_app
from flask import Flask
from flask.cli import with_appcontext

from flaskr.services.social.hold_rules import RULES


def unsafe_settings(app: Flask, *, servers: int, workers: int) -> list[str]:
    """What is unsafe about ``app``'s settings for ``servers`` machines each
    running ``workers`` processes; empty if nothing is."""
    config = app.config
    problems = []
    if app.debug:
        problems.append(
            "Debug mode is on: the Werkzeug debugger runs any code a visitor"
            " sends it. Unset FLASK_DEBUG."
        )
    if not config["HTTPS"]:
        problems.append(
            "HTTPS is off: passwords and session cookies cross the network in"
            " the clear. Serve the site over HTTPS and set FLASKR_HTTPS=true."
        )
    elif not config["TRUSTED_PROXY_HOPS"]:
        problems.append(
            "HTTPS is on but FLASKR_TRUSTED_PROXY_HOPS is 0: behind a proxy that"
            " ends TLS, every request looks like plain http and is redirected."
            " Set it to the number of proxies in front of Flaskr."
        )
    if servers > 1 and config.get("SECRET_KEY_FROM_INSTANCE_FILE"):
        problems.append(
            "The secret key was generated in this server's instance folder:"
            " other servers have their own, so sessions fail between them. Give"
            " every server the same FLASKR_SECRET_KEY."
        )
    if servers > 1 and config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        problems.append(
            "Several servers cannot share a SQLite file. Use PostgreSQL:"
            " FLASKR_DATABASE_URL=postgresql+psycopg://..."
        )
    if not config["RATELIMIT_ENABLED"]:
        problems.append(
            "Throttling is off (RATELIMIT_ENABLED): passwords can be guessed fast."
        )
    elif servers * workers > 1 and config["RATELIMIT_STORAGE_URI"].startswith("memory"):
        problems.append(
            f"Throttling counts in each process's memory, but {servers * workers}"
            " processes serve the site, so each allows the full rate. Set"
            " FLASKR_REDIS_URL=redis://... (kept pages are then shared there too)"
            " or FLASKR_RATELIMIT_STORAGE_URI"
        )
    if not config["MAIL_SERVER"]:
        problems.append(
            "No MAIL_SERVER: mails (password resets) are only written to the log."
            " Set FLASKR_MAIL_SERVER and the other MAIL_* settings."
        )
    elif not config["SITE_URL"]:
        problems.append(
            "Mail is configured but SITE_URL is not: links in mails need the"
            " site's address (they never use a request's Host). Set"
            " FLASKR_SITE_URL=https://..."
        )
    elif config["HTTPS"] and not str(config["SITE_URL"]).startswith("https://"):
        problems.append("SITE_URL is not an https:// address, but the site is.")
    if not config.get("WTF_CSRF_ENABLED", True):
        problems.append("CSRF protection is off (WTF_CSRF_ENABLED).")
    unknown = sorted(
        {name.strip() for name in str(config["COMMENT_HOLD_RULES"]).split(",")}
        - {"", *RULES}
    )
    if unknown:
        problems.append(
            f"COMMENT_HOLD_RULES names rules that do not exist: {', '.join(unknown)}"
            f" (the rules: {', '.join(RULES)})."
        )
    if not config["REGISTER_MIN_FILL_SECONDS"]:
        problems.append(
            "REGISTER_MIN_FILL_SECONDS is 0: registrations are not timed, so bots"
            " that leave the hidden field empty get accounts."
        )
    return problems


@click.command("check-deploy")
@click.option(
    "--servers",
    type=int,
    default=1,
    show_default=True,
    help="Machines serving the site.",
)
@click.option(
    "--workers",
    type=int,
    default=lambda: int(os.environ.get("WEB_CONCURRENCY", 1)),
    show_default="$WEB_CONCURRENCY or 1",
    help="Worker processes on each machine.",
)
@with_appcontext
def check_deploy_command(servers: int, workers: int) -> None:
    """Report settings that are unsafe for a production site."""
    problems = unsafe_settings(current_app, servers=servers, workers=workers)
    for problem in problems:
        click.echo(f"- {problem}")
    if problems:
        raise click.exceptions.Exit(1)
    click.echo("No unsafe settings found.")
