"""The only place where the readers (:mod:`crawlers`) and the warehouse (:mod:`warehouse`) meet the
engine: :mod:`ingest` (files and archives in batches, row building, snapshots loaded),
:mod:`analyser` (analysis one batch ahead), :mod:`lineage` (the lineage update after each run),
:mod:`crawl` (the crawl loop), :mod:`inspection` (fingerprint and compare, for the CLI),
:mod:`fingerprints` (fingerprints written as JSON lines or Parquet) and :mod:`spark` (ingest's
stages as Spark jobs).
"""

import zipimport

_loader = __spec__.loader if __spec__ is not None else None
if isinstance(_loader, zipimport.zipimporter):
    # Imported from a wheel shipped to a Spark executor: the engine core cannot be loaded from
    # inside the zip, so it is loaded from a local copy before any module here asks for it.
    from reuse.pipeline.shipped import load_native_from_archive

    load_native_from_archive(_loader.archive)
