"""How the benchmark measures: AWS calls (a botocore event hook), wall time, peak memory.

The calls are counted on the boto3 session the measured code uses, with a ``before-call`` hook:
one count per API call however many retries it needed, whatever the code's own counters say.
"""

from __future__ import annotations

import gc
import time
import tracemalloc
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    import boto3

T = TypeVar("T")
EVALUATIONS_SENT = "evaluations sent"  # counted beside the calls, then moved out of them
READ_PREFIXES = ("Describe", "Get", "List")
"""Operations that change nothing; every other operation is a write."""


def is_write(operation: str) -> bool:
    """``iam:CreateRole`` is a write, ``ec2:DescribeVpcs`` is not."""
    return not operation.partition(":")[2].startswith(READ_PREFIXES)


@dataclass(frozen=True)
class Measurement:
    """What one measured action cost: calls by ``service:Operation``, in first-call order."""

    calls: Counter[str]
    seconds: float
    evaluations: int = 0
    """Evaluations sent with PutEvaluations (each one is recorded, and billed, by Config)."""

    @property
    def total(self) -> int:
        return sum(self.calls.values())

    @property
    def writes(self) -> int:
        return sum(count for operation, count in self.calls.items() if is_write(operation))

    def count(self, operation: str) -> int:
        return self.calls[operation]


@contextmanager
def counting(session: boto3.session.Session) -> Iterator[Counter[str]]:
    """Count the API calls made through ``session`` while the block runs."""
    calls: Counter[str] = Counter()

    def record(model: Any, **_: Any) -> None:
        calls[f"{model.service_model.endpoint_prefix}:{model.name}"] += 1

    def sent(params: dict[str, Any], **_: Any) -> None:
        calls[EVALUATIONS_SENT] += len(params.get("Evaluations", []))

    session.events.register("before-call.*.*", record)
    session.events.register("before-parameter-build.config.PutEvaluations", sent)
    try:
        yield calls
    finally:
        session.events.unregister("before-call.*.*", record)
        session.events.unregister("before-parameter-build.config.PutEvaluations", sent)


def measure(session: boto3.session.Session, action: Callable[[], T]) -> tuple[T, Measurement]:
    """Run ``action`` once, counting its calls through ``session`` and timing it."""
    with counting(session) as calls:
        start = time.perf_counter()
        result = action()
        seconds = time.perf_counter() - start
    evaluations = calls.pop(EVALUATIONS_SENT, 0)
    return result, Measurement(Counter(calls), seconds, evaluations)


def settle() -> None:
    """Take everything alive now (moto's account, in this process only because moto is) out of
    the garbage collector's sight, so that its full collections do not land in a measurement."""
    gc.collect()
    gc.freeze()


def peak_memory(action: Callable[[], object]) -> int:
    """Peak bytes allocated by ``action`` and alive at once (tracemalloc, started just before)."""
    gc.collect()
    tracemalloc.start()
    try:
        action()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak
