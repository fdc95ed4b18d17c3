"""The validation defaults that the command line, the configuration and the service share, in a
module that imports nothing (the command line's parser is built before any rule is read)."""

# The rule engines, by their --engine value; each is the module of that name in cptkg.rules.engines.
ENGINES = ("duckdb", "oxigraph", "pyshacl")
DEFAULT_ENGINE = "duckdb"

# Claims per batch: where the columnar engine's cost per claim has flattened (benchmarks/throughput.py
# --sections batches) while memory stays bounded by the batch.
DEFAULT_BATCH_SIZE = 5000
