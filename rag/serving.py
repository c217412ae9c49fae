"""What every server checks before it loads anything: the port is free, and who can reach it.

Shared by the web UI (rag/webui.py) and the HTTP API (rag/api.py), so
both fail the same way, in one line, before spending seconds on models.
"""

from __future__ import annotations

import ipaddress
import os
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


def api_key_from_env(env_name: str | None) -> str | None:
    """The API key in the environment variable `env_name`; None when no variable is named."""
    if not env_name:
        return None
    key = os.environ.get(env_name, "")
    if not key:
        raise StartError(f"--api-key-env names {env_name}, which is not set (or empty) in the environment")
    return key


def open_api_warning(host: str, key: str | None) -> str | None:
    """The warning for an API reachable from other machines that answers without a key."""
    if is_loopback(host) or key:
        return None
    return f"warning: the API on {host} answers anyone who can reach it; set --api-key-env to require a key"
