"""The validation defaults that the command line, the configuration and the service share, in a
module that imports nothing (the command line's parser is built before any rule is read)."""

# The rule engines, by their --engine value; each is the module of that name in cptkg.rules.engines.
ENGINES = ("duckdb", "oxigraph", "pyshacl")
# Oxigraph stays the default: on the built-in rules DuckDB is not yet faster per claim at any batch
# size (docs/engines.md: UnitsPerSite and DocumentationComplete are planned with joins that grow
# with the batch). DuckDB gives the same results (tests/test_engine_differential.py).
DEFAULT_ENGINE = "oxigraph"

# Claims per batch: where Oxigraph's cost per claim has flattened (benchmarks/throughput.py
# --sections batches) while memory stays bounded by the batch.
DEFAULT_BATCH_SIZE = 500
