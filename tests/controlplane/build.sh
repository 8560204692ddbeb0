#!/usr/bin/env bash
# Build the kfstor-testcp multi-call binary (etcd + kube-apiserver) for the
# live tests, into a cache directory OUTSIDE the repository:
#
#   ${KFSTOR_CACHE:-$HOME/.cache/kfstor}/testcp-<k8sver>-<gover>-<sum12>/kfstor-testcp
#
# The key changes whenever the pinned Kubernetes release, the Go toolchain or
# the module graph (go.sum) changes, so a stale binary is never reused. When
# the binary already exists the build is skipped. The last line printed on
# stdout is always the binary's path; build chatter goes to stderr.
#
# A cold build takes minutes (it compiles all of kube-apiserver and etcd);
# tests/live/controlplane.py computes the same path (keep the two in sync).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"

if ! command -v go >/dev/null 2>&1; then
    echo "build.sh: 'go' is not on PATH; cannot build kfstor-testcp" >&2
    exit 1
fi

# The Kubernetes version comes from the module graph itself, so go.mod is the
# only place it is pinned. Time is the release's tag time, used as buildDate
# so the binary is reproducible.
read -r k8s_version k8s_time < <(
    GOFLAGS=-mod=readonly go list -m \
        -f '{{.Version}} {{.Time.UTC.Format "2006-01-02T15:04:05Z"}}' k8s.io/kubernetes
)
if [[ ! "$k8s_version" =~ ^v1\.([0-9]+)\.[0-9]+$ ]]; then
    echo "build.sh: unexpected k8s.io/kubernetes version '$k8s_version'" >&2
    exit 1
fi
k8s_minor="${BASH_REMATCH[1]}"
go_version="$(go env GOVERSION)"
sum12="$(sha256sum go.sum | cut -c1-12)"

cache_root="${KFSTOR_CACHE:-$HOME/.cache/kfstor}"
out_dir="$cache_root/testcp-${k8s_version#v}-${go_version}-${sum12}"
out="$out_dir/kfstor-testcp"

if [[ -x "$out" ]]; then
    echo "build.sh: cached binary found, skipping build" >&2
    echo "$out"
    exit 0
fi

mkdir -p "$out_dir"
# Unique temporary name so concurrent builds never see a half-written binary;
# the rename below is atomic on the same filesystem.
tmp="$out.tmp.$$"
trap 'rm -f "$tmp"' EXIT

pkg=k8s.io/component-base/version
ldflags="-s -w"
ldflags+=" -X $pkg.gitVersion=$k8s_version"
ldflags+=" -X $pkg.gitMajor=1"
ldflags+=" -X $pkg.gitMinor=$k8s_minor"
ldflags+=" -X $pkg.gitTreeState=clean"
ldflags+=" -X $pkg.buildDate=$k8s_time"

echo "build.sh: building kfstor-testcp $k8s_version with $go_version (this takes minutes on a cold cache)" >&2
# -p 2: the machines have 2 cores; more parallelism only raises peak memory.
CGO_ENABLED=0 go build -p 2 -mod=readonly -trimpath -ldflags "$ldflags" -o "$tmp" . >&2
mv -f "$tmp" "$out"
trap - EXIT
echo "build.sh: built $out" >&2
echo "$out"
