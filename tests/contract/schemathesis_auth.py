"""Schemathesis hooks: authenticate its requests with a token from Flaskr's own
login (``SCHEMATHESIS_HOOKS=tests.contract.schemathesis_auth``).

The account is registered by the test before the run and named in the
environment (``FLASKR_FUZZ_EMAIL``, ``FLASKR_FUZZ_PASSWORD``).
"""

from __future__ import annotations

import os
import typing as t

import requests
import schemathesis


@schemathesis.auth()
class FlaskrToken:
    """Logs in once per run (and again if the token is refused)."""

    def get(self, case: t.Any, context: t.Any) -> str:
        base = os.environ["FLASKR_FUZZ_URL"]
        user = {
            "email": os.environ["FLASKR_FUZZ_EMAIL"],
            "password": os.environ["FLASKR_FUZZ_PASSWORD"],
        }
        response = requests.post(
            f"{base}/api/users/login", json={"user": user}, timeout=10
        )
        response.raise_for_status()
        return str(response.json()["user"]["token"])

    def set(self, case: t.Any, data: str, context: t.Any) -> None:
        case.headers = case.headers or {}
        case.headers["Authorization"] = f"Token {data}"
