"""Claims in, the second stage: every input form (claim graphs, FHIR JSON) read safely and turned
into ClaimRecords in the one claim vocabulary the rules read, in input order, none dropped."""

from cptkg.claims.files import expand_paths, read_file, read_paths
from cptkg.claims.record import ClaimRecord, diagnosis_codes

__all__ = ["ClaimRecord", "diagnosis_codes", "expand_paths", "read_file", "read_paths"]
