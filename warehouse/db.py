"""Opening the warehouse and the few operations the engine needs, each in bulk.

DuckDB allows one writer process per file. ``open_warehouse`` turns DuckDB's lock conflict into
:class:`~reuse.errors.WarehouseLocked` naming the holder, checks that the file's fingerprint
settings agree with the caller's, and applies pending migrations. All loads go through Arrow
tables (``INSERT ... SELECT`` from one, see :mod:`warehouse.scans`), never row-by-row inserts,
their values cast to the column types DuckDB's catalog gives the table (:meth:`Warehouse.insert`):
the SQL migrations are the only statement of the warehouse's types.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, nullcontext, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from reuse.config import Settings
from reuse.errors import NoSuchDocument, SettingsMismatch, WarehouseError, WarehouseLocked
from reuse.stages import StageClock
from warehouse.keyindex import KeyIndex
from warehouse.meta import read_meta
from warehouse.migrations import apply_migrations, migrations, views_current
from warehouse.scans import execute_with
from warehouse.sigstore import fixed_width_rows, signature_rows

__all__ = [
    "ENGINE_TABLES",
    "SCHEMA_VERSION",
    "Columns",
    "CurrentDocument",
    "PageKey",
    "Rows",
    "StoredVersion",
    "Warehouse",
    "column_rows",
    "fixed_width_blobs",
    "fixed_width_rows",
    "open_warehouse",
    "open_when_free",
    "rows_with_values",
]

SCHEMA_VERSION = max(m.version for m in migrations())
#: The tables the engine writes for each version it stores: the document and its version, their
#: passages, signatures and band keys, and what they share (matches, and per document pair).
ENGINE_TABLES = ("documents", "versions", "passages", "signatures", "band_keys", "matches", "doc_pairs")

_LOCK = re.compile(r"Conflicting lock is held in (.*?)(?: \(PID (\d+)\))?(?:\. |\.$|$| by)", re.S)


@dataclass(frozen=True)
class StoredVersion:
    """The latest stored version of a document."""

    doc_id: int
    version_id: int
    content_hash: str


@dataclass(frozen=True)
class CurrentDocument:
    """A stored document and its latest version."""

    doc_id: int
    url: str
    site: str | None
    version_id: int
    title: str | None


#: The key under which the variants of a URL are one page (``crawlers.urls.page_key``), None for
#: what is no web URL: given to the document resolver, which looks documents up by it.
PageKey = Callable[[str], str | None]


def _no_variants(url: str) -> None:
    """The page key of a lookup that takes URLs only as spelled."""
    return None


#: Rows to load: each a mapping of column name → value.
Rows = Sequence[Mapping[str, Any]]
#: Columns to load: column name → values (a list, a NumPy array or an Arrow array), all of one length.
Columns = Mapping[str, Any]


def column_rows(columns: Columns) -> list[dict[str, Any]]:
    """The rows of ``columns`` (lists or NumPy arrays, not Arrow arrays), each value a Python one."""
    values = [column.tolist() if isinstance(column, np.ndarray) else list(column) for column in columns.values()]
    return [dict(zip(columns, row, strict=True)) for row in zip(*values, strict=True)]


def _length(data: Rows | Columns) -> int:
    """How many rows ``data`` holds."""
    if isinstance(data, Mapping):
        return len(next(iter(data.values()))) if data else 0
    return len(data)


#: Up to this many values reach a query as an ``IN`` list of parameters, more as an Arrow table
#: (see :func:`rows_with_values`). A list of constants lets DuckDB look a few rows up by the
#: table's index or skip its row groups by their bounds, where a table of values is joined to a
#: scan of the whole table: on the 1M scale warehouse, one version's row of ``versions`` 0.6 ms
#: against 1.4, its pairs in ``doc_pairs`` 0.5 against 1.2; from about sixteen values on the scan
#: costs no more than the longer list.
LISTED_VALUES = 16


def rows_with_values(
    con: duckdb.DuckDBPyConnection,
    name: str,
    column: str,
    values: Sequence[int] | Sequence[str],
    sql: str,
    params: Sequence[Any] = (),
) -> list[tuple[Any, ...]]:
    """The rows of ``sql`` (with its ``?`` parameters ``params``), which tests membership in
    ``values`` (integers, or strings) with ``IN (SELECT {column} FROM {name})``, written so, as
    often as it needs to. When the values are few (:data:`LISTED_VALUES`) each such test reads
    ``IN (?, ...)`` with the values as parameters; else the statement reads the one-column table
    ``name(column)`` (an Arrow table, see :func:`~warehouse.scans.execute_with`)."""
    member = f"(SELECT {column} FROM {name})"
    pieces = sql.split(member)
    if len(pieces) < 2:
        raise ValueError(f"the statement tests no membership {member}: {sql}")
    counts = [piece.count("?") for piece in pieces]
    if sum(counts) != len(params):
        raise ValueError(f"the statement takes {sum(counts)} parameters, {len(params)} given: {sql}")
    text = bool(values) and isinstance(values[0], str)
    if len(values) > LISTED_VALUES:
        arrow = pa.array(list(values), pa.string() if text else pa.int64())
        return execute_with(con, sql, params, **{name: {column: arrow}}).fetchall()
    listed = list(values) if text else [int(v) for v in values]  # NumPy's integers bind as Python's
    # Each test's values go where its marks are, among the statement's own parameters.
    bound: list[Any] = list(params[: counts[0]])
    taken = counts[0]
    for count in counts[1:]:
        bound += listed
        bound += params[taken : taken + count]
        taken += count
    empty = f"(SELECT NULL::{'VARCHAR' if text else 'BIGINT'} WHERE false)"
    marks = f"({', '.join('?' * len(listed))})" if listed else empty
    return con.execute(marks.join(pieces), bound).fetchall()


#: The most bytes of one chunk of a BLOB column (its offsets are 32-bit).
BLOB_CHUNK_BYTES = 2**31 - 1


def fixed_width_blobs(rows: np.ndarray) -> pa.Array | pa.ChunkedArray:
    """The rows of a 2-D array as a column of blobs (each row's values in the array's byte order;
    signatures are little-endian uint32, ``signatures.minhash``), over one buffer: not a bytes
    object a row, which cost a bulk batch seconds. The inverse of :func:`fixed_width_rows`.

    Built as BLOB columns are (32-bit offsets), in chunks of under 2 GiB each, so that no cast is
    needed: a cast imports ``pyarrow.compute``, which costs a one-article command 80 ms."""
    data = np.ascontiguousarray(rows)
    width = data.shape[1] * data.itemsize
    step = max(1, BLOB_CHUNK_BYTES // max(width, 1))
    chunks = []
    for first in range(0, max(len(data), 1), step):  # an empty column is one empty chunk
        part = data[first : first + step]
        offsets = np.arange(len(part) + 1, dtype=np.int32) * np.int32(width)
        chunks.append(
            pa.BinaryArray.from_buffers(pa.binary(), len(part), [None, pa.py_buffer(offsets), pa.py_buffer(part)])
        )
    return chunks[0] if len(chunks) == 1 else pa.chunked_array(chunks, pa.binary())


#: WAL size at which a commit also checkpoints the file.
CHECKPOINT_THRESHOLD = "256MB"
#: Rows of a DuckDB row group: an insert compresses and writes each full one as it runs (the rest
#: waits for the commit).
ROW_GROUP_ROWS = 122_880
#: Compression methods an insert of a full row group or more into a table does not try (DuckDB's
#: ``disabled_compression_methods``, set for that statement). ``band_keys`` holds a random 64-bit
#: key a row, which nothing compresses, beside passage and version ids that come in runs (each
#: passage's keys are stored together), which run-length encoding takes: bitpacking, tried on
#: all three columns of every row group, was never chosen and took half of each insert (a bulk
#: batch's 2.4M keys: 1.05 s against 0.57 s, the same file).
UNTRIED_COMPRESSION = {"band_keys": "bitpacking"}
#: Up to this many passages' signatures are read by their primary keys, more by a join (see
#: :meth:`Warehouse.passage_signatures`).
LOOKUP_IDS = 300
#: DuckDB's buffer pool limit (its default is 80% of the machine's memory). Every batch of an
#: ingest reads index and signature pages; left unbounded, DuckDB keeps them all cached and the
#: process grows with the warehouse. Larger sorts and joins spill to disk past the limit.
#: REUSETRACK_DUCKDB_MEMORY overrides it (any DuckDB size, e.g. "8GB") for heavy analyst queries.
DEFAULT_MEMORY_LIMIT = "1GB"


class Warehouse:
    """A connection to one warehouse file (or ``:memory:``) with the engine's operations.

    Used as a context manager, it is closed (and checkpointed) when the block ends.
    """

    def __init__(self, con: duckdb.DuckDBPyConnection, path: str, key_index: bool = False) -> None:
        self.con = con
        self.path = path
        self._schemas: dict[str, pa.Schema] = {}
        self._compression_reset_owed = False  # see insert()
        #: The band-key index beside the file (:mod:`warehouse.keyindex`), kept by the writer of
        #: a warehouse file; None in memory, read-only or for a snapshot, whose lookups join.
        self.key_index = KeyIndex(con, path) if key_index else None

    def __enter__(self) -> Warehouse:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- transactions and ids ---------------------------------------------------------------

    @contextmanager
    def transaction(self, clock: StageClock | None = None) -> Iterator[None]:
        """Run the body in one transaction: all of it is committed, or none of it (the commit
        itself timed as the stage ``commit`` on ``clock`` when given)."""
        self.con.execute("BEGIN TRANSACTION")
        try:
            yield
        except BaseException:
            self.con.execute("ROLLBACK")
            self._restore_compression()
            raise
        with clock.stage("commit") if clock else nullcontext():
            self.con.execute("COMMIT")

    def next_id(self, table: str, column: str) -> int:
        """One more than the largest id in ``table.column`` (ids are assigned by the writer)."""
        return self.next_ids((table, column))[0]

    def next_ids(self, *columns: tuple[str, str]) -> tuple[int, ...]:
        """:meth:`next_id` of each ``(table, column)``, read in one statement (each statement costs
        a one-article run about half a millisecond before it reads anything)."""
        maxima = ", ".join(f"(SELECT coalesce(max({column}), 0) + 1 FROM {table})" for table, column in columns)
        row = _first_row(self.con, f"SELECT {maxima}")
        assert row is not None
        return tuple(int(value) for value in row)

    def stored_text(self) -> int:
        """Characters of text the stored versions hold (``versions.chars`` summed)."""
        row = _first_row(self.con, "SELECT coalesce(sum(chars), 0) FROM versions")
        assert row is not None
        return int(row[0])

    def close(self) -> None:
        """Take in the index's background merge, checkpoint (so no WAL is left behind) and close."""
        if self.key_index is not None:
            self.key_index.close()
        with suppress(duckdb.Error):  # a read-only or failed connection: closing is all that is left
            self.con.execute("CHECKPOINT")
        self.con.close()

    # -- runs ----------------------------------------------------------------------------------

    def start_run(
        self,
        command: str,
        settings: Settings,
        version: str,
        run_id: int | None = None,
        started_at: datetime | None = None,
    ) -> int:
        """Record a new run with the settings it uses (as ``run_id``, which started at
        ``started_at``, when given: a run whose row is written with its first batch); return its id."""
        run_id = self.next_id("runs", "run_id") if run_id is None else run_id
        self.con.execute(
            "INSERT INTO runs (run_id, command, started_at, reusetrack_version, fingerprint_key, settings)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            [
                run_id,
                command,
                started_at or datetime.now(UTC),
                version,
                settings.fingerprint_key(),
                json.dumps(settings.to_dict()),
            ],
        )
        return run_id

    def finish_run(self, run_id: int, stats: dict[str, Any]) -> None:
        """Record the end of a run and its counts."""
        self.con.execute(
            "UPDATE runs SET finished_at = ?, stats = ? WHERE run_id = ?",
            [datetime.now(UTC), json.dumps(stats), run_id],
        )

    def _for_versions(self, version_ids: Sequence[int], sql: str) -> list[tuple[Any, ...]]:
        """Rows of ``sql``, which tests membership in ``version_ids`` with
        ``IN (SELECT version_id FROM wanted_versions)`` (see :func:`rows_with_values`)."""
        if not version_ids:
            return []
        return rows_with_values(self.con, "wanted_versions", "version_id", list(version_ids), sql)

    # -- documents -----------------------------------------------------------------------------

    def latest_versions(self, urls: Sequence[str]) -> dict[str, StoredVersion]:
        """The latest stored version of each of ``urls`` that is stored at all."""
        if not urls:
            return {}
        rows = rows_with_values(
            self.con,
            "wanted_urls",
            "url",
            list(urls),
            "SELECT d.url, d.doc_id, v.version_id, v.content_hash FROM documents d"
            " JOIN versions v ON v.doc_id = d.doc_id WHERE d.url IN (SELECT url FROM wanted_urls)"
            " QUALIFY row_number() OVER (PARTITION BY d.doc_id ORDER BY v.version_id DESC) = 1",
        )
        return {url: StoredVersion(doc_id, version_id, digest) for url, doc_id, version_id, digest in rows}

    def record_read_urls(self, read: Sequence[tuple[str, str, datetime]]) -> None:
        """Record in ``document_urls`` that the document stored under each first URL was read from
        the second at the given time; what is recorded already (or names no document) is left."""
        if not read:
            return
        doc_urls, urls, seen = zip(*read, strict=True)
        # Typed as document_urls' own columns, with the URL the doc_id is looked up by beside them.
        incoming = self.typed_table("document_urls", {"url": urls, "first_seen": seen})
        incoming = incoming.append_column("doc_url", pa.array(doc_urls, pa.string()))
        execute_with(
            self.con,
            "INSERT INTO document_urls SELECT d.doc_id, r.url, min(r.first_seen) FROM incoming_document_urls r"
            " JOIN documents d ON d.url = r.doc_url GROUP BY d.doc_id, r.url ON CONFLICT DO NOTHING",
            incoming_document_urls=incoming,
        )

    def record_stored_read_urls(self) -> None:
        """Record in ``document_urls`` the URL each stored version was read from (its document's
        own URL when none is known): for a snapshot loaded without the table (``reusetrack
        spark`` output, an export of an older warehouse), as migration 6 does for older files."""
        self.con.execute(
            "INSERT INTO document_urls SELECT v.doc_id, coalesce(m.fetched_url, d.url), min(v.fetched_at)"
            " FROM versions v JOIN documents d USING (doc_id) LEFT JOIN version_meta m USING (version_id)"
            " GROUP BY ALL ON CONFLICT DO NOTHING"
        )

    def schema(self, table: str) -> pa.Schema:
        """The Arrow schema of ``table`` as DuckDB's catalog types its columns (the SQL migrations
        are the one statement of them), read once per connection."""
        found = self._schemas.get(table)
        if found is None:
            found = self.con.table(table).limit(0).to_arrow_table().schema
            self._schemas[table] = found
        return found

    def column_types(self, name: str) -> list[tuple[str, str]]:
        """``(column, DuckDB type)`` of each column of the table or view ``name``, in its order."""
        relation = self.con.table(name)
        return list(zip(relation.columns, map(str, relation.types), strict=True))

    def typed_table(self, table: str, data: Rows | Columns, columns: Sequence[str] | None = None) -> pa.Table:
        """``data`` as an Arrow table with ``table``'s own column types (see :meth:`schema`).

        ``data`` is a sequence of rows (column name → value) or a mapping of columns (column name
        → values: a list, a NumPy array or an Arrow array). The result holds ``columns`` when given
        (a value missing from a row is NULL), else the table's columns that ``data`` names, in the
        table's order. A name the table does not have, or a value its column cannot hold, raises
        :class:`WarehouseError`.
        """
        schema = self.schema(table)
        given = set(data) if isinstance(data, Mapping) else {name for row in data for name in row}
        unknown = sorted(given - set(schema.names))
        if unknown:
            raise WarehouseError(f"{table} has no column {', '.join(unknown)}")
        wanted = [n for n in schema.names if n in given] if columns is None else list(columns)
        target = pa.schema([schema.field(n) for n in wanted])
        try:
            if not isinstance(data, Mapping):
                return pa.Table.from_pylist(list(data), schema=target)  # a value a row leaves out is NULL
            arrays = []
            for field in target:
                values = data.get(field.name)
                if values is None:
                    arrays.append(pa.nulls(_length(data), field.type))
                elif isinstance(values, pa.Array | pa.ChunkedArray):
                    # A cast only where the types differ: it imports pyarrow.compute (see above).
                    arrays.append(values if values.type == field.type else values.cast(field.type))
                else:
                    arrays.append(pa.array(values, field.type))
            return pa.Table.from_arrays(arrays, schema=target)
        except (pa.ArrowInvalid, pa.ArrowTypeError) as err:
            raise WarehouseError(f"cannot load {table}: {_first_line(err)}") from err

    def insert(self, table: str, data: Rows | Columns) -> None:
        """Bulk-insert ``data`` (rows or columns, see :meth:`typed_table`) into ``table`` in one
        statement through Arrow, each value cast to the column's type in the catalog (and, for a
        row group or more, without the compression methods :data:`UNTRIED_COMPRESSION` names)."""
        if not _length(data):
            return
        typed = self.typed_table(table, data)
        name = f"incoming_{table}"
        cols = ", ".join(typed.column_names)
        untried = UNTRIED_COMPRESSION.get(table) if typed.num_rows >= ROW_GROUP_ROWS else None
        if untried is not None:
            self.con.execute(f"SET disabled_compression_methods = '{untried}'")
            self._compression_reset_owed = True
        try:
            execute_with(self.con, f"INSERT INTO {table} ({cols}) SELECT {cols} FROM {name}", **{name: typed})
        except BaseException:
            # A failed insert aborts its transaction, which refuses the reset until it is rolled
            # back (:meth:`transaction` then makes it); outside a transaction it is made here.
            with suppress(duckdb.Error):
                self._restore_compression()
            raise
        self._restore_compression()

    def _restore_compression(self) -> None:
        """Reset DuckDB's ``disabled_compression_methods`` if an insert left it set."""
        if self._compression_reset_owed:
            self.con.execute("RESET disabled_compression_methods")
            self._compression_reset_owed = False

    def version_texts(self, version_ids: Sequence[int]) -> dict[int, str]:
        """The text of each of the given versions."""
        rows = self._for_versions(
            version_ids,
            "SELECT version_id, text FROM versions WHERE version_id IN (SELECT version_id FROM wanted_versions)",
        )
        return dict(rows)

    def version_documents(self, version_ids: Sequence[int]) -> dict[int, tuple[int, str, str | None]]:
        """``version_id → (doc_id, url, site)`` for the given versions."""
        rows = self._for_versions(
            version_ids,
            "SELECT v.version_id, d.doc_id, d.url, d.site FROM versions v JOIN documents d USING (doc_id)"
            " WHERE v.version_id IN (SELECT version_id FROM wanted_versions)",
        )
        return {v: (doc, url, site) for v, doc, url, site in rows}

    # -- candidates ----------------------------------------------------------------------------

    def candidates(
        self,
        first_passage_id: int,
        max_versions: int | None = None,
        probe: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
    ) -> np.ndarray:
        """Passage pairs sharing a band key, where the newer passage is ``>= first_passage_id``.

        Returns an ``(n, 4)`` int64 array of ``(old_passage, old_version, new_passage,
        new_version)`` rows, each pair once,
        never two passages of one version, sorted. Passages stored before are matched without any
        rebuild: the band keys are the index. With ``max_versions``, a key proposes only the
        passages of the first ``max_versions`` versions holding it (by version id), so that text
        on thousands of pages links each new copy to the earliest ones, not to every other.

        A warehouse file's writer reads the stored keys through :attr:`key_index`, a compiled
        merge of the batch's keys with sorted segments beside the file, and keeps it up to date
        (which writes its record in ``meta``: call this in the batch's transaction, where the
        passages below ``first_passage_id`` are the ones stored before). Other connections join
        in DuckDB (:meth:`candidates_by_join`, the reference the index is tested against).

        ``probe`` may give the rows ``(key, passage_id, version_id)`` the batch has just stored
        in ``band_keys`` (every row from ``first_passage_id`` on), which the index would
        otherwise read back.
        """
        if self.key_index is None:
            return self.candidates_by_join(first_passage_id, max_versions)
        return self.key_index.candidates(first_passage_id, max_versions, probe)

    def candidates_by_join(self, first_passage_id: int, max_versions: int | None = None) -> np.ndarray:
        """:meth:`candidates` by a join of the new band keys with every stored one, in DuckDB: a
        scan of the whole ``band_keys`` table."""
        rows = self.con.execute(
            "WITH probe AS (SELECT key, passage_id, version_id FROM band_keys WHERE passage_id >= $first),"
            " held AS (SELECT o.key, o.passage_id, o.version_id FROM band_keys o SEMI JOIN probe USING (key)"
            " QUALIFY dense_rank() OVER (PARTITION BY o.key ORDER BY o.version_id) <= $cap)"
            " SELECT DISTINCT o.passage_id AS old_p, o.version_id AS old_v, n.passage_id AS new_p,"
            " n.version_id AS new_v"
            " FROM probe n JOIN held o ON o.key = n.key"
            " WHERE o.passage_id < n.passage_id AND o.version_id <> n.version_id ORDER BY ALL",
            {"first": first_passage_id, "cap": max_versions if max_versions is not None else 2**62},
        ).fetchnumpy()
        columns = [np.asarray(rows[name], np.int64) for name in ("old_p", "old_v", "new_p", "new_v")]
        return np.stack(columns, axis=1)

    def passage_signatures(self, passage_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """For the given stored passages (distinct ids): their ids, signatures (one uint32 row
        each) and token spans ``token_end - token_start``, as arrays in one order, which is not
        always the ids'.

        A warehouse file's writer reads them from the signature store beside the file
        (:mod:`warehouse.sigstore`, kept by :meth:`keep_signatures`; call it in a transaction);
        others from DuckDB (:meth:`passage_signatures_from_tables`)."""
        if self.key_index is not None:
            return self.key_index.signatures.read(passage_ids)
        return self.passage_signatures_from_tables(passage_ids)

    def keep_signatures(self, first_passage_id: int, signatures: np.ndarray, tokens: np.ndarray) -> None:
        """Keep the signatures and token spans of the passages ``first_passage_id, ...`` stored
        in this transaction in the signature store, if this connection keeps one."""
        if self.key_index is not None:
            self.key_index.signatures.add(first_passage_id, signatures, tokens)

    def passage_signatures_from_tables(self, passage_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """:meth:`passage_signatures` read from DuckDB's tables (rows in any order: sorting the
        signatures in the query took a third of its time).

        A few ids are looked up through the tables' primary keys (an ``IN`` list): the join
        scans both tables' ids, which a new process reads from disk first (on 1M passages, 100
        ids: 35 ms against 201 ms in a new process, 7 against 12 ms warm; past about 300 ids
        the join is the faster)."""
        if len(passage_ids) <= LOOKUP_IDS:
            listed = ", ".join(str(int(i)) for i in passage_ids)
            where = f" WHERE s.passage_id IN ({listed}) AND p.passage_id IN ({listed})" if listed else " WHERE false"
            return signature_rows(self.con, where)
        wanted = {"passage_id": pa.array(passage_ids, pa.int64())}
        return signature_rows(self.con, " JOIN wanted_passages w USING (passage_id)", wanted_passages=wanted)

    def passage_positions(self, passage_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The given passages' ids (sorted, unique) and their positions in their versions, as
        two int64 arrays in the same order."""
        wanted = {"passage_id": pa.array(np.unique(passage_ids), pa.int64())}
        got = execute_with(
            self.con,
            "SELECT p.passage_id, p.position FROM passages p JOIN wanted_passages w USING (passage_id)"
            " ORDER BY p.passage_id",
            wanted_passages=wanted,
        ).fetchnumpy()
        return np.asarray(got["passage_id"], np.int64), np.asarray(got["position"], np.int64)

    def query(self, sql: str, params: Sequence[Any] | None = None) -> tuple[list[str], list[tuple[Any, ...]]]:
        """Run one SQL statement; return column names and rows."""
        try:
            cursor = self.con.execute(sql, params or [])
        except duckdb.Error as err:
            raise WarehouseError(f"query failed: {_first_line(err)}") from err
        if cursor.description is None:
            return [], []
        return [d[0] for d in cursor.description], cursor.fetchall()

    def read_query(self, sql: str, files: bool = False) -> tuple[list[str], list[tuple[Any, ...]]]:
        """Run a user's SQL, which may only read: SELECT (with DESCRIBE, SHOW, SUMMARIZE, VALUES,
        FROM-first) and EXPLAIN of those. COPY, EXPORT, ATTACH, INSTALL/LOAD, SET, PRAGMA, CALL
        and every statement that writes are refused with :class:`WarehouseError`; no extension is
        installed or loaded on the way, and unless ``files`` (a snapshot's views read its files)
        no file but the warehouse is reached."""
        try:
            statements = duckdb.extract_statements(sql)
        except duckdb.Error as err:
            raise WarehouseError(f"query failed: {_first_line(err)}") from err
        if not statements:
            raise WarehouseError("sql: the query holds no statement (only blanks, semicolons or comments)")
        for statement in statements:
            if not _reads_only(statement):
                kind = statement.type.name.replace("_", " ")
                raise WarehouseError(
                    f"sql is read-only: only queries that read are allowed (SELECT, EXPLAIN), not {kind}"
                )
        self.con.execute("SET autoinstall_known_extensions = false")
        self.con.execute("SET autoload_known_extensions = false")
        if not files:
            self.con.execute("SET enable_external_access = false")
        self.con.execute("SET lock_configuration = true")
        return self.query(sql)

    def resolve_document(self, ref: str, page_key: PageKey | None = None) -> CurrentDocument:
        """The one document ``ref`` names, with its latest version, for every command that takes a
        document.

        ``ref`` is a doc_id or a URL: the document's stored URL, a URL it was read from
        (``document_urls``: its versions' fetched URLs and its aliases read since), or, for a
        document with no web URL of its own (a local file), the canonical URL its page names
        (another site's canonical on a web page is evidence, not a name).
        ``page_key`` (``crawlers.urls.page_key``: the warehouse does not decide how URLs are
        spelled) makes the usual variants of a URL one: scheme, host case, ``www.``, trailing slash,
        default port, fragment, tracking parameters. Exact spellings are tried before variants; the
        stored URL before the fetched one, before the canonical. Without ``page_key`` only exact
        spellings are looked up. Raises :class:`~reuse.errors.NoSuchDocument` when no document
        matches, and :class:`WarehouseError` when several do at the first step that finds any (they
        are listed: nothing is guessed).
        """
        found = self._named_by(ref, page_key or _no_variants)
        if found is None:
            raise NoSuchDocument(f"no document with URL or doc_id {ref!r} in {self.path}")
        return self._current(found)

    def _named_by(self, ref: str, page_key: PageKey) -> int | None:
        """The doc_id of :meth:`resolve_document`, None when no document matches."""
        ref = ref.strip()
        key = page_key(ref)
        if key is None:
            where, params = "n.name = ?", [ref]
        else:
            # Only URLs holding the key's host and path can match (a variant differs in scheme, www.,
            # case of the host, port, a trailing slash, its query or fragment): they are few, and are
            # compared by their keys in Python.
            host, _, rest = key.partition("/")
            path = "/" + rest.split("?", 1)[0].lower()
            where, params = "strpos(lower(n.name), ?) > 0 AND strpos(lower(n.name), ?) > 0", [host, path]
        # A document's names: its stored URL, every URL it was read from (document_urls), and for a
        # document with no web URL of its own, the canonical its page names.
        rows = self.con.execute(
            "WITH names AS (SELECT doc_id, 'url' AS which, url AS name FROM documents"
            " UNION ALL SELECT doc_id, 'fetched', url FROM document_urls"
            " UNION ALL SELECT v.doc_id, 'canonical', m.canonical_url FROM versions v"
            " JOIN version_meta m USING (version_id) WHERE m.canonical_url IS NOT NULL)"
            " SELECT DISTINCT n.doc_id, d.url, n.which, n.name FROM names n JOIN documents d USING (doc_id)"
            f" WHERE {where}",
            params,
        ).fetchall()
        urls = {int(doc_id): url for doc_id, url, _, _ in rows}
        names = [  # (doc_id, which URL, the URL)
            (doc_id, which, name)
            for doc_id, url, which, name in rows
            if which != "canonical" or not url.lower().startswith(("http://", "https://"))
        ]
        steps: list[tuple[str, bool]] = [("url", True), ("fetched", True), ("canonical", True)]
        steps += [("url", False), ("fetched", False), ("canonical", False)] if key is not None else []
        for number, (which, exact) in enumerate(steps):
            found = sorted({d for d, w, u in names if w == which and (u == ref if exact else page_key(u) == key)})
            if len(found) > 1:
                listed = ", ".join(f"doc {d} ({urls[d]})" for d in found)
                raise WarehouseError(
                    f"{ref!r} names {len(found)} documents in {self.path}: {listed}; give its doc_id or exact URL"
                )
            if found:
                return found[0]
            if number == 0 and ref.isdigit():
                # A doc_id, once no document is stored under that exact URL.
                hit = self.con.execute("SELECT doc_id FROM documents WHERE doc_id = ?", [int(ref)]).fetchall()
                if hit:
                    return int(hit[0][0])
        return None

    def _current(self, doc_id: int) -> CurrentDocument:
        rows = self.con.execute(
            "SELECT doc_id, url, site, version_id, title FROM current_documents WHERE doc_id = ?", [doc_id]
        ).fetchall()
        return CurrentDocument(*rows[0])

    def document_matches(
        self, ref: str, page_key: PageKey | None = None
    ) -> tuple[CurrentDocument, list[dict[str, Any]]]:
        """What the latest version of document ``ref`` (as :meth:`resolve_document` reads it) shares with
        the latest versions of other documents.

        Each match is seen from the document's side: ``start``, ``end`` and ``text`` are its span,
        ``other_*`` the other document's; ordered by the other URL, then by ``start``. Raises
        :class:`WarehouseError` if there is no such document.
        """
        doc = self.resolve_document(ref, page_key)
        sides = []
        for this, other in (("a", "b"), ("b", "a")):
            sides.append(
                f'SELECT match_id, kind, similarity, {this}_start AS start, {this}_end AS "end", text_{this} AS text,'
                f" version_{other} AS other_version, {other}_start AS other_start, {other}_end AS other_end,"
                f" text_{other} AS other_text FROM match_details WHERE version_{this} = ?"
            )
        columns, rows = self.query(
            'SELECT m.match_id, m.kind, m.similarity, m.start, m."end", c.doc_id AS other_doc_id,'
            " c.url AS other_url, c.site AS other_site, m.other_version, m.other_start, m.other_end,"
            " m.text, m.other_text"
            f" FROM ({' UNION ALL '.join(sides)}) m JOIN current_documents c ON c.version_id = m.other_version"
            " ORDER BY c.url, m.start, m.match_id",
            [doc.version_id, doc.version_id],
        )
        return doc, [dict(zip(columns, row, strict=True)) for row in rows]

    def document_pairs(self, limit: int | None = None) -> list[dict[str, Any]]:
        """The pairs of current documents that share text, most shared first (``pair_details``)."""
        columns, rows = self.query(
            "SELECT * FROM pair_details ORDER BY greatest(coverage_a, coverage_b) DESC,"
            " shared_chars_a + shared_chars_b DESC, url_a, url_b LIMIT ?",
            [limit if limit is not None else 2**62],
        )
        return [dict(zip(columns, row, strict=True)) for row in rows]

    def stats(self) -> dict[str, Any]:
        """What the warehouse holds: its path, schema version, table counts, runs (count and the
        last one), the fingerprint settings its signatures were made with (None while empty) and
        how many stored versions lineage still owes (``lineage_pending``: stale unless a run is on)."""
        meta = dict(self.con.execute("SELECT key, value FROM meta").fetchall())
        schema = _first_row(self.con, "SELECT max(version) FROM schema_migrations")
        last = self.con.execute(
            "SELECT run_id, command, started_at, finished_at FROM runs ORDER BY run_id DESC LIMIT 1"
        ).fetchall()
        counts = self.counts()
        return {
            "path": self.path,
            "schema_version": schema[0] if schema else None,
            "tables": counts,
            "runs": counts["runs"],
            "last_run": dict(zip(("run_id", "command", "started_at", "finished_at"), last[0], strict=True))
            if last
            else None,
            "fingerprint_key": meta.get("fingerprint_key"),
            "settings": json.loads(meta["settings"]) if "settings" in meta else None,
            "lineage_pending": self._lineage_pending(),
        }

    def _lineage_pending(self) -> int | None:
        """Rows of ``lineage_pending``; None in a warehouse of an older schema opened read-only."""
        if not self.con.execute("SELECT 1 FROM duckdb_tables() WHERE table_name = 'lineage_pending'").fetchall():
            return None
        return int(self.con.execute("SELECT count(*) FROM lineage_pending").fetchall()[0][0])

    def counts(self) -> dict[str, int]:
        """Row counts of the main tables: the engine's, the lineage's and the crawler's."""
        tables = (*ENGINE_TABLES, "reuse_edges", "lineage_stories", "frontier", "fetch_log", "raw_pages", "runs")
        sql = " UNION ALL ".join(f"SELECT '{t}', count(*) FROM {t}" for t in tables)
        return {name: int(n) for name, n in self.con.execute(sql).fetchall()}


_EXPLAIN = re.compile(r"^\s*EXPLAIN\s+(?:ANALY[SZ]E\s+)?", re.I)


def _reads_only(statement: duckdb.Statement) -> bool:
    """Whether a parsed statement only reads: a SELECT, or EXPLAIN of one (EXPLAIN ANALYZE runs it)."""
    if statement.type is duckdb.StatementType.SELECT:
        return True
    if statement.type is not duckdb.StatementType.EXPLAIN:
        return False
    inner = _EXPLAIN.sub("", statement.query, count=1)
    if inner == statement.query:
        return False
    try:
        parsed = duckdb.extract_statements(inner)
    except duckdb.Error:
        return False
    return len(parsed) == 1 and parsed[0].type is duckdb.StatementType.SELECT


def _first_row(con: duckdb.DuckDBPyConnection, sql: str) -> tuple[Any, ...] | None:
    # fetchall, not fetchone: DuckDB 2 keeps a half-read result open and refuses the next statement.
    rows = con.execute(sql).fetchall()
    return rows[0] if rows else None


def _first_line(err: BaseException) -> str:
    return str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__


def _check_settings(con: duckdb.DuckDBPyConnection, settings: Settings | None, read_only: bool) -> None:
    if settings is None:
        return
    key = settings.fingerprint_key()
    stored = read_meta(con, "fingerprint_key")
    if stored is None:
        if not read_only:
            con.execute(
                "INSERT INTO meta VALUES ('fingerprint_key', ?), ('settings', ?), ('created_by_duckdb', ?)",
                [key, json.dumps(settings.to_dict()), duckdb.__version__],
            )
        return
    if stored != key:
        raise SettingsMismatch(
            f"the warehouse holds signatures made with other fingerprint settings ({stored}, these give {key}); "
            "use the settings it was built with, or a new --db"
        )


def open_warehouse(path: str | Path, settings: Settings | None = None, read_only: bool = False) -> Warehouse:
    """Open (creating and migrating if needed) the warehouse at ``path``.

    With ``settings``, the file's fingerprint settings must equal theirs (a new file adopts them).
    Raises :class:`WarehouseLocked` when another process writes to the file, and
    :class:`WarehouseError` when it cannot be opened or is newer than this version of reusetrack.
    """
    return _open(path, settings, read_only, bring_views=True)


def _open(path: str | Path, settings: Settings | None, read_only: bool, bring_views: bool) -> Warehouse:
    """:func:`open_warehouse`; a reader finding the file's views defined by another version of
    reusetrack defines this version's first when ``bring_views`` (see :func:`_bring_views`)."""
    target = str(path)
    if target != ":memory:":
        parent = Path(target).resolve().parent
        if not parent.is_dir():
            raise WarehouseError(f"cannot open warehouse {target}: folder {parent} does not exist")
        if read_only and not Path(target).exists():
            raise WarehouseError(f"no warehouse at {target}: run 'reusetrack ingest' first or pass --db")
    try:
        con = duckdb.connect(target, read_only=read_only)
    except duckdb.IOException as err:
        message = str(err)
        lock = _LOCK.search(message)
        if lock or "lock" in message.lower():
            pid = int(lock.group(2)) if lock and lock.group(2) else None
            holder = f" (PID {pid})" if pid else ""
            raise WarehouseLocked(
                f"warehouse {target} is being written by another process{holder}; wait for it to finish", pid
            ) from err
        raise WarehouseError(f"cannot open warehouse {target}: {_first_line(err)}") from err
    except duckdb.Error as err:
        raise WarehouseError(f"cannot open warehouse {target}: {_first_line(err)}") from err
    try:
        # DuckDB's own progress bar would print over ours (and into logs) on long joins.
        con.execute("SET enable_progress_bar = false")
        _limit_memory(con)
        if not read_only:
            # A batch of an ingest writes about 20 MB (band keys and signatures): at DuckDB's
            # default of 16 MB every commit would checkpoint the file. Committed data is in the
            # WAL either way; closing checkpoints what is left.
            con.execute(f"SET checkpoint_threshold = '{CHECKPOINT_THRESHOLD}'")
        tables = {row[0] for row in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        if "schema_migrations" not in tables and (read_only or tables):
            # A DuckDB file of something else: never add our tables to it.
            raise WarehouseError(f"{target} is not a reusetrack warehouse")
        if "schema_migrations" in tables:
            # Checked before migrating, so that a newer file is refused untouched.
            stored = _first_row(con, "SELECT max(version) FROM schema_migrations")
            if stored and stored[0] and stored[0] > SCHEMA_VERSION:
                raise WarehouseError(
                    f"warehouse {target} has schema version {stored[0]}, newer than this reusetrack "
                    f"({SCHEMA_VERSION}); upgrade reusetrack"
                )
            if read_only and target != ":memory:" and stored and stored[0] and stored[0] < SCHEMA_VERSION:
                # An older file: the commands' queries need the new columns and views, so a reader
                # brings the schema up to date once (migrations only add), then reads.
                con.close()
                _upgrade(target, stored[0])
                return open_warehouse(path, settings, read_only=True)
            if read_only and bring_views and target != ":memory:" and not views_current(con):
                con.close()
                _bring_views(target)
                return _open(path, settings, read_only=True, bring_views=False)
        if not read_only:
            apply_migrations(con)
        _check_settings(con, settings, read_only)
    except BaseException:
        con.close()
        raise
    return Warehouse(con, target, key_index=not read_only and target != ":memory:")


def _limit_memory(con: duckdb.DuckDBPyConnection) -> None:
    """Bound DuckDB's buffer pool (:data:`DEFAULT_MEMORY_LIMIT`, or REUSETRACK_DUCKDB_MEMORY)."""
    wanted = os.environ.get("REUSETRACK_DUCKDB_MEMORY")
    try:
        con.execute("SET memory_limit = ?", [wanted or DEFAULT_MEMORY_LIMIT])
    except duckdb.Error as err:
        raise WarehouseError(
            f"REUSETRACK_DUCKDB_MEMORY={wanted!r} is not a memory size DuckDB accepts (e.g. 2GB): {_first_line(err)}"
        ) from err


def _upgrade(target: str, version: int) -> None:
    """Apply the migrations an older warehouse file lacks, for a reader."""
    try:
        open_warehouse(target).close()
    except WarehouseLocked:
        raise
    except WarehouseError as err:
        raise WarehouseError(
            f"warehouse {target} has schema version {version}, older than this reusetrack ({SCHEMA_VERSION}),"
            f" and cannot be upgraded: {err}"
        ) from err


def _bring_views(target: str) -> None:
    """Open the file for writing once, which defines this version's macros and views in it. A file
    that cannot be written (read-only media, another process reading it) keeps the views it has:
    reading with them beats not reading."""
    with suppress(WarehouseError):
        open_warehouse(target).close()


def open_when_free(
    path: str | Path,
    settings: Settings | None = None,
    read_only: bool = False,
    wait: float = 10.0,
    on_wait: Callable[[str], None] | None = None,
) -> Warehouse:
    """:func:`open_warehouse`, waiting up to ``wait`` seconds while another process holds the file.

    A scheduled crawl holds the write lock only while it commits a batch (about a second), so a
    reader or the next batch that finds the file locked tries again a few times a second instead
    of failing; :class:`WarehouseLocked` is raised only when the holder keeps it past ``wait``.
    ``on_wait`` is given one line saying what is awaited, once, when the file is found locked.
    """
    deadline = time.monotonic() + wait
    pause = 0.02
    told = False
    while True:
        try:
            return open_warehouse(path, settings, read_only)
        except WarehouseLocked as err:
            if time.monotonic() + pause > deadline:
                raise
            if on_wait is not None and not told:
                holder = f" (PID {err.holder})" if err.holder else ""
                on_wait(f"waiting for the warehouse {path}: another process{holder} is writing it (up to {wait:g} s)")
                told = True
            time.sleep(pause)
            pause = min(0.25, pause * 2)
