"""Which ports are free, and a set of distinct free ports for a test platform."""

from __future__ import annotations

import contextlib
import socket


def port_in_use(port: int) -> bool:
    """True when something already listens on ``port`` (on any local address)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # Servers set SO_REUSEADDR, so a port in TIME_WAIT is free for them: check the same way.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("0.0.0.0", port))  # noqa: S104 - taken if anything listens on any address
        except OSError:
            return True
    return False


def distinct_free_ports(count: int) -> list[int]:
    """``count`` different ports the kernel says are free right now."""
    with contextlib.ExitStack() as stack:
        ports: list[int] = []
        for _ in range(count):
            sock = stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
            sock.bind(("127.0.0.1", 0))
            ports.append(int(sock.getsockname()[1]))
        return ports
