"""Questions of the graph: the named SPARQL queries of queries/ (discovery, parameters), ad-hoc
query files, and running them embedded or on a remote SPARQL endpoint.

(The package is ``cptkg.queries``, not ``cptkg.query``: ``cptkg.query()`` is the public function
that runs one named query, and a subpackage of that name would replace it on import.)
"""

from cptkg.queries.named import KINDS, NamedQuery, Parameter, ParamKind, get, library, parse_header, questions
from cptkg.queries.run import check_query_text, run_named, run_text, with_values
from cptkg.queries.terms import QueryResult, Term

__all__ = ["KINDS", "NamedQuery", "ParamKind", "Parameter", "QueryResult", "Term", "check_query_text", "get",
           "library", "parse_header", "questions", "run_named", "run_text", "with_values"]
