"""compose.yaml is what an operator runs: valid for ``docker compose``, and every command, variable and
health check in it is one Studiobot really has."""

from __future__ import annotations

import os
import re
import secrets
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import typer
import yaml
from pydantic import SecretStr

from bots.cli import app
from bots.run import plan
from core.settings import Settings
from tests.deploy.compose import ComposeError, dependencies, environment, load

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "compose.yaml"
EXAMPLE = ROOT / ".env.example"
REQUIRED = ("POSTGRES_PASSWORD", "DISCORD_TOKEN", "SLACK_SIGNING_SECRET")


def example_names() -> list[str]:
    """Every variable .env.example mentions, filled in or commented out."""
    return re.findall(r"^#? ?([A-Z][A-Z0-9_]*)=", EXAMPLE.read_text(), re.MULTILINE)


def canaries() -> dict[str, str]:
    """A distinct, recognisable value for every variable, as a filled-in .env would give."""
    values = {name: f"canary{secrets.token_hex(4)}" for name in example_names()}
    return values | {"STUDIOBOT_DISCORD_SHARDS": "0-3/8", "STUDIOBOT_SLACK_REDIRECT_URI": "https://bot.example/r"}


def env_names() -> dict[str, str]:
    """Each environment variable Settings reads, and its field."""
    names = {}
    for field, info in Settings.model_fields.items():
        choices = getattr(info.validation_alias, "choices", None)
        for name in choices or [f"STUDIOBOT_{field.upper()}"]:
            if isinstance(name, str) and name.isupper():
                names[name] = field
    return names


