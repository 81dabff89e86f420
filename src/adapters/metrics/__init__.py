"""Adapters that export to Prometheus.

No `_created` series: prometheus_client adds one per counter, histogram and summary child
in the text format, where Prometheus stores it as a gauge of its own that nothing
queries (OpenMetrics scrapes carry creation times in the samples instead). Switched off
here, with the first metric, because the registry and its metrics are process-global.
"""

from prometheus_client import disable_created_metrics

disable_created_metrics()  # type: ignore[no-untyped-call]  # untyped upstream
