-- Every direct reuse: a source, a copy, and how (directed edges and the edges of the lineage trees).
CREATE OR REPLACE VIEW copies_of AS
SELECT
    e.source_doc,
    s.url AS source_url,
    s.site AS source_site,
    e.target_doc AS copy_doc,
    t.url AS copy_url,
    t.site AS copy_site,
    e.relation,
    e.directed,
    e.in_tree,
    e.confidence,
    e.method,
    to_seconds(e.lag_seconds) AS lag,
    e.coverage_source,
    e.coverage_target,
    e.in_order,
    e.credited,
    e.labels,
    e.story_id,
    e.edge_id
FROM reuse_edges e
JOIN documents s ON s.doc_id = e.source_doc
JOIN documents t ON t.doc_id = e.target_doc
WHERE e.relation IN ('copy', 'undirected') AND (e.directed OR e.in_tree);
