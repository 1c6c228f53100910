-- reusetrack warehouse, migration 8: each document pair's graded similarity (reuse.engine.grade):
-- the mean of its matches' similarity-weighted coverage, word 5-gram containment and content-word
-- pair containment, each of the smaller side; orders verbatim > light edit > heavy rewrite > unrelated.
-- Pairs stored before it hold NULL (not graded) until their documents are matched again.

ALTER TABLE doc_pairs ADD COLUMN similarity DOUBLE;  -- graded similarity, 0..1; NULL: stored before migration 8
