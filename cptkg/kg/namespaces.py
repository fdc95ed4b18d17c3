"""Every namespace cptkg uses, bound in one place (docs/ARCHITECTURE.md, IRIs), and the canonical
FHIR system URI of each code system."""

from __future__ import annotations

from rdflib import Graph, Namespace
from rdflib.namespace import DCTERMS, OWL, PROV, RDF, RDFS, SH, SKOS, XSD

CPTKG = Namespace("https://w3id.org/cptkg/ontology#")
CPT = Namespace("https://w3id.org/cptkg/cpt/")
HCPCS = Namespace("https://w3id.org/cptkg/hcpcs/")
POS = Namespace("https://w3id.org/cptkg/pos/")
NUCC = Namespace("https://w3id.org/cptkg/nucc/")
MSPEC = Namespace("https://w3id.org/cptkg/medicare-specialty/")
ICD10CM = Namespace("https://w3id.org/cptkg/icd10cm/")
CPTKGSH = Namespace("https://w3id.org/cptkg/shapes#")
SRC = Namespace("https://w3id.org/cptkg/source/")
STMT = Namespace("https://w3id.org/cptkg/statement/")
CPTKGD = Namespace("https://w3id.org/cptkg/data/")
IND = Namespace("https://w3id.org/cptkg/indication/")
DOCEL = Namespace("https://w3id.org/cptkg/documentation-element/")
MOD = Namespace("https://w3id.org/cptkg/modifier/")
NCCI = Namespace("https://w3id.org/cptkg/ncci/")

PREFIXES: dict[str, Namespace] = {
    "cptkg": CPTKG,
    "cpt": CPT,
    "hcpcs": HCPCS,
    "pos": POS,
    "nucc": NUCC,
    "mspec": MSPEC,
    "icd10cm": ICD10CM,
    "cptkgsh": CPTKGSH,
    "src": SRC,
    "stmt": STMT,
    "cptkgd": CPTKGD,
    "ind": IND,
    "docel": DOCEL,
    "mod": MOD,
    "rdf": Namespace(str(RDF)),
    "rdfs": Namespace(str(RDFS)),
    "owl": Namespace(str(OWL)),
    "xsd": Namespace(str(XSD)),
    "skos": Namespace(str(SKOS)),
    "dcterms": Namespace(str(DCTERMS)),
    "prov": Namespace(str(PROV)),
    "sh": Namespace(str(SH)),
}

# Canonical FHIR system URIs (the system HL7's terminology names for each code system; the
# aliases read as them are in cptkg/claims/codesystems.py), and the cptkg namespace each maps to.
SYSTEM_CPT = "http://www.ama-assn.org/go/cpt"
SYSTEM_HCPCS = "https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets"
SYSTEM_ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
SYSTEM_NUCC = "http://nucc.org/provider-taxonomy"
SYSTEM_POS = (
    "https://www.cms.gov/Medicare/Coding/place-of-service-codes/Place_of_Service_Code_Set"
)
SYSTEM_MSPEC = "https://bluebutton.cms.gov/resources/variables/prvdr_spclty"
SYSTEM_DOCUMENTATION = "https://w3id.org/cptkg/documentation-element"


def bind_all(graph: Graph) -> Graph:
    """Bind every cptkg prefix on ``graph`` (replacing rdflib's defaults) and return it."""
    for prefix, namespace in PREFIXES.items():
        graph.bind(prefix, namespace, override=True, replace=True)
    return graph
