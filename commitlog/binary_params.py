"""A cursor whose parameters travel in PostgreSQL's binary format.

The relay and the consumer pass each column of a batch as one array parameter. Django's
cursor binds parameters on the client, as SQL text: every array element is quoted in
Python, a regular-expression test each, which took 7-10 ms for the consumer's seven
arrays of 500 values. Bound on the server in binary (`%b` placeholders), the same
statement took 2.6 ms, execution included.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from django.db import connection


@contextmanager
def binary_cursor() -> Iterator[psycopg.Cursor[Any]]:
    """A psycopg cursor on Django's connection (same transaction), errors as Django's."""
    connection.ensure_connection()
    with connection.wrap_database_errors, psycopg.Cursor(connection.connection) as cursor:
        yield cursor
