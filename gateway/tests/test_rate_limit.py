"""The token bucket behind the sign-in rate limit."""

from __future__ import annotations

from gateway.edge.client_address import ClientAddressResolver
from gateway.edge.rate_limit import TokenBucketLimiter
from gateway.settings import GatewaySettings


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_then_one_token_per_interval():
    clock = FakeClock()
    limiter = TokenBucketLimiter(per_minute=30, burst=3, clock=clock)  # a token every 2 s

    assert [limiter.acquire("a") for _ in range(3)] == [0, 0, 0]
    assert limiter.acquire("a") == 2
    clock.now += 1.0
    assert limiter.acquire("a") == 1
    clock.now += 1.0
    assert limiter.acquire("a") == 0
    assert limiter.acquire("a") == 2


def test_a_quiet_client_gets_its_burst_back_but_no_more():
    clock = FakeClock()
    limiter = TokenBucketLimiter(per_minute=60, burst=2, clock=clock)
    limiter.acquire("a")
    limiter.acquire("a")

    clock.now += 3600
    assert [limiter.acquire("a") for _ in range(3)] == [0, 0, 1]


def test_clients_have_their_own_buckets():
    limiter = TokenBucketLimiter(per_minute=1, burst=1, clock=FakeClock())

    assert limiter.acquire("a") == 0
    assert limiter.acquire("a") == 60
    assert limiter.acquire("b") == 0


def test_the_table_forgets_the_least_recently_seen_clients():
    limiter = TokenBucketLimiter(per_minute=1, burst=1, max_keys=2, clock=FakeClock())
    limiter.acquire("a")
    limiter.acquire("b")
    limiter.acquire("a")  # a is now the most recent
    limiter.acquire("c")  # b goes

    assert len(limiter) == 2
    assert limiter.acquire("a") == 60  # still remembered, still empty
    assert limiter.acquire("b") == 0  # forgotten: a fresh bucket


def test_zero_per_minute_means_off():
    limiter = TokenBucketLimiter(per_minute=0, burst=1)

    assert not limiter.enabled
    assert {limiter.acquire("a") for _ in range(100)} == {0}
    assert len(limiter) == 0


def _resolver(proxies: str) -> ClientAddressResolver:
    return ClientAddressResolver(GatewaySettings(trusted_proxies=proxies).trusted_proxies)


def test_client_address_rules():
    resolver = _resolver("10.0.0.0/8,fd00::/8")

    assert resolver.resolve("203.0.113.1", "198.51.100.7") == "203.0.113.1"
    assert resolver.resolve("10.0.0.1", None) == "10.0.0.1"
    assert resolver.resolve("10.0.0.1", "198.51.100.7") == "198.51.100.7"
    assert resolver.resolve("10.0.0.1", "1.1.1.1, 198.51.100.7, 10.2.3.4") == "198.51.100.7"
    assert resolver.resolve("10.0.0.1", "10.9.9.9, 10.2.3.4") == "10.9.9.9"
    assert resolver.resolve("10.0.0.1", "garbage, 198.51.100.7") == "198.51.100.7"
    assert resolver.resolve("10.0.0.1", "198.51.100.7, garbage") == "10.0.0.1"
    assert resolver.resolve("fd00::1", "2001:db8::5") == "2001:db8::5"
    assert resolver.resolve("10.0.0.1", "[2001:db8::5]:443") == "2001:db8::5"
    assert resolver.resolve("10.0.0.1", "198.51.100.7:5000") == "198.51.100.7"
    assert resolver.resolve(None, "198.51.100.7") == ""
