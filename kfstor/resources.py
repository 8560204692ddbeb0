"""Where kfstor's shipped folders are: inside the wheel, or beside the package in a checkout.

The wheel carries checks/ and reports/templates/ as kfstor/checks and kfstor/templates
(hatch_build.py); an editable install or a source checkout finds them at the project root.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def resource_dir(installed: str, source: str) -> Path:
    """kfstor/<installed> in a wheel, else <project root>/<source>."""
    inside = PACKAGE_DIR / installed
    return inside if inside.is_dir() else PACKAGE_DIR.parent / source
