"""The NATS JetStream bus: streams, transactional outbox and relay, idempotent consumers."""

from simfleet_runtime.bus.consumer import (
    BeforeHook,
    DurableConsumer,
    Event,
    EventHandler,
    GroupHandler,
    PermanentError,
    each_in_turn,
)
from simfleet_runtime.bus.outbox import Outbox, OutboxRelay
from simfleet_runtime.bus.streams import StreamSpec, connect_nats, ensure_streams
from simfleet_runtime.bus.tables import BusTables, bus_tables, create_bus_tables

__all__ = [
    "BeforeHook",
    "BusTables",
    "DurableConsumer",
    "Event",
    "EventHandler",
    "GroupHandler",
    "Outbox",
    "OutboxRelay",
    "PermanentError",
    "StreamSpec",
    "bus_tables",
    "connect_nats",
    "create_bus_tables",
    "each_in_turn",
    "ensure_streams",
]
