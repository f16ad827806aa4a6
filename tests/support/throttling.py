"""The rates the throttle's tests set."""

from __future__ import annotations

# A day's window: a burst of a test never straddles two windows (which would reset it).
WRITES, READS = 3, 5
