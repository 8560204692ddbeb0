"""The JSON Schema of kfstor.yaml (kfstor/schema/kfstor-config-v1.json), made from the checks.

Editors (VS Code's YAML extension, JetBrains) use it for completion and to flag mistakes as they
type: add `# yaml-language-server: $schema=<path to the installed file>` to kfstor.yaml. The shipped
file is generated from the built-in checks (`python -m kfstor.engine.config_schema > FILE`); a test
keeps the two equal. kfstor itself validates more (engine/config.py: every check id, including
third-party ones, and every option type), so the schema lets unknown ids through as third-party.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from kfstor.model import CODE_PATTERN, Check

SCHEMA_ID = "kfstor.config/v1"
ID_PATTERN = "^[a-z][a-z0-9_]*$"


def _option(default: Any) -> dict[str, Any]:
    if isinstance(default, bool):
        kind: dict[str, Any] = {"type": "boolean"}
    elif isinstance(default, int):
        kind = {"type": "integer"}
    elif isinstance(default, float):
        kind = {"type": "number"}
    elif isinstance(default, str):
        kind = {"type": "string"}
    elif isinstance(default, (list, tuple)):
        kind = {"type": "array"}
    elif isinstance(default, dict):
        kind = {"type": "object"}
    else:
        kind = {}
    return {**kind, "default": default} if default is not None else kind


def _settings(options: dict[str, Any] | None, minimums: dict[str, int | float] | None = None) -> dict[str, Any]:
    status = {
        "description": "off | warn | fail: turn the check off, cap failures at warn, or raise warnings to fail",
        "enum": ["off", "warn", "fail", False],
    }
    option_schema: dict[str, Any] = {"type": "object"}
    if options is not None:
        option_schema = {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                name: {**_option(default), **({"minimum": minimums[name]} if minimums and name in minimums else {})}
                for name, default in sorted(options.items())
            },
        }
    return {
        "type": ["object", "null"],
        "additionalProperties": False,
        "properties": {"status": status, "options": option_schema},
    }


def schema(checks: Sequence[Check]) -> dict[str, Any]:
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "kfstor.yaml: kfstor's configuration",
        "type": ["object", "null"],
        "additionalProperties": False,
        "properties": {
            "namespace": {"type": "string", "minLength": 1, "description": "Kubeflow's namespace"},
            "checks": {
                "type": ["object", "null"],
                "description": "per-check settings, by check id (see `kfstor checks`)",
                "propertyNames": {"pattern": ID_PATTERN},
                "properties": {
                    c.id: {**_settings(dict(c.options), dict(c.option_minimums)), "description": c.title}
                    for c in checks
                },
                "additionalProperties": _settings(None),
            },
            "waivers": {
                "type": ["array", "null"],
                "items": {
                    "type": "object",
                    "description": "a check and an object, or a problem code (with or without an object)",
                    "anyOf": [{"required": ["check", "object", "reason"]}, {"required": ["code", "reason"]}],
                    "additionalProperties": False,
                    "properties": {
                        "check": {"type": "string", "pattern": ID_PATTERN, "examples": [c.id for c in checks]},
                        "code": _code(checks),
                        "object": _object(),
                        "reason": {"type": "string", "minLength": 1},
                        "expires": {"type": "string", "format": "date", "description": "YYYY-MM-DD"},
                    },
                },
            },
            "overrides": {
                "type": ["array", "null"],
                "description": "the status of one problem code, on every object or on one",
                "items": {
                    "type": "object",
                    "required": ["code", "status"],
                    "additionalProperties": False,
                    "properties": {
                        "code": _code(checks),
                        "status": {"enum": ["off", "warn", "fail", False]},
                        "object": _object(),
                    },
                },
            },
        },
    }


def _code(checks: Sequence[Check]) -> dict[str, Any]:
    return {
        "type": "string",
        "pattern": CODE_PATTERN,
        "description": "a problem code (see `kfstor explain`)",
        "examples": sorted(code.id for c in checks for code in c.codes),
    }


def _object() -> dict[str, Any]:
    return {
        "type": "string",
        "minLength": 1,
        "description": "as printed in reports: Kind/namespace/name, Kind/name or cluster",
    }


def render(checks: Sequence[Check]) -> str:
    return json.dumps(schema(checks), indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    from kfstor.engine.loader import load_checks

    print(render(load_checks(include_plugins=False).checks), end="")
