"""The deploy files pass real validators, and they all start the same commands with the same settings."""
from __future__ import annotations

import shlex

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import yaml

from config.settings import Settings
from tests.e2e.proc_helpers import DEPLOY, ROOT, procfile

BIN = Path(sys.executable).parent
K8S = sorted((DEPLOY / "k8s").glob("*.yaml"))
# read outside Settings: by deploy/gunicorn.conf.py, and the log level by intermission_cli/main.py too
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
    assert re.search(r"pip install --no-cache-dir --require-hashes -r requirements\.lock$", text, re.M)  # the lock
    assert re.search(r"pip install --no-cache-dir --no-deps \. ", text, re.M)  # then the package, resolving nothing
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
    assert set(commands) == {"web", "worker", "subscribe"}
    for kind in ("web", "worker", "subscribe"):
        assert services[kind]["command"] == commands[kind]
        container = _k8s("Deployment", f"intermission-{kind}")["spec"]["template"]["spec"]["containers"][0]
        assert container["command"] == commands[kind]
        assert container["image"] == services[kind]["image"]


def _compose_env(service: str) -> set[str]:
    return set(_compose()["services"][service]["environment"])


def recipe() -> dict[str, str]:
    """deploy/intermission.env.example: the one list of settings every process gets."""
    lines = (DEPLOY / "intermission.env.example").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if line.strip() and not line.startswith("#"))


def _k8s_env(kind: str) -> set[str]:
    container = _k8s("Deployment", f"intermission-{kind}")["spec"]["template"]["spec"]["containers"][0]
    names = {e["name"] for e in container.get("env", [])}
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            names |= set(_k8s("ConfigMap", source["configMapRef"]["name"])["data"])
        else:  # the Secret, created from the recipe (kubectl create secret generic --from-env-file)
            assert source["secretRef"]["name"] == "intermission-secrets"
            names |= set(recipe())
    return names


# the web process alone: its threads, gunicorn on loopback behind nginx trusting nginx's headers, the scrape token
WEB_ONLY = {"WEB_CONCURRENCY", "INTERMISSION_BIND", "INTERMISSION_TRUSTED_PROXIES", "INTERMISSION_METRICS_TOKEN"}


def _known_settings() -> set[str]:
    from config.settings import HostSettings
    from handlers.hosts import registry  # noqa: F401  (each host's package declares its own settings)

    fields = set(Settings.model_fields).union(*(model.model_fields for model in HostSettings.__subclasses__()))
    names = {f"INTERMISSION_{field.upper()}" for field in fields} | {"REDIS_URL"}
    return names | PROCESS_ENV


def test_compose_and_kubernetes_give_each_process_the_same_setting_names_all_known_and_documented():
    operations = (ROOT / "docs" / "OPERATIONS.md").read_text()
    for kind in ("web", "worker", "subscribe"):
        assert _compose_env(kind) == _k8s_env(kind)
        assert _compose_env(kind) <= _known_settings(), _compose_env(kind) - _known_settings()
        assert not [name for name in _compose_env(kind) if f"`{name}`" not in operations]
    # the web process alone: its threads, and gunicorn on loopback behind nginx trusting nginx's headers
    assert _compose_env("web") - _compose_env("worker") == WEB_ONLY


def test_every_process_gets_every_setting_of_the_one_recipe_boond_app_key_included():
    names = set(recipe())
    assert {"REDIS_URL", "INTERMISSION_SECRET_KEYS", "INTERMISSION_BOOND_APP_KEY"} <= names
    assert names <= _known_settings(), names - _known_settings()
    for kind in ("web", "worker", "subscribe"):
        assert _compose_env(kind) - WEB_ONLY == names
        assert names <= _k8s_env(kind)
        refs = _k8s("Deployment", f"intermission-{kind}")["spec"]["template"]["spec"]["containers"][0]["env"]
        boond = next(e for e in refs if e["name"] == "INTERMISSION_BOOND_APP_KEY")["valueFrom"]["secretKeyRef"]
        assert boond == {"name": "intermission-secrets", "key": "INTERMISSION_BOOND_APP_KEY", "optional": True}
    for path in ("compose.yaml", "Procfile", "k8s/configmap.yaml"):
        assert "intermission.env" in (DEPLOY / path).read_text(), path  # each says how it gets the recipe
    ignored = (ROOT / ".gitignore").read_text() + (ROOT / ".dockerignore").read_text()
    assert ignored.count("deploy/intermission.env") == 2  # the filled-in copy holds secrets


