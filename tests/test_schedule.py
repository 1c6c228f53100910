"""Re-crawl intervals and retries (exponential backoff with jitter; the schedule's properties) on random histories."""

from __future__ import annotations

import os
import random
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crawlers.fetch import FetchResult, Outcome
from crawlers.frontier import Entry, Kind, State, after_fetch
from crawlers.schedule import Schedule, backoff_delay
from crawlers.settings import CrawlSettings
from reuse.errors import SettingsError

START = datetime(2026, 1, 1, tzinfo=UTC)
SCHEDULE = Schedule()
CRAWL = CrawlSettings(max_retries=2, backoff_base=5.0, jitter=0.25)


def _result(kind: str, status: int | None = None) -> FetchResult:
    outcome = {
        "ok": Outcome.OK,
        "changed": Outcome.OK,
        "304": Outcome.NOT_MODIFIED,
        "error": Outcome.HTTP_ERROR,
        "timeout": Outcome.TIMEOUT,
        "404": Outcome.HTTP_ERROR,
    }[kind]
    code = status or {"ok": 200, "changed": 200, "304": 304, "error": 503, "404": 404}.get(kind)
    return FetchResult("http://x.org/a", "http://x.org/a", outcome, START, 0.1, status=code)


#: One history: the kind of URL, the fetches' outcomes in order, the seed of the jitter.
HISTORY = st.tuples(
    st.sampled_from(list(Kind)),
    st.lists(st.sampled_from(["ok", "changed", "304", "error", "timeout", "404"]), min_size=1, max_size=30),
    st.integers(0, 2**32),
)


# The schedule's properties are asked of 10,000 histories: CI runs them all, a developer's run a
# tenth. Ten to an example: hypothesis's own work for an example costs more than the history, so
# ten to one make the same 10,000 histories in less than half the time.
@settings(max_examples=1_000 if os.environ.get("CI") else 100, deadline=None)
@given(st.lists(HISTORY, min_size=10, max_size=10))
def test_schedule_properties_on_random_histories(histories: list[tuple[Kind, list[str], int]]) -> None:
    """next_fetch_at is always after the fetch; intervals stay in [min, max]; k unchanged
    fetches in a row give at least min(max, base × (1 + inc)^k); errors have their own interval."""
    for kind, history, seed in histories:
        _check_history(kind, history, seed)


def _check_history(kind: Kind, history: list[str], seed: int) -> None:
    rng = random.Random(seed)
    entry = Entry("http://x.org/a", "x.org", kind, 0)
    now = START
    low, base, high = SCHEDULE.bounds(kind)
    for step in history:
        entry = after_fetch(entry, _result(step), now, CRAWL, SCHEDULE, rng, changed=step == "changed")
        assert entry.next_fetch_at is not None and entry.next_fetch_at > now
        gap = (entry.next_fetch_at - now).total_seconds()
        if step in ("ok", "changed", "304"):
            assert entry.state is State.DONE and entry.attempts == 0
            assert low <= gap <= high
            k = entry.unchanged
            assert gap >= min(high, base * (1 + SCHEDULE.increase) ** k) * 0.999999
        elif entry.state is State.TODO:
            assert step in ("error", "timeout") and 1 <= entry.attempts <= CRAWL.max_retries
            expected = CRAWL.backoff_base * 2 ** (entry.attempts - 1)
            assert expected * 0.75 <= gap <= expected * 1.25
        else:
            assert entry.state is State.FAILED
            assert SCHEDULE.error_base <= gap <= SCHEDULE.error_max
        now = entry.next_fetch_at


def test_feeds_are_polled_more_often_than_articles() -> None:
    for k in range(40):
        assert SCHEDULE.interval("feed", k) < SCHEDULE.interval("page", k)
        assert SCHEDULE.interval("page", k) <= SCHEDULE.interval("page", k + 1)


def test_retries_then_failed_with_reason() -> None:
    """Retries: attempts = 1 + max_retries when the URL ends failed, with the last error kept."""
    rng = random.Random(1)
    entry = Entry("http://x.org/a", "x.org", Kind.PAGE, 0)
    states = []
    for _ in range(3):
        entry = after_fetch(entry, _result("error"), START, CRAWL, SCHEDULE, rng)
        states.append((entry.state, entry.attempts))
    assert states == [(State.TODO, 1), (State.TODO, 2), (State.FAILED, 3)]
    assert entry.reason == "http_error"
    assert after_fetch(entry, _result("ok"), START, CRAWL, SCHEDULE, rng).attempts == 0


def test_backoff_is_exponential_with_bounded_jitter() -> None:
    rng = random.Random(3)
    for _ in range(1000):
        first, second = (backoff_delay(n, 2.0, 900.0, 0.25, rng) for n in (1, 2))
        assert 1.5 <= first <= 2.5 and 3.0 <= second <= 5.0
    assert backoff_delay(30, 2.0, 900.0, 0.0, rng) == 900.0


def test_permanent_failures_and_blocks() -> None:
    rng = random.Random(0)
    entry = Entry("http://x.org/a", "x.org", Kind.PAGE, 0)
    gone = after_fetch(entry, _result("404"), START, CRAWL, SCHEDULE, rng)
    assert gone.state is State.FAILED and gone.attempts == 1
    for outcome in (Outcome.ROBOTS_DISALLOWED, Outcome.BLOCKED_ADDRESS):
        result = FetchResult("http://x.org/a", "http://x.org/a", outcome, START, 0.0, error="no")
        blocked = after_fetch(entry, result, START, CRAWL, SCHEDULE, rng)
        assert blocked.state is State.BLOCKED and blocked.reason == f"{outcome.value}: no"
    deferred = FetchResult("http://x.org/a", "http://x.org/a", Outcome.ROBOTS_UNAVAILABLE, START, 0.0, retry_at=130.0)
    waited = after_fetch(entry, deferred, START, CRAWL, SCHEDULE, rng, monotonic_now=100.0)
    assert waited.state is State.TODO and waited.attempts == 0
    assert waited.next_fetch_at == START + timedelta(seconds=30)


def test_validators_come_back_as_sent() -> None:
    rng = random.Random(0)
    entry = Entry("http://x.org/a", "x.org", Kind.PAGE, 0)
    ok = FetchResult("http://x.org/a", "http://x.org/a", Outcome.OK, START, 0.1, status=200,
                     headers={"etag": 'W/"v1"', "last-modified": "Wed, 04 Nov 2020 16:30:00 GMT"})  # fmt: skip
    done = after_fetch(entry, ok, START, CRAWL, SCHEDULE, rng, changed=True)
    assert done.validators() == {"If-None-Match": 'W/"v1"', "If-Modified-Since": "Wed, 04 Nov 2020 16:30:00 GMT"}
    same = after_fetch(done, _result("304"), START, CRAWL, SCHEDULE, rng)
    assert same.validators() == done.validators() and same.unchanged == 1


def test_schedule_validation() -> None:
    with pytest.raises(SettingsError, match="feeds must be polled more often"):
        Schedule(feed_max=2 * 86400.0)
    with pytest.raises(SettingsError):
        Schedule(page_min=0)
