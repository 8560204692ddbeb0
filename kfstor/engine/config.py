"""kfstor.yaml: the Kubeflow namespace, per-check options, status overrides and waivers.

    namespace: kubeflow
    checks:
      stateful_replication:
        options: {min_replicas: 2}
      snapshot_support:
        status: off            # off | warn | fail
    waivers:
      - check: stateful_storage
        object: PersistentVolumeClaim/kubeflow/mysql-pv-claim
        reason: Retain is set on the bound PV by hand (TICKET-123)
        expires: 2027-03-31
      - code: KFS-DB-NO-EXPANSION       # a problem code: on every object, or on one with `object`
        reason: the databases are sized for three years (OPS-7)
    overrides:
      - code: KFS-SNAPSHOT-NO-CLASS     # off | warn | fail for one problem code (and one object)
        status: warn

Any problem is a ConfigError naming the file and the field; the CLI turns it into exit code 2.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kfstor.model import CODE_PATTERN, Check, Waiver

DEFAULT_FILE = "kfstor.yaml"
OVERRIDES = ("off", "warn", "fail")


class ConfigError(Exception):
    pass


@dataclass(frozen=True, slots=True)
class CheckConfig:
    status: str | None = None  # None | "off" | "warn" | "fail"
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CodeOverride:
    """A status override for one problem code, on every object or on one (`object` non-empty)."""

    code: str
    status: str  # "off" | "warn" | "fail"
    object: str = ""
    origin: str = "kfstor.yaml"  # where it came from, as the report's note says ("--skip")


@dataclass(frozen=True, slots=True)
class Config:
    namespace: str | None = None
    checks: Mapping[str, CheckConfig] = field(default_factory=dict)
    waivers: tuple[Waiver, ...] = ()
    path: str = ""
    overrides: tuple[CodeOverride, ...] = ()

    def for_check(self, check_id: str) -> CheckConfig:
        return self.checks.get(check_id, CheckConfig())

    def override_for(self, code: str, obj: str) -> CodeOverride | None:
        """The override for a finding: one naming its object outranks one for the whole code."""
        if not code:
            return None
        found = [o for o in self.overrides if o.code == code and o.object in ("", obj)]
        found.sort(key=lambda o: o.object == "")
        return found[0] if found else None


def parse_code_target(text: str) -> CodeOverride | None:
    """`--skip KFS-CODE` or `--skip KFS-CODE:Kind/namespace/name`: a code (and object) to turn off;
    None when `text` is not a code (then it is a check id). A colon with no object after it is an
    error: read as the whole code, it would silently turn the code off on every object."""
    code, colon, obj = text.partition(":")
    code = code.upper()  # as `kfstor explain` takes it: kfs-db-no-expansion is no check id either
    if not re.match(CODE_PATTERN, code):
        return None
    if colon and not obj.strip():
        raise ConfigError(
            f"--skip {text} names no object after the colon (--skip {code} turns the code off on every object, "
            f"--skip {code}:Kind/namespace/name on one)"
        )
    return CodeOverride(code=code, status="off", object=obj, origin=f"--skip {text}")


def did_you_mean_code(code: str, known: Sequence[str]) -> str:
    """` (did you mean KFS-X?)` for the closest known code, or "": compared without the `KFS-` every
    code shares, which would make any two codes look alike (KFS-NOPE is not KFS-RWX-NONE)."""
    hint = _did_you_mean(code.removeprefix("KFS-"), [k.removeprefix("KFS-") for k in known])
    return hint.replace("did you mean ", "did you mean KFS-") if hint else ""


def _fail(path: str, message: str) -> ConfigError:
    return ConfigError(f"{path}: {message}")


def _or_empty(value: Any, empty: Any) -> Any:
    """An absent (null) section is empty; an empty section of the wrong type (`checks: []`) is an
    error like a full one, never taken for "nothing configured"."""
    return empty if value is None else value


def parse(data: Any, path: str) -> Config:
    if data is None:
        return Config(path=path)
    if not isinstance(data, Mapping):
        raise _fail(path, "top level must be a mapping")
    unknown = set(data) - {"namespace", "checks", "waivers", "overrides"}
    if unknown:
        raise _fail(
            path,
            f"unknown key(s): {', '.join(sorted(map(str, unknown)))} (expected namespace, checks, waivers, overrides)",
        )

    namespace = data.get("namespace")
    if namespace is not None and (not isinstance(namespace, str) or not namespace):
        raise _fail(path, "namespace must be a non-empty string")

    checks: dict[str, CheckConfig] = {}
    raw_checks = _or_empty(data.get("checks"), {})
    if not isinstance(raw_checks, Mapping):
        raise _fail(path, "checks must be a mapping of check id to settings")
    for check_id, settings in raw_checks.items():
        checks[str(check_id)] = _parse_check(settings or {}, f"checks.{check_id}", path)

    raw_waivers = _or_empty(data.get("waivers"), [])
    if not isinstance(raw_waivers, list):
        raise _fail(path, "waivers must be a list")
    waivers = tuple(_parse_waiver(w, f"waivers[{i}]", path) for i, w in enumerate(raw_waivers))
    raw_overrides = _or_empty(data.get("overrides"), [])
    if not isinstance(raw_overrides, list):
        raise _fail(path, "overrides must be a list")
    overrides = tuple(_parse_override(o, f"overrides[{i}]", path) for i, o in enumerate(raw_overrides))
    return Config(namespace=namespace, checks=checks, waivers=waivers, path=path, overrides=overrides)


def _code(raw: Any, where: str, path: str) -> str:
    if not isinstance(raw, str) or not re.match(CODE_PATTERN, raw):
        raise _fail(path, f"{where}.code must be a problem code like KFS-DEFAULT-NONE (got {raw!r})")
    return raw


def _parse_override(raw: Any, where: str, path: str) -> CodeOverride:
    if not isinstance(raw, Mapping):
        raise _fail(path, f"{where} must be a mapping with code, status and optionally object")
    unknown = set(raw) - {"code", "status", "object"}
    if unknown:
        raise _fail(path, f"{where}: unknown key(s): {', '.join(sorted(map(str, unknown)))}")
    code = _code(raw.get("code"), where, path)
    status = raw.get("status")
    if status is False:  # YAML 1.1 reads a bare `off` as false
        status = "off"
    if status not in OVERRIDES:
        raise _fail(path, f"{where}.status must be one of off, warn, fail (got {status!r})")
    obj = raw.get("object") or ""
    if not isinstance(obj, str):
        raise _fail(path, f"{where}.object must be a string like PersistentVolumeClaim/kubeflow/mysql-pv-claim")
    return CodeOverride(code=code, status=status, object=obj, origin=f"{path}: {where}")


def _parse_check(settings: Any, where: str, path: str) -> CheckConfig:
    if not isinstance(settings, Mapping):
        raise _fail(path, f"{where} must be a mapping")
    unknown = set(settings) - {"status", "options"}
    if unknown:
        raise _fail(path, f"{where}: unknown key(s): {', '.join(sorted(map(str, unknown)))} (expected status, options)")
    status = settings.get("status")
    if status is False:  # YAML 1.1 reads a bare `off` as false
        status = "off"
    if status is not None and status not in OVERRIDES:
        raise _fail(path, f"{where}.status must be one of off, warn, fail (got {status!r})")
    options = settings.get("options") or {}
    if not isinstance(options, Mapping):
        raise _fail(path, f"{where}.options must be a mapping")
    return CheckConfig(status=status, options=dict(options))


def _parse_waiver(raw: Any, where: str, path: str) -> Waiver:
    if not isinstance(raw, Mapping):
        raise _fail(path, f"{where} must be a mapping with check or code, object, reason and expires")
    # A waiver names a check and an object, or a problem code (with or without an object).
    missing = [key for key in ("check", "object") if not raw.get(key)] if not raw.get("code") else []
    if not raw.get("reason"):
        missing.append("reason")
    if missing:
        raise _fail(path, f"{where} is missing {', '.join(missing)}")
    code = _code(raw["code"], where, path) if raw.get("code") else ""
    unknown = set(raw) - {"check", "code", "object", "reason", "expires"}
    if unknown:
        raise _fail(path, f"{where}: unknown key(s): {', '.join(sorted(map(str, unknown)))}")
    expires = raw.get("expires")
    if isinstance(expires, dt.datetime):
        expires = expires.date()
    elif isinstance(expires, str):
        try:
            expires = dt.date.fromisoformat(expires)
        except ValueError:
            raise _fail(path, f"{where}.expires must be a date like 2027-01-31 (got {expires!r})") from None
    elif expires is not None and not isinstance(expires, dt.date):
        raise _fail(path, f"{where}.expires must be a date like 2027-01-31")
    return Waiver(
        check=str(raw.get("check") or ""),
        object=str(raw.get("object") or ""),
        reason=str(raw["reason"]),
        expires=expires,
        code=code,
    )


def load(explicit: Path | None, cwd: Path | None = None) -> Config:
    """The --config file, else ./kfstor.yaml when present, else an empty config."""
    path = explicit if explicit is not None else (cwd or Path.cwd()) / DEFAULT_FILE
    if explicit is None and not path.exists():
        return Config()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    import yaml

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise ConfigError(f"{path}: invalid YAML{where}: {getattr(exc, 'problem', None) or exc}") from None
    return parse(data, str(path))


# ---------------------------------------------------------------------------------------------
# Against the loaded checks: ids and option types (the file alone cannot know them)


def _did_you_mean(word: str, known: Sequence[str]) -> str:
    import difflib

    close = difflib.get_close_matches(word, sorted(known), n=1, cutoff=0.6)
    return f" (did you mean {close[0]}?)" if close else ""


_TYPE_NAMES = {bool: "true or false", int: "an integer", float: "a number", str: "a string", list: "a list"}


def option_type_ok(default: Any, value: Any) -> bool:
    """Whether `value` may replace an option whose default is `default` (None: anything)."""
    if default is None:
        return True
    if isinstance(default, bool):
        return isinstance(value, bool)
    if isinstance(default, int):
        return isinstance(value, int) and not isinstance(value, bool)
    if isinstance(default, float):
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if isinstance(default, Mapping):
        return isinstance(value, Mapping)
    return isinstance(value, type(default))


def validate(config: Config, checks: Sequence[Check]) -> None:
    """Every check id the config names exists, every option is known and of its default's type.
    Raises ConfigError naming the file, the field and a close match."""
    by_id = {c.id: c for c in checks}
    path = config.path or DEFAULT_FILE
    for check_id, settings in config.checks.items():
        where = f"checks.{check_id}"
        check = by_id.get(check_id)
        if check is None:
            hint = _did_you_mean(check_id, list(by_id))
            raise _fail(path, f"{where}: unknown check id {check_id!r}{hint} (see `kfstor checks`)")
        for name, value in settings.options.items():
            if name not in check.options:
                known = ", ".join(sorted(check.options)) or "none"
                hint = _did_you_mean(name, list(check.options))
                raise _fail(path, f"{where}.options.{name}: unknown option{hint} (known: {known})")
            default = check.options[name]
            if not option_type_ok(default, value):
                expected = _TYPE_NAMES.get(type(default), type(default).__name__)
                shown = f"like the default {default!r} (got {value!r})"
                raise _fail(path, f"{where}.options.{name} must be {expected}, {shown}")
            minimum = check.option_minimums.get(name)
            if minimum is not None and value < minimum:
                raise _fail(path, f"{where}.options.{name} must be at least {minimum} (got {value!r})")
    codes = {code.id: check.id for check in checks for code in check.codes}
    for index, waiver in enumerate(config.waivers):
        if waiver.check and waiver.check not in by_id:
            hint = _did_you_mean(waiver.check, list(by_id))
            raise _fail(path, f"waivers[{index}].check: unknown check id {waiver.check!r}{hint} (see `kfstor checks`)")
        if waiver.code and waiver.code not in codes:
            hint = did_you_mean_code(waiver.code, list(codes))
            raise _fail(path, f"waivers[{index}].code: unknown problem code {waiver.code}{hint} (see `kfstor explain`)")
        if waiver.check and waiver.code and codes[waiver.code] != waiver.check:
            raise _fail(
                path, f"waivers[{index}]: {waiver.code} is a code of {codes[waiver.code]}, not of {waiver.check}"
            )
    for index, override in enumerate(config.overrides):
        if override.code not in codes:
            hint = did_you_mean_code(override.code, list(codes))
            raise _fail(
                path, f"overrides[{index}].code: unknown problem code {override.code}{hint} (see `kfstor explain`)"
            )
