"""What is worth retrying, and how long to wait before the next attempt."""

from __future__ import annotations

import email.utils
import random
import time
from dataclasses import dataclass

# 408 request timeout, 409 conflict (some gateways use it for "busy"), 429 rate limit, 5xx.
RETRYABLE_STATUSES = frozenset({408, 409, 429})


def is_retryable_status(status: int) -> bool:
    """True for statuses that may succeed when the same request is sent again."""
    return status in RETRYABLE_STATUSES or 500 <= status <= 599


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (seconds or an HTTP date), or ``None``."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter, bounded by attempts and by total seconds slept.

    ``Retry-After`` from the server wins over the computed delay (servers know their own
    rate limits), but never beyond the remaining budget: if the server asks for more time
    than is left, retrying stops.
    """

    max_attempts: int = 6
    budget: float = 300.0
    base: float = 1.0
    max_delay: float = 60.0

    def backoff(self, attempt: int, rng: random.Random | None = None) -> float:
        """Delay after failed attempt number ``attempt`` (1-based), with jitter in [50%, 100%]."""
        exp = min(self.max_delay, self.base * (2 ** (attempt - 1)))
        return exp * (rng or random).uniform(0.5, 1.0)

    def next_delay(
        self, attempt: int, slept: float, retry_after: float | None = None
    ) -> float | None:
        """Seconds to sleep before the next attempt, or ``None`` when retrying must stop."""
        if attempt >= self.max_attempts:
            return None
        delay = retry_after if retry_after is not None else self.backoff(attempt)
        if slept + delay > self.budget:
            return None
        return delay
