//! The gateway proxy's bootstrap ConfigMap (`data.envoy.yaml`): `inject` and post-render add
//! the sds cluster right after the xDS cluster (Istio spec §3.1), `uninject` removes it. The
//! bootstrap is a YAML document inside a string: a literal block scalar gets line edits inside
//! the block; any other shape of the string is rewritten whole.

use std::ops::Range;

use serde_json::Value;

use super::context::Context;
use super::document::{Document, Operation, error_at, items_at, str_at};
use super::text::{DocText, Edits, crlf, entry_lines, internal, render_entry, render_items};
use crate::Failure;
use crate::diag::{Level, code};
use crate::istio::{SDS_CLUSTER, sds_cluster};
use crate::render::view;

/// The edits of a gateway-proxy ConfigMap that holds an envoy bootstrap.
pub(super) fn edit(cx: &mut Context, doc: &Document, parsed: &DocText) -> Result<Option<Edits>, Failure> {
    if !cx.in_scope(&parsed.value) {
        return Ok(None);
    }
    let envoy = str_at(&parsed.value, "/data/envoy.yaml").unwrap_or("").to_string();
    let bootstrap = DocText::parse(&envoy).map_err(|err| {
        error_at(
            doc,
            parsed.span("/data/envoy.yaml"),
            code::YAML_SYNTAX,
            format!("the envoy bootstrap is not valid YAML: {}", err.message),
            "fix the bootstrap",
        )
    })?;
    let Some(bootstrap) = bootstrap else {
        return Ok(None);
    };
    let clusters = items_at(&bootstrap.value, "/static_resources/clusters");
    let sds_index = clusters.iter().position(|c| c["name"] == SDS_CLUSTER);
    let name = str_at(&parsed.value, "/metadata/name").unwrap_or("").to_string();
    match cx.operation {
        Operation::PostRender | Operation::Inject { .. } => {
            if !cx.model.sds_on() {
                return Ok(None);
            }
            let post_render = matches!(cx.operation, Operation::PostRender);
            if post_render && !renders_sds_cluster(cx, &parsed.value)? {
                // The proxy's own bootstrap (`configMap.data`): render and the chart leave
                // it as the user wrote it (Istio spec §3.1), and so does post-render.
                return Ok(None);
            }
            let gloo_mtls = sds_index.is_some_and(|i| references_sds_cluster(&bootstrap.value, i));
            if post_render && cx.model.gloo_mtls() && !gloo_mtls {
                return Err(error_at(
                    doc,
                    parsed.span("/data/envoy.yaml"),
                    code::STREAM_UNSUPPORTED,
                    format!(
                        "the values turn on global.glooMtls.enabled, but the bootstrap of {name} does not connect to gloo over mTLS (no TLS transport socket with the {SDS_CLUSTER} cluster on its xDS clusters); post-render cannot add glooMtls"
                    ),
                    "render the chart with the same values, or leave glooMtls out of the values given to post-render",
                ));
            }
            if sds_index.is_some() {
                // Under glooMtls the cluster is there for gloo's certificates: nothing to say.
                if matches!(cx.operation, Operation::Inject { .. }) && !gloo_mtls {
                    cx.note(
                        Level::Warning,
                        format!("Warning: {SDS_CLUSTER} cluster already found in gateway proxy configMap {name}, it has not been updated"),
                    );
                }
                return Ok(None);
            }
            add_sds_cluster(doc, parsed, &envoy, &bootstrap, clusters, &name)
        }
        Operation::Uninject { .. } => match sds_index {
            Some(i) => remove_sds_cluster(doc, parsed, &envoy, &bootstrap, i, &name),
            None => Ok(None),
        },
        _ => Ok(None),
    }
}

/// Whether our render of this ConfigMap's proxy has the sds cluster: not when the values
/// give the proxy a bootstrap of its own (`configMap.data`).
fn renders_sds_cluster(cx: &Context, config_map: &Value) -> Result<bool, Failure> {
    let Some(id) = str_at(config_map, "/metadata/labels/gateway-proxy-id") else {
        return Ok(true);
    };
    let proxy = cx.proxy(id)?;
    Ok(view::bootstrap(cx.model, &proxy).sds_cluster.is_some())
}

