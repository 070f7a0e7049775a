"""The CLI as scripts expect it: `--json` wherever accepted, `replay` by job id or tenant, dead letters once per
mission, `tenant remove` asking unless `--yes`, and the probes' commands (`check-worker`, `drain`)."""
from __future__ import annotations

import json
import subprocess
import sys
import time

from rq.job import Job, JobStatus
from rq.registry import FailedJobRegistry
from rq.results import Result
from rq.serializers import JSONSerializer

from handlers.intake.queues import dead_letters, get_queue

CLI = [sys.executable, "-m", "intermission_cli.main"]


def cli(env, *args, check=True, stdin=subprocess.DEVNULL) -> subprocess.CompletedProcess:
    done = subprocess.run([*CLI, *args], env=env, capture_output=True, text=True, timeout=120, stdin=stdin)
    if check:
        assert done.returncode == 0, done.stderr[-2000:]
    return done


def _dead(conn, tenant: str, mission: str, trigger: str, job_id: str) -> Job:
    """A sync job of `mission` whose retries are exhausted (as the worker leaves it)."""
    queue = get_queue(conn)
    job = Job.create("handlers.sync.jobs.sync_mission", args=(tenant, mission, {"kind": trigger}), id=job_id,
                     connection=conn, serializer=JSONSerializer, origin=queue.name,
                     description=f"sync {tenant}/{mission}")
    job.set_status(JobStatus.FAILED)
    error = f"Traceback\nHostError: {trigger} failed"
    FailedJobRegistry(queue=queue).add(job, ttl=3600, exc_string=error)
    Result.create_failure(job, 3600, error)
    time.sleep(0.01)  # distinct scores: the registry orders by failure time
    return job


def _tenant(env, tenant_id: str) -> None:
    cli({**env, "BOOND_APP_KEY": "k" * 20, "BOOND_USER_TOKEN": "u"}, "tenant", "add", "boond", "--id", tenant_id,
        "--app-token", "t")


def test_the_same_mission_shows_once_among_dead_letters_and_replays_once(redis_conn, child_env):
    _dead(redis_conn, "acme", "100", "webhook", "sync-acme-100-a")
    _dead(redis_conn, "acme", "100", "sweep", "sync-acme-100-b")
    _dead(redis_conn, "acme", "200", "webhook", "sync-acme-200-a")
    assert [j.id for j in dead_letters()] == ["sync-acme-100-b", "sync-acme-200-a"]
    listed = json.loads(cli(child_env, "replay", "--list", "--json").stdout)
    assert [(d["id"], d["tenant"], d["error"]) for d in listed] == [
        ("sync-acme-100-b", "acme", "HostError: sweep failed"),
        ("sync-acme-200-a", "acme", "HostError: webhook failed")]
    assert json.loads(cli(child_env, "status", "--json").stdout)["queue"]["dead_letters"] == 2
    replayed = json.loads(cli(child_env, "replay", "sync-acme-100-a", "--json").stdout)  # an older id of mission 100
    assert replayed == {"requeued": ["sync-acme-100-b"]}
    assert get_queue(redis_conn).get_job_ids() == ["sync-acme-100-b"]
    assert [j.id for j in dead_letters()] == ["sync-acme-200-a"]


def test_replay_by_tenant_leaves_the_other_tenants_dead_letters(redis_conn, child_env):
    _dead(redis_conn, "acme", "100", "webhook", "sync-acme-100-a")
    _dead(redis_conn, "other", "100", "webhook", "sync-other-100-a")
    assert "requeued 1 dead letter(s)" in cli(child_env, "replay", "--tenant", "other").stdout
    assert get_queue(redis_conn).get_job_ids() == ["sync-other-100-a"]
    assert [j.id for j in dead_letters()] == ["sync-acme-100-a"]
    unknown = cli(child_env, "replay", "no-such-job", check=False)
    assert unknown.returncode == 2 and "not a dead letter: no-such-job" in unknown.stderr


def test_json_is_honoured_by_admin_url_resume_and_remove(redis_conn, child_env):
    _tenant(child_env, "esn-one")
    admin = json.loads(cli(child_env, "tenant", "admin-url", "esn-one", "--json").stdout)
    assert admin["tenant"] == "esn-one" and "/admin/?a=" in admin["admin_url"]
    resumed = json.loads(cli(child_env, "tenant", "resume", "esn-one", "--json").stdout)
    assert resumed == {"tenant": "esn-one", "requeued": []}
    removed = json.loads(cli(child_env, "tenant", "remove", "esn-one", "--yes", "--json").stdout)
    assert removed == {"removed": "esn-one"}


def test_json_is_honoured_by_connect_url(redis_conn, child_env):
    cli({**child_env, "SF_CLIENT_ID": "id", "SF_CLIENT_SECRET": "secret"}, "tenant", "add", "salesforce",
        "--id", "sf-one", "--login-url", "http://127.0.0.1:9")
    found = json.loads(cli(child_env, "tenant", "connect-url", "sf-one", "--json").stdout)
    assert found["tenant"] == "sf-one" and found["connect_url"].startswith("http")


def test_tenant_remove_asks_unless_yes(redis_conn, child_env):
    _tenant(child_env, "esn-two")
    refused = cli(child_env, "tenant", "remove", "esn-two", check=False)  # no terminal to ask on, no --yes
    assert refused.returncode == 2 and "--yes" in refused.stderr
    assert "esn-two" in cli(child_env, "tenant", "list").stdout
    assert "Removed esn-two" in cli(child_env, "tenant", "remove", "esn-two", "--yes").stdout
    assert "esn-two" not in cli(child_env, "tenant", "list").stdout


def test_tenant_remove_asks_on_a_terminal(redis_conn, child_env):
    import os
    import pty

    _tenant(child_env, "esn-three")
    for answer, removed in ((b"no\n", False), (b"esn-three\n", True)):
        leader, follower = pty.openpty()
        proc = subprocess.Popen([*CLI, "tenant", "remove", "esn-three"], env=child_env, stdin=follower,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        os.close(follower)
        os.write(leader, answer)
        out, _ = proc.communicate(timeout=60)
        os.close(leader)
        assert (proc.returncode == 0) is removed, out
        assert ("esn-three" in cli(child_env, "tenant", "list").stdout) is not removed


def test_check_worker_fails_without_a_live_worker_of_this_machine(redis_conn, child_env):
    done = cli(child_env, "check-worker", check=False)
    assert done.returncode == 1 and "no live worker" in done.stdout


def test_drain_makes_readyz_answer_503(stack, child_env):
    import requests

    from tests.conftest import METRICS_TOKEN

    assert requests.get(stack.web.url + "/readyz?scope=web", timeout=30).status_code == 200
    cli(child_env, "drain", "--seconds", "0")
    try:
        answer = requests.get(stack.web.url + "/readyz?scope=web", timeout=30)
        assert answer.status_code == 503  # what a load balancer's probe sees; the reason is the scraper's
        scraped = requests.get(stack.web.url + "/readyz?scope=web", timeout=30,
                               headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
        assert scraped.status_code == 503 and scraped.json()["status"] == "draining"
    finally:
        from handlers.ops.health import clear_drain_marker

        clear_drain_marker()
    assert requests.get(stack.web.url + "/readyz?scope=web", timeout=30).status_code == 200
