"""The gateway's configuration: one place, read from ``GATEWAY_*`` variables.

Lists (``GATEWAY_CORS_ORIGINS``, ``GATEWAY_TRUSTED_PROXIES``) take either a JSON
array or comma-separated values, e.g.
``GATEWAY_TRUSTED_PROXIES=10.0.0.0/8,192.168.0.0/16``.
"""

from __future__ import annotations

import json
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

Network = IPv4Network | IPv6Network


def _split_list(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    text = value.strip()
    if not text:
        return []
    if text.startswith("["):
        return json.loads(text)
    return [part.strip() for part in text.split(",") if part.strip()]


class GatewaySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GATEWAY_", extra="ignore")

    environment: str = Field("local", description="local, dev, prod: shown in logs and traces")
    http_host: str = "127.0.0.1"
    http_port: int = Field(8080, ge=0, le=65535)
    gc_gen0_threshold: int = Field(
        20_000, ge=100, description="allocations between young-generation collections (CPython's default is 700)"
    )

    identity_target: str = Field("127.0.0.1:50051", description="host:port of identity's gRPC server")
    identity_health_service: str = Field(
        "", description="the name /readyz asks identity's gRPC health service about ('' = the whole server)"
    )
    accounts_target: str = Field("127.0.0.1:50071", description="host:port of accounts' gRPC server")
    inventory_target: str = Field("127.0.0.1:50081", description="host:port of inventory's gRPC server")
    billing_target: str = Field("127.0.0.1:50091", description="host:port of billing's gRPC server")
    ticketing_target: str = Field("127.0.0.1:50101", description="host:port of ticketing's gRPC server")
    notifications_target: str = Field("127.0.0.1:50111", description="host:port of notifications' gRPC server")
    grpc_timeout_seconds: float = Field(3.0, gt=0, description="deadline on every call to a service")
    readiness_timeout_seconds: float = Field(1.0, gt=0, description="deadline on the health check behind /readyz")

    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="origins allowed to call the API from a browser"
    )
    web_dir: Path | None = Field(
        None, description="the built web console (web/dist) to serve at /; unset: the gateway serves only the API"
    )
    trusted_proxies: Annotated[list[Network], NoDecode] = Field(
        default_factory=list,
        description="CIDRs of proxies whose X-Forwarded-For is believed; empty: the client is the socket peer",
    )

    auth_rate_limit_per_minute: float = Field(
        30.0, ge=0, description="sign-in calls (POST /v1/auth/*) per client address per minute; 0 turns it off"
    )
    auth_rate_limit_burst: int = Field(10, ge=1, description="sign-in calls a client may make at once")
    rate_limit_max_clients: int = Field(100_000, ge=1, description="client addresses the limiter remembers")
    max_body_bytes: int = Field(64 * 1024, ge=1, description="largest request body accepted")
    gzip_minimum_bytes: int = Field(
        1024, ge=0, description="answers at least this large are gzip-compressed for clients that accept it"
    )
    max_operation_body_bytes: int = Field(
        32 * 1024 * 1024,
        ge=1,
        description="largest body of POST /v1/operations (up to 200,000 lines, each with its own params)",
    )

    max_attachment_bytes: int = Field(
        10 * 1024 * 1024,
        ge=1,
        description="largest file uploaded to a ticket (ticketing refuses larger ones too: keep them equal)",
    )
    attachment_timeout_seconds: float = Field(
        120.0, gt=0, description="deadline of an attachment's upload or download to or from ticketing"
    )

    operation_events_poll_seconds: float = Field(
        0.5, gt=0, description="how often GET /v1/operations/{id}/events asks inventory for the operation"
    )
    operation_events_keepalive_seconds: float = Field(
        15.0, gt=0, description="the longest an operation's event stream stays silent (a comment line keeps it open)"
    )
    operation_events_max_seconds: float = Field(
        3600.0, gt=0, description="the longest an operation's event stream lives; the client reconnects to go on"
    )

    log_level: str = "INFO"
    log_json: bool = True
    access_log: bool = Field(True, description="one log line per request")
    shutdown_grace_seconds: int = Field(10, ge=0, description="time in-flight requests get on SIGTERM")
    keep_alive_seconds: int = Field(
        75,
        ge=1,
        description="idle time before a kept-alive connection is closed; above a load balancer's (often 60 s), "
        "so that the gateway never closes a connection the client is about to reuse",
    )

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _origins(cls, value: Any) -> Any:
        return _split_list(value)

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _proxies(cls, value: Any) -> Any:
        items = _split_list(value)
        if isinstance(items, list):
            return [ip_network(item, strict=False) if isinstance(item, str) else item for item in items]
        return items
