//! Every lint rule: a bad values file triggers its code at the right key, a good one (the fix)
//! does not. The cases follow the traps of `gloo-istio-behavior.md` §7 and §1.

use gloo_istio::diag::{Diagnostic, Level};
use gloo_istio::pipeline::{LintUnit, lint};
use gloo_istio::validate::rules::RuleOptions;

fn findings(values: &str, istio_version: Option<&str>) -> Vec<Diagnostic> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("values.yaml");
    std::fs::write(&path, values).unwrap();
    let options = RuleOptions {
        istio_version: istio_version.map(|v| v.parse().unwrap()),
        ..Default::default()
    };
    lint(
        &LintUnit {
            files: vec![path],
            set: Default::default(),
        },
        "gloo-system",
        "1.0.0-ci",
        &options,
    )
    .findings
}

struct Case {
    code: &'static str,
    level: Level,
    /// The key path the finding must name.
    path: &'static str,
    bad: &'static str,
    good: &'static str,
    istio_version: Option<&'static str>,
}

const fn case(code: &'static str, level: Level, path: &'static str, bad: &'static str, good: &'static str) -> Case {
    Case {
        code,
        level,
        path,
        bad,
        good,
        istio_version: None,
    }
}

const ISTIO_PINNED: &str =
    "global:\n  istioIntegration: {enabled: true}\n  glooMtls: {istioProxy: {image: {tag: 1.22.6}}}\n";

