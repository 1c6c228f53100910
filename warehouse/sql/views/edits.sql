-- What each copy changed against its source, one row per edit, with the word-level diff in detail.
CREATE OR REPLACE VIEW edits AS
SELECT
    x.edge_id,
    s.url AS source_url,
    t.url AS target_url,
    t.site AS target_site,
    e.in_tree,
    x.position,
    x.label,
    x.source_text,
    x.target_text,
    x.detail,
    x.source_start,
    x.source_end,
    x.target_start,
    x.target_end
FROM edge_edits x
JOIN reuse_edges e USING (edge_id)
JOIN documents s ON s.doc_id = e.source_doc
JOIN documents t ON t.doc_id = e.target_doc;
