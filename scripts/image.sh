#!/usr/bin/env bash
# Builds the KubeAIRunway image from the Dockerfile at the repository root.
#
#   scripts/image.sh build [TAG]
#       The whole Dockerfile: the Node, Rust and Go builder stages and the distroless runtime.
#       Needs a registry for the base images. Uses buildah, else podman, else docker
#       (CONTAINER_TOOL overrides).
#
#   scripts/image.sh offline BINARY HELM [TAG]
#       For machines that reach package registries but no container registry (this
#       repository's CI): the runtime stage of the same Dockerfile, built with buildah, with
#       the builder stages replaced by what the host built with the same commands (BINARY:
#       `cargo build --locked --release -p kubeairunway` after `make web-build`; HELM: the
#       pinned helm of scripts/build-testbin.sh), passed as build contexts named after the
#       stages, and the distroless base replaced by one assembled here from this machine's
#       Debian files (base, below). Prints the image's size. TARGET=runtime-slim leaves helm out.
#
#   scripts/image.sh base BINARY TAG
#       Only that runtime base: the shared libraries BINARY links (from ldd: glibc, libgcc_s),
#       CA certificates, /etc/passwd and /etc/group with root and nonroot (65532), an
#       nsswitch.conf, a world-writable /tmp and /home/nonroot; user 65532, like
#       gcr.io/distroless/cc-debian12:nonroot.
#
# BUILDAH_FLAGS is put before every buildah subcommand (e.g. "--root DIR --runroot DIR
# --storage-driver vfs" for a private store). For `build` it defaults to nothing (your buildah
# configuration); for `offline` and `base` to "--storage-driver vfs", which works without
# overlay support (push such an image with `buildah --storage-driver vfs push`).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
version=$(sed -n 's/^version = "\(.*\)"/\1/p' "$root/Cargo.toml" | head -1)
if [[ ${1:-} == build ]]; then default_flags=""; else default_flags="--storage-driver vfs"; fi
read -r -a bflags <<<"${BUILDAH_FLAGS-$default_flags}"
bh() { buildah "${bflags[@]}" "$@"; }
die() { echo "image.sh: $*" >&2; exit 1; }

base() {
  local binary=$1 tag=$2 dir ctr lib
  [[ -x $binary ]] || die "$binary is not an executable"
  command -v buildah >/dev/null || die "buildah is not installed (make image-tools)"
  dir=$(mktemp -d)
  trap 'rm -rf "$dir"' RETURN
  mkdir -p "$dir/rootfs/etc/ssl/certs" "$dir/rootfs/tmp" "$dir/rootfs/home/nonroot"
  # Every library the dynamic loader resolves for the binary, at the path it resolves it to,
  # and the loader itself.
  while read -r lib; do
    mkdir -p "$dir/rootfs$(dirname "$lib")"
    cp -L "$lib" "$dir/rootfs$lib"
  done < <(ldd "$binary" | awk '/=> \// { print $3 } /^[ \t]*\/[^ ]*ld-linux/ { print $1 }')
  cp -L /etc/ssl/certs/ca-certificates.crt "$dir/rootfs/etc/ssl/certs/"
  printf '%s\n' 'root:x:0:0:root:/root:/sbin/nologin' \
    'nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin' >"$dir/rootfs/etc/passwd"
  printf '%s\n' 'root:x:0:' 'nonroot:x:65532:' >"$dir/rootfs/etc/group"
  printf '%s\n' 'passwd: files' 'group: files' 'hosts: files dns' >"$dir/rootfs/etc/nsswitch.conf"
  chmod 1777 "$dir/rootfs/tmp"
  chown 65532:65532 "$dir/rootfs/home/nonroot" 2>/dev/null \
    || echo "image.sh: not root: /home/nonroot stays owned by root (nothing writes there)" >&2
  # A tar keeps the owners and modes (a directory copy would make everything root's).
  tar -C "$dir/rootfs" --numeric-owner -cf "$dir/rootfs.tar" .
  ctr=$(bh from --quiet scratch)
  bh add --quiet "$ctr" "$dir/rootfs.tar" / >/dev/null
  bh config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --env SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt \
    --user 65532:65532 --workingdir /home/nonroot "$ctr"
  bh commit --quiet --rm "$ctr" "$tag" >/dev/null
  echo "runtime base $tag: $(ldd "$binary" | awk '/=>/ { print $1 }' | tr '\n' ' ')" >&2
}

offline() {
  local binary=$1 helm=$2 tag=${3:-kubeairunway:$version-offline} dir
  [[ -x $helm ]] || die "$helm is not an executable"
  dir=$(mktemp -d)
  trap 'rm -rf "$dir"' RETURN
  base "$binary" "localhost/kubeairunway-runtime-base:offline"
  # Build contexts named like the stages they replace: COPY --from=build /out/kubeairunway
  # and COPY --from=helm /out/helm read these directories.
  install -D -m 0755 "$binary" "$dir/build/out/kubeairunway"
  install -D -m 0755 "$helm" "$dir/helm/out/helm"
  mkdir "$dir/context"
  bh bud --quiet --isolation chroot --target "${TARGET:-runtime}" \
    --build-arg RUNTIME_IMAGE=localhost/kubeairunway-runtime-base:offline \
    --build-context build="$dir/build" --build-context helm="$dir/helm" \
    -f "$root/Dockerfile" -t "$tag" "$dir/context" >/dev/null
  echo "built $tag: $(bh images --format '{{.Size}}' "$tag" | head -1)" >&2
}

build() {
  local tag=${1:-kubeairunway:$version} tool=${CONTAINER_TOOL:-}
  if [[ -z $tool ]]; then
    for t in buildah podman docker; do command -v "$t" >/dev/null && { tool=$t; break; }; done
  fi
  [[ -n $tool ]] || die "no image builder found (buildah, podman or docker)"
  local args=(--build-arg "KAIR_GIT_COMMIT=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)"
              --build-arg "KAIR_BUILD_TIME=$(date -u +%Y-%m-%dT%H:%M:%SZ)" -t "$tag" "$root")
  case $tool in
    buildah) bh bud --layers "${args[@]}" ;;
    *) "$tool" build "${args[@]}" ;;
  esac
}

cmd=${1:-}
shift || true
case $cmd in
  base) [[ $# -eq 2 ]] || die "usage: image.sh base BINARY TAG"; base "$@" ;;
  offline) [[ $# -ge 2 ]] || die "usage: image.sh offline BINARY HELM [TAG]"; offline "$@" ;;
  build) build "$@" ;;
  *) die "usage: image.sh build [TAG] | offline BINARY HELM [TAG] | base BINARY TAG" ;;
esac
