#!/usr/bin/env bash
# Builds the release binary the way it is shipped and benchmarked, and prints its path.
#
#   bash scripts/build-release.sh        # -> target/release/gloo-istio
#
# On x86-64 Linux with glibc the executable is linked statically and position-dependent:
# no dynamic loader, no shared libraries to map and bind, no relocations to apply at start.
# That is 0.3-0.4 ms of every run on the machines we measure on (docs/performance.md, "Render,
# third round"). The flags go to the executable's crate alone (`cargo rustc`), as a static
# runtime in RUSTFLAGS would also reach the proc-macro crates, which cannot be built that way.
# gloo-istio does no name lookups (no NSS), so static glibc changes nothing it does.
# Elsewhere this is a plain `cargo build --release`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
host=$(rustc -vV | sed -n 's/^host: //p')
if [[ $host == x86_64-unknown-linux-gnu && -z ${GLOO_ISTIO_DYNAMIC:-} ]]; then
  cargo rustc --release --locked --bin gloo-istio -- \
    -C target-feature=+crt-static -C relocation-model=static >&2
else
  cargo build --release --locked >&2
fi
echo target/release/gloo-istio
