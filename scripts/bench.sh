#!/usr/bin/env bash
# Benchmarks gloo-istio side by side with the tools people use for the same jobs, and writes the
# results (hyperfine JSON and markdown, a summary, a plot) for docs/performance.md.
#
#   bash scripts/bench.sh            # everything, ~16 min with the build on 2 cores; results in docs/performance/
#   bash scripts/bench.sh --quick    # fewer cases, sizes and runs, ~2-3 min; results in target/bench/quick/
#
# Options:
#   --quick          a smoke run: 3 render cases, N = 1,000 and 5,000 only, kustomize at 1,000 only
#   --out DIR        where the results go (default docs/performance, or target/bench/quick)
#   --only LIST      comma-separated subset of: render,postrender,memory,lint,cold
#   --no-build       use target/bench/install/bin/gloo-istio as it is (default: `cargo install --path .` first)
#   --bin PATH       measure this gloo-istio binary instead (another build or version, for a before/after)
#
# Workloads (docs/performance.md says why each peer, and the targets):
#   render      `gloo-istio render -f V` for every shared/reference/gloo-chart/*.values.yaml, vs
#               `helm template` of benches/data/gloo-istio-chart (the same job as a Helm chart) and
#               of tests/data/gloo-shaped-chart (the project's Gloo-shaped test chart)
#   postrender  a synthetic helm post-renderer input of N extra documents
#               (shared/reference/gloo-chart/bench/gen_synth.py over case a's helm stdin;
#               N = 1,000 / 5,000 / 20,000, about 5 / 25 / 99 MB) read from a pipe by:
#               `cat` (the floor), `gloo-istio post-render`, a PyYAML C load/dump round trip,
#               `kubectl kustomize` with one patch (the classic post-renderer; quadratic, so run
#               twice at 5,000 and not at all at 20,000)
#   memory      the peak RSS of each of those (GNU time): one run each of cat and gloo-istio; for
#               PyYAML and kustomize the largest of their timed runs (when postrender ran too)
#   lint        1,000 generated values files in one `gloo-istio lint` vs `check-jsonschema
#               --schemafile docs/values.schema.json` on the same files
#   cold        `gloo-istio --version`, `gloo-istio render` (embedded defaults), and the start-up of
#               the peers (`helm version`, `kubectl version --client`, `python -c 'import yaml'`)
#
# Every comparison runs in alternating rounds (each round runs every command of the group, the
# order reversed every other round) so that a noisy neighbour hurts all of them alike; the
# medians are over all rounds. Needs: cargo, python3, hyperfine (`INSTALL_BENCH_TOOLS=1 bash
# .ci/install-peers.sh` installs it), the peers of .ci/install-peers.sh, /usr/bin/kubectl,
# /usr/bin/time, and shared/reference/gloo-chart beside the repository (GLOO_ISTIO_REFERENCE
# overrides its path).
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo_root"

