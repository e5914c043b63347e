#!/usr/bin/env bash
# The project's one test command: installs the peer tools, then runs the formatting check,
# clippy, the dependency policy (cargo-deny, deny.toml), builds the two container images
# (scripts/image.sh: a release build and podman) and runs every test, the images' among them
# (tests/images.rs, tests/argocd.rs). The fuzz targets'
# regression inputs run as ordinary tests (tests/fuzz_regressions.rs); longer fuzzing is
# scripts/fuzz.sh. Stops at the first failure of the checks; the tests always all run.
#
#   bash scripts/test.sh
#
# Peers (helm, envoy, kubernetes-validate, ...) go to target/peers; the integration tests find
# them through GLOO_ISTIO_PEERS and, with GLOO_ISTIO_REQUIRE_PEERS=1, fail instead of skipping
# when one is missing.
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo_root"

step=""
section() {
  step=$*
  printf '\n==== %s ====\n' "$step"
}
trap 'printf "\n==== FAILED (exit %s): %s ====\n" "$?" "$step" >&2' ERR

section "peers: .ci/install-peers.sh"
bash .ci/install-peers.sh
export GLOO_ISTIO_PEERS="${PEERS_DIR:-$repo_root/target/peers}/bin"
export GLOO_ISTIO_REQUIRE_PEERS=1

# The images' release build (scripts/image.sh) runs in the background from here on, beside
# clippy and the test build: its last minutes compile and link one crate on one core, so the
# other core is free for them. Its output is printed in the images section below; it is
# stopped if a step fails first.
mkdir -p target/image
setsid bash scripts/image.sh build >target/image/build.log 2>&1 &
image_pid=$!
trap 'kill -- -"$image_pid" 2>/dev/null || true' EXIT

section "cargo fmt --all -- --check"
cargo fmt --all -- --check

section "cargo clippy --all-targets -- -D warnings"
cargo clippy --all-targets -- -D warnings

section "cargo deny --offline check licenses bans sources"
"$GLOO_ISTIO_PEERS/cargo-deny" --log-level error --offline check licenses bans sources

section "cargo test --all-targets --no-run"
cargo test --all-targets --no-run

section "images: bash scripts/image.sh build"
# It writes target/image/images.env, where the image tests find the two images.
image_status=0
wait "$image_pid" || image_status=$?
cat target/image/build.log
if ((image_status != 0)); then
  printf 'scripts/image.sh failed (exit %s)\n' "$image_status" >&2
  (exit "$image_status")
fi

section "cargo test --all-targets --no-fail-fast"
log=$(mktemp)
set +e
cargo test --all-targets --no-fail-fast 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
passed=$(grep -Eo '[0-9]+ passed' "$log" | awk '{s += $1} END {print s + 0}')
failed=$(grep -Eo '[0-9]+ failed' "$log" | awk '{s += $1} END {print s + 0}')
rm -f "$log"
trap - ERR
printf '\ntotal: %s passed, %s failed\n' "$passed" "$failed"
exit "$status"
