//! Upstreams: post-render makes the values' Upstreams win over the stream's and appends the
//! ones the stream lacks; `enable-mtls` and `disable-mtls` set or remove the Istio sslConfig
//! of one Upstream (Istio spec §5.4, §5.5); `uninject --include-upstreams` removes the
//! sslConfigs that use the sds cluster (§5.3).

use std::collections::BTreeSet;

use serde_json::json;

use super::context::{Context, HELM4_FILENAME_ANNOTATION};
use super::document::{Document, Operation, error_at, str_at};
use super::text::{DocText, Edits, crlf, entry_lines, insert_entry, render_entry, same};
use crate::Failure;
use crate::diag::{Diagnostic, Level, code};
use crate::istio::{SDS_CLUSTER, is_istio_ssl_config, istio_ssl_config};
use crate::render::{ManifestKind, engine, view};
use crate::values::{UpstreamValues, names};

/// What the stream held of the Upstreams.
#[derive(Debug, Default)]
pub(super) struct Upstreams {
    /// The Upstreams seen: (namespace, name).
    seen: BTreeSet<(String, String)>,
    /// Whether the Upstream `enable-mtls` or `disable-mtls` names was in the stream.
    found: bool,
}

impl Upstreams {
    /// The edits of an Upstream.
    pub(super) fn edit(
        &mut self,
        cx: &mut Context,
        doc: &Document,
        parsed: &DocText,
    ) -> Result<Option<Edits>, Failure> {
        let v = &parsed.value;
        let name = str_at(v, "/metadata/name").unwrap_or("").to_string();
        let namespace = str_at(v, "/metadata/namespace")
            .unwrap_or(&cx.model.namespace)
            .to_string();
        match cx.operation {
            Operation::PostRender => {
                self.seen.insert((namespace.clone(), name.clone()));
                let ours = cx
                    .model
                    .values
                    .upstreams
                    .iter()
                    .find(|u| names::upstream_name(u) == name && namespace == cx.model.namespace);
                let Some(ours) = ours else {
                    return Ok(None);
                };
                let text = Self::render_upstream(cx, ours)?;
                let our_value = crate::yaml::parse_json(&text).map_err(Failure::usage)?;
                if same(v, &our_value) {
                    return Ok(None);
                }
                // The values win: the document's body is replaced, its leading comments kept.
                let body_start = parsed.line_start(parsed.span("").map_or(0, |s| s.start.offset));
                let mut edits = Edits::default();
                edits.replace(body_start..doc.text.len(), crlf(doc, text));
                Ok(Some(edits))
            }
            Operation::Uninject {
                namespace: gloo_ns,
                include_upstreams,
            } => {
                let ssl = v.pointer("/spec/sslConfig");
                let references = ssl.and_then(|s| str_at(s, "/sds/clusterName")) == Some(SDS_CLUSTER);
                if namespace != *gloo_ns || !references {
                    return Ok(None);
                }
                if !include_upstreams {
                    return Err(error_at(
                        doc,
                        parsed.key_span("/spec/sslConfig"),
                        code::STREAM_CONFLICT,
                        format!(
                            "Upstream {name} has sds config referencing the {SDS_CLUSTER} cluster: istio uninject can only be run when upstreams no longer reference the sds cluster"
                        ),
                        "remove those references or use the --include-upstreams flag",
                    ));
                }
                cx.note(
                    Level::Warning,
                    format!(
                        "Warning: Found upstream {name} with sds config referencing the {SDS_CLUSTER} cluster, removing"
                    ),
                );
                let mut edits = Edits::default();
                edits.delete(entry_lines(doc, parsed, "/spec/sslConfig")?);
                Ok(Some(edits))
            }
            Operation::EnableMtls {
                upstream,
                namespace: want_ns,
                force,
            }
            | Operation::DisableMtls {
                upstream,
                namespace: want_ns,
                force,
            } if *upstream == name && *want_ns == namespace => {
                self.found = true;
                let enable = matches!(cx.operation, Operation::EnableMtls { .. });
                ssl_config_edits(doc, parsed, enable, *force).map(Some)
            }
            _ => Ok(None),
        }
    }