QUICK=0
BUILD=1
BIN=""
ONLY=render,postrender,memory,lint,cold
OUT=""
while (($#)); do
  case $1 in
    --quick) QUICK=1 ;;
    --no-build) BUILD=0 ;;
    --bin) BIN=$2; BUILD=0; shift ;;
    --bin=*) BIN=${1#--bin=}; BUILD=0 ;;
    --only) ONLY=$2; shift ;;
    --only=*) ONLY=${1#--only=} ;;
    --out) OUT=$2; shift ;;
    --out=*) OUT=${1#--out=} ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
wants() { [[ ",$ONLY," == *",$1,"* ]]; }

WORK=$repo_root/target/bench
if [[ -z $OUT ]]; then
  if ((QUICK)); then OUT=$WORK/quick; else OUT=$repo_root/docs/performance; fi
fi
mkdir -p "$OUT/raw" "$WORK/rounds" "$WORK/bin"
OUT=$(cd "$OUT" && pwd)
REF=${GLOO_ISTIO_REFERENCE:-$repo_root/../shared/reference/gloo-chart}
[[ -d $REF ]] || { echo "bench.sh: no reference data at $REF (set GLOO_ISTIO_REFERENCE)" >&2; exit 2; }
REF=$(cd "$REF" && pwd)

log() { printf '\n==== %s ====\n' "$*" >&2; }
started=$(date +%s)

# ---------------------------------------------------------------------------------------------
log "tools"
INSTALL_BENCH_TOOLS=1 bash .ci/install-peers.sh >&2
PEERS=${PEERS_DIR:-$repo_root/target/peers}
HELM=$PEERS/bin/helm
CHECK_JSONSCHEMA=$PEERS/bin/check-jsonschema
PY=$PEERS/venv/bin/python
KUBECTL=$(command -v kubectl || true)
for tool in hyperfine /usr/bin/time "$HELM" "$CHECK_JSONSCHEMA" "$PY"; do
  command -v "$tool" >/dev/null || { echo "bench.sh: $tool is missing" >&2; exit 2; }
done
[[ -n $KUBECTL ]] || echo "bench.sh: no kubectl on PATH: the kustomize peer is skipped" >&2

if ((BUILD)); then
  log "cargo install --path . (the binary users get)"
  cargo install --quiet --locked --force --path . --root "$WORK/install" >&2
fi
# A copy, so that a concurrent build cannot swap the binary in the middle of a run.
cp "${BIN:-$WORK/install/bin/gloo-istio}" "$WORK/bin/gloo-istio"
GI=$WORK/bin/gloo-istio

# ---------------------------------------------------------------------------------------------
# The machine and the versions, for the record.
{
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "mode: $( ((QUICK)) && echo quick || echo full)"
  echo "git: $(git rev-parse --short HEAD 2>/dev/null || echo none)$(git diff --quiet HEAD -- src Cargo.toml 2>/dev/null || echo ' (with uncommitted changes in src/ or Cargo.toml)')"
  echo "nproc: $(nproc)"
  echo "cpu: $(lscpu | sed -n 's/^Model name: *//p' | head -n1)"
  echo "memory: $(free -h | awk '/^Mem:/ {print $2}')"
  echo "kernel: $(uname -sr)"
  # shellcheck disable=SC1091
  echo "os: $(. /etc/os-release && echo "$PRETTY_NAME")"
  echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "rustc: $(rustc --version)"
  echo "gloo-istio: $("$GI" --version)"
  echo "gloo-istio binary: ${BIN:-cargo install --path .}: $(file -b "$GI" | cut -d, -f1-2,4 | sed "s/ *$//")"
  echo "hyperfine: $(hyperfine --version)"
  echo "helm: $("$HELM" version --short)"
  echo "kubectl: $( [[ -n $KUBECTL ]] && "$KUBECTL" version --client 2>/dev/null | tr '\n' ' ')"
  echo "python (peers venv): $("$PY" --version 2>&1)"
  echo "PyYAML: $("$PY" -c 'import yaml; print(yaml.__version__, "libyaml" if yaml.__with_libyaml__ else "pure-python")')"
  echo "check-jsonschema: $("$CHECK_JSONSCHEMA" --version)"
  echo "cat: $(cat --version | head -n1)"
} >"$OUT/machine.txt"
cat "$OUT/machine.txt" >&2

# ---------------------------------------------------------------------------------------------
# compare GROUP ROUNDS -- NAME RUNS WARMUP SHELL COMMAND [-- NAME RUNS WARMUP SHELL COMMAND]...
# Runs every command of the group once per round (hyperfine, RUNS runs after WARMUP warm-up
# runs; SHELL is "none" for -N or "sh"), reversing the order every other round, then merges the
# rounds into $OUT/raw/GROUP.json and .md. Commands are measured from $WORK.
compare() {
  local group=$1 rounds=$2
  shift 3
  local -a names=() runs=() warm=() shells=() cmds=()
  while (($#)); do
    names+=("$1") runs+=("$2") warm+=("$3") shells+=("$4") cmds+=("$5")
    shift 5
    [[ ${1-} == -- ]] && shift
  done
  rm -f "$WORK/rounds/$group".*.json
  local r i k n=${#names[@]}
  for ((r = 0; r < rounds; r++)); do
    for ((k = 0; k < n; k++)); do
      if ((r % 2)); then i=$((n - 1 - k)); else i=$k; fi
      local -a shell_opt=()
      [[ ${shells[i]} == none ]] && shell_opt=(-N)
      (cd "$WORK" && hyperfine "${shell_opt[@]}" --style basic --warmup "${warm[i]}" --runs "${runs[i]}" \
        --command-name "${names[i]}" --export-json "$WORK/rounds/$group.$i.$r.json" "${cmds[i]}" \
        | grep -E 'Time|Range' >&2) || { echo "bench.sh: ${names[i]} failed" >&2; return 1; }
    done
  done
  python3 benches/report.py merge "$group" "$WORK/rounds" "$OUT/raw" "${names[@]}"
}

# ---------------------------------------------------------------------------------------------
if wants render; then
  log "render: gloo-istio render vs helm template"
  if ((QUICK)); then
    cases=(a-defaults c-istio-integration-automtls k8-second-proxy-inheriting-these)
    rounds=2 ours_runs=10 helm_runs=3
  else
    mapfile -t cases < <(cd "$REF" && for v in *.values.yaml; do echo "${v%.values.yaml}"; done)
    rounds=3 ours_runs=20 helm_runs=5
  fi
  for c in "${cases[@]}"; do
    v=$REF/$c.values.yaml
    echo "-- $c" >&2
    "$GI" render -q -f "$v" >"$WORK/render.$c.gloo-istio.yaml" 2>"$WORK/render.$c.gloo-istio.stderr"
    "$HELM" template gloo "$repo_root/benches/data/gloo-istio-chart" -n gloo-system -f "$v" >"$WORK/render.$c.helm.yaml"
    compare "render.$c" "$rounds" -- \
      gloo-istio "$ours_runs" 3 none "$GI render -q -f $v" -- \
      "helm template (gloo-istio-chart)" "$helm_runs" 1 none \
      "$HELM template gloo $repo_root/benches/data/gloo-istio-chart -n gloo-system -f $v" -- \
      "helm template (gloo-shaped-chart)" "$helm_runs" 1 none \
      "$HELM template gloo $repo_root/tests/data/gloo-shaped-chart -n gloo-system -f $v"
  done
fi

# ---------------------------------------------------------------------------------------------
# The post-renderer input: what helm 3 gives a post-renderer for the chart defaults (case a,
# no Istio yet, so gloo-istio has real edits to make), plus N synthetic documents.
BASE=$repo_root/benches/data/helm3-stdin.a-defaults.yaml
BOOT=$repo_root/benches/data/envoy-bootstrap.c.yaml
python3 benches/gen/helm3_stdin.py "$REF/a-defaults.rendered.yaml" | cmp -s - "$BASE" \
  || { echo "bench.sh: $BASE is not the helm stdin of $REF/a-defaults.rendered.yaml" >&2; exit 1; }
cmp -s "$BOOT" "$REF/split/c-istio-integration-automtls.envoy.gateway-proxy-envoy-config.yaml" \
  || { echo "bench.sh: $BOOT differs from the reference bootstrap" >&2; exit 1; }
PR_VALUES=$REF/c-istio-integration-automtls.values.yaml
if ((QUICK)); then SIZES=(1000 5000); else SIZES=(1000 5000 20000); fi
synth() { # N -> path
  local f=$WORK/synth-$1.yaml
  if [[ ! -s $f ]]; then
    python3 "$REF/bench/gen_synth.py" "$1" "$BASE" "$BOOT" >"$f.tmp" && mv "$f.tmp" "$f"
  fi
  echo "$f"
}
kustomize_ok() { # N -> whether kustomize runs at this size in this mode
  [[ -n $KUBECTL ]] && { (($1 <= 1000)) || { ((!QUICK)) && (($1 <= 5000)); }; }
}
PR_CAT="cat"
PR_GI="$GI post-render -q -f $PR_VALUES"
PR_PY="$PY $repo_root/benches/peers/pyyaml_roundtrip.py"
PR_KUSTOMIZE="bash $REF/postrender/kustomize-post-renderer.sh"

if wants postrender; then
  log "post-render: cat | gloo-istio post-render, PyYAML, kubectl kustomize, cat"
  for n in "${SIZES[@]}"; do
    f=$(synth "$n")
    echo "-- N=$n ($(stat -c %s "$f") bytes)" >&2
    # One checked run of each: the output must be a stream of the same documents.
    $PR_GI <"$f" >"$WORK/pr.$n.gloo-istio.yaml"
    python3 benches/report.py check-stream "$f" "$WORK/pr.$n.gloo-istio.yaml" >&2
    if ((QUICK)); then fast_runs=3 rounds=2; else fast_runs=5 rounds=3; fi
    args=(cat "$fast_runs" 1 sh "cat $f | $PR_CAT >/dev/null"
      -- gloo-istio "$fast_runs" 1 sh "cat $f | $PR_GI >/dev/null")
    # The slow peers' peak memory is taken in their timed runs (GNU time costs ~1 ms of their
    # seconds), so that the memory pass need not run them again.
    rm -f "$WORK"/mem.*."$n"
    memwrap() { # TOOL CMD
      echo "/usr/bin/time -f %M -a -o $WORK/mem.$1.$n sh -c 'cat $f | $2 >/dev/null'"
    }
    if ((n <= 5000 || !QUICK)); then
      py_runs=$(((n >= 20000) ? 1 : (QUICK ? 1 : 2)))
      args+=(-- "PyYAML (C) round trip" "$py_runs" 0 sh "$(memwrap pyyaml "$PR_PY")")
    fi
    if kustomize_ok "$n"; then
      k_runs=$(((n >= 5000) ? 1 : 2))
      args+=(-- "kubectl kustomize (1 patch)" "$k_runs" 0 sh "$(memwrap kustomize "$PR_KUSTOMIZE")")
    fi
    # Slow peers cap the rounds: 20,000 with PyYAML is ~25 s a run.
    r=$rounds
    ((n >= 5000)) && r=$((QUICK ? 1 : 2))
    compare "postrender.$n" "$r" -- "${args[@]}"
  done
fi

if wants memory; then
  log "post-render peak memory (max RSS, one run each)"
  : >"$OUT/raw/memory.tsv"
  for n in "${SIZES[@]}"; do
    f=$(synth "$n")
    for tool in cat gloo-istio pyyaml kustomize; do
      case $tool in
        cat) cmd=$PR_CAT ;;
        gloo-istio) cmd=$PR_GI ;;
        pyyaml) cmd=$PR_PY ;;
        kustomize) kustomize_ok "$n" || continue; cmd=$PR_KUSTOMIZE ;;
      esac
      recorded=$WORK/mem.$tool.$n
      if wants postrender && [[ -s $recorded ]]; then
        # Taken in this run's timed runs: the largest of them.
        printf '%s\t%s\t%s\t%s\t%s\n' "$n" "$(stat -c %s "$f")" "$tool" "$(sort -n "$recorded" | tail -n1)" \
          "timed-runs" | tee -a "$OUT/raw/memory.tsv" >&2
        continue
      fi
      # GNU time reports the largest max RSS of the processes it waited for: the tool's.
      /usr/bin/time -f '%M %e' -o "$WORK/time.out" sh -c "cat $f | $cmd >/dev/null"
      read -r kb secs <"$WORK/time.out"
      printf '%s\t%s\t%s\t%s\t%s\n' "$n" "$(stat -c %s "$f")" "$tool" "$kb" "$secs" | tee -a "$OUT/raw/memory.tsv" >&2
    done
  done
