"""The web process's script call on its thread's own connection: the same answers as redis-py's, whatever happens."""
from __future__ import annotations

import threading
import uuid

import pytest
import redis

from config.infra.redis_conn import run_script

ECHO = "redis.call('INCR', KEYS[1]) return ARGV[1]"


def _own_connection_id(conn) -> int:
    """The server's id of the connection `run_script` keeps for this thread (asked on that connection)."""
    run_script(conn, conn.register_script("return 1"), [], args=[])
    connection = conn.connection_pool._intermission_spare[1][-1]  # the one just used goes back last
    connection.send_command("CLIENT", "ID")
    return int(connection.read_response())


def test_it_answers_like_redis_py_and_writes_once(redis_conn):
    echo = redis_conn.register_script(ECHO)
    assert run_script(redis_conn, echo, ["n"], args=["hello"]) == echo(["n"], ["hello"]) == b"hello"
    assert redis_conn.get("n") == b"2"


def test_a_server_that_lacks_the_script_gets_it_loaded(redis_conn):
    # a script this server never saw (as a restarted Redis answers: NOSCRIPT); not SCRIPT FLUSH, whose cache is the
    # whole server's while the suite's other workers count their round trips on it
    fresh = redis_conn.register_script(f"-- {uuid.uuid4().hex}\n{ECHO}")
    assert run_script(redis_conn, fresh, ["n"], args=["a"]) == b"a"
    assert run_script(redis_conn, fresh, ["n"], args=["b"]) == b"b"
    assert redis_conn.get("n") == b"2"


def test_a_dropped_connection_is_made_again_and_the_call_goes_through(redis_conn):
    echo = redis_conn.register_script(ECHO)
    first = _own_connection_id(redis_conn)
    assert _own_connection_id(redis_conn) == first  # the thread keeps its connection
    redis_conn.client_kill_filter(_id=first)  # Redis restarted, a proxy cut idle connections…
    assert run_script(redis_conn, echo, ["n"], args=["after"]) == b"after"
    assert redis_conn.get("n") == b"1"
    assert _own_connection_id(redis_conn) != first


def test_threads_at_once_each_get_a_connection_and_a_thread_per_request_server_keeps_few(redis_conn):
    echo, started = redis_conn.register_script("return ARGV[1]"), threading.Barrier(4)
    answers: list[bytes] = []

    def call(i: int) -> None:
        started.wait()
        answers.extend(run_script(redis_conn, echo, [], args=[str(i)]) for _ in range(50))

    run_script(redis_conn, echo, [], args=["warm"])
    before = len(redis_conn.connection_pool._intermission_spare[1])
    for _ in range(20):  # 20 rounds of 4 new threads, as a server that starts a thread per request
        threads = [threading.Thread(target=call, args=(i,)) for i in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert sorted(set(answers)) == [b"0", b"1", b"2", b"3"] and len(answers) == 20 * 4 * 50
    assert len(redis_conn.connection_pool._intermission_spare[1]) <= max(before, 4)  # at most one per thread at once


def test_a_script_error_is_raised_as_redis_py_raises_it(redis_conn):
    broken = redis_conn.register_script("return redis.call('NOSUCHCOMMAND')")
    first = _own_connection_id(redis_conn)
    with pytest.raises(redis.ResponseError):
        run_script(redis_conn, broken, [], args=[])
    assert _own_connection_id(redis_conn) == first  # the connection was fine: kept, and still answers
