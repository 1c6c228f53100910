-- From every document to all its descendants in its story's lineage tree, with hops and lag.
-- Filter on ancestor_url (or ancestor_doc) to follow one article.
CREATE OR REPLACE VIEW lineage AS
WITH RECURSIVE walk(ancestor_doc, doc_id, hops, path) AS (
    SELECT doc_id, doc_id, 0, [doc_id] FROM lineage_nodes
    UNION ALL
    SELECT w.ancestor_doc, n.doc_id, w.hops + 1, list_append(w.path, n.doc_id)
    FROM walk w
    JOIN lineage_nodes n ON n.parent_doc = w.doc_id
)
SELECT
    w.ancestor_doc,
    a.url AS ancestor_url,
    w.doc_id,
    d.url,
    d.site,
    w.hops,
    n.doc_time,
    n.time_precision,
    precise_span(n.doc_time, n.time_precision, an.doc_time, an.time_precision) AS lag,
    p.url AS parent_url,
    e.confidence,
    e.method,
    e.credited,
    e.coverage_source,
    e.labels,
    n.story_id,
    w.path
FROM walk w
JOIN lineage_nodes n ON n.doc_id = w.doc_id
JOIN lineage_nodes an ON an.doc_id = w.ancestor_doc
JOIN documents a ON a.doc_id = w.ancestor_doc
JOIN documents d ON d.doc_id = w.doc_id
LEFT JOIN documents p ON p.doc_id = n.parent_doc
LEFT JOIN reuse_edges e ON e.edge_id = n.edge_id
WHERE w.hops > 0;
