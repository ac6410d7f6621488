"""The metrics document in the Prometheus text exposition format (via prometheus_client)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric, SummaryMetricFamily

from projections.metrics import SLA_LEVELS, STATUSES, Document


def prometheus_text(document: Document) -> str:
    """The metrics document in the Prometheus text exposition format (metric names prefixed `coordinator_`)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Families(list(_families(document))))
    return generate_latest(registry).decode("utf-8")


class _Families:
    """A collector of fixed metric families (counters without `_created` samples, so the text is reproducible)."""

    def __init__(self, families: list[Metric]) -> None:
        self.families = families

    def collect(self) -> Iterable[Metric]:
        return self.families


def _families(doc: Document) -> Iterator[Metric]:
    notes, timing, agents = doc["notifications"], doc["response_time"], doc["agent_responsiveness"]
    counter, gauge = CounterMetricFamily, GaugeMetricFamily
    yield _family(counter, "events_processed", "Events recorded.", [], [([], doc["events_processed"])])
    yield _family(
        counter, "escalations", "Upward level changes.", ["kind", "rule", "level", "emergency"],
        [([e["kind"], e["rule"], e["level"], str(e["emergency"]).lower()], e["count"]) for e in doc["escalations"]],
    )
    yield _family(counter, "alerts", "Alerts received, by type.", ["type"],
                  [([a["alert_type"]], a["count"]) for a in doc["alerts"]])
    observed = doc["observations"]
    labels = ["event_type", "alert_type", "severity"]
    yield _family(counter, "observations", "Records of the hive that are none of the alert types, by their own "
                  "event_type, alert_type and severity.", labels,
                  [([o[name] for name in labels], o["count"]) for o in observed])
    yield _family(counter, "observations_mapped", "Observations a mapping rule turned into an alert.", labels,
                  [([o[name] for name in labels], o["mapped"]) for o in observed])
    yield _family(counter, "notifications_requested", "Notifications requested.", [], [([], notes["requested"])])
    yield _family(counter, "notifications", "Requested notifications by delivery status.", ["status"],
                  [([status], notes[status]) for status in STATUSES])
    if notes["success_rate"] is not None:
        yield _family(gauge, "notification_success_ratio", "Delivered / requested.", [], [([], notes["success_rate"])])
    name = "coordinator_response_time_seconds"
    summary = SummaryMetricFamily(name, "Wall-clock time from a notification's request to its first delivery.")
    for quantile, key in (("0.5", "p50_seconds"), ("0.9", "p90_seconds")):
        if timing[key] is not None:
            summary.add_sample(name, {"quantile": quantile}, timing[key])
    summary.add_sample(f"{name}_count", {}, timing["count"])
    summary.add_sample(f"{name}_sum", {}, round((timing["mean_seconds"] or 0.0) * timing["count"], 6))
    yield summary
    yield _family(counter, "sla_breaches", "Notifications delivered later than their level's SLA.", ["level"],
                  [([level], doc["sla_breaches"][level]) for level in SLA_LEVELS])
    for metric, cls, field, documentation in (
        ("agent_responsiveness_ratio", gauge, "rate", "seen / (seen + flagged), 1 when neither."),
        ("agent_flagged", counter, "flagged", "Times flagged unresponsive."),
        ("agent_seen", counter, "seen", "Times seen at work."),
    ):
        yield _family(cls, metric, documentation, ["agent"], [([a["agent_id"]], a[field]) for a in agents])


def _family(
    cls: type[CounterMetricFamily | GaugeMetricFamily], name: str, documentation: str, labels: list[str],
    samples: Iterable[tuple[list[str], float]],
) -> Metric:
    family = cls(f"coordinator_{name}", documentation, labels=labels)
    for values, value in samples:
        family.add_metric(values, value)
    return family
