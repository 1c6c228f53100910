"""Attribution: whether a copy credits its source, an ancestor of it, another outlet, or nobody.
Pure: no I/O."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reuse.lineage.edits import url_key
from reuse.lineage.evidence import credits_of, name_key, site_keys, url_keys
from reuse.lineage.facts import Attribution, DocFacts, Story

__all__ = ["attribution"]


def attribution(target: DocFacts, source: DocFacts, story: Story, docs: Mapping[int, DocFacts]) -> Attribution:
    """Whether ``target`` credits ``source`` (canonical, credit line, byline or link), credits
    another outlet instead, or nobody; and whether what it credits agrees with the lineage."""
    how = tuple(s.name for s in credits_of(target, source))
    ancestors = set(story.ancestors(target.doc_id)) if target.doc_id in story.nodes else set()
    credited: list[dict[str, Any]] = []
    own = site_keys(target)
    for credit in target.evidence.credits:
        named = None
        for doc in docs.values():
            if doc.doc_id == target.doc_id:
                continue
            if (credit.url and url_key(credit.url) in url_keys(doc)) or (
                not credit.url and credit.outlet and name_key(credit.outlet) in site_keys(doc)
            ):
                named = doc.doc_id
                break
        if credit.outlet and name_key(credit.outlet) in own and named is None:
            continue  # a credit to the page's own site (its own copyright line) credits nobody else
        credited.append(
            {
                "kind": credit.kind,
                "text": credit.text,
                "outlet": credit.outlet,
                "url": credit.url,
                "doc_id": named,
                "is_source": named == source.doc_id,
                "is_ancestor": named in ancestors,
            }
        )
    if how:
        status = "credited"
    elif credited:
        status = "credited_other"
    else:
        status = "uncredited"
    agrees = None if not (how or credited) else bool(how) or any(c["is_ancestor"] for c in credited)
    return Attribution(status, how, tuple(credited), agrees)
