"""Claims in, the second stage: every input form (claim graphs, FHIR JSON and NDJSON, X12 837P) read
safely and turned into ClaimRecords in the one claim vocabulary the rules read, in input order,
none dropped."""

from cptkg.claims.files import FORMS, check_form, expand_paths, read_bytes, read_file, read_paths
from cptkg.claims.record import ClaimRecord, diagnosis_codes

__all__ = ["FORMS", "ClaimRecord", "check_form", "diagnosis_codes", "expand_paths", "read_bytes", "read_file",
           "read_paths"]
