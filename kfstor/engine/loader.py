"""Finding checks: the built-in folder, the `kfstor.checks` entry point group, and --checks-dir.

A broken built-in check is a bug in kfstor and stops the run; a broken third-party or drop-in
check is reported as a load problem and the other checks still run.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from importlib.metadata import entry_points
from pathlib import Path
from types import ModuleType

from kfstor.model import Check, one_line
from kfstor.resources import resource_dir

ENTRY_POINT_GROUP = "kfstor.checks"
ID_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")


class CheckLoadError(Exception):
    pass


@dataclass(frozen=True, slots=True)
class LoadProblem:
    origin: str  # "entry point acme_pvc = acme.pvc:CHECK" or a file path
    message: str


@dataclass(frozen=True, slots=True)
class Loaded:
    checks: tuple[Check, ...]
    problems: tuple[LoadProblem, ...]


def builtin_dir() -> Path:
    return resource_dir("checks", "checks")


def _import_file(path: Path, module_name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise CheckLoadError(f"{path}: cannot be imported")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except Exception:
        sys.modules.pop(module_name, None)
        raise
    return module


def validate(check: object, origin: str, expected_id: str | None = None) -> Check:
    if not isinstance(check, Check):
        raise CheckLoadError(f"{origin}: CHECK is a {type(check).__name__}, not a kfstor.Check")
    if not ID_PATTERN.match(check.id):
        raise CheckLoadError(f"{origin}: check id {check.id!r} must be snake_case ([a-z][a-z0-9_]*)")
    if expected_id is not None and check.id != expected_id:
        raise CheckLoadError(f"{origin}: check id {check.id!r} must equal its module name {expected_id!r}")
    if not callable(check.evaluate):
        raise CheckLoadError(f"{origin}: evaluate is not callable")
    for field_name in ("title", "description", "remediation"):
        if not str(getattr(check, field_name)).strip():
            raise CheckLoadError(f"{origin}: {field_name} is empty")
    if not check.kinds:
        raise CheckLoadError(f"{origin}: kinds is empty")
    return check


def _load_folder(folder: Path, package: str, origin: str) -> tuple[list[Check], list[LoadProblem]]:
    checks: list[Check] = []
    problems: list[LoadProblem] = []
    for path in sorted(folder.glob("*.py")):
        if path.name.startswith("_"):
            continue
        module_id = path.stem
        try:
            module = _import_file(path, f"{package}.{module_id}")
            check = validate(getattr(module, "CHECK", None), str(path), expected_id=module_id)
            checks.append(replace(check, origin=origin))
        except Exception as exc:  # a drop-in check may fail in any way; report it
            if origin == "builtin":
                raise CheckLoadError(f"built-in check {path.name} is broken: {exc}") from exc
            problems.append(LoadProblem(str(path), _one_line(exc)))
    return checks, problems


def _load_entry_points() -> tuple[list[Check], list[LoadProblem]]:
    checks: list[Check] = []
    problems: list[LoadProblem] = []
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        origin = f"entry point {ep.name} = {ep.value}"
        try:
            loaded = ep.load()
            check = validate(loaded, origin)
            dist = getattr(ep, "dist", None)
            checks.append(replace(check, origin=f"plugin {dist.name if dist else ep.value}"))
        except Exception as exc:
            problems.append(LoadProblem(origin, _one_line(exc)))
    return checks, problems


def _one_line(exc: BaseException) -> str:
    text = one_line(exc, limit=1000) or type(exc).__name__
    return f"{type(exc).__name__}: {text}" if not isinstance(exc, CheckLoadError) else text


def load_checks(checks_dirs: Sequence[Path] = (), include_plugins: bool = True) -> Loaded:
    checks, problems = _load_folder(builtin_dir(), "kfstor.checks", "builtin")
    if include_plugins:
        more, more_problems = _load_entry_points()
        checks += more
        problems += more_problems
    for folder in checks_dirs:
        if not folder.is_dir():
            raise CheckLoadError(f"--checks-dir {folder}: not a directory")
        more, more_problems = _load_folder(folder, f"kfstor_local_checks_{abs(hash(str(folder)))}", f"dir {folder}")
        checks += more
        problems += more_problems
    return Loaded(tuple(_unique(checks, problems)), tuple(problems))


def _unique(checks: Iterable[Check], problems: list[LoadProblem]) -> list[Check]:
    seen: dict[str, Check] = {}
    for check in checks:
        if check.id in seen:
            problems.append(
                LoadProblem(check.origin, f"check id {check.id!r} already defined by {seen[check.id].origin}")
            )
            continue
        seen[check.id] = check
    return sorted(seen.values(), key=lambda c: c.id)


def did_you_mean(word: str, known: Iterable[str]) -> str:
    """ " (did you mean stateful_replication?)" for a close match, else ""."""
    import difflib

    close = difflib.get_close_matches(word, sorted(known), n=1, cutoff=0.6)
    return f" (did you mean {close[0]}?)" if close else ""


def select(checks: Sequence[Check], only: Sequence[str], skip: Sequence[str]) -> list[Check]:
    known = {c.id for c in checks}
    unknown = [i for i in dict.fromkeys((*only, *skip)) if i not in known]
    if unknown:
        hints = "; ".join(f"{i}{did_you_mean(i, known)}" for i in unknown)
        raise CheckLoadError(f"unknown check id: {hints} (see `kfstor checks`)")
    chosen = [c for c in checks if (not only or c.id in only) and c.id not in skip]
    if not chosen:
        given = " ".join([*(f"--check {i}" for i in only), *(f"--skip {i}" for i in skip)])
        raise CheckLoadError(f"no check selected: {given} leaves none to run")
    return chosen
