//! The Gloo Settings: post-render sets `spec.gloo.istioOptions` (`enableIntegration`,
//! `enableAutoMtls`, `appendXForwardedHost`) as the chart renders them from the values (Istio
//! spec §2.11).

use serde_json::Value;

use super::Document;
use super::text::{DocText, Edits, insert_entry, set_map_value};
use crate::Failure;
use crate::values::Model;

/// The edits of a Settings document: each `istioOptions` key set in place, or the whole
/// `istioOptions` mapping added when `spec.gloo` has none.
pub(super) fn edit(model: &Model, doc: &Document, parsed: &DocText) -> Result<Option<Edits>, Failure> {
    let integration = &model.values.global.istio_integration;
    let want = [
        (
            "appendXForwardedHost",
            integration.append_x_forwarded_host.unwrap_or(true),
        ),
        ("enableAutoMtls", integration.enable_auto_mtls.unwrap_or(false)),
        ("enableIntegration", model.settings_integration()),
    ];
    let mut edits = Edits::default();
    if parsed
        .value
        .pointer("/spec/gloo/istioOptions")
        .is_some_and(Value::is_object)
    {
        for (key, value) in want {
            set_map_value(
                doc,
                parsed,
                "/spec/gloo/istioOptions",
                key,
                &Value::Bool(value),
                &mut edits,
            )?;
        }
    } else if parsed.value.pointer("/spec/gloo").is_some_and(Value::is_object) {
        let options: serde_json::Map<String, Value> =
            want.iter().map(|(k, v)| (k.to_string(), Value::Bool(*v))).collect();
        insert_entry(
            doc,
            parsed,
            "/spec/gloo",
            "istioOptions",
            &Value::Object(options),
            &mut edits,
        )?;
    }
    Ok(Some(edits))
}
