"""The consumer's lag per partition, as it stands (the consumer's last commit and the
high watermark it saw with it): a bar a partition, beside the history's charts."""

from __future__ import annotations

from collections.abc import Sequence

from django.utils.safestring import SafeString

from controlplane.admin.dashboard.charts import WIDTH, Bar, bar_chart
from controlplane.admin.dashboard.overview import PartitionLag

COLOR = "#2e7d32"  # the lag's colour in the history's charts


def partition_lag_chart(partitions: Sequence[PartitionLag]) -> SafeString:
    # Labelled by partition number; the bar's tooltip names its group and topic, and the
    # key does too when more than one group or topic is read.
    several = len({(p.group, p.topic) for p in partitions}) > 1
    bars = [
        Bar(
            key=f"{p.group} {p.topic} {p.partition}" if several else str(p.partition),
            label=str(p.partition),
            value=float(p.lag),
            about=f"{p.group}, {p.topic} partition {p.partition}",
        )
        for p in partitions
    ]
    return bar_chart(
        slug="lag-partitions",
        title="Consumer lag per partition, now",
        bars=bars,
        color=COLOR,
        width=2 * WIDTH,  # it spans the hour's and the day's columns
    )