def _gunicorn() -> dict:
    found = {}
    exec(compile((DEPLOY / "gunicorn.conf.py").read_text(), "gunicorn.conf.py", "exec"), found)
    return found


def _seconds(value: str) -> float:
    return float(value[:-1]) * {"s": 1, "m": 60}[value[-1]]


def test_graceful_shutdown_outlasts_the_longest_request_and_the_longest_job():
    conf, services = _gunicorn(), _compose()["services"]
    assert conf["graceful_timeout"] >= conf["timeout"]  # a request in flight may run its whole timeout
    assert _seconds(services["web"]["stop_grace_period"]) > conf["graceful_timeout"]
    web = _k8s("Deployment", "intermission-web")["spec"]["template"]["spec"]
    drain = web["containers"][0]["lifecycle"]["preStop"]["exec"]["command"]
    assert drain[:2] == ["intermission", "drain"]
    assert web["terminationGracePeriodSeconds"] > float(drain[drain.index("--seconds") + 1]) + conf["graceful_timeout"]
    job_timeout = Settings().job_timeout_seconds
    assert _seconds(services["worker"]["stop_grace_period"]) > job_timeout
    worker = _k8s("Deployment", "intermission-worker")["spec"]["template"]["spec"]
    assert worker["terminationGracePeriodSeconds"] > job_timeout


def test_web_readiness_is_polled_often_enough_to_drain_within_the_prestop_wait():
    web = _k8s("Deployment", "intermission-web")["spec"]["template"]["spec"]["containers"][0]
    probe, drain = web["readinessProbe"], web["lifecycle"]["preStop"]["exec"]["command"]
    assert probe["periodSeconds"] * probe["failureThreshold"] < float(drain[drain.index("--seconds") + 1])


def test_workers_have_a_liveness_check_in_compose_and_kubernetes():
    compose = _compose()["services"]["worker"]["healthcheck"]["test"]
    container = _k8s("Deployment", "intermission-worker")["spec"]["template"]["spec"]["containers"][0]
    assert compose[1:] == container["livenessProbe"]["exec"]["command"] == ["intermission", "check-worker"]


def test_one_subscriber_replica_replaced_not_rolled():
    assert _compose()["services"]["subscribe"]["deploy"]["replicas"] == 1
    spec = _k8s("Deployment", "intermission-subscribe")["spec"]
    assert spec["replicas"] == 1 and spec["strategy"] == {"type": "Recreate"}  # never two pods at once by design
    egress = _k8s("NetworkPolicy", "intermission-subscribe")["spec"]["egress"][0]["ports"]
    assert {"protocol": "TCP", "port": 7443} in egress


def test_compose_redis_has_a_memory_limit_under_its_container_limit():
    for name in ("redis", "redis-replica"):
        service = _compose()["services"][name]
        command = service["command"]
        if command[:2] == ["sh", "-c"]:  # started through a shell that turns the password into its hash
            command = shlex.split(command[2].removeprefix("exec "))
        maxmemory = command[command.index("--maxmemory") + 1]
        assert command[1] == "/usr/local/etc/redis/redis.conf"
        as_bytes = {"mb": 2 ** 20, "gb": 2 ** 30}
        limit = int(service["mem_limit"][:-1]) * {"g": 2 ** 30, "m": 2 ** 20}[service["mem_limit"][-1]]
        assert int(maxmemory[:-2]) * as_bytes[maxmemory[-2:]] <= 0.8 * limit


def _selects(selector: dict, component: str) -> bool:
    labels = _k8s("Deployment", f"intermission-{component}")["spec"]["template"]["metadata"]["labels"]
    return all(labels.get(k) == v for k, v in selector["matchLabels"].items())


