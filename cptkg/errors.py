"""The one error type users can cause: the command line turns it into exit 2 and one line."""

from __future__ import annotations


class InputError(Exception):
    """Bad input or a bad request: what went wrong, where, and what to do (one line)."""

    def __init__(self, message: str, *, where: str | None = None) -> None:
        self.where = where
        super().__init__(f"{where}: {message}" if where else message)


class NotImplementedFeature(Exception):
    """A requested feature that this version does not provide (exit 3)."""
