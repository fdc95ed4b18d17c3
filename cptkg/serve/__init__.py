"""`cptkg serve`: claim validation, FHIR terminology operations and SPARQL over HTTP (an ASGI
application on uvicorn), loading the graph and compiling the rules once."""

from __future__ import annotations

from typing import Any

from cptkg.serve.app import Settings, create_app

__all__ = ["Settings", "create_app", "run"]


def run(settings: Settings, host: str = "127.0.0.1", port: int = 8000, log_level: str = "info") -> None:
    """Serve until interrupted (Ctrl-C)."""
    import logging
    import sys

    import uvicorn

    # One JSON object per line on stderr, without the command line's "cptkg: " prefix, so that log
    # collectors can parse it.
    access = logging.getLogger("cptkg.serve.access")
    if not access.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        access.addHandler(handler)
        access.propagate = False
        access.setLevel(logging.INFO)
    # uvicorn's own access log is off: cptkg.serve.access writes one JSON line per request.
    config: Any = uvicorn.Config(create_app(settings), host=host, port=port, access_log=False,
                                 log_level=log_level, server_header=False, timeout_graceful_shutdown=5)
    uvicorn.Server(config).run()