fn cases() -> Vec<Case> {
    vec![
        case(
            "GI001",
            Level::Error,
            "",
            "global:\n  istioIntegration: {enabled: true\n",
            "global:\n  istioIntegration: {enabled: true}\n",
        ),
        case(
            "GI002",
            Level::Error,
            "global.istioIntegration.enabled",
            "global:\n  istioIntegration:\n    enabled: true\n    enabled: false\n",
            "global:\n  istioIntegration:\n    enabled: false\n",
        ),
        case(
            "GI008",
            Level::Error,
            "",
            "global:\n  istioIntegration: {enabled: true}  # on\u{2028}off\n",
            "global:\n  istioIntegration: {enabled: true}  # on off\n",
        ),
        case(
            "GI003",
            Level::Error,
            "global.istioIntegration.enable",
            "global:\n  istioIntegration:\n    enable: true\n",
            "global:\n  istioIntegration:\n    enabled: false\n",
        ),
        case(
            "GI003",
            Level::Error,
            "global.istioSDS.customSidecars[0].imagee",
            "global:\n  istioSDS:\n    customSidecars:\n    - {name: istio-proxy, imagee: x}\n",
            "global:\n  istioSDS:\n    customSidecars:\n    - {name: istio-proxy, image: x}\n",
        ),
        case(
            "GI004",
            Level::Error,
            "global.istioIntegration.enabled",
            "global:\n  istioIntegration:\n    enabled: \"yes\"\n",
            "global:\n  istioIntegration:\n    enabled: false\n",
        ),
        case(
            "GI004",
            Level::Error,
            "gatewayProxies.gatewayProxy.podTemplate.httpPort",
            "gatewayProxies:\n  gatewayProxy:\n    podTemplate: {httpPort: \"8080\"}\n",
            "gatewayProxies:\n  gatewayProxy:\n    podTemplate: {httpPort: 8080}\n",
        ),
        case(
            "GI004",
            Level::Error,
            "upstreams[0].mtls",
            "upstreams:\n- {service: a, namespace: b, port: 80, mtls: strict}\n",
            "upstreams:\n- {service: a, namespace: b, port: 80, mtls: none}\n",
        ),
        // The chart reads an empty variant as unset.
        case(
            "GI004",
            Level::Error,
            "global.image.variant",
            "global:\n  image:\n    variant: fipz\n",
            "global:\n  image:\n    variant: \"\"\n",
        ),
        case(
            "GI004",
            Level::Error,
            "upstreams[0].port",
            "upstreams:\n- {service: a, namespace: b, port: 70000}\n",
            "upstreams:\n- {service: a, namespace: b, port: 7000}\n",
        ),
        case(
            "GI010",
            Level::Error,
            "gatewayProxies.gatewayProxy.istioDiscoveryAddress",
            "global: {istioIntegration: {enabled: true}}\ngatewayProxies:\n  gatewayProxy: {istioDiscoveryAddress: ''}\n",
            "global: {istioIntegration: {enabled: true}}\ngatewayProxies:\n  gatewayProxy: {istioDiscoveryAddress: 'istiod.istio-system.svc:15012'}\n",
        ),
        case(
            "GI010",
            Level::Error,
            "gatewayProxies.gatewayProxy.istioSpiffeCertProviderAddress",
            "global: {istioIntegration: {enabled: true}}\ngatewayProxies:\n  gatewayProxy: {istioSpiffeCertProviderAddress: ca.example}\n",
            "global: {istioIntegration: {enabled: true}}\ngatewayProxies:\n  gatewayProxy: {istioSpiffeCertProviderAddress: 'ca.example:15012'}\n",
        ),
        case(
            "GI011",
            Level::Error,
            "gatewayProxies.gatewayProxy.envoyStaticClusters[0].load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address.address",
            "gatewayProxies:\n  gatewayProxy:\n    envoyStaticClusters:\n    - {name: ext, load_assignment: {cluster_name: ext, endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.01, port_value: 80}}}}]}]}}\n",
            "gatewayProxies:\n  gatewayProxy:\n    envoyStaticClusters:\n    - {name: ext, load_assignment: {cluster_name: ext, endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: 80}}}}]}]}}\n",
        ),
        case(
            "GI012",
            Level::Error,
            "gatewayProxies.gatewayProxy.envoyStaticClusters[0].name",
            "gatewayProxies:\n  gatewayProxy:\n    envoyStaticClusters:\n    - {name: gateway_proxy_sds, type: STRICT_DNS}\n",
            "gatewayProxies:\n  gatewayProxy:\n    envoyStaticClusters:\n    - {name: my_sds, type: STRICT_DNS}\n",
        ),
        case(
            "GI012",
            Level::Error,
            "gatewayProxies.gatewayProxy.customStaticLayer.overload",
            "gatewayProxies:\n  gatewayProxy:\n    customStaticLayer: {overload: {global_downstream_max_connections: 10}}\n",
            "gatewayProxies:\n  gatewayProxy:\n    globalDownstreamMaxConnections: 10\n",
        ),
        case(
            "GI013",
            Level::Error,
            "gatewayProxies.gatewayProxy.extraContainersHelper",
            "gatewayProxies:\n  gatewayProxy: {extraContainersHelper: mycompany.sidecar}\n",
            "gatewayProxies:\n  gatewayProxy: {extraContainersHelper: gloo.testcontainer}\n",
        ),
        case(
            "GI014",
            Level::Error,
            "gateway.updateValues",
            "gateway: {updateValues: true}\n",
            "gateway: {updateValues: false}\n",
        ),
        case(
            "GI015",
            Level::Error,
            "upstreams[1]",
            "upstreams:\n- {service: reviews, namespace: bookinfo, port: 9080}\n- {service: reviews, namespace: bookinfo, port: 9080, mtls: none}\n",
            "upstreams:\n- {service: reviews, namespace: bookinfo, port: 9080}\n- {name: reviews-plain, service: reviews, namespace: bookinfo, port: 9080, mtls: none}\n",
        ),
        case(
            "GI015",
            Level::Error,
            "upstreams[0].name",
            "upstreams:\n- {name: Reviews_v1, service: reviews, namespace: bookinfo, port: 9080}\n",
            "upstreams:\n- {name: reviews-v1, service: reviews, namespace: bookinfo, port: 9080}\n",
        ),
        case(
            "GI016",
            Level::Warning,
            "global.istioIntegration.enableAutoMtls",
            "global: {istioSDS: {enabled: true}, istioIntegration: {enableAutoMtls: true}}\n",
            "global: {istioIntegration: {enabled: true, enableAutoMtls: true}}\n",
        ),
        case(
            "GI017",
            Level::Warning,
            "global.istioSDS.enabled",
            "global: {istioSDS: {enabled: true}}\n",
            "global: {istioIntegration: {enabled: true}}\n",
        ),
        case(
            "GI018",
            Level::Warning,
            "global.istioIntegration.enableIstioSidecarOnGateway",
            "global: {istioIntegration: {enableIstioSidecarOnGateway: true, disableAutoinjection: true}}\n",
            "global: {istioIntegration: {disableAutoinjection: true}}\n",
        ),
        case(
            "GI018",
            Level::Warning,
            "global.istioIntegration.enableIstioSidecarOnGateway",
            "global: {istioIntegration: {enabled: true, enableIstioSidecarOnGateway: true}}\n",
            "global: {istioIntegration: {enabled: true}}\n",
        ),
        case(
            "GI019",
            Level::Warning,
            "global.glooMtls.istioProxy.istioMetaMeshId",
            "global: {glooMtls: {istioProxy: {istioMetaMeshId: mesh1}}}\n",
            "gatewayProxies: {gatewayProxy: {istioMetaMeshId: mesh1}}\n",
        ),
        case(
            "GI019",
            Level::Warning,
            "global.istioSDS.customSidecars",
            "global:\n  istioSDS:\n    customSidecars: [{name: istio-proxy, image: x}]\n",
            "global:\n  istioSDS:\n    enabled: false\n",
        ),
        case(
            "GI019",
            Level::Warning,
            "global.istioIntegration.istioSidecarRevTag",
            "global: {istioIntegration: {istioSidecarRevTag: canary}}\n",
            "global: {istioIntegration: {istioSidecarRevTag: canary, enableIstioSidecarOnGateway: true}}\n",
        ),
        case(
            "GI020",
            Level::Warning,
            "global.istioSDS.customSidecars",
            "global:\n  istioIntegration: {enabled: true}\n  istioSDS:\n    customSidecars: [{name: agent, image: x}]\n",
            "global:\n  istioIntegration: {enabled: true}\n  istioSDS:\n    customSidecars:\n    - name: istio-proxy\n      image: x\n      env: [{name: OUTPUT_CERTS, value: /etc/istio-certs}]\n      volumeMounts: [{name: istio-certs, mountPath: /etc/istio-certs/}]\n",
        ),
        case(
            "GI020",
            Level::Warning,
            "global.istioSDS.customSidecars[0].env",
            "global:\n  istioIntegration: {enabled: true}\n  istioSDS:\n    customSidecars:\n    - name: istio-proxy\n      image: x\n      env: [{name: JWT_POLICY, value: first-party-jwt}]\n      volumeMounts: [{name: istio-certs, mountPath: /etc/istio-certs/}]\n",
            "global:\n  istioIntegration: {enabled: true}\n  istioSDS:\n    customSidecars:\n    - name: istio-proxy\n      image: x\n      env: [{name: OUTPUT_CERTS, value: /etc/istio-certs}]\n      volumeMounts: [{name: istio-certs, mountPath: /etc/istio-certs/}]\n",
        ),
        case(
            "GI020",
            Level::Error,
            "global.istioSDS.customSidecars[1].name",
            "global:\n  istioIntegration: {enabled: true}\n  istioSDS:\n    customSidecars:\n    - {name: istio-proxy, image: x, env: [{name: OUTPUT_CERTS, value: /etc/istio-certs}], volumeMounts: [{name: istio-certs, mountPath: /etc/istio-certs/}]}\n    - {name: istio-proxy, image: y}\n",
            "global:\n  istioIntegration: {enabled: true}\n  istioSDS:\n    customSidecars:\n    - {name: istio-proxy, image: x, env: [{name: OUTPUT_CERTS, value: /etc/istio-certs}], volumeMounts: [{name: istio-certs, mountPath: /etc/istio-certs/}]}\n    - {name: log-shipper, image: y}\n",
        ),
        case(
            "GI021",
            Level::Warning,
            "gatewayProxies.gatewayProxy.istioDiscoveryAddress",
            "global: {istioIntegration: {enabled: true}}\ngatewayProxies:\n  gatewayProxy: {istioDiscoveryAddress: 'pilot.istio-system:15010'}\n",
            "global: {istioIntegration: {enabled: true}}\ngatewayProxies:\n  gatewayProxy: {istioDiscoveryAddress: 'istiod-canary.istio-system.svc:15012'}\n",
        ),
        case(
            "GI021",
            Level::Warning,
            "gatewayProxies.gatewayProxy.istioDiscoveryAddress",
            "global: {istioIntegration: {enabled: true, istioSidecarRevTag: stable, enableIstioSidecarOnGateway: true}}\ngatewayProxies:\n  gatewayProxy: {istioDiscoveryAddress: 'istiod-canary.istio-system.svc:15012'}\n",
            "global: {istioIntegration: {enabled: true, istioSidecarRevTag: canary, enableIstioSidecarOnGateway: true}}\ngatewayProxies:\n  gatewayProxy: {istioDiscoveryAddress: 'istiod-canary.istio-system.svc:15012'}\n",
        ),
        case(
            "GI021",
            Level::Warning,
            "gatewayProxies.second.istioSpiffeCertProviderAddress",
            "global: {istioIntegration: {enabled: true}}\ngatewayProxies:\n  gatewayProxy: {istioSpiffeCertProviderAddress: 'istiod.istio-system.svc:15012'}\n  second: {istioDiscoveryAddress: 'istiod-canary.istio-system.svc:15012'}\n",
            "global: {istioIntegration: {enabled: true}}\ngatewayProxies:\n  gatewayProxy: {istioSpiffeCertProviderAddress: 'istiod.istio-system.svc:15012'}\n  second: {istioDiscoveryAddress: 'istiod-canary.istio-system.svc:15012', istioSpiffeCertProviderAddress: 'istiod-canary.istio-system.svc:15012'}\n",
        ),
        case(
            "GI022",
            Level::Error,
            "global.istioIntegration.istioSidecarRevTag",
            "global: {istioIntegration: {enableIstioSidecarOnGateway: true, istioSidecarRevTag: 'canary rev'}}\n",
            "global: {istioIntegration: {enableIstioSidecarOnGateway: true, istioSidecarRevTag: canary}}\n",
        ),
        case(
            "GI022",
            Level::Warning,
            "gatewayProxies.gatewayProxy.istioMetaMeshId",
            "global: {istioIntegration: {enabled: true}}\ngatewayProxies:\n  gatewayProxy: {istioMetaMeshId: 'true'}\n",
            "global: {istioIntegration: {enabled: true}}\ngatewayProxies:\n  gatewayProxy: {istioMetaMeshId: mesh1}\n",
        ),
        case(
            "GI022",
            Level::Error,
            "gatewayProxies.gatewayProxy.podTemplate.extraGatewayProxyLabels.tier",
            "gatewayProxies:\n  gatewayProxy:\n    podTemplate: {extraGatewayProxyLabels: {tier: 'public edge'}}\n",
            "gatewayProxies:\n  gatewayProxy:\n    podTemplate: {extraGatewayProxyLabels: {tier: public-edge}}\n",
        ),
        case(
            "GI022",
            Level::Error,
            "gatewayProxies.gatewayProxy.podTemplate.extraAnnotations.prometheus.io/port",
            "gatewayProxies:\n  gatewayProxy:\n    podTemplate: {extraAnnotations: {prometheus.io/port: '9090'}}\n",
            "gatewayProxies:\n  gatewayProxy:\n    podTemplate: {extraAnnotations: {example.com/port: '9090'}}\n",
        ),
        case(
            "GI022",
            Level::Error,
            "global.additionalLabels.example.com/nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn",
            "global:\n  additionalLabels: {example.com/nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn: x}\n",
            "global:\n  additionalLabels: {example.com/nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn: x}\n",
        ),
        case(
            "GI023",
            Level::Warning,
            "gatewayProxies.gatewayProxy.configMap.data.envoy.yaml",
            "global: {istioIntegration: {enabled: true}}\ngatewayProxies:\n  gatewayProxy:\n    configMap:\n      data:\n        envoy.yaml: |\n          static_resources:\n            clusters: [{name: xds}]\n",
            "global: {istioIntegration: {enabled: true}}\ngatewayProxies:\n  gatewayProxy:\n    configMap:\n      data:\n        envoy.yaml: |\n          static_resources:\n            clusters: [{name: xds}, {name: gateway_proxy_sds}]\n",
        ),
        case(
            "GI024",
            Level::Warning,
            "global.glooMtls.istioProxy.image.tag",
            "global:\n  istioIntegration: {enabled: true}\n  glooMtls: {istioProxy: {image: {tag: latest}}}\n",
            ISTIO_PINNED,
        ),
        Case {
            istio_version: Some("1.25"),
            ..case(
                "GI024",
                Level::Warning,
                "global.glooMtls.istioProxy.image.tag",
                ISTIO_PINNED,
                "global:\n  istioIntegration: {enabled: true}\n  glooMtls: {istioProxy: {image: {tag: 1.25.2}}}\n",
            )
        },
        case(
            "GI024",
            Level::Warning,
            "global.glooMtls.istioProxy.image.tag",
            "global:\n  istioIntegration: {enabled: true}\n  glooMtls: {istioProxy: {image: {tag: 1.5.10}}}\n",
            ISTIO_PINNED,
        ),
        case(
            "GI025",
            Level::Error,
            "upstreams[0].mtls",
            "upstreams:\n- {service: a, namespace: b, port: 80, mtls: istio-sds}\n",
            "global: {istioIntegration: {enabled: true}}\nupstreams:\n- {service: a, namespace: b, port: 80, mtls: istio-sds}\n",
        ),
        case(
            "GI025",
            Level::Warning,
            "upstreams[0].mtls",
            "global: {istioIntegration: {enabled: true, enableAutoMtls: true}}\nupstreams:\n- {service: a, namespace: b, port: 80, mtls: istio-files}\n",
            "upstreams:\n- {service: a, namespace: b, port: 80, mtls: istio-files}\n",
        ),
        case(
            "GI026",
            Level::Warning,
            "gatewayProxies.gatewayProxy.podTemplate.runAsUser",
            "global: {securitySettings: {floatingUserId: true}}\ngatewayProxies: {gatewayProxy: {podTemplate: {runAsUser: 20000}}}\n",
            "gatewayProxies: {gatewayProxy: {podTemplate: {runAsUser: 20000}}}\n",
        ),
        case(
            "GI026",
            Level::Warning,
            "gatewayProxies.gatewayProxy.podTemplate.glooContainerSecurityContext",
            "gatewayProxies: {gatewayProxy: {podTemplate: {glooContainerSecurityContext: {runAsUser: 20000}}}}\n",
            "gatewayProxies: {gatewayProxy: {podTemplate: {glooContainerSecurityContext: {mergePolicy: helm-merge, runAsUser: 20000}}}}\n",
        ),
        case(
            "GI026",
            Level::Warning,
            "gatewayProxies.gatewayProxy.podTemplate.runUnprivileged",
            "gatewayProxies: {gatewayProxy: {podTemplate: {runUnprivileged: false}}}\n",
            "global: {podSecurityStandards: {container: {enableRestrictedContainerDefaults: true}}}\ngatewayProxies: {gatewayProxy: {podTemplate: {runUnprivileged: false}}}\n",
        ),
        case(
            "GI026",
            Level::Warning,
            "global.glooMtls.istioProxy.securityContext",
            "global:\n  istioIntegration: {enabled: true}\n  glooMtls: {istioProxy: {securityContext: {privileged: true}}}\n",
            "global:\n  istioIntegration: {enabled: true}\n  glooMtls: {istioProxy: {securityContext: {privileged: false}}}\n",
        ),
        case(
            "GI026",
            Level::Warning,
            "global.istioSDS.customSidecars[0].args[1]",
            "global:\n  istioIntegration: {enabled: true}\n  istioSDS:\n    customSidecars:\n    - name: istio-proxy\n      image: docker.io/istio/proxyv2:1.22.6\n      args: [proxy, --controlPlaneAuthPolicy, NONE]\n",
            "global:\n  istioIntegration: {enabled: true}\n  istioSDS:\n    customSidecars:\n    - name: istio-proxy\n      image: docker.io/istio/proxyv2:1.22.6\n      args: [proxy, --controlPlaneAuthPolicy, MUTUAL_TLS]\n",
        ),
        case(
            "GI026",
            Level::Warning,
            "global.istioSDS.customSidecars[0].env[0].value",
            "global:\n  istioIntegration: {enabled: true}\n  istioSDS:\n    customSidecars:\n    - name: istio-proxy\n      image: docker.io/istio/proxyv2:1.22.6\n      env: [{name: JWT_POLICY, value: first-party-jwt}]\n",
            "global:\n  istioIntegration: {enabled: true}\n  istioSDS:\n    customSidecars:\n    - name: istio-proxy\n      image: docker.io/istio/proxyv2:1.22.6\n      env: [{name: JWT_POLICY, value: third-party-jwt}]\n",
        ),
        case(
            "GI026",
            Level::Warning,
            "global.istioSDS.customSidecars[0].securityContext",
            "global:\n  istioIntegration: {enabled: true}\n  istioSDS:\n    customSidecars:\n    - name: istio-proxy\n      image: docker.io/istio/proxyv2:1.22.6\n      securityContext: {runAsUser: 0}\n",
            "global:\n  istioIntegration: {enabled: true}\n  istioSDS:\n    customSidecars:\n    - name: istio-proxy\n      image: docker.io/istio/proxyv2:1.22.6\n      securityContext: {runAsUser: 1337}\n",
        ),
        case(
            "GI026",
            Level::Warning,
            "gatewayProxies.gatewayProxy.podTemplate.podSecurityContext",
            "gatewayProxies: {gatewayProxy: {podTemplate: {podSecurityContext: {runAsNonRoot: false}}}}\n",
            "gatewayProxies: {gatewayProxy: {podTemplate: {podSecurityContext: {runAsNonRoot: true}}}}\n",
        ),
        // `gateway_proxy` kebab-cases to the name of the chart's `gatewayProxy`.
        case(
            "GI027",
            Level::Error,
            "gatewayProxies.gateway_proxy",
            "gatewayProxies:\n  gateway_proxy: {}\n",
            "gatewayProxies:\n  internal_proxy: {}\n",
        ),
        // Keys that give no valid name.
        case(
            "GI027",
            Level::Error,
            "gatewayProxies.!!!",
            "gatewayProxies:\n  '!!!': {}\n",
            "gatewayProxies:\n  publicGateway: {}\n",
        ),
        case(
            "GI027",
            Level::Error,
            "gatewayProxies.gatewayÄÖ",
            "gatewayProxies:\n  gatewayÄÖ: {}\n",
            "gatewayProxies:\n  gatewayAe: {}\n",
        ),
        // additionalLabels values are label values too.
        case(
            "GI022",
            Level::Error,
            "global.additionalLabels.team",
            "global:\n  additionalLabels: {team: platform team}\n",
            "global:\n  additionalLabels: {team: platform-team}\n",
        ),
        // A custom bootstrap must be YAML, and a mapping.
        case(
            "GI001",
            Level::Error,
            "gatewayProxies.gatewayProxy.configMap.data.envoy.yaml",
            "gatewayProxies:\n  gatewayProxy:\n    configMap:\n      data:\n        envoy.yaml: |\n          static_resources:\n            clusters: [{name: xds\n",
            "gatewayProxies:\n  gatewayProxy:\n    configMap:\n      data:\n        envoy.yaml: |\n          static_resources:\n            clusters: [{name: xds}]\n",
        ),
        case(
            "GI004",
            Level::Error,
            "gatewayProxies.gatewayProxy.configMap.data.envoy.yaml",
            "gatewayProxies:\n  gatewayProxy:\n    configMap:\n      data:\n        envoy.yaml: '[static_resources]'\n",
            "gatewayProxies:\n  gatewayProxy:\n    configMap:\n      data:\n        envoy.yaml: '{static_resources: {}}'\n",
        ),
        // The Kubernetes Gateway API proxies' mesh traps (k8s-gateway spec §2.5, §9.A).
        case(
            "GI004",
            Level::Error,
            "kubeGateway.gatewayParameters.glooGateway.sdsContainer.image",
            "kubeGateway:\n  enabled: true\n  gatewayParameters:\n    glooGateway:\n      sdsContainer:\n        image: null\n",
            "kubeGateway:\n  enabled: true\n  gatewayParameters:\n    glooGateway:\n      sdsContainer:\n        image: {repository: null}\n",
        ),
        case(
            "GI072",
            Level::Warning,
            "kubeGateway.gatewayParameters.glooGateway.istio.customSidecars",
            "kubeGateway:\n  enabled: true\n  gatewayParameters:\n    glooGateway:\n      istio:\n        customSidecars: [{name: custom-sidecar, image: busybox}]\n",
            "kubeGateway:\n  enabled: true\n  gatewayParameters:\n    glooGateway:\n      istio:\n        istioProxyContainer: {logLevel: info}\n",
        ),
        case(
            "GI073",
            Level::Info,
            "global.istioIntegration.enabled",
            "global:\n  istioIntegration: {enabled: true}\nkubeGateway:\n  enabled: true\n",
            "global:\n  istioIntegration: {enabled: true}\nkubeGateway:\n  enabled: false\n",
        ),
        case(
            "GI075",
            Level::Warning,
            "kubeGateway.gatewayParameters.glooGateway.istio",
            "global:\n  istioSDS: {enabled: true}\nkubeGateway:\n  enabled: true\n  gatewayParameters:\n    glooGateway:\n      istio:\n        istioProxyContainer: {logLevel: debug}\n",
            "global:\n  istioIntegration: {enabled: true}\nkubeGateway:\n  enabled: true\n  gatewayParameters:\n    glooGateway:\n      istio:\n        istioProxyContainer: {logLevel: debug}\n",
        ),
        case(
            "GI076",
            Level::Warning,
            "kubeGateway.gatewayParameters.glooGateway.istio.istioProxyContainer.istioMetaClusterId",
            "kubeGateway:\n  enabled: true\n  gatewayParameters:\n    glooGateway:\n      istio:\n        istioProxyContainer: {istioMetaClusterId: \"123\"}\n",
            "kubeGateway:\n  enabled: true\n  gatewayParameters:\n    glooGateway:\n      istio:\n        istioProxyContainer: {istioMetaClusterId: cluster-123}\n",
        ),
        case(
            "GI077",
            Level::Warning,
            "kubeGateway.gatewayParameters.glooGateway.service.extraAnnotations.svcanno1",
            "kubeGateway:\n  enabled: true\n  gatewayParameters:\n    glooGateway:\n      service:\n        extraAnnotations: {svcanno1: y}\n",
            "kubeGateway:\n  enabled: true\n  gatewayParameters:\n    glooGateway:\n      service:\n        extraAnnotations: {svcanno1: \"y\"}\n",
        ),
    ]
}

