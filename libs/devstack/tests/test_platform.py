from __future__ import annotations

import json
import os
import socket
import sys
from collections.abc import Callable
from pathlib import Path

import nats
import pytest

from simfleet_devstack.platform import Platform, PlatformConfig, PlatformError, PortsInUseError
from simfleet_runtime.testing import postgres_base_url, wait_until

from .conftest import alive  # type: ignore[import-not-found]

MakeConfig = Callable[..., PlatformConfig]


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def _recorded_env(config: PlatformConfig, service: str) -> dict[str, str]:
    env: dict[str, str] = json.loads((config.data_dir / f"{service}.env.json").read_text())["env"]
    return env


async def test_nats_alone_starts_stops_and_restarts_on_the_same_port_and_store(fake_config: MakeConfig) -> None:
    platform = Platform(fake_config())
    try:
        platform.start_nats()
        assert _listening(platform.config.nats_port)
        client = await nats.connect(platform.nats_url)
        js = client.jetstream()
        await js.add_stream(name="DEVSTACK_PROBE", subjects=["devstack.probe"])
        await js.publish("devstack.probe", b"kept")
        await client.close()

        platform.stop_nats()
        assert not _listening(platform.config.nats_port)
        assert platform.dead_process() is None  # stopped on purpose, not a failure

        platform.start_nats()
        client = await nats.connect(platform.nats_url)
        message = await client.jetstream().get_msg("DEVSTACK_PROBE", seq=1)
        assert message.data == b"kept"
        await client.close()
        assert (platform.nats_store_dir / "jetstream").is_dir()
    finally:
        platform.stop()
    assert not _listening(platform.config.nats_port)


