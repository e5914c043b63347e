#!/usr/bin/env bash
# Builds the fuzz targets of fuzz/ and runs each for a fixed time; exits non-zero when a target
# crashes (a panic, a failed oracle, a timeout or running out of memory). See docs/fuzzing.md.
#
#   bash scripts/fuzz.sh [SECONDS] [TARGET...]     # default: 30 s each, every target
#
# Self-contained: installs cargo-fuzz from crates.io when it is missing, builds on the stable
# toolchain (`--sanitizer none`, the same coverage instrumentation without ASan), seeds each
# target's corpus from values/, the reference renders (../shared/reference/gloo-chart or
# $GLOO_REFERENCE_DIR, when present), tests/hostile/ and the regression inputs of
# tests/hostile/fuzz/, and leaves what it finds in fuzz/corpus/ and fuzz/artifacts/ (both
# ignored by git).
#
# Environment:
#   FUZZ_SANITIZER=address   build with AddressSanitizer (needs RUSTC_BOOTSTRAP=1 on stable,
#                            which this script sets; slower to build and to run)
#   FUZZ_JOBS=N              libFuzzer worker processes per target (default 1)
#   FUZZ_STRICT=1            the postrender target also fails on GI099 for a stream (see
#                            fuzz/fuzz_targets/postrender.rs)
#   FUZZ_SEED=N              libFuzzer's random seed (default 1, so that a run repeats the
#                            mutations of the last one as far as the target is deterministic;
#                            `random` for a new seed each run)
#   FUZZ_CORPUS=DIR          where the growing corpus lives (default fuzz/corpus); a fresh
#                            empty directory starts from the seeds alone, as CI does
set -euo pipefail

seconds=${1:-30}
if [ $# -gt 0 ]; then shift; fi
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(values stream postrender)
fi
case "$seconds" in
  '' | *[!0-9]*)
    echo "usage: scripts/fuzz.sh [SECONDS] [TARGET...]" >&2
    exit 2
    ;;
esac

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo_root"

cargo_fuzz_version=0.13.2
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "==== installing cargo-fuzz $cargo_fuzz_version from crates.io ===="
  cargo install cargo-fuzz --locked --version "$cargo_fuzz_version"
fi

sanitizer=${FUZZ_SANITIZER:-none}
if [ "$sanitizer" != none ]; then
  # The sanitizers are still unstable options of rustc; the stable compiler accepts them with
  # this switch.
  export RUSTC_BOOTSTRAP=1
fi
if [ "${FUZZ_STRICT:-0}" = 1 ]; then
  export GLOO_ISTIO_FUZZ_STRICT=1
fi

echo "==== building the fuzz targets (sanitizer: $sanitizer) ===="
cargo fuzz build --sanitizer "$sanitizer"

reference=${GLOO_REFERENCE_DIR:-$repo_root/../shared/reference/gloo-chart}
corpus_root=${FUZZ_CORPUS:-fuzz/corpus}
seed_root=$(mktemp -d)
trap 'rm -rf "$seed_root"' EXIT

# copy_seeds DIR FILE...: copies the readable regular files given into DIR.
copy_seeds() {
  local dir=$1
  shift
  mkdir -p "$dir"
  local file
  for file in "$@"; do
    if [ -f "$file" ]; then
      cp "$file" "$dir/$(echo "$file" | tr '/' '_')"
    fi
  done
}

# split_documents FILE DIR: one seed per document of a manifest stream.
split_documents() {
  awk -v dir="$2" -v base="$(basename "$1" .yaml)" '
    /^---( |$)/ { n++ }
    { print > (dir "/" base "-" n ".yaml") }
  ' "$1"
}

shopt -s nullglob
for target in "${targets[@]}"; do
  seeds="$seed_root/$target"
  mkdir -p "$seeds" "$corpus_root/$target" "fuzz/artifacts/$target"
  case "$target" in
    values)
      copy_seeds "$seeds" values/*.yaml "$reference"/*.values.yaml tests/hostile/values/*.yaml
      ;;
    stream)
      copy_seeds "$seeds" tests/hostile/streams/*.yaml "$reference"/*.rendered.yaml
      ;;
    postrender)
      # The first byte picks the operation (see the target); each stream is seeded with each.
      docs="$seed_root/documents"
      mkdir -p "$docs"
      for file in "$reference"/*.rendered.yaml; do
        split_documents "$file" "$docs"
      done
      copy_seeds "$docs" tests/hostile/streams/*.yaml
      for file in "$docs"/*; do
        # Only the documents the commands edit; the others pass through unparsed.
        if grep -q -e 'gateway-proxy-id' -e 'kind: Settings' -e 'kind: Upstream' -e 'gloo: gloo' "$file"; then
          for op in 0 1 2 3 4 5; do
            { printf '%b' "\\0$(printf '%03o' "$op")"; cat "$file"; } >"$seeds/$op-$(basename "$file")"
          done
        fi
      done
      ;;
    *)
      echo "unknown target $target (targets: values, stream, postrender)" >&2
      exit 2
      ;;
  esac
  if [ -d "tests/hostile/fuzz/$target" ]; then
    copy_seeds "$seeds" "tests/hostile/fuzz/$target"/*
  fi
done
shopt -u nullglob

max_len() {
  case "$1" in
    values) echo 16384 ;;
    stream) echo 65536 ;;
    postrender) echo 32768 ;;
  esac
}

failed=()
for target in "${targets[@]}"; do
  echo "==== fuzzing $target for ${seconds}s ===="
  options=()
  if [ "${FUZZ_SEED:-1}" != random ]; then
    options+=(-seed="${FUZZ_SEED:-1}")
  fi
  if [ "${FUZZ_JOBS:-1}" -gt 1 ]; then
    options+=(-fork="$FUZZ_JOBS")
  fi
  if cargo fuzz run --sanitizer "$sanitizer" "$target" "$corpus_root/$target" "$seed_root/$target" -- \
    -max_total_time="$seconds" \
    "${options[@]}" \
    -max_len="$(max_len "$target")" \
    -timeout=10 \
    -rss_limit_mb=2048 \
    -dict="fuzz/dict/$target.dict" \
    -print_final_stats=1; then
    echo "==== $target: no crash ===="
  else
    echo "==== $target: CRASH; the input is in fuzz/artifacts/$target/ ====" >&2
    failed+=("$target")
  fi
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzzing found crashes in: ${failed[*]}" >&2
  exit 1
fi
echo "fuzzing: no crash in ${targets[*]} (${seconds}s each)"
