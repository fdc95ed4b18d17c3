"""The version of cptkg, in one place: pyproject reads it from here, the ontology header repeats it
(a test holds the two equal), and the closure cache is keyed by it."""

__version__ = "0.1.0"
