"""The knowledge graph, the bottom stage: the packaged ontology/, shapes/ and queries/ files, the
OWL-RL closure and its cache, the namespaces, the ICD-10-CM code-set facts and the graph's checks
of itself. Nothing here knows about claims."""
