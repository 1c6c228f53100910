-- reusetrack warehouse, schema version 4: how exactly each time is known. A date-only stamp
-- ("2021-03-01", stored as its midnight UTC) is that whole day in some unknown time zone, not an
-- instant; lineage reads every time as an interval (reuse.models.time_interval).
-- Values: 'second', 'minute', 'hour', 'day', 'month', 'year'; NULL with a time: an instant.
-- version_meta.other_dates entries may carry a third element, their precision ([source, time, 'day']).

ALTER TABLE versions ADD COLUMN published_precision VARCHAR;      -- of published_at
ALTER TABLE version_meta ADD COLUMN modified_precision VARCHAR;   -- of modified_at
ALTER TABLE lineage_nodes ADD COLUMN time_precision VARCHAR;      -- of doc_time
ALTER TABLE lineage_stories ADD COLUMN first_precision VARCHAR;   -- of first_time
ALTER TABLE lineage_stories ADD COLUMN last_precision VARCHAR;    -- of last_time
ALTER TABLE frontier ADD COLUMN hint_precision VARCHAR;           -- of hint_published

-- Before this version a date-only stamp was stored as midnight UTC with nothing saying so: an
-- earlier time at exactly midnight UTC is read as a date (CMSes write "T00:00:00Z" for a date).
UPDATE versions SET published_precision = 'day'
WHERE published_at IS NOT NULL AND published_at = date_trunc('day', published_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC';
UPDATE version_meta SET modified_precision = 'day'
WHERE modified_at IS NOT NULL AND modified_at = date_trunc('day', modified_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC';
