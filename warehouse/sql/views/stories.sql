-- Each story (documents that share text): its lineage root, earliest document, size, sites and time span.
CREATE OR REPLACE VIEW stories AS
SELECT
    s.story_id,
    s.documents,
    s.sites,
    s.first_time,
    s.last_time,
    precise_span(s.last_time, s.last_precision, s.first_time, s.first_precision) AS span,
    r.url AS root_url,
    r.site AS root_site,
    e.url AS earliest_url,
    s.root_doc,
    s.earliest_doc,
    s.run_id,
    s.first_precision,
    s.last_precision
FROM lineage_stories s
JOIN documents r ON r.doc_id = s.root_doc
JOIN documents e ON e.doc_id = s.earliest_doc;
