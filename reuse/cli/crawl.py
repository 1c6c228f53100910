"""The crawler's commands: ``fetch``, ``crawl`` and ``status`` (registered on ``reuse.cli.app.app``).

They follow the CLI's rules (one library call each, ``--json`` for scripts, ``Error: ...`` and a
non-zero exit for user errors). ``crawl`` shows live progress on stderr when it is a terminal
and ends with a one-line summary on stdout; a crawl refused because another one is running on
the same warehouse exits with code 75 (EX_TEMPFAIL: try again later), not 1.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import asdict, fields, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from crawlers.settings import CrawlSettings
from reuse.cli.options import READ_WAIT, stop_on_signals, warehouse_path
from reuse.cli.output import count, echo_json, print_table
from reuse.config import Settings
from reuse.errors import InputError, ReuseError, SettingsError, WarehouseLocked

if TYPE_CHECKING:
    from rich.live import Live

    from crawlers.sources import Source
    from reuse.pipeline.crawl import CrawlReport
    from reuse.pipeline.webhook import Delivery

__all__ = ["EXIT_LOCKED", "crawl", "fetch", "parse_duration", "register", "status"]

#: Exit code when another crawl holds the warehouse (sysexits.h EX_TEMPFAIL).
EXIT_LOCKED = 75

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|sec|m|min|h|d)?\s*$", re.I)
_UNITS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "d": 86400}

AllowPrivate = Annotated[
    list[str] | None,
    typer.Option(
        "--allow-private",
        metavar="CIDR",
        help="Allow connections to this private/loopback range (repeatable), e.g. 127.0.0.1/32 for a local server.",
    ),
]
Delay = Annotated[float | None, typer.Option("--delay", min=0, help="Seconds between requests to one host.")]
UserAgent = Annotated[str | None, typer.Option("--user-agent", help="The User-Agent header to send.")]
Contact = Annotated[str | None, typer.Option("--contact", help="A URL or mailto: for site owners, in the User-Agent.")]
Insecure = Annotated[
    list[str] | None,
    typer.Option("--insecure-host", metavar="HOST", help="Do not verify TLS certificates of this host (repeatable)."),
]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout instead.")]


def parse_duration(text: str) -> float:
    """Seconds in ``30m``, ``1h``, ``90s``, ``1d`` or a bare number of seconds."""
    found = _DURATION.match(text)
    if not found or float(found.group(1)) <= 0:
        raise SettingsError(f"--every {text!r} is not a duration; write it like 30m, 2h or 90s")
    return float(found.group(1)) * _UNITS[(found.group(2) or "s").lower()]


def _settings(
    overrides: dict[str, Any],
    allow_private: list[str] | None,
    delay: float | None,
    user_agent: str | None,
    contact: str | None,
    insecure: list[str] | None,
    **more: Any,
) -> CrawlSettings:
    # Imported here: the address guard loads httpx, which printing the version or the help must not.
    from crawlers.addresses import parse_networks

    values = dict(overrides)
    for key, value in (("delay", delay), ("user_agent", user_agent), ("contact", contact), *more.items()):
        if value is not None:
            values[key] = value
    names = {f.name for f in fields(CrawlSettings)}
    try:
        base = CrawlSettings(**{k: v for k, v in values.items() if k in names})
    except TypeError as err:
        raise SettingsError(f"crawler settings: {err}") from None
    return replace(
        base,
        allow_private=parse_networks(allow_private or []),
        insecure_hosts=frozenset(h.lower() for h in insecure or []),
    )


def _targets(targets: list[str]) -> tuple[dict[str, Any], list[Source]]:
    """A sources file, or URLs (each its own source)."""
    from crawlers.sources import load_sources

    if len(targets) == 1 and (targets[0].endswith(".toml") or Path(targets[0]).is_file()):
        return load_sources(targets[0])
    for target in targets:
        if Path(target).is_file():
            raise InputError(target, "give either one sources file or URLs, not both")
    return {}, _url_sources(targets)


def _url_sources(urls: list[str]) -> list[Source]:
    """One source per host of ``urls``, with the host's URLs as its seeds."""
    from crawlers.sources import source_for_url

    sources: dict[str, Source] = {}
    for url in urls:
        source = source_for_url(url)
        if source.name in sources:
            source = replace(sources[source.name], seeds=sources[source.name].seeds + source.seeds)
        sources[source.name] = source
    return list(sources.values())


def _line(report: CrawlReport) -> str:
    return (
        f"{count(report.fetched, 'page')} fetched: {report.stored} stored, {report.unchanged} unchanged, "
        f"{report.no_article} without article, {report.failed} failed, {report.blocked} blocked, "
        f"{report.retries} retried; {count(report.matches, 'match', 'matches')} in "
        f"{count(report.pairs, 'document pair')}; {report.discovered} URLs found"
        + (f", {report.scheduled_later} left for later" if report.scheduled_later else "")
    )


