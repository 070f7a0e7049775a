"""A job a worker took off the queue and died before starting goes back on the queue, once."""
from __future__ import annotations

from handlers.intake.queues import _recover_dequeued, get_queue


def test_a_job_dequeued_by_a_worker_that_died_before_starting_it_is_requeued_once(redis_conn):
    queue = get_queue(redis_conn)
    job = queue.enqueue("time.sleep", 0)
    redis_conn.lmove(queue.key, queue.intermediate_queue.key)  # what a worker's dequeue does; then it dies
    assert queue.count == 0
    assert _recover_dequeued(queue, grace=3600) == []  # seen, but a live worker may be about to start it
    assert _recover_dequeued(queue, grace=3600) == []
    assert _recover_dequeued(queue, grace=0) == [job.id]  # still there after the grace: requeued
    assert _recover_dequeued(queue, grace=0) == []
    assert queue.get_job_ids() == [job.id] and queue.intermediate_queue.get_job_ids() == []
