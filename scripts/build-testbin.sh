#!/usr/bin/env bash
# Builds the real control-plane binaries (etcd, kube-apiserver, kube-controller-manager,
# kube-scheduler, kubectl, kwok, helm) and the image-build tools (buildctl, buildkitd, and the
# distribution `registry`) from the Go module proxy at pinned versions into a
# version-keyed cache outside the repository. Already-built tools are skipped.
#
#   scripts/build-testbin.sh            build whatever is missing, print the bin directory
#   KAIR_BIN_CACHE=/path scripts/...    use another cache root
set -euo pipefail

K8S_VERSION=${K8S_VERSION:-1.34.4}
ETCD_VERSION=${ETCD_VERSION:-3.6.14}
KWOK_VERSION=${KWOK_VERSION:-0.8.0}
HELM_VERSION=${HELM_VERSION:-3.22.0}
BUILDKIT_VERSION=${BUILDKIT_VERSION:-0.34.2}
REGISTRY_VERSION=${REGISTRY_VERSION:-3.1.2}

CACHE=${KAIR_BIN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kubeairunway/bin}
LOG_DIR="$CACHE/logs"
mkdir -p "$CACHE" "$LOG_DIR"

say() { printf '[testbin] %s\n' "$*" >&2; }
die() { printf '[testbin] error: %s\n' "$*" >&2; exit 1; }

command -v go >/dev/null 2>&1 || die "Go is not installed (needed only to build the local control plane). Install Go >= 1.24 and retry."

export CGO_ENABLED=0 GOFLAGS=-buildvcs=false GOTOOLCHAIN=local

# build_step NAME DIR FUNC: runs FUNC unless DIR/.done exists; output goes to a log file.
build_step() {
  local name=$1 dir=$2 fn=$3
  if [[ -f "$dir/.done" ]]; then
    say "$name: cached in $dir"
    return 0
  fi
  local log="$LOG_DIR/$name.log" start=$SECONDS
  say "$name: building (log: $log) ..."
  rm -rf "$dir.tmp" && mkdir -p "$dir.tmp"
  if ! ( "$fn" "$dir.tmp" ) >"$log" 2>&1; then
    tail -n 30 "$log" >&2
    die "$name: build failed; full log in $log"
  fi
  rm -rf "$dir" && mv "$dir.tmp" "$dir" && touch "$dir/.done"
  say "$name: built in $((SECONDS - start))s"
}

scratch_module() { local w; w=$(mktemp -d); cd "$w"; go mod init "kubeairunway.local/$1" >/dev/null 2>&1; }

