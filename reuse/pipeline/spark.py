"""The ingest stages as Apache Spark jobs, written as Parquet in the warehouse's table layout.

::

    discover the input files (driver: crawlers.files.discover)
      → read each file in a task (crawlers.files.read_file); the first copy of a URL is kept
      → ids in input order, as an ingest into a new warehouse gives them
      → analyse (reuse.engine.analysis.analyse): passages, signatures, band keys, page evidence
      → candidates: the band keys joined on key, on the conditions of Warehouse.candidates
      → verify and align each version pair (reuse.engine.matching.match_pair, both texts analysed again)
      → DIR/<table>/part-*.parquet for documents, versions, passages, signatures, band_keys,
        matches, doc_pairs, runs and the evidence tables, then DIR/manifest.json

The algorithms are the core's, called inside the tasks; only the data movement is Spark's.
``reusetrack load DIR`` brings the result into DuckDB and builds the lineage there. A folder
without ``manifest.json`` is incomplete (the manifest is written last).

As in ``ingest``, the first record of a URL is kept and each later one is reported as repeated
(``pipeline.first_of_each_url``), so each document has one version and ``doc_id`` equals
``version_id``.

pyspark is imported only when a run starts, so the default install does without it.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from crawlers.files import SUFFIXES, discover, has_input_files, read_file
from reuse import reusetrack_version
from reuse.config import Settings
from reuse.engine.analysis import Comparable, analyse
from reuse.engine.lsh import may_verify
from reuse.engine.matching import match_pair
from reuse.engine.signatures import MinHasher
from reuse.errors import InputError, Problem, ReuseError
from reuse.models import Document
from reuse.pipeline.batch_rows import passage_rows
from reuse.pipeline.ingest import (
    RecentComparables,
    RunReport,
    content_hash,
    document_row,
    match_rows,
    pair_row,
    record_url,
    repeated_input,
    signature_blobs,
    version_row,
)
from reuse.pipeline.lineage import EVIDENCE_TABLES, evidence_rows
from reuse.pipeline.shipped import build_wheel, shippable
from warehouse.db import ENGINE_TABLES, SCHEMA_VERSION, open_warehouse
from warehouse.manifest import MANIFEST, ExportFormat, Manifest, SnapshotTable

if TYPE_CHECKING:
    from pyspark import RDD
    from pyspark.sql import DataFrame, SparkSession

__all__ = ["INSTALL_HINT", "RUN_ID", "SparkReport", "spark_ingest"]

INSTALL_HINT = 'pip install "reusetrack[spark]"'
#: The run id of every row written: the output is a new warehouse's first run.
RUN_ID = 1
#: The tables a run writes; the lineage tables are derived from them by ``load``.
TABLES = (*ENGINE_TABLES, "runs", *EVIDENCE_TABLES)
#: Settings every run needs whatever the cluster's defaults: naive times are UTC, as DuckDB
#: reads them, and Parquet timestamps are the standard INT64 microseconds DuckDB types as TIMESTAMPTZ.
_REQUIRED_CONF = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
}
#: Defaults of a session this module starts, below the caller's settings: no console progress
#: bars between reusetrack's own lines.
_DEFAULT_CONF = {"spark.ui.showConsoleProgress": "false"}
#: Spark SQL type of each warehouse column type (the columns and their types are read from the
#: warehouse's own catalog: :func:`_table_columns`); Spark has no unsigned integers, so a UBIGINT's
#: 64 bits go into a BIGINT (``load`` reads them back as unsigned).
_SPARK_TYPES = {
    "BIGINT": "bigint",
    "UBIGINT": "bigint",
    "INTEGER": "int",
    "VARCHAR": "string",
    "JSON": "string",
    "BOOLEAN": "boolean",
    "DOUBLE": "double",
    "BLOB": "binary",
    "TIMESTAMP WITH TIME ZONE": "timestamp",
    "VARCHAR[]": "array<string>",
}
#: The DuckDB type a column is stored as where it is not its own (see :data:`_SPARK_TYPES`).
_STORED = {"UBIGINT": "BIGINT"}


@dataclass
class SparkReport(RunReport):
    """What one Spark run did; ``stages`` holds each stage's seconds and item count."""

    out: str
    documents: int = 0
    stages: dict[str, dict[str, float]] = field(default_factory=dict)