/// Inserts the sds cluster right after the xDS cluster (Istio spec §3.1).
fn add_sds_cluster(
    doc: &Document,
    parsed: &DocText,
    envoy: &str,
    bootstrap: &DocText,
    clusters: &[Value],
    name: &str,
) -> Result<Option<Edits>, Failure> {
    if clusters.is_empty() {
        return Err(error_at(
            doc,
            parsed.span("/data/envoy.yaml"),
            code::STREAM_CONFLICT,
            format!("the bootstrap of {name} has no static clusters"),
            "is this a Gloo gateway-proxy bootstrap?",
        ));
    }
    let xds = clusters
        .iter()
        .position(|c| c["alt_stat_name"] == "xds_cluster")
        .unwrap_or(0);
    let cluster = sds_cluster();
    let item = format!("/static_resources/clusters/{xds}");
    match (bootstrap.dash_column(&item), bootstrap.item_lines(&item)) {
        (Some(column), Some(lines)) => {
            let inner_text = render_items(&[cluster], column);
            edit_block_scalar(doc, parsed, envoy, lines.end, &inner_text)
        }
        _ => {
            let mut value = bootstrap.value.clone();
            if let Some(list) = value
                .pointer_mut("/static_resources/clusters")
                .and_then(Value::as_array_mut)
            {
                list.insert(xds + 1, cluster);
            }
            replace_bootstrap(doc, parsed, &crate::yaml::emit::document(&value))
        }
    }
}

/// Removes the sds cluster, the one at `/static_resources/clusters/{index}`, unless something
/// else in the bootstrap uses it.
fn remove_sds_cluster(
    doc: &Document,
    parsed: &DocText,
    envoy: &str,
    bootstrap: &DocText,
    index: usize,
    name: &str,
) -> Result<Option<Edits>, Failure> {
    if references_sds_cluster(&bootstrap.value, index) {
        return Err(error_at(
            doc,
            parsed.span("/data/envoy.yaml"),
            code::STREAM_CONFLICT,
            format!(
                "the bootstrap of {name} uses the {SDS_CLUSTER} cluster beyond its definition (glooMtls?); removing it would break envoy"
            ),
            "turn off global.istioIntegration in the chart values instead",
        ));
    }
    let item = format!("/static_resources/clusters/{index}");
    match bootstrap.item_lines(&item) {
        Some(lines) => match (
            block_scalar_range(doc, parsed, envoy, lines.start),
            block_scalar_range(doc, parsed, envoy, lines.end),
        ) {
            (Ok(start), Ok(end)) => {
                let mut edits = Edits::default();
                edits.delete(start.start..end.start);
                Ok(Some(edits))
            }
            _ => {
                // A quoted bootstrap (Helm 4 re-serialises): edit the text, requote.
                let mut new_content = envoy.to_string();
                new_content.replace_range(lines, "");
                replace_bootstrap(doc, parsed, &new_content)
            }
        },
        None => {
            let mut value = bootstrap.value.clone();
            if let Some(list) = value
                .pointer_mut("/static_resources/clusters")
                .and_then(Value::as_array_mut)
            {
                list.remove(index);
            }
            replace_bootstrap(doc, parsed, &crate::yaml::emit::document(&value))
        }
    }
}

/// Whether a bootstrap names the sds cluster anywhere but in its definition, the cluster at
/// `/static_resources/clusters/{definition}`: a string equal to the name (the `cluster_name` of
/// an SDS config, as glooMtls writes) or a key. A longer string holding the name (a host
/// `gateway_proxy_sds.example`) or a comment is no reference.
fn references_sds_cluster(bootstrap: &Value, definition: usize) -> bool {
    fn names(value: &Value) -> bool {
        match value {
            Value::String(s) => s == SDS_CLUSTER,
            Value::Array(items) => items.iter().any(names),
            Value::Object(map) => map.iter().any(|(k, v)| k == SDS_CLUSTER || names(v)),
            _ => false,
        }
    }
    let mut rest = bootstrap.clone();
    if let Some(clusters) = rest
        .pointer_mut("/static_resources/clusters")
        .and_then(Value::as_array_mut)
        .filter(|clusters| definition < clusters.len())
    {
        clusters.remove(definition);
    }
    names(&rest)
}

