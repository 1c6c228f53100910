"""Watchlists and alerts: ``watch add|list|remove`` and ``alerts`` (registered on ``reuse.cli.app.app``).

Watches live in the warehouse; every run that stores documents raises the alerts in its lineage
update (:mod:`reuse.pipeline.alerts`). ``alerts`` reads them back (:func:`warehouse.alerts.list_alerts`,
the same items the web interface serves) and writes them as an Atom feed.
"""

from __future__ import annotations

import os
import tempfile
from contextlib import suppress
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from reuse.cli.options import READ_WAIT, JsonFlag, WideFlag, warehouse_path
from reuse.cli.output import count, echo_json, percent, print_table, url_cell
from reuse.errors import InputError, SettingsError

if TYPE_CHECKING:
    from warehouse.db import Warehouse

__all__ = ["alert_items", "alerts", "parse_since", "register", "watch_app", "write_whole"]

watch_app = typer.Typer(
    no_args_is_help=True,
    rich_markup_mode=None,
    help="Watch a site, a document or a passage: every run that stores a new copy of it raises an alert.",
)


@watch_app.command("add")
def watch_add(
    ctx: typer.Context,
    target: Annotated[
        str | None,
        typer.Argument(
            metavar="[TARGET]",
            help="A site (southfront.org), or a document: its URL or doc_id. Not with --text.",
            show_default=False,
        ),
    ] = None,
    text: Annotated[
        Path | None, typer.Option("--text", metavar="FILE", help="Watch for the passage in this text file.")
    ] = None,
    name: Annotated[str | None, typer.Option("--name", help="A name for the watch.")] = None,
    note: Annotated[str | None, typer.Option("--note", help="A note kept with the watch.")] = None,
    json_out: JsonFlag = False,
) -> None:
    """Watch a site, a document or a passage of text.

    From now on, every run that stores documents (ingest, fetch, crawl, load) raises one alert for
    each new document copying the site's articles or the document (by the lineage: its source is
    the watched one), or holding the passage outside its site's template.
    """
    from reuse.pipeline.alerts import add_watch

    added = add_watch(warehouse_path(ctx), target, text_file=text, name=name, note=note)
    if json_out:
        echo_json(added)
    else:
        typer.echo(f"watch {added['watch_id']}: {added['kind']} {added['target']}")


@watch_app.command("list")
def watch_list(ctx: typer.Context, json_out: JsonFlag = False, wide: WideFlag = False) -> None:
    """List the watches: id, kind, target, name, and the alerts each raised (and how many unseen)."""
    from rich.table import Table

    from warehouse.alerts import list_watches
    from warehouse.db import open_when_free

    with open_when_free(warehouse_path(ctx), read_only=True, wait=READ_WAIT) as wh:
        watches = list_watches(wh)
    if json_out:
        echo_json(watches)
        return
    if not watches:
        typer.echo("no watches: add one with 'reusetrack watch add TARGET'")
        return
    table = Table("id", "kind", "target", "name", "alerts", "unseen", "added", "note")
    for w in watches:
        target = url_cell(w["target"], wide) if w["kind"] == "document" else w["target"]
        added = f"{w['created_at']:%Y-%m-%d %H:%M}"
        table.add_row(str(w["watch_id"]), w["kind"], target, w["name"] or "", str(w["alerts"]),
                      str(w["unseen"]), added, w["note"] or "")  # fmt: skip
    print_table(table, wide=wide)


@watch_app.command("remove")
def watch_remove(
    ctx: typer.Context,
    watch_id: Annotated[int, typer.Argument(metavar="ID", help="The watch's id (see 'watch list').")],
) -> None:
    """Stop a watch: it raises no more alerts; those it raised stay."""
    from warehouse.alerts import remove_watch
    from warehouse.db import open_when_free

    with open_when_free(warehouse_path(ctx), wait=60.0) as wh, wh.transaction():
        remove_watch(wh, watch_id)
    typer.echo(f"watch {watch_id} removed")


