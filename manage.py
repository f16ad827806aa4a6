#!/usr/bin/env python
"""Django's command-line utility for the control plane."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    asking_for_help = bool({"-h", "--help"} & set(sys.argv[1:])) or sys.argv[1:2] in ([], ["help"])
    if asking_for_help:  # a help text is all the reader wants: no start-up notices
        os.environ["CONTROLPLANE_QUIET_START"] = "1"
    from django.conf import settings
    from django.core.management import execute_from_command_line

    if not settings.GATEWAY.writer_enabled and not asking_for_help:
        sys.stderr.write(
            "WARNING: the commit-log writer is disabled (profile dev, no commitlog_bootstrap "
            "or commitlog_topic): submissions are accepted and stay pending in the outbox.\n"
        )
    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
