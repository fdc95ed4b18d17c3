"""Checking, the third stage: the rule catalog (the claim shapes), the SHACL-to-SPARQL compiler
and batch engine, the pySHACL reference engine, the Validator, and Dask scale-out."""
