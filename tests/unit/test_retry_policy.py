"""The retry policy: exponential backoff capped at the maximum delay, spread by jitter that never passes the cap."""

from __future__ import annotations

import random
from datetime import timedelta

from adapters.delivery import RetryPolicy


def nominal(policy: RetryPolicy, attempt: int) -> float:
    return min(policy.base_delay.total_seconds() * 2.0 ** (attempt - 1), policy.max_delay.total_seconds())


def test_without_jitter_the_retry_delay_doubles_with_each_attempt_until_it_is_capped_at_the_maximum() -> None:
    policy = RetryPolicy(max_attempts=10, base_delay=timedelta(seconds=1), max_delay=timedelta(seconds=60), jitter=0)
    rng = random.Random(0)

    delays = [policy.delay(attempt, rng).total_seconds() for attempt in range(1, 11)]

    assert delays == [1, 2, 4, 8, 16, 32, 60, 60, 60, 60]


def test_no_retry_delay_ever_exceeds_the_maximum_delay_whatever_the_policy_attempt_and_draw() -> None:
    cases = random.Random(11)
    draws = random.Random(12)

    for _ in range(3_000):
        base = timedelta(seconds=cases.uniform(0.001, 600))
        cap = timedelta(seconds=cases.uniform(0.001, 3_600))
        policy = RetryPolicy(base_delay=base, max_delay=cap, jitter=cases.choice([0.0, 0.1, 0.2, 0.5, 1.0]))
        attempt = cases.randint(1, 80)
        for _ in range(20):
            delay = policy.delay(attempt, draws)
            assert delay <= cap, (policy, attempt, delay)
            assert delay.total_seconds() >= nominal(policy, attempt) * (1 - policy.jitter) - 1e-6, (policy, attempt)


def test_with_a_4_s_cap_and_20_percent_jitter_no_retry_waits_longer_than_4_s() -> None:
    policy = RetryPolicy(max_attempts=10, base_delay=timedelta(seconds=1), max_delay=timedelta(seconds=4), jitter=0.2)
    rng = random.Random(0)

    delays = [policy.delay(attempt, rng) for attempt in range(1, 11) for _ in range(500)]

    assert max(delays) <= timedelta(seconds=4)
    assert min(delays) >= timedelta(seconds=0.8)


def test_below_the_cap_each_retry_delay_spreads_across_the_whole_jitter_band_around_the_exponential() -> None:
    policy = RetryPolicy(max_attempts=12, base_delay=timedelta(seconds=2), max_delay=timedelta(minutes=1), jitter=0.25)
    rng = random.Random(0)

    for attempt in range(1, 5):  # 2, 4, 8, 16 s: even 1.25 times each stays below the 60 s cap
        middle = nominal(policy, attempt)
        samples = [policy.delay(attempt, rng).total_seconds() for _ in range(200)]
        assert all(middle * 0.75 <= sample <= middle * 1.25 for sample in samples), attempt
        assert max(samples) - min(samples) > middle * 0.4, "jitter should spread the retries"
        assert min(samples) < middle < max(samples)


def test_at_the_cap_retry_delays_still_spread_but_below_the_cap() -> None:
    policy = RetryPolicy(max_attempts=40, base_delay=timedelta(seconds=2), max_delay=timedelta(minutes=1), jitter=0.25)
    rng = random.Random(0)

    for attempt in (6, 7, 12, 40):  # 64 s and more, capped at 60 s
        samples = [policy.delay(attempt, rng).total_seconds() for _ in range(200)]
        assert all(45.0 <= sample <= 60.0 for sample in samples), attempt
        assert max(samples) - min(samples) > 10.0, "retries at the cap must not all fall on the same instant"


def test_the_same_random_seed_gives_the_same_retry_delays() -> None:
    policy = RetryPolicy()

    first = [policy.delay(attempt, random.Random(7)) for attempt in range(1, 8)]
    second = [policy.delay(attempt, random.Random(7)) for attempt in range(1, 8)]

    assert first == second


def test_a_long_base_delay_with_many_attempts_is_still_capped_instead_of_overflowing() -> None:
    policy = RetryPolicy(max_attempts=40, base_delay=timedelta(hours=6), max_delay=timedelta(days=1), jitter=0.2)

    delay = policy.delay(33, random.Random(0))

    assert timedelta(days=1) * 0.8 <= delay <= timedelta(days=1)
