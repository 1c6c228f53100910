"""Where a run's time goes: seconds accumulated per named stage."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from time import perf_counter

__all__ = ["StageClock"]


class StageClock:
    """Accumulates wall time per stage (read, passages, signatures, load, candidates, align...).

    Stages may nest only when they are distinct: the inner time is also counted in the outer.
    """

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Count the time spent inside the ``with`` block to ``name``."""
        start = perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + perf_counter() - start

    def rounded(self, digits: int = 3) -> dict[str, float]:
        """The stage times rounded, in the order stages were first timed."""
        return {name: round(value, digits) for name, value in self.seconds.items()}
