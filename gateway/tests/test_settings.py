"""GatewaySettings from the environment."""

from __future__ import annotations

import os
from ipaddress import ip_network

import pytest
from pydantic import ValidationError

from gateway.settings import GatewaySettings


def test_defaults(monkeypatch):
    for name in list(os.environ):
        if name.startswith("GATEWAY_"):
            monkeypatch.delenv(name)

    settings = GatewaySettings()

    assert (settings.http_host, settings.http_port) == ("127.0.0.1", 8080)
    assert settings.identity_target == "127.0.0.1:50051"
    assert settings.grpc_timeout_seconds == 3.0
    assert settings.cors_origins == []
    assert settings.trusted_proxies == []
    assert settings.auth_rate_limit_per_minute == 30
    assert settings.inventory_target == "127.0.0.1:50081"
    assert settings.operation_events_poll_seconds == 0.5
    assert settings.operation_events_keepalive_seconds == 15
    assert settings.operation_events_max_seconds == 3600


def test_inventory_target_from_the_environment(monkeypatch):
    monkeypatch.setenv("GATEWAY_INVENTORY_TARGET", "inventory:50081")

    assert GatewaySettings().inventory_target == "inventory:50081"


def test_lists_from_comma_separated_or_json(monkeypatch):
    monkeypatch.setenv("GATEWAY_CORS_ORIGINS", "https://a.example, https://b.example")
    monkeypatch.setenv("GATEWAY_TRUSTED_PROXIES", '["10.0.0.0/8", "fd00::/8", "192.168.1.7"]')
    monkeypatch.setenv("GATEWAY_HTTP_PORT", "18080")

    settings = GatewaySettings()

    assert settings.cors_origins == ["https://a.example", "https://b.example"]
    assert settings.trusted_proxies == [ip_network("10.0.0.0/8"), ip_network("fd00::/8"), ip_network("192.168.1.7/32")]
    assert settings.http_port == 18080


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("GATEWAY_TRUSTED_PROXIES", "not-a-network"),
        ("GATEWAY_GRPC_TIMEOUT_SECONDS", "0"),
        ("GATEWAY_OPERATION_EVENTS_POLL_SECONDS", "0"),
    ],
)
def test_bad_values_are_refused(monkeypatch, name, value):
    monkeypatch.setenv(name, value)

    with pytest.raises(ValidationError):
        GatewaySettings()
