#!/usr/bin/env bash
# Builds the release binary the way it is shipped and benchmarked, and prints its path.
#
#   bash scripts/build-release.sh        # -> target/shipped/gloo-istio
#
# On x86-64 Linux the executable is linked statically against musl and position-dependent: no
# dynamic loader, no shared libraries to map and bind, no relocations to apply at start, and
# none of the CPU probing glibc does before `main` (about 40 `cpuid` instructions, each a trap
# to the hypervisor on a virtual machine: 0.3 ms of every run on the machine we measure on;
# docs/performance.md, "Render, fifth round"). The memory allocator is the executable's own
# arena (src/alloc.rs), so musl's allocator serves only what outgrows it. The musl target is
# added with rustup when it is missing; where that is not possible (offline, no rustup), the
# binary is linked statically against glibc instead, and the script says so. The flags go to
# the executable's crate alone (`cargo rustc`), as a static runtime in RUSTFLAGS would also
# reach the proc-macro crates, which cannot be built that way.
#
# The musl build is linked twice, by rustc's own LLD: once with its symbols, which runs the
# examples (render, lint, post-render) under callgrind to list the functions they run
# (scripts/hot-functions.py); then with that list as LLD's `--symbol-ordering-file`, which puts
# those functions first and side by side, so that a run faults in a few dense pages of code
# instead of pages all over the 9 MB of it (127 -> 78 page faults for a render). Without
# rustc's LLD (its gcc-ld wrapper), valgrind or python3, or with GLOO_ISTIO_NO_ORDER=1, it is
# linked once, in the default order;
# if a profiling run fails, the second link is in the default order too.
#
# Elsewhere (another OS or architecture, or GLOO_ISTIO_DYNAMIC=1) this is a plain
# `cargo build --release`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
host=$(rustc -vV | sed -n 's/^host: //p')
musl=x86_64-unknown-linux-musl
sysroot=$(rustc --print sysroot)
gcc_ld=$sysroot/lib/rustlib/$host/bin/gcc-ld
mkdir -p target/shipped

# Runs the examples with the symbol-bearing binary $1 under callgrind and writes the functions
# they ran, most instructions first, to $2. Fails (without stopping the script: it runs as an
# `if` condition) when a run or the listing fails.
hot_functions() {
  local bin=$1 out=$2 work n=0
  work=$(mktemp -d)
  profile() {
    n=$((n + 1))
    valgrind --tool=callgrind --callgrind-out-file="$work/$n.out" --compress-strings=no \
      --compress-pos=no --demangle=no "$bin" "$@" >/dev/null 2>"$work/$n.log" ||
      { echo "build-release.sh: profiling run '$*' failed:" >&2; tail -n 20 "$work/$n.log" >&2; return 1; }
  }
  local values status=0
  profile render -q || status=1
  for values in values/*.yaml; do
    profile render -q -f "$values" || status=1
  done
  profile lint values/*.yaml || status=1
  profile post-render -q -f values/istio-integration.yaml <benches/data/helm3-stdin.a-defaults.yaml || status=1
  if ((status == 0)); then
    python3 scripts/hot-functions.py "$work"/*.out >"$out" && [[ -s $out ]] || status=1
  fi
  rm -rf "$work"
  return "$status"
}

if [[ $host == x86_64-unknown-linux-gnu && -z ${GLOO_ISTIO_DYNAMIC:-} ]]; then
  if [[ -d $sysroot/lib/rustlib/$musl ]] || rustup target add "$musl" >&2; then
    # rustc's own LLD (GNU ld 2.40 cannot order symbols); without it, the default linker.
    lld=()
    [[ -x $gcc_ld/ld.lld ]] && lld=(-C link-arg=-fuse-ld=lld -C link-arg=-B"$gcc_ld")
    build=(cargo rustc --release --locked --target "$musl" --bin gloo-istio --
      -C relocation-model=static "${lld[@]}")
    built=target/$musl/release/gloo-istio
    order=()
    if [[ -z ${GLOO_ISTIO_NO_ORDER:-} ]] && ((${#lld[@]})) && command -v valgrind >/dev/null &&
      command -v python3 >/dev/null; then
      "${build[@]}" -C strip=none >&2
      if hot_functions "$built" target/shipped/hot-functions.txt; then
        echo "build-release.sh: $(wc -l <target/shipped/hot-functions.txt) functions laid out first" >&2
        order=(-C link-arg=-Wl,--symbol-ordering-file="$PWD/target/shipped/hot-functions.txt"
          -C link-arg=-Wl,--no-warn-symbol-ordering)
      else
        echo "build-release.sh: the profiling runs failed; linking in the default order" >&2
      fi
    else
      echo "build-release.sh: linking in the default order (no rustc LLD, valgrind or python3, or GLOO_ISTIO_NO_ORDER)" >&2
    fi
    "${build[@]}" "${order[@]}" >&2
  else
    echo "build-release.sh: the $musl target cannot be added; linking statically against glibc" >&2
    cargo rustc --release --locked --bin gloo-istio -- \
      -C target-feature=+crt-static -C relocation-model=static >&2
    built=target/release/gloo-istio
  fi
else
  cargo build --release --locked >&2
  built=target/release/gloo-istio
fi
# A copy of its own (not cargo's hard link), so that a later cargo build cannot change it.
cp --remove-destination "$built" target/shipped/gloo-istio
echo target/shipped/gloo-istio