build_kubernetes() {
  local out=$1 k=$K8S_VERSION s=0.${K8S_VERSION#1.}
  scratch_module k8s-testbin
  local gomod
  gomod=$(go mod download -json "k8s.io/kubernetes@v$k" | sed -n 's/.*"GoMod": "\(.*\)",/\1/p')
  [[ -f "$gomod" ]] || { echo "could not download k8s.io/kubernetes@v$k"; return 1; }
  # The kubernetes module requires its staging repos at v0.0.0 and maps them to ./staging;
  # a consumer must map each to its published v0.<minor>.<patch> tag instead.
  local m
  for m in $(sed -n 's#^[[:space:]]*\(k8s.io/[a-z0-9-]*\) => ./staging/src/.*#\1#p' "$gomod"); do
    go mod edit -replace="$m=$m@v$s"
  done
  go mod edit -require="k8s.io/kubernetes@v$k"
  local pkgs=(cmd/kube-apiserver cmd/kube-controller-manager cmd/kube-scheduler cmd/kubectl)
  local p versioned=()
  for p in "${pkgs[@]}"; do versioned+=("k8s.io/kubernetes/$p@v$k"); done
  go get "${versioned[@]}"
  local ld="-s -w -X k8s.io/component-base/version.gitVersion=v$k -X k8s.io/component-base/version.gitMajor=1"
  ld+=" -X k8s.io/component-base/version.gitMinor=${s#0.} -X k8s.io/component-base/version.gitTreeState=clean"
  ld+=" -X k8s.io/client-go/pkg/version.gitVersion=v$k -X k8s.io/client-go/pkg/version.gitMajor=1"
  ld+=" -X k8s.io/client-go/pkg/version.gitMinor=${s#0.}"
  go build -trimpath -ldflags "$ld" -o "$out/" "${pkgs[@]/#/k8s.io/kubernetes/}"
}

build_etcd() {
  local out=$1
  scratch_module etcd-testbin
  go get "go.etcd.io/etcd/server/v3@v$ETCD_VERSION"
  go build -trimpath -ldflags "-s -w" -o "$out/etcd" go.etcd.io/etcd/server/v3
}

build_kwok() {
  local out=$1
  scratch_module kwok-testbin
  go get "sigs.k8s.io/kwok/cmd/kwok@v$KWOK_VERSION"
  go build -trimpath -ldflags "-s -w" -o "$out/kwok" sigs.k8s.io/kwok/cmd/kwok
  # kwok needs Stage objects; the defaults ship inside the module.
  local src
  src=$(go list -m -f '{{.Dir}}' sigs.k8s.io/kwok)/kustomize/stage
  mkdir -p "$out/stages"
  cp "$src/node/fast/node-initialize.yaml" \
     "$src/node/heartbeat-with-lease/node-heartbeat-with-lease.yaml" \
     "$src/pod/fast/pod-ready.yaml" "$src/pod/fast/pod-complete.yaml" "$src/pod/fast/pod-delete.yaml" \
     "$out/stages/"
}

build_helm() {
  local out=$1 major=${HELM_VERSION%%.*}
  scratch_module helm-testbin
  go get "helm.sh/helm/v$major/cmd/helm@v$HELM_VERSION"
  go build -trimpath -ldflags "-s -w -X helm.sh/helm/v$major/internal/version.version=v$HELM_VERSION" \
    -o "$out/helm" "helm.sh/helm/v$major/cmd/helm"
}

# module_source MODULE@VERSION: a writable copy of a module's source in the current directory.
# BuildKit's and distribution's go.mod carry exclude/replace directives, which `go install
# pkg@version` refuses; building inside the module itself honours them.
module_source() {
  local dir
  dir=$(go mod download -json "$1" | sed -n 's/.*"Dir": "\(.*\)",/\1/p')
  [[ -d "$dir" ]] || { echo "could not download $1"; return 1; }
  cp -r "$dir" src && chmod -R u+w src
}

build_buildkit() {
  local out=$1 w
  w=$(mktemp -d); cd "$w"
  module_source "github.com/moby/buildkit@v$BUILDKIT_VERSION"
  cd src
  local ld="-s -w -X github.com/moby/buildkit/version.Version=v$BUILDKIT_VERSION"
  GOFLAGS="-mod=mod -buildvcs=false" go build -trimpath -ldflags "$ld" -o "$out/" ./cmd/buildctl ./cmd/buildkitd \
    ./frontend/dockerfile/cmd/dockerfile-frontend
  cd / && rm -rf "$w"
}

build_registry() {
  local out=$1 w
  w=$(mktemp -d); cd "$w"
  module_source "github.com/distribution/distribution/v3@v$REGISTRY_VERSION"
  cd src
  GOFLAGS="-mod=mod -buildvcs=false" go build -trimpath -ldflags "-s -w" -o "$out/registry" ./cmd/registry
  cd / && rm -rf "$w"
}

ONLY=${1:-all}
want() { [[ $ONLY == all || $ONLY == "$1" ]]; }
want etcd && build_step "etcd-$ETCD_VERSION" "$CACHE/etcd-$ETCD_VERSION" build_etcd
want kwok && build_step "kwok-$KWOK_VERSION" "$CACHE/kwok-$KWOK_VERSION" build_kwok
want helm && build_step "helm-$HELM_VERSION" "$CACHE/helm-$HELM_VERSION" build_helm
want buildkit && build_step "buildkit-$BUILDKIT_VERSION" "$CACHE/buildkit-$BUILDKIT_VERSION" build_buildkit
want registry && build_step "registry-$REGISTRY_VERSION" "$CACHE/registry-$REGISTRY_VERSION" build_registry
want kubernetes && build_step "kubernetes-$K8S_VERSION" "$CACHE/kubernetes-$K8S_VERSION" build_kubernetes

# One directory of links so callers need a single PATH entry.
BIN="$CACHE/current"
mkdir -p "$BIN"
for t in etcd-$ETCD_VERSION/etcd kwok-$KWOK_VERSION/kwok helm-$HELM_VERSION/helm \
         kubernetes-$K8S_VERSION/kube-apiserver kubernetes-$K8S_VERSION/kube-controller-manager \
         kubernetes-$K8S_VERSION/kube-scheduler kubernetes-$K8S_VERSION/kubectl \
         buildkit-$BUILDKIT_VERSION/buildctl buildkit-$BUILDKIT_VERSION/buildkitd \
         buildkit-$BUILDKIT_VERSION/dockerfile-frontend \
         registry-$REGISTRY_VERSION/registry; do
  [[ -x "$CACHE/$t" ]] && ln -sfn "$CACHE/$t" "$BIN/$(basename "$t")"
done
[[ -d "$CACHE/kwok-$KWOK_VERSION/stages" ]] && ln -sfn "$CACHE/kwok-$KWOK_VERSION/stages" "$BIN/kwok-stages"
echo "$BIN"
