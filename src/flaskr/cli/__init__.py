"""Commands for the ``flask`` command line: set-up, demo content, maintenance.

Each command is a thin shell over the services, like a view: it reads its
arguments, calls a use case (which commits) and says what happened. Two
commit themselves (docs/architecture.md, "Who commits"): ``seed-demo`` and
``send-test-mail``.
"""

from __future__ import annotations

from flask import Flask

from flaskr.cli.admin import make_admin_command
from flaskr.cli.admin import set_role_command
from flaskr.cli.demo import seed_demo_command
from flaskr.cli.deploy_check import check_deploy_command
from flaskr.cli.export import export_command
from flaskr.cli.export import import_command
from flaskr.cli.federation import deliver_federation_command
from flaskr.cli.federation import federation_group
from flaskr.cli.mail import deliver_events_command
from flaskr.cli.mail import send_digests_command
from flaskr.cli.mail import send_mail_command
from flaskr.cli.mail import send_test_mail_command
from flaskr.cli.maintenance import end_sessions_command
from flaskr.cli.maintenance import optimize_search_command
from flaskr.cli.maintenance import purge_events_command
from flaskr.cli.maintenance import purge_sessions_command
from flaskr.cli.maintenance import purge_trash_command
from flaskr.cli.maintenance import render_posts_command
from flaskr.cli.static_copy import export_static_command


def init_app(app: Flask) -> None:
    for command in (
        make_admin_command,
        set_role_command,
        seed_demo_command,
        check_deploy_command,
        export_command,
        import_command,
        export_static_command,
        end_sessions_command,
        optimize_search_command,
        purge_sessions_command,
        purge_events_command,
        purge_trash_command,
        render_posts_command,
        send_mail_command,
        deliver_events_command,
        send_digests_command,
        send_test_mail_command,
        deliver_federation_command,
        federation_group,
    ):
        app.cli.add_command(command)
