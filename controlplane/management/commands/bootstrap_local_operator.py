from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from controlplane.services.local_operator import local_operator_ensure


class Command(BaseCommand):
    help = "Create (or reuse) the local admin login and API token, and print how to use them."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--state-file",
            type=Path,
            required=True,
            help="JSON file keeping the local operator's login and API token (required)",
        )
        parser.add_argument(
            "--base-url",
            default="http://127.0.0.1:8000",
            help="where the printed links point (default http://127.0.0.1:8000)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        operator = local_operator_ensure(state_file=options["state_file"])
        base = options["base_url"].rstrip("/")
        self.stdout.write(
            self.style.SUCCESS("Local operator ready:")
            + f"\n  admin:     {base}/admin/  user {operator.username}"
            f"  password {operator.password}"
            f"\n  API docs:  {base}/api/docs (log in to the admin first)"
            f"\n  API token: {operator.token}"
            f"\n  try:       curl -s -X POST {base}/strategies"
            f" -H 'Authorization: Bearer {operator.token}'"
            " -H 'Content-Type: application/json'"
            ' -d \'{"dag_json": "{\\"nodes\\": [{\\"node_id\\": \\"n1\\"}]}",'
            ' "node_ids_crc32": 3950597356, "world_ids": ["demo"]}\''
        )
