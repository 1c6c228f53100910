-- Every match with the URLs, sites and texts of its two sides.
CREATE OR REPLACE VIEW match_details AS
SELECT
    m.match_id,
    m.kind,
    m.similarity,
    da.url AS url_a,
    da.site AS site_a,
    m.version_a,
    m.a_start,
    m.a_end,
    substr(va.text, m.a_start + 1, m.a_end - m.a_start) AS text_a,
    db.url AS url_b,
    db.site AS site_b,
    m.version_b,
    m.b_start,
    m.b_end,
    substr(vb.text, m.b_start + 1, m.b_end - m.b_start) AS text_b
FROM matches m
JOIN versions va ON va.version_id = m.version_a
JOIN documents da ON da.doc_id = va.doc_id
JOIN versions vb ON vb.version_id = m.version_b
JOIN documents db ON db.doc_id = vb.doc_id;
