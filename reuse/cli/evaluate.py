"""``reusetrack eval``: measure detection quality on the PAN 2013 corpus (``eval pan13``) and lineage
on generated news whose truth is known (``eval lineage``).

The harnesses are imported inside each command, so that ``--help`` and ``--version`` load none of them.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from reuse.cli.options import JsonFlag
from reuse.cli.output import count, echo_json, echo_problems, percent, print_table, progress
from reuse.config import Settings

if TYPE_CHECKING:
    pass

__all__ = ["eval_app", "eval_lineage", "eval_pan13", "register"]

eval_app = typer.Typer(
    no_args_is_help=True, rich_markup_mode=None, help="Measure detection quality on a standard corpus."
)


@eval_app.command("pan13")
def eval_pan13(
    corpus_dir: Annotated[
        Path,
        typer.Argument(metavar="CORPUS_DIR", help="The PAN 2013 text-alignment corpus folder.", show_default=False),
    ],
    out: Annotated[
        Path | None, typer.Option("--out", help="Also write the detections as PAN XML files to this folder.")
    ] = None,
    limit: Annotated[
        int | None, typer.Option("--limit", min=1, help="Use only the first N pairs of each category.")
    ] = None,
    json_out: JsonFlag = False,
) -> None:
    """Score reusetrack on a PAN 2013 text-alignment corpus, in corpus mode.

    Every document is ingested into a fresh temporary warehouse (not --db), matched as any
    corpus is, and the matches inside the listed pairs are scored: plagdet, precision, recall,
    granularity and pair recall per category and for the entire corpus, with the wall time and
    peak memory. --json prints one object keyed by category folder name and "entire", each with
    plagdet, precision, recall, granularity, pair_recall and negative_detections (detections in
    pairs without a case: false alarms), plus seconds and peak_rss_mb.
    """
    from rich.table import Table
    from rich.text import Text

    from reuse.eval.pan13 import evaluate_pan13_fresh
    from reuse.eval.pan13_corpus import load_corpus

    corpus = load_corpus(corpus_dir, limit=limit)
    with progress("pan13", len(corpus.sources) + len(corpus.suspicious)) as advance:
        result = evaluate_pan13_fresh(corpus, Settings(), out=out, progress=advance)
    echo_problems(result.report.problems)  # on stderr, so also with --json
    if json_out:
        echo_json(result.scores())
        return
    table = Table("category", "plagdet", "precision", "recall", "granularity", "pair recall", "cases", "detections")
    for name, row in result.rows.items():
        sc = row.scores
        table.add_row(
            name,
            *(Text(f"{v:.3f}") for v in (sc.plagdet, sc.precision, sc.recall, sc.granularity)),
            Text("-" if row.pair_recall is None else f"{row.pair_recall:.3f}"),
            Text(str(sc.cases)),
            Text(str(sc.detections)),
        )
    print_table(table)
    report = result.report
    typer.echo(
        f"{count(report.ingested, 'document')}, {count(report.matches, 'match', 'matches')}; "
        f"{result.seconds:.1f} s, peak RSS {result.peak_rss_mb:.0f} MB"
    )
    if out is not None:
        typer.echo(f"detections written to {out}")


@eval_app.command("lineage")
def eval_lineage(
    seed: Annotated[int, typer.Option("--seed", help="The generated world's random seed.")] = 1,
    stories: Annotated[int, typer.Option("--stories", min=1, help="How many stories to generate.")] = 40,
    sites: Annotated[int, typer.Option("--sites", min=5, help="How many sites to generate.")] = 8,
    json_out: JsonFlag = False,
) -> None:
    """Score lineage on generated news whose truth is known.

    Sites with their own templates and articles, and stories of an original and its copies
    (after minutes to days; credited by a credit line, a URL, a cross-site canonical, a link, or
    not at all; edited; dated to the second, to the day, or not at all; some with AMP twins) are
    written as a web archive and ingested into a fresh temporary warehouse (not --db). Reported:
    each copy's found source (correct, an ancestor, undecided, wrong or reversed), story
    membership (pair precision and recall), credit accuracy, identity (syndicated copies kept,
    aliases merged) and edit labels found. --json prints those figures as one object.
    """
    from reuse.eval.lineage_run import evaluate_lineage

    with progress("lineage eval") as advance:
        scores, report, seconds = evaluate_lineage(seed, stories=stories, sites=sites, progress=advance)
    echo_problems(report.problems)
    figures = {**scores.to_dict(), "seconds": round(seconds, 3)}
    if json_out:
        echo_json(figures)
        return
    direction, membership = figures["direction"], figures["membership"]
    typer.echo(
        f"{count(figures['copies'], 'copy', 'copies')} in {count(stories, 'story', 'stories')}:"
        + "".join(f" {direction[k]} {k}," for k in ("correct", "ancestor", "undecided", "wrong", "reversed"))
        + f" accuracy {percent(direction['accuracy'])}"
    )
    for url in direction["reversed_pages"]:
        typer.echo(f"  reversed: {url}")
    typer.echo(
        f"membership: pair precision {percent(membership['pair_precision'])},"
        f" recall {percent(membership['pair_recall'])};"
        f" {membership['background_in_story']} unrelated articles in a story"
    )
    credit, identity = figures["credit"], figures["identity"]
    typer.echo(f"credit: {percent(credit['accuracy'])} of {credit['judged']} copies under their true source")
    for line in credit["wrong"]:
        typer.echo(f"  {line}")
    typer.echo(
        f"identity: {identity['syndicated_kept']}/{identity['syndicated']} syndicated copies kept apart,"
        f" {identity['aliases_merged']}/{identity['aliases']} aliases merged"
    )
    edits = ", ".join(f"{label} {v['found']}/{v['true']}" for label, v in figures["edits"].items())
    typer.echo(f"edit labels found: {edits}; {seconds:.1f} s")


def register(app: typer.Typer) -> None:
    """Add the ``eval`` group to ``app``."""
    app.add_typer(eval_app, name="eval")
