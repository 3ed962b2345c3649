"""The seeded abuse run (``tests/abuse_run.py``) keeps its promise: every
bot refused and every spam comment held, while honest newcomers get in and
no ordinary comment of an established writer waits for a moderator."""

from tests import abuse_run


def test_abuse_run_refuses_bots_holds_spam_and_spares_ordinary_comments(make_app):
    app = make_app(REGISTER_MIN_FILL_SECONDS=abuse_run.MIN_FILL_SECONDS)
    figures = abuse_run.run(app)
    report = "\n".join(figures.lines())

    assert figures.bots == 200
    assert figures.bot_accounts_made == 0, report
    # Refused by the bot checks themselves, each refusal logged with its reason.
    assert sum(figures.bot_reasons.values()) == 200, report
    assert "honeypot" in figures.bot_reasons, report
    assert figures.people_let_in == figures.people == 30, report
    assert figures.spam == 300 and figures.spam_held == 300, report
    assert figures.ordinary == 200, report
    assert figures.ordinary_held == 0, figures.ordinary_held_reasons
    answers = figures.bot_answers + figures.comment_answers
    assert all(status < 500 for status in answers), report
