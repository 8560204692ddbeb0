#!/usr/bin/env bash
# Build the simulated-node and CSI binaries of the live test cluster into a
# cache directory OUTSIDE the repository:
#
#   ${KFSTOR_CACHE:-$HOME/.cache/kfstor}/cluster-<gover>-<key12>/{kwok,kwok-stages,csi-provisioner,...}
#
# kwok and the three kubernetes-csi sidecars are built from their pinned release
# modules (go.mod's tool block); kfstor-csi and kwok-stages, our own, from their
# directories here. The key hashes go.mod, go.sum and every .go file here, so a
# changed pin or driver source is never served from a stale cache. When the
# directory is complete the build is skipped. The last line printed on stdout is
# always the directory's path. tests/live/cluster.py computes the same path
# (keep the two in sync).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"

if ! command -v go >/dev/null 2>&1; then
    echo "build.sh: 'go' is not on PATH; cannot build the test cluster's binaries" >&2
    exit 1
fi

# name|main package|module whose version is injected as main.version ("" = none)
components=(
    "kwok|sigs.k8s.io/kwok/cmd/kwok|"
    "csi-provisioner|github.com/kubernetes-csi/external-provisioner/v6/cmd/csi-provisioner|github.com/kubernetes-csi/external-provisioner/v6"
    "csi-attacher|github.com/kubernetes-csi/external-attacher/v4/cmd/csi-attacher|github.com/kubernetes-csi/external-attacher/v4"
    "csi-resizer|github.com/kubernetes-csi/external-resizer/v2/cmd/csi-resizer|github.com/kubernetes-csi/external-resizer/v2"
    "kfstor-csi|./kfstor-csi|"
    "kwok-stages|./kwok-stages|"
)

go_version="$(go env GOVERSION)"
# Same bytes as tests/live/cluster.py's cache_key(): go.mod, go.sum, then the
# .go files in byte order of their ./-relative paths.
key12="$(
    {
        cat go.mod go.sum
        LC_ALL=C find . -name '*.go' -type f | LC_ALL=C sort | while read -r f; do cat "$f"; done
    } | sha256sum | cut -c1-12
)"
cache_root="${KFSTOR_CACHE:-$HOME/.cache/kfstor}"
out_dir="$cache_root/cluster-${go_version}-${key12}"

complete=1
for c in "${components[@]}"; do
    [[ -x "$out_dir/${c%%|*}" ]] || complete=0
done
if [[ "$complete" == 1 ]]; then
    echo "build.sh: cached binaries found in $out_dir, skipping build" >&2
    echo "$out_dir"
    exit 0
fi

mkdir -p "$out_dir"
trap 'rm -f "$out_dir"/*.tmp.$$' EXIT
echo "build.sh: building kwok, the CSI sidecars and kfstor-csi with $go_version (minutes on a cold cache)" >&2
for c in "${components[@]}"; do
    IFS='|' read -r name pkg module <<<"$c"
    [[ -x "$out_dir/$name" ]] && continue
    ldflags="-s -w"
    if [[ -n "$module" ]]; then
        version="$(GOFLAGS=-mod=readonly go list -m -f '{{.Version}}' "$module")"
        ldflags+=" -X main.version=$version"
    fi
    # Unique temporary name, then an atomic rename: concurrent builds never
    # see a half-written binary.
    tmp="$out_dir/$name.tmp.$$"
    echo "build.sh: $name ($pkg)" >&2
    # -p 2: the machines have 2 cores; more parallelism only raises peak memory.
    CGO_ENABLED=0 go build -p 2 -mod=readonly -trimpath -ldflags "$ldflags" -o "$tmp" "$pkg" >&2
    mv -f "$tmp" "$out_dir/$name"
done
echo "build.sh: built $out_dir" >&2
echo "$out_dir"
