//! The `gloo` Deployment (the control plane), as the chart renders it for the Istio values
//! (Istio spec §2.11): the pod label that keeps Istio's injector away when the values disable
//! autoinjection, and `ENABLE_ISTIO_SIDECAR_ON_GATEWAY` when the gateway proxies ask Istio for
//! its own sidecar.

use serde_json::json;

use super::document::{Document, error_at, items_at};
use super::text::{DocText, Edits, block_item, crlf, insert_entry, render_items, set_map_value};
use crate::Failure;
use crate::diag::code;
use crate::istio::{GLOO_MTLS_CERTS_VOLUME, GLOO_MTLS_SDS_ENV, SDS_CONTAINER};
use crate::values::Model;

/// The edits of the `gloo` Deployment: the `sidecar.istio.io/inject: "false"` pod label and the
/// `ENABLE_ISTIO_SIDECAR_ON_GATEWAY` variable of the `gloo` container.
pub(super) fn edit(model: &Model, doc: &Document, parsed: &DocText) -> Result<Option<Edits>, Failure> {
    if model.gloo_mtls() {
        check_gloo_mtls(doc, parsed)?;
    }
    let integration = &model.values.global.istio_integration;
    let mut edits = Edits::default();
    if integration.disable_autoinjection == Some(true) {
        set_map_value(
            doc,
            parsed,
            "/spec/template/metadata/labels",
            "sidecar.istio.io/inject",
            &json!("false"),
            &mut edits,
        )?;
    }
    if model.sidecar_on_gateway() {
        let containers = items_at(&parsed.value, "/spec/template/spec/containers");
        if let Some(i) = containers.iter().position(|c| c["name"] == "gloo") {
            let env = containers[i]["env"].as_array().cloned().unwrap_or_default();
            if !env.iter().any(|e| e["name"] == "ENABLE_ISTIO_SIDECAR_ON_GATEWAY") {
                let var = json!({"name": "ENABLE_ISTIO_SIDECAR_ON_GATEWAY", "value": "true"});
                match env.len().checked_sub(1) {
                    Some(last) => {
                        let (column, end) =
                            block_item(doc, parsed, &format!("/spec/template/spec/containers/{i}/env/{last}"))?;
                        edits.insert(end, crlf(doc, render_items(&[var], column)));
                    }
                    None => insert_entry(
                        doc,
                        parsed,
                        &format!("/spec/template/spec/containers/{i}"),
                        "env",
                        &json!([var]),
                        &mut edits,
                    )?,
                }
            }
        }
    }
    Ok(Some(edits))
}

/// With glooMtls in the values, the gloo Deployment must already run in mTLS mode, as the chart
/// renders it: an sds sidecar with `GLOO_MTLS_SDS_ENABLED` and the `gloo-mtls-certs` volume.
/// Post-render cannot add them (nor the certgen job that makes the certificates).
fn check_gloo_mtls(doc: &Document, parsed: &DocText) -> Result<(), Failure> {
    let spec = parsed.value.pointer("/spec/template/spec");
    let list = |key: &str| spec.and_then(|s| s[key].as_array()).cloned().unwrap_or_default();
    let sds = list("containers").into_iter().any(|c| {
        c["name"] == SDS_CONTAINER
            && c["env"]
                .as_array()
                .is_some_and(|env| env.iter().any(|e| e["name"] == GLOO_MTLS_SDS_ENV))
    });
    let certs = list("volumes").iter().any(|v| v["name"] == GLOO_MTLS_CERTS_VOLUME);
    if sds && certs {
        return Ok(());
    }
    let missing = match (sds, certs) {
        (false, false) => format!("no sds sidecar with {GLOO_MTLS_SDS_ENV} and no `{GLOO_MTLS_CERTS_VOLUME}` volume"),
        (false, true) => format!("no sds sidecar with {GLOO_MTLS_SDS_ENV}"),
        _ => format!("no `{GLOO_MTLS_CERTS_VOLUME}` volume"),
    };
    Err(error_at(
        doc,
        parsed
            .key_span("/spec/template/spec/containers")
            .or_else(|| parsed.span("/spec/template/spec")),
        code::STREAM_UNSUPPORTED,
        format!(
            "the values turn on global.glooMtls.enabled, but the gloo Deployment is not in mTLS mode ({missing}); post-render cannot add glooMtls"
        ),
        "render the chart with the same values (glooMtls also needs the certgen job), or leave glooMtls out of the values given to post-render",
    ))
}
