# The two gloo-istio images for machines that can pull from a registry: one builder stage makes
# the build context with scripts/image.sh, the same script and artefacts as on a machine
# without a registry (a static musl gloo-istio of the release profile, helm 3 from the pin of
# .ci/install-peers.sh, Debian's busybox-static), and the final stages are the Containerfile's,
# instruction for instruction, copying from that stage. tests/argocd.rs checks that they are.
# What the tests build and run is the Containerfile, from `bash scripts/image.sh build`
# (docs/argocd.md); this file's builder stage is the part that only runs where a registry is.
#
#   docker build --target gloo-istio     -t registry.example.com/gloo-istio:0.1.0 .
#   docker build --target gloo-istio-cmp -t registry.example.com/gloo-istio-cmp:0.1.0 .

ARG RUST_IMAGE=docker.io/library/rust:1.95-bookworm

FROM ${RUST_IMAGE} AS artefacts
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
       busybox-static python3-venv \
    && rm -rf /var/lib/apt/lists/* \
    && rustup target add x86_64-unknown-linux-musl
WORKDIR /src
COPY . .
RUN bash scripts/image.sh context /context

# ---- the Containerfile's stages --------------------------------------------------------------

# gloo-istio alone, for CI jobs and pipelines:
#   helm template … | docker run --rm -i -v "$PWD:/work:ro" IMAGE post-render -f /work/values.yaml
FROM scratch AS gloo-istio
COPY --from=artefacts /context/gloo-istio /usr/local/bin/gloo-istio
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/gloo-istio"]

# The Argo CD config-management plugin sidecar (deploy/argocd/, docs/argocd.md): the CMP server
# runs plugin.yaml's generate command, `sh -c SCRIPT`, which calls helm and gloo-istio.
FROM scratch AS gloo-istio-cmp
COPY --from=artefacts /context/cmp-rootfs/ /
COPY --from=artefacts /context/gloo-istio /usr/local/bin/gloo-istio
ENV PATH=/usr/local/bin:/bin \
    HOME=/tmp \
    HELM_CACHE_HOME=/tmp/helm/cache \
    HELM_CONFIG_HOME=/tmp/helm/config \
    HELM_DATA_HOME=/tmp/helm/data
USER 999:999
WORKDIR /tmp
# Argo CD starts the sidecar with /var/run/argocd/argocd-cmp-server (deploy/argocd/
# repo-server-patch.yaml); this default only makes a plain `run IMAGE` print the version.
ENTRYPOINT ["/usr/local/bin/gloo-istio"]
CMD ["--version"]
