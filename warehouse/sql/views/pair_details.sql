-- Every pair of current documents that share text, with both sides' URL, site, title and date.
CREATE OR REPLACE VIEW pair_details AS
SELECT
    ca.doc_id AS doc_a,
    ca.url AS url_a,
    ca.site AS site_a,
    ca.title AS title_a,
    ca.published_at AS published_a,
    cb.doc_id AS doc_b,
    cb.url AS url_b,
    cb.site AS site_b,
    cb.title AS title_b,
    cb.published_at AS published_b,
    p.matches,
    p.shared_chars_a,
    p.shared_chars_b,
    p.coverage_a,
    p.coverage_b,
    p.similarity,
    p.longest_chars,
    p.in_order,
    p.version_a,
    p.version_b,
    p.run_id
FROM doc_pairs p
JOIN current_documents ca ON ca.version_id = p.version_a
JOIN current_documents cb ON cb.version_id = p.version_b;
