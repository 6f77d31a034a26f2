"""The production stack's files: docker-compose.yml, docker/, .env.example.

No Docker engine is needed: the compose file is parsed with PyYAML and, when the
``docker-compose`` binary is installed, validated with ``docker-compose config -q``.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
COMPOSE_FILE = REPO / "docker-compose.yml"
ENV_EXAMPLE = REPO / ".env.example"
DOCKER_DIR = REPO / "docker"
DOCKERFILE = DOCKER_DIR / "Dockerfile"

AIRFLOW_SERVICES = (
    "airflow-init",
    "airflow-apiserver",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
)
REQUIRED_SERVICES = ("preflight", "postgres", "reports-web", *AIRFLOW_SERVICES)
# Profile `celery` (CeleryExecutor) and profile `flower` (its monitor).
PROFILES = {"redis": ["celery"], "airflow-worker": ["celery"], "flower": ["flower"]}
LONG_RUNNING = tuple(
    s for s in (*REQUIRED_SERVICES, *PROFILES) if s not in ("preflight", "airflow-init")
)

# The settings include/sinergi/config.py reads (the brief's list); each needs a NAME= line.
CONFIG_VARIABLES = {
    "SINERGI_INBOX",
    "SINERGI_WAREHOUSE",
    "SINERGI_PII_KEY",
    "SINERGI_REPORTS_DIR",
    "SINERGI_ARCHIVE_DIR",
    "SINERGI_WORK_DIR",
    "SINERGI_DATA_DIR",
    "SINERGI_GX_ROOT",
    "SINERGI_DEADLINE_DAY",
    "SINERGI_DEADLINE_TIME",
    "SINERGI_REJECT_THRESHOLD",
    "SINERGI_ELIGIBLE_MAX_DECILE",
    "SINERGI_OUTLIER_THRESHOLD",
    "SINERGI_OUTLIER_MIN_HISTORY",
    "SINERGI_DEADLINE_ALERTS",
}
PLACEHOLDER = "change-me"
SECRET_NAME = re.compile(r"(PASSWORD|SECRET|_KEY$|TOKEN)")
NOT_A_SECRET = re.compile(r"_(FILE|PATH|DIR)$")
# ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?err}, ${NAME?err}, or $NAME.
REFERENCE = re.compile(
    r"\$(?:\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}"
    r"|(?P<bare>[A-Za-z_][A-Za-z0-9_]*))"
)
SINERGI_NAME = re.compile(r"\bSINERGI_[A-Z0-9_]*[A-Z0-9]\b")


# ----------------------------------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------------------------------


def references(text: str) -> list[tuple[str, str | None, str | None]]:
    """Every variable reference in compose text as (name, operator, argument)."""
    text = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    text = text.replace("$$", "")  # escaped dollars are not references
    found = []
    for match in REFERENCE.finditer(text):
        if match["bare"]:
            found.append((match["bare"], None, None))
        else:
            found.append((match["braced"], match["op"], match["arg"]))
    return found


def interpolate(text: str, env: dict[str, str] | None = None) -> str:
    """Compose-style substitution in one string: ``env`` values, else the defaults."""
    env = env or {}

    def substitute(match: re.Match) -> str:
        name = match["braced"] or match["bare"]
        op, arg = match["op"], match["arg"]
        value = env.get(name)
        if op == ":-" and not value:
            return arg
        if op == "-" and value is None:
            return arg
        return value or ""

    parts = text.split("$$")
    return "$".join(REFERENCE.sub(substitute, part) for part in parts)


def interpolate_tree(node):
    """Like docker-compose: parse the YAML first, then substitute inside string values."""
    if isinstance(node, dict):
        return {key: interpolate_tree(value) for key, value in node.items()}
    if isinstance(node, list):
        return [interpolate_tree(value) for value in node]
    return interpolate(node) if isinstance(node, str) else node


def env_file_assignments(text: str, *, commented: bool = False) -> dict[str, str]:
    pattern = r"^#?\s*([A-Za-z_][A-Za-z0-9_]*)=(.*)$" if commented else r"^([A-Za-z_]\w*)=(.*)$"
    return {m[1]: m[2] for m in re.finditer(pattern, text, flags=re.MULTILINE)}


def environment(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {key: str(value) for key, value in env.items()}


def volumes(service: dict) -> list[dict]:
    """Service volumes in long form: type, source, target, read_only."""
    result = []
    for entry in service.get("volumes") or []:
        if isinstance(entry, dict):
            result.append(entry)
            continue
        parts = entry.split(":")
        source, target = parts[0], parts[1]
        kind = "bind" if source.startswith((".", "/", "~")) else "volume"
        result.append(
            {"type": kind, "source": source, "target": target, "read_only": parts[2:] == ["ro"]}
        )
    return result


def load_module(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def raw_text() -> str:
    return COMPOSE_FILE.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def compose(raw_text) -> dict:
    """docker-compose.yml as it resolves with no .env (every variable at its default)."""
    return interpolate_tree(yaml.safe_load(raw_text))


@pytest.fixture(scope="module")
def services(compose) -> dict:
    return compose["services"]


@pytest.fixture(scope="module")
def env_example() -> str:
    return ENV_EXAMPLE.read_text(encoding="utf-8")


# ----------------------------------------------------------------------------------------------
# services, images, health
# ----------------------------------------------------------------------------------------------


def test_compose_spec_format_without_version_key(compose):
    # docker-compose 1.29 validates `depends_on: condition: service_completed_successfully`
    # only against the Compose Specification (no `version:`); 3.x files reject it.
    assert "version" not in compose
    assert "services" in compose and "volumes" in compose


def test_required_services_exist(services):
    missing = set(REQUIRED_SERVICES) - set(services)
    assert not missing, f"missing services: {sorted(missing)}"
    for name, service in services.items():
        assert service.get("profiles") == PROFILES.get(name), f"{name}: profiles"


def test_every_image_tag_is_pinned(services):
    for name, service in services.items():
        image = service.get("image")
        assert image, f"{name} has no image (services that build must still name:tag it)"
        repository, _, tag = image.rpartition(":")
        assert repository and "/" not in tag, f"{name}: image {image!r} has no tag"
        assert tag != "latest" and "latest" not in tag, f"{name}: {image!r} is not pinned"
        assert re.search(r"\d", tag), f"{name}: tag of {image!r} carries no version"


def test_dockerfile_base_images_are_pinned():
    text = DOCKERFILE.read_text(encoding="utf-8")
    args = dict(re.findall(r"^ARG (\w+)=(\S+)", text, flags=re.MULTILINE))
    bases = re.findall(r"^FROM (\S+)", text, flags=re.MULTILINE)
    assert bases
    for base in bases:
        image = re.sub(r"\$\{(\w+)\}", lambda m: args.get(m[1], m[0]), base)
        if image == "lock":  # the earlier stage
            continue
        assert ":" in image and "latest" not in image, f"unpinned base image {image}"
    assert args["AIRFLOW_BASE_IMAGE"].endswith(":slim-3.3.2-python3.11")


def test_airflow_services_share_the_built_image(services):
    images = {services[name]["image"] for name in AIRFLOW_SERVICES}
    assert len(images) == 1
    for name in AIRFLOW_SERVICES:
        assert services[name]["build"]["dockerfile"] == "docker/Dockerfile"
        assert services[name]["build"]["context"] == "."


def test_healthchecks(services):
    for name in ("postgres", "airflow-apiserver"):
        assert services[name].get("healthcheck", {}).get("test"), f"{name} needs a healthcheck"
    postgres_test = " ".join(services["postgres"]["healthcheck"]["test"])
    assert "pg_isready" in postgres_test
    assert "-h 127.0.0.1" in postgres_test, "TCP check: the init-time server is socket-only"
    api_test = " ".join(services["airflow-apiserver"]["healthcheck"]["test"])
    assert "localhost:8080/api/v2/version" in api_test
    for name in LONG_RUNNING:
        assert services[name].get("healthcheck"), f"{name} has no healthcheck"
        assert services[name].get("restart") == "unless-stopped", name


def test_start_order(services):
    assert services["postgres"]["depends_on"] == {
        "preflight": {"condition": "service_completed_successfully"}
    }
    assert services["airflow-init"]["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    for name in AIRFLOW_SERVICES[1:]:
        depends = services[name]["depends_on"]
        assert depends["postgres"] == {"condition": "service_healthy"}, name
        assert depends["airflow-init"] == {"condition": "service_completed_successfully"}, name
    for name in ("preflight", "airflow-init"):
        assert services[name]["restart"] == "no"


def test_airflow_configuration(services):
    for name in AIRFLOW_SERVICES:
        env = environment(services[name])
        assert env["AIRFLOW__CORE__EXECUTOR"] == "LocalExecutor", name  # the default
        assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == (
            "http://airflow-apiserver:8080/execution/"
        ), name
        assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith(
            "postgresql+psycopg2://airflow:"
        )
        assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].endswith("@postgres:5432/airflow")
        assert env["AIRFLOW__CORE__LOAD_EXAMPLES"] == "False"
        assert env["AIRFLOW__COSMOS__ENABLE_TELEMETRY"] == "False"
        assert env["AIRFLOW__CORE__AUTH_MANAGER"].endswith("SimpleAuthManager")
        for shared in ("AIRFLOW__API_AUTH__JWT_SECRET", "AIRFLOW__CORE__FERNET_KEY"):
            assert shared in env, f"{name}: {shared} must be the same in every component"
    # The container name in the execution API URL is a real service on port 8080.
    assert "8080" in services["airflow-apiserver"]["ports"][0]


def test_celery_profile_runs_tasks_on_workers_with_the_same_airflow_settings(services, raw_text):
    worker, scheduler = services["airflow-worker"], services["airflow-scheduler"]
    assert worker["command"] == "celery worker"
    assert worker["image"] == scheduler["image"] and worker["build"] == scheduler["build"]
    # every worker sees the files a task of another worker left: same mounts as the scheduler
    assert volumes(worker) == volumes(scheduler)
    assert {v["target"] for v in volumes(worker)} >= {
        "/opt/sinergi/inbox",
        "/opt/sinergi/archive",
        "/opt/sinergi/reports",
        "/opt/sinergi/work",
        "/opt/airflow/logs",
    }
    worker_env, scheduler_env = environment(worker), environment(scheduler)
    for key, value in scheduler_env.items():
        assert worker_env.get(key) == value, f"airflow-worker: {key} differs from the scheduler"
    assert worker["depends_on"]["redis"] == {"condition": "service_healthy"}
    assert worker["depends_on"]["airflow-apiserver"] == {"condition": "service_healthy"}
    assert "ports" not in services["redis"], "the broker is reachable inside the stack only"
    assert "--requirepass" in " ".join(services["redis"]["command"])


def test_the_executor_and_celery_settings_come_from_env(services, raw_text):
    celery = {
        "AIRFLOW_EXECUTOR": "CeleryExecutor",
        "REDIS_PASSWORD": "r" * 32,
        "AIRFLOW_DB_PASSWORD": "a" * 32,
    }
    assert environment(services["airflow-scheduler"])["AIRFLOW__CORE__EXECUTOR"] == "LocalExecutor"
    env = yaml.safe_load(raw_text)["x-airflow-env"]
    assert interpolate(env["AIRFLOW__CORE__EXECUTOR"], celery) == "CeleryExecutor"
    assert interpolate(env["AIRFLOW__CELERY__BROKER_URL"], celery) == (
        f"redis://:{'r' * 32}@redis:6379/0"
    )
    assert interpolate(env["AIRFLOW__CELERY__RESULT_BACKEND"], celery) == (
        f"db+postgresql+psycopg2://airflow:{'a' * 32}@postgres:5432/airflow"
    )


def test_psycopg2_driver_is_in_the_lock():
    lock = (REPO / "uv.lock").read_text(encoding="utf-8")
    assert re.search(r'^name = "psycopg2-binary"$', lock, flags=re.MULTILINE)


# ----------------------------------------------------------------------------------------------
# secrets
# ----------------------------------------------------------------------------------------------


def test_no_literal_secrets_in_compose(raw_text):
    raw = yaml.safe_load(raw_text)
    blocks = {name: environment(service) for name, service in raw["services"].items()}
    blocks.update({key: value for key, value in raw.items() if key.endswith("-env")})
    for owner, env in blocks.items():
        for key, value in env.items():
            value = str(value)
            if SECRET_NAME.search(key) and not NOT_A_SECRET.search(key):
                refs = references(value)
                assert len(refs) == 1 and value == f"${{{refs[0][0]}{refs[0][1]}{refs[0][2]}}}", (
                    f"{owner}.{key} must be exactly one ${{VARIABLE:-{PLACEHOLDER}}}"
                )
                assert refs[0][1] == ":-" and refs[0][2].startswith(PLACEHOLDER), (
                    f"{owner}.{key}: the default must be the {PLACEHOLDER} placeholder"
                )
            for credentials in re.findall(r"://[^:/@\s]+:([^@\s]+)@", value):
                assert re.fullmatch(r"\$\{\w+:-" + PLACEHOLDER + r"[^}]*\}", credentials), (
                    f"{owner}.{key}: password in a URL must be a variable"
                )
    # Nothing that looks like a generated key anywhere in the file.
    assert not re.search(r"[A-Fa-f0-9]{32,}|[A-Za-z0-9_-]{43}=", raw_text)


def test_env_example_has_only_placeholder_secrets(env_example):
    assignments = env_file_assignments(env_example)
    secrets = {k: v for k, v in assignments.items() if SECRET_NAME.search(k)}
    assert {"SINERGI_PII_KEY", "AIRFLOW__CORE__FERNET_KEY", "AIRFLOW_ADMIN_PASSWORD"} <= set(
        secrets
    )
    for name, value in secrets.items():
        assert value == PLACEHOLDER, f".env.example: {name} must be {PLACEHOLDER}"
    assert not re.search(r"[A-Fa-f0-9]{32,}|[A-Za-z0-9_-]{43}=", env_example)
    assert "secrets.token_hex(32)" in env_example


def test_warehouse_secrets_only_where_tasks_run(services):
    """Tasks run in the scheduler (LocalExecutor) or the workers (CeleryExecutor); nothing
    else gets the PII key."""
    for name, service in services.items():
        env = environment(service)
        if name in ("airflow-scheduler", "airflow-worker", "preflight"):
            assert "SINERGI_PII_KEY" in env, name
        else:
            assert "SINERGI_PII_KEY" not in env, f"{name} must not get the PII key"
        if name in ("airflow-scheduler", "airflow-worker", "airflow-init"):
            assert env["SINERGI_WAREHOUSE"].startswith("postgresql://sinergi_etl:")
            assert env["SINERGI_WAREHOUSE"].endswith("@postgres:5432/sinergi")
        else:
            assert "SINERGI_WAREHOUSE" not in env, f"{name} must not get the warehouse URL"
    assert "AIRFLOW_ADMIN_PASSWORD" in environment(services["airflow-init"])
    assert "AIRFLOW_ADMIN_PASSWORD" not in environment(services["airflow-apiserver"])


# ----------------------------------------------------------------------------------------------
# variables: defaults and documentation
# ----------------------------------------------------------------------------------------------


def test_every_compose_variable_has_a_default_and_is_documented(raw_text, env_example):
    documented = env_file_assignments(env_example)
    for name, op, _ in references(raw_text):
        assert op in (":-", "-"), f"${{{name}}} needs a default: the file must work without .env"
        assert name in documented, f"{name} is used in docker-compose.yml, not in .env.example"


def test_every_sinergi_variable_is_documented(env_example):
    sources = [*(REPO / "include" / "sinergi").rglob("*.py"), *(REPO / "dags").glob("*.py")]
    sources.append(REPO / "dbt_project" / "profiles.yml")
    used = set()
    for path in sources:
        if path.exists():
            used |= set(SINERGI_NAME.findall(path.read_text(encoding="utf-8")))
    undocumented = sorted(name for name in used if not re.search(rf"\b{name}\b", env_example))
    assert not undocumented, f"not described in .env.example: {undocumented}"
    config_py = (REPO / "include" / "sinergi" / "config.py").read_text(encoding="utf-8")
    assignments = env_file_assignments(env_example, commented=True)
    for name in CONFIG_VARIABLES | set(SINERGI_NAME.findall(config_py)):
        assert name in assignments, f".env.example needs a (possibly commented) {name}= line"


def test_sinergi_paths_point_into_mounts(services):
    """The SINERGI_* paths of every Airflow container are where the volumes are mounted."""
    expected = {
        "SINERGI_INBOX": ("/opt/sinergi/inbox", True),
        "SINERGI_REPORTS_DIR": ("/opt/sinergi/reports", False),
        "SINERGI_ARCHIVE_DIR": ("/opt/sinergi/archive", False),
        "SINERGI_WORK_DIR": ("/opt/sinergi/work", False),
        "SINERGI_GX_ROOT": ("/opt/airflow/expectations", True),
    }
    for name in AIRFLOW_SERVICES:
        env = environment(services[name])
        mounts = {v["target"]: v for v in volumes(services[name])}
        for variable, (path, read_only) in expected.items():
            assert env[variable] == path, f"{name}: {variable}"
            assert path in mounts, f"{name}: nothing mounted at {path}"
            assert bool(mounts[path].get("read_only")) is read_only, f"{name}: {path}"
        for project in ("dags", "include", "dbt_project", "expectations"):
            mount = mounts[f"/opt/airflow/{project}"]
            assert mount["source"] == f"./{project}" and mount["read_only"], f"{name}: {project}"
        assert env["DBT_TARGET_PATH"].startswith("/opt/sinergi/work/"), "dbt_project is read-only"
        assert env["SINERGI_DEADLINE_ALERTS"] == "true"


def test_inbox_is_the_configurable_host_folder(raw_text):
    assert "${SINERGI_INBOX_HOST:-./inbox}:/opt/sinergi/inbox:ro" in raw_text


def test_reports_web_serves_the_reports_volume_read_only(services):
    web = services["reports-web"]
    assert web["image"].startswith("nginx:1.27")
    (reports,) = [v for v in volumes(web) if v["source"] == "reports"]
    assert reports["read_only"] and reports["volume"]["nocopy"]
    conf = (DOCKER_DIR / "reports-web" / "default.conf").read_text(encoding="utf-8")
    assert re.search(rf"^\s*root {re.escape(reports['target'])};", conf, flags=re.MULTILINE)
    listen = re.search(r"^\s*listen (\d+);", conf, flags=re.MULTILINE)[1]
    assert web["ports"][0].endswith(f":8081:{listen}")
    assert "autoindex on" in conf


def _csp(block: str) -> dict[str, str]:
    header = re.search(r'add_header Content-Security-Policy "([^"]+)" always;', block)
    assert header, "no Content-Security-Policy header"
    return {d.split()[0]: d.strip() for d in header[1].split(";") if d.strip()}


def test_reports_web_sends_a_restrictive_csp_and_nosniff():
    conf = (DOCKER_DIR / "reports-web" / "default.conf").read_text(encoding="utf-8")
    server_level = conf.split("location", 1)[0]
    csp = _csp(server_level)
    assert csp["default-src"] == "default-src 'self'"
    assert csp["script-src"] == "script-src 'self'"  # no inline script for Data Docs
    assert csp["object-src"] == "object-src 'none'"
    assert "http" not in " ".join(csp.values())
    assert "add_header X-Content-Type-Options nosniff always;" in server_level
    # A location with its own add_header drops the server's: each such location repeats all.
    for block in re.findall(r"location [^{]*\{(.*?)\n    \}", conf, flags=re.DOTALL):
        if "add_header" in block:
            assert _csp(block)["default-src"] == "default-src 'self'"
            assert "X-Content-Type-Options nosniff" in block


def test_named_volumes_declared(compose, services):
    declared = set(compose["volumes"])
    assert {"postgres-data", "reports", "archive"} <= declared
    for name, service in services.items():
        for mount in volumes(service):
            if mount["type"] == "volume":
                assert mount["source"] in declared, f"{name}: undeclared volume {mount['source']}"


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
def test_shell_scripts_parse_and_init_script_is_executable():
    for script in sorted(DOCKER_DIR.rglob("*.sh")):
        result = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True)
        assert result.returncode == 0, f"{script}: {result.stderr}"
    # The postgres entrypoint sources non-executable *.sh files instead of running them.
    assert os.access(DOCKER_DIR / "postgres" / "init-databases.sh", os.X_OK)


def test_postgres_init_creates_both_databases(services):
    mounts = {v["target"]: v for v in volumes(services["postgres"])}
    init = mounts["/docker-entrypoint-initdb.d/10-init-databases.sh"]
    script = (REPO / init["source"]).read_text(encoding="utf-8")
    for statement in (
        "CREATE DATABASE airflow OWNER airflow",
        "CREATE DATABASE sinergi OWNER sinergi_etl",
        "PASSWORD :'airflow_password'",
        "PASSWORD :'etl_password'",
    ):
        assert statement in script


# ----------------------------------------------------------------------------------------------
# the image installs uv.lock
# ----------------------------------------------------------------------------------------------


def test_dockerfile_installs_from_the_lock_file():
    text = DOCKERFILE.read_text(encoding="utf-8")
    assert "uv.lock" in text
    assert re.search(r"uv export --frozen --no-dev", text)
    assert re.search(r'pip install .*"uv==\$\{UV_VERSION\}"', text)
    assert re.search(r"^ARG UV_VERSION=\d+\.\d+\.\d+$", text, flags=re.MULTILINE)
    assert "--require-hashes -r /opt/sinergi/requirements.txt" in text
    assert "verify_lock.py /opt/sinergi/requirements.txt" in text
    assert "--no-deps --editable /opt/airflow" in text
    makefile_uv = re.search(r"^UV_VERSION := (\S+)", (REPO / "Makefile").read_text(), re.M)
    if makefile_uv:
        assert f"ARG UV_VERSION={makefile_uv[1]}" in text, "same uv as the Makefile"
    ignore = (DOCKER_DIR / "Dockerfile.dockerignore").read_text(encoding="utf-8")
    for copied in re.findall(r"^COPY (?:--\S+ )*(.+) \S+$", text, flags=re.MULTILINE):
        for source in copied.split():
            if not source.startswith("/"):
                assert f"!{source}" in ignore, f"{source} is COPY'd but excluded from the context"


def test_verify_lock_compares_installed_versions(tmp_path):
    verify = load_module(DOCKER_DIR / "verify_lock.py", "verify_lock")
    good = tmp_path / "good.txt"
    good.write_text(
        f"pyyaml=={version('pyyaml')} \\\n    --hash=sha256:00\n"
        f"pytest=={version('pytest')} ; python_version >= '3.8'\n"
        "not-on-this-platform==1.0 ; sys_platform == 'win32'\n",
        encoding="utf-8",
    )
    assert verify.main(str(good)) == 0
    bad = tmp_path / "bad.txt"
    bad.write_text("pyyaml==0.0.1\nsurely-not-installed-package==1.0\n", encoding="utf-8")
    assert verify.main(str(bad)) == 1


# ----------------------------------------------------------------------------------------------
# the secret checks and the generated .env
# ----------------------------------------------------------------------------------------------

BASH = shutil.which("bash")


def run_preflight(env_file: Path) -> subprocess.CompletedProcess:
    clean_env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C.UTF-8"}
    return subprocess.run(
        [BASH, str(DOCKER_DIR / "preflight.sh"), str(env_file)],
        capture_output=True,
        text=True,
        env=clean_env,
        timeout=30,
    )


@pytest.fixture()
def generated_env(tmp_path) -> Path:
    (tmp_path / "generated").mkdir()
    target = tmp_path / "generated" / ".env"
    make_env = load_module(DOCKER_DIR / "make_env.py", "make_env")
    assert make_env.main(["make_env.py", str(target)]) == 0
    assert target.stat().st_mode & 0o777 == 0o600
    assert make_env.main(["make_env.py", str(target)]) == 1, "must never overwrite"
    return target


def test_generated_env_replaces_every_placeholder(generated_env, env_example):
    text = generated_env.read_text(encoding="utf-8")
    assert PLACEHOLDER not in env_file_assignments(text).values()
    assert set(env_file_assignments(text)) == set(env_file_assignments(env_example))


@pytest.mark.skipif(BASH is None, reason="bash is not installed")
def test_preflight_refuses_placeholders_and_accepts_generated_secrets(generated_env, tmp_path):
    refused = run_preflight(ENV_EXAMPLE)
    assert refused.returncode == 1
    assert "SINERGI_PII_KEY is still the change-me placeholder" in refused.stderr
    assert run_preflight(tmp_path / "missing.env").returncode == 1

    accepted = run_preflight(generated_env)
    assert accepted.returncode == 0, accepted.stderr
    secret = env_file_assignments(generated_env.read_text())["SINERGI_PII_KEY"]
    assert secret not in accepted.stdout + accepted.stderr, "never print a secret"

    bad = tmp_path / "bad.env"
    text = generated_env.read_text().replace(
        "POSTGRES_PASSWORD=", "POSTGRES_PASSWORD=has@and/slash-", 1
    )
    bad.write_text(text)
    result = run_preflight(bad)
    assert result.returncode == 1 and "POSTGRES_PASSWORD has characters" in result.stderr


@pytest.mark.skipif(BASH is None, reason="bash is not installed")
@pytest.mark.parametrize(
    ("settings", "problem"),
    [
        ({"AIRFLOW_EXECUTOR": "CeleryExecutor"}, "needs COMPOSE_PROFILES=celery"),
        ({"COMPOSE_PROFILES": "celery"}, "needs AIRFLOW_EXECUTOR=CeleryExecutor"),
        ({"AIRFLOW_EXECUTOR": "KubernetesExecutor"}, "must be LocalExecutor or CeleryExecutor"),
        (
            {"AIRFLOW_EXECUTOR": "CeleryExecutor", "COMPOSE_PROFILES": "flower"},
            "needs celery too",
        ),
        (
            {
                "AIRFLOW_EXECUTOR": "CeleryExecutor",
                "COMPOSE_PROFILES": "celery",
                "REDIS_PASSWORD": "change-me",
            },
            "REDIS_PASSWORD is still the change-me placeholder",
        ),
        ({"AIRFLOW_EXECUTOR": "CeleryExecutor", "COMPOSE_PROFILES": "celery,flower"}, None),
        ({"REDIS_PASSWORD": "change-me"}, None),  # unused by the LocalExecutor
    ],
)
def test_preflight_wants_the_executor_and_the_celery_profile_together(
    generated_env, tmp_path, settings, problem
):
    text = generated_env.read_text(encoding="utf-8")
    for name, value in settings.items():
        text = re.sub(rf"^{name}=.*$", f"{name}={value}", text, flags=re.MULTILINE)
    changed = tmp_path / "changed.env"
    changed.write_text(text, encoding="utf-8")
    result = run_preflight(changed)
    if problem is None:
        assert result.returncode == 0, result.stderr
    else:
        assert result.returncode == 1 and problem in result.stderr, result.stderr


# ----------------------------------------------------------------------------------------------
# docker-compose itself
# ----------------------------------------------------------------------------------------------

DOCKER_COMPOSE = shutil.which("docker-compose")


def compose_config(workdir: Path) -> subprocess.CompletedProcess:
    clean_env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(workdir)}
    return subprocess.run(
        [DOCKER_COMPOSE, "-f", "docker-compose.yml", "config", "-q"],
        cwd=workdir,
        capture_output=True,
        text=True,
        env=clean_env,
        timeout=120,
    )


@pytest.fixture()
def compose_dir(tmp_path) -> Path:
    """A copy of the compose file and docker/ with no .env and none of the host's variables."""
    workdir = tmp_path / "compose"
    workdir.mkdir()
    shutil.copy(COMPOSE_FILE, workdir / "docker-compose.yml")
    shutil.copytree(DOCKER_DIR, workdir / "docker")
    return workdir


@pytest.mark.skipif(
    DOCKER_COMPOSE is None,
    reason="docker-compose binary not installed (apt-get install docker-compose)",
)
@pytest.mark.parametrize("env_source", ["none", "env.example", "generated", "celery"])
def test_docker_compose_config_is_valid(compose_dir, env_source, generated_env):
    if env_source == "env.example":
        shutil.copy(ENV_EXAMPLE, compose_dir / ".env")
    elif env_source == "generated":
        shutil.copy(generated_env, compose_dir / ".env")
    elif env_source == "celery":  # both profiles on, as docs/production.md says
        text = generated_env.read_text(encoding="utf-8")
        text = re.sub(r"^AIRFLOW_EXECUTOR=.*$", "AIRFLOW_EXECUTOR=CeleryExecutor", text, flags=re.M)
        text = re.sub(r"^COMPOSE_PROFILES=.*$", "COMPOSE_PROFILES=celery,flower", text, flags=re.M)
        (compose_dir / ".env").write_text(text, encoding="utf-8")
    result = compose_config(compose_dir)
    assert result.returncode == 0, result.stderr
    assert "is not set" not in result.stderr, result.stderr


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__, "-q"]))
