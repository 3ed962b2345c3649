"""Export and import at scale: ``./bench/run export-import [--posts N]``.

Seeds (or reuses) a SQLite site of N demo posts in ``bench/work/``, exports
it with ``flask export``, imports the file into an empty site with
``flask import``, and prints each command's wall time and peak resident
memory (``/usr/bin/time -v``), and the export's size.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).parent
WORK = HERE / "work"
SETTINGS = {
    "FLASKR_SECRET_KEY": "bench-" + "k" * 40,
    "FLASKR_RATELIMIT_ENABLED": "false",
    "FLASKR_ACCESS_LOG_LEVEL": "WARNING",
    "FLASKR_SECURITY_LOG_LEVEL": "WARNING",
}


def flask(instance: Path, *args: str) -> tuple[float, float]:
    """Run a flask command on the site in ``instance``; its seconds and peak
    resident memory in MB."""
    env = {**os.environ, **SETTINGS, "FLASKR_INSTANCE_PATH": str(instance)}
    command = [sys.executable, "-m", "flask", "--app", "flaskr", *args]
    started = time.monotonic()
    result = subprocess.run(  # noqa: S603 (our own command line)
        ["/usr/bin/time", "-v", *command],  # noqa: S607
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.monotonic() - started
    if result.returncode not in (0, 1):  # 1: an import with failed items
        raise RuntimeError(f"{args}: {result.stderr[-2000:]}")
    peak = re.search(r"Maximum resident set size \(kbytes\): (\d+)", result.stderr)
    last = [line for line in result.stdout.splitlines() if line.strip()][-6:]
    print(f"  {' '.join(args[:1])}: " + " | ".join(last))
    return seconds, int(peak.group(1)) / 1024 if peak else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--posts", type=int, default=100_000)
    args = parser.parse_args()
    source = WORK / f"{args.posts}-posts"
    if not (source / "flaskr.sqlite").exists():
        source.mkdir(parents=True, exist_ok=True)
        flask(source, "init-db", "--yes")
        print(
            f"seed-demo {args.posts:,} posts: %.0f s, %.0f MB"
            % flask(source, "seed-demo", "--posts", str(args.posts))
        )
    archive = WORK / f"export-{args.posts}.zip"
    seconds, peak = flask(source, "export", str(archive))
    size = archive.stat().st_size / 1024**2
    print(f"export: {seconds:.0f} s, peak {peak:.0f} MB, {size:.0f} MB zip")
    target = WORK / f"import-{args.posts}"
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    flask(target, "init-db", "--yes")
    seconds, peak = flask(target, "import", str(archive))
    print(f"import: {seconds:.0f} s, peak {peak:.0f} MB")


if __name__ == "__main__":
    main()
