-- reusetrack warehouse, migration 8: each document pair's graded similarity (reuse.engine.grade):
-- the mean of its matches' similarity-weighted coverage, word 5-gram containment and content-word
-- pair containment, each of the smaller side; orders verbatim > light edit > heavy rewrite > unrelated.
-- Pairs stored before it hold NULL (not graded).
-- matches.similarity, unchanged, is how close one match's two spans are: the share of their tokens
-- in the same order (difflib's ratio), 1.0 exactly when verbatim.

ALTER TABLE doc_pairs ADD COLUMN similarity DOUBLE;  -- graded similarity, 0..1; NULL: stored before migration 8
