//! The stable codes. Each has a section in `docs/diagnostics.md`.

/// The file is not valid YAML.
pub const YAML_SYNTAX: &str = "GI001";
/// A mapping repeats a key.
pub const DUPLICATE_KEY: &str = "GI002";
/// A key we own is unknown (usually misspelt).
pub const UNKNOWN_KEY: &str = "GI003";
/// A value has the wrong type or is not one of the allowed values.
pub const INVALID_VALUE: &str = "GI004";
/// A file cannot be read.
pub const UNREADABLE: &str = "GI005";
/// A chart key that gloo-istio accepts but does not render.
pub const NOT_RENDERED: &str = "GI006";
/// A `--set` argument cannot be parsed.
pub const BAD_SET: &str = "GI007";
/// A values file holds U+0085, U+2028 or U+2029, which Helm reads as line breaks and we do not.
pub const YAML_1_1_LINE_BREAK: &str = "GI008";
/// An Istio address is empty or not `host:port`.
pub const ISTIO_ADDRESS: &str = "GI010";
/// A STATIC envoy cluster uses a name where envoy needs an IP address.
pub const STATIC_CLUSTER_NOT_IP: &str = "GI011";
/// An extra envoy cluster reuses the name of a cluster the bootstrap already defines.
pub const DUPLICATE_CLUSTER: &str = "GI012";
/// A `*Helper` key names a Helm template that does not exist.
pub const UNKNOWN_HELPER: &str = "GI013";
/// A chart feature that needs Helm itself (`gateway.updateValues`).
pub const UNSUPPORTED: &str = "GI014";
/// An Upstream entry is invalid (name, port, duplicate).
pub const UPSTREAM: &str = "GI015";
/// `enableAutoMtls` is on, but Settings `enableIntegration` stays off.
pub const AUTOMTLS_INERT: &str = "GI016";
/// `global.istioSDS.enabled` is deprecated.
pub const DEPRECATED: &str = "GI017";
/// Two settings cancel each other or fight over the pod.
pub const CONFLICTING_FLAGS: &str = "GI018";
/// A setting that has no effect where it is.
pub const IGNORED_SETTING: &str = "GI019";
/// `customSidecars` that leave the sds sidecar without certificates, or clash by name.
pub const CUSTOM_SIDECARS: &str = "GI020";
/// An Istio address that does not look like istiod, or names another revision.
pub const ISTIOD_ADDRESS: &str = "GI021";
/// A label value Kubernetes rejects, or one that only survives because we quote it.
pub const LABEL_VALUE: &str = "GI022";
/// A custom bootstrap without the `gateway_proxy_sds` cluster while the sds sidecar runs.
pub const CUSTOM_BOOTSTRAP: &str = "GI023";
/// The `proxyv2` image: unpinned, or not matching the Istio version.
pub const PROXYV2_IMAGE: &str = "GI024";
/// An Upstream mTLS mode that cannot work with the rest of the values.
pub const UPSTREAM_MODE: &str = "GI025";
/// A choice that weakens the pods' secure defaults or the sidecar's trust in istiod.
pub const WEAKENED_SECURITY: &str = "GI026";
/// A gateway proxy key that gives no valid resource name, or the name of another proxy.
pub const PROXY_NAME: &str = "GI027";
/// `analyze`: the transport Gloo uses for an Upstream.
pub const ANALYZE_TRANSPORT: &str = "GI030";
/// `analyze`: plain text to pods whose peer authentication is STRICT.
pub const ANALYZE_STRICT_PLAINTEXT: &str = "GI031";
/// `analyze`: an Istio sslConfig to pods whose peer authentication is DISABLE.
pub const ANALYZE_DISABLE_MTLS: &str = "GI032";
/// `analyze`: Settings with auto-mTLS but without the integration.
pub const ANALYZE_AUTOMTLS: &str = "GI033";
/// `analyze`: an sds sslConfig while a gateway proxy has no sds sidecar or cluster.
pub const ANALYZE_NO_SDS: &str = "GI034";
/// `analyze`: an sds `targetUri` that is not an IP address and port.
pub const ANALYZE_TARGET_URI: &str = "GI035";
/// `analyze`: auto-mTLS sends Istio mTLS to pods or ports that do not accept it.
pub const ANALYZE_AUTOMTLS_REFUSED: &str = "GI036";
/// `analyze`: an sds `clusterName` that a gateway proxy's bootstrap lacks.
pub const ANALYZE_SDS_CLUSTER: &str = "GI037";
/// `analyze`: a pod label `security.istio.io/tlsMode` other than `istio` under auto-mTLS.
pub const ANALYZE_TLS_MODE_LABEL: &str = "GI038";
/// `analyze`: the Service, port or pods an Upstream names do not exist as named.
pub const ANALYZE_TARGET: &str = "GI039";
/// A stream edit would overwrite something that differs, or is not possible as asked.
pub const STREAM_CONFLICT: &str = "GI040";
/// A stream shape gloo-istio does not edit (flow-style lists, glooMtls added afterwards).
pub const STREAM_UNSUPPORTED: &str = "GI041";
/// What a stream command was asked to change is not in the stream.
pub const STREAM_NOT_FOUND: &str = "GI042";
/// A stream command's report (`Istio injection was successful!` …).
pub const STREAM_NOTE: &str = "GI043";
/// `lint`'s release file (`.gloo-istio.yaml`) is not what it should be.
pub const RELEASE_FILE: &str = "GI044";
/// A rendered resource failed its own typed check: a bug in gloo-istio.
pub const INTERNAL: &str = "GI099";
/// `analyze`: a verdict the input cannot decide (a Service, pods or a Namespace not in it).
pub const ANALYZE_UNKNOWN: &str = "GI050";
/// `analyze`: Settings of another install (name or namespace) were ignored.
pub const ANALYZE_SETTINGS: &str = "GI051";
/// `analyze`: the gateway proxies ask an istiod address the installed revision does not serve.
pub const ANALYZE_DISCOVERY_ADDRESS: &str = "GI052";
/// `analyze`: the gateway proxies' mesh or cluster id differs from Istio's.
pub const ANALYZE_MESH_IDENTITY: &str = "GI053";
/// `analyze`: the gateway proxies' proxyv2 image is another minor than the installed Istio.
pub const ANALYZE_PROXY_VERSION: &str = "GI054";
/// `analyze`: istiod's discoverySelectors leave out the gateway's namespace.
pub const ANALYZE_DISCOVERY_SELECTORS: &str = "GI055";
/// `analyze`: namespace injection collides with the integration's istio-proxy container.
pub const ANALYZE_INJECTION_COLLISION: &str = "GI056";
/// `analyze`: a Helm hook Job in a namespace where Istio injects its sidecar.
pub const ANALYZE_HOOK_JOB: &str = "GI057";
/// `analyze`: the deprecated sidecar on the gateway.
pub const ANALYZE_SIDECAR_ON_GATEWAY: &str = "GI058";
/// post-render: `-n` names another namespace than the gateway-proxy workloads of the stream.
pub const STREAM_NAMESPACE: &str = "GI060";
/// render: a `--show-only` selector is not `KIND/NAME` or picks no rendered resource.
pub const SHOW_ONLY: &str = "GI061";
/// `render MANIFEST`: the deployer renders nothing for a Gateway (helm or the controller fails).
pub const K8S_GATEWAY_REFUSED: &str = "GI070";
/// `render MANIFEST`: a Gateway gets no objects (self-managed, or a class of another controller).
pub const K8S_GATEWAY_NO_OBJECTS: &str = "GI071";
/// `istio.customSidecars` of a GatewayParameters: never used by the deployer.
pub const K8S_GATEWAY_CUSTOM_SIDECARS: &str = "GI072";
/// Gateway proxies with an istio-proxy container and no `sidecar.istio.io/inject` label.
pub const K8S_GATEWAY_INJECT_LABEL: &str = "GI073";
/// A Gateway-level mesh identity that the class default's overrides.
pub const K8S_GATEWAY_MESH_IDENTITY: &str = "GI074";
/// Istio settings of a GatewayParameters while the controller's Istio integration is off.
pub const K8S_GATEWAY_ISTIO_OFF: &str = "GI075";
/// A mesh value the deployer writes unquoted that is not text once unquoted.
pub const K8S_GATEWAY_UNQUOTED: &str = "GI076";
/// An unquoted YAML 1.1 boolean word in a string map of the class default GatewayParameters.
pub const K8S_GATEWAY_YAML_1_1_BOOLEAN: &str = "GI077";
/// A Gateway proxy image without registry, repository or tag.
pub const K8S_GATEWAY_IMAGE: &str = "GI078";
/// A ListenerSet let in by `from: Selector` whose Namespace is not in the manifests.
pub const K8S_GATEWAY_SELECTOR_ASSUMED: &str = "GI079";