class _Version(NamedTuple):
    """One analysed version: its rows, passage ids still relative to ``first_passage``."""

    version_id: int
    first_passage: int
    document: dict[str, Any]
    version: dict[str, Any]
    evidence: dict[str, list[dict[str, Any]]]
    passages: list[dict[str, Any]]
    signatures: list[bytes]
    keys: list[list[int]]  # each passage's band keys, then its family keys, as int64: their uint64 bits


# -- tasks: each calls the core on the items of one partition --------------------------------------


_Place = tuple[int, int]  # (file index, record index): the input order


def _read(item: tuple[int, str]) -> Iterator[tuple[_Place, Document | Problem]]:
    """The documents of one input file, each keyed by its place in the input order."""
    file_index, path = item
    for record, found in enumerate(read_file(Path(path))):
        yield (file_index, record), Problem.of(found) if isinstance(found, InputError) else found


def _problem(record: tuple[_Place, Document | Problem]) -> Iterator[tuple[_Place, Problem]]:
    if isinstance(record[1], Problem):
        yield record[0], record[1]


def _copy(record: tuple[_Place, Document | Problem]) -> Iterator[tuple[str, tuple[_Place, Document]]]:
    place, doc = record
    if isinstance(doc, Document):
        yield doc.url, (place, doc)


def _first_copy(item: tuple[str, Iterable[tuple[_Place, Document]]]) -> Iterator[tuple[_Place, Document | Problem]]:
    """The first copy of a URL in input order, and the repeat each later copy is reported as
    (what ``pipeline.first_of_each_url`` does for ``ingest``)."""
    (place, first), *later = sorted(item[1], key=lambda copy: copy[0])
    yield place, first
    for where, doc in later:
        yield where, Problem.of(repeated_input(doc, first.source or first.url, record_url(first)))


def _analyse(items: Iterable[tuple[Document, int]], settings: Settings, now: datetime) -> Iterator[_Version]:
    hasher = MinHasher.from_settings(settings)
    for doc, index in items:
        version_id = index + 1
        analysis = analyse(doc.text, settings, hasher)
        count = len(analysis.passages)
        keys: list[list[int]] = [[] for _ in range(count)]
        found, positions = analysis.lookup_keys()
        for key, owner in zip(found.view(np.int64).tolist(), positions.tolist(), strict=True):
            keys[owner].append(key)
        yield _Version(
            version_id=version_id,
            first_passage=0,
            document=document_row(doc, version_id, now),  # one version per document
            version=version_row(doc, content_hash(doc.text), analysis, version_id, version_id, RUN_ID, now),
            evidence=evidence_rows(version_id, doc),
            passages=passage_rows(analysis, version_id, 0),
            signatures=signature_blobs(analysis),
            keys=keys,
        )


def _partition_counts(items: Iterable[_Version]) -> Iterator[dict[str, int]]:
    """The rows one partition holds for the versions table, passages and each evidence table."""
    counts = dict.fromkeys(("versions", "passages", "band_keys", *EVIDENCE_TABLES), 0)
    for v in items:
        counts["versions"] += 1
        counts["passages"] += len(v.passages)
        counts["band_keys"] += sum(len(keys) for keys in v.keys)
        for table, rows in v.evidence.items():
            counts[table] += len(rows)
    yield counts


def _number_passages(index: int, items: Iterable[_Version], firsts: Sequence[int]) -> Iterator[_Version]:
    """Give the passages of partition ``index`` their ids: consecutive in version order, from
    ``firsts[index]`` (the partitions hold the versions in order)."""
    first = firsts[index]
    for v in items:
        yield v._replace(first_passage=first)
        first += len(v.passages)


def _passages(v: _Version) -> Iterator[dict[str, Any]]:
    for row in v.passages:
        yield {**row, "passage_id": v.first_passage + row["position"]}


def _signatures(v: _Version) -> Iterator[dict[str, Any]]:
    for position, blob in enumerate(v.signatures):
        yield {"passage_id": v.first_passage + position, "minhash": blob}


def _passage_keys(v: _Version) -> Iterator[tuple[int, int, int, list[int]]]:
    """``(passage_id, version_id, position, band keys)`` of each passage: one row per passage
    crosses from Python to the JVM, which makes the row per key (64 times as many)."""
    for position, keys in enumerate(v.keys):
        yield v.first_passage + position, v.version_id, position, keys


