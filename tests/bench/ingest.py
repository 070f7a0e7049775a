"""`ingest`: the webhook receive path under wrk, against a bare Flask 202 endpoint on the same gunicorn config, and
against the durable floor: an endpoint whose only work is one write Redis acknowledges (`tests.bench.hosts:durable`)."""
from __future__ import annotations

import json
import os
import re
import shutil
import statistics
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

from tests.bench.procs import ROOT, Processes, free_port, redis_for_bench, wait_until_up
from tests.bench.report import note
from connectors.boond.settings import BoondConfig

ROUNDS, SECONDS, WARMUP_SECONDS = 3, 8, 2
NGINX_CONF = ROOT / "deploy" / "nginx.conf"
THREADS, CONNECTIONS = 2, 16
SCRIPT = ROOT / "tests" / "bench" / "webhook.lua"


def ensure_wrk() -> str:
    """The wrk binary; installed from Debian's package when missing and running as root."""
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() != 0:
        raise RuntimeError("wrk is missing: run `sudo apt-get install -y wrk` (Debian package)")
    note("installing wrk (apt-get install -y wrk)")
    subprocess.run(["apt-get", "update", "-qq"], check=True, capture_output=True)
    subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True, capture_output=True)
    return shutil.which("wrk") or "wrk"


def wrk(binary: str, url: str, seconds: int, prefix: str) -> dict:
    """One wrk run; its JSON summary (requests, duration, errors, p50/p99 in µs)."""
    argv = [binary, f"-t{THREADS}", f"-c{CONNECTIONS}", f"-d{seconds}s", "--timeout", "5s", "-s", str(SCRIPT),
            url, "--", prefix, os.environ.get("BENCH_INGEST_MODE", "keepalive")]
    out = subprocess.run(argv, check=True, capture_output=True, text=True, timeout=seconds + 30).stdout
    summary = json.loads(next(line for line in reversed(out.splitlines()) if line.startswith("{")))
    summary["rps"] = summary["requests"] / (summary["duration_us"] / 1e6)
    return summary


def fresh_tenant(conn):
    """Empty Redis (queue, dedupe keys) and store the tenant again, so every round starts alike."""
    from config import tenants

    conn.flushdb()
    tenant = tenants.Tenant(id="bench-ingest", host="boond", webhook_secret="s" * 43,
                            host_settings=BoondConfig(base_url="http://127.0.0.1:9/api", app_token="t", app_key="k",
                                                      client_token="c", user_token="u"))
    tenants.save(tenant)
    return tenant


def measure(binary: str, url: str, prefix: str) -> dict:
    """Warm up, then one measured run."""
    wrk(binary, url, WARMUP_SECONDS, prefix + "w")
    return wrk(binary, url, SECONDS, prefix)


def nginx(procs: Processes, name: str, upstream: str) -> str | None:
    """deploy/nginx.conf in front of `upstream` on a loopback port (its paths in the bench folder); None without
    nginx."""
    binary = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if binary is None:
        return None
    folder = procs.work / name
    folder.mkdir(exist_ok=True)
    port, target = free_port(), urlsplit(upstream).netloc
    conf = NGINX_CONF.read_text()
    conf = re.sub(r"/tmp/nginx", str(folder / "nginx"), conf)
    conf = conf.replace("server 127.0.0.1:8000;", f"server {target};").replace("listen 8080;", f"listen 127.0.0.1:{port};")
    conf = conf.replace("access_log /dev/stdout", f"access_log {folder / 'access.log'}")
    (folder / "nginx.conf").write_text(conf)
    proc = procs.spawn(name, [binary, "-c", str(folder / "nginx.conf"), "-p", str(folder), "-g", "daemon off;"])
    url = f"http://127.0.0.1:{port}"
    wait_until_up(url + "/healthz", proc, procs.work / f"{name}.log")
    return url


def run(work) -> dict:
    """Alternate bare and product rounds, on gunicorn and through nginx; medians of each."""
    from handlers.intake.queues import get_queue

    binary = ensure_wrk()
    conn, redis_url = redis_for_bench()
    with Processes(work, redis_url) as procs:
        servers = (procs.web(), procs.gunicorn("bare", "tests.bench.hosts:bare"),
                   procs.gunicorn("durable", "tests.bench.hosts:durable", REDIS_URL=redis_url))
        fronts = {"direct": servers}
        behind = tuple(nginx(procs, f"nginx-{name}", url) for name, url in zip(("web", "bare", "durable"), servers))
        if all(behind):
            fronts["nginx"] = behind
        runs = {front: ([], [], []) for front in fronts}
        for i in range(ROUNDS):
            for front, (app_url, bare_url, durable_url) in fronts.items():
                tenant = fresh_tenant(conn)
                path = f"/webhooks/boond/{tenant.id}/{tenant.webhook_secret}"
                app_runs, bare_runs, durable_runs = runs[front]
                bare_runs.append(measure(binary, bare_url + path, f"b{front[0]}{i}"))
                durable_runs.append(measure(binary, durable_url + path, f"d{front[0]}{i}"))
                app_runs.append(measure(binary, app_url + path, f"a{front[0]}{i}"))
                queued = get_queue(conn).count
                note(f"round {i} {front}: bare {bare_runs[-1]['rps']:.0f}/s, durable floor "
                     f"{durable_runs[-1]['rps']:.0f}/s, app {app_runs[-1]['rps']:.0f}/s "
                     f"(p50 {app_runs[-1]['p50_us'] / 1000:.1f} ms), jobs queued {queued}, "
                     f"non-2xx {app_runs[-1]['status_errors']}; load average {os.getloadavg()[0]:.1f}")
    result = summarize(*runs["direct"])
    if "nginx" in runs:
        result["nginx"] = summarize(*runs["nginx"])
    result["rounds"] = {front: [round(a["rps"] / b["rps"], 3) for a, b, _ in zip(*trio)] for front, trio in runs.items()}
    return result


def summarize(app_runs: list[dict], bare_runs: list[dict], durable_runs: list[dict]) -> dict:
    """The issue's keys from the medians of the rounds, and the durable floor's (`durable.*`)."""
    rps = statistics.median(r["rps"] for r in app_runs)
    bare_rps = statistics.median(r["rps"] for r in bare_runs)
    durable_rps = statistics.median(r["rps"] for r in durable_runs)
    return {"rps": round(rps, 1), "bare_rps": round(bare_rps, 1), "ratio_to_bare": round(rps / bare_rps, 3),
            "p50_ms": round(statistics.median(r["p50_us"] for r in app_runs) / 1000, 2),
            "p99_ms": round(statistics.median(r["p99_us"] for r in app_runs) / 1000, 2),
            "ratio_to_durable": round(rps / durable_rps, 3),
            "durable": {"rps": round(durable_rps, 1), "ratio_to_bare": round(durable_rps / bare_rps, 3),
                        "rounds": [round(d["rps"] / b["rps"], 3) for d, b in zip(durable_runs, bare_runs)]}}
