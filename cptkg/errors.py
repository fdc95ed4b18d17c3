"""The errors users can cause (the command line turns InputError into exit 2 and one line), their
kinds that callers answer differently (the service's HTTP status), and how text from input is made
safe to print. Callers tell errors apart by their class, never by their wording."""

from __future__ import annotations

import re


class InputError(Exception):
    """Bad input or a bad request: what went wrong, where, and what to do (one line)."""

    def __init__(self, message: str, *, where: str | None = None) -> None:
        self.where = where
        super().__init__(f"{where}: {message}" if where else message)


class UnreadableInput(InputError):
    """The only claim given cannot be read: the input itself is bad (exit 2; HTTP 422)."""


class UnknownRule(InputError):
    """A rule ID that no shape of the rule set has (in the severities of a configuration)."""

    def __init__(self, rule: str, message: str) -> None:
        self.rule = rule
        super().__init__(message)


class QueryTimeout(InputError):
    """A SPARQL query ran longer than its limit and was stopped (HTTP 504)."""

    def __init__(self, seconds: float, message: str) -> None:
        self.seconds = seconds
        super().__init__(message)


class NotImplementedFeature(Exception):
    """A requested feature that this version does not provide (exit 3)."""


_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """Text from input, safe for a terminal: control characters (escape sequences that could
    rewrite the screen, carriage returns that hide a line) shown as \\x.. escapes."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group(0)):02x}", text)


def valid_unicode(text: str) -> str:
    """Text that can be written as UTF-8: a lone surrogate from input (JSON allows "\\ud800")
    shown as its escape instead of failing every writer later."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text
