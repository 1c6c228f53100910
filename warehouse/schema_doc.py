"""The warehouse schema as Markdown, generated from the SQL files, for the README.

``python -m warehouse.schema_doc README.md`` rewrites the part of the README between the
``<!-- schema:start -->`` and ``<!-- schema:end -->`` markers; a test fails when they differ.
"""

from __future__ import annotations

import sys
from pathlib import Path

from warehouse.migrations import macro_sql, migrations, view_sql

__all__ = ["END", "START", "render", "schema_markdown"]

START = "<!-- schema:start -->"
END = "<!-- schema:end -->"


def schema_markdown() -> str:
    """Every migration, the views' macros and every view definition, each under its own heading, as SQL blocks."""
    parts = [
        "Generated from `warehouse/sql/` by `python -m warehouse.schema_doc README.md`; do not edit by hand.",
    ]
    for m in migrations():
        parts.append(f"#### Migration {m.version:04d} `{m.name}`\n\n```sql\n{m.sql.strip()}\n```")
    parts.append(f"#### Macros\n\n```sql\n{macro_sql().strip()}\n```")
    for name, sql in view_sql():
        parts.append(f"#### View `{name.removesuffix('.sql')}`\n\n```sql\n{sql.strip()}\n```")
    return "\n\n".join(parts)


def render(readme: str) -> str:
    """``readme`` with the text between the schema markers replaced by :func:`schema_markdown`."""
    head, start, rest = readme.partition(START)
    _, end, tail = rest.partition(END)
    if not start or not end:
        raise ValueError(f"the README lacks the {START} ... {END} markers")
    return f"{head}{START}\n{schema_markdown()}\n{END}{tail}"


def main(argv: list[str]) -> int:
    """Rewrite the schema section of the README named in ``argv``."""
    if len(argv) != 1:
        print("usage: python -m warehouse.schema_doc README.md", file=sys.stderr)
        return 2
    path = Path(argv[0])
    path.write_text(render(path.read_text(encoding="utf-8")), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
