"""What every server checks before it loads anything: the port is free, and who can reach it.

Shared by the web UI (rag/webui.py) and the HTTP API (rag/api.py), so
both fail the same way, in one line, before spending seconds on models.
"""

from __future__ import annotations

import ipaddress
import socket


class StartError(Exception):
    """The server cannot start; the message is one line for the user."""


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_port(host: str, port: int) -> None:
    """Fail before loading models when the port is taken (the server binds the same way)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            raise StartError(f"cannot listen on {host}:{port} ({exc.strerror or exc}); choose another --port")