fi

# ---------------------------------------------------------------------------------------------
if wants lint; then
  log "lint: 1,000 values files, gloo-istio lint vs check-jsonschema"
  LINT_DIR=$WORK/lint-values
  rm -rf "$LINT_DIR"
  python3 benches/gen/lint_values.py 1000 "$LINT_DIR" values/*.yaml
  # One word per file (the generated names have no spaces); hyperfine -N splits the command too.
  files=$(cd "$WORK" && echo lint-values/*.yaml)
  # shellcheck disable=SC2086
  # Both must accept every file (a full check, not an early exit).
  (cd "$WORK" && "$GI" lint --fail-on error $files >/dev/null 2>"$WORK/lint.stderr") \
    || { echo "bench.sh: gloo-istio lint rejected a generated file:" >&2; tail -20 "$WORK/lint.stderr" >&2; exit 1; }
  # shellcheck disable=SC2086
  (cd "$WORK" && "$CHECK_JSONSCHEMA" --schemafile "$repo_root/docs/values.schema.json" $files >/dev/null) \
    || { echo "bench.sh: check-jsonschema rejected a generated file" >&2; exit 1; }
  if ((QUICK)); then rounds=1 ours_runs=3 peer_runs=1; else rounds=3 ours_runs=5 peer_runs=1; fi
  compare lint "$rounds" -- \
    "gloo-istio lint" "$ours_runs" 1 none "$GI lint $files" -- \
    "check-jsonschema" "$peer_runs" 0 none "$CHECK_JSONSCHEMA --schemafile $repo_root/docs/values.schema.json $files"
fi

# ---------------------------------------------------------------------------------------------
if wants cold; then
  log "cold start"
  if ((QUICK)); then rounds=1 cold_runs=10; else rounds=3 cold_runs=20; fi
  compare cold "$rounds" -- \
    "gloo-istio --version" "$cold_runs" 3 none "$GI --version" -- \
    "gloo-istio render (defaults)" "$cold_runs" 3 none "$GI render -q" -- \
    "helm version" "$cold_runs" 3 none "$HELM version --short" -- \
    "kubectl version --client" "$cold_runs" 3 none "${KUBECTL:-true} version --client" -- \
    "python -c 'import yaml'" "$cold_runs" 3 none "$PY -c 'import yaml'"
fi

# ---------------------------------------------------------------------------------------------
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$OUT/machine.txt"
echo "wall time of bench.sh: $(($(date +%s) - started)) s" >>"$OUT/machine.txt"
log "report"
python3 benches/report.py summarize "$OUT"
echo "results: $OUT/results.md ($(($(date +%s) - started)) s)" >&2
