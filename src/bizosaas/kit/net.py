"""Local TCP ports: is one free to listen on, and which one is."""

from __future__ import annotations

import socket


def bind_error(host: str, port: int) -> OSError | None:
    """Why `host:port` cannot be listened on now (None when it can)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            return error
    return None


def port_is_free(host: str, port: int) -> bool:
    return bind_error(host, port) is None


def free_port(host: str = "127.0.0.1") -> int:
    """A port the system has just left unused (for test and dev servers)."""
    with socket.socket() as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])
