"""The deploy files pass real validators, and they all start the same commands with the same settings."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import yaml

from config.settings import Settings
from tests.e2e.proc_helpers import DEPLOY, ROOT, procfile

BIN = Path(sys.executable).parent
K8S = sorted((DEPLOY / "k8s").glob("*.yaml"))
# read outside Settings: by deploy/gunicorn.conf.py, and the log level by config/cli.py too
PROCESS_ENV = {"INTERMISSION_BIND", "PORT", "WEB_CONCURRENCY", "INTERMISSION_WEB_THREADS", "INTERMISSION_LOG_LEVEL"}


def run(*argv) -> subprocess.CompletedProcess:
    return subprocess.run([str(a) for a in argv], capture_output=True, text=True, timeout=120)


def _compose() -> dict:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


def _k8s_docs() -> list[dict]:
    return [doc for path in K8S for doc in yaml.safe_load_all(path.read_text()) if doc]


def _k8s(kind: str, name: str) -> dict:
    return next(d for d in _k8s_docs() if d["kind"] == kind and d["metadata"]["name"] == name)


def test_dockerfile_passes_hadolint_and_hadolint_really_checks(tmp_path):
    done = run(BIN / "hadolint", DEPLOY / "Dockerfile")
    assert done.returncode == 0, done.stdout + done.stderr
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python\nRUN pip install flask\nUSER root\n")
    refused = run(BIN / "hadolint", bad)
    assert refused.returncode != 0 and "DL3006" in refused.stdout and "DL3002" in refused.stdout


def test_dockerfile_is_multi_stage_slim_pinned_and_runs_as_a_user():
    text = (DEPLOY / "Dockerfile").read_text()
    bases = re.findall(r"^FROM (\S+)", text, re.M)
    pinned = re.compile(r"python:3\.\d+\.\d+-slim-\w+(@sha256:[0-9a-f]{64})?")
    assert len(bases) >= 2 and all(pinned.fullmatch(b) for b in bases)
    assert re.search(r"pip install --no-cache-dir \.$", text, re.M)  # the package, from pyproject.toml
    user = re.findall(r"^USER (\S+)", text, re.M)[-1]
    assert not user.startswith(("root", "0"))
    cmd = json.loads(re.findall(r"^CMD (\[.*\])$", text, re.M)[-1])
    assert cmd == procfile()["web"]


def test_compose_file_is_valid_against_the_compose_specification(tmp_path):
    spec = [BIN / "check-jsonschema", "--builtin-schema", "vendor.compose-spec"]
    done = run(*spec, DEPLOY / "compose.yaml")
    assert done.returncode == 0, done.stdout + done.stderr
    broken = tmp_path / "compose.yaml"
    text = (DEPLOY / "compose.yaml").read_text()
    broken.write_text(text.replace('    command: ["intermission"', '    comand: ["intermission"'))
    assert run(*spec, broken).returncode != 0


def test_kubernetes_manifests_pass_kubernetes_validate_strictly(tmp_path):
    done = run(BIN / "kubernetes-validate", "--strict", *K8S)
    assert done.returncode == 0, done.stdout + done.stderr
    broken = tmp_path / "worker.yaml"
    broken.write_text((DEPLOY / "k8s" / "worker.yaml").read_text().replace("terminationGracePeriodSeconds",
                                                                           "terminationGracePeriod"))
    assert run(BIN / "kubernetes-validate", "--strict", broken).returncode != 0


def test_compose_procfile_and_kubernetes_start_the_same_commands():
    commands, services = procfile(), _compose()["services"]
    assert set(commands) == {"web", "worker"}
    for kind in ("web", "worker"):
        assert services[kind]["command"] == commands[kind]
        container = _k8s("Deployment", f"intermission-{kind}")["spec"]["template"]["spec"]["containers"][0]
        assert container["command"] == commands[kind]
        assert container["image"] == services[kind]["image"]


def _compose_env(service: str) -> set[str]:
    return set(_compose()["services"][service]["environment"])


def _k8s_env(kind: str) -> set[str]:
    container = _k8s("Deployment", f"intermission-{kind}")["spec"]["template"]["spec"]["containers"][0]
    names = {e["name"] for e in container.get("env", [])}
    for source in container.get("envFrom", []):
        names |= set(_k8s("ConfigMap", source["configMapRef"]["name"])["data"])
    return names


def _known_settings() -> set[str]:
    names = {f"INTERMISSION_{field.upper()}" for field in Settings.model_fields} | {"REDIS_URL"}
    return names | PROCESS_ENV


def test_compose_and_kubernetes_give_each_process_the_same_setting_names_all_known_and_documented():
    operations = (ROOT / "docs" / "OPERATIONS.md").read_text()
    for kind in ("web", "worker"):
        assert _compose_env(kind) == _k8s_env(kind)
        assert _compose_env(kind) <= _known_settings(), _compose_env(kind) - _known_settings()
        assert not [name for name in _compose_env(kind) if f"`{name}`" not in operations]
    # the web process alone: its threads, and gunicorn on loopback behind nginx trusting nginx's headers
    assert _compose_env("web") - _compose_env("worker") == {"WEB_CONCURRENCY", "INTERMISSION_BIND",
                                                            "INTERMISSION_TRUSTED_PROXIES", "INTERMISSION_METRICS_TOKEN"}


def test_kubernetes_probes_autoscaler_and_secrets_are_wired():
    web = _k8s("Deployment", "intermission-web")["spec"]["template"]["spec"]["containers"][0]
    assert web["readinessProbe"]["httpGet"]["path"].startswith("/readyz")
    assert web["livenessProbe"]["httpGet"]["path"] == "/healthz"
    hpa = _k8s("HorizontalPodAutoscaler", "intermission-web")
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "intermission-web"}
    for kind in ("web", "worker"):
        container = _k8s("Deployment", f"intermission-{kind}")["spec"]["template"]["spec"]["containers"][0]
        secret_refs = {e["name"] for e in container["env"] if "secretKeyRef" in e.get("valueFrom", {})}
        assert {"REDIS_URL", "INTERMISSION_SECRET_KEYS"} <= secret_refs
        assert container["securityContext"]["allowPrivilegeEscalation"] is False


def test_redis_conf_persists_with_aof_and_never_evicts():
    lines = {line.split(None, 1)[0]: line.split(None, 1)[1].strip() for line in
             (DEPLOY / "redis.conf").read_text().splitlines() if line.strip() and not line.startswith("#")}
    assert lines["appendonly"] == "yes" and lines["appendfsync"] in ("always", "everysec")
    assert lines["maxmemory-policy"] == "noeviction" and lines["save"] == '""'
