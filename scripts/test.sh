#!/usr/bin/env bash
# The project's one test command: installs the peer tools, then runs the formatting check,
# clippy, every test, the shipped release build against the snapshots, and each fuzz target for
# a short time (FUZZ_SECONDS, default 30; 0 skips them). Stops at the first failure of the
# checks; the tests, the release build and the fuzzers always all run.
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

section "cargo fmt --all -- --check"
cargo fmt --all -- --check

section "cargo clippy --all-targets -- -D warnings"
cargo clippy --all-targets -- -D warnings

section "cargo test --all-targets --no-fail-fast"
log=$(mktemp)
set +e
cargo test --all-targets --no-fail-fast 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
passed=$(grep -Eo '[0-9]+ passed' "$log" | awk '{s += $1} END {print s + 0}')
failed=$(grep -Eo '[0-9]+ failed' "$log" | awk '{s += $1} END {print s + 0}')
rm -f "$log"

# The binary as shipped (scripts/build-release.sh: static, LTO, the arena allocator) must give
# every example's snapshot byte for byte; the tests above run the debug build.
section "release build: scripts/build-release.sh, every example against its snapshot"
set +e
release_status=0
if release_bin=$(bash scripts/build-release.sh); then
  for values in values/*.yaml; do
    if ! "$release_bin" render -q -f "$values" | diff -u "snapshots/$(basename "$values")" - >&2; then
      echo "the release binary's render of $values differs from its snapshot" >&2
      release_status=1
    fi
  done
  "$release_bin" --version
else
  release_status=1
fi
set -e
if [ "$release_status" = 0 ]; then
  echo "release binary: every example renders its snapshot"
  release_result="every example renders its snapshot"
else
  release_result="FAILED"
  [ "$status" = 0 ] && status=1
fi

# The fuzz targets of fuzz/ (docs/fuzzing.md): built on the stable toolchain and run for a short
# fixed time each, seeded with the regression inputs of every crash found so far.
# FUZZ_SECONDS=0 leaves them out (a quick local run).
fuzz_seconds=${FUZZ_SECONDS:-30}
fuzz_result="not run (FUZZ_SECONDS=0)"
if [ "$fuzz_seconds" != 0 ]; then
  section "fuzz: scripts/fuzz.sh $fuzz_seconds"
  set +e
  bash scripts/fuzz.sh "$fuzz_seconds"
  fuzz_status=$?
  set -e
  if [ "$fuzz_status" = 0 ]; then
    fuzz_result="no crash in ${fuzz_seconds}s per target"
  else
    fuzz_result="FAILED (exit $fuzz_status)"
    [ "$status" = 0 ] && status=$fuzz_status
  fi
fi
trap - ERR
printf '\nrelease binary: %s\n' "$release_result"
printf 'fuzz: %s\n' "$fuzz_result"
printf 'total: %s passed, %s failed\n' "$passed" "$failed"
exit "$status"