class _LiveProgress:
    """Live counts on stderr (pages, errors, matches) while a crawl runs, on a terminal only."""

    def __init__(self, label: str) -> None:
        from rich.console import Console

        self.console = Console(stderr=True)
        self.label = label
        self.started = time.monotonic()
        self.live: Live | None = None
        self.last = 0.0

    def __enter__(self) -> _LiveProgress:
        from rich.live import Live
        from rich.text import Text

        if self.console.is_terminal:
            self.live = Live(Text(self.label), console=self.console, transient=True, refresh_per_second=4)
            self.live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.live is not None:
            self.live.__exit__(None, None, None)

    def __call__(self, report: CrawlReport) -> None:
        from rich.text import Text

        now = time.monotonic()
        if self.live is None or now - self.last < 0.1:
            return
        self.last = now
        elapsed = now - self.started
        rate = report.fetched / elapsed if elapsed > 0 else 0.0
        self.live.update(
            Text(
                f"{self.label} · {report.fetched} pages ({rate:.1f}/s) · {report.stored} stored · "
                f"{report.unchanged} unchanged · {report.errors} errors ({report.retries} retried, "
                f"{report.failed} failed) · {report.matches} matches · {report.discovered} found"
            )
        )


def _run(
    ctx: typer.Context, sources: list[Source], settings: CrawlSettings, command: str, stop: threading.Event
) -> CrawlReport:
    from reuse.pipeline.crawl import run_crawl

    with _LiveProgress(f"{command} run") as live:
        try:
            return run_crawl(
                warehouse_path(ctx),
                Settings(),
                settings,
                sources,
                command=command,
                progress=live,
                stop=stop,
                follow=command != "fetch",
            )
        except WarehouseLocked as err:
            typer.echo(f"Error: {err}", err=True)
            raise typer.Exit(EXIT_LOCKED) from None


def _deliver(ctx: typer.Context, url: str, stop: threading.Event) -> Delivery:
    """POST the alerts owed to the webhook ``url``; a failure to reach it is reported, never raised."""
    from reuse.pipeline.webhook import deliver_alerts

    return deliver_alerts(warehouse_path(ctx), url, stop=stop)


def _delivery_line(url: str, delivery: Delivery) -> str:
    line = f"webhook {url}: {count(delivery.delivered, 'alert')} delivered"
    if delivery.error is not None:
        line += f"; {count(delivery.owed, 'alert')} owed, sent at the next run ({delivery.error})"
    return line


def fetch(
    ctx: typer.Context,
    urls: Annotated[list[str], typer.Argument(metavar="URL", help="Pages (or feeds, sitemaps) to fetch now.")],
    allow_private: AllowPrivate = None,
    delay: Delay = None,
    user_agent: UserAgent = None,
    contact: Contact = None,
    insecure_host: Insecure = None,
    json_out: JsonFlag = False,
) -> None:
    """Fetch URLs once, store their articles and match them against everything stored.

    robots.txt, the address rules and the size and time caps apply as in a crawl. Nothing else is
    fetched: the items of a feed or sitemap and a page's links go into the frontier for the next
    crawl. One line per URL: what became of it. Exit code 1 when no URL gave a page.
    """
    from crawlers.urls import canonicalize
    from warehouse.crawl import frontier_rows
    from warehouse.db import open_when_free

    sources = [replace(source, max_depth=0) for source in _url_sources(urls)]
    settings = _settings({}, allow_private, delay, user_agent, contact, insecure_host, max_depth=0)
    with stop_on_signals() as stop:
        report = _run(ctx, sources, settings, "fetch", stop)
    with open_when_free(warehouse_path(ctx), read_only=True, wait=READ_WAIT) as wh:
        rows = frontier_rows(wh, [canonicalize(url) for url in urls])
    results = []
    for url in urls:
        row = rows.get(canonicalize(url), {})
        results.append(
            {
                "url": url,
                "state": row.get("state"),
                "status": row.get("last_status"),
                "reason": row.get("reason"),
                "doc_id": row.get("doc_id"),
                "final_url": row.get("final_url"),
            }
        )
    if json_out:
        echo_json({"run_id": report.run_id, **report.counts(), "urls": results})
    else:
        for item in results:
            what = f"document {item['doc_id']}" if item["doc_id"] is not None else (item["reason"] or item["state"])
            status = f" HTTP {item['status']}" if item["status"] else ""
            typer.echo(f"{item['url']}: {item['state']}{status}: {what}")
        typer.echo(_line(report) + f" (run {report.run_id})")
    if not any(item["state"] == "done" for item in results):
        raise ReuseError(f"none of the {len(urls)} URLs could be fetched")


