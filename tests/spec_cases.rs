//! The numbered test cases of `gloo-istio-behavior.md` §6 that concern the gateway-proxy
//! Deployment, its ConfigMap and the Upstreams, one test each, named after the case. Expected
//! values come from the spec text (and so from the chart), not from our output.

use gloo_istio::pipeline::{RenderOptions, render_files};
use gloo_istio::render::ManifestKind;
use gloo_istio::yaml;
use serde_json::{Value, json};

/// The rendered documents for `values` (YAML text) plus `--set` arguments.
fn render(values: &str, set: &[&str]) -> Vec<(ManifestKind, Value)> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("values.yaml");
    std::fs::write(&path, values).unwrap();
    let opts = RenderOptions {
        values_files: vec![path],
        set: gloo_istio::values::set_flags::SetFlags::typed(set.iter().map(|s| s.to_string()).collect()),
        ..RenderOptions::default()
    };
    let rendered = render_files(&opts).unwrap_or_else(|f| panic!("render failed:\n{f}"));
    rendered
        .manifests
        .iter()
        .map(|m| {
            (
                m.kind,
                yaml::load_document(m.text.as_bytes(), yaml::Limits::default())
                    .unwrap()
                    .unwrap()
                    .to_json(),
            )
        })
        .collect()
}

fn render_err(values: &str, set: &[&str]) -> gloo_istio::Failure {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("values.yaml");
    std::fs::write(&path, values).unwrap();
    let opts = RenderOptions {
        values_files: vec![path],
        set: gloo_istio::values::set_flags::SetFlags::typed(set.iter().map(|s| s.to_string()).collect()),
        ..RenderOptions::default()
    };
    render_files(&opts).expect_err("the values must be rejected")
}

fn workload<'a>(docs: &'a [(ManifestKind, Value)], name: &str) -> &'a Value {
    docs.iter()
        .find(|(k, d)| matches!(k, ManifestKind::Deployment | ManifestKind::DaemonSet) && d["metadata"]["name"] == name)
        .map(|(_, d)| d)
        .unwrap_or_else(|| panic!("no workload {name}"))
}

fn gp(docs: &[(ManifestKind, Value)]) -> &Value {
    workload(docs, "gateway-proxy")
}

fn config_map<'a>(docs: &'a [(ManifestKind, Value)], name: &str) -> &'a Value {
    docs.iter()
        .find(|(k, d)| *k == ManifestKind::ConfigMap && d["metadata"]["name"] == name)
        .map(|(_, d)| d)
        .unwrap_or_else(|| panic!("no ConfigMap {name}"))
}

fn bootstrap(docs: &[(ManifestKind, Value)], cm: &str) -> Value {
    let text = config_map(docs, cm)["data"]["envoy.yaml"]
        .as_str()
        .expect("envoy.yaml")
        .to_string();
    yaml::load_document(text.as_bytes(), yaml::Limits::default())
        .unwrap()
        .unwrap()
        .to_json()
}

fn containers(workload: &Value) -> Vec<&Value> {
    workload["spec"]["template"]["spec"]["containers"]
        .as_array()
        .unwrap()
        .iter()
        .collect()
}

fn container_names(workload: &Value) -> Vec<String> {
    containers(workload)
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_string())
        .collect()
}

fn container<'a>(workload: &'a Value, name: &str) -> &'a Value {
    containers(workload)
        .into_iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no container {name}"))
}

fn env<'a>(container: &'a Value, name: &str) -> Option<&'a Value> {
    container["env"]
        .as_array()?
        .iter()
        .find(|e| e["name"] == name)
        .map(|e| &e["value"])
}

fn env_names(container: &Value) -> Vec<String> {
    container["env"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap().to_string())
        .collect()
}