def studiobot_services(model: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The services built from this repository's Dockerfile."""
    return {name: s for name, s in model["services"].items() if "build" in s}


def settings_in(service: dict[str, Any], env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The Settings the container would build: its environment and nothing of this machine's."""
    for name in env_names():
        monkeypatch.delenv(name, raising=False)
    for key, value in environment(service, env).items():
        monkeypatch.setenv(key, value)
    return Settings(_env_file=None)  # type: ignore[call-arg]


@pytest.fixture
def env() -> dict[str, str]:
    return canaries()


@pytest.fixture
def model(env: dict[str, str]) -> dict[str, Any]:
    return load(COMPOSE, env)


def test_compose_yaml_passes_the_compose_specification(model: dict[str, Any]) -> None:
    assert {"postgres", "migrate", "discord", "slack", "worker"} <= set(model["services"])


def test_the_validator_refuses_what_docker_compose_refuses(env: dict[str, str], tmp_path: Path) -> None:
    """Each mutation is one docker compose rejects; a validator that let them through would prove nothing."""
    text = COMPOSE.read_text()
    broken = {
        "condition: service_healthy": "condition: service_healthyy",  # not in the schema's enum
        "restart: unless-stopped": "restart: [unless-stopped]",  # wrong type
        "stop_grace_period: 40s": "stop_grace_peroid: 40s",  # unknown key
        "pgdata:/var/lib": "pgdatum:/var/lib",  # undefined named volume
        "interval: 30s": "interval: thirty",  # not a duration
        "postgres:\n      condition": "postgress:\n      condition",  # undefined service
    }
    for good, bad in broken.items():
        assert good in text, good
        mutated = tmp_path / "compose.yaml"
        mutated.write_text(text.replace(good, bad, 1))
        with pytest.raises(ComposeError):
            load(mutated, env)


def test_a_missing_secret_stops_compose_and_names_it(env: dict[str, str]) -> None:
    for name in REQUIRED:
        with pytest.raises(ComposeError, match=rf"{name} .*\.env"):
            load(COMPOSE, {k: v for k, v in env.items() if k != name})
        with pytest.raises(ComposeError, match=name):
            load(COMPOSE, env | {name: ""})  # `${NAME:?}`: empty counts as missing


def compose_cli() -> list[str] | None:
    """The real tool: the docker compose plugin, or Debian's docker-compose that .ci/run installs."""
    docker = shutil.which("docker")
    if docker and subprocess.run([docker, "compose", "version"], capture_output=True).returncode == 0:
        return [docker, "compose"]
    legacy = shutil.which("docker-compose")
    return [legacy] if legacy else None


def test_docker_compose_config_accepts_it(env: dict[str, str], model: dict[str, Any], tmp_path: Path) -> None:
    tool = compose_cli()
    if tool is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI must check compose.yaml with the real tool: .ci/run installs docker-compose")
        pytest.skip("neither `docker compose` nor `docker-compose` is installed")
    dotenv = tmp_path / ".env"
    dotenv.write_text("".join(f"{k}={v}\n" for k, v in env.items()))
    run = [*tool, "--project-directory", str(tmp_path), "--env-file", str(dotenv), "-f", str(COMPOSE), "config"]
    clean = {k: v for k, v in os.environ.items()  # none of this machine's settings, nor our Python's path
             if k not in env and k not in env_names() and k not in ("PYTHONPATH", "PYTHONHOME")}
    done = subprocess.run(run, capture_output=True, text=True, env=clean, timeout=60)
    assert done.returncode == 0, done.stderr
    theirs = yaml.safe_load(done.stdout)["services"]
    assert set(theirs) == set(model["services"])
    for name, service in model["services"].items():  # their interpolation and ours agree
        assert environment(theirs[name], env) == environment(service, env), name
        assert theirs[name].get("command") == service.get("command"), name

    dotenv.write_text("".join(f"{k}={v}\n" for k, v in env.items() if k != "DISCORD_TOKEN"))
    missing = subprocess.run(run, capture_output=True, text=True, env=clean, timeout=60)
    assert missing.returncode != 0
    assert "DISCORD_TOKEN" in missing.stderr


def parse_cli(words: list[str], *, whole: bool = True) -> None:
    """Parse a ``studiobot`` command line as the CLI would, without running it: unknown commands, unknown
    options and bad values raise. Not ``whole``: a command named in prose, its arguments left out."""
    command: Any = typer.main.get_command(app)
    rest = list(words)
    while rest and hasattr(command, "commands") and rest[0] in command.commands:
        command = command.commands[rest.pop(0)]
    assert not hasattr(command, "commands"), f"`studiobot {' '.join(words)}` is no command"
    if whole or rest:
        command.make_context("studiobot", rest)


def test_every_service_runs_a_command_the_cli_has(model: dict[str, Any]) -> None:
    for service in studiobot_services(model).values():
        parse_cli(service["command"])
    commands = {s["command"][0] for s in studiobot_services(model).values()}
    assert {"run", "worker", "db"} <= commands


def test_the_readme_runs_what_compose_yaml_has(model: dict[str, Any]) -> None:
    """README "Running at scale": its studiobot and docker compose lines name real commands and services."""
    text = (ROOT / "README.md").read_text()
    start = text.index("## Running at scale")
    section = text[start:text.index("\n## ", start + 5)]
    blocks = [line.split("#")[0].strip() for block in re.findall(r"```bash\n(.*?)```", section, re.DOTALL)
              for line in block.splitlines()]
    prose = re.findall(r"`((?:studiobot|docker compose) [^`]+)`", section)
    for line, whole in [(line, True) for line in blocks] + [(line, False) for line in prose]:
        words = line.split()
        if words[0] == "studiobot" and "[" not in line:  # `studiobot worker [--concurrency N]` is a synopsis
            parse_cli(words[1:], whole=whole)
        elif words[:3] in (["docker", "compose", "run"], ["docker", "compose", "exec"]):
            service = next(w for w in words[3:] if w in model["services"])
            if service != "postgres":
                parse_cli(words[words.index(service) + 1:])
        elif words[:2] == ["docker", "compose"]:
            assert all(w.split("=")[0] in model["services"] for w in words if w.startswith("worker"))
    assert any(line.startswith("docker compose up") for line in blocks)


def test_every_variable_is_a_setting_and_each_service_gets_only_its_platform(
    model: dict[str, Any], env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    known = env_names()
    for name, service in studiobot_services(model).items():
        unknown = set(environment(service, env)) - set(known)
        assert not unknown, f"{name}: {unknown} are not settings (core/settings.py)"
        settings = settings_in(service, env, monkeypatch)
        assert settings.database_url_value == f"postgresql://studiobot:{env['POSTGRES_PASSWORD']}@postgres:5432/studiobot"
    services = model["services"]
    started = {name: [spec.name for spec, missing in plan(settings_in(services[name], env, monkeypatch)) if not missing]
               for name in ("discord", "slack", "worker")}
    assert started == {"discord": ["Discord"], "slack": ["Slack"], "worker": ["Discord", "Slack"]}
    slack = settings_in(services["slack"], env, monkeypatch)
    assert slack.slack_app_token is None and slack.slack_oauth  # HTTP mode, installed through OAuth
    assert [f"{slack.slack_port}:{slack.slack_port}"] == [str(p) for p in services["slack"]["ports"]]
    assert settings_in(services["discord"], env, monkeypatch).discord_shards == "0-3/8"

    without = {k: v for k, v in env.items() if k in REQUIRED}  # a .env with only what is required
    for name in ("discord", "slack", "worker", "migrate"):
        settings_in(services[name], without, monkeypatch)  # optional names left out, not set to ""


def test_no_secret_is_written_in_the_file(model: dict[str, Any], env: dict[str, str],
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """Every secret a service ends up with came from .env: with canaries there, only canaries appear."""
    for name, service in studiobot_services(model).items():
        values = [v for v in vars(settings_in(service, env, monkeypatch)).values() if isinstance(v, SecretStr)]
        assert values, name
        for value in values:
            assert any(c in value.get_secret_value() for c in env.values()), f"{name}: a secret not from .env"
    assert model["services"]["postgres"]["environment"]["POSTGRES_PASSWORD"] == env["POSTGRES_PASSWORD"]
    text = COMPOSE.read_text() + EXAMPLE.read_text()
    assert not re.search(r"xox[abp]-|xapp-|AIza|[MN][A-Za-z\d_-]{23,}\.[\w-]{6}\.[\w-]{27}|://[^:/\s]+:[^@$\s]+@", text)
    assert not re.search(r"^[A-Z_]+=\S", EXAMPLE.read_text(), re.MULTILINE), "the example is filled in"
    assert {n for n in re.findall(r"\$\{?([A-Z_]+)", COMPOSE.read_text())} <= set(example_names())
    passed_through = {k for s in model["services"].values() for k, v in (s.get("environment") or {}).items()
                      if v is None}
    assert passed_through <= set(example_names())


def test_postgres_is_the_one_store_and_everything_waits_for_it(model: dict[str, Any]) -> None:
    services = model["services"]
    postgres = services["postgres"]
    assert re.fullmatch(r"postgres:\d+", postgres["image"])  # the official image, a pinned major version
    assert "pgdata:/var/lib/postgresql/data" in postgres["volumes"] and "pgdata" in model["volumes"]
    assert postgres["healthcheck"]["test"][:2] == ["CMD", "pg_isready"]
    # room for twice the workers at about 20 connections per Studiobot process (README: Sizing)
    processes = sum(2 * (s.get("deploy") or {}).get("replicas", 1) if s["command"][0] == "worker" else 1
                    for s in studiobot_services(model).values())
    max_connections = int(postgres["command"][postgres["command"].index("-c") + 1].removeprefix("max_connections="))
    assert max_connections >= 20 * processes

    migrate = services["migrate"]
    assert migrate["command"] == ["db", "upgrade"] and migrate["restart"] == "no"
    assert dependencies(migrate) == {"postgres": {"condition": "service_healthy"}}
    for name, service in studiobot_services(model).items():
        if name == "migrate":
            continue
        assert dependencies(service) == {"postgres": {"condition": "service_healthy"},
                                         "migrate": {"condition": "service_completed_successfully"}}, name
        assert service["restart"] in ("unless-stopped", "always"), name
        assert service["build"] == "." and service["init"] is True, name
        grace = Settings.model_fields["shutdown_grace_s"].default
        assert int(service["stop_grace_period"].removesuffix("s")) > grace, name  # docker's 10 s would cut it
        check = " ".join(service["healthcheck"]["test"])
        assert service["healthcheck"]["test"][0] == "CMD" and "/readyz" in check and "STUDIOBOT_METRICS_PORT" in check
    workers = [s for s in services.values() if s.get("command", [None])[0] == "worker"]
    assert sum((s.get("deploy") or {}).get("replicas", 1) for s in workers) == 2
