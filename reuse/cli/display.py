"""Values as people read them on a terminal: a URL as its site and a short path, a duration in
days, hours and minutes, and a table cell that shortens its URL to the width its column gets.

Pure: no I/O. The CLI and the HTML report use these, so a lag reads the same everywhere.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from rich.console import Console, ConsoleOptions
    from rich.measure import Measurement
    from rich.text import Text

__all__ = ["ELLIPSIS", "UrlCell", "duration_text", "short_path", "short_url"]

ELLIPSIS = "…"
#: The narrowest a URL column is made: the site and a few characters of the path stay visible.
_MIN_PATH = 12


def duration_text(seconds: float) -> str:
    """A duration as ``1d 2h 05m``, ``21h 44m``, ``12m`` or ``40s`` (the sign is dropped)."""
    seconds = abs(int(seconds))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h {minutes:02d}m"
    if hours:
        return f"{hours}h {minutes:02d}m"
    return f"{minutes}m" if minutes else f"{secs}s"


def _cut(text: str, width: int) -> str:
    """``text`` cut at the end to ``width`` characters, an ellipsis marking the cut."""
    if len(text) <= width:
        return text
    return text[: max(0, width - 1)] + ELLIPSIS if width > 0 else ""


def _parts(url: str) -> tuple[str, str]:
    """The site (host without ``www.``, or the scheme for a host-less URL) and the rest of ``url``."""
    split = urlsplit(url)
    host = (split.hostname or "").removeprefix("www.")
    path = split.path + (f"?{split.query}" if split.query else "")
    if not host:
        # file:// and other host-less URLs: the file name says the most.
        return "", path or url
    if split.port:
        host = f"{host}:{split.port}"
    return host, "" if path == "/" else path


def short_path(url: str, width: int | None = None) -> str:
    """The path (and query) of ``url``, at most ``width`` characters: whole when it fits, else its
    most telling segment (the longest, usually the slug), ``…`` marking what was left out:
    ``/presence-of-turkish-ba…`` or ``/…/karabakh-armenia-le…``."""
    _, path = _parts(url)
    if width is None or len(path) <= width:
        return path
    segments = [s for s in path.split("/") if s]
    if not segments:
        return _cut(path, width)
    slug = max(segments, key=len)
    lead = "/" if path.startswith("/" + slug) else "/…/"
    return _cut(lead + slug, width) if width > len(lead) else _cut(path, width)


def short_url(url: str, width: int | None = None) -> str:
    """``url`` as its site and path, at most ``width`` characters (no limit when None).

    The scheme and ``www.`` go first; when the rest is still too long, the site stays whole and
    the path is shortened by :func:`short_path`: ``southfront.org/presence-of-turkish-ba…``.
    A URL without a host (``file://``) keeps the end of its path: ``…/corpus/original.txt``.
    """
    site, path = _parts(url)
    if width is None or len(site) + len(path) <= width:
        return site + path
    if not site:
        return ELLIPSIS + path[-(width - 1) :] if width > 1 else ELLIPSIS
    if len(site) + 2 > width:
        return _cut(site, width)
    return site + short_path(url, width - len(site))


class UrlCell:
    """A table cell holding a URL: as wide as its column allows, down to the site and a few
    characters of the path, shortened by :func:`short_url` to the width the table gives it."""

    def __init__(self, url: str) -> None:
        self.url = url
        site, _ = _parts(url)
        self.full = short_url(url)
        self.narrowest = min(len(self.full), len(site) + _MIN_PATH)

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        from rich.measure import Measurement

        return Measurement(self.narrowest, len(self.full)).clamp(max_width=options.max_width)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> Iterator[Text]:
        from rich.text import Text

        yield Text(short_url(self.url, options.max_width), no_wrap=True, overflow="ellipsis")