def crawl(
    ctx: typer.Context,
    targets: Annotated[
        list[str], typer.Argument(metavar="SOURCES_FILE | URL...", help="A TOML sources file, or URLs.")
    ],
    every: Annotated[
        str | None,
        typer.Option("--every", metavar="DURATION", help="Run again every DURATION (30m, 2h) until stopped."),
    ] = None,
    allow_private: AllowPrivate = None,
    delay: Delay = None,
    max_pages: Annotated[int | None, typer.Option("--max-pages", min=1, help="Pages per source and run.")] = None,
    depth: Annotated[int | None, typer.Option("--depth", min=0, help="Links followed from start pages.")] = None,
    user_agent: UserAgent = None,
    contact: Contact = None,
    insecure_host: Insecure = None,
    webhook: Annotated[
        str | None,
        typer.Option(
            "--webhook",
            metavar="URL",
            help="POST each new alert as JSON to URL after each run (undelivered ones again at the next run).",
        ),
    ] = None,
    json_out: JsonFlag = False,
) -> None:
    """Crawl sites: discover new articles (start pages, feeds, sitemaps, links), fetch them politely,
    store them and match them against everything stored as they land.

    The argument is a sources file (see seeds/sources.toml) or URLs, each a page, a feed or a
    sitemap whose host becomes the scope. Re-runs are incremental (conditional GET, adaptive
    recheck intervals). --every keeps running on a schedule; Ctrl-C or SIGTERM stops cleanly.
    With --webhook, the alerts each run raises (see 'watch add') are POSTed to URL as JSON; an
    endpoint that is down never stops the crawl, and what it missed is sent at the next run.
    """
    overrides, sources = _targets(targets)
    settings = _settings(overrides, allow_private, delay, user_agent, contact, insecure_host, max_pages=max_pages,
                         max_depth=depth)  # fmt: skip
    interval = parse_duration(every) if every is not None else None
    if webhook is not None:
        from reuse.pipeline.webhook import register_webhook

        register_webhook(warehouse_path(ctx), webhook)
    with stop_on_signals() as stop:
        while True:
            started = time.monotonic()
            report = _run(ctx, sources, settings, "crawl", stop)
            delivery = _deliver(ctx, webhook, stop) if webhook is not None else None
            if json_out:
                sent = {"webhook": asdict(delivery)} if delivery is not None else {}
                echo_json({"run_id": report.run_id, **report.counts(), "problems": report.problems, **sent})
            else:
                for state, url, reason in report.problems:
                    typer.echo(f"{state}: {url}: {reason}", err=True)
                typer.echo(f"crawl run {report.run_id}: {_line(report)}")
                if delivery is not None:
                    typer.echo(_delivery_line(webhook or "", delivery), err=delivery.error is not None)
            if interval is None or stop.is_set():
                return
            pause = max(0.0, started + interval - time.monotonic())
            typer.echo(f"next run at {datetime.fromtimestamp(time.time() + pause):%H:%M:%S}", err=True)
            if stop.wait(pause):  # woken by Ctrl-C or SIGTERM: stop, cleanly
                return


def status(ctx: typer.Context, json_out: JsonFlag = False) -> None:
    """Show the crawl frontier (URLs per state and host, what is due, why URLs failed) and the last runs."""
    from rich.table import Table
    from rich.text import Text

    from warehouse.crawl import crawl_runs, frontier_summary
    from warehouse.db import open_when_free

    with open_when_free(warehouse_path(ctx), read_only=True, wait=READ_WAIT) as wh:
        summary = frontier_summary(wh, datetime.now(UTC))
        runs = crawl_runs(wh)
    if json_out:
        echo_json({**summary, "runs": runs})
        return
    states = summary["states"]
    total = sum(states.values())
    typer.echo(
        f"frontier: {count(total, 'URL')} ("
        + ", ".join(f"{n} {s}" for s, n in states.items())
        + f"); {summary['due']} due now"
    )
    if summary["hosts"]:
        table = Table("host", "todo", "done", "failed", "blocked", "next due (UTC)")
        for host in summary["hosts"]:
            when = host["next_fetch_at"]
            table.add_row(
                Text(host["host"]),
                *(Text(str(host[k])) for k in ("todo", "done", "failed", "blocked")),
                Text(when.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S") if when else "-"),
            )
        print_table(table)
    for reason in summary["reasons"]:
        typer.echo(f"{reason['state']}: {reason['count']} × {reason['reason']}")
    if not runs:
        typer.echo("no crawl runs yet")
    for run in runs:
        stats = run["stats"] or {}
        finished = "running or stopped" if run["finished_at"] is None else "finished"
        typer.echo(
            f"run {run['run_id']} ({run['command']}) started {run['started_at']:%Y-%m-%d %H:%M:%S}, {finished}: "
            f"{stats.get('fetched', 0)} fetched, {stats.get('stored', 0)} stored, {stats.get('failed', 0)} failed, "
            f"{stats.get('matches', 0)} matches"
        )


def register(app: typer.Typer) -> None:
    """Add the crawler's commands to ``app``."""
    app.command()(fetch)
    app.command()(crawl)
    app.command()(status)
