"""Code systems as claims write them: the canonical FHIR system URI of each code system cptkg reads,
and the aliases senders use for it, in one table.

Sources of the aliases:
- OIDs from the HL7 OID registry, as HL7 Terminology (THO) NamingSystems and CodeSystem identifiers
  give them: CPT 2.16.840.1.113883.6.12, HCPCS (all levels) 2.16.840.1.113883.6.14, HCPCS Level II
  2.16.840.1.113883.6.285, ICD-10-CM 2.16.840.1.113883.6.90, NUCC provider taxonomy
  2.16.840.1.113883.6.101, CMS place of service 2.16.840.1.113883.6.50.
- THO CodeSystem hcpcs-Level-II gives its url with ``http``; older converters (HAPI's
  VersionConvertor) write CMS place of service as ``http://terminology.hl7.org/CodeSystem/POS``.
- Senders vary the scheme (http for https), the case of the URI (the HL7 R4 specification's claim
  examples write the CMS place-of-service URI in lower case) and add a trailing slash: all three are
  read as the canonical URI.

WHO ICD-10 (``http://hl7.org/fhir/sid/icd-10``, 2.16.840.1.113883.6.3) is a different code system
from ICD-10-CM: its codes are not read as ICD-10-CM, and the claim is told so.
"""

from __future__ import annotations

from cptkg.kg.namespaces import SYSTEM_CPT, SYSTEM_HCPCS, SYSTEM_ICD10CM, SYSTEM_NUCC, SYSTEM_POS

# HCPCS "all levels" holds CPT (level I, five digits) and level II (a letter and four digits).
SYSTEM_HCPCS_ALL_LEVELS = "urn:oid:2.16.840.1.113883.6.14"
SYSTEM_WHO_ICD10 = "http://hl7.org/fhir/sid/icd-10"

ALIASES: dict[str, tuple[str, ...]] = {
    SYSTEM_CPT: ("urn:oid:2.16.840.1.113883.6.12",),
    SYSTEM_HCPCS: ("urn:oid:2.16.840.1.113883.6.285",),
    SYSTEM_HCPCS_ALL_LEVELS: (),
    SYSTEM_ICD10CM: ("urn:oid:2.16.840.1.113883.6.90",),
    SYSTEM_NUCC: ("urn:oid:2.16.840.1.113883.6.101",),
    SYSTEM_POS: ("urn:oid:2.16.840.1.113883.6.50", "http://terminology.hl7.org/CodeSystem/POS"),
    SYSTEM_WHO_ICD10: ("urn:oid:2.16.840.1.113883.6.3",),
}


def _key(uri: str) -> str:
    """The spelling-independent form of a system URI: no scheme http/https difference, no case,
    no trailing slash, no surrounding space."""
    text = uri.strip().rstrip("/").lower()
    for scheme in ("https://", "http://"):
        if text.startswith(scheme):
            return "//" + text[len(scheme):]
    return text


_CANONICAL: dict[str, str] = {}
for _canonical, _aliases in ALIASES.items():
    for _spelling in (_canonical, *_aliases):
        _CANONICAL[_key(_spelling)] = _canonical


def canonical(system: str | None) -> str | None:
    """The canonical URI of a system as written in a claim, or None for a system cptkg does not read."""
    if not system:
        return None
    return _CANONICAL.get(_key(system))
