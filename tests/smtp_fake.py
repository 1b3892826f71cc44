"""A local SMTP server for tests: receives messages and answers what the test scripts.

``server.replies["RCPT"]`` (or ``"DATA"``, the answer after the message's final dot) is a list of answers
used one per command, in order; once it is empty every command is answered ``250 OK``. Received messages
are in ``server.messages`` (bytes, as sent).
"""

from __future__ import annotations

import socketserver
import threading
from collections.abc import Iterator
from contextlib import contextmanager


class _Handler(socketserver.StreamRequestHandler):
    def _reply(self, command: str, default: bytes) -> bytes:
        script = self.server.replies.get(command)  # type: ignore[attr-defined]
        return script.pop(0) if script else default

    def handle(self) -> None:
        self.wfile.write(b"220 test SMTP\r\n")
        data_mode, lines = False, []
        while True:
            line = self.rfile.readline()
            if not line:
                return
            if data_mode:
                if line in (b".\r\n", b".\n"):
                    data_mode = False
                    answer = self._reply("DATA", b"250 OK")
                    if answer.startswith(b"2"):
                        self.server.messages.append(b"".join(lines))  # type: ignore[attr-defined]
                    lines = []
                    self.wfile.write(answer + b"\r\n")
                else:
                    lines.append(line[1:] if line.startswith(b"..") else line)
                continue
            command = line[:4].upper()
            if command == b"DATA":
                data_mode = True
                self.wfile.write(b"354 go ahead\r\n")
            elif command == b"RCPT":
                self.wfile.write(self._reply("RCPT", b"250 OK") + b"\r\n")
            elif command == b"QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            else:
                self.wfile.write(b"250 OK\r\n")


class FakeSMTP(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.messages: list[bytes] = []
        self.replies: dict[str, list[bytes]] = {}

    @property
    def port(self) -> int:
        return self.server_address[1]


@contextmanager
def running() -> Iterator[FakeSMTP]:
    server = FakeSMTP()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
