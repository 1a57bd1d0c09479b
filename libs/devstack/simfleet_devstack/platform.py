"""The whole SIMfleet platform on one machine, as processes: NATS and the eight services (billing as two).

Used by ``make up`` (``python -m simfleet_devstack``), by the end-to-end tests
and by the benchmark::

    config = PlatformConfig.free_ports(tmp_path)      # or PlatformConfig(data_dir=...) for the usual ports
    with Platform(config) as platform:                # start() + wait_ready()
        platform.seed()                               # the demo customer and its manager (idempotent)
        httpx.post(f"{platform.gateway_url}/v1/auth/otp", json={...})
        platform.stop_nats(); platform.start_nats()   # fault tests
        platform.set_clock_offset(20 * 60)            # needs config.clock_file
    # stop(): the gateway, then the services side by side, then NATS; each SIGTERM then SIGKILL

billing runs as two processes, as in a cluster (two Deployments): ``billing``
(its API and everything else, ``BILLING_ROLE=api``) and ``billing-rater``
(rating the network's usage, ``BILLING_ROLE=rater``), so that rating's
batches never hold up the API's reads. The rater does not migrate; it waits
until billing has (``BILLING_AWAIT_MIGRATIONS``).

Each service runs as ``sys.executable -m <service>`` with its settings in the
environment (``IDENTITY_*``, ``NETSIM_*``, ``GATEWAY_*``; see :meth:`Platform.env_for`),
its output in ``<data_dir>/logs/<service>.log``. Children are in their own
session and die with the launcher (see :mod:`simfleet_devstack.process`); call
:meth:`Platform.start` from the main thread.

The API is synchronous and every call returns within its timeout; from async
code, a blocking call of a second or two (start/stop of NATS) is acceptable in
tests, or wrap it in ``asyncio.to_thread`` except for the start methods (see the
thread note above).
"""

from __future__ import annotations

import os
import socket
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from simfleet_devstack import databases, probes
from simfleet_devstack.ports import distinct_free_ports, port_in_use
from simfleet_devstack.process import ManagedProcess
from simfleet_devstack.seed import create_demo_operator, onboard_demo_customer, seed_demo_lines
from simfleet_runtime.testing import nats_server_binary

NATS = "nats"
NETSIM = "netsim"
IDENTITY = "identity"
ACCOUNTS = "accounts"
INVENTORY = "inventory"
BILLING = "billing"
BILLING_RATER = "billing-rater"
TICKETING = "ticketing"
NOTIFICATIONS = "notifications"
GATEWAY = "gateway"
SERVICES = (NETSIM, IDENTITY, ACCOUNTS, INVENTORY, BILLING, BILLING_RATER, TICKETING, NOTIFICATIONS, GATEWAY)
"""The Python processes, in start order (stop order is the reverse, NATS last)."""
MODULES = {BILLING_RATER: BILLING}
"""The package a process runs when it is not its own name (``python -m <package>``)."""
DATABASE_SERVICES = (NETSIM, IDENTITY, ACCOUNTS, INVENTORY, BILLING, TICKETING, NOTIFICATIONS)
LOCALHOST = "127.0.0.1"
LOCAL_FRONTEND_ORIGINS = (
    "http://localhost:3000",
    "http://127.0.0.1:3000",
    "http://localhost:5173",
    "http://127.0.0.1:5173",
)
"""Where a frontend's development server runs (webpack's and Vite's ports): the browser may call the gateway."""


class PlatformError(RuntimeError):
    """A process of the platform failed to start, died, or did not get ready in time."""

    def __init__(self, message: str, *, service: str = "", log_tail: str = "") -> None:
        detail = f"{message}\n--- last lines of {service}'s log ---\n{log_tail}" if log_tail else message
        super().__init__(detail)
        self.service = service
        self.log_tail = log_tail


class PortsInUseError(PlatformError):
    """Some of the platform's ports are taken by another process."""

    def __init__(self, taken: dict[str, int]) -> None:
        listing = ", ".join(f"{label} {port}" for label, port in taken.items())
        super().__init__(f"ports already in use: {listing}")
        self.taken = taken


