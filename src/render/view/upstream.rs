//! The view of `upstream.yaml`: a Gloo Upstream for a Kubernetes service, with the Istio
//! sslConfig of its mTLS mode (Istio spec §4).

use serde::Serialize;

use crate::istio::{IstioFilesSslConfig, IstioSdsSslConfig};
use crate::values::{Model, UpstreamMtlsMode, UpstreamValues, names};

#[derive(Debug, Serialize)]
pub struct UpstreamView {
    pub name: String,
    pub namespace: String,
    pub service: String,
    pub service_namespace: String,
    pub port: u16,
    pub ssl_config: Option<UpstreamSslConfig>,
    pub disable_istio_auto_mtls: bool,
}

/// The sslConfig of an Upstream in one of the Istio modes: the shapes post-render inserts and
/// recognises, from `crate::istio`.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum UpstreamSslConfig {
    /// Istio spec §4.1: the certificates of the sds sidecar.
    IstioSds(IstioSdsSslConfig),
    /// Istio spec §4.2: the certificates Istio's sidecar writes to files.
    IstioFiles(IstioFilesSslConfig),
}

/// The Upstream of `upstreams[]` entry `upstream`, with the sslConfig of its effective mode.
pub fn upstream(model: &Model, upstream: &UpstreamValues) -> UpstreamView {
    UpstreamView {
        name: names::upstream_name(upstream),
        namespace: model.namespace.clone(),
        service: upstream.service.clone(),
        service_namespace: upstream.namespace.clone(),
        port: upstream.port,
        ssl_config: match model.upstream_mode(upstream) {
            UpstreamMtlsMode::IstioSds => Some(UpstreamSslConfig::IstioSds(IstioSdsSslConfig::new())),
            UpstreamMtlsMode::IstioFiles => Some(UpstreamSslConfig::IstioFiles(IstioFilesSslConfig::new())),
            UpstreamMtlsMode::None | UpstreamMtlsMode::Auto => None,
        },
        // An explicit `none` while auto-mTLS is on must opt out of it, or it would get mTLS.
        disable_istio_auto_mtls: upstream.mtls == UpstreamMtlsMode::None && model.auto_mtls_active(),
    }
}

/// Whether any Upstream is rendered in the file-mounted certificates mode, which needs the
/// `istio.default` secret mounted in every gateway proxy.
pub fn istio_files_mode(model: &Model) -> bool {
    model
        .values
        .upstreams
        .iter()
        .any(|u| model.upstream_mode(u) == UpstreamMtlsMode::IstioFiles)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::istio;
    use crate::render::view::tests::{model, rendered};

    /// The sslConfig render writes is the one post-render inserts and recognises.
    #[test]
    fn the_rendered_ssl_configs_are_the_istio_shapes() {
        let model = model(&[
            "global.istioIntegration.enabled=true",
            "upstreams[0].name=a,upstreams[0].service=a,upstreams[0].namespace=n,upstreams[0].port=80,upstreams[0].mtls=istio-sds",
            "upstreams[1].name=b,upstreams[1].service=b,upstreams[1].namespace=n,upstreams[1].port=80,upstreams[1].mtls=istio-files",
            "upstreams[2].name=c,upstreams[2].service=c,upstreams[2].namespace=n,upstreams[2].port=80,upstreams[2].mtls=none",
        ]);
        let ssl = |i: usize| {
            rendered("upstream.yaml", "u", &upstream(&model, &model.values.upstreams[i]))["spec"]
                .get("sslConfig")
                .cloned()
        };
        assert_eq!(ssl(0), Some(istio::istio_ssl_config()));
        assert_eq!(ssl(1), Some(istio::istio_files_ssl_config()));
        assert_eq!(ssl(2), None);
        assert!(istio_files_mode(&model));
    }
}
