-- Every alert with its watch, its copy and the source it copies (URLs, sites, titles), newest first
-- by alert_id: what `reusetrack alerts` lists.
CREATE OR REPLACE VIEW alert_details AS
SELECT
    a.alert_id,
    a.raised_at,
    a.seen_at,
    a.run_id,
    a.watch_id,
    w.kind AS watch_kind,
    w.target AS watch_target,
    w.name AS watch_name,
    a.copy_doc,
    c.url AS copy_url,
    c.site AS copy_site,
    cv.title AS copy_title,
    a.copy_time,
    a.copy_time_precision,
    a.source_doc,
    s.url AS source_url,
    s.site AS source_site,
    sv.title AS source_title,
    a.relation,
    a.directed,
    a.method,
    a.confidence,
    a.lag_seconds,
    a.coverage_source,
    a.coverage_target,
    a.credited,
    a.labels,
    a.evidence,
    a.copy_version,
    a.source_version
FROM alerts a
JOIN watches w USING (watch_id)
JOIN documents c ON c.doc_id = a.copy_doc
JOIN versions cv ON cv.version_id = a.copy_version
LEFT JOIN documents s ON s.doc_id = a.source_doc
LEFT JOIN versions sv ON sv.version_id = a.source_version;
