"""Delivering alerts to a webhook: each alert owed to the URL is POSTed as JSON (the item of
``reusetrack alerts --json``), with retries and exponential backoff, oldest first.

What was delivered is recorded in the warehouse (``alert_deliveries``) right after each POST
succeeds, so a delivered alert is not sent again; one that could not be delivered stays owed and
is tried again at the next run. A dead endpoint costs a run one alert's retries, never the run:
after an alert fails every attempt the rest wait for the next run. A process killed between a
successful POST and its record sends that one alert again: receivers can drop repeats by the
``X-Reusetrack-Alert`` header (the alert's id, which is never reused).

The warehouse is opened only to read what is owed and to record each outcome, never during a POST.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from reuse import reusetrack_version
from reuse.errors import InputError, WarehouseLocked
from warehouse import alerts as alerts_db
from warehouse.db import open_when_free

__all__ = ["Delivery", "WebhookSettings", "check_webhook_url", "deliver_alerts", "register_webhook"]

#: Longest wait a ``Retry-After`` may ask for between two attempts, in seconds.
MAX_RETRY_AFTER = 60.0


@dataclass(frozen=True)
class WebhookSettings:
    """How alerts are POSTed: ``attempts`` per alert and run, the first retry after ``backoff``
    seconds, each later one after twice the one before (with up to a quarter more at random),
    and ``timeout`` seconds for each request."""

    attempts: int = 4
    backoff: float = 0.5
    timeout: float = 10.0


@dataclass(frozen=True)
class Delivery:
    """What a delivery did: alerts ``delivered`` now, ``owed`` still (to be tried at the next run),
    and why the last attempt failed (``error``, None when nothing failed)."""

    delivered: int
    owed: int
    error: str | None = None


def check_webhook_url(url: str) -> str:
    """``url`` when it is an http(s) URL with a host; else :class:`InputError`."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InputError(url, "a webhook must be an http:// or https:// URL")
    return url


def register_webhook(db: str | Path, url: str) -> None:
    """Record the webhook ``url`` in the warehouse at ``db`` the first time it is given: every alert
    raised from now on is owed to it (see :func:`warehouse.alerts.register_webhook`)."""
    with open_when_free(db, wait=120.0) as wh, wh.transaction():
        alerts_db.register_webhook(wh, check_webhook_url(url))


def _retry_after(response: httpx.Response) -> float | None:
    """The wait a 429 or 503 asks for, in seconds (capped), or None."""
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = parsedate_to_datetime(value).timestamp() - time.time()
        except (TypeError, ValueError):
            return None
    return min(max(0.0, seconds), MAX_RETRY_AFTER)


def _post(
    client: httpx.Client, url: str, alert: dict[str, object], settings: WebhookSettings, wait: Callable[[float], bool]
) -> tuple[int, str | None]:
    """POST one alert, retrying connection failures, timeouts, 429 and 5xx answers with backoff;
    ``(attempts made, None when delivered else why not)``. ``wait`` sleeps and says whether to stop."""
    body = json.dumps(alert, ensure_ascii=False).encode("utf-8")
    headers = {
        "Content-Type": "application/json",
        "User-Agent": f"reusetrack/{reusetrack_version()} (webhook)",
        "X-Reusetrack-Alert": str(alert["alert_id"]),
    }
    delay = settings.backoff
    error = "not tried"
    for attempt in range(1, settings.attempts + 1):
        asked: float | None = None
        try:
            response = client.post(url, content=body, headers=headers)
        except httpx.HTTPError as err:
            error = f"{type(err).__name__}: {err}" if str(err) else type(err).__name__
        else:
            if response.is_success:
                return attempt, None
            error = f"HTTP {response.status_code}"
            if response.status_code != 429 and response.status_code < 500:
                return attempt, error  # the endpoint refuses it: asking again now would not help
            asked = _retry_after(response)
        if attempt == settings.attempts:
            break
        pause = asked if asked is not None else delay * (1 + random.random() / 4)
        if wait(pause):
            return attempt, error
        delay *= 2
    return settings.attempts, error


def deliver_alerts(
    db: str | Path,
    url: str,
    settings: WebhookSettings | None = None,
    *,
    stop: threading.Event | None = None,
) -> Delivery:
    """POST each alert owed to the webhook ``url`` (registered with :func:`register_webhook`) in the
    warehouse at ``db``, oldest first, and record each outcome. Stops at the first alert that
    cannot be delivered (the endpoint is down or refuses): it and the rest stay owed. Setting
    ``stop`` ends it between attempts. A warehouse another writer keeps locked past two minutes
    ends it too, with the lock as ``error`` (``owed`` is then not counted)."""
    settings = settings or WebhookSettings()
    try:
        with open_when_free(db, read_only=True, wait=120.0) as wh:
            owed = alerts_db.owed_deliveries(wh, url)
            items = sorted(alerts_db.list_alerts(wh, alert_ids=owed), key=lambda item: item["alert_id"])
    except WarehouseLocked as err:  # another writer kept it: what is owed stays owed
        return Delivery(0, 0, str(err))
    halt = stop or threading.Event()
    delivered = 0
    error: str | None = None
    with httpx.Client(timeout=settings.timeout, follow_redirects=False) as client:
        for item in items:
            if halt.is_set():
                break
            attempts, error = _post(client, url, alerts_db.alert_json(item), settings, halt.wait)
            try:
                with open_when_free(db, wait=120.0) as wh, wh.transaction():
                    alerts_db.record_deliveries(wh, url, [(item["alert_id"], attempts, error)])
            except WarehouseLocked as err:  # unrecorded: sent again next time (see the module's doc)
                error = str(err)
            if error is not None:
                break
            delivered += 1
    return Delivery(delivered, len(items) - delivered, error)
