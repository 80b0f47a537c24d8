"""Prometheus metrics, in a registry owned by the service (not the process-global one, so tests and
several apps in one process never share counters)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class Metrics:
    """Request counts and latencies per route, /ask stage latencies; gauges read at scrape time."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "qa_requests",
            "HTTP requests by route, method and status",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.request_seconds = Histogram(
            "qa_request_seconds",
            "HTTP request latency by route",
            ["route", "method"],
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.stage_seconds = Histogram(
            "qa_ask_stage_seconds",
            "Time spent in each /ask stage (retrieve, rank, answer, ...)",
            ["stage", "mode"],
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.rejections = Counter(
            "qa_rejections", "Requests turned away by admission control", ["reason"], registry=self.registry
        )

    def observe_request(self, route: str, method: str, status: int, seconds: float) -> None:
        self.requests.labels(route, method, str(status)).inc()
        self.request_seconds.labels(route, method).observe(seconds)

    def observe_stages(self, timings_ms: dict[str, float], mode: str) -> None:
        for stage, ms in timings_ms.items():
            if stage != "total":
                self.stage_seconds.labels(stage, mode).observe(ms / 1000.0)

    def add_gauges(self, read: Callable[[], Iterable[GaugeMetricFamily]]) -> None:
        """Gauges computed when scraped (document states, queue depths): never stale, no bookkeeping."""
        self.registry.register(_Callback(read))

    def render(self, scoped: Iterable[GaugeMetricFamily] = ()) -> bytes:
        """The registry, plus ``scoped`` gauges computed for this scrape only (e.g. for one caller's collections)."""
        extra = CollectorRegistry(auto_describe=False)
        families = list(scoped)
        extra.register(_Callback(lambda: families))
        return generate_latest(self.registry) + generate_latest(extra)


class _Callback(Collector):
    def __init__(self, read: Callable[[], Iterable[GaugeMetricFamily]]) -> None:
        self._read = read

    def collect(self) -> Iterable[GaugeMetricFamily]:
        return self._read()

    def describe(self) -> Iterable[GaugeMetricFamily]:
        return []