fn volume_names(workload: &Value) -> Vec<String> {
    workload["spec"]["template"]["spec"]["volumes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["name"].as_str().unwrap().to_string())
        .collect()
}

fn pod_labels(workload: &Value) -> &Value {
    &workload["spec"]["template"]["metadata"]["labels"]
}

fn pod_annotations(workload: &Value) -> &Value {
    &workload["spec"]["template"]["metadata"]["annotations"]
}

fn proxy_config_address(istio_proxy: &Value) -> Value {
    let text = env(istio_proxy, "PROXY_CONFIG").unwrap().as_str().unwrap().to_string();
    yaml::load_document(text.as_bytes(), yaml::Limits::default())
        .unwrap()
        .unwrap()
        .to_json()["discoveryAddress"]
        .clone()
}

fn cluster_names(bootstrap: &Value) -> Vec<String> {
    bootstrap["static_resources"]["clusters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_string())
        .collect()
}

const ISTIO: &str = "global: {istioIntegration: {enabled: true}}";
const MTLS_ISTIO: &str = "global: {glooMtls: {enabled: true}, istioIntegration: {enabled: true}}";

#[test]
fn case_01_istio_integration_adds_sds_and_istio_proxy() {
    let docs = render(
        "global:\n  istioIntegration: {enabled: true}\n  glooMtls:\n    sds: {logLevel: error}\n    istioProxy: {logLevel: warning}\ngloo: {logLevel: debug}\n",
        &[],
    );
    let gp = gp(&docs);
    assert_eq!(containers(gp).len(), 3);
    let sds = container(gp, "sds");
    assert_eq!(env(sds, "ISTIO_MTLS_SDS_ENABLED"), Some(&json!("true")));
    assert_eq!(env(sds, "LOG_LEVEL"), Some(&json!("error")));
    let istio = container(gp, "istio-proxy");
    assert_eq!(istio["image"], "docker.io/istio/proxyv2:1.22.0");
    assert!(
        istio["args"]
            .as_array()
            .unwrap()
            .contains(&json!("--proxyLogLevel=warning"))
    );
    let volumes = gp["spec"]["template"]["spec"]["volumes"].as_array().unwrap();
    assert!(volumes.contains(&json!({"name": "istio-certs", "emptyDir": {"medium": "Memory"}})));
    assert!(cluster_names(&bootstrap(&docs, "gateway-proxy-envoy-config")).contains(&"gateway_proxy_sds".to_string()));
}

const CUSTOM_SIDECAR: &str = r#"
global:
  istioSDS:
    enabled: true
    customSidecars:
      - name: istio-proxy
        image: docker.io/istio/proxyv2:1.6.6
        env:
          - {name: OUTPUT_CERTS, value: /etc/istio-certs}
          - {name: ISTIO_META_MESH_ID, value: cluster.local}
        volumeMounts:
          - {mountPath: /var/run/secrets/istio, name: istiod-ca-cert}
          - {mountPath: /etc/istio/proxy, name: istio-envoy}
          - {mountPath: /etc/istio-certs/, name: istio-certs}
          - {mountPath: /var/run/secrets/tokens, name: istio-token}
"#;

#[test]
fn case_02_custom_sidecar_replaces_istio_proxy() {
    let docs = render(CUSTOM_SIDECAR, &[]);
    let gp = gp(&docs);
    assert_eq!(container_names(gp), ["gateway-proxy", "sds", "istio-proxy"]);
    assert_eq!(container(gp, "istio-proxy")["image"], "docker.io/istio/proxyv2:1.6.6");
    assert_eq!(
        env(container(gp, "sds"), "ISTIO_MTLS_SDS_ENABLED"),
        Some(&json!("true"))
    );
    assert!(volume_names(gp).contains(&"istio-certs".to_string()));
    assert!(cluster_names(&bootstrap(&docs, "gateway-proxy-envoy-config")).contains(&"gateway_proxy_sds".to_string()));
}

#[test]
fn case_03_custom_sidecar_is_emitted_verbatim() {
    let docs = render(CUSTOM_SIDECAR, &[]);
    let gp = gp(&docs);
    let istio = container(gp, "istio-proxy");
    assert_eq!(env_names(istio), ["OUTPUT_CERTS", "ISTIO_META_MESH_ID"]);
    assert!(env(istio, "ISTIO_META_CLUSTER_ID").is_none() && env(istio, "DISABLE_ENVOY").is_none());
    assert_eq!(istio["volumeMounts"].as_array().unwrap().len(), 4);
    assert_eq!(
        volume_names(gp),
        [
            "envoy-config",
            "istio-certs",
            "istiod-ca-cert",
            "istio-envoy",
            "istio-token",
            "credential-socket",
            "workload-socket",
            "workload-certs"
        ]
    );
}

#[test]
fn case_04_gloo_mtls_and_istio_integration_containers() {
    let docs = render(MTLS_ISTIO, &[]);
    let mut names = container_names(gp(&docs));
    names.sort();
    assert_eq!(names, ["gateway-proxy", "istio-proxy", "sds"]);
}

#[test]
fn case_05_gloo_mtls_and_deprecated_istio_sds_containers() {
    let docs = render("global: {glooMtls: {enabled: true}, istioSDS: {enabled: true}}", &[]);
    let mut names = container_names(gp(&docs));
    names.sort();
    assert_eq!(names, ["gateway-proxy", "istio-proxy", "sds"]);
}

const IMAGE_OVERRIDES: [&str; 7] = [
    "global.glooMtls.sds.image.tag=my-sds-tag",
    "global.glooMtls.sds.image.repository=my-sds-repo",
    "global.glooMtls.sds.image.registry=my-sds-reg",
    "global.glooMtls.istioProxy.image.tag=my-istio-tag",
    "global.glooMtls.istioProxy.image.repository=my-istio-repo",
    "global.glooMtls.istioProxy.image.registry=my-istio-reg",
    "global.glooMtls.istioProxy.image.pullPolicy=Always",
];

fn assert_image_overrides(docs: &[(ManifestKind, Value)]) {
    let gp = gp(docs);
    let c = containers(gp);
    assert_eq!(c[1]["name"], "sds");
    assert_eq!(c[1]["image"], "my-sds-reg/my-sds-repo:my-sds-tag");
    assert_eq!(c[1]["imagePullPolicy"], "IfNotPresent");
    assert_eq!(c[2]["name"], "istio-proxy");
    assert_eq!(c[2]["image"], "my-istio-reg/my-istio-repo:my-istio-tag");
    assert_eq!(c[2]["imagePullPolicy"], "Always");
    let mounts = c[2]["volumeMounts"].as_array().unwrap();
    assert_eq!(
        mounts[4],
        json!({"mountPath": "/var/run/secrets/credential-uds", "name": "credential-socket"})
    );
    assert_eq!(
        mounts[5],
        json!({"mountPath": "/var/run/secrets/workload-spiffe-uds", "name": "workload-socket"})
    );
    assert_eq!(
        mounts[6],
        json!({"mountPath": "/var/run/secrets/workload-spiffe-credentials", "name": "workload-certs"})
    );
    let volumes = gp["spec"]["template"]["spec"]["volumes"].as_array().unwrap();
    for (i, name) in [(5, "credential-socket"), (6, "workload-socket"), (7, "workload-certs")] {
        assert_eq!(volumes[i], json!({"name": name, "emptyDir": {}}));
    }
}

#[test]
fn case_06_sds_and_istio_proxy_images_can_be_overridden() {
    assert_image_overrides(&render(MTLS_ISTIO, &IMAGE_OVERRIDES));
}

#[test]
fn case_07_image_overrides_with_deprecated_istio_sds() {
    assert_image_overrides(&render(
        "global: {glooMtls: {enabled: true}, istioSDS: {enabled: true}}",
        &IMAGE_OVERRIDES,
    ));
}

#[test]
fn case_08_istio_proxy_image_tag_digest_and_variant() {
    for variant in ["standard", "fips", "distroless", "fips-distroless"] {
        let digest_key = match variant {
            "fips" => "fipsDigest",
            "distroless" => "distrolessDigest",
            "fips-distroless" => "fipsDistrolessDigest",
            _ => "digest",
        };
        for (tag, digest, expected) in [
            ("", "", "my-istio-reg/my-istio-repo"),
            ("tag1", "", "my-istio-reg/my-istio-repo:tag1"),
            ("", "digest1", "my-istio-reg/my-istio-repo@digest1"),
            ("tag1", "digest1", "my-istio-reg/my-istio-repo:tag1@digest1"),
        ] {
            let values = format!(
                "global:\n  glooMtls:\n    enabled: true\n    istioProxy:\n      image: {{registry: my-istio-reg, repository: my-istio-repo, tag: \"{tag}\", {digest_key}: \"{digest}\"}}\n  istioSDS: {{enabled: true}}\n  image: {{variant: {variant}}}\n"
            );
            let docs = render(&values, &[]);
            assert_eq!(
                container(gp(&docs), "istio-proxy")["image"],
                expected,
                "variant {variant}, tag {tag:?}, digest {digest:?}"
            );
        }
    }
}

#[test]
fn case_09_sds_ee_image_variants() {
    for (variant, expected) in [
        ("standard", "my-sds-reg/sds-ee:my-sds-tag"),
        ("fips", "my-sds-reg/sds-ee-fips:my-sds-tag"),
        ("distroless", "my-sds-reg/sds-ee:my-sds-tag-distroless"),
        ("fips-distroless", "my-sds-reg/sds-ee-fips:my-sds-tag-distroless"),
    ] {
        let values = format!(
            "global:\n  glooMtls:\n    enabled: true\n    sds: {{image: {{registry: my-sds-reg, tag: my-sds-tag, repository: sds-ee}}}}\n  image: {{variant: {variant}}}\n"
        );
        let docs = render(&values, &[]);
        let sds = container(gp(&docs), "sds");
        assert_eq!(sds["image"], expected);
        assert_eq!(sds["imagePullPolicy"], "IfNotPresent");
    }
}

#[test]
fn case_10_default_sds_readiness_probe_with_gloo_mtls() {
    let docs = render("global: {glooMtls: {enabled: true}}", &[]);
    let gp = gp(&docs);
    assert_eq!(containers(gp).len(), 2);
    assert_eq!(
        container(gp, "sds")["readinessProbe"],
        json!({"tcpSocket": {"port": 8234}, "initialDelaySeconds": 3, "periodSeconds": 10, "failureThreshold": 3})
    );
}

#[test]
fn case_11_custom_sds_readiness_probe() {
    let docs = render(
        "global:\n  glooMtls:\n    enabled: true\n    sds:\n      readinessProbe:\n        tcpSocket: null\n        httpGet: {path: /healthz/ready, port: 8234, scheme: HTTP}\n        initialDelaySeconds: 5\n        periodSeconds: 15\n        failureThreshold: 5\n",
        &[],
    );
    assert_eq!(
        container(gp(&docs), "sds")["readinessProbe"],
        json!({"httpGet": {"path": "/healthz/ready", "port": 8234, "scheme": "HTTP"}, "initialDelaySeconds": 5, "periodSeconds": 15, "failureThreshold": 5})
    );
}

#[test]
fn case_12_null_removes_the_sds_readiness_probe() {
    let docs = render("global: {glooMtls: {enabled: true, sds: {readinessProbe: null}}}", &[]);
    assert!(container(gp(&docs), "sds").get("readinessProbe").is_none());
}

#[test]
fn case_13_mesh_id_default() {
    let docs = render(MTLS_ISTIO, &[]);
    assert_eq!(
        env(container(gp(&docs), "istio-proxy"), "ISTIO_META_MESH_ID"),
        Some(&json!("cluster.local"))
    );
}

#[test]
fn case_14_mesh_id_set() {
    let docs = render(MTLS_ISTIO, &["gatewayProxies.gatewayProxy.istioMetaMeshId=foo"]);
    assert_eq!(
        env(container(gp(&docs), "istio-proxy"), "ISTIO_META_MESH_ID"),
        Some(&json!("foo"))
    );
}

#[test]
fn case_15_cluster_id_default() {
    let docs = render(MTLS_ISTIO, &[]);
    assert_eq!(
        env(container(gp(&docs), "istio-proxy"), "ISTIO_META_CLUSTER_ID"),
        Some(&json!("Kubernetes"))
    );
}

#[test]
fn case_16_cluster_id_set() {
    let docs = render(MTLS_ISTIO, &["gatewayProxies.gatewayProxy.istioMetaClusterId=bar"]);
    assert_eq!(
        env(container(gp(&docs), "istio-proxy"), "ISTIO_META_CLUSTER_ID"),
        Some(&json!("bar"))
    );
}

#[test]
fn case_17_discovery_address_sets_proxy_config_and_ca_addr() {
    let address = "istiod-1-8-6.istio-system.svc:15012";
    let docs = render(
        MTLS_ISTIO,
        &[&format!("gatewayProxies.gatewayProxy.istioDiscoveryAddress={address}")],
    );
    let istio = container(gp(&docs), "istio-proxy");
    assert_eq!(proxy_config_address(istio), json!(address));
    assert_eq!(env(istio, "CA_ADDR"), Some(&json!(address)));
}

#[test]
fn case_18_spiffe_cert_provider_address_sets_ca_addr() {
    let address = "istiod-1-8-6.istio-system.svc:15012";
    let docs = render(
        MTLS_ISTIO,
        &[&format!(
            "gatewayProxies.gatewayProxy.istioSpiffeCertProviderAddress={address}"
        )],
    );
    let istio = container(gp(&docs), "istio-proxy");
    assert_eq!(env(istio, "CA_ADDR"), Some(&json!(address)));
    assert_eq!(proxy_config_address(istio), json!("istiod.istio-system.svc:15012"));
}

#[test]
fn case_19_default_discovery_and_ca_addresses() {
    let docs = render(MTLS_ISTIO, &[]);
    let istio = container(gp(&docs), "istio-proxy");
    assert_eq!(proxy_config_address(istio), json!("istiod.istio-system.svc:15012"));
    assert_eq!(env(istio, "CA_ADDR"), Some(&json!("istiod.istio-system.svc:15012")));
}

#[test]
fn case_20_sds_and_sidecar_resources() {
    let docs = render(
        "global:\n  istioIntegration: {enabled: true}\n  glooMtls:\n    enabled: true\n    envoySidecarResources: {requests: {memory: 100Mi, cpu: 200m}, limits: {memory: 300Mi, cpu: 400m}}\n    sdsResources: {requests: {memory: 101Mi, cpu: 201m}, limits: {memory: 301Mi, cpu: 401m}}\n",
        &[],
    );
    let gp = gp(&docs);
    assert_eq!(
        container(gp, "sds")["resources"],
        json!({"requests": {"memory": "101Mi", "cpu": "201m"}, "limits": {"memory": "301Mi", "cpu": "401m"}})
    );
    assert_eq!(
        container(gp, "istio-proxy")["resources"],
        json!({"requests": {"memory": "100Mi", "cpu": "200m"}, "limits": {"memory": "300Mi", "cpu": "400m"}})
    );
}

#[test]
fn case_21_sidecar_security_context_overrides() {
    // no-merge (the default): exactly the supplied fields; helm-merge over an empty baseline:
    // the same.
    for policy in ["", "no-merge", "helm-merge"] {
        let values = format!(
            "global:\n  istioIntegration: {{enabled: true}}\n  glooMtls:\n    enabled: true\n    sds:\n      securityContext: {{mergePolicy: \"{policy}\", runAsUser: 1234, readOnlyRootFilesystem: true}}\n    istioProxy:\n      securityContext: {{mergePolicy: \"{policy}\", runAsGroup: 4321, privileged: false}}\n"
        );
        let docs = render(&values, &[]);
        let gp = gp(&docs);
        assert_eq!(
            container(gp, "sds")["securityContext"],
            json!({"runAsUser": 1234, "readOnlyRootFilesystem": true}),
            "{policy}"
        );
        assert_eq!(
            container(gp, "istio-proxy")["securityContext"],
            json!({"runAsGroup": 4321, "privileged": false}),
            "{policy}"
        );
    }
}

#[test]
fn case_22_restricted_container_defaults_on_the_sidecars() {
    for (seccomp, expected) in [
        ("", "RuntimeDefault"),
        ("RuntimeDefault", "RuntimeDefault"),
        ("Localhost", "Localhost"),
    ] {
        let seccomp_line = if seccomp.is_empty() {
            String::new()
        } else {
            format!(", defaultSeccompProfileType: {seccomp}")
        };
        let values = format!(
            "global:\n  istioIntegration: {{enabled: true}}\n  glooMtls: {{enabled: true}}\n  podSecurityStandards:\n    container: {{enableRestrictedContainerDefaults: true{seccomp_line}}}\n"
        );
        let docs = render(&values, &[]);
        let restricted = json!({"runAsNonRoot": true, "allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}, "seccompProfile": {"type": expected}});
        for name in ["sds", "istio-proxy"] {
            assert_eq!(
                container(gp(&docs), name)["securityContext"],
                restricted,
                "{name} {seccomp}"
            );
        }
    }
}

#[test]
fn case_23_global_floating_user_id() {
    let docs = render(
        "global:\n  istioIntegration: {enabled: true}\n  glooMtls:\n    enabled: true\n    sds: {securityContext: {runAsUser: 1234}}\n    istioProxy: {securityContext: {runAsUser: 1234}}\n  securitySettings: {floatingUserId: true}\ngatewayProxies:\n  gatewayProxy:\n    podTemplate:\n      glooContainerSecurityContext: {runAsUser: 1234}\n",
        &[],
    );
    let gp = gp(&docs);
    for c in containers(gp) {
        assert!(c["securityContext"].get("runAsUser").is_none(), "{}", c["name"]);
    }
    assert!(gp["spec"]["template"]["spec"].get("securityContext").is_none());
}

#[test]
fn case_24_disable_autoinjection_label() {
    let docs = render("global: {istioIntegration: {disableAutoinjection: true}}", &[]);
    assert_eq!(pod_labels(gp(&docs))["sidecar.istio.io/inject"], "false");
}

#[test]
fn case_25_whitelist_discovery_adds_no_gateway_proxy_label() {
    let docs = render(
        "global: {istioIntegration: {whitelistDiscovery: true, disableAutoinjection: false}}",
        &[],
    );
    assert!(pod_labels(gp(&docs)).get("sidecar.istio.io/inject").is_none());
}

const SIDECAR_ON_GW_TWO_PROXIES: &str = "global:\n  istioIntegration: {whitelistDiscovery: true, enableIstioSidecarOnGateway: true}\ngatewayProxies:\n  secondGatewayProxy:\n    podTemplate: {httpPort: 1337, httpsPort: 1338}\n";

#[test]
fn case_26_sidecar_on_gateway_labels_both_proxies() {
    let docs = render(SIDECAR_ON_GW_TWO_PROXIES, &[]);
    for (name, ports) in [("gateway-proxy", "8080,8443"), ("second-gateway-proxy", "1337,1338")] {
        let w = workload(&docs, name);
        assert_eq!(pod_labels(w)["sidecar.istio.io/inject"], "true");
        assert_eq!(
            pod_annotations(w)["traffic.sidecar.istio.io/excludeInboundPorts"],
            ports
        );
    }
}

#[test]
fn case_27_revision_label_instead_of_inject() {
    let docs = render(
        SIDECAR_ON_GW_TWO_PROXIES,
        &["global.istioIntegration.istioSidecarRevTag=some-revision"],
    );
    for (name, ports) in [("gateway-proxy", "8080,8443"), ("second-gateway-proxy", "1337,1338")] {
        let w = workload(&docs, name);
        assert!(pod_labels(w).get("sidecar.istio.io/inject").is_none());
        assert_eq!(pod_labels(w)["istio.io/rev"], "some-revision");
        assert_eq!(
            pod_annotations(w)["traffic.sidecar.istio.io/excludeInboundPorts"],
            ports
        );
    }
}

fn checksum_of(docs: &[(ManifestKind, Value)]) -> String {
    pod_annotations(gp(docs))["checksum/gateway-proxy-envoy-config"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn case_33_checksum_follows_the_config_map() {
    // Deviation (docs/deviations.md): our checksum hashes our own ConfigMap text. The contract
    // kept: a SHA-256 that changes exactly when the ConfigMap changes.
    let defaults = render("{}", &[]);
    let read_config = render("gatewayProxies: {gatewayProxy: {readConfig: true}}", &[]);
    let replicas = render(
        "gatewayProxies: {gatewayProxy: {kind: {deployment: {replicas: 5}}}}",
        &[],
    );
    let sum = checksum_of(&defaults);
    assert_eq!(sum.len(), 64);
    assert_ne!(sum, checksum_of(&read_config));
    assert_eq!(
        sum,
        checksum_of(&replicas),
        "a Deployment-only key must not change the checksum"
    );
    let annotations = pod_annotations(gp(&read_config));
    for (k, v) in [
        ("readconfig-stats", "/stats"),
        ("readconfig-ready", "/ready"),
        ("readconfig-config_dump", "/config_dump"),
        ("readconfig-port", "8082"),
    ] {
        assert_eq!(annotations[k], v);
    }
}

#[test]
fn case_34_disable_autoinjection_wins_over_sidecar_on_gateway() {
    let docs = render(
        "global: {istioIntegration: {enableIstioSidecarOnGateway: true, disableAutoinjection: true}}",
        &[],
    );
    let gp = gp(&docs);
    assert_eq!(pod_labels(gp)["sidecar.istio.io/inject"], "false");
    assert_eq!(
        pod_annotations(gp)["traffic.sidecar.istio.io/excludeInboundPorts"],
        "8080,8443"
    );
}

#[test]
fn case_35_no_exclude_annotation_without_stats() {
    for values in [
        "global: {istioIntegration: {enableIstioSidecarOnGateway: true}, glooStats: {enabled: false}}",
        "global: {istioIntegration: {enableIstioSidecarOnGateway: true}}\ngatewayProxies: {gatewayProxy: {stats: {enabled: false}}}",
    ] {
        let docs = render(values, &[]);
        assert!(
            pod_annotations(gp(&docs))
                .get("traffic.sidecar.istio.io/excludeInboundPorts")
                .is_none()
        );
    }
}

#[test]
fn case_36_exclude_annotation_once_with_read_config() {
    // The chart writes the key twice (Istio spec §7.4); ours once: the raw text must not repeat it.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v.yaml");
    std::fs::write(&path, "global: {istioIntegration: {enableIstioSidecarOnGateway: true}}\ngatewayProxies: {gatewayProxy: {readConfig: true}}").unwrap();
    let rendered = render_files(&RenderOptions {
        values_files: vec![path],
        ..RenderOptions::default()
    })
    .unwrap();
    let text = &rendered.manifests[0].text;
    assert_eq!(
        text.matches("traffic.sidecar.istio.io/excludeInboundPorts").count(),
        1,
        "{text}"
    );
}

#[test]
fn case_37_extra_ports_in_the_exclude_annotation() {
    // Fixed (Istio spec §7.3): the containerPorts, not Go's `%v` of the port objects.
    let docs = render(
        "global: {istioIntegration: {enableIstioSidecarOnGateway: true}}\ngatewayProxies: {gatewayProxy: {podTemplate: {extraPorts: [{name: foo, containerPort: 9000}]}}}",
        &[],
    );
    assert_eq!(
        pod_annotations(gp(&docs))["traffic.sidecar.istio.io/excludeInboundPorts"],
        "8080,8443,9000"
    );
}

#[test]
fn case_38_rev_tag_alone_does_nothing() {
    let docs = render("global: {istioIntegration: {istioSidecarRevTag: x}}", &[]);
    let gp = gp(&docs);
    assert!(pod_labels(gp).get("istio.io/rev").is_none() && pod_labels(gp).get("sidecar.istio.io/inject").is_none());
    assert!(
        pod_annotations(gp)
            .get("traffic.sidecar.istio.io/excludeInboundPorts")
            .is_none()
    );
}

#[test]
fn case_39_istio_adds_exactly_the_sds_cluster() {
    let plain = bootstrap(&render("{}", &[]), "gateway-proxy-envoy-config");
    for values in [ISTIO, "global: {istioSDS: {enabled: true}}"] {
        let mut istio = bootstrap(&render(values, &[]), "gateway-proxy-envoy-config");
        let names = cluster_names(&istio);
        assert_eq!(names[1], "gateway_proxy_sds");
        assert_eq!(names[2], "rest_xds_cluster");
        let sds = istio["static_resources"]["clusters"].as_array_mut().unwrap().remove(1);
        assert_eq!(
            sds,
            json!({"name": "gateway_proxy_sds", "connect_timeout": "0.25s", "http2_protocol_options": {},
                   "load_assignment": {"cluster_name": "gateway_proxy_sds", "endpoints": [{"lb_endpoints": [{"endpoint": {"address": {"socket_address": {"address": "127.0.0.1", "port_value": 8234}}}}]}]}})
        );
        assert_eq!(istio, plain, "nothing else changes");
    }
}

#[test]
fn case_40_gloo_mtls_adds_tls_to_the_xds_clusters() {
    let with_istio = bootstrap(&render(MTLS_ISTIO, &[]), "gateway-proxy-envoy-config");
    let without = bootstrap(
        &render("global: {glooMtls: {enabled: true}}", &[]),
        "gateway-proxy-envoy-config",
    );
    assert_eq!(with_istio, without, "identical with or without Istio");
    let clusters = without["static_resources"]["clusters"].as_array().unwrap();
    assert_eq!(clusters[1]["name"], "gateway_proxy_sds");
    for i in [0, 2] {
        let socket = &clusters[i]["transport_socket"];
        assert_eq!(socket["name"], "envoy.transport_sockets.tls");
        let tls = &socket["typed_config"]["common_tls_context"];
        assert_eq!(tls["tls_certificate_sds_secret_configs"][0]["name"], "server_cert");
        assert_eq!(
            tls["validation_context_sds_secret_config"]["name"],
            "validation_context"
        );
        assert_eq!(
            tls["validation_context_sds_secret_config"]["sds_config"]["api_config_source"]["grpc_services"][0]["envoy_grpc"]
                ["cluster_name"],
            "gateway_proxy_sds"
        );
    }
}

#[test]
fn case_41_custom_bootstrap_replaces_everything() {
    let docs = render(
        "global: {istioIntegration: {enabled: true}}\ngatewayProxies:\n  gatewayProxy:\n    configMap:\n      data:\n        envoy.yaml: |\n          node: {cluster: gateway}\n",
        &[],
    );
    let cm = config_map(&docs, "gateway-proxy-envoy-config");
    assert_eq!(cm["data"], json!({"envoy.yaml": "node: {cluster: gateway}\n"}));
    assert_eq!(container_names(gp(&docs)), ["gateway-proxy", "sds", "istio-proxy"]);
}

#[test]
fn case_42_istio_keys_are_inherited_per_proxy() {
    let docs = render(
        "global: {istioIntegration: {enabled: true}}\ngatewayProxies:\n  gatewayProxy: {istioSpiffeCertProviderAddress: 'b.example:15012', istioMetaMeshId: mesh1}\n  second: {istioDiscoveryAddress: 'a.example:15012', istioMetaClusterId: c2}\n",
        &[],
    );
    let istio = container(workload(&docs, "second"), "istio-proxy");
    assert_eq!(env(istio, "CA_ADDR"), Some(&json!("b.example:15012")));
    assert_eq!(env(istio, "ISTIO_META_MESH_ID"), Some(&json!("mesh1")));
    assert_eq!(env(istio, "ISTIO_META_CLUSTER_ID"), Some(&json!("c2")));
    assert_eq!(proxy_config_address(istio), json!("a.example:15012"));
    assert_eq!(
        bootstrap(&docs, "second-envoy-config")["node"]["metadata"]["role"],
        "gloo-system~second"
    );
}

#[test]
fn case_43_global_image_registry_variant_and_pull_policy() {
    let docs = render(
        "global: {istioIntegration: {enabled: true}, image: {registry: my.reg/solo, variant: distroless, pullPolicy: Always}}",
        &[],
    );
    let gp = gp(&docs);
    assert_eq!(container(gp, "sds")["image"], "my.reg/solo/sds:1.0.0-ci-distroless");
    assert_eq!(container(gp, "istio-proxy")["image"], "docker.io/istio/proxyv2:1.22.0");
    for c in containers(gp) {
        assert_eq!(c["imagePullPolicy"], "Always", "{}", c["name"]);
    }
}

#[test]
fn case_44_bad_discovery_addresses_are_errors() {
    // The chart renders `{"discoveryAddress": }` or invalid YAML here (Istio spec §7.1, §7.2);
    // we stop with a located error.
    for value in ["null", "''", "'a b: c'"] {
        let failure = render_err(
            &format!("{ISTIO}\ngatewayProxies: {{gatewayProxy: {{istioDiscoveryAddress: {value}}}}}"),
            &[],
        );
        assert_eq!(failure.exit_code(), 1);
        let diag = &failure.diagnostics[0];
        assert_eq!(diag.code, "GI010", "{value}: {failure}");
    }
}

#[test]
fn case_47_regression_values() {
    let docs = render(
        "global:\n  istioIntegration: {enableIstioSidecarOnGateway: true, disableAutoinjection: true}\n  istioSDS: {enabled: true}\n  glooMtls: {istioProxy: {image: {repository: proxyv2, registry: docker.io/istio, tag: 1.22.0}}}\n",
        &[],
    );
    let gp = gp(&docs);
    assert_eq!(pod_labels(gp)["sidecar.istio.io/inject"], "false");
    assert_eq!(
        pod_annotations(gp)["traffic.sidecar.istio.io/excludeInboundPorts"],
        "8080,8443"
    );
    assert_eq!(containers(gp).len(), 3);
}

#[test]
fn case_48_revision_values() {
    let address = "istiod-test-revision.istio-system.svc:15012";
    let docs = render(
        &format!(
            "global: {{istioIntegration: {{enabled: true, enableIstioSidecarOnGateway: true, disableAutoinjection: true}}}}\ngatewayProxies: {{gatewayProxy: {{istioDiscoveryAddress: {address}}}}}"
        ),
        &[],
    );
    let istio = container(gp(&docs), "istio-proxy");
    assert_eq!(env(istio, "CA_ADDR"), Some(&json!(address)));
    assert_eq!(proxy_config_address(istio), json!(address));
}

#[test]
fn case_63_istio_sds_upstream_is_exactly_the_enable_mtls_block() {
    // Without the sds sidecar the block would point at a missing cluster (GI025), so Istio is on.
    let docs = render(
        "global: {istioIntegration: {enabled: true}}\nupstreams: [{service: productpage, namespace: default, port: 9080, mtls: istio-sds}]",
        &[],
    );
    let upstream = docs
        .iter()
        .find(|(k, _)| *k == ManifestKind::Upstream)
        .map(|(_, d)| d)
        .unwrap();
    assert_eq!(upstream["apiVersion"], "gloo.solo.io/v1");
    assert_eq!(upstream["metadata"]["name"], "default-productpage-9080");
    assert_eq!(
        upstream["spec"]["sslConfig"],
        json!({"alpnProtocols": ["istio"], "sds": {"certificatesSecretName": "istio_server_cert", "clusterName": "gateway_proxy_sds",
               "targetUri": "127.0.0.1:8234", "validationContextName": "istio_validation_context"}})
    );
}
