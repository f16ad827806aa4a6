"""`python -m devstack run|test`: the README's two commands, after bin/ made the venv."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from devstack import commands, launch


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["test"]:
        # Everything after `test` belongs to pytest, untouched.
        return commands.test(pytest_args=args[1:])
    parser = argparse.ArgumentParser(prog="devstack", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run the control plane locally on embedded defaults")
    run.add_argument("--port", type=int, default=8000, help="web port (default 8000)")
    run.add_argument(
        "--demo", action="store_true", help="submit demo strategies and batches via the REST API"
    )
    run.add_argument(
        "--state-dir",
        type=Path,
        default=launch.STATE,
        help="the run's state: embedded PostgreSQL's data, the local operator, the lock "
        "(default .local/ of the checkout)",
    )
    sub.add_parser("test", help="lint, type-check and run the test suite (args go to pytest)")
    parsed = parser.parse_args(args)
    return launch.run(port=parsed.port, demo=parsed.demo, state_dir=parsed.state_dir.resolve())


if __name__ == "__main__":
    sys.exit(main())
