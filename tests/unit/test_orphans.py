"""A job a worker took off the queue and died before starting goes back on the queue, once."""
from __future__ import annotations

from handlers.intake.queues import _recover_dequeued, get_queue, make_worker, run_burst


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


def test_a_job_whose_worker_died_between_rqs_two_starting_transactions_is_requeued_and_runs(redis_conn):
    """Found by tests/e2e/test_worker_faults.py: a worker SIGKILLed after rq put the job's execution in the started
    registry and before it marked the job started left it stuck there, and the queue never drained."""
    queue = get_queue(redis_conn)
    job = queue.enqueue("time.time")
    worker = make_worker(simple=True, conn=redis_conn)
    redis_conn.lmove(queue.key, queue.intermediate_queue.key)  # the worker's dequeue
    worker.prepare_execution(job)  # rq's first transaction; the worker dies before its second
    assert queue.started_job_registry.count == 1 and job.get_status() == "queued"
    assert _recover_dequeued(queue, grace=3600) == []  # a live worker may be between the two: not yet
    assert _recover_dequeued(queue, grace=0) == [job.id]
    assert queue.started_job_registry.count == 0 and queue.intermediate_queue.get_job_ids() == []
    run_burst(conn=redis_conn)
    job.refresh()
    assert job.get_status() == "finished" and queue.count == 0 and queue.started_job_registry.count == 0