def test_the_platform_starts_gets_ready_seeds_once_and_stops_everything(fake_config: MakeConfig) -> None:
    config = fake_config(clock_file=Path("/tmp/devstack-clock"), extra_env={"identity": {"IDENTITY_EXTRA": "1"}})
    with Platform(config) as platform:
        pids = platform.pids()
        assert set(pids) == {
            "nats",
            "netsim",
            "identity",
            "accounts",
            "inventory",
            "billing",
            "billing-rater",
            "ticketing",
            "notifications",
            "gateway",
        }
        assert platform.seed() is True
        assert platform.seed() is False  # the customer found by its tax number counts as done
        identity = _recorded_env(config, "identity")
        assert identity["IDENTITY_DATABASE_URL"] == f"sqlite+aiosqlite:///{config.data_dir / 'identity.db'}"
        assert identity["IDENTITY_NATS_URL"] == f"nats://127.0.0.1:{config.nats_port}"
        assert identity["IDENTITY_GRPC_PORT"] == str(config.identity_grpc)
        assert identity["IDENTITY_METRICS_PORT"] == str(config.identity_metrics)
        assert identity["IDENTITY_SMTP_PORT"] == str(config.smtp_port)
        assert identity["IDENTITY_OPERATOR_KEY"] == config.operator_key
        assert identity["IDENTITY_SIGN_IN_SMS_BY_NOTIFICATIONS"] == "true"  # notifications runs beside it
        assert identity["IDENTITY_CLOCK_FILE"] == "/tmp/devstack-clock"
        assert identity["IDENTITY_EXTRA"] == "1"
        assert identity["OTEL_SERVICE_NAME"] == "identity"
        netsim = _recorded_env(config, "netsim")
        assert netsim["NETSIM_DATABASE_URL"].endswith("/netsim.db")
        assert netsim["NETSIM_SMTP_PORT"] == str(config.smtp_port)
        assert netsim["NETSIM_HTTP_PORT"] == str(config.netsim_http)
        assert netsim["NETSIM_CLOCK_FILE"] == "/tmp/devstack-clock"
        assert "IDENTITY_EXTRA" not in netsim
        accounts = _recorded_env(config, "accounts")
        assert accounts["ACCOUNTS_DATABASE_URL"].endswith("/accounts.db")
        assert accounts["ACCOUNTS_IDENTITY_TARGET"] == platform.identity_target
        assert accounts["ACCOUNTS_INVENTORY_TARGET"] == platform.inventory_target
        assert accounts["ACCOUNTS_OPERATOR_KEY"] == config.operator_key
        assert accounts["ACCOUNTS_GRPC_PORT"] == str(config.accounts_grpc)
        inventory = _recorded_env(config, "inventory")
        assert inventory["INVENTORY_BILLING_TARGET"] == platform.billing_target
        billing = _recorded_env(config, "billing")
        assert billing["BILLING_DATABASE_URL"].endswith("/billing.db")
        assert billing["BILLING_NATS_URL"] == f"nats://127.0.0.1:{config.nats_port}"
        assert billing["BILLING_IDENTITY_TARGET"] == platform.identity_target
        assert billing["BILLING_OPERATOR_KEY"] == config.operator_key
        assert billing["BILLING_ROLE"] == "api"
        rater = _recorded_env(config, "billing-rater")
        assert (rater["BILLING_ROLE"], rater["BILLING_DATABASE_URL"]) == ("rater", billing["BILLING_DATABASE_URL"])
        assert (rater["BILLING_MIGRATE_ON_START"], rater["BILLING_AWAIT_MIGRATIONS"]) == ("false", "true")
        assert (rater["BILLING_GRPC_PORT"], rater["BILLING_METRICS_PORT"]) == (
            str(config.billing_rater_grpc),
            str(config.billing_rater_metrics),
        )
        assert (billing["BILLING_GRPC_PORT"], billing["BILLING_METRICS_PORT"]) == (
            str(config.billing_grpc),
            str(config.billing_metrics),
        )
        ticketing = _recorded_env(config, "ticketing")
        assert ticketing["TICKETING_DATABASE_URL"].endswith("/ticketing.db")
        assert ticketing["TICKETING_NATS_URL"] == f"nats://127.0.0.1:{config.nats_port}"
        assert ticketing["TICKETING_IDENTITY_TARGET"] == platform.identity_target
        assert ticketing["TICKETING_OPERATOR_KEY"] == config.operator_key
        assert (ticketing["TICKETING_GRPC_PORT"], ticketing["TICKETING_METRICS_PORT"]) == (
            str(config.ticketing_grpc),
            str(config.ticketing_metrics),
        )
        notifications = _recorded_env(config, "notifications")
        assert notifications["NOTIFICATIONS_DATABASE_URL"].endswith("/notifications.db")
        assert notifications["NOTIFICATIONS_IDENTITY_TARGET"] == platform.identity_target
        assert notifications["NOTIFICATIONS_IDENTITY_OPERATOR_KEY"] == config.operator_key
        assert notifications["NOTIFICATIONS_SMTP_PORT"] == str(config.smtp_port)
        assert (notifications["NOTIFICATIONS_GRPC_PORT"], notifications["NOTIFICATIONS_METRICS_PORT"]) == (
            str(config.notifications_grpc),
            str(config.notifications_metrics),
        )
        gateway = _recorded_env(config, "gateway")
        assert gateway["GATEWAY_NOTIFICATIONS_TARGET"] == platform.notifications_target
        assert gateway["GATEWAY_IDENTITY_TARGET"] == platform.identity_target
        assert gateway["GATEWAY_ACCOUNTS_TARGET"] == platform.accounts_target
        assert gateway["GATEWAY_TICKETING_TARGET"] == platform.ticketing_target
        assert gateway["GATEWAY_HTTP_PORT"] == str(config.gateway_http)
        assert platform.gateway_url == f"http://127.0.0.1:{config.gateway_http}"
        assert platform.console_url == f"http://127.0.0.1:{config.netsim_http}"
        assert "fake identity serving" in platform.processes["identity"].log_tail()
    assert not any(alive(pid) for pid in pids.values())
    platform.stop()  # idempotent

    # A second run on the same data: the seed finds the customer already there.
    with Platform(config) as again:
        assert again.seed() is False