def parse_since(text: str, now: datetime | None = None) -> datetime:
    """``--since``: a time ago (``30m``, ``24h``, ``7d``) or an ISO 8601 date or time (UTC unless
    it says otherwise)."""
    from reuse.cli.crawl import parse_duration

    if text.strip()[-1:].isalpha():
        with suppress(SettingsError):
            try:
                return (now or datetime.now(UTC)) - timedelta(seconds=parse_duration(text))
            except OverflowError:
                raise InputError("--since", f"{text!r} is further back than any date") from None
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InputError("--since", f"{text!r} is neither a time ago (24h, 7d) nor an ISO date or time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def write_whole(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` whole: into a temporary file beside it, then renamed over it, so a
    reader (a feed reader polling the file) never sees half of it."""
    folder = path.resolve().parent
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def alert_items(
    wh: Warehouse, since: str | None = None, unseen: bool = False, limit: int | None = None
) -> list[dict[str, Any]]:
    """The alert items ``reusetrack alerts --json`` prints given ``--since`` (as written: 24h, or an
    ISO date or time), ``--unseen`` and ``--limit``; ``serve``'s /api/alerts answers the same for
    the same parameters. Raises :class:`InputError` for a ``since`` it cannot read."""
    from warehouse.alerts import list_alerts

    moment = parse_since(since) if since is not None else None
    return list_alerts(wh, since=moment, unseen=unseen, limit=limit)


def _line(item: dict[str, Any]) -> list[str]:
    copy, source = item["copy"], item["source"]
    return [
        str(item["alert_id"]),
        f"{item['raised_at']:%Y-%m-%d %H:%M}",
        "" if item["seen_at"] else "new",
        item["watch"]["name"] or item["watch"]["target"],
        copy["url"],
        source["url"] if source else "(watched text)",
        percent(item["coverage_source"]),
        item["credited"] or "",
        ", ".join(item["labels"]),
    ]


def alerts(
    ctx: typer.Context,
    since: Annotated[
        str | None,
        typer.Option("--since", metavar="WHEN", help="Only alerts raised since WHEN: 24h, 7d, or an ISO date or time."),
    ] = None,
    unseen: Annotated[bool, typer.Option("--unseen", help="Only alerts not marked seen.")] = False,
    mark_seen: Annotated[bool, typer.Option("--mark-seen", help="Mark the alerts listed as seen.")] = False,
    atom: Annotated[
        Path | None, typer.Option("--atom", metavar="FILE", help="Write the alerts listed as an Atom feed to FILE.")
    ] = None,
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="At most this many, newest first.")] = None,
    json_out: JsonFlag = False,
    wide: WideFlag = False,
) -> None:
    """List the alerts the watches raised, newest first: the new copy (URL, site, time), the source
    it copies, coverage, credited or not, its edit labels and the evidence.

    --json prints a list of alert items; --atom FILE writes them as an Atom feed (written whole,
    so a feed reader never reads half of it); --mark-seen marks what was listed as seen.
    """
    from rich.table import Table

    from warehouse.alerts import atom_feed, feed_id_of
    from warehouse.alerts import mark_seen as mark
    from warehouse.db import open_when_free

    db = warehouse_path(ctx)
    if mark_seen:
        with open_when_free(db, wait=60.0) as wh, wh.transaction():
            items = alert_items(wh, since, unseen, limit)
            mark(wh, [item["alert_id"] for item in items])
    else:
        with open_when_free(db, read_only=True, wait=READ_WAIT) as wh:
            items = alert_items(wh, since, unseen, limit)
    if atom is not None:
        write_whole(atom, atom_feed(items, feed_id=feed_id_of(db)))
    if json_out:
        echo_json(items)
        return
    if atom is not None:
        typer.echo(f"{count(len(items), 'alert')} written to {atom}")
        return
    if not items:
        typer.echo("no alerts")
        return
    table = Table("id", "raised", "", "watch", "copy", "source", "coverage", "credited", "edits")
    for item in items:
        row = _line(item)
        table.add_row(*row[:4], url_cell(row[4], wide), url_cell(row[5], wide) if item["source"] else row[5], *row[6:])
    print_table(table, wide=wide)


def register(app: typer.Typer) -> None:
    """Add the ``watch`` group and the ``alerts`` command to ``app``."""
    app.add_typer(watch_app, name="watch")
    app.command("alerts")(alerts)
