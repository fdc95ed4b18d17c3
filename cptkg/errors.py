"""The errors users can cause (the command line turns InputError into exit 2 and one line), and
how text from input is made safe to print."""

from __future__ import annotations

import re


class InputError(Exception):
    """Bad input or a bad request: what went wrong, where, and what to do (one line)."""

    def __init__(self, message: str, *, where: str | None = None) -> None:
        self.where = where
        super().__init__(f"{where}: {message}" if where else message)


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
