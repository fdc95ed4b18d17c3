"""Results out, a stage beside the rules: the report model (plain data every writer and service
shares), one writer per output format, and the progress display."""

from cptkg.report.model import UNREADABLE, ClaimReport, Result, ValidationReport

__all__ = ["UNREADABLE", "ClaimReport", "Result", "ValidationReport"]
