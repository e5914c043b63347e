//! The Istio facts that render and post-render must agree on: the volumes of the gateway-proxy
//! pod, the `gateway_proxy_sds` bootstrap cluster and the Upstream sslConfig shapes. Each is
//! defined here once; the templates and the stream edits both take it from here.
//!
//! The shapes are typed structs whose field order is the order in which the chart writes the
//! keys: the templates print them through the `fixed` filter, which keeps that order (a
//! `serde_json::Value` would sort the keys). Post-render takes them as JSON values.

use serde::Serialize;
use serde_json::Value;

/// The bootstrap cluster through which envoy reaches the sds sidecar (Istio spec §3.1).
pub const SDS_CLUSTER: &str = "gateway_proxy_sds";

/// The port the sds sidecar serves on, on the pod's loopback address.
pub const SDS_PORT: u16 = 8234;

fn str_at<'a>(value: &'a Value, pointer: &str) -> Option<&'a str> {
    value.pointer(pointer).and_then(Value::as_str)
}

/// The Istio volumes of a gateway-proxy pod, in the chart's order (Istio spec §2.7).
pub const ISTIO_VOLUMES: [&str; 7] = [
    "istio-certs",
    "istiod-ca-cert",
    "istio-envoy",
    "istio-token",
    "credential-socket",
    "workload-socket",
    "workload-certs",
];

/// The sidecar that serves the Istio certificates to envoy over SDS (Istio spec §2.4).
pub const SDS_CONTAINER: &str = "sds";

/// The sds sidecar's variable that turns on its glooMtls mode (Istio spec §2.4): a pod whose
/// sds sidecar has it runs glooMtls.
pub const GLOO_MTLS_SDS_ENV: &str = "GLOO_MTLS_SDS_ENABLED";

/// The sds sidecar's variable that turns on its Istio mode (Istio spec §2.4).
pub const ISTIO_MTLS_SDS_ENV: &str = "ISTIO_MTLS_SDS_ENABLED";

/// The volume of gloo's mTLS certificates (the `gloo-mtls-certs` Secret) in the gloo and
/// gateway-proxy pods under glooMtls.
pub const GLOO_MTLS_CERTS_VOLUME: &str = "gloo-mtls-certs";

/// The chart's default Istio sidecar (Istio spec §2.5).
pub const ISTIO_PROXY_CONTAINER: &str = "istio-proxy";

/// The volume of the certificates Istio's sidecar writes to files, mounted on envoy for
/// Upstreams in istio-files mode (Istio spec §4.2).
pub const ISTIO_FILES_VOLUME: &str = "istio-default-certs";

/// The sslConfig of Istio spec §4.1, as JSON.
pub fn istio_ssl_config() -> Value {
    to_json(&IstioSdsSslConfig::new())
}

/// The sslConfig of Istio spec §4.2, as JSON: the certificates Istio's sidecar writes to files.
pub fn istio_files_ssl_config() -> Value {
    to_json(&IstioFilesSslConfig::new())
}

/// Whether an sslConfig is one of the Istio shapes of Istio spec §4.1 and §4.2.
pub fn is_istio_ssl_config(ssl: &Value) -> bool {
    if let Some(sds) = ssl.get("sds") {
        let cluster = str_at(sds, "/clusterName");
        let target = str_at(sds, "/targetUri").unwrap_or("");
        let cert = str_at(sds, "/certificatesSecretName").unwrap_or("");
        return cluster == Some(SDS_CLUSTER)
            || (cert == "istio_server_cert" && target.starts_with(&format!("127.0.0.1:{SDS_PORT}")))
            || target.starts_with("unix:/var/run/sds");
    }
    if let Some(files) = ssl.get("sslFiles") {
        return str_at(files, "/rootCa").is_some_and(|p| p.starts_with("/etc/certs/"));
    }
    false
}

/// The `gateway_proxy_sds` cluster (Istio spec §3.1), as JSON.
pub fn sds_cluster() -> Value {
    to_json(&SdsCluster::new())
}

fn to_json(value: &impl Serialize) -> Value {
    serde_json::to_value(value).expect("the Istio shapes are plain data")
}

/// The sslConfig of an Upstream in the istio-sds mode (Istio spec §4.1): envoy takes the
/// certificates from the sds sidecar.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IstioSdsSslConfig {
    pub alpn_protocols: [&'static str; 1],
    pub sds: SdsSecretConfig,
}

/// The `sds` block of [`IstioSdsSslConfig`].
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SdsSecretConfig {
    pub certificates_secret_name: &'static str,
    pub cluster_name: &'static str,
    pub target_uri: String,
    pub validation_context_name: &'static str,
}

