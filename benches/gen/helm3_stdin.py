"""What helm 3 passes a post-renderer, cut out of a full `helm template` output: the documents
without a `helm.sh/hook` annotation, in order (helm prints the non-hook manifests first, in its
install order, then the hooks; the post-renderer only gets the former).

usage: python3 benches/gen/helm3_stdin.py NAME.rendered.yaml > stdin.yaml

On shared/reference/gloo-chart/c-istio-integration-automtls.rendered.yaml this gives
postrender/helm3-stdin.c-istio-integration-automtls.yaml byte for byte (checked by
scripts/bench.sh); scripts/bench.sh uses it on case a (the chart defaults, no Istio), so that
`gloo-istio post-render` has real edits to make on the gateway-proxy workload."""
import re
import sys

text = open(sys.argv[1]).read()
docs = re.split(r"(?m)^(?=---\n)", text)
keep = [d for d in docs if d.strip() and not re.search(r"(?m)^\s+\"?helm\.sh/hook\"?:", d)]
sys.stdout.write("".join(keep))
