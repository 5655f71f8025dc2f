"""Load a Compose file the way ``docker compose config`` does, without Docker: YAML (merge keys included),
interpolation, the Compose Specification's JSON schema, then compose-go's consistency checks."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator

HERE = Path(__file__).parent
SCHEMA = HERE / "compose-spec.json"  # compose-go's, unchanged: see compose-spec.NOTICE
NAME = re.compile(r"[_a-zA-Z][_a-zA-Z0-9]*")
DURATION = re.compile(r"(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+")  # Go's time.ParseDuration


class ComposeError(ValueError):
    """What ``docker compose config`` would refuse, in its words where it has some."""


def interpolate(text: str, env: Mapping[str, str]) -> str:
    """``$$``, ``$VAR``, ``${VAR}``, ``${VAR:-default}``, ``${VAR-default}``, ``${VAR:?err}``, ``${VAR?err}``,
    ``${VAR:+alt}``, ``${VAR+alt}``, nested (the Compose Specification's "Interpolation")."""
    out, i = [], 0
    while i < len(text):
        if text[i] != "$":
            out.append(text[i])
            i += 1
        elif text.startswith("$$", i):
            out.append("$")
            i += 2
        elif text.startswith("${", i):
            end = _closing(text, i + 2)
            out.append(_braced(text[i + 2:end], env))
            i = end + 1
        elif match := NAME.match(text, i + 1):
            out.append(env.get(match[0], ""))
            i = match.end()
        else:
            out.append("$")
            i += 1
    return "".join(out)


def _closing(text: str, start: int) -> int:
    depth = 1
    for j in range(start, len(text)):
        if text.startswith("${", j):
            depth += 1
        elif text[j] == "}":
            depth -= 1
            if depth == 0:
                return j
    raise ComposeError(f"invalid interpolation format for {text!r}: no closing brace")


def _braced(body: str, env: Mapping[str, str]) -> str:
    name = NAME.match(body)
    if name is None:
        raise ComposeError(f"invalid interpolation format: ${{{body}}}")
    var, rest = name[0], body[name.end():]
    value = env.get(var)
    for op in (":-", ":?", ":+", "-", "?", "+"):
        if rest.startswith(op):
            arg, strict = rest[len(op):], op.startswith(":")
            present = value is not None and (value != "" or not strict)
            if op.endswith("-"):
                return value if present and value is not None else interpolate(arg, env)
            if op.endswith("?"):
                if not present or value is None:
                    raise ComposeError(f"required variable {var} is missing a value: {interpolate(arg, env)}")
                return value
            return interpolate(arg, env) if present else ""
    if rest:
        raise ComposeError(f"invalid interpolation format: ${{{body}}}")
    return value or ""


def _interpolate_tree(node: Any, env: Mapping[str, str]) -> Any:
    """Values only, never keys (the spec's rule)."""
    if isinstance(node, dict):
        return {key: _interpolate_tree(value, env) for key, value in node.items()}
    if isinstance(node, list):
        return [_interpolate_tree(value, env) for value in node]
    return interpolate(node, env) if isinstance(node, str) else node


def load(path: Path, env: Mapping[str, str]) -> dict[str, Any]:
    """The interpolated model, once it passes the schema and the consistency checks."""
    raw = yaml.safe_load(path.read_text())
    if not isinstance(raw, dict):
        raise ComposeError("top-level object must be a mapping")
    model: dict[str, Any] = _interpolate_tree(raw, env)
    validator = Draft202012Validator(json.loads(SCHEMA.read_text()))
    errors = sorted(validator.iter_errors(model), key=lambda e: list(e.absolute_path))
    if errors:
        raise ComposeError("; ".join(f"{'.'.join(map(str, e.absolute_path))}: {e.message}" for e in errors))
    _check_consistency(model)
    return model


def _check_consistency(model: dict[str, Any]) -> None:
    """The checks compose-go's loader/validate.go makes after the schema, for what this file uses."""
    services: dict[str, Any] = model.get("services") or {}
    volumes = set(model.get("volumes") or {})
    networks = set(model.get("networks") or {}) | {"default"}
    for name, service in services.items():
        if "image" not in service and "build" not in service:
            raise ComposeError(f"service {name!r} has neither an image nor a build context specified")
        test = (service.get("healthcheck") or {}).get("test")
        if isinstance(test, list) and test and test[0] not in ("CMD", "CMD-SHELL", "NONE"):
            raise ComposeError('healthcheck.test must start either by "CMD", "CMD-SHELL" or "NONE"')
        for key in ("interval", "timeout", "start_period", "start_interval"):
            value = (service.get("healthcheck") or {}).get(key)
            if value is not None and not DURATION.fullmatch(value):
                raise ComposeError(f"services.{name}.healthcheck.{key}: not a duration: {value!r}")
        for other in dependencies(service):
            if other not in services:
                raise ComposeError(f"service {name!r} depends on undefined service {other!r}")
        for network in service.get("networks") or ():
            if network not in networks:
                raise ComposeError(f"service {name!r} refers to undefined network {network}")
        for mount in service.get("volumes") or ():
            source = mount.split(":")[0] if isinstance(mount, str) else mount.get("source", "")
            if source and not source.startswith((".", "/", "~")) and source not in volumes:
                raise ComposeError(f"service {name!r} refers to undefined volume {source}")
        if "container_name" in service and (service.get("deploy") or {}).get("replicas", 1) > 1:
            raise ComposeError(f"services.{name}: can't set container_name and replicas > 1")


def dependencies(service: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """``depends_on`` in its long form, whichever form the file used."""
    deps = service.get("depends_on") or {}
    if isinstance(deps, list):
        return {name: {"condition": "service_started"} for name in deps}
    return dict(deps)


def environment(service: Mapping[str, Any], env: Mapping[str, str]) -> dict[str, str]:
    """The container's variables: a name given without a value is taken from .env/the shell, or left out."""
    declared = service.get("environment") or {}
    if isinstance(declared, list):
        declared = dict(item.split("=", 1) if "=" in item else (item, None) for item in declared)
    resolved = {}
    for key, value in declared.items():
        if value is None:
            if key in env:
                resolved[key] = env[key]
        else:
            resolved[key] = str(value).lower() if isinstance(value, bool) else str(value)
    return resolved
