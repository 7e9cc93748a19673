"""A caller that never reads its responses, on a raw HTTP/2 connection: it opens
every stream with a flow-control window of 0, so the server can send no byte of a
response and must hold each one, and it never reads its socket again (so it
answers no ping either). What a hung or malicious client does to a server."""

from __future__ import annotations

import socket
import struct
import time

_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
_DATA, _HEADERS, _SETTINGS = 0x0, 0x1, 0x4
_END_STREAM, _END_HEADERS, _ACK = 0x1, 0x4, 0x1
_INITIAL_WINDOW_SIZE = 0x4


def _frame(kind: int, flags: int, stream: int, payload: bytes) -> bytes:
    header = struct.pack(">I", len(payload))[1:] + bytes((kind, flags)) + struct.pack(">I", stream)
    return header + payload


def _literal(name: str, value: str) -> bytes:
    """An HPACK literal header field without indexing, new name, no Huffman."""
    encoded = []
    for text in (name.encode(), value.encode()):
        assert len(text) < 127, "one-byte HPACK lengths only"
        encoded.append(bytes((len(text),)) + text)
    return b"\x00" + b"".join(encoded)


class StalledCaller:
    """Sends unary gRPC calls over one connection and never reads a response."""

    def __init__(self, host: str, port: int) -> None:
        self.address = f"{host}:{port}"
        self.sock = socket.create_connection((host, port), timeout=5)
        settings = struct.pack(">HI", _INITIAL_WINDOW_SIZE, 0)
        self.sock.sendall(_PREFACE + _frame(_SETTINGS, 0, 0, settings))
        # The server's SETTINGS come first; acknowledging them keeps the connection
        # healthy in every respect but the window.
        self.sock.recv(9 + 6 * 16)
        self.sock.sendall(_frame(_SETTINGS, _ACK, 0, b""))
        self._next_stream = 1

    def call(self, path: str, request: bytes) -> None:
        headers = b"".join(
            _literal(name, value)
            for name, value in (
                (":method", "POST"),
                (":scheme", "http"),
                (":path", path),
                (":authority", self.address),
                ("content-type", "application/grpc"),
                ("te", "trailers"),
            )
        )
        message = b"\x00" + struct.pack(">I", len(request)) + request
        stream, self._next_stream = self._next_stream, self._next_stream + 2
        self.sock.sendall(
            _frame(_HEADERS, _END_HEADERS, stream, headers)
            + _frame(_DATA, _END_STREAM, stream, message)
        )

    def closed_by_server(self, within: float) -> bool:
        """Whether the server closed the connection within `within` seconds (what
        it sent meanwhile, a few small frames, is read and dropped)."""
        deadline = time.monotonic() + within
        try:
            while (left := deadline - time.monotonic()) > 0:
                self.sock.settimeout(left)
                if not self.sock.recv(65536):
                    return True
        except TimeoutError:
            return False
        except ConnectionResetError:
            return True
        return False

    def close(self) -> None:
        self.sock.close()
