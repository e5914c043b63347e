"""Writes N realistic values files for the lint benchmark (scripts/bench.sh).

usage: python3 benches/gen/lint_values.py N OUT_DIR [values/*.yaml ...]

File i is values/<base i mod len(bases)> with its comments kept and its values varied the way
real repositories vary them: namespaces, service names and ports of the Upstreams, replicas,
the istiod revision, mesh and cluster ids, the proxyv2 patch version; files whose last key is
`upstreams:` get 0 to 5 more Upstreams. Every file stays valid (`gloo-istio lint` and
check-jsonschema against docs/values.schema.json accept them), so both tools do a full check.
Deterministic: the same N gives the same bytes."""
import os
import re
import sys


def vary(text, i):
    subs = [
        (r"namespace: bookinfo", lambda m: f"namespace: team-{i % 37}"),
        (r"namespace: legacy", lambda m: f"namespace: legacy-{i % 5}"),
        (r"(\n\s*-? ?service: )([a-z][a-z-]*)", lambda m: f"{m.group(1)}{m.group(2)}-{i % 97}"),
        (r"(\n\s*- name: )(legacy-billing|reviews)", lambda m: f"{m.group(1)}{m.group(2)}-{i}"),
        (r"port: 9080", lambda m: f"port: {9000 + i % 500}"),
        (r"replicas: \d+", lambda m: f"replicas: {1 + i % 4}"),
        (r"istiod-1-22", lambda m: f"istiod-1-{20 + i % 5}"),
        (r"istiod-canary", lambda m: f"istiod-canary-{i % 3}"),
        (r"mesh-west", lambda m: f"mesh-{i % 7}"),
        (r"cluster-(west|internal)", lambda m: f"cluster-{m.group(1)}-{i % 11}"),
        (r"tag: 1\.22\.6", lambda m: f"tag: 1.22.{i % 9}"),
        (r"logLevel: debug", lambda m: "logLevel: " + ("debug", "info", "warning")[i % 3]),
        (r"(runAsUser|fsGroup): 10101", lambda m: f"{m.group(1)}: {10101 + i % 100}"),
        (r"cpu: 500m", lambda m: f"cpu: {100 * (1 + i % 8)}m"),
    ]
    for pattern, repl in subs:
        text = re.sub(pattern, repl, text)
    top = [l for l in text.splitlines() if re.match(r"^[a-zA-Z]", l)]
    if top and top[-1].startswith("upstreams:"):
        text = text.rstrip("\n") + "\n"
        for k in range(i % 6):
            text += (
                f"  - service: svc-{i}-{k}\n"
                f"    namespace: ns-{(i + k) % 23}\n"
                f"    port: {8000 + k}\n"
            )
            if k % 3 == 2:
                text += "    mtls: none\n"
    return f"# generated variation {i} of {os.path.basename(BASES[i % len(BASES)])}\n" + text


n, out = int(sys.argv[1]), sys.argv[2]
BASES = sorted(sys.argv[3:]) or sorted(
    os.path.join("values", f) for f in os.listdir("values") if f.endswith(".yaml")
)
texts = [open(p).read() for p in BASES]
os.makedirs(out, exist_ok=True)
width = len(str(n - 1))
for i in range(n):
    with open(os.path.join(out, f"values-{i:0{width}d}.yaml"), "w") as f:
        f.write(vary(texts[i % len(texts)], i))