impl IstioSdsSslConfig {
    pub fn new() -> Self {
        IstioSdsSslConfig {
            alpn_protocols: ["istio"],
            sds: SdsSecretConfig {
                certificates_secret_name: "istio_server_cert",
                cluster_name: SDS_CLUSTER,
                target_uri: format!("127.0.0.1:{SDS_PORT}"),
                validation_context_name: "istio_validation_context",
            },
        }
    }
}

impl Default for IstioSdsSslConfig {
    fn default() -> Self {
        Self::new()
    }
}

/// The sslConfig of an Upstream in the istio-files mode (Istio spec §4.2): the certificates
/// of the `istio.default` secret, mounted at `/etc/certs/`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IstioFilesSslConfig {
    pub ssl_files: SslFiles,
}

/// The `sslFiles` block of [`IstioFilesSslConfig`], in the chart's order (not alphabetical).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SslFiles {
    pub tls_cert: &'static str,
    pub tls_key: &'static str,
    pub root_ca: &'static str,
}

impl IstioFilesSslConfig {
    pub fn new() -> Self {
        IstioFilesSslConfig {
            ssl_files: SslFiles {
                tls_cert: "/etc/certs/cert-chain.pem",
                tls_key: "/etc/certs/key.pem",
                root_ca: "/etc/certs/root-cert.pem",
            },
        }
    }
}

impl Default for IstioFilesSslConfig {
    fn default() -> Self {
        Self::new()
    }
}

/// The `gateway_proxy_sds` static cluster of the envoy bootstrap (Istio spec §3.1): envoy
/// reaches the sds sidecar over HTTP/2 on the pod's loopback address.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SdsCluster {
    pub name: &'static str,
    pub connect_timeout: &'static str,
    pub http2_protocol_options: Empty,
    pub load_assignment: LoadAssignment,
}

/// An empty mapping, `{}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Empty {}

/// A cluster's `load_assignment` with one endpoint.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LoadAssignment {
    pub cluster_name: &'static str,
    pub endpoints: [LocalityEndpoints; 1],
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LocalityEndpoints {
    pub lb_endpoints: [LbEndpoint; 1],
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LbEndpoint {
    pub endpoint: Endpoint,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Endpoint {
    pub address: Address,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Address {
    pub socket_address: SocketAddress,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SocketAddress {
    pub address: &'static str,
    pub port_value: u16,
}

impl SdsCluster {
    pub fn new() -> Self {
        let endpoint = Endpoint {
            address: Address {
                socket_address: SocketAddress {
                    address: "127.0.0.1",
                    port_value: SDS_PORT,
                },
            },
        };
        SdsCluster {
            name: SDS_CLUSTER,
            connect_timeout: "0.25s",
            http2_protocol_options: Empty {},
            load_assignment: LoadAssignment {
                cluster_name: SDS_CLUSTER,
                endpoints: [LocalityEndpoints {
                    lb_endpoints: [LbEndpoint { endpoint }],
                }],
            },
        }
    }
}

impl Default for SdsCluster {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// The JSON forms are the shapes of the spec, which post-render inserts and recognises.
    #[test]
    fn the_json_shapes_are_the_specs() {
        assert_eq!(
            istio_ssl_config(),
            json!({
                "alpnProtocols": ["istio"],
                "sds": {
                    "certificatesSecretName": "istio_server_cert",
                    "clusterName": "gateway_proxy_sds",
                    "targetUri": "127.0.0.1:8234",
                    "validationContextName": "istio_validation_context",
                },
            })
        );
        assert_eq!(
            istio_files_ssl_config(),
            json!({"sslFiles": {
                "tlsCert": "/etc/certs/cert-chain.pem",
                "tlsKey": "/etc/certs/key.pem",
                "rootCa": "/etc/certs/root-cert.pem",
            }})
        );
        assert_eq!(
            sds_cluster(),
            json!({
                "name": "gateway_proxy_sds",
                "connect_timeout": "0.25s",
                "http2_protocol_options": {},
                "load_assignment": {
                    "cluster_name": "gateway_proxy_sds",
                    "endpoints": [{"lb_endpoints": [{"endpoint": {"address": {"socket_address": {"address": "127.0.0.1", "port_value": 8234}}}}]}],
                },
            })
        );
        assert!(is_istio_ssl_config(&istio_ssl_config()));
        assert!(is_istio_ssl_config(&istio_files_ssl_config()));
    }
}
