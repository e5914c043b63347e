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
            set: Vec::new(),
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
            "",
            "global:\n  istioIntegration:\n    enabled: true\n    enabled: false\n",
            "global:\n  istioIntegration:\n    enabled: false\n",
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
    // tests, GI030–GI035 (manifests, not values) by tests/analyze.rs, GI040–GI043 (streams) by
    // tests/postrender.rs.
    let elsewhere = [
        "GI005", "GI006", "GI007", "GI099", "GI030", "GI031", "GI032", "GI033", "GI034", "GI035", "GI040", "GI041",
        "GI042", "GI043",
    ];
    for heading in docs.lines().filter_map(|l| l.strip_prefix("## ")) {
        let code = heading.split_whitespace().next().unwrap();
        assert!(
            covered.contains(code) || elsewhere.contains(&code),
            "{code} has no lint case"
        );
    }
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
