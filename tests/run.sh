#!/usr/bin/env bash
# The project's test command (README): installs kfstor with its test dependencies, builds or
# reuses the test cluster's binaries (cached outside the repo), lints, and runs the whole pytest
# suite. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -m pip install --quiet --disable-pip-version-check -e '.[test]'

# tests/live/test_live_html.py opens the HTML report in Debian's Chromium (driven by the playwright
# package from the test extras, which never downloads a browser of its own). Installed when we can.
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium
  else
    echo "tests/run.sh: no chromium (install Debian's chromium package); the browser test will be skipped" >&2
  fi
fi

# tests/test_html_browser.py reads the printed PDF back with poppler's pdftotext and pdfinfo.
if ! command -v pdftotext >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq poppler-utils
  else
    echo "tests/run.sh: no pdftotext (install Debian's poppler-utils); the PDF test will be skipped" >&2
  fi
fi

# The live suite needs a Go toolchain to build its binaries once; the fixtures find the caches.
# tests/controlplane: etcd, kube-apiserver, kube-controller-manager, kube-scheduler (one binary);
# tests/cluster: kwok, the CSI sidecars and the kfstor-csi driver of the full test cluster.
if [ -z "${KFSTOR_TESTCP:-}" ] && [ -z "${KUBEBUILDER_ASSETS:-}" ] && command -v go >/dev/null 2>&1 \
   && [ -x tests/controlplane/build.sh ]; then
  KFSTOR_TESTCP="$(bash tests/controlplane/build.sh | tail -n 1)"
  export KFSTOR_TESTCP
fi
if [ -z "${KFSTOR_CLUSTER_BIN:-}" ] && command -v go >/dev/null 2>&1 && [ -x tests/cluster/build.sh ]; then
  KFSTOR_CLUSTER_BIN="$(bash tests/cluster/build.sh | tail -n 1)"
  export KFSTOR_CLUSTER_BIN
fi

python3 -m ruff check kfstor checks tests benchmarks deploy hatch_build.py
python3 -m ruff format --check kfstor checks tests benchmarks deploy hatch_build.py
python3 -m mypy

status=0
python3 -m pytest "$@" || status=$?
if [ "$status" -eq 5 ]; then
  echo "pytest collected no tests" >&2
  exit 1
fi
exit "$status"