def test_disruption_budgets_network_policies_and_the_ingress_select_the_deployments():
    for component in ("web", "worker"):
        assert _selects(_k8s("PodDisruptionBudget", f"intermission-{component}")["spec"]["selector"], component)
        policy = _k8s("NetworkPolicy", f"intermission-{component}")["spec"]
        assert _selects(policy["podSelector"], component) and set(policy["policyTypes"]) == {"Ingress", "Egress"}
        assert 6379 in {p["port"] for rule in policy["egress"] for p in rule["ports"]}
    assert _k8s("PodDisruptionBudget", "intermission-web")["spec"]["minAvailable"] >= 1
    assert _k8s("NetworkPolicy", "intermission-worker")["spec"]["ingress"] == []
    web_rules = _k8s("NetworkPolicy", "intermission-web")["spec"]["ingress"]
    web_ports = {p["port"] for rule in web_rules for p in rule["ports"]}
    assert web_ports == {8000}
    ingress = _k8s("Ingress", "intermission")["spec"]
    paths = {p["path"] for rule in ingress["rules"] for p in rule["http"]["paths"]}
    assert "/webhooks/" in paths and not paths & {"/metrics", "/readyz", "/healthz"}
    assert all(p["backend"]["service"]["name"] == "intermission-web" for rule in ingress["rules"]
               for p in rule["http"]["paths"])


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


def _locked(path: Path) -> dict[str, str]:
    return {m.group(1).lower(): m.group(2) for m in re.finditer(r"^([A-Za-z0-9_.-]+)==(\S+)", path.read_text(), re.M)}


def test_the_lock_files_pin_the_whole_tree_with_hashes_and_agree_with_pyproject():
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pins = lambda specs: dict(s.split(";")[0].split("#")[0].strip().lower().split("==") for s in specs)  # noqa: E731
    runtime, test = _locked(ROOT / "requirements.lock"), _locked(ROOT / "requirements-test.lock")
    assert pins(project["dependencies"]).items() <= runtime.items()  # a pyproject change needs `make lock`
    assert pins(project["dependencies"] + project["optional-dependencies"]["test"]).items() <= test.items()
    assert len(runtime) > len(project["dependencies"]) + 10  # transitive packages too (werkzeug, jinja2, …)
    assert {"werkzeug", "jinja2", "urllib3"} <= runtime.keys()
    for path in ("requirements.lock", "requirements-test.lock"):
        text = (ROOT / path).read_text()
        assert all("--hash=sha256:" in block for block in re.split(r"\n(?=[A-Za-z])", text) if "==" in block)
        assert "make lock" in text  # the header names the one command that refreshes it


def test_the_dockerfile_and_make_install_from_the_locks_and_make_lock_refreshes_them():
    makefile = (ROOT / "Makefile").read_text()
    assert "--require-hashes -r requirements-test.lock" in makefile  # make install-test, so make test and CI
    assert "--require-hashes -r requirements.lock" in makefile  # make install
    assert re.search(r"^lock:", makefile, re.M) and re.search(r"UV_VERSION := \d+\.\d+\.\d+", makefile)
    assert "requirements.lock" in (DEPLOY / "Dockerfile").read_text()
    assert "make test" in (ROOT / ".ci" / "run").read_text()


def test_the_venvs_redis_server_does_not_shadow_redis_7_on_path():
    import shutil

    found = shutil.which("redis-server", path=str(BIN) + os.pathsep + os.environ.get("PATH", ""))
    version = run(found, "--version").stdout
    assert re.search(r"v=([7-9]|\d\d)\.", version), f"{found}: {version}"


def test_each_web_process_keeps_its_start_up_objects_out_of_the_collectors_full_passes():
    import gc

    before = gc.get_freeze_count()
    try:
        _gunicorn()["post_worker_init"](None)  # gunicorn calls it once the app is loaded in the worker
        assert gc.get_freeze_count() > before
    finally:
        gc.unfreeze()
