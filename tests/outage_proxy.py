"""A TCP proxy on 127.0.0.1 in front of a sandbox, for tests of outages and cut streams."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from typing import Any


class OutageProxy:
    """A TCP proxy on 127.0.0.1 in front of the sandbox: ``down()`` cuts every connection and
    refuses new ones (the API server stopped), ``up()`` accepts again, ``drop()`` only cuts."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.refusing = threading.Event()
        # Plain-HTTP servers only: a request whose head matches still reaches the server, but
        # its answer is lost (the connection is cut instead), as when the network fails mid-write.
        self.lose_reply_to: Callable[[bytes], bool] | None = None
        # A stalled server (``stall``): requests reach it only when ``resume`` delivers them.
        self.stall_after: Callable[[bytes], bool] | None = None
        self.stalled = threading.Event()
        self._resumed = threading.Event()
        self._deliver = True
        self.accepted = 0
        self._lock = threading.Lock()
        self._socks: set[socket.socket] = set()
        self._threads: list[threading.Thread] = []
        self._spawn(self._accept_loop)

    def _spawn(self, fn: Callable[..., None], *args: Any) -> None:
        t = threading.Thread(target=fn, args=args, daemon=True)
        self._threads.append(t)
        t.start()

    def _accept_loop(self) -> None:
        while True:
            try:
                down, _ = self.listener.accept()
            except OSError:
                return
            if self.refusing.is_set():
                down.close()
                continue
            try:
                up = socket.create_connection(("127.0.0.1", self.target_port), timeout=5)
                up.settimeout(None)
            except OSError:
                down.close()
                continue
            with self._lock:
                # ``down()`` may have cut the open connections while this one was being made:
                # checked under the lock it takes, so no connection outlives an outage.
                if self.refusing.is_set():
                    down.close()
                    up.close()
                    continue
                self.accepted += 1
                self._socks |= {down, up}
            doomed = threading.Event()  # the next answer on this connection is lost
            self._spawn(self._pump, down, up, doomed, False)
            self._spawn(self._pump, up, down, doomed, True)

    def _pump(self, src: socket.socket, dst: socket.socket, doomed: threading.Event, replies: bool) -> None:
        held = False
        try:
            while data := src.recv(65536):
                if replies and doomed.is_set():
                    break  # the server answered; the answer never arrives
                if not replies and self.lose_reply_to is not None and self.lose_reply_to(data):
                    doomed.set()
                if not replies and (self.stalled.is_set() or (self.stall_after is not None
                                                              and self.stall_after(data))):
                    self.stalled.set()
                    held = True
                    self._resumed.wait()  # the server does not read it until it recovers
                    if not self._deliver:
                        break
                dst.sendall(data)
        except OSError:
            pass
        if held and self._deliver:
            # The client gave up long ago; the server still answers the late request. Leave the
            # connection to the answering direction, which closes both ends once it is done.
            return
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        with self._lock:
            self._socks -= {src, dst}
        for s in (src, dst):
            s.close()

    def drop(self) -> None:
        """Cut every open connection mid-stream."""
        with self._lock:
            socks = list(self._socks)
        for s in socks:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def stall(self, after: Callable[[bytes], bool] | None = None) -> None:
        """The server stops reading requests: from the first request head matching ``after``
        (every request when None) on, all of them wait, until ``resume``."""
        self._resumed.clear()
        self._deliver = True
        if after is None:
            self.stalled.set()
        else:
            self.stall_after = after

    def resume(self, deliver: bool = True) -> None:
        """The server recovers: the waiting requests are served (``deliver``) or lost (their
        connections cut), and new ones go through."""
        self._deliver = deliver
        self.stall_after = None
        self.stalled.clear()
        self._resumed.set()

    def down(self) -> None:
        """The API server is gone: open connections cut, new ones refused."""
        with self._lock:
            self.refusing.set()
        self.drop()

    def up(self) -> None:
        """The API server is back."""
        self.refusing.clear()

    def close(self) -> None:
        """Stop listening, cut everything, join the pump threads."""
        self.resume(deliver=False)
        try:
            self.listener.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.listener.close()
        self.drop()
        for t in self._threads:
            t.join(timeout=5)
