//! The Gloo Settings: post-render sets `spec.gloo.istioOptions` (`enableIntegration`,
//! `enableAutoMtls`, `appendXForwardedHost`) as the chart renders them from the values (Istio
//! spec §2.11).

use serde_json::Value;

use super::document::Document;
use super::text::{DocText, Edits, insert_entry, set_map_value};
use crate::Failure;
use crate::values::Model;
use crate::values::layers::LoadedValues;

/// The edits of a Settings document: each `istioOptions` key set in place, or the whole
/// `istioOptions` mapping added when `spec.gloo` has none.
pub(super) fn edit(
    model: &Model,
    loaded: &LoadedValues,
    doc: &Document,
    parsed: &DocText,
) -> Result<Option<Edits>, Failure> {
    let integration = &model.values.global.istio_integration;
    // Post-render aligns what the values turn on or write; a key they say nothing about keeps
    // the stream's value, byte for byte.
    let written = |pointer: &str| loaded.locate_exact(pointer).is_some();
    // (key, the value for these values, the chart's default, whether the values write it)
    let candidates = [
        (
            "appendXForwardedHost",
            integration.append_x_forwarded_host.unwrap_or(true),
            true,
            written("/global/istioIntegration/appendXForwardedHost"),
        ),
        (
            "enableAutoMtls",
            integration.enable_auto_mtls.unwrap_or(false),
            false,
            written("/global/istioIntegration/enableAutoMtls"),
        ),
        (
            "enableIntegration",
            model.settings_integration(),
            false,
            written("/global/istioIntegration/enabled"),
        ),
    ];
    let want: Vec<(&str, bool)> = candidates
        .into_iter()
        .filter(|(_, value, default, written)| value != default || *written)
        .map(|(key, value, _, _)| (key, value))
        .collect();
    if want.is_empty() {
        return Ok(None);
    }
    let mut edits = Edits::default();
    if parsed
        .value
        .pointer("/spec/gloo/istioOptions")
        .is_some_and(Value::is_object)
    {
        for (key, value) in want.iter().copied() {
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
