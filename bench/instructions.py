"""Count the CPU instructions one login takes besides its password check, in
Flaskr and in the two yardstick logins of ``hello.py``, with valgrind's
cachegrind. Requests per second on a shared machine move by 10% between runs;
an instruction count is the same on every run, so it shows what a change to
the login's code did. It cannot show what cold caches cost (bench/README.md).

Run it through ``./bench/run instructions``. Each login runs in-process on
SQLite, through the whole WSGI app as gunicorn would call it, with the check
replaced by one that always matches; the check is counted on its own.
"""

from __future__ import annotations

import gc
import io
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).parent
LOGINS = 100
#: Logins before the counted ones: the first requests fill caches and pools.
WARM_UP = 20
KINDS = {
    "log in": "flaskr",
    "log in, floor": "floor",
    "log in, bare Flask": "bare",
}
FORM = b"username=demo1&password=demo+password"


def _environ(path: str) -> dict[str, object]:
    """A login POST as gunicorn hands it to the app (the headers wrk sends)."""
    return {
        "REQUEST_METHOD": "POST",
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "REMOTE_PORT": "40000",
        "HTTP_HOST": "127.0.0.1:8000",
        "CONTENT_TYPE": "application/x-www-form-urlencoded",
        "CONTENT_LENGTH": str(len(FORM)),
        "wsgi.input": io.BytesIO(FORM),
        "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        "wsgi.version": (1, 0),
    }


def _log_in(kind: str, count: int) -> None:
    """Run ``WARM_UP + count`` logins of ``kind`` (in the counted process)."""
    sys.path.insert(0, str(HERE))
    import hello  # the yardsticks, and a check at Flaskr's settings

    if kind == "check":
        for _ in range(count):
            hello.passwords.verify(hello.stored_hash, "demo password")
        return
    # Left out of the count: the check is the same in every login.
    hello.Passwords.verify = lambda self, stored, password: (True, False)  # type: ignore[method-assign]
    if kind == "flaskr":
        from flaskr import create_app

        app, path = create_app(), "/auth/login"
    else:
        app, path = hello.app, ("/floor/login" if kind == "floor" else "/auth/login")

    gc.freeze()  # as gunicorn.conf.py does once a worker has loaded the app

    def start_response(status: str, headers: object, exc_info: object = None) -> None:
        if not status.startswith("302"):
            raise RuntimeError(f"{kind}: the login answered {status}")

    for _ in range(WARM_UP + count):
        body = app(_environ(path), start_response)
        b"".join(body)
        getattr(body, "close", lambda: None)()


def _instructions(kind: str, count: int, env: dict[str, str]) -> int:
    """Instructions valgrind counted in a process that ran ``count`` logins."""
    result = subprocess.run(  # noqa: S603
        [  # noqa: S607 (valgrind from the PATH, as bench/run installs it)
            "valgrind", "--tool=cachegrind", "--cache-sim=no",
            "--cachegrind-out-file=/dev/null",
            sys.executable, __file__, "--child", kind, str(count),
        ],
        env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    refs = re.search(r"I\s+refs:\s+([\d,]+)", result.stderr)
    if refs is None:
        raise RuntimeError(f"no count from valgrind:\n{result.stderr}")
    return int(refs.group(1).replace(",", ""))


def per_login(kind: str, env: dict[str, str], count: int = LOGINS) -> float:
    """Instructions per login: the difference between a process that ran
    ``count`` more logins and one that ran none, so start-up cancels out."""
    return (_instructions(kind, count, env) - _instructions(kind, 0, env)) / count


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        _log_in(sys.argv[2], int(sys.argv[3]))
        return
    sys.path.insert(0, str(HERE))  # run as a script with PYTHONSAFEPATH
    import run

    with tempfile.TemporaryDirectory() as folder:
        env = {
            **os.environ,
            "FLASKR_INSTANCE_PATH": folder,
            **run.FLASKR_SETTINGS,  # as bench/run serves Flaskr
            "YARDSTICK_DATABASE_URL": f"sqlite:///{folder}/yardstick.sqlite",
            # The same dictionaries' layout in every run.
            "PYTHONHASHSEED": "0",
        }
        flask = [sys.executable, "-m", "flask", "--app", "flaskr"]
        for command in (["init-db", "--yes"], ["seed-demo", "--posts", "10"]):
            subprocess.run(  # noqa: S603
                [*flask, *command], env=env, check=True, capture_output=True
            )
        print(f"instructions per login besides the password check ({LOGINS} logins):")
        for name, kind in KINDS.items():
            print(f"  {name:<20}{per_login(kind, env):>12,.0f}")
        print(f"  {'(the check itself)':<20}{per_login('check', env, 3):>12,.0f}")


if __name__ == "__main__":
    main()
