#!/usr/bin/env python
"""Django's command-line utility for the control plane."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "controlplane.settings")
    from django.conf import settings
    from django.core.management import execute_from_command_line

    if not settings.GATEWAY.writer_enabled:
        sys.stderr.write(
            "WARNING: the commit-log writer is disabled (profile dev, no commitlog_bootstrap "
            "or commitlog_topic): submissions are accepted and stay pending in the outbox.\n"
        )
    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
