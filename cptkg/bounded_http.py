"""HTTP for talking to SPARQL endpoints and stores, bounded: only http(s) URLs, a total deadline
for the whole exchange (a server that trickles a byte every few seconds cannot hold cptkg), and a
cap on the size of an answer. Every failure is an InputError that names the server."""

from __future__ import annotations

import threading
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

from cptkg.errors import InputError

DEFAULT_DEADLINE = 120.0
DEFAULT_MAX_BYTES = 256 * 1024 * 1024
_CHUNK = 1 << 16


@dataclass
class _Outcome:
    body: bytes | None = None
    error: InputError | None = None


def check_url(url: str, what: str) -> None:
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InputError(f"{what} must be an http(s) URL, not {url!r}")


def request(url: str, *, data: bytes | None = None, method: str | None = None,
            headers: dict[str, str] | None = None, what: str = "server",
            deadline: float = DEFAULT_DEADLINE, max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
    """The body of the answer to one request, read within ``deadline`` seconds in all."""
    check_url(url, what)
    outcome = _Outcome()
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})

    def exchange() -> None:
        try:
            # The socket timeout bounds each wait; the thread's join bounds the whole exchange.
            with urllib.request.urlopen(req, timeout=min(deadline, 30.0)) as response:
                chunks, size = [], 0
                while chunk := response.read(_CHUNK):
                    size += len(chunk)
                    if size > max_bytes:
                        raise InputError(f"{what} {url} sent more than {max_bytes >> 20} MiB: refused")
                    chunks.append(chunk)
                outcome.body = b"".join(chunks)
        except InputError as err:
            outcome.error = err
        except urllib.error.HTTPError as err:
            detail = err.read(300).decode("utf-8", "replace").strip().splitlines()
            outcome.error = InputError(f"{what} {url} answered {err.code}"
                                       f"{' to ' + method if method else ''}: {detail[0] if detail else err.reason}")
        except (urllib.error.URLError, OSError, ValueError) as err:
            outcome.error = InputError(f"cannot reach {what} {url}: {getattr(err, 'reason', err)}")

    worker = threading.Thread(target=exchange, name="cptkg-http", daemon=True)
    worker.start()
    worker.join(deadline)
    if worker.is_alive():
        # The daemon thread is abandoned; its socket times out on its own.
        raise InputError(f"{what} {url} did not answer in full within {deadline:g} s (--timeout)")
    if outcome.error is not None:
        raise outcome.error
    assert outcome.body is not None
    return outcome.body
