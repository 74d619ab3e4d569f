"""Load balancing over a service's available instances: round robin, least outstanding."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Protocol, TypeVar


class HasOutstanding(Protocol):
    @property
    def outstanding(self) -> int: ...


T = TypeVar("T", bound=HasOutstanding)


class RoundRobin:
    name = "round_robin"

    def __init__(self) -> None:
        self._counter = itertools.count()

    def pick(self, candidates: Sequence[T]) -> T | None:
        if not candidates:
            return None
        return candidates[next(self._counter) % len(candidates)]


class LeastOutstanding:
    """The instance with the fewest requests in flight; ties rotate so load still spreads."""

    name = "least_outstanding"

    def __init__(self) -> None:
        self._counter = itertools.count()

    def pick(self, candidates: Sequence[T]) -> T | None:
        count = len(candidates)
        if count == 0:
            return None
        start = next(self._counter) % count
        best = candidates[start]
        for offset in range(1, count):
            candidate = candidates[(start + offset) % count]
            if candidate.outstanding < best.outstanding:
                best = candidate
        return best


Balancer = RoundRobin | LeastOutstanding
BALANCERS: dict[str, type[RoundRobin] | type[LeastOutstanding]] = {
    RoundRobin.name: RoundRobin,
    LeastOutstanding.name: LeastOutstanding,
}


def make_balancer(name: str) -> Balancer:
    try:
        return BALANCERS[name]()
    except KeyError:
        raise ValueError(f"unknown balancer {name!r}; use one of {sorted(BALANCERS)}") from None
