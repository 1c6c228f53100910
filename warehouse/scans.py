"""The one way many values reach a statement: Arrow tables read by name, nothing registered.

DuckDB's Python client reads a Python variable named in a statement as a table when the catalog
has no table of that name (a *replacement scan*), looking it up among the variables of the frame
that runs the statement. :func:`execute_with` and :func:`relation_with` run the statement in a
namespace of its own that holds the given tables under their names, so a statement reads them as
it would read a registered view, but without the two changes of the catalog that registering and
unregistering one make: about 0.8 ms a table on a warehouse file, where a one-article run used
some thirty tables.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import CodeType
from typing import Any, TypeAlias

import duckdb
import pyarrow as pa

__all__ = ["Table", "execute_with", "relation_with"]

#: Evaluated in a namespace holding the statement's tables: DuckDB looks their names up there.
_EXECUTE = compile("con.execute(sql, params)", "<warehouse.scans>", "eval")
_RELATION = compile("con.sql(sql, params=params or None)", "<warehouse.scans>", "eval")
_OWN = frozenset({"con", "sql", "params"})

#: What a statement may read by name: an Arrow table, or columns (name → Arrow array or values).
Table: TypeAlias = pa.Table | Mapping[str, Any]


def execute_with(
    con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] = (), /, **tables: Table
) -> duckdb.DuckDBPyConnection:
    """Run ``sql`` (with its ``?`` parameters ``params``) on ``con``, which reads each of ``tables``
    (an Arrow table, or columns: name → Arrow array or values) as a table of that name; returns
    ``con`` to fetch from, as ``con.execute`` does.

    A name must not be a table or view of the catalog (the catalog's would be read), nor ``con``,
    ``sql`` or ``params``."""
    result: duckdb.DuckDBPyConnection = _evaluated(_EXECUTE, con, sql, params, tables)
    return result


def relation_with(
    con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] = (), /, **tables: Table
) -> duckdb.DuckDBPyRelation:
    """The query ``sql`` as a relation of ``con`` (``con.sql``), reading ``tables`` as
    :func:`execute_with` does: for its results as Arrow, which a relation hands over without the
    copy ``execute`` makes."""
    result: duckdb.DuckDBPyRelation = _evaluated(_RELATION, con, sql, params, tables)
    return result


def _evaluated(
    code: CodeType, con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any], tables: dict[str, Table]
) -> Any:
    if _OWN & tables.keys():
        raise ValueError(f"a table may not be named {', '.join(sorted(_OWN & tables.keys()))}")
    namespace: dict[str, Any] = {
        name: table if isinstance(table, pa.Table) else pa.table(dict(table)) for name, table in tables.items()
    }
    namespace.update(con=con, sql=sql, params=list(params))
    # The namespace is this evaluation's locals, where DuckDB looks the tables up. Its globals are
    # left empty for Python to fill with the builtins, which DuckDB's own imports need.
    return eval(code, {}, namespace)
