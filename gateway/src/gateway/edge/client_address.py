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


class ClientAddressResolver:
    def __init__(self, trusted_proxies: Sequence[Network]) -> None:
        self._trusted = list(trusted_proxies)

    def _is_trusted(self, address: Address) -> bool:
        return any(address.version == net.version and address in net for net in self._trusted)

    def resolve(self, peer: str | None, forwarded_for: str | None) -> str:
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