@dataclass(frozen=True)
class PlatformConfig:
    """Where the platform keeps its data and which ports it uses (the defaults are ``make up``'s)."""

    data_dir: Path
    nats_port: int = 14222
    identity_grpc: int = 50051
    identity_metrics: int = 9101
    netsim_grpc: int = 50061
    netsim_metrics: int = 9106
    accounts_grpc: int = 50071
    accounts_metrics: int = 9107
    inventory_grpc: int = 50081
    inventory_metrics: int = 9108
    billing_grpc: int = 50091
    billing_metrics: int = 9109
    billing_rater_grpc: int = 50092
    billing_rater_metrics: int = 9110
    ticketing_grpc: int = 50101
    ticketing_metrics: int = 9111
    notifications_grpc: int = 50111
    notifications_metrics: int = 9112
    smtp_port: int = 2525
    netsim_http: int = 8090
    gateway_http: int = 8080
    operator_key: str = "local-operator-key"
    clock_file: Path | None = None
    """When set, the services and the gateway read a clock offset from this file (set_clock_offset)."""
    extra_env: dict[str, dict[str, str]] = field(default_factory=dict)
    """More environment per process, by name ("identity", "netsim", "gateway", "nats"); wins over ours."""
    postgres_url: str | None = None
    """A PostgreSQL server (any database URL on it); each service then gets its own database there."""
    postgres_prefix: str = "simfleet"
    """Database names on that server: <prefix>_identity, <prefix>_netsim, <prefix>_accounts."""
    postgres_reset: bool = False
    """Drop and re-create those databases at start (fresh state for tests)."""
    service_commands: dict[str, list[str]] = field(default_factory=dict)
    """Replace a service's command line (by name); the default is ``sys.executable -m <service>``."""
    stop_timeout: float = 10.0
    """Seconds each process gets to exit after SIGTERM before SIGKILL."""
    web_dir: Path | None = None
    """The built web console (``web/dist``) the gateway serves at ``/``; None: the gateway serves the API only."""

    @classmethod
    def free_ports(cls, data_dir: Path, **overrides: Any) -> PlatformConfig:
        """A config on distinct free ports (for tests and the benchmark); other fields as ``overrides``."""
        names = (
            "nats_port",
            "identity_grpc",
            "identity_metrics",
            "netsim_grpc",
            "netsim_metrics",
            "accounts_grpc",
            "accounts_metrics",
            "inventory_grpc",
            "inventory_metrics",
            "billing_grpc",
            "billing_metrics",
            "billing_rater_grpc",
            "billing_rater_metrics",
            "ticketing_grpc",
            "ticketing_metrics",
            "notifications_grpc",
            "notifications_metrics",
            "smtp_port",
            "netsim_http",
            "gateway_http",
        )
        ports = dict(zip(names, distinct_free_ports(len(names)), strict=True))
        return cls(data_dir=data_dir, **{**ports, **overrides})

    def ports(self) -> dict[str, int]:
        """Every port the platform listens on, by a label people understand."""
        return {
            "NATS": self.nats_port,
            "netsim gRPC": self.netsim_grpc,
            "netsim metrics": self.netsim_metrics,
            "netsim SMTP sink": self.smtp_port,
            "netsim console HTTP": self.netsim_http,
            "identity gRPC": self.identity_grpc,
            "identity metrics": self.identity_metrics,
            "accounts gRPC": self.accounts_grpc,
            "accounts metrics": self.accounts_metrics,
            "inventory gRPC": self.inventory_grpc,
            "inventory metrics": self.inventory_metrics,
            "billing gRPC": self.billing_grpc,
            "billing metrics": self.billing_metrics,
            "billing-rater gRPC (health)": self.billing_rater_grpc,
            "billing-rater metrics": self.billing_rater_metrics,
            "ticketing gRPC": self.ticketing_grpc,
            "ticketing metrics": self.ticketing_metrics,
            "notifications gRPC": self.notifications_grpc,
            "notifications metrics": self.notifications_metrics,
            "gateway HTTP": self.gateway_http,
        }


