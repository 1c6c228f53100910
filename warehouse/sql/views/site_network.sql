-- Who copies whom: per pair of sites, the copies along the lineage trees, the median lag and the
-- share of copies that credit their source.
CREATE OR REPLACE VIEW site_network AS
SELECT
    s.site AS source_site,
    t.site AS target_site,
    count(*) AS copies,
    count(DISTINCT e.story_id) AS stories,
    to_seconds(median(e.lag_seconds)) AS median_lag,
    round(avg(CASE WHEN e.credited = 'credited' THEN 1.0 ELSE 0.0 END), 3) AS share_credited,
    round(avg(e.coverage_source), 3) AS mean_coverage
FROM reuse_edges e
JOIN documents s ON s.doc_id = e.source_doc
JOIN documents t ON t.doc_id = e.target_doc
WHERE e.in_tree AND e.relation IN ('copy', 'undirected')
GROUP BY ALL;
