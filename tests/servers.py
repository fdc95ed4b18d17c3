"""Real servers the tests start and stop: an Oxigraph SPARQL server, and a listener that records
every connection made to it (to prove that nothing reached the network)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def stop(proc: subprocess.Popen[bytes]) -> None:
    """Ask a server to stop, and make sure it has."""
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def oxigraph_binary() -> str:
    beside = Path(sys.executable).parent / "oxigraph"
    found = str(beside) if beside.exists() else shutil.which("oxigraph")
    if not found:
        raise RuntimeError("the oxigraph server binary is missing: pip install oxigraph")
    return found


@contextmanager
def oxigraph_server(location: Path) -> Iterator[str]:
    """An Oxigraph server on 127.0.0.1; yields its base URL."""
    port = free_port()
    proc = subprocess.Popen([oxigraph_binary(), "serve", "--location", str(location), "--bind",
                             f"127.0.0.1:{port}"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"oxigraph exited: {proc.stderr.read().decode() if proc.stderr else ''}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("oxigraph did not start in 60 s") from None
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(proc)


class Listener:
    """Accepts and records connections on 127.0.0.1 until stopped (bounded: it only listens)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = int(self.sock.getsockname()[1])
        self.connections: list[tuple[str, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, addr = self.sock.accept()
            except OSError:
                continue
            self.connections.append(addr)
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.sock.close()


class TrickleServer:
    """An HTTP server on 127.0.0.1 that misbehaves on purpose, within bounds: ``mode="trickle"``
    answers 200 and then one byte every ``interval`` seconds (at most ``limit`` bytes);
    ``mode="huge"`` sends ``limit`` bytes of JSON-looking data as fast as it can. It stops itself
    after ``lifetime`` seconds."""

    def __init__(self, mode: str, *, interval: float = 1.0, limit: int = 60, lifetime: float = 60.0) -> None:
        import http.server

        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                self.send_response(200)
                self.send_header("Content-Type", "application/sparql-results+json")
                self.end_headers()
                started = time.monotonic()
                try:
                    if mode == "trickle":
                        for _ in range(limit):
                            if outer._stop.is_set() or time.monotonic() - started > lifetime:
                                return
                            self.wfile.write(b" ")
                            self.wfile.flush()
                            time.sleep(interval)
                    else:
                        block = b" " * (1 << 20)
                        for _ in range(limit):
                            if outer._stop.is_set():
                                return
                            self.wfile.write(block)
                except OSError:
                    return

            do_PUT = do_POST

            def log_message(self, *args: object) -> None:
                pass

        self._stop = threading.Event()
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=5)


@contextmanager
def cptkg_server(*args: str, log: Path) -> Iterator[str]:
    """`cptkg serve` on a free loopback port (with ``args``), its stderr in ``log``; yields its base
    URL once /metadata answers, and stops it afterwards."""
    import os
    import urllib.request

    port = free_port()
    with log.open("wb") as err:
        proc = subprocess.Popen([sys.executable, "-m", "cptkg", "serve", "--port", str(port), *args],
                                stdout=subprocess.DEVNULL, stderr=err, env=dict(os.environ))
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"cptkg serve exited: {log.read_text(errors='replace')}")
            try:
                with urllib.request.urlopen(f"{base}/metadata", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("cptkg serve did not answer in 120 s") from None
                time.sleep(0.2)
        yield base
    finally:
        stop(proc)
