#!/usr/bin/env bash
# Builds the two gloo-istio container images from artefacts made on this machine, the way
# release tools such as goreleaser do: nothing is pulled, every stage of the Containerfile is
# `FROM scratch`.
#
#   bash scripts/image.sh build        # the context, then both images (podman)
#   bash scripts/image.sh context DIR  # only the build context, into DIR (the Dockerfile's builder
#                                      # stage runs this)
#
# The artefacts:
#   gloo-istio  `cargo build --release --locked --target x86_64-unknown-linux-musl`: the release
#               profile of Cargo.toml that `cargo install` gives, linked statically against musl
#   helm        helm 3 from the pinned source of .ci/install-peers.sh: $GLOO_ISTIO_PEERS/helm or
#               $PEERS_DIR/bin/helm, installed by `install-peers.sh helm3` when missing; or
#               $HELM3 if set. It must report the version pinned there
#   busybox     /bin/busybox of Debian's busybox-static, the sidecar's /bin/sh
#   plugin.yaml deploy/argocd/plugin.yaml
# Each binary is checked to be static (no ELF interpreter) before it goes into an image. The
# static gloo-istio is kept in $IMAGE_CACHE under a hash of what it is built from (toolchain,
# Cargo.toml, Cargo.lock, src/, templates/), so another clone or a re-run of the same sources
# (CI after a local run) skips the release build.
#
# The images (docs/argocd.md, docs/flux.md):
#   $IMAGE_PREFIX/gloo-istio:$IMAGE_TAG      the binary alone, user 65532
#   $IMAGE_PREFIX/gloo-istio-cmp:$IMAGE_TAG  the Argo CD plugin sidecar, user 999
#
# Environment:
#   IMAGE_PREFIX   registry and path of the image names (default localhost)
#   IMAGE_TAG      their tag (default the crate's version)
#   IMAGE_ENGINE   podman (default) or docker
#   IMAGE_ENV      where to write the two names, as GLOO_ISTIO_IMAGE=… and GLOO_ISTIO_CMP_IMAGE=…
#                  lines, for the tests (default target/image/images.env)
#   IMAGE_CACHE    where the static builds are kept by source hash, the three newest (default
#                  ~/.cache/gloo-istio/static-build)
#   PEERS_DIR      as for .ci/install-peers.sh (default <repo>/target/peers)
#
# podman needs `--runtime runc` and `default_ulimits = []` on some machines;
# .ci/install-peers.sh sets up both (docs/argocd.md, "Build the images").
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo_root"

TARGET=x86_64-unknown-linux-musl
HELM3_VERSION=$(sed -n 's/^HELM3_VERSION="\(.*\)"$/\1/p' .ci/install-peers.sh)
PEERS_DIR=${PEERS_DIR:-$repo_root/target/peers}
IMAGE_PREFIX=${IMAGE_PREFIX:-localhost}
IMAGE_ENGINE=${IMAGE_ENGINE:-podman}
crate_version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)
IMAGE_TAG=${IMAGE_TAG:-$crate_version}
IMAGE_CACHE=${IMAGE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/gloo-istio/static-build}