def _passage_sizes(v: _Version) -> Iterator[tuple[int, bytes, int]]:
    """``(passage_id, signature, tokens)`` of each passage, what the candidate filter reads."""
    for row, blob in zip(v.passages, v.signatures, strict=True):
        yield v.first_passage + row["position"], blob, row["token_end"] - row["token_start"]


def _likely(rows: Iterable[Any], settings: Settings) -> Iterator[tuple[int, int, int, int, int, int]]:
    """The candidate passage pairs of a partition that may reach the verification bar, as
    ``Ingestor`` keeps them (:func:`reuse.engine.lsh.may_verify`)."""
    rows = list(rows)
    if not rows:
        return
    # One table: the first sides' rows, then the second sides'.
    blobs = b"".join(r[side] for side in ("sig_a", "sig_b") for r in rows)
    signatures = np.frombuffer(blobs, dtype="<u4").reshape(2 * len(rows), -1).astype(np.uint32)
    tokens = np.array([r[side] for side in ("tokens_a", "tokens_b") for r in rows], dtype=np.int64)
    first = np.arange(len(rows), dtype=np.int64)
    keep = may_verify(signatures, tokens, first, first + len(rows), settings)
    for r, kept in zip(rows, keep.tolist(), strict=True):
        if kept:
            yield r.pa, r.va, r.pos_a, r.pb, r.vb, r.pos_b


def _evidence(v: _Version, table: str) -> list[dict[str, Any]]:
    return v.evidence[table]


def _comparable(
    recent: RecentComparables, version_id: int, text: str, settings: Settings, hasher: MinHasher
) -> Comparable:
    found = recent.get(version_id)
    if found is None:
        found = analyse(text, settings, hasher, signatures=False).comparable
        recent.add(version_id, found)
    return found


def _match(rows: Iterable[Any], settings: Settings) -> Iterator[tuple[list[dict[str, Any]], dict[str, Any]]]:
    """Verify and align each version pair of the partition: its match rows and its pair row.

    The partition is sorted by pair, so a version matched with several others is analysed once.
    """
    hasher = MinHasher.from_settings(settings)
    recent = RecentComparables()
    for row in rows:
        a = _comparable(recent, row.va, row.text_a, settings, hasher)
        b = _comparable(recent, row.vb, row.text_b, settings, hasher)
        result = match_pair(a, b, [(p.pos_a, p.pos_b) for p in row.pairs], settings)
        if result.matches:
            yield match_rows(result, row.va, row.vb, RUN_ID, 0), pair_row(result, row.va, row.vb, RUN_ID)


def _tuple(row: dict[str, Any], columns: Sequence[str], unsigned: frozenset[str]) -> tuple[Any, ...]:
    """A row in the table's column order, unsigned 64-bit values as their signed bits."""
    return tuple(_signed(row.get(c)) if c in unsigned else row.get(c) for c in columns)


def _signed(value: int | None) -> int | None:
    return value - (1 << 64) if value is not None and value >= 1 << 63 else value


# -- the driver ------------------------------------------------------------------------------------


@dataclass
class _Stages:
    """Seconds and item counts of each stage, for the report and the manifest."""

    found: dict[str, dict[str, float]] = field(default_factory=dict)

    @contextmanager
    def __call__(self, name: str) -> Iterator[dict[str, float]]:
        entry: dict[str, float] = {}
        started = time.perf_counter()
        yield entry
        self.found[name] = {"seconds": round(time.perf_counter() - started, 3), **entry}


def _session(master: str | None, conf: dict[str, str]) -> tuple[SparkSession, bool]:
    """The active Spark session, or a new one; and whether it is new (and so ours to stop)."""
    try:
        from pyspark.sql import SparkSession
    except ImportError as err:
        raise ReuseError(f"pyspark is not installed: {INSTALL_HINT}") from err
    # The workers of a local run use this interpreter, whose environment has reusetrack.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    session = SparkSession.getActiveSession()
    created = session is None
    if session is None:
        builder = SparkSession.builder.appName("reusetrack")
        if master:
            builder = builder.master(master)
        for key, value in {**_DEFAULT_CONF, **conf}.items():
            builder = builder.config(key, value)
        try:
            session = builder.getOrCreate()
        except Exception as err:  # the JVM did not start: no Java, a bad master URL...
            line = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            raise ReuseError(f"cannot start Spark ({line}); it needs Java 17 or newer on PATH or JAVA_HOME") from err
        session.sparkContext.setLogLevel("ERROR")  # warnings of a local run are Spark's, not the user's
    for key, value in _REQUIRED_CONF.items():
        session.conf.set(key, value)
    return session, created


