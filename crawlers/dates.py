"""Dates as news pages and documents write them: ISO 8601, RFC 2822, Unix seconds, and the visible
forms of five languages ("November 05, 2020", "4 ноября 2020", "08/11/2020 06:45"), each with the
precision it is written with.

Apart from the page metadata (:mod:`crawlers.metadata`) because documents that are not pages (a
JSON Lines row, a text file's front matter, ``ingest --published``) are dated by it too, without
the HTML parser the metadata reader needs.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from reuse.models import TimePrecision, iso_precision

__all__ = ["MONTH_NAMES", "parse_datetime", "parse_time", "visible_date", "visible_time"]

_MONTHS = {
    **{m: i for i, m in enumerate(
        ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
         "november", "december"], 1)},
    **{m: i for i, m in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], 1)},
    "sept": 9,
    **{m: i for i, m in enumerate(
        ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
         "novembre", "décembre"], 1)},
    **{m: i for i, m in enumerate(
        ["januar", "februar", "märz", "april", "mai", "juni", "juli", "august", "september", "oktober",
         "november", "dezember"], 1)},
    "jänner": 1,
    **{m: i for i, m in enumerate(
        ["enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre",
         "noviembre", "diciembre"], 1)},
    "setiembre": 9,
    **{m: i for i, m in enumerate(
        ["января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа", "сентября", "октября",
         "ноября", "декабря"], 1)},
    **{m: i for i, m in enumerate(
        ["январь", "февраль", "март", "апрель", "май", "июнь", "июль", "август", "сентябрь", "октябрь",
         "ноябрь", "декабрь"], 1)},
}  # fmt: skip
_MONTH = "|".join(sorted((re.escape(m) for m in _MONTHS), key=len, reverse=True))
#: The month names and abbreviations written dates use (English, French, German, Spanish, Russian).
MONTH_NAMES = frozenset(_MONTHS)
_TIME = (
    r"(?:[,\s]+(?:at\s+|à\s+|um\s+|a las\s+|в\s+)?(?P<hh>\d{1,2})[:h.](?P<mi>\d{2})(?::(?P<ss>\d{2}))?"
    r"\s*(?P<ap>[ap]\.?m\.?)?)?"
)
_VISIBLE_DATES = [
    re.compile(r"\b(?P<y>(?:19|20)\d{2})-(?P<m>\d{1,2})-(?P<d>\d{1,2})(?:[T\s]+(?P<hh>\d{1,2}):(?P<mi>\d{2}))?"),
    re.compile(rf"\b(?P<mon>{_MONTH})\.?\s+(?P<d>\d{{1,2}})(?:st|nd|rd|th)?,?\s+(?P<y>(?:19|20)\d{{2}}){_TIME}", re.I),
    re.compile(rf"\b(?P<d>\d{{1,2}})(?:st|nd|rd|th|er|\.|º)?\s+(?:de\s+)?(?P<mon>{_MONTH})\.?,?\s+(?:de\s+)?"
               rf"(?P<y>(?:19|20)\d{{2}})(?:\s*(?:г\.|года))?{_TIME}", re.I),
    re.compile(rf"\b(?P<d>\d{{1,2}})(?P<sep>[./])(?P<m>\d{{1,2}})(?P=sep)(?P<y>(?:19|20)\d{{2}}){_TIME}"),
]  # fmt: skip


def parse_datetime(value: str | None, day_first: bool = True) -> datetime | None:
    """A datetime from ISO 8601, RFC 2822 or a written date ("5 November 2020", "Nov. 5, 2020 09:14")."""
    found = parse_time(value, day_first)
    return found[0] if found else None


def parse_time(value: str | None, day_first: bool = True) -> tuple[datetime, TimePrecision] | None:
    """Like :func:`parse_datetime`, with the precision the time is written with: "2021-03-01"
    is a ``DAY`` (stored as its midnight), "2021-03" a ``MONTH``, "2021-03-01T10:00Z" a ``MINUTE``."""
    if not value:
        return None
    raw = value.strip()
    if not raw or len(raw) > 200:
        return None
    precision = iso_precision(raw)
    if precision in (TimePrecision.MONTH, TimePrecision.YEAR):
        year, _, month = raw.partition("-")
        return (datetime(int(year), int(month or 1), 1), precision) if 1990 <= int(year) <= 2100 else None
    iso = re.sub(r"(\.\d+)?Z$", r"\1+00:00", raw.replace(" UTC", "+00:00"))
    iso = re.sub(r"([+-]\d{2})(\d{2})$", r"\1:\2", iso)
    try:
        found = datetime.fromisoformat(iso)
    except (ValueError, OverflowError):
        found = None
    if found is not None:
        return (found, precision or TimePrecision.SECOND) if 1990 <= found.year <= 2100 else None
    if re.match(r"^\d{9,10}$", raw):  # Unix seconds, as some CMSes write them
        return datetime.fromtimestamp(int(raw), tz=UTC), TimePrecision.SECOND
    try:
        found = parsedate_to_datetime(raw)
        return found, TimePrecision.SECOND if re.search(r"\d:\d\d:\d\d", raw) else TimePrecision.MINUTE
    except (TypeError, ValueError, IndexError):
        pass
    return visible_time(raw, day_first)


def visible_date(text: str, day_first: bool = True) -> datetime | None:
    """The first date written in ``text`` ("November 05, 2020", "4 ноября 2020", "08/11/2020 06:45")."""
    found = visible_time(text, day_first)
    return found[0] if found else None


def visible_time(text: str, day_first: bool = True) -> tuple[datetime, TimePrecision] | None:
    """Like :func:`visible_date`, with its precision: a ``MINUTE`` when a time of day is written, else a ``DAY``."""
    for pattern in _VISIBLE_DATES:
        for found in pattern.finditer(text):
            parts = found.groupdict()
            try:
                if parts.get("mon"):
                    month = _MONTHS[parts["mon"].lower().rstrip(".")]
                    day = int(parts["d"])
                else:
                    first, second = int(parts["d"]), int(parts["m"])
                    if "sep" in parts and parts["sep"] == "/" and not day_first and second <= 12 and first <= 12:
                        first, second = second, first
                    day, month = first, second
                hour, minute = int(parts.get("hh") or 0), int(parts.get("mi") or 0)
                if (parts.get("ap") or "").lower().startswith("p") and hour < 12:
                    hour += 12
                precision = TimePrecision.MINUTE if parts.get("hh") else TimePrecision.DAY
                return datetime(int(parts["y"]), month, day, hour, minute), precision
            except (KeyError, ValueError):
                continue
    return None
