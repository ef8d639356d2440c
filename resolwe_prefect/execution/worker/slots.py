"""Slots: how many flow runs of each work queue one worker runs at once.

The server holds each work queue to its concurrency limit only for the runs
it hands out as scheduled; the embedded worker creates most of its runs
already claimed, so it holds itself to the same limits (see
``deployments.queue_limits``).
"""

from __future__ import annotations

from resolwe_prefect.execution.prefect_api.deployments import BATCH_QUEUE


class Slots:
    """How many flow runs of each work queue may run at once, and how many do."""

    def __init__(self, limits: dict[str, int]) -> None:
        self.limits = {queue: max(1, limit) for queue, limit in limits.items()}
        self.used = dict.fromkeys(self.limits, 0)

    def queue_of(self, name: str | None) -> str:
        """The queue a run counts against: its own, or batch for a queue we do not limit."""
        return name if name in self.limits else BATCH_QUEUE

    def free(self, queue: str) -> int:
        return self.limits[queue] - self.used[queue]

    def total_free(self) -> int:
        return sum(self.free(queue) for queue in self.limits)

    def take(self, queue: str) -> bool:
        """Reserve a slot; ``False`` when the queue is full."""
        if self.free(queue) <= 0:
            return False
        self.used[queue] += 1
        return True

    def release(self, queue: str) -> None:
        self.used[queue] = max(0, self.used[queue] - 1)
