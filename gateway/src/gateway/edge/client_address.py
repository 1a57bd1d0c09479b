"""Who the client is: the socket peer, or what trusted proxies say it is.

``X-Forwarded-For`` is believed only when the peer is one of the trusted
proxies; then the client is the right-most address in the header that is not
itself a trusted proxy (each proxy appends the address it saw, so anything
further left may have been written by the client).
"""

from __future__ import annotations

from collections.abc import Sequence
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address

Network = IPv4Network | IPv6Network
Address = IPv4Address | IPv6Address


def _parse(value: str) -> Address | None:
    text = value.strip()
    if text.startswith("[") and "]" in text:  # "[2001:db8::1]:443"
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # "198.51.100.7:443"
        text = text.split(":", 1)[0]
    try:
        return ip_address(text)
    except ValueError:
        return None


MEMO_SIZE = 4096
"""Answers kept (the same peer and header come again on every request of a connection); cleared when full."""
MEMO_HEADER_CHARS = 256
"""A longer ``X-Forwarded-For`` is resolved each time, never kept (the memo stays small whatever clients send)."""


class ClientAddressResolver:
    def __init__(self, trusted_proxies: Sequence[Network]) -> None:
        self._trusted = list(trusted_proxies)
        self._memo: dict[tuple[str | None, str | None], str] = {}

    def _is_trusted(self, address: Address) -> bool:
        return any(address.version == net.version and address in net for net in self._trusted)

    def resolve(self, peer: str | None, forwarded_for: str | None) -> str:
        if forwarded_for is not None and len(forwarded_for) > MEMO_HEADER_CHARS:
            return self._resolve(peer, forwarded_for)
        key = (peer, forwarded_for)
        found = self._memo.get(key)
        if found is None:
            if len(self._memo) >= MEMO_SIZE:
                self._memo.clear()
            found = self._memo[key] = self._resolve(peer, forwarded_for)
        return found

    def _resolve(self, peer: str | None, forwarded_for: str | None) -> str:
        peer_address = _parse(peer) if peer else None
        if peer_address is None:
            return peer or ""
        if not forwarded_for or not self._trusted or not self._is_trusted(peer_address):
            return str(peer_address)
        client = peer_address
        for hop in reversed(forwarded_for.split(",")):
            address = _parse(hop)
            if address is None:
                break
            client = address
            if not self._is_trusted(address):
                break
        return str(client)