def _table_columns() -> dict[str, list[tuple[str, str]]]:
    """Each written table's ``(column, DuckDB type)`` list, from the warehouse's own schema."""
    with open_warehouse(":memory:") as wh:
        return {table: wh.column_types(table) for table in TABLES}


class _Output:
    """The output folder, on any file system Spark writes to (a local path, hdfs://, s3a://...)."""

    def __init__(self, spark: SparkSession, out: str) -> None:
        self.spark = spark
        self.out = out.rstrip("/")
        jvm = spark.sparkContext._jvm
        assert jvm is not None
        self.path = jvm.org.apache.hadoop.fs.Path(self.out)
        self.fs = self.path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())

    def check_new(self) -> None:
        """Refuse an output folder that exists and is not empty, before any work is done."""
        if self.fs.exists(self.path) and (
            not self.fs.getFileStatus(self.path).isDirectory() or self.fs.listStatus(self.path)
        ):
            raise ReuseError(f"{self.out} exists and is not an empty folder: write into a new or empty folder")

    def write_table(self, name: str, rows: RDD[dict[str, Any]], columns: list[tuple[str, str]]) -> None:
        """Write ``rows`` as the Parquet folder of table ``name``."""
        schema = ", ".join(f"`{c}` {_SPARK_TYPES[t]}" for c, t in columns)
        unsigned = frozenset(c for c, t in columns if t == "UBIGINT")
        names = [c for c, _ in columns]
        tuples = rows.map(partial(_tuple, columns=names, unsigned=unsigned))
        self.write_frame(name, self.spark.createDataFrame(tuples, schema, verifySchema=False))

    def write_frame(self, name: str, frame: DataFrame) -> None:
        """Write ``frame`` as the Parquet folder of table ``name``."""
        frame.write.parquet(f"{self.out}/{name}")

    def write_text(self, name: str, text: str) -> None:
        """Write ``text`` as the file ``name`` of the folder."""
        stream = self.fs.create(self.path.suffix(f"/{name}"), True)
        try:
            stream.write(bytearray(text.encode("utf-8")))
        finally:
            stream.close()


def _input_files(paths: Sequence[str | Path]) -> tuple[list[str], list[Problem]]:
    roots = [Path(p) for p in paths]
    for root in roots:
        if not root.exists():
            raise InputError(str(root), "no such file or directory")
    files: list[str] = []
    problems: list[Problem] = []
    for found in discover(roots):
        if isinstance(found, InputError):
            problems.append(Problem.of(found))
        else:
            files.append(str(found.absolute()))  # executors have another working directory
    if not has_input_files(roots):
        kinds = ", ".join(sorted(SUFFIXES))
        raise InputError(", ".join(map(str, roots)), f"no input files found (reusetrack reads {kinds})")
    return files, problems


def spark_ingest(
    paths: Sequence[str | Path],
    out: str,
    settings: Settings,
    *,
    master: str | None = None,
    partitions: int | None = None,
    conf: dict[str, str] | None = None,
    ship: Path | bool = False,
) -> SparkReport:
    """Run the ingest stages on Spark over every document under ``paths``, writing Parquet to ``out``.

    The input files are listed here (they must be readable at the same path by every executor:
    a shared mount on a cluster); ``out`` is a new or empty folder on any file system Spark
    writes to. ``master`` is the Spark master URL (default: spark-submit's, else ``local[*]``),
    ``partitions`` the number of partitions of each stage (default: Spark's parallelism), and
    ``conf`` more Spark settings for a new session. An active Spark session is used as it is.
    ``ship`` sends reusetrack to the executors as its wheel (see :mod:`reuse.pipeline.shipped`):
    the wheel file given, or with ``True`` one built from this source tree.
    Raises :class:`~reuse.errors.ReuseError` without pyspark or Java, and
    :class:`~reuse.errors.InputError` when no input file is found.
    """
    files, problems = _input_files(paths)
    with tempfile.TemporaryDirectory(prefix="reusetrack-ship-") as tmp:
        shipped = None
        if ship:
            wheel = build_wheel(Path(tmp)) if ship is True else Path(ship)
            shipped = shippable(wheel, Path(tmp))
        spark, created = _session(master, conf or {})
        try:
            if shipped is not None:
                # Executors fetch it from the driver while the job runs: the folder outlives the job.
                spark.sparkContext.addPyFile(str(shipped))
            return _run(spark, files, problems, out, settings, partitions)
        finally:
            if created:
                spark.stop()