#[test]
fn every_rule_fires_on_the_bad_file_and_not_on_the_good_one() {
    let mut failures = Vec::new();
    for case in cases() {
        let bad = findings(case.bad, case.istio_version);
        let hit = bad
            .iter()
            .find(|d| d.code == case.code && (case.path.is_empty() || d.path == case.path));
        match hit {
            None => failures.push(format!(
                "{} ({}) did not fire on:\n{}\nfindings: {:?}",
                case.code,
                case.path,
                case.bad,
                bad.iter().map(|d| d.short()).collect::<Vec<_>>()
            )),
            Some(d) => {
                if d.level != case.level {
                    failures.push(format!(
                        "{} at {}: level {:?}, expected {:?}",
                        case.code, case.path, d.level, case.level
                    ));
                }
                if d.location.is_none() {
                    failures.push(format!("{} at {}: no location", case.code, case.path));
                }
                if d.help.is_none() && case.code != "GI001" && case.code != "GI002" {
                    failures.push(format!("{} at {}: no help line", case.code, case.path));
                }
            }
        }
        let good = findings(case.good, case.istio_version);
        if let Some(d) = good
            .iter()
            .find(|d| d.code == case.code && (case.path.is_empty() || d.path == case.path))
        {
            failures.push(format!(
                "{} fired on the good file:\n{}\n{}",
                case.code,
                case.good,
                d.short()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn every_documented_code_has_a_lint_case() {
    let docs = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/diagnostics.md")).unwrap();
    let covered: std::collections::BTreeSet<&str> = cases().iter().map(|c| c.code).collect();
    // GI005 (unreadable), GI006 (info), GI007 (--set) and GI099 (internal) are covered by the CLI
    // tests, GI030–GI039 and GI050–GI058 (manifests, not values) by tests/analyze.rs, GI040–GI043 (streams) by
    // tests/postrender.rs, GI070, GI071, GI074, GI078 and GI079 (Gateway manifests) by
    // tests/k8s_gateway.rs, GI044 (the release file) by tests/output_formats.rs, GI060
    // (post-render namespace) and GI061 (--show-only) by tests/cli.rs.
    let elsewhere = [
        "GI044", "GI070", "GI071", "GI074", "GI078", "GI079", "GI005", "GI006", "GI007", "GI099", "GI030", "GI031",
        "GI032", "GI033", "GI034", "GI035", "GI036", "GI037", "GI038", "GI039", "GI050", "GI051", "GI052", "GI053",
        "GI054", "GI055", "GI056", "GI057", "GI058", "GI040", "GI041", "GI042", "GI043", "GI060", "GI061",
    ];
    for heading in docs.lines().filter_map(|l| l.strip_prefix("## ")) {
        let code = heading.split_whitespace().next().unwrap();
        assert!(
            covered.contains(code) || elsewhere.contains(&code),
            "{code} has no lint case"
        );
    }
}

/// The (code, path) pairs of `findings`.
fn codes_at(findings: &[Diagnostic]) -> Vec<(&'static str, String)> {
    findings.iter().map(|d| (d.code, d.path.clone())).collect()
}

#[test]
fn schema_errors_do_not_hide_the_rules_findings() {
    // An unknown key and a wrong type elsewhere, and a GI018 conflict (Istio's own sidecar next
    // to the integration's istio-proxy, gloo-istio-behavior §7): every one is reported.
    let values = "global:\n  istioIntegration:\n    enabled: true\n    enableIstioSidecarOnGateway: true\n  bogus: 1\n\
                  gatewayProxies:\n  gatewayProxy:\n    podTemplate: {httpPort: \"8080\"}\n";
    let got = codes_at(&findings(values, None));
    for expected in [
        ("GI003", "global.bogus"),
        ("GI004", "gatewayProxies.gatewayProxy.podTemplate.httpPort"),
        ("GI018", "global.istioIntegration.enableIstioSidecarOnGateway"),
    ] {
        assert!(
            got.iter().any(|(c, p)| (*c, p.as_str()) == expected),
            "{expected:?} missing from {got:?}"
        );
    }
    // A misspelt key in a list item, and a rule on another section (GI025: istio-files under
    // auto-mTLS).
    let values = "global:\n  istioIntegration: {enabled: true, enableAutoMtls: true}\n  istioSDS:\n    customSidecars:\n    - {name: x, imagee: y}\n\
                  upstreams:\n- {service: a, namespace: b, port: 80, mtls: istio-files}\n";
    let got = codes_at(&findings(values, None));
    for expected in [
        ("GI003", "global.istioSDS.customSidecars[0].imagee"),
        ("GI025", "upstreams[0].mtls"),
    ] {
        assert!(
            got.iter().any(|(c, p)| (*c, p.as_str()) == expected),
            "{expected:?} missing from {got:?}"
        );
    }
}

#[test]
fn a_rejected_value_silences_the_rules_about_its_mapping() {
    // `enabled: "yes"` is GI004; the rules must not then read it as unset and say that
    // auto-mTLS does nothing without `enabled` (GI016): Helm's templates read "yes" as true.
    let got = codes_at(&findings(
        "global:\n  istioIntegration:\n    enabled: \"yes\"\n    enableAutoMtls: true\n",
        None,
    ));
    assert!(
        got.contains(&("GI004", "global.istioIntegration.enabled".into())),
        "{got:?}"
    );
    assert!(!got.iter().any(|(c, _)| *c == "GI016"), "{got:?}");
    // The control: with a valid `false`, GI016 is right.
    let got = codes_at(&findings(
        "global:\n  istioIntegration:\n    enabled: false\n    enableAutoMtls: true\n",
        None,
    ));
    assert!(got.iter().any(|(c, _)| *c == "GI016"), "{got:?}");
}

#[test]
fn all_findings_are_reported_not_only_the_first() {
    let bad = findings(
        "global:\n  istioSds: {enabled: true}\n  istioIntegration: {enable: true, enabled: 'yes'}\ngatewayProxies:\n  gatewayProxy: {podTemplate: {httpPort: '80'}}\n",
        None,
    );
    let errors: Vec<&str> = bad.iter().filter(|d| d.level == Level::Error).map(|d| d.code).collect();
    assert_eq!(
        errors.len(),
        4,
        "{:?}",
        bad.iter().map(|d| d.short()).collect::<Vec<_>>()
    );
}

/// A mistake in one section of the chart's values: the finding lint must give, at its line,
/// with a piece of its help line.
struct ChartMistake {
    values: &'static str,
    code: &'static str,
    path: &'static str,
    line: usize,
    help: &'static str,
}

const fn mistake(
    values: &'static str,
    code: &'static str,
    path: &'static str,
    line: usize,
    help: &'static str,
) -> ChartMistake {
    ChartMistake {
        values,
        code,
        path,
        line,
        help,
    }
}

/// A typo and a type error in every top-level section of the chart, rendered by gloo-istio or
/// not (issue 16).
fn chart_mistakes() -> Vec<ChartMistake> {
    const BOOL_TEXT: &str = "read every non-empty string, \"false\" included, as true";
    const NUMBER_TEXT: &str = "write the number without quotes";
    vec![
        mistake(
            "gloo:\n  deploymnet:\n    replicas: 2\n",
            "GI003",
            "gloo.deploymnet",
            2,
            "did you mean `deployment`?",
        ),
        mistake(
            "gloo:\n  deployment:\n    replicas: \"2\"\n",
            "GI004",
            "gloo.deployment.replicas",
            3,
            NUMBER_TEXT,
        ),
        mistake(
            "discovery:\n  enabeld: true\n",
            "GI003",
            "discovery.enabeld",
            2,
            "did you mean `enabled`?",
        ),
        mistake(
            "discovery:\n  enabled: \"false\"\n",
            "GI004",
            "discovery.enabled",
            2,
            BOOL_TEXT,
        ),
        mistake(
            "gateway:\n  readGatewaysFromAllNamespace: true\n",
            "GI003",
            "gateway.readGatewaysFromAllNamespace",
            2,
            "did you mean `readGatewaysFromAllNamespaces`?",
        ),
        mistake(
            "gateway:\n  enabled: \"false\"\n",
            "GI004",
            "gateway.enabled",
            2,
            BOOL_TEXT,
        ),
        mistake(
            "settings:\n  watchNamespacez: [a]\n",
            "GI003",
            "settings.watchNamespacez",
            2,
            "did you mean `watchNamespaces`?",
        ),
        mistake(
            "settings:\n  regexMaxProgramSize: -1\n",
            "GI004",
            "settings.regexMaxProgramSize",
            2,
            "at least 0",
        ),
        mistake(
            "ingress:\n  enable: true\n",
            "GI003",
            "ingress.enable",
            2,
            "did you mean `enabled`?",
        ),
        mistake(
            "ingress:\n  enabled: \"yes\"\n",
            "GI004",
            "ingress.enabled",
            2,
            BOOL_TEXT,
        ),
        mistake(
            "ingressProxy:\n  lable: x\n",
            "GI003",
            "ingressProxy.lable",
            2,
            "did you mean `label`?",
        ),
        mistake("ingressProxy:\n  label: [x]\n", "GI004", "ingressProxy.label", 2, ""),
        mistake(
            "accessLogger:\n  replica: 2\n",
            "GI003",
            "accessLogger.replica",
            2,
            "did you mean `replicas`?",
        ),
        mistake(
            "accessLogger:\n  port: \"8083\"\n",
            "GI004",
            "accessLogger.port",
            2,
            NUMBER_TEXT,
        ),
        mistake(
            "global:\n  glooRbac:\n    creat: false\n",
            "GI003",
            "global.glooRbac.creat",
            3,
            "did you mean `create`?",
        ),
        mistake(
            "global:\n  glooRbac:\n    create: \"false\"\n",
            "GI004",
            "global.glooRbac.create",
            3,
            BOOL_TEXT,
        ),
        mistake(
            "kubeGateway:\n  enable: true\n",
            "GI003",
            "kubeGateway.enable",
            2,
            "did you mean `enabled`?",
        ),
        mistake(
            "kubeGateway:\n  enabled: \"true\"\n",
            "GI004",
            "kubeGateway.enabled",
            2,
            BOOL_TEXT,
        ),
        mistake(
            "gatewayProxies:\n  gatewayProxy:\n    service:\n      tpye: NodePort\n",
            "GI003",
            "gatewayProxies.gatewayProxy.service.tpye",
            4,
            "did you mean `type`?",
        ),
        mistake(
            "gatewayProxies:\n  publicGw:\n    failover:\n      port: -1\n",
            "GI004",
            "gatewayProxies.publicGw.failover.port",
            4,
            "at least 0",
        ),
        // The chart's own tests write these: a wrong case is a typo too.
        mistake(
            "gatewayProxies:\n  gatewayProxy:\n    loopbackAddress: '::1'\n",
            "GI003",
            "gatewayProxies.gatewayProxy.loopbackAddress",
            3,
            "did you mean `loopBackAddress`?",
        ),
        mistake(
            "gatewayProxies:\n  gatewayProxy:\n    kind:\n      deployment:\n        customEnv:\n        - {Name: A, value: b}\n",
            "GI003",
            "gatewayProxies.gatewayProxy.kind.deployment.customEnv[0].Name",
            6,
            "did you mean `name`?",
        ),
        mistake(
            "gloo:\n  deployment:\n    customEnv:\n    - name: A\n      Value: b\n",
            "GI003",
            "gloo.deployment.customEnv[0].Value",
            5,
            "did you mean `value`?",
        ),
        mistake(
            "k8s:\n  clustername: cluster.local\n",
            "GI003",
            "k8s.clustername",
            2,
            "did you mean `clusterName`?",
        ),
        mistake(
            "k8s:\n  clusterName: 5\n",
            "GI004",
            "k8s.clusterName",
            2,
            "quote the value",
        ),
        mistake(
            "namespace:\n  craete: true\n",
            "GI003",
            "namespace.craete",
            2,
            "did you mean `create`?",
        ),
        mistake(
            "namespace:\n  create: \"false\"\n",
            "GI004",
            "namespace.create",
            2,
            BOOL_TEXT,
        ),
        // Keys under a user-chosen name are checked by shape.
        mistake(
            "gloo:\n  deployment:\n    extraGlooLabels:\n      team: {name: a}\n",
            "GI004",
            "gloo.deployment.extraGlooLabels.team",
            4,
            "",
        ),
        mistake(
            "settings:\n  circuitBreakers:\n    maxRetries: 4294967296\n",
            "GI004",
            "settings.circuitBreakers.maxRetries",
            3,
            "at most 4294967295",
        ),
    ]
}

#[test]
fn every_section_of_the_chart_catches_a_typo_and_a_type_error() {
    let mut failures = Vec::new();
    let mut sections = std::collections::BTreeSet::new();
    for m in chart_mistakes() {
        sections.insert(m.path.split('.').next().unwrap().to_string());
        let found = findings(m.values, None);
        let hit = found.iter().find(|d| d.code == m.code && d.path == m.path);
        let Some(d) = hit else {
            failures.push(format!(
                "no {} at {} for:\n{}findings: {:?}",
                m.code,
                m.path,
                m.values,
                found.iter().map(|d| d.short()).collect::<Vec<_>>()
            ));
            continue;
        };
        let line = d.location.as_ref().map(|l| l.span.start.line);
        let help = d.help.as_deref().unwrap_or("");
        if d.level != Level::Error || line != Some(m.line) || !help.contains(m.help) {
            failures.push(format!(
                "{} at {}: level {:?}, line {line:?} (want {}), help {help:?} (want {:?})",
                m.code, m.path, d.level, m.line, m.help
            ));
        }
    }
    let top_level: std::collections::BTreeSet<String> = gloo_istio::values::chart_keys::CHART_KEYS_TSV
        .lines()
        .skip(1)
        .filter_map(|l| l.split(['.', '\t']).next())
        .map(String::from)
        .collect();
    let missing: Vec<_> = top_level.difference(&sections).collect();
    assert!(missing.is_empty(), "sections without a case: {missing:?}");
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// The chart's own values and every reference values file lint without an error.
#[test]
fn the_charts_values_and_the_reference_values_lint_clean() {
    let reference = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/reference/gloo-chart");
    let reference = std::env::var_os("GLOO_REFERENCE_DIR").map_or(reference, std::path::PathBuf::from);
    let Ok(entries) = std::fs::read_dir(&reference) else {
        eprintln!("SKIPPED: reference values not found at {}", reference.display());
        return;
    };
    let mut files: Vec<std::path::PathBuf> = entries
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".values.yaml"))
        .collect();
    files.push(reference.join("generated-chart/values.yaml"));
    assert!(files.len() > 10, "{files:?}");
    let mut errors = Vec::new();
    for file in &files {
        let outcome = lint(
            &LintUnit {
                files: vec![file.clone()],
                set: Default::default(),
            },
            "gloo-system",
            "1.0.0-ci",
            &RuleOptions::default(),
        );
        errors.extend(
            outcome
                .findings
                .iter()
                .filter(|d| d.level == Level::Error)
                .map(|d| format!("{}: {}", file.display(), d.short())),
        );
    }
    assert!(errors.is_empty(), "{}", errors.join("\n"));
}

/// `render` and post-render hold the same keys, but what is wrong in a section they do not
/// render only warns there; in a section they render, it stops them.
#[test]
fn outside_lint_mistakes_in_unrendered_sections_are_warnings() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("values.yaml");
    std::fs::write(
        &path,
        "discovery:\n  enabled: \"false\"\ngatewayProxies:\n  gatewayProxy:\n    service: {tpye: NodePort}\n",
    )
    .unwrap();
    let loaded =
        gloo_istio::pipeline::load_values(std::slice::from_ref(&path), &Default::default(), "1.0.0-ci").unwrap();
    let checked = gloo_istio::pipeline::check_values(&loaded, "gloo-system", &RuleOptions::default());
    let levels: Vec<(&str, Level)> = checked
        .findings
        .iter()
        .filter(|d| d.code != "GI006")
        .map(|d| (d.path.as_str(), d.level))
        .collect();
    assert_eq!(
        levels,
        [
            ("discovery.enabled", Level::Warning),
            ("gatewayProxies.gatewayProxy.service.tpye", Level::Warning)
        ]
    );
    assert!(checked.model.is_some());
    std::fs::write(&path, "gatewayProxies:\n  gatewayProxy:\n    loopbackAddress: '::1'\n").unwrap();
    let loaded = gloo_istio::pipeline::load_values(&[path], &Default::default(), "1.0.0-ci").unwrap();
    let checked = gloo_istio::pipeline::check_values(&loaded, "gloo-system", &RuleOptions::default());
    assert!(checked.has_errors(), "{:?}", checked.findings);
}

/// `--allow-unknown PATH` accepts unknown keys at PATH and below, reporting them at info level.
#[test]
fn allowed_unknown_keys_are_infos() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("values.yaml");
    std::fs::write(
        &path,
        "myUmbrella:\n  anything: 1\ngatewayProxies:\n  publicGw:\n    myExtension: {a: 1}\n  gatewayProxy:\n    myExtension: {}\n    servce: {}\n",
    )
    .unwrap();
    let options = RuleOptions {
        keys: gloo_istio::validate::schema::KeyPolicy {
            allow_unknown: vec!["myUmbrella".into(), "gatewayProxies.*.myExtension".into()],
            strict_unrendered: false,
        },
        ..Default::default()
    };
    let outcome = lint(
        &LintUnit {
            files: vec![path],
            set: Default::default(),
        },
        "gloo-system",
        "1.0.0-ci",
        &options,
    );
    let mut got: Vec<(String, Level)> = outcome
        .findings
        .iter()
        .filter(|d| d.code == "GI003")
        .map(|d| (d.path.clone(), d.level))
        .collect();
    got.sort();
    assert_eq!(
        got,
        [
            ("gatewayProxies.gatewayProxy.myExtension".to_string(), Level::Info),
            ("gatewayProxies.gatewayProxy.servce".to_string(), Level::Error),
            ("gatewayProxies.publicGw.myExtension".to_string(), Level::Info),
            ("myUmbrella".to_string(), Level::Info),
        ]
    );
}
