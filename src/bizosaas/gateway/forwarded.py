"""Who the client is: forwarding headers, believed only from the proxies we were told to trust.

A reverse proxy names the client it relays for in `X-Forwarded-For` / `Forwarded` and the
scheme it was reached over in `X-Forwarded-Proto` / `Forwarded: proto=`. Anyone can send these
headers, so they count only when the peer that connected to us is on
`BIZOSAAS_TRUSTED_PROXIES`; otherwise they are removed from the request, so nothing further in
(rate limits, logs, login throttling, the upstream proxy) can be misled by them. Nothing is
trusted by default, not even 127.0.0.1: any local process or a local proxy that is not
configured would otherwise choose its own client address and step round per-address limits.

The server must leave these headers alone (uvicorn runs with `proxy_headers=False`); this
middleware, the outermost layer, applies one rule under any server.

With a trusted peer the client is the right-most address in the chain that is not itself a
trusted proxy (each proxy appends the address it saw, so only the part written by trusted
proxies is believed).
"""

from __future__ import annotations

from collections.abc import Sequence
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

PROXY_PEER_STATE = "proxy_peer"
"""Request-state key: the trusted proxy that relayed this request (for the next hop's chain)."""
FORWARDED_STATE = "forwarded"
"""Request-state key: True when the request carried forwarding headers (trusted or not)."""

FORWARDING_HEADERS = frozenset(
    {
        b"forwarded",
        b"x-forwarded-for",
        b"x-forwarded-proto",
        b"x-forwarded-host",
        b"x-forwarded-port",
        b"x-forwarded-prefix",
        b"x-real-ip",
    }
)
_SCHEMES = {"http": ("http", "ws"), "https": ("https", "wss")}


def _address(text: str) -> IPv4Address | IPv6Address | None:
    """An address from a chain entry: `1.2.3.4`, `1.2.3.4:80`, `[::1]:80`, `"[::1]"`, `::1`."""
    value = text.strip().strip('"')
    if value.startswith("["):
        value = value[1 : value.find("]")] if "]" in value else value[1:]
    elif value.count(":") == 1:
        value = value.split(":", 1)[0]
    try:
        found = ip_address(value)
    except ValueError:
        return None
    if isinstance(found, IPv6Address) and found.ipv4_mapped is not None:
        return found.ipv4_mapped
    return found


def _forwarded_pairs(value: str) -> list[dict[str, str]]:
    """RFC 7239 `Forwarded`: one dict of lower-cased parameters per hop."""
    hops = []
    for element in value.split(","):
        params: dict[str, str] = {}
        for pair in element.split(";"):
            name, _, raw = pair.partition("=")
            if raw:
                params[name.strip().lower()] = raw.strip().strip('"')
        hops.append(params)
    return hops


class TrustedProxyMiddleware:
    def __init__(self, app: ASGIApp, *, trusted: Sequence[str]) -> None:
        self.app = app
        self.networks: tuple[IPv4Network | IPv6Network, ...] = tuple(
            ip_network(entry, strict=False) for entry in trusted
        )

    def is_trusted(self, address: IPv4Address | IPv6Address | None) -> bool:
        return address is not None and any(address in network for network in self.networks)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers: list[tuple[bytes, bytes]] = scope["headers"]
        if not any(name in FORWARDING_HEADERS for name, _ in headers):
            await self.app(scope, receive, send)
            return
        state: dict[str, Any] = scope.setdefault("state", {})
        state[FORWARDED_STATE] = True
        client = scope.get("client")
        peer = _address(client[0]) if client else None
        if not self.is_trusted(peer):
            scope = {
                **scope,
                "headers": [(n, v) for n, v in headers if n not in FORWARDING_HEADERS],
            }
            await self.app(scope, receive, send)
            return
        assert client is not None
        chain, protos = self._chain(headers)
        resolved = self._client(chain)
        scope = dict(scope)
        state[PROXY_PEER_STATE] = client[0]
        if resolved is not None:
            scope["client"] = (str(resolved), 0)
        if protos and protos[-1] in _SCHEMES:
            plain, socket = _SCHEMES[protos[-1]]
            scope["scheme"] = plain if scope["type"] == "http" else socket
        await self.app(scope, receive, send)

    @staticmethod
    def _chain(headers: list[tuple[bytes, bytes]]) -> tuple[list[str], list[str]]:
        """The client chain (left to right) and the schemes, from `Forwarded` when the request
        has it, from `X-Forwarded-For` / `X-Forwarded-Proto` otherwise."""
        forwarded = [v.decode("latin-1") for n, v in headers if n == b"forwarded"]
        if forwarded:
            hops = _forwarded_pairs(",".join(forwarded))
            chain = [hop["for"] for hop in hops if "for" in hop]
            protos = [hop["proto"].lower() for hop in hops if "proto" in hop]
            return chain, protos
        chain, protos = [], []
        for name, value in headers:
            if name == b"x-forwarded-for":
                chain += [part.strip() for part in value.decode("latin-1").split(",")]
            elif name == b"x-forwarded-proto":
                protos += [p.strip().lower() for p in value.decode("latin-1").split(",")]
        return chain, protos

    def _client(self, chain: list[str]) -> IPv4Address | IPv6Address | None:
        """The right-most address that is not a trusted proxy (the left-most when all are)."""
        found: IPv4Address | IPv6Address | None = None
        for entry in reversed(chain):
            address = _address(entry)
            if address is None:
                # `unknown` or an obfuscated name: nothing to the left of it can be believed.
                return found
            found = address
            if not self.is_trusted(address):
                return address
        return found
