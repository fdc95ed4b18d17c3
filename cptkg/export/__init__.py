"""The graph out, for other tools: canonical RDF (Turtle, N-Triples, JSON-LD, RDF/XML), SKOS concept
schemes, a FHIR R4 Bundle of terminology resources, and loading a SPARQL store."""
