//! The `gloo` Deployment (the control plane), as the chart renders it for the Istio values
//! (Istio spec §2.11): the pod label that keeps Istio's injector away when the values disable
//! autoinjection, and `ENABLE_ISTIO_SIDECAR_ON_GATEWAY` when the gateway proxies ask Istio for
//! its own sidecar.

use serde_json::{Value, json};

use super::Document;
use super::text::{DocText, Edits, block_item, crlf, insert_entry, render_items, set_map_value};
use crate::Failure;
use crate::values::Model;

/// The edits of the `gloo` Deployment: the `sidecar.istio.io/inject: "false"` pod label and the
/// `ENABLE_ISTIO_SIDECAR_ON_GATEWAY` variable of the `gloo` container.
pub(super) fn edit(model: &Model, doc: &Document, parsed: &DocText) -> Result<Option<Edits>, Failure> {
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
        let containers = parsed
            .value
            .pointer("/spec/template/spec/containers")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
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