log() { printf 'image: %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# A static ELF executable: no program interpreter, no shared libraries.
check_static() { # <file> <what>
  [[ -x "$1" ]] || die "$2 is not an executable file: $1"
  local headers
  headers=$(LC_ALL=C readelf -ld "$1" 2>&1) || die "$2 is not an ELF file: $1"
  if grep -q 'INTERP' <<<"$headers" || grep -q '(NEEDED)' <<<"$headers"; then
    die "$2 is dynamically linked: $1"
  fi
}

mib() { # <bytes>
  awk -v b="$1" 'BEGIN { printf "%.1f MiB", b / 1048576 }'
}

# Prints the path of a static helm 3 of the pinned version.
find_helm3() {
  local helm=${HELM3:-${GLOO_ISTIO_PEERS:-$PEERS_DIR/bin}/helm}
  if [[ ! -x "$helm" ]]; then
    [[ -z "${HELM3:-}" ]] || die "HELM3=$HELM3 is not executable"
    log "no helm 3 in $PEERS_DIR/bin: bash .ci/install-peers.sh helm3"
    PEERS_DIR=$PEERS_DIR bash .ci/install-peers.sh helm3 >&2
  fi
  local version
  version=$("$helm" version --short 2>&1 | grep -o -E 'v[0-9]+\.[0-9]+\.[0-9]+' | head -n 1 || true)
  [[ "$version" == "$HELM3_VERSION" ]] \
    || die "$helm reports ${version:-no version}, not $HELM3_VERSION (.ci/install-peers.sh)"
  readlink -f "$helm"
}

# What the static binary is made of: the toolchain, the target, the build's environment and
# every file the build reads (the release profile is in Cargo.toml).
build_key() {
  {
    rustc -vV
    printf 'target %s\n' "$TARGET"
    env | grep -E '^(RUSTFLAGS|CARGO_ENCODED_RUSTFLAGS|CARGO_BUILD_|CARGO_PROFILE_RELEASE_)' | LC_ALL=C sort || true
    find Cargo.toml Cargo.lock src templates -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum
  } | sha256sum | cut -c1-32
}

# Keeps the binary under its key; only the three newest keys stay.
store_in_cache() { # <binary> <key>
  mkdir -p "$IMAGE_CACHE/$2.tmp"
  install -m 0755 "$1" "$IMAGE_CACHE/$2.tmp/gloo-istio"
  rm -rf "${IMAGE_CACHE:?}/$2"
  mv "$IMAGE_CACHE/$2.tmp" "$IMAGE_CACHE/$2"
  # shellcheck disable=SC2012 # the names are hex keys
  ls -1t "$IMAGE_CACHE" | tail -n +4 | while read -r old; do rm -rf "${IMAGE_CACHE:?}/$old"; done
}

# Builds the context into $1: gloo-istio and cmp-rootfs/ (see the Containerfile).
make_context() {
  local out=$1
  local started=$SECONDS
  # Replace only a context this script made (or an empty directory).
  local marker=$out/.gloo-istio-image-context
  if [[ -e "$out" && ! -f "$marker" ]] && [[ -n "$(ls -A "$out" 2>/dev/null)" ]]; then
    die "$out exists and is not a context made by this script; give an empty or new directory"
  fi
  rustup target list --installed 2>/dev/null | grep -qx "$TARGET" \
    || die "the Rust target $TARGET is not installed: rustup target add $TARGET (.ci/install-peers.sh does it)"
  local key cached bin
  key=$(build_key)
  cached=$IMAGE_CACHE/$key/gloo-istio
  if [[ -x "$cached" ]]; then
    log "gloo-istio from the cache: $cached"
    bin=$cached
    build_note="gloo-istio from the cache"
  else
    log "cargo build --release --locked --target $TARGET"
    cargo build --release --locked --target "$TARGET" >&2
    bin=target/$TARGET/release/gloo-istio
    check_static "$bin" gloo-istio
    store_in_cache "$bin" "$key"
    bin=$cached
  fi
  build_note=${build_note:-cargo release build $((SECONDS - started))s}

  local helm busybox=/bin/busybox
  helm=$(find_helm3)
  check_static "$helm" helm
  [[ -x "$busybox" ]] || die "no $busybox: apt-get install busybox-static"
  check_static "$busybox" busybox

  rm -rf "$out"
  mkdir -p "$out"
  : >"$marker"
  local rootfs=$out/cmp-rootfs
  mkdir -p "$rootfs/bin" "$rootfs/usr/local/bin" "$rootfs/tmp" \
    "$rootfs/home/argocd/cmp-server/config"
  install -m 0755 "$bin" "$out/gloo-istio"
  install -m 0755 "$busybox" "$rootfs/bin/busybox"
  ln -s busybox "$rootfs/bin/sh"
  install -m 0755 "$helm" "$rootfs/usr/local/bin/helm"
  install -m 0644 deploy/argocd/plugin.yaml "$rootfs/home/argocd/cmp-server/config/plugin.yaml"
  chmod 1777 "$rootfs/tmp"
  # Directories the CMP server and helm only read or traverse.
  find "$rootfs" -type d ! -path "$rootfs/tmp" -exec chmod 0755 {} +
  log "context $out: gloo-istio $(mib "$(stat -c %s "$out/gloo-istio")"), helm $HELM3_VERSION, busybox"
}

image_size() { # <name>
  "$IMAGE_ENGINE" image inspect --format '{{.Size}}' "$1"
}

build_images() {
  command -v "$IMAGE_ENGINE" >/dev/null 2>&1 \
    || die "no $IMAGE_ENGINE on PATH (bash .ci/install-peers.sh installs podman and runc)"
  local engine=("$IMAGE_ENGINE") build_opts=()
  if [[ "$IMAGE_ENGINE" == podman ]]; then
    if command -v runc >/dev/null 2>&1; then engine+=(--runtime runc); fi
    # No intermediate images: each stage is one or two COPYs of files that are already here.
    build_opts+=(--layers=false)
  fi
  local started=$SECONDS
  local context=target/image/context
  rm -rf "$context"
  make_context "$context"
  local podman_started=$SECONDS
  local plain=$IMAGE_PREFIX/gloo-istio:$IMAGE_TAG
  local cmp=$IMAGE_PREFIX/gloo-istio-cmp:$IMAGE_TAG
  local stage name old new
  for stage in gloo-istio gloo-istio-cmp; do
    name=$IMAGE_PREFIX/$stage:$IMAGE_TAG
    old=$("${engine[@]}" image inspect --format '{{.Id}}' "$name" 2>/dev/null || true)
    log "$IMAGE_ENGINE build --target $stage -t $name"
    new=$("${engine[@]}" build --quiet "${build_opts[@]}" --target "$stage" -t "$name" \
      -f Containerfile "$context")
    # The image this name pointed to before, unless it is the same or still used.
    if [[ -n "$old" && "$old" != "$new"* ]]; then
      "${engine[@]}" rmi "$old" >/dev/null 2>&1 || true
    fi
  done
  local total=$((SECONDS - started)) build=$((SECONDS - podman_started))
  printf 'image %-50s %s\n' "$plain" "$(mib "$(image_size "$plain")")"
  printf 'image %-50s %s\n' "$cmp" "$(mib "$(image_size "$cmp")")"
  printf 'images built in %ss (%s, %s build %ss)\n' "$total" "$build_note" "$IMAGE_ENGINE" "$build"
  printf 'GLOO_ISTIO_IMAGE=%s\nGLOO_ISTIO_CMP_IMAGE=%s\n' "$plain" "$cmp" \
    >"${IMAGE_ENV:-target/image/images.env}"
}

build_note=""
case ${1:-} in
  build) build_images ;;
  context)
    [[ -n "${2:-}" ]] || die "usage: $0 context DIR"
    make_context "$2"
    ;;
  *)
    sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//' >&2
    exit 2
    ;;
esac
