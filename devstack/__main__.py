"""`python -m devstack run|test`: the README's two commands, after bin/ made the venv."""

from __future__ import annotations

import argparse
import sys

from devstack import commands


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="devstack", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run the control plane locally on embedded defaults")
    run.add_argument("--port", type=int, default=8000, help="web port (default 8000)")
    test = sub.add_parser("test", help="lint, type-check and run the test suite")
    test.add_argument("pytest_args", nargs=argparse.REMAINDER, help="passed on to pytest")
    args, extra = parser.parse_known_args(argv)
    if args.command == "run":
        if extra:
            parser.error(f"unrecognized arguments: {' '.join(extra)}")
        return commands.run(port=args.port)
    # Everything after `test` belongs to pytest, options included.
    return commands.test(pytest_args=[*args.pytest_args, *extra])


if __name__ == "__main__":
    sys.exit(main())
