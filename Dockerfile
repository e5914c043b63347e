# gloo-istio as an Argo CD Config Management Plugin sidecar (deploy/argocd/, docs/argocd.md):
# static gloo-istio, static helm, a static busybox shell for the plugin's generate script, and
# deploy/argocd/plugin.yaml where the Argo CD CMP server looks for it. Runs as user 999.
#
#   docker build -t registry.example.com/gloo-istio-cmp:0.1.0 .
#
# UNTESTED HERE: the machines this project is developed and tested on have no container engine,
# so this file has never been built. What is tested (tests/argocd.rs) is the plugin's generate
# command with the same gloo-istio and helm 3 on PATH.

ARG RUST_IMAGE=rust:1.95-bookworm
ARG BUSYBOX_IMAGE=busybox:1.37.0-musl

# --- gloo-istio, statically linked (musl), the release profile users get --------------------
FROM ${RUST_IMAGE} AS build
RUN rustup target add x86_64-unknown-linux-musl
WORKDIR /src
# Only what the build reads (the templates are embedded with include_str!).
COPY Cargo.toml Cargo.lock README.md ./
COPY src ./src
COPY templates ./templates
RUN cargo build --release --locked --target x86_64-unknown-linux-musl \
    && install -D -m 0755 target/x86_64-unknown-linux-musl/release/gloo-istio /out/gloo-istio

# --- helm 3 (the official build is static) -------------------------------------------------
FROM ${RUST_IMAGE} AS helm
ARG HELM_VERSION=v3.19.0
# Set to the published sha256 of helm-${HELM_VERSION}-linux-amd64.tar.gz to pin it; when empty,
# the archive is checked against the .sha256sum file next to it on get.helm.sh.
ARG HELM_SHA256=
WORKDIR /tmp/helm
RUN set -eu; \
    archive="helm-${HELM_VERSION}-linux-amd64.tar.gz"; \
    curl -fsSLO "https://get.helm.sh/${archive}"; \
    if [ -z "${HELM_SHA256}" ]; then \
      HELM_SHA256=$(curl -fsSL "https://get.helm.sh/${archive}.sha256sum" | cut -d' ' -f1); \
    fi; \
    echo "${HELM_SHA256}  ${archive}" | sha256sum -c -; \
    tar -xzf "${archive}" linux-amd64/helm; \
    install -D -m 0755 linux-amd64/helm /out/helm

# --- a root file system: busybox as /bin/sh, /tmp, the plugin config ------------------------
FROM ${BUSYBOX_IMAGE} AS rootfs
COPY deploy/argocd/plugin.yaml /rootfs/home/argocd/cmp-server/config/plugin.yaml
RUN mkdir -p /rootfs/bin /rootfs/tmp /rootfs/usr/local/bin \
    && cp /bin/busybox /rootfs/bin/busybox \
    && ln -s busybox /rootfs/bin/sh \
    && chmod 1777 /rootfs/tmp \
    && chmod 0644 /rootfs/home/argocd/cmp-server/config/plugin.yaml

# --- the image ------------------------------------------------------------------------------
FROM scratch
COPY --from=rootfs /rootfs/ /
COPY --from=helm /out/helm /usr/local/bin/helm
COPY --from=build /out/gloo-istio /usr/local/bin/gloo-istio
ENV PATH=/usr/local/bin:/bin \
    HOME=/tmp \
    HELM_CACHE_HOME=/tmp/helm/cache \
    HELM_CONFIG_HOME=/tmp/helm/config \
    HELM_DATA_HOME=/tmp/helm/data
USER 999:999
WORKDIR /tmp
# Argo CD starts the sidecar with /var/run/argocd/argocd-cmp-server (deploy/argocd/
# repo-server-patch.yaml); this default only makes `docker run IMAGE` print the version.
ENTRYPOINT ["/usr/local/bin/gloo-istio"]
CMD ["--version"]
