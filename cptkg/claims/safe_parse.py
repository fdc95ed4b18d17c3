"""Parsing RDF from untrusted hands: nothing fetched, nothing expanded, one clear error line.

rdflib's JSON-LD parser fetches remote @context documents, and XML parsers may expand DOCTYPE
entities (local files, URLs). Both are refused before rdflib sees the text.
"""

from __future__ import annotations

import json
import re
from typing import Any

from rdflib import Graph

from cptkg.errors import InputError

MAX_JSON_DEPTH = 64
_DOCTYPE = re.compile(r"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
_PREFIX = re.compile(r"(?:@prefix|\bPREFIX)\s", re.IGNORECASE)
MAX_PREFIXES = 1000


def json_depth_ok(value: Any, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether no value is nested deeper than ``limit`` (the document itself at depth 1). Walks the
    containers level by level; scalars are never stacked (a claim has hundreds of them)."""
    level = [value] if isinstance(value, dict | list) else []
    depth = 1
    while level:
        if depth == limit:
            # Anything inside a container at the limit is one level too deep.
            return not any(level_item for level_item in level)
        below: list[Any] = []
        for item in level:
            children = item.values() if isinstance(item, dict) else item
            below.extend(child for child in children if isinstance(child, dict | list))
        level = below
        depth += 1
    return True


def remote_contexts(value: Any) -> list[str]:
    """Every @context (or @import) that names a document instead of holding one inline."""
    found: list[str] = []
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            for key, sub in item.items():
                if key in ("@context", "@import"):
                    contexts = sub if isinstance(sub, list) else [sub]
                    found.extend(c for c in contexts if isinstance(c, str))
                stack.append(sub)
        elif isinstance(item, list):
            stack.extend(item)
    return found


def load_json(text: str, where: str) -> Any:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise InputError(f"malformed JSON at line {err.lineno}, column {err.colno}: {err.msg}",
                         where=where) from None
    except RecursionError:
        raise InputError(f"JSON nested deeper than {MAX_JSON_DEPTH} levels", where=where) from None
    except ValueError as err:  # an integer of thousands of digits, a lone surrogate, ...
        raise InputError(f"malformed JSON: {' '.join(str(err).split())[:200]}", where=where) from None
    if not json_depth_ok(data):
        raise InputError(f"JSON nested deeper than {MAX_JSON_DEPTH} levels", where=where)
    return data


def parse_untrusted(text: str, fmt: str, where: str) -> Graph:
    graph = Graph()
    if fmt == "json-ld":
        data = load_json(text, where)
        remote = remote_contexts(data)
        if remote:
            raise InputError(f"JSON-LD names a remote @context ({remote[0]}), which cptkg never "
                             "fetches: inline the context", where=where)
        try:
            graph.parse(data=json.dumps(data), format="json-ld")
        except Exception as err:  # rdflib raises many types for bad JSON-LD
            raise InputError(f"not valid JSON-LD: {_first_line(err)}", where=where) from None
        return graph
    if fmt == "turtle" and len(_PREFIX.findall(text)) > MAX_PREFIXES:
        # rdflib's Turtle parser slows with the square of the prefixes declared (20,000: 73 s).
        raise InputError(f"more than {MAX_PREFIXES} prefix declarations: refused (a claim file needs a few)",
                         where=where)
    if fmt == "xml" and _DOCTYPE.search(text):
        raise InputError("RDF/XML with a DOCTYPE or ENTITY declaration is refused (entities could "
                         "read local files or fetch URLs)", where=where)
    try:
        graph.parse(data=text, format=fmt)
    except Exception as err:  # rdflib's parsers raise BadSyntax, SAXParseException, ValueError...
        raise InputError(f"malformed {_format_name(fmt)}: {_first_line(err)}", where=where) from None
    return graph


def _format_name(fmt: str) -> str:
    # JSON-LD never gets here: its errors are worded above.
    return {"turtle": "Turtle", "nt": "N-Triples", "xml": "RDF/XML"}.get(fmt, fmt)


def _first_line(err: Exception) -> str:
    text = " ".join(str(err).split())
    return text[:300] if text else type(err).__name__