/// Inserts `inner_text` (lines of the bootstrap) at `inner_offset` of the bootstrap, inside
/// the ConfigMap's literal block scalar; other ConfigMap shapes are rewritten whole.
fn edit_block_scalar(
    doc: &Document,
    parsed: &DocText,
    content: &str,
    inner_offset: usize,
    inner_text: &str,
) -> Result<Option<Edits>, Failure> {
    let span = parsed
        .span("/data/envoy.yaml")
        .ok_or_else(|| internal(doc, "no envoy.yaml span".into()))?;
    match block_scalar_range(doc, parsed, content, inner_offset) {
        Ok(at) => {
            let indent = " ".repeat(span.start.col - 1);
            let text: String = inner_text
                .lines()
                .map(|l| {
                    if l.is_empty() {
                        "\n".to_string()
                    } else {
                        format!("{indent}{l}\n")
                    }
                })
                .collect();
            let mut edits = Edits::default();
            edits.insert(at.start, crlf(doc, text));
            Ok(Some(edits))
        }
        Err(_) => {
            let mut new_content = content.to_string();
            new_content.insert_str(inner_offset, inner_text);
            replace_bootstrap(doc, parsed, &new_content)
        }
    }
}

/// The offset in the document of line `inner_offset` (a line start) of a literal block
/// scalar's content, as a zero-length range.
fn block_scalar_range(
    doc: &Document,
    parsed: &DocText,
    content: &str,
    inner_offset: usize,
) -> Result<Range<usize>, Failure> {
    let span = parsed
        .span("/data/envoy.yaml")
        .ok_or_else(|| internal(doc, "no envoy.yaml span".into()))?;
    let key = parsed
        .key_span("/data/envoy.yaml")
        .ok_or_else(|| internal(doc, "no envoy.yaml key".into()))?;
    let header = &doc.text[key.end.offset..parsed.line_end(key.end.offset)];
    if !header.trim_start_matches(':').trim().starts_with('|') {
        return Err(internal(doc, "not a literal block".into()));
    }
    let first = parsed.line_start(span.start.offset);
    let line = content[..inner_offset].matches('\n').count();
    let mut offset = first;
    for _ in 0..line {
        offset = parsed.line_end(offset);
    }
    Ok(offset..offset)
}

/// Rewrites the `envoy.yaml` entry of a ConfigMap whose bootstrap is not a literal block.
fn replace_bootstrap(doc: &Document, parsed: &DocText, new_content: &str) -> Result<Option<Edits>, Failure> {
    let lines = entry_lines(doc, parsed, "/data/envoy.yaml")?;
    let column = parsed.key_column("/data").unwrap_or(2);
    let mut edits = Edits::default();
    edits.replace(
        lines,
        crlf(
            doc,
            render_entry("envoy.yaml", &Value::String(new_content.to_string()), column),
        ),
    );
    Ok(Some(edits))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_a_use_beyond_the_definition_references_the_sds_cluster() {
        let definition = sds_cluster();
        let bootstrap = json!({"static_resources": {"clusters": [{"name": "xds"}, definition]}});
        assert!(!references_sds_cluster(&bootstrap, 1));
        let mut used = bootstrap.clone();
        used["static_resources"]["listeners"] = json!([{"sds_config": {"cluster_name": SDS_CLUSTER}}]);
        assert!(references_sds_cluster(&used, 1));
        let mut host = bootstrap;
        host["static_resources"]["clusters"][0]["host"] = json!(format!("{SDS_CLUSTER}.example"));
        assert!(!references_sds_cluster(&host, 1));
    }
}