    /// The values' Upstreams that the stream does not hold, as documents to append.
    pub(super) fn appended(&self, cx: &Context) -> Result<String, Failure> {
        let mut out = String::new();
        for upstream in &cx.model.values.upstreams {
            let key = (cx.model.namespace.clone(), names::upstream_name(upstream));
            if self.seen.contains(&key) {
                continue;
            }
            let text = Self::render_upstream(cx, upstream)?;
            out.push_str("---\n");
            // Helm 4 writes `# Source:` itself, from the file-name annotation.
            if !cx.helm4 {
                out.push_str("# Source: gloo-istio/templates/upstream.yaml\n");
            }
            out.push_str(&text);
        }
        Ok(out)
    }

    /// `enable-mtls` and `disable-mtls` need the Upstream they name in the stream.
    pub(super) fn finish(&self, cx: &Context) -> Result<(), Failure> {
        match cx.operation {
            Operation::EnableMtls {
                upstream, namespace, ..
            }
            | Operation::DisableMtls {
                upstream, namespace, ..
            } if !self.found => Err(Failure::invalid(vec![
                Diagnostic::error(
                    code::STREAM_NOT_FOUND,
                    format!("Error reading upstream: Upstream {namespace}/{upstream} is not in the input"),
                )
                .help("pipe the manifests that hold the Upstream in, and check --upstream and --namespace"),
            ])),
            _ => Ok(()),
        }
    }

    /// The Upstream the values give, as post-render appends it: with Helm 4's file-name
    /// annotation when the stream comes from Helm 4 (so that a second run finds it unchanged).
    fn render_upstream(cx: &Context, upstream: &UpstreamValues) -> Result<String, Failure> {
        let text = engine::render(
            engine::embedded(),
            "upstream.yaml",
            "u",
            &view::upstream(cx.model, upstream),
        )
        .map_err(Failure::usage)?;
        if !cx.helm4 {
            return Ok(text);
        }
        let mark = json!({"metadata": {"annotations": {
            HELM4_FILENAME_ANNOTATION: "gloo-istio/templates/upstream.yaml"
        }}});
        crate::render::check::finish(ManifestKind::Upstream, &text, mark.as_object())
            .map_err(|e| Failure::usage(e.to_string()))
    }
}

/// `enable-mtls` (`enable`) or `disable-mtls` on the Upstream the operation names: the Istio
/// sslConfig added, replaced (with `force`) or removed.
fn ssl_config_edits(doc: &Document, parsed: &DocText, enable: bool, force: bool) -> Result<Edits, Failure> {
    let ssl = parsed
        .value
        .pointer("/spec/sslConfig")
        .filter(|s| s.as_object().is_some_and(|m| !m.is_empty()));
    let mut edits = Edits::default();
    match (enable, ssl) {
        (true, None) => insert_entry(doc, parsed, "/spec", "sslConfig", &istio_ssl_config(), &mut edits)?,
        (true, Some(_)) if !force => {
            return Err(error_at(
                doc,
                parsed.key_span("/spec/sslConfig"),
                code::STREAM_CONFLICT,
                "Error upstream already has an sslConfig set".into(),
                "use --force to replace it with the Istio sslConfig",
            ));
        }
        (true, Some(_)) => {
            edits.delete(entry_lines(doc, parsed, "/spec/sslConfig")?);
            let column = parsed.key_column("/spec").unwrap_or(2);
            let at = entry_lines(doc, parsed, "/spec/sslConfig")?.start;
            edits.insert(at, crlf(doc, render_entry("sslConfig", &istio_ssl_config(), column)));
        }
        (false, None) => {
            return Err(error_at(
                doc,
                parsed.key_span("/metadata/name"),
                code::STREAM_CONFLICT,
                "upstream does not have an sslConfig set: upstream already has mTLS disabled".into(),
                "nothing to do",
            ));
        }
        (false, Some(ssl)) if !force && !is_istio_ssl_config(ssl) => {
            return Err(error_at(
                doc,
                parsed.key_span("/spec/sslConfig"),
                code::STREAM_CONFLICT,
                "the Upstream's sslConfig is not an Istio one; disable-mtls removes only Istio sslConfigs".into(),
                "use --force to remove it anyway",
            ));
        }
        (false, Some(_)) => edits.delete(entry_lines(doc, parsed, "/spec/sslConfig")?),
    }
    Ok(edits)
}
