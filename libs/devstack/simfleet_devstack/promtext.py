"""Prometheus histograms read from a /metrics page, compared before and after a run."""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass

import httpx
from prometheus_client.parser import text_string_to_metric_families

Labels = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Histogram:
    name: str
    labels: Labels
    buckets: tuple[tuple[float, float], ...]
    """(upper bound, cumulative count), ascending, ending with +Inf."""
    sum: float
    count: float

    def label(self, key: str) -> str:
        return dict(self.labels).get(key, "")

    def minus(self, earlier: Histogram | None) -> Histogram:
        if earlier is None:
            return self
        before = dict(earlier.buckets)
        return Histogram(
            self.name,
            self.labels,
            tuple((le, count - before.get(le, 0.0)) for le, count in self.buckets),
            self.sum - earlier.sum,
            self.count - earlier.count,
        )

    @property
    def mean(self) -> float:
        return self.sum / self.count if self.count else float("nan")

    def quantile(self, q: float) -> float:
        """Like PromQL's histogram_quantile: linear within the bucket that holds the q-th observation."""
        if not self.count:
            return float("nan")
        rank = q * self.count
        lower_bound, lower_count = 0.0, 0.0
        for upper_bound, cumulative in self.buckets:
            if cumulative >= rank:
                if math.isinf(upper_bound):
                    return lower_bound
                share = (rank - lower_count) / (cumulative - lower_count) if cumulative > lower_count else 1.0
                return lower_bound + (upper_bound - lower_bound) * share
            lower_bound, lower_count = upper_bound, cumulative
        return lower_bound


HistogramKey = tuple[str, Labels]


def parse_histograms(text: str, names: set[str]) -> dict[HistogramKey, Histogram]:
    """The histograms called ``names`` in a Prometheus text page, one per label set."""
    found: dict[HistogramKey, Histogram] = {}
    for family in text_string_to_metric_families(text):
        if family.name not in names or family.type != "histogram":
            continue
        buckets: dict[Labels, list[tuple[float, float]]] = {}
        sums: dict[Labels, float] = {}
        counts: dict[Labels, float] = {}
        for sample in family.samples:
            labels = tuple(sorted((k, v) for k, v in sample.labels.items() if k != "le"))
            if sample.name.endswith("_bucket"):
                buckets.setdefault(labels, []).append((float(sample.labels["le"]), float(sample.value)))
            elif sample.name.endswith("_sum"):
                sums[labels] = float(sample.value)
            elif sample.name.endswith("_count"):
                counts[labels] = float(sample.value)
        for labels, series in buckets.items():
            found[(family.name, labels)] = Histogram(
                family.name, labels, tuple(sorted(series)), sums.get(labels, 0.0), counts.get(labels, 0.0)
            )
    return found


def scrape(url: str, names: set[str], timeout: float = 5.0) -> dict[HistogramKey, Histogram]:
    """Read ``url``; an unreachable page gives no histograms (the report says so)."""
    try:
        response = httpx.get(url, timeout=timeout)
        response.raise_for_status()
    except httpx.HTTPError:
        return {}
    return parse_histograms(response.text, names)


def difference(
    before: dict[HistogramKey, Histogram], after: dict[HistogramKey, Histogram]
) -> dict[HistogramKey, Histogram]:
    """What was observed between two scrapes; series with no new observations are left out."""
    changed: dict[HistogramKey, Histogram] = {}
    for key, histogram in after.items():
        delta = histogram.minus(before.get(key))
        if delta.count > 0:
            changed[key] = delta
    return changed


GaugeKey = tuple[str, str, Labels]
"""(process, gauge name, labels)."""


def parse_gauges(text: str, names: set[str]) -> dict[tuple[str, Labels], float]:
    """The current value of each gauge called ``names``, one per label set."""
    found: dict[tuple[str, Labels], float] = {}
    for family in text_string_to_metric_families(text):
        if family.name in names and family.type == "gauge":
            for sample in family.samples:
                found[(family.name, tuple(sorted(sample.labels.items())))] = float(sample.value)
    return found


@dataclass
class GaugeTrace:
    peak: float
    last: float


class GaugeWatcher:
    """Reads gauges (queue lengths) from every process's /metrics every ``interval`` s in a thread."""

    def __init__(self, urls: dict[str, str], names: set[str], interval: float = 1.0) -> None:
        self._urls = urls
        self._names = names
        self._interval = interval
        self.traces: dict[GaugeKey, GaugeTrace] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="gauge-watcher", daemon=True)

    def start(self) -> GaugeWatcher:
        self._thread.start()
        return self

    def stop(self) -> GaugeWatcher:
        self._stop.set()
        self._thread.join()
        self._read()
        return self

    def _run(self) -> None:
        with httpx.Client(timeout=2.0) as client:
            while True:
                self._read(client)
                if self._stop.wait(self._interval):
                    return

    def _read(self, client: httpx.Client | None = None) -> None:
        for process, url in self._urls.items():
            try:
                response = client.get(url) if client is not None else httpx.get(url, timeout=2.0)
            except httpx.HTTPError:
                continue
            if response.status_code != httpx.codes.OK:
                continue
            for (name, labels), value in parse_gauges(response.text, self._names).items():
                key = (process, name, labels)
                trace = self.traces.get(key)
                if trace is None:
                    self.traces[key] = GaugeTrace(peak=value, last=value)
                else:
                    trace.peak = max(trace.peak, value)
                    trace.last = value
