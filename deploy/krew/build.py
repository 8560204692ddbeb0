"""Build the krew archive of kfstor: kubectl-kfstor.tar.gz, a `kubectl-kfstor` launcher and lib/.

    python deploy/krew/build.py --out dist/krew --uri https://<release host>/kubectl-kfstor.tar.gz

lib/ holds kfstor and its dependencies as pip installs them, without compiled extension modules
(every dependency kfstor uses has a pure-Python path), so the archive runs on any python3 >= 3.10
of Linux or macOS. The launcher puts lib/ first on sys.path and runs kfstor's CLI; kubectl finds
it as the plugin executable, so help and errors say `kubectl kfstor`. The manifest template
plugins/kfstor.yaml is written beside the archive with the URI, checksum and homepage filled in.
Dependencies come from the package index pip is configured with. (Not a zipapp: kfstor reads its
built-in checks and templates as files.)
"""

from __future__ import annotations

import argparse
import hashlib
import io
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
ARCHIVE = "kubectl-kfstor.tar.gz"
LAUNCHER = """#!/usr/bin/env python3
# kubectl-kfstor: runs kfstor from the lib/ folder beside this file (krew links to it: resolved).
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.realpath(__file__)), "lib"))
from kfstor.cli import main  # noqa: E402

main()
"""


def build_tree(work: Path) -> Path:
    wheels, tree = work / "wheels", work / "kubectl-kfstor"
    lib = tree / "lib"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(wheels), str(REPO)],
        check=True,
    )
    (kfstor_wheel,) = wheels.glob("kfstor-*.whl")
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-compile", "--target", str(lib), str(kfstor_wheel)],
        check=True,
    )
    for compiled in [*lib.rglob("*.so"), *lib.rglob("*.pyd")]:
        compiled.unlink()  # built for this machine's Python; the pure-Python fallbacks run anywhere
    shutil.rmtree(lib / "bin", ignore_errors=True)
    launcher = tree / "kubectl-kfstor"
    launcher.write_text(LAUNCHER, encoding="utf-8")
    launcher.chmod(0o755)
    shutil.copy(REPO / "README.md", tree / "README.md")
    return tree


def _add(tar: tarfile.TarFile, path: Path, name: str) -> None:
    info = tar.gettarinfo(str(path), arcname=name)
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    if path.is_file():
        with path.open("rb") as handle:
            tar.addfile(info, io.BytesIO(handle.read()))
    else:
        tar.addfile(info)


def build(out_dir: Path, uri: str, homepage: str) -> tuple[Path, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    archive = out_dir / ARCHIVE
    with tempfile.TemporaryDirectory(prefix="kfstor-krew-") as tmp:
        tree = build_tree(Path(tmp))
        with tarfile.open(archive, "w:gz") as tar:
            for path in sorted(tree.rglob("*")):
                _add(tar, path, str(path.relative_to(tree)))
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    manifest = (REPO / "plugins" / "kfstor.yaml").read_text(encoding="utf-8")
    manifest = manifest.replace("RELEASE_URI", uri).replace("RELEASE_SHA256", digest)
    manifest = manifest.replace("RELEASE_HOMEPAGE", homepage)
    manifest_path = out_dir / "kfstor.yaml"
    manifest_path.write_text(manifest, encoding="utf-8")
    return archive, manifest_path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=REPO / "dist" / "krew")
    parser.add_argument("--uri", required=True, help="where the release will serve kubectl-kfstor.tar.gz")
    parser.add_argument("--homepage", default="", help="the project's home page (default: the URI)")
    args = parser.parse_args()
    archive, manifest = build(args.out, args.uri, args.homepage or args.uri)
    print(f"{archive}\n{manifest}")


if __name__ == "__main__":
    main()
