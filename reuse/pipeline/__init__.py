"""The only place where the readers (:mod:`crawlers`) and the warehouse (:mod:`warehouse`) meet the
engine: :mod:`ingest` (files and archives in batches, row building, snapshots loaded),
:mod:`workers` (analysis in worker processes), :mod:`lineage` (the lineage update after each run),
:mod:`crawl` (the crawl loop), :mod:`inspection` (fingerprint and compare, for the CLI),
:mod:`fingerprints` (fingerprints written as JSON lines or Parquet) and :mod:`spark` (ingest's
stages as Spark jobs).
"""