class Platform:
    """Starts, watches and stops the platform's processes. See the module docstring."""

    def __init__(self, config: PlatformConfig) -> None:
        self.config = config
        self.processes: dict[str, ManagedProcess] = {}
        self._expected: set[str] = set()

    # ------------------------------------------------------------ addresses
    @property
    def data_dir(self) -> Path:
        return self.config.data_dir

    @property
    def logs_dir(self) -> Path:
        return self.config.data_dir / "logs"

    @property
    def nats_store_dir(self) -> Path:
        return self.config.data_dir / "nats"

    @property
    def nats_url(self) -> str:
        return f"nats://{LOCALHOST}:{self.config.nats_port}"

    @property
    def gateway_url(self) -> str:
        return f"http://{LOCALHOST}:{self.config.gateway_http}"

    @property
    def console_url(self) -> str:
        """netsim's HTTP console: /handsets/{msisdn}/sms, /mailboxes/{address}."""
        return f"http://{LOCALHOST}:{self.config.netsim_http}"

    @property
    def identity_target(self) -> str:
        return f"{LOCALHOST}:{self.config.identity_grpc}"

    @property
    def netsim_target(self) -> str:
        return f"{LOCALHOST}:{self.config.netsim_grpc}"

    @property
    def accounts_target(self) -> str:
        return f"{LOCALHOST}:{self.config.accounts_grpc}"

    @property
    def inventory_target(self) -> str:
        return f"{LOCALHOST}:{self.config.inventory_grpc}"

    @property
    def billing_target(self) -> str:
        return f"{LOCALHOST}:{self.config.billing_grpc}"

    @property
    def billing_rater_target(self) -> str:
        """The rater's gRPC port: health only (it serves no API)."""
        return f"{LOCALHOST}:{self.config.billing_rater_grpc}"

    @property
    def ticketing_target(self) -> str:
        return f"{LOCALHOST}:{self.config.ticketing_grpc}"

    @property
    def notifications_target(self) -> str:
        return f"{LOCALHOST}:{self.config.notifications_grpc}"

    def metrics_urls(self) -> dict[str, str]:
        """Where each service serves Prometheus metrics."""
        return {
            IDENTITY: f"http://{LOCALHOST}:{self.config.identity_metrics}/metrics",
            NETSIM: f"http://{LOCALHOST}:{self.config.netsim_metrics}/metrics",
            ACCOUNTS: f"http://{LOCALHOST}:{self.config.accounts_metrics}/metrics",
            INVENTORY: f"http://{LOCALHOST}:{self.config.inventory_metrics}/metrics",
            BILLING: f"http://{LOCALHOST}:{self.config.billing_metrics}/metrics",
            BILLING_RATER: f"http://{LOCALHOST}:{self.config.billing_rater_metrics}/metrics",
            TICKETING: f"http://{LOCALHOST}:{self.config.ticketing_metrics}/metrics",
            NOTIFICATIONS: f"http://{LOCALHOST}:{self.config.notifications_metrics}/metrics",
            GATEWAY: f"{self.gateway_url}/metrics",
        }

    def log_path(self, name: str) -> Path:
        return self.logs_dir / f"{name}.log"

    def pids(self) -> dict[str, int]:
        """The pid of every running process, by name."""
        return {name: p.pid for name, p in self.processes.items() if p.running() and p.pid is not None}

    def database_url(self, service: str) -> str:
        if self.config.postgres_url:
            return databases.postgres_url(self.config.postgres_url, f"{self.config.postgres_prefix}_{service}")
        return databases.sqlite_url(self.config.data_dir, service)

    # ------------------------------------------------------------ environment
    def env_for(self, service: str) -> dict[str, str]:
        """The environment of a child: ours on top of the launcher's (OTEL_* and the rest pass through)."""
        cfg = self.config
        env = dict(os.environ)
        env["PYTHONUNBUFFERED"] = "1"
        ours: dict[str, str] = {}
        if service == NETSIM:
            ours = {
                "NETSIM_DATABASE_URL": self.database_url(NETSIM),
                "NETSIM_NATS_URL": self.nats_url,
                "NETSIM_GRPC_HOST": LOCALHOST,
                "NETSIM_GRPC_PORT": str(cfg.netsim_grpc),
                "NETSIM_METRICS_HOST": LOCALHOST,
                "NETSIM_METRICS_PORT": str(cfg.netsim_metrics),
                "NETSIM_SMTP_HOST": LOCALHOST,
                "NETSIM_SMTP_PORT": str(cfg.smtp_port),
                "NETSIM_HTTP_HOST": LOCALHOST,
                "NETSIM_HTTP_PORT": str(cfg.netsim_http),
            }
        elif service == IDENTITY:
            ours = {
                "IDENTITY_DATABASE_URL": self.database_url(IDENTITY),
                "IDENTITY_NATS_URL": self.nats_url,
                "IDENTITY_GRPC_HOST": LOCALHOST,
                "IDENTITY_GRPC_PORT": str(cfg.identity_grpc),
                "IDENTITY_METRICS_HOST": LOCALHOST,
                "IDENTITY_METRICS_PORT": str(cfg.identity_metrics),
                "IDENTITY_SMTP_HOST": LOCALHOST,
                "IDENTITY_SMTP_PORT": str(cfg.smtp_port),
                "IDENTITY_OPERATOR_KEY": cfg.operator_key,
                # notifications runs beside it and tells customers' users of their sign-ins (ID-7 through NO-1).
                "IDENTITY_SIGN_IN_SMS_BY_NOTIFICATIONS": "true",
            }
        elif service == ACCOUNTS:
            ours = {
                "ACCOUNTS_DATABASE_URL": self.database_url(ACCOUNTS),
                "ACCOUNTS_NATS_URL": self.nats_url,
                "ACCOUNTS_GRPC_HOST": LOCALHOST,
                "ACCOUNTS_GRPC_PORT": str(cfg.accounts_grpc),
                "ACCOUNTS_METRICS_HOST": LOCALHOST,
                "ACCOUNTS_METRICS_PORT": str(cfg.accounts_metrics),
                "ACCOUNTS_OPERATOR_KEY": cfg.operator_key,
                "ACCOUNTS_IDENTITY_TARGET": self.identity_target,
                "ACCOUNTS_INVENTORY_TARGET": self.inventory_target,
            }
        elif service == INVENTORY:
            ours = {
                "INVENTORY_DATABASE_URL": self.database_url(INVENTORY),
                "INVENTORY_NATS_URL": self.nats_url,
                "INVENTORY_GRPC_HOST": LOCALHOST,
                "INVENTORY_GRPC_PORT": str(cfg.inventory_grpc),
                "INVENTORY_METRICS_HOST": LOCALHOST,
                "INVENTORY_METRICS_PORT": str(cfg.inventory_metrics),
                "INVENTORY_OPERATOR_KEY": cfg.operator_key,
                "INVENTORY_IDENTITY_TARGET": self.identity_target,
                "INVENTORY_NETSIM_TARGET": self.netsim_target,
                "INVENTORY_BILLING_TARGET": self.billing_target,
            }
        elif service in (BILLING, BILLING_RATER):
            ours = {
                "BILLING_DATABASE_URL": self.database_url(BILLING),
                "BILLING_NATS_URL": self.nats_url,
                "BILLING_GRPC_HOST": LOCALHOST,
                "BILLING_GRPC_PORT": str(cfg.billing_grpc),
                "BILLING_METRICS_HOST": LOCALHOST,
                "BILLING_METRICS_PORT": str(cfg.billing_metrics),
                "BILLING_OPERATOR_KEY": cfg.operator_key,
                "BILLING_IDENTITY_TARGET": self.identity_target,
                "BILLING_PAYMENT_PROVIDER_TARGET": self.netsim_target,
                "BILLING_SMTP_HOST": LOCALHOST,
                "BILLING_SMTP_PORT": str(cfg.smtp_port),
                "BILLING_ROLE": "api",
            }
            if service == BILLING_RATER:
                # billing's own extra settings apply to its rater too; what makes it the rater stays.
                ours.update(cfg.extra_env.get(BILLING, {}))
                ours.update(
                    BILLING_ROLE="rater",
                    BILLING_GRPC_PORT=str(cfg.billing_rater_grpc),
                    BILLING_METRICS_PORT=str(cfg.billing_rater_metrics),
                    BILLING_MIGRATE_ON_START="false",
                    BILLING_AWAIT_MIGRATIONS="true",
                )
        elif service == TICKETING:
            ours = {
                "TICKETING_DATABASE_URL": self.database_url(TICKETING),
                "TICKETING_NATS_URL": self.nats_url,
                "TICKETING_GRPC_HOST": LOCALHOST,
                "TICKETING_GRPC_PORT": str(cfg.ticketing_grpc),
                "TICKETING_METRICS_HOST": LOCALHOST,
                "TICKETING_METRICS_PORT": str(cfg.ticketing_metrics),
                "TICKETING_OPERATOR_KEY": cfg.operator_key,
                "TICKETING_IDENTITY_TARGET": self.identity_target,
                "TICKETING_ACCOUNTS_TARGET": self.accounts_target,
            }
        elif service == NOTIFICATIONS:
            ours = {
                "NOTIFICATIONS_DATABASE_URL": self.database_url(NOTIFICATIONS),
                "NOTIFICATIONS_NATS_URL": self.nats_url,
                "NOTIFICATIONS_GRPC_HOST": LOCALHOST,
                "NOTIFICATIONS_GRPC_PORT": str(cfg.notifications_grpc),
                "NOTIFICATIONS_METRICS_HOST": LOCALHOST,
                "NOTIFICATIONS_METRICS_PORT": str(cfg.notifications_metrics),
                "NOTIFICATIONS_IDENTITY_TARGET": self.identity_target,
                "NOTIFICATIONS_IDENTITY_OPERATOR_KEY": cfg.operator_key,
                "NOTIFICATIONS_SMTP_HOST": LOCALHOST,
                "NOTIFICATIONS_SMTP_PORT": str(cfg.smtp_port),
                # Locally a burst is gathered for a few seconds, not half a minute.
                "NOTIFICATIONS_GROUPING_WINDOW_SECONDS": "3",
            }
        elif service == GATEWAY:
            ours = {
                "GATEWAY_HTTP_HOST": LOCALHOST,
                "GATEWAY_HTTP_PORT": str(cfg.gateway_http),
                "GATEWAY_CORS_ORIGINS": ",".join(LOCAL_FRONTEND_ORIGINS),
                "GATEWAY_IDENTITY_TARGET": self.identity_target,
                "GATEWAY_ACCOUNTS_TARGET": self.accounts_target,
                "GATEWAY_INVENTORY_TARGET": self.inventory_target,
                "GATEWAY_BILLING_TARGET": self.billing_target,
                "GATEWAY_TICKETING_TARGET": self.ticketing_target,
                "GATEWAY_NOTIFICATIONS_TARGET": self.notifications_target,
            }
            if cfg.web_dir is not None:
                ours["GATEWAY_WEB_DIR"] = str(cfg.web_dir)
        if service in SERVICES:
            ours["OTEL_SERVICE_NAME"] = service
            if cfg.clock_file is not None:
                ours[f"{MODULES.get(service, service).upper()}_CLOCK_FILE"] = str(cfg.clock_file)
        env.update(ours)
        env.update(cfg.extra_env.get(service, {}))
        return env

    def _command(self, service: str) -> list[str]:
        return list(self.config.service_commands.get(service) or [sys.executable, "-m", MODULES.get(service, service)])

    # ------------------------------------------------------------ lifecycle
    def start(self) -> None:
        """Start NATS, then netsim, identity, accounts, inventory, billing, ticketing, notifications and the gateway.

        Raises :class:`PortsInUseError` before starting anything when a port is taken,
        :class:`PlatformError` when NATS does not come up; stops what it started on failure.
        """
        if any(p.running() for p in self.processes.values()):
            raise PlatformError("the platform is already running")
        taken = {label: port for label, port in self.config.ports().items() if port_in_use(port)}
        if taken:
            raise PortsInUseError(taken)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.logs_dir.mkdir(parents=True, exist_ok=True)
        try:
            if self.config.postgres_url:
                names = [f"{self.config.postgres_prefix}_{s}" for s in DATABASE_SERVICES]
                databases.ensure_postgres_databases(self.config.postgres_url, names, reset=self.config.postgres_reset)
            self._start_nats(truncate_log=True)
            for service in SERVICES:
                process = ManagedProcess(
                    service,
                    self._command(service),
                    log_path=self.log_path(service),
                    env=self.env_for(service),
                    cwd=self.data_dir,
                )
                self.processes[service] = process
                process.start(truncate_log=True)
                self._expected.add(service)
        except BaseException:
            self.stop()
            raise

    def wait_ready(self, timeout: float = 60.0) -> None:
        """Block until every service answers its readiness probe.

        identity, accounts and netsim: grpc.health.v1 Check("") is SERVING; netsim's console
        GET /healthz and the gateway's GET /readyz answer 200. Raises
        :class:`PlatformError` (with the log tail) when a process exits or the deadline passes.
        """
        pending: dict[str, Callable[[], bool]] = {
            f"{NETSIM} gRPC health": lambda: probes.grpc_serving(self.netsim_target),
            f"{NETSIM} console /healthz": lambda: probes.http_ok(f"{self.console_url}/healthz"),
            f"{IDENTITY} gRPC health": lambda: probes.grpc_serving(self.identity_target),
            f"{ACCOUNTS} gRPC health": lambda: probes.grpc_serving(self.accounts_target),
            f"{INVENTORY} gRPC health": lambda: probes.grpc_serving(self.inventory_target),
            f"{BILLING} gRPC health": lambda: probes.grpc_serving(self.billing_target),
            f"{BILLING_RATER} gRPC health": lambda: probes.grpc_serving(self.billing_rater_target),
            f"{TICKETING} gRPC health": lambda: probes.grpc_serving(self.ticketing_target),
            f"{NOTIFICATIONS} gRPC health": lambda: probes.grpc_serving(self.notifications_target),
            f"{GATEWAY} /readyz": lambda: probes.http_ok(f"{self.gateway_url}/readyz"),
        }
        deadline = time.monotonic() + timeout
        while True:
            self.raise_if_dead()
            for label, probe in list(pending.items()):
                if probe():
                    del pending[label]
            if not pending:
                return
            if time.monotonic() >= deadline:
                label = next(iter(pending))
                service = label.split()[0]
                process = self.processes.get(service)
                raise PlatformError(
                    f"not ready after {timeout:.0f}s: {', '.join(pending)}",
                    service=service,
                    log_tail=process.log_tail() if process else "",
                )
            time.sleep(0.2)

    def analyze(self) -> None:
        """On PostgreSQL, gather the planner's statistics of every service's database now (nothing on SQLite)."""
        if self.config.postgres_url:
            names = [f"{self.config.postgres_prefix}_{s}" for s in DATABASE_SERVICES]
            databases.analyze_postgres_databases(self.config.postgres_url, names)

    def seed(self) -> bool:
        """Onboard the demo customer (with its lines) and create the demo back-office user unless they exist.

        True when the customer was onboarded now.
        """
        create_demo_operator(self.identity_target, self.config.operator_key)
        created = onboard_demo_customer(self.accounts_target, self.identity_target, self.config.operator_key)
        seed_demo_lines(
            self.accounts_target,
            self.identity_target,
            self.inventory_target,
            self.config.operator_key,
            netsim_target=self.netsim_target,
            billing_target=self.billing_target,
        )
        return created

    def stop(self) -> None:
        """Stop the gateway, then the services (notifications, ticketing, billing, ...) side by side, then NATS.

        Each gets SIGTERM, then SIGKILL after ``stop_timeout``.

        Idempotent.
        """
        self._expected.clear()
        gateway = self.processes.get(GATEWAY)
        if gateway is not None:
            gateway.stop(self.config.stop_timeout)  # no request comes in while the services stop
        services = [
            self.processes[name]
            for name in (NOTIFICATIONS, TICKETING, BILLING_RATER, BILLING, INVENTORY, ACCOUNTS, IDENTITY, NETSIM)
            if name in self.processes
        ]
        for process in services:
            process.terminate()  # they drain side by side: a stop takes as long as the slowest, not the sum
        for process in services:
            process.stop(self.config.stop_timeout)
        nats = self.processes.get(NATS)
        if nats is not None:
            nats.stop(self.config.stop_timeout)  # last: the services' final publishes and acks reach it

    def dead_process(self) -> ManagedProcess | None:
        """A process that should be running but has exited, if any."""
        for name in (NATS, *SERVICES):
            process = self.processes.get(name)
            if name in self._expected and process is not None and not process.running():
                return process
        return None

    def raise_if_dead(self) -> None:
        process = self.dead_process()
        if process is not None:
            raise PlatformError(
                f"{process.name} exited with status {process.returncode}",
                service=process.name,
                log_tail=process.log_tail(),
            )

    def __enter__(self) -> Self:
        """Start the platform and wait until it is ready."""
        self.start()
        try:
            self.wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # ------------------------------------------------------------ faults and time
    def start_nats(self, timeout: float = 15.0) -> None:
        """(Re)start NATS on the same port and store folder; returns once it accepts connections."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._start_nats(truncate_log=False, timeout=timeout)

    def stop_nats(self) -> None:
        """Stop NATS alone (SIGTERM, like a restarting server); the services keep running and reconnect later."""
        self._expected.discard(NATS)
        process = self.processes.get(NATS)
        if process is not None:
            process.stop(self.config.stop_timeout)

    def kill_service(self, name: str) -> None:
        """Kill one service at once (SIGKILL: no drain, no goodbye), as a crash would; the others keep running."""
        self._expected.discard(name)
        process = self.processes.get(name)
        if process is not None:
            process.kill()

    def start_service(self, name: str, timeout: float = 60.0) -> None:
        """(Re)start one service with its usual command and environment; returns once it is ready."""
        if name not in SERVICES:
            raise PlatformError(f"no such service: {name}")
        process = ManagedProcess(
            name, self._command(name), log_path=self.log_path(name), env=self.env_for(name), cwd=self.data_dir
        )
        self.processes[name] = process
        process.start(truncate_log=False)
        self._expected.add(name)
        target = {
            NETSIM: self.netsim_target,
            IDENTITY: self.identity_target,
            ACCOUNTS: self.accounts_target,
            INVENTORY: self.inventory_target,
            BILLING: self.billing_target,
            BILLING_RATER: self.billing_rater_target,
            TICKETING: self.ticketing_target,
            NOTIFICATIONS: self.notifications_target,
        }.get(name)
        deadline = time.monotonic() + timeout
        while not (probes.grpc_serving(target) if target else probes.http_ok(f"{self.gateway_url}/readyz")):
            self.raise_if_dead()
            if time.monotonic() >= deadline:
                raise PlatformError(f"{name} not ready after {timeout:.0f}s", service=name, log_tail=process.log_tail())
            time.sleep(0.2)

    def _start_nats(self, *, truncate_log: bool, timeout: float = 15.0) -> None:
        argv = [
            nats_server_binary(),
            "-js",
            "-sd",
            str(self.nats_store_dir),
            "-p",
            str(self.config.nats_port),
            "-a",
            LOCALHOST,
        ]
        process = ManagedProcess(NATS, argv, log_path=self.log_path(NATS), env=self.env_for(NATS), cwd=self.data_dir)
        self.processes[NATS] = process
        process.start(truncate_log=truncate_log)
        self._expected.add(NATS)
        deadline = time.monotonic() + timeout
        while not _accepts(self.config.nats_port):
            self.raise_if_dead()
            if time.monotonic() >= deadline:
                raise PlatformError(
                    f"NATS does not listen on {self.config.nats_port} after {timeout:.0f}s",
                    service=NATS,
                    log_tail=process.log_tail(),
                )
            time.sleep(0.05)

    def set_clock_offset(self, seconds: float) -> None:
        """Move the services' clocks ``seconds`` ahead of real time (needs ``config.clock_file``).

        Returns once running services will see the new offset (they re-read the
        file at most every 50 ms).
        """
        path = self.config.clock_file
        if path is None:
            raise PlatformError("set_clock_offset needs PlatformConfig.clock_file")
        path.parent.mkdir(parents=True, exist_ok=True)
        scratch = path.with_name(path.name + ".new")
        scratch.write_text(f"{seconds}\n")
        os.replace(scratch, path)
        time.sleep(0.1)


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection((LOCALHOST, port), timeout=0.5):
            return True
    except OSError:
        return False