def _run(
    spark: SparkSession, files: list[str], problems: list[Problem], out: str, settings: Settings, partitions: int | None
) -> SparkReport:
    from pyspark import StorageLevel
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    sc = spark.sparkContext
    output = _Output(spark, out)
    output.check_new()
    slices = partitions or sc.defaultParallelism
    if partitions:
        spark.conf.set("spark.sql.shuffle.partitions", str(partitions))
    started = datetime.now(UTC)
    report = SparkReport(out=output.out)
    stage = _Stages()
    keep = StorageLevel.MEMORY_AND_DISK

    with stage("read") as entry:
        records = sc.parallelize(list(enumerate(files)), min(len(files), slices)).flatMap(_read).persist(keep)
        documents = records.flatMap(_copy)
        chosen = documents.groupByKey().flatMap(_first_copy).persist(keep)
        placed = [*records.flatMap(_problem).collect(), *chosen.flatMap(_problem).collect()]
        # Input order: the place of a URL's first copy, as ingest numbers documents.
        latest = (
            chosen.filter(lambda found: isinstance(found[1], Document))
            .sortByKey(numPartitions=slices)
            .values()
            .zipWithIndex()
        )
        versions = latest.mapPartitions(partial(_analyse, settings=settings, now=started))
        versions = versions.persist(keep)
        read = documents.count()
        entry.update(files=len(files), documents=read)
    for problem in [*problems, *(p for _, p in sorted(placed, key=lambda found: found[0]))]:
        report.add_problem(problem)

    with stage("analyse") as entry:
        counts = versions.mapPartitions(_partition_counts).collect()
        passages = [c["passages"] for c in counts]
        firsts = np.concatenate([[1], np.cumsum(passages)[:-1] + 1]).tolist()
        numbered = versions.mapPartitionsWithIndex(partial(_number_passages, firsts=firsts))
        totals = {table: sum(c[table] for c in counts) for table in counts[0]}
        report.documents = totals["versions"]
        report.passages = totals["passages"]
        records.unpersist()
        chosen.unpersist()
        entry.update(documents=report.documents, passages=report.passages)

    with stage("candidates") as entry:
        keys = (
            spark.createDataFrame(
                numbered.flatMap(_passage_keys),
                "passage_id bigint, version_id bigint, position int, keys array<bigint>",
            )
            .select(F.explode("keys").alias("key"), "passage_id", "version_id", "position")
            .persist(keep)
        )
        # As Warehouse.candidates: a key proposes only the first max_key_versions versions holding
        # it; a shared key, the newer passage id greater, another version (here also another
        # document: each document has one version).
        first_holders = Window.partitionBy("key").orderBy("version_id")
        held = keys.withColumn("rank", F.dense_rank().over(first_holders)).where(
            F.col("rank") <= settings.max_key_versions
        )
        old, new = held.alias("o"), keys.alias("n")
        proposed_pairs = (
            new.join(
                old,
                (F.col("o.key") == F.col("n.key"))
                & (F.col("o.passage_id") < F.col("n.passage_id"))
                & (F.col("o.version_id") != F.col("n.version_id")),
            )
            .select(
                F.col("o.passage_id").alias("pa"),
                F.col("o.version_id").alias("va"),
                F.col("o.position").alias("pos_a"),
                F.col("n.passage_id").alias("pb"),
                F.col("n.version_id").alias("vb"),
                F.col("n.position").alias("pos_b"),
            )
            .distinct()
            .persist(keep)
        )
        # Counted before the filter, as the ingest reports its candidates.
        report.candidates = proposed_pairs.count()
        if settings.candidate_filter:
            # As the ingest: a pair whose signatures say it cannot reach the verification bar is
            # dropped before any text is read (the key families propose such pairs).
            sizes = spark.createDataFrame(
                numbered.flatMap(_passage_sizes), "passage_id bigint, signature binary, tokens int"
            )
            side = {
                name: sizes.select(
                    F.col("passage_id").alias(f"p{name}"),
                    F.col("signature").alias(f"sig_{name}"),
                    F.col("tokens").alias(f"tokens_{name}"),
                )
                for name in ("a", "b")
            }
            proposed_pairs = spark.createDataFrame(
                proposed_pairs.join(side["a"], "pa")
                .join(side["b"], "pb")
                .rdd.mapPartitions(partial(_likely, settings=settings)),
                "pa bigint, va bigint, pos_a int, pb bigint, vb bigint, pos_b int",
            )
        candidates = (
            proposed_pairs.groupBy("va", "vb")
            .agg(F.collect_list(F.struct("pos_a", "pos_b")).alias("pairs"))
            .persist(keep)
        )
        version_pairs = candidates.count()
        proposed_pairs.unpersist()
        entry.update(passages=report.passages, version_pairs=int(version_pairs), candidates=report.candidates)

    with stage("match") as entry:
        texts = spark.createDataFrame(
            numbered.map(lambda v: (v.version_id, v.version["text"])), "id bigint, text string"
        )
        pairs = (
            candidates.join(texts.select(F.col("id").alias("va"), F.col("text").alias("text_a")), "va")
            .join(texts.select(F.col("id").alias("vb"), F.col("text").alias("text_b")), "vb")
            .sortWithinPartitions("va", "vb")
        )
        matched = pairs.rdd.mapPartitions(partial(_match, settings=settings)).persist(keep)
        report.pairs = matched.count()
        # Match ids in pair order, then in each pair's order, as one ingest batch numbers them.
        match_table = (
            matched.flatMap(lambda m: (((r["version_a"], r["version_b"], k), r) for k, r in enumerate(m[0])))
            .sortByKey()
            .values()
            .zipWithIndex()
            .map(lambda ri: {**ri[0], "match_id": ri[1] + 1})
            .persist(keep)
        )
        report.matches = match_table.count()
        candidates.unpersist()
        entry.update(version_pairs=int(version_pairs), pairs=report.pairs, matches=report.matches)

    with stage("write") as entry:
        columns = _table_columns()
        output.write_table("documents", numbered.map(lambda v: v.document), columns["documents"])
        output.write_table("versions", numbered.map(lambda v: v.version), columns["versions"])
        output.write_table("passages", numbered.flatMap(_passages), columns["passages"])
        output.write_table("signatures", numbered.flatMap(_signatures), columns["signatures"])
        output.write_frame("band_keys", keys.select("key", "passage_id", "version_id"))
        output.write_table("matches", match_table, columns["matches"])
        output.write_table("doc_pairs", matched.map(lambda m: m[1]), columns["doc_pairs"])
        for table in EVIDENCE_TABLES:
            output.write_table(table, numbered.flatMap(partial(_evidence, table=table)), columns[table])
        written = {
            **totals,
            "documents": report.documents,
            "signatures": report.passages,
            "band_keys": totals["band_keys"],
            "matches": report.matches,
            "doc_pairs": report.pairs,
            "runs": 1,
        }
        entry.update(rows=sum(written.values()) - 1)
    report.stages = stage.found
    finished = datetime.now(UTC)
    run = {
        "run_id": RUN_ID,
        "command": "spark",
        "started_at": started,
        "finished_at": finished,
        "reusetrack_version": reusetrack_version(),
        "fingerprint_key": settings.fingerprint_key(),
        "settings": json.dumps(settings.to_dict()),
        "stats": json.dumps({**report.counts(), "stages": report.stages}),
    }
    output.write_table("runs", sc.parallelize([run], 1), columns["runs"])
    versions.unpersist()
    keys.unpersist()
    matched.unpersist()
    match_table.unpersist()
    output.write_text(MANIFEST, _manifest(report, columns, written, settings, spark, finished).dumps())
    return report


def _manifest(
    report: SparkReport,
    columns: dict[str, list[tuple[str, str]]],
    written: dict[str, int],
    settings: Settings,
    spark: SparkSession,
    finished: datetime,
) -> Manifest:
    """The manifest of the Parquet folders written (the snapshot manifest ``export`` writes too)."""
    return Manifest(
        format=ExportFormat.PARQUET,
        reusetrack_version=reusetrack_version(),
        schema_version=SCHEMA_VERSION,
        spark_version=spark.version,
        exported_at=finished.isoformat(),
        fingerprint_key=settings.fingerprint_key(),
        settings=settings.to_dict(),
        stages=report.stages,
        tables={
            # As stored: a UBIGINT column holds its bits in a BIGINT.
            name: SnapshotTable(
                "table", f"{name}/*.parquet", written[name], tuple((c, _STORED.get(t, t)) for c, t in columns[name])
            )
            for name in TABLES
        },
    )