def test_otel_variables_pass_through_to_every_service(fake_config: MakeConfig, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318")
    platform = Platform(fake_config())
    for service in ("identity", "netsim", "accounts", "inventory", "gateway"):
        env = platform.env_for(service)
        assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://127.0.0.1:4318"
        assert env["OTEL_SERVICE_NAME"] == service


def test_wait_ready_reports_a_child_that_exits_with_its_log(fake_config: MakeConfig) -> None:
    commands = {
        "netsim": [sys.executable, str(Path(__file__).parent / "fake_service.py"), "netsim"],
        "identity": [sys.executable, "-c", "print('identity cannot open its database'); raise SystemExit(3)"],
        "accounts": [sys.executable, str(Path(__file__).parent / "fake_service.py"), "accounts"],
        "inventory": [sys.executable, str(Path(__file__).parent / "fake_service.py"), "inventory"],
        "gateway": [sys.executable, str(Path(__file__).parent / "fake_service.py"), "gateway"],
    }
    platform = Platform(fake_config(service_commands=commands))
    platform.start()
    try:
        with pytest.raises(PlatformError, match="identity exited with status 3") as failure:
            platform.wait_ready(timeout=20)
        assert failure.value.service == "identity"
        assert "cannot open its database" in failure.value.log_tail
    finally:
        platform.stop()


def test_wait_ready_gives_up_at_the_deadline_naming_what_is_not_ready(fake_config: MakeConfig) -> None:
    config = fake_config(extra_env={"identity": {"FAKE_NOT_SERVING": "1"}})
    platform = Platform(config)
    platform.start()
    try:
        with pytest.raises(PlatformError, match="not ready after 2s: identity gRPC health") as failure:
            platform.wait_ready(timeout=2)
        assert "fake identity serving" in failure.value.log_tail
    finally:
        platform.stop()


def test_taken_ports_are_named_and_nothing_starts(fake_config: MakeConfig) -> None:
    config = fake_config()
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", config.gateway_http))
        squatter.listen()
        platform = Platform(config)
        with pytest.raises(PortsInUseError) as failure:
            platform.start()
    assert failure.value.taken == {"gateway HTTP": config.gateway_http}
    assert f"gateway HTTP {config.gateway_http}" in str(failure.value)
    assert platform.pids() == {}


def test_stop_kills_a_service_that_ignores_sigterm(fake_config: MakeConfig) -> None:
    config = fake_config(stop_timeout=0.5, extra_env={"gateway": {"FAKE_IGNORE_SIGTERM": "1"}})
    platform = Platform(config)
    platform.start()
    platform.wait_ready(timeout=20)
    pids = platform.pids()
    platform.stop()
    assert platform.processes["gateway"].returncode == -9
    assert platform.processes["identity"].returncode == -15
    assert not any(alive(pid) for pid in pids.values())


def test_a_dead_service_is_reported_by_dead_process(fake_config: MakeConfig) -> None:
    platform = Platform(fake_config(extra_env={"netsim": {"FAKE_EXIT_AFTER": "0.3"}}))
    platform.start()
    try:
        wait_until(lambda: platform.dead_process() is not None, what="netsim to exit")
        dead = platform.dead_process()
        assert dead is not None and dead.name == "netsim" and dead.returncode == 3
        assert "exits on purpose" in dead.log_tail()
    finally:
        platform.stop()


def test_set_clock_offset_writes_the_clock_file(tmp_path: Path) -> None:
    clock = tmp_path / "clock"
    platform = Platform(PlatformConfig(data_dir=tmp_path, clock_file=clock))
    platform.set_clock_offset(1200)
    assert float(clock.read_text()) == 1200
    platform.set_clock_offset(-5.5)
    assert float(clock.read_text()) == -5.5
    with pytest.raises(PlatformError, match="clock_file"):
        Platform(PlatformConfig(data_dir=tmp_path)).set_clock_offset(1)


@pytest.mark.skipif(postgres_base_url() is None, reason="SIMFLEET_TEST_POSTGRES_URL is not set")
def test_with_postgres_each_service_gets_its_own_database(fake_config: MakeConfig) -> None:
    import asyncio

    import asyncpg

    server = postgres_base_url()
    assert server is not None
    config = fake_config(postgres_url=server, postgres_prefix="devstack_test", postgres_reset=True)
    with Platform(config) as platform:
        identity_url = _recorded_env(config, "identity")["IDENTITY_DATABASE_URL"]
        assert identity_url.startswith("postgresql+asyncpg://") and identity_url.endswith("/devstack_test_identity")
        assert _recorded_env(config, "netsim")["NETSIM_DATABASE_URL"].endswith("/devstack_test_netsim")
        assert _recorded_env(config, "accounts")["ACCOUNTS_DATABASE_URL"].endswith("/devstack_test_accounts")
        assert _recorded_env(config, "billing")["BILLING_DATABASE_URL"].endswith("/devstack_test_billing")
        assert _recorded_env(config, "ticketing")["TICKETING_DATABASE_URL"].endswith("/devstack_test_ticketing")
        assert _recorded_env(config, "notifications")["NOTIFICATIONS_DATABASE_URL"].endswith(
            "/devstack_test_notifications"
        )
        assert platform.database_url("identity") == identity_url

    async def names_then_drop() -> set[str]:
        conn = await asyncpg.connect(server.replace("postgresql+asyncpg", "postgresql"))
        try:
            rows = await conn.fetch("SELECT datname FROM pg_database WHERE datname LIKE 'devstack\\_test\\_%'")
            for row in rows:
                await conn.execute(f'DROP DATABASE IF EXISTS "{row["datname"]}" WITH (FORCE)')
        finally:
            await conn.close()
        return {row["datname"] for row in rows}

    assert asyncio.run(names_then_drop()) == {
        "devstack_test_identity",
        "devstack_test_netsim",
        "devstack_test_accounts",
        "devstack_test_inventory",
        "devstack_test_billing",
        "devstack_test_ticketing",
        "devstack_test_notifications",
    }
    assert not os.path.exists(config.data_dir / "identity.db")


def test_every_service_serves_its_metrics_on_the_loopback_only(fake_config: MakeConfig) -> None:
    platform = Platform(fake_config())
    for service in ("netsim", "identity", "accounts", "inventory", "billing"):
        env = platform.env_for(service)
        assert env[f"{service.upper()}_METRICS_HOST"] == "127.0.0.1", service


def test_a_local_frontend_may_call_the_gateway_from_a_browser(fake_config: MakeConfig) -> None:
    env = Platform(fake_config()).env_for("gateway")
    assert "http://localhost:5173" in env["GATEWAY_CORS_ORIGINS"].split(",")
    assert "http://localhost:3000" in env["GATEWAY_CORS_ORIGINS"].split(",")


def test_the_gateway_serves_the_built_console_when_there_is_one(fake_config: MakeConfig, tmp_path: Path) -> None:
    assert "GATEWAY_WEB_DIR" not in Platform(fake_config()).env_for("gateway")
    env = Platform(fake_config(web_dir=tmp_path / "dist")).env_for("gateway")
    assert env["GATEWAY_WEB_DIR"] == str(tmp_path / "dist")


def test_make_up_makes_gentle_usage_for_the_demo_lines_and_the_tests_platform_none(fake_config: MakeConfig) -> None:
    from simfleet_devstack.__main__ import with_local_usage

    tests_env = Platform(fake_config()).env_for("netsim")
    assert "NETSIM_USAGE_RECORDS_PER_SECOND" not in tests_env  # netsim's default: 0, no usage unless a test asks
    local = with_local_usage(fake_config())
    env = Platform(local).env_for("netsim")
    assert (env["NETSIM_USAGE_RECORDS_PER_SECOND"], env["NETSIM_USAGE_MSISDN_PREFIXES"]) == ("2", "+79991")
    assert "NETSIM_USAGE_RECORDS_PER_SECOND" not in Platform(local).env_for("identity")
    given = with_local_usage(fake_config(extra_env={"netsim": {"NETSIM_USAGE_RECORDS_PER_SECOND": "0"}}))
    assert Platform(given).env_for("netsim")["NETSIM_USAGE_RECORDS_PER_SECOND"] == "0", "what is given wins"
