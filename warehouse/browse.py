"""Reads for browsing the warehouse (``reusetrack serve``): search, the latest stories, a document's
versions, a site's profile. Every value from a user goes in as a query parameter, never as SQL,
and every answer is bounded by a ``limit`` the caller gives."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from warehouse.db import Warehouse

__all__ = ["MAX_SEARCH_WORDS", "document_versions", "latest_stories", "search_documents", "site_profile"]

#: Words of a search beyond these are ignored: each adds a scan of the texts.
MAX_SEARCH_WORDS = 8
#: Characters of text shown before the first word found.
_SNIPPET_BEFORE = 80
_SNIPPET_LENGTH = 260


def _rows(wh: Warehouse, sql: str, params: list[Any]) -> list[dict[str, Any]]:
    columns, rows = wh.query(sql, params)
    return [dict(zip(columns, row, strict=True)) for row in rows]


def search_documents(wh: Warehouse, text: str, limit: int) -> list[dict[str, Any]]:
    """The current documents holding every word of ``text`` (case-insensitive) in their URL, title
    or text, latest first, at most ``limit``; each with a snippet of its text around the first word."""
    words = [w.lower() for w in text.split()][:MAX_SEARCH_WORDS]
    if not words:
        return []
    # One fixed condition per word; the words themselves are parameters.
    where = " AND ".join(
        ["(strpos(lower(c.url), ?) > 0 OR strpos(lower(coalesce(c.title, '')), ?) > 0 OR strpos(lower(v.text), ?) > 0)"]
        * len(words)
    )
    params: list[Any] = [words[0], _SNIPPET_BEFORE, _SNIPPET_LENGTH]
    for word in words:
        params += [word, word, word]
    return _rows(
        wh,
        "SELECT c.doc_id, c.url, c.site, c.title, c.published_at, c.published_precision,"
        " substr(v.text, greatest(1, strpos(lower(v.text), ?) - ?), ?) AS snippet"
        f" FROM current_documents c JOIN versions v USING (version_id) WHERE {where}"
        " ORDER BY c.published_at DESC NULLS LAST, c.doc_id DESC LIMIT ?",
        [*params, limit],
    )


def latest_stories(wh: Warehouse, limit: int) -> list[dict[str, Any]]:
    """The stories whose latest document is the most recent, at most ``limit``, with the root's title."""
    return _rows(
        wh,
        "SELECT s.*, c.title AS root_title FROM stories s JOIN current_documents c ON c.doc_id = s.root_doc"
        " ORDER BY s.last_time DESC NULLS LAST, s.story_id DESC LIMIT ?",
        [limit],
    )


def document_versions(wh: Warehouse, doc_id: int, limit: int) -> list[dict[str, Any]]:
    """The versions of a document, oldest first (at most ``limit``, the latest ones), each with the
    edit labels of its text against the version before (empty for the first)."""
    return _rows(
        wh,
        "SELECT * FROM (SELECT v.version_id, v.fetched_at, v.published_at, v.published_precision, v.title,"
        " v.chars, coalesce(d.labels, []) AS labels FROM versions v"
        " LEFT JOIN version_diffs d ON d.new_version = v.version_id"
        " WHERE v.doc_id = ? ORDER BY v.version_id DESC LIMIT ?) ORDER BY version_id",
        [doc_id, limit],
    )


def site_profile(wh: Warehouse, site: str, limit: int) -> dict[str, Any] | None:
    """What the warehouse knows of ``site``: its documents (count, first and last seen, the latest
    ``limit``), the sites it copies and those copying it (``site_network`` rows), the share of its
    copies that credit their source, and its learned template (up to ``limit`` blocks, most held
    first). None when it holds no document of the site."""
    _, counts = wh.query("SELECT count(*), min(first_seen), max(first_seen) FROM documents WHERE site = ?", [site])
    documents, first_seen, last_seen = counts[0]
    if not documents:
        return None
    network = "SELECT * FROM site_network WHERE {} = ? ORDER BY copies DESC, {}"
    copies_from = _rows(wh, network.format("target_site", "source_site"), [site])
    copied_by = _rows(wh, network.format("source_site", "target_site"), [site])
    copies = sum(r["copies"] for r in copies_from)
    credited = sum(r["copies"] * r["share_credited"] for r in copies_from)
    return {
        "site": site,
        "documents": documents,
        "first_seen": first_seen,
        "last_seen": last_seen,
        "copies_from": copies_from,
        "copied_by": copied_by,
        "copies": copies,
        "share_credited": credited / copies if copies else None,
        "template": _rows(
            wh,
            "SELECT sample, docs, site_docs FROM site_boilerplate WHERE site = ? ORDER BY docs DESC, sample LIMIT ?",
            [site, limit],
        ),
        "latest": _rows(
            wh,
            "SELECT doc_id, url, title, published_at, published_precision FROM current_documents WHERE site = ?"
            " ORDER BY published_at DESC NULLS LAST, doc_id DESC LIMIT ?",
            [site, limit],
        ),
    }
