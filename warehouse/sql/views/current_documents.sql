-- Each document with its latest version.
CREATE OR REPLACE VIEW current_documents AS
SELECT d.doc_id, d.url, d.site, d.first_seen, v.version_id, v.fetched_at, v.title, v.published_at,
       v.chars, v.tokens, v.state, v.published_precision
FROM documents d
JOIN versions v ON v.doc_id = d.doc_id
QUALIFY row_number() OVER (PARTITION BY d.doc_id ORDER BY v.version_id DESC) = 1;
