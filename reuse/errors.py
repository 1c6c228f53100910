"""The exceptions reusetrack raises, one tree for the whole tool.

::

    ReuseError                    every error reusetrack raises on purpose
    ├── SettingsError             a setting is out of range; the message says how to fix it
    ├── InputError                one input item (file, page, row) cannot be used; the batch goes on
    │   ├── UnsupportedInput      the item is of a kind reusetrack does not read
    │   └── RepeatedInput         the item's URL was already read in this run
    └── WarehouseError            the DuckDB warehouse cannot be opened, migrated or written
        ├── NoSuchDocument        no stored document has the doc_id or URL given
        ├── WarehouseLocked       another process holds the write lock
        └── SettingsMismatch      stored signatures were made under other settings

The CLI turns any ``ReuseError`` (and DuckDB's errors for a damaged warehouse or a full disk)
into one ``Error: ...`` line and a non-zero exit; anything else is a bug and keeps its traceback.
An ``InputError`` a run skips is reported as a :class:`Problem` line.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = [
    "InputError",
    "NoSuchDocument",
    "Problem",
    "RepeatedInput",
    "ReuseError",
    "SettingsError",
    "SettingsMismatch",
    "UnsupportedInput",
    "WarehouseError",
    "WarehouseLocked",
]


class ReuseError(Exception):
    """Base class of every error reusetrack raises on purpose."""


class SettingsError(ReuseError, ValueError):
    """A setting is out of range or inconsistent with another one."""


class InputError(ReuseError):
    """One input item cannot be used; callers report it and go on with the rest."""

    def __init__(self, source: str, reason: str) -> None:
        super().__init__(f"{source}: {reason}")
        self.source = source
        self.reason = reason


class UnsupportedInput(InputError):
    """The item is of a kind reusetrack does not read (binary, unknown extension...)."""


class RepeatedInput(InputError):
    """The item's URL was read earlier in the same run: the first record of a URL is the one kept.

    ``document`` is the repeat itself (a ``reuse.models.Document``), kept so that the URL it was
    read from (an alias: an AMP twin naming the first) is still recorded for the document."""

    def __init__(self, source: str, reason: str, document: Any = None) -> None:
        super().__init__(source, reason)
        self.document = document


class WarehouseError(ReuseError):
    """The warehouse cannot be opened, migrated or written."""


class NoSuchDocument(WarehouseError):
    """No stored document has the doc_id or URL a command was given."""


class WarehouseLocked(WarehouseError):
    """Another process holds DuckDB's write lock on the warehouse file (``holder``: its PID, if known)."""

    def __init__(self, message: str, holder: int | None = None) -> None:
        super().__init__(message)
        self.holder = holder


class SettingsMismatch(WarehouseError):
    """The warehouse holds signatures made under other fingerprint settings."""


@dataclass(frozen=True)
class Problem:
    """One input item a run could not use.

    ``status`` is ``"skipped"`` for items reusetrack does not read on purpose (an empty file, a
    binary or unsupported one, a repeat of a URL already read in the run) and ``"failed"`` for
    items it tried and could not read.
    """

    status: str
    source: str
    reason: str

    @classmethod
    def of(cls, error: InputError) -> Problem:
        """The problem an :class:`~reuse.errors.InputError` reports."""
        skipped = isinstance(error, UnsupportedInput | RepeatedInput) or error.reason == "empty file"
        return cls("skipped" if skipped else "failed", error.source, error.reason)

    def __str__(self) -> str:
        return f"{self.status}: {self.source}: {self.reason}"
