"""A TCP proxy a test can cut and restore: an S3 endpoint that goes away and comes back, without losing data.

The session's S3 endpoint is moto's server, which keeps every object in memory: stopping it for
real would lose the store, so the "stopped endpoint" of the fault suite is this proxy in front
of it. ``cut()`` closes every open connection and the listening socket (clients get connection
refused, as from a stopped server); ``restore()`` listens again on the same port. ``cut_on``
cuts the moment a request whose first line matches arrives, before any byte of it is
forwarded, so a test can stop the endpoint in the middle of a publish.
"""

from __future__ import annotations

import contextlib
import re
import socket
import threading
from collections.abc import Iterator

from tests.conftest import free_port


class CuttableProxy:
    """Forwards ``127.0.0.1:<port>`` to ``target`` (host, port) until cut."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = free_port()
        self.cut_on: re.Pattern[bytes] | None = None
        self.cuts = 0  # how many times the endpoint went away
        self.refused_while_cut = 0
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._listener: socket.socket | None = None
        self._cut = threading.Event()

    @property
    def url(self) -> str:
        """The endpoint URL clients use instead of the real one."""
        return f"http://127.0.0.1:{self.port}"

    # -- control ---------------------------------------------------------------------------------
    def restore(self) -> None:
        """Listen (again) on the proxy's port."""
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._cut.clear()
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True, name="proxy-accept").start()

    def cut(self) -> None:
        """Stop listening and close every connection: the endpoint is gone."""
        self._cut.set()
        with self._lock:
            self.cuts += 1
            listener, self._listener = self._listener, None
            sockets, self._sockets = self._sockets, set()
        for sock in [listener, *sockets]:
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()

    @property
    def is_cut(self) -> bool:
        """Whether the endpoint is gone right now."""
        return self._cut.is_set()

    def close(self) -> None:
        """Cut, for good (teardown)."""
        self.cut()

    # -- forwarding ------------------------------------------------------------------------------
    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:  # closed by cut()
                return
            try:
                upstream = socket.create_connection(self.target, timeout=10)
            except OSError:
                client.close()
                continue
            with self._lock:
                if self._cut.is_set():
                    self.refused_while_cut += 1
                    client.close()
                    upstream.close()
                    continue
                self._sockets |= {client, upstream}
            threading.Thread(target=self._pipe, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pipe, args=(upstream, client, False), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket, from_client: bool) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                if from_client and self.cut_on is not None and self.cut_on.search(data.split(b"\r\n", 1)[0]):
                    self.cut_on = None
                    self.cut()
                    return
                sink.sendall(data)
        for sock in (source, sink):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


@contextlib.contextmanager
def cuttable_proxy(endpoint_url: str) -> Iterator[CuttableProxy]:
    """A running :class:`CuttableProxy` in front of ``endpoint_url`` (``http://host:port``)."""
    host, port = endpoint_url.removeprefix("http://").rsplit(":", 1)
    proxy = CuttableProxy((host, int(port)))
    proxy.restore()
    try:
        yield proxy
    finally:
        proxy.close()
