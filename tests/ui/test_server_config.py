"""Localhost only (issue 15, item 8): the server options, and a live check that the app's
WebSocket refuses a foreign Host header (DNS rebinding)."""

from __future__ import annotations

import base64
import os
import socket
import tomllib
from pathlib import Path

from harness import serve_app

REPO = Path(__file__).resolve().parents[2]


def test_the_server_options_are_safe_by_default():
    cfg = tomllib.loads((REPO / ".streamlit" / "config.toml").read_text())
    server = cfg["server"]
    assert server["address"] == "127.0.0.1"
    assert server["enableXsrfProtection"] is True and server["enableCORS"] is True
    assert server["corsAllowedOrigins"] == []
    assert sorted(server["allowedHosts"]) == ["127.0.0.1", "localhost"]
    assert cfg["browser"]["gatherUsageStats"] is False


def _upgrade(port: int, host: str) -> str:
    """The status line of a WebSocket upgrade to the app's stream with this Host header."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        key = base64.b64encode(os.urandom(16)).decode()
        s.sendall((f"GET /_stcore/stream HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\n"
                   f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                   f"Origin: http://{host}\r\n\r\n").encode())
        return s.recv(200).split(b"\r\n")[0].decode()


def test_a_foreign_host_header_gets_no_websocket():
    with serve_app() as url:
        port = int(url.rsplit(":", 1)[1])
        assert " 101 " in _upgrade(port, f"localhost:{port}")
        assert " 101 " in _upgrade(port, f"127.0.0.1:{port}")
        assert " 403 " in _upgrade(port, f"rebind.attacker.invalid:{port}")
