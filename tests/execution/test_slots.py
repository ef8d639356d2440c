"""The worker's per-queue slots (``execution.slots``)."""

from resolwe_prefect.execution.worker.slots import Slots


def test_each_queue_is_held_to_its_own_limit():
    slots = Slots({"interactive": 1, "batch": 2})
    assert slots.take("batch") and slots.take("batch")
    assert not slots.take("batch")  # batch is full ...
    assert slots.take("interactive")  # ... and cannot hold interactive work back
    assert slots.total_free() == 0
    slots.release("batch")
    assert slots.free("batch") == 1 and slots.take("batch")


def test_unknown_queues_count_as_batch_and_limits_are_at_least_one():
    slots = Slots({"interactive": 0, "batch": 2})
    assert slots.queue_of("default") == "batch" and slots.queue_of(None) == "batch"
    assert slots.queue_of("interactive") == "interactive"
    assert slots.limits["interactive"] == 1


def test_release_never_goes_below_zero():
    slots = Slots({"batch": 1})
    slots.release("batch")
    assert slots.free("batch") == 1
