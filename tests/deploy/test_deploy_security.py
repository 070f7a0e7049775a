"""The deploy files' security (issue #13): nginx in front of gunicorn everywhere, Redis with a password on a
private network; the Redis start-up command of the compose file is run for real."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import redis
import yaml

from tests.e2e.proc_helpers import DEPLOY, free_port, using_redis, wait_until

PASSWORD = "0f3c9a8e41b27d6c5e0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d8e"


def _compose() -> dict:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


def _web_pod() -> dict:
    docs = yaml.safe_load_all((DEPLOY / "k8s" / "web.yaml").read_text())
    return next(d for d in docs if d["kind"] == "Deployment")["spec"]["template"]["spec"]


def test_compose_puts_nginx_with_deploy_nginx_conf_in_front_of_a_loopback_gunicorn():
    services = _compose()["services"]
    proxy, web = services["web-proxy"], services["web"]
    assert proxy["network_mode"] == "service:web" and "./nginx.conf:/etc/nginx/nginx.conf:ro" in proxy["volumes"]
    assert web["environment"]["INTERMISSION_BIND"].startswith("127.0.0.1:")
    assert web["ports"] == ["8000:8080"] and "listen 8080;" in (DEPLOY / "nginx.conf").read_text()


def test_kubernetes_runs_the_same_nginx_conf_as_a_sidecar_that_the_service_and_probes_reach():
    pod = _web_pod()
    web, proxy = (next(c for c in pod["containers"] if c["name"] == n) for n in ("web", "proxy"))
    env = {e["name"]: e.get("value") for e in web["env"]}
    assert env["INTERMISSION_BIND"] == "127.0.0.1:8000" and env["INTERMISSION_TRUSTED_PROXIES"] == "127.0.0.1"
    assert [p["containerPort"] for p in proxy["ports"] if p["name"] == "http"] == [8080]
    assert web["readinessProbe"]["httpGet"]["port"] == "http" == web["livenessProbe"]["httpGet"]["port"]
    configmap = yaml.safe_load((DEPLOY / "k8s" / "web-proxy.yaml").read_text())
    assert configmap["data"]["nginx.conf"] == (DEPLOY / "nginx.conf").read_text()  # the very file the test runs
    mounted = next(v for v in pod["volumes"] if v["name"] == "nginx-conf")
    assert mounted["configMap"]["name"] == configmap["metadata"]["name"]


def test_redis_conf_keeps_protected_mode_and_holds_no_password():
    lines = [line.split() for line in (DEPLOY / "redis.conf").read_text().splitlines()
             if line.strip() and not line.startswith("#")]
    assert ["protected-mode", "yes"] in lines
    assert not [line for line in lines if line[0] in ("requirepass", "user", "masterauth")]


def test_compose_keeps_redis_on_an_internal_network_with_no_published_port():
    compose = _compose()
    assert compose["networks"]["backend"]["internal"] is True
    for name in ("redis", "redis-replica", "sentinel"):
        assert compose["services"][name]["networks"] == ["backend"] and "ports" not in compose["services"][name]
    assert "${INTERMISSION_REDIS_PASSWORD" in compose["x-env"]["REDIS_URL"]


@pytest.fixture
def compose_redis(tmp_path):
    """compose.yaml's Redis command, run by sh as the container does, on a free loopback port."""
    command = _compose()["services"]["redis"]["command"]
    assert command[:2] == ["sh", "-c"]
    port = free_port()
    script = command[2].replace("$$", "$").replace("/usr/local/etc/redis/redis.conf", str(DEPLOY / "redis.conf"))
    script += f" --port {port} --dir {tmp_path} --bind 127.0.0.1"
    log = open(tmp_path / "redis.log", "wb")
    proc = subprocess.Popen(["sh", "-c", script], env={"PATH": "/usr/bin:/bin:/usr/local/bin",
                                                        "REDIS_PASSWORD": PASSWORD}, stdout=log, stderr=log)
    try:
        client = redis.Redis(port=port, password=PASSWORD)
        wait_until(lambda: _pings(client) or proc.poll() is not None, timeout=20, what="redis-server")
        assert proc.poll() is None, (tmp_path / "redis.log").read_text()
        yield port, proc.pid
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def _pings(client) -> bool:
    try:
        return client.ping()
    except redis.ConnectionError:
        return False


def test_the_compose_redis_refuses_clients_without_the_password_and_the_app_gets_in_with_redis_url(compose_redis):
    port, pid = compose_redis
    with pytest.raises(redis.AuthenticationError):
        redis.Redis(port=port).ping()
    with pytest.raises(redis.AuthenticationError):
        redis.Redis(port=port, password="wrong").ping()
    with using_redis(f"redis://:{PASSWORD}@127.0.0.1:{port}/0"):
        from config.infra.redis_conn import get_redis

        assert get_redis().ping() and get_redis().set("im:probe", "1")
    assert PASSWORD.encode() not in Path(f"/proc/{pid}/cmdline").read_bytes()  # only its SHA-256 is an argument
