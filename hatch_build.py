"""Build hook: ship checks/ and reports/templates/ inside the wheel as kfstor/checks and kfstor/templates.

Only for regular wheels. Editable installs map just the kfstor package (dev-mode-exact) and
kfstor finds both folders beside itself in the source tree, so edits apply without reinstalling
and no generic top-level `checks` package is ever importable from site-packages.
"""

from __future__ import annotations

from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


class CustomBuildHook(BuildHookInterface):  # type: ignore[type-arg]
    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name == "wheel" and version == "standard":
            build_data["force_include"]["checks"] = "kfstor/checks"
            build_data["force_include"]["reports/templates"] = "kfstor/templates"
