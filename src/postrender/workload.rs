//! The gateway-proxy workload (Deployment or DaemonSet): `inject` and post-render add the Istio
//! sidecars and volumes our render of the same proxy has (Istio spec §2), post-render also the
//! Istio pod label and annotation and the istio-files certificate mount; `uninject` takes the
//! sidecars and volumes away again.

use std::collections::BTreeMap;

use serde_json::Value;

use super::editor::StreamEditor;
use super::text::{
    DocText, Edits, block_item, block_lines, crlf, entry_lines, escape, insert_entry, manifest_kind, render_items,
    same, set_map_value,
};
use super::{Document, Operation, error_at, str_at};
use crate::Failure;
use crate::diag::{Diagnostic, Level, code};
use crate::istio::{ISTIO_FILES_VOLUME, ISTIO_PROXY_CONTAINER, ISTIO_VOLUMES, SDS_CONTAINER};
use crate::render::{ManifestKind, engine, view};
use crate::values::Proxy;
use crate::values::layers::CHART_DEFAULT_VERSION;

/// What the stream held of the gateway-proxy workloads.
#[derive(Debug, Default)]
pub(super) struct Workloads {
    /// How many gateway-proxy workloads the operation looked at.
    count: usize,
    /// The Gloo image tag of the gateway proxies in the stream, for the sds sidecar when the
    /// values leave it at the chart's placeholder.
    gloo_tag: Option<String>,
}

impl StreamEditor<'_> {
    /// The edits of a gateway-proxy Deployment or DaemonSet.
    pub(super) fn edit_workload(&mut self, doc: &Document, parsed: &DocText) -> Result<Option<Edits>, Failure> {
        let v = &parsed.value;
        if !self.in_scope(v) {
            return Ok(None);
        }
        let kind = manifest_kind(str_at(v, "/kind").unwrap_or("")).unwrap_or(ManifestKind::Deployment);
        if let Err(problem) = crate::render::check::deserializes(kind, v) {
            return Err(error_at(
                doc,
                parsed.span(""),
                code::STREAM_UNSUPPORTED,
                format!(
                    "this gateway-proxy {} is not a valid {}: {problem}",
                    kind.as_str(),
                    kind.as_str()
                ),
                "fix the manifest (or the chart values that produced it)",
            ));
        }
        let containers = v.pointer("/spec/template/spec/containers").and_then(Value::as_array);
        if let Some(i) = containers.and_then(|c| c.iter().position(|c| c["name"].as_str().is_none_or(str::is_empty))) {
            return Err(error_at(
                doc,
                parsed.span(&format!("/spec/template/spec/containers/{i}")),
                code::STREAM_UNSUPPORTED,
                "a container of this gateway-proxy pod has no name".into(),
                "Kubernetes requires a name for every container",
            ));
        }
        for list in ["containers", "volumes"] {
            let pointer = format!("/spec/template/spec/{list}");
            if v.pointer(&pointer).is_some_and(|l| !l.is_array() && !l.is_null()) {
                return Err(error_at(
                    doc,
                    parsed.span(&pointer),
                    code::STREAM_UNSUPPORTED,
                    format!("`{list}` of this gateway-proxy pod is not a list"),
                    "fix the manifest",
                ));
            }
        }
        match self.operation {
            Operation::PostRender | Operation::Inject { .. } => {
                self.workloads.count += 1;
                if !self.model.istio_on() {
                    return Ok(None);
                }
                self.workloads.gloo_tag = self.gloo_tag_of(v);
                let id = str_at(v, "/metadata/labels/gateway-proxy-id")
                    .or_else(|| str_at(v, "/metadata/name"))
                    .unwrap_or("")
                    .to_string();
                let ours = self.our_workload(&id)?;
                self.inject(doc, parsed, &ours)
            }
            Operation::Uninject { .. } => {
                self.workloads.count += 1;
                uninject(doc, parsed).map(Some)
            }
            _ => Ok(None),
        }
    }

    /// `inject` and `uninject` need a gateway-proxy workload in the stream; when there was one,
    /// they say that they succeeded.
    pub(super) fn finish_workloads(&mut self) -> Result<(), Failure> {
        match self.operation {
            Operation::Inject { namespace } | Operation::Uninject { namespace, .. } if self.workloads.count == 0 => {
                Err(Failure::invalid(vec![
                    Diagnostic::error(
                        code::STREAM_NOT_FOUND,
                        format!("no gateway-proxy Deployment or DaemonSet in namespace {namespace} in the input"),
                    )
                    .help("pipe the Gloo manifests in (helm template … | gloo-istio …), and check --namespace"),
                ]))
            }
            Operation::Inject { .. } => {
                self.note(Level::Info, "Istio injection was successful!".into());
                Ok(())
            }
            Operation::Uninject { .. } => {
                self.note(Level::Info, "Istio was successfully uninjected".into());
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// The tag of the workload's Gloo envoy image, when the values did not pick the Gloo version
    /// (`--gloo-version` left at the chart's placeholder and no sds tag of their own).
    fn gloo_tag_of(&self, v: &Value) -> Option<String> {
        let placeholder = CHART_DEFAULT_VERSION;
        if self.model.values.global.gloo_mtls.sds.image.tag.as_deref() != Some(placeholder)
            || self.loaded.locate_exact("/global/glooMtls/sds/image/tag").is_some()
        {
            return None;
        }
        let containers = v.pointer("/spec/template/spec/containers").and_then(Value::as_array)?;
        containers.iter().filter_map(|c| c["image"].as_str()).find_map(|image| {
            let image = image.split('@').next().unwrap_or(image);
            let (path, tag) = image.rsplit_once(':')?;
            let repository = path.rsplit('/').next().unwrap_or(path);
            (repository.ends_with("envoy-wrapper") && !tag.contains('/') && tag != placeholder).then(|| tag.to_string())
        })
    }

    /// Our render of the workload of proxy `id`, as JSON. When the values leave the sds image
    /// at the chart's placeholder tag, the sds sidecar takes the Gloo version of the stream's
    /// own gateway proxy (as glooctl asks the running gloo).
    fn our_workload(&self, id: &str) -> Result<Value, Failure> {
        let proxy = self.proxy(id)?;
        let workload = view::workload(self.model, &proxy, &"0".repeat(64), view::istio_files_mode(self.model));
        let text = engine::render(engine::embedded(), "workload.yaml", "w", &workload).map_err(Failure::usage)?;
        let mut value = crate::yaml::parse_json(&text).map_err(Failure::usage)?;
        let placeholder = format!(":{CHART_DEFAULT_VERSION}");
        if let (Some(tag), Some(containers)) = (
            &self.workloads.gloo_tag,
            value
                .pointer_mut("/spec/template/spec/containers")
                .and_then(Value::as_array_mut),
        ) {
            for c in containers.iter_mut().filter(|c| c["name"] == SDS_CONTAINER) {
                if let Some(image) = c["image"]
                    .as_str()
                    .and_then(|i| i.strip_suffix(&placeholder).map(str::to_string))
                {
                    c["image"] = Value::String(format!("{image}:{tag}"));
                }
            }
        }
        Ok(value)
    }

    /// The proxy of the values with this id, or one that inherits everything from
    /// `gatewayProxy` (as the chart renders a proxy whose entry sets nothing).
    fn proxy(&self, id: &str) -> Result<Proxy, Failure> {
        if let Some(p) = self.model.proxies.iter().find(|p| p.id == id) {
            return Ok(p.clone());
        }
        let empty = serde_json::Map::new();
        let raw = self
            .loaded
            .merged
            .get("gatewayProxies")
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        let mut effective = crate::values::proxy::effective_proxy(raw, id);
        crate::values::proxy::strip_nulls(&mut effective);
        let values =
            serde_json::from_value(effective).map_err(|e| Failure::usage(format!("gatewayProxy values: {e}")))?;
        Ok(Proxy {
            key: id.to_string(),
            id: id.to_string(),
            values,
            pointer: "/gatewayProxies/gatewayProxy".into(),
        })
    }

    /// The sidecars and volumes of `ours` that the workload lacks; post-render also sets the
    /// pod metadata and the istio-files mount.
    fn inject(&mut self, doc: &Document, parsed: &DocText, ours: &Value) -> Result<Option<Edits>, Failure> {
        let v = &parsed.value;
        let name = str_at(v, "/metadata/name").unwrap_or("").to_string();
        let containers = v
            .pointer("/spec/template/spec/containers")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let our_containers = ours
            .pointer("/spec/template/spec/containers")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let envoy_index = our_containers
            .iter()
            .position(|c| c["name"] == ours.pointer("/metadata/name").cloned().unwrap_or_default());
        let istio_containers: Vec<Value> = our_containers
            .iter()
            .skip(envoy_index.map_or(0, |i| i + 1))
            .filter(|c| {
                c["name"] == SDS_CONTAINER
                    || c["name"] == ISTIO_PROXY_CONTAINER
                    || self
                        .model
                        .custom_sidecars()
                        .is_some_and(|s| s.iter().any(|x| c["name"] == x.name.as_str()))
            })
            .cloned()
            .collect();
        let existing: BTreeMap<String, (usize, &Value)> = containers
            .iter()
            .enumerate()
            .filter_map(|(i, c)| c["name"].as_str().map(|n| (n.to_string(), (i, c))))
            .collect();

        if matches!(self.operation, Operation::Inject { .. }) {
            // glooctl's checks, as a message and no half-edit (Istio spec §5.1, §7.10).
            if existing.contains_key(SDS_CONTAINER) || existing.contains_key(ISTIO_PROXY_CONTAINER) {
                let which = if existing.contains_key(SDS_CONTAINER) {
                    SDS_CONTAINER
                } else {
                    ISTIO_PROXY_CONTAINER
                };
                self.note(
                    Level::Warning,
                    format!("{which} sidecar container already exists on gateway-proxy pod {name}: left as it is"),
                );
                return Ok(None);
            }
        }

        let mut edits = Edits::default();
        let mut missing = Vec::new();
        for ours in &istio_containers {
            let cname = ours["name"].as_str().unwrap_or("");
            match existing.get(cname) {
                Some((i, theirs)) => {
                    if !same(theirs, ours) {
                        let span = parsed.span(&format!("/spec/template/spec/containers/{i}/name"));
                        return Err(error_at(
                            doc,
                            span,
                            code::STREAM_CONFLICT,
                            format!(
                                "the pod of {name} already has a container `{cname}` that differs from the one these values give"
                            ),
                            "render it from the same values, or uninject it first",
                        ));
                    }
                }
                None => missing.push(ours.clone()),
            }
        }
        if !missing.is_empty() {
            let last = containers.len().checked_sub(1).ok_or_else(|| {
                error_at(
                    doc,
                    parsed.span("/spec/template/spec"),
                    code::STREAM_CONFLICT,
                    format!("the pod of {name} has no containers"),
                    "is this a gateway-proxy workload?",
                )
            })?;
            let item = format!("/spec/template/spec/containers/{last}");
            let (column, end) = block_item(doc, parsed, &item)?;
            edits.insert(end, crlf(doc, render_items(&missing, column)));
        }

        // Volumes: the Istio ones right after envoy-config, in the chart's order.
        let volumes = v
            .pointer("/spec/template/spec/volumes")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let our_volumes = ours
            .pointer("/spec/template/spec/volumes")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let mut wanted: Vec<Value> = our_volumes
            .iter()
            .filter(|o| o["name"].as_str().is_some_and(|n| ISTIO_VOLUMES.contains(&n)))
            .cloned()
            .collect();
        if matches!(self.operation, Operation::PostRender) {
            wanted.extend(our_volumes.iter().filter(|o| o["name"] == ISTIO_FILES_VOLUME).cloned());
        }
        let mut missing_volumes = Vec::new();
        let mut reused = Vec::new();
        for ours in &wanted {
            match volumes.iter().position(|t| t["name"] == ours["name"]) {
                Some(i) if !same(&volumes[i], ours) => {
                    return Err(error_at(
                        doc,
                        parsed.span(&format!("/spec/template/spec/volumes/{i}/name")),
                        code::STREAM_CONFLICT,
                        format!(
                            "the pod of {name} already has a volume `{}` that differs from the one these values give",
                            ours["name"].as_str().unwrap_or("")
                        ),
                        "remove the volume, or uninject first",
                    ));
                }
                Some(_) => reused.extend(ours["name"].as_str().map(|n| format!("`{n}`"))),
                None => missing_volumes.push(ours.clone()),
            }
        }
        if matches!(self.operation, Operation::Inject { .. }) && !reused.is_empty() {
            // Volumes left from an earlier injection: kept, and uninject will take them with the
            // sidecars, so the pair does not give this input back. Said, not hidden.
            self.note(
                Level::Warning,
                format!(
                    "the pod of {name} already has the Istio volume(s) {} without the sidecars: kept as they are for the sidecars; `uninject` will remove them",
                    reused.join(", ")
                ),
            );
        }
        if !missing_volumes.is_empty() {
            let anchor = volumes
                .iter()
                .position(|t| t["name"] == "envoy-config")
                .or(volumes.len().checked_sub(1));
            match anchor {
                Some(i) => {
                    let (column, end) = block_item(doc, parsed, &format!("/spec/template/spec/volumes/{i}"))?;
                    edits.insert(end, crlf(doc, render_items(&missing_volumes, column)));
                }
                None => insert_entry(
                    doc,
                    parsed,
                    "/spec/template/spec",
                    "volumes",
                    &Value::Array(missing_volumes),
                    &mut edits,
                )?,
            }
        }

        if matches!(self.operation, Operation::PostRender) {
            pod_metadata(doc, parsed, ours, &mut edits)?;
            istio_files_mount(doc, parsed, ours, &mut edits)?;
        }
        Ok(Some(edits))
    }
}

/// The Istio pod label and the excludeInboundPorts annotation, as the chart sets them.
fn pod_metadata(doc: &Document, parsed: &DocText, ours: &Value, edits: &mut Edits) -> Result<(), Failure> {
    for (section, key) in [
        ("labels", "sidecar.istio.io/inject"),
        ("labels", "istio.io/rev"),
        ("annotations", "traffic.sidecar.istio.io/excludeInboundPorts"),
    ] {
        let pointer = format!("/spec/template/metadata/{section}");
        let Some(want) = ours.pointer(&format!("{pointer}/{}", escape(key))) else {
            continue;
        };
        set_map_value(doc, parsed, &pointer, key, want, edits)?;
    }
    Ok(())
}

/// The envoy container's mount of the istio-files certificates, when our render has it (for
/// Upstreams in istio-files mode, Istio spec §4.2).
fn istio_files_mount(doc: &Document, parsed: &DocText, ours: &Value, edits: &mut Edits) -> Result<(), Failure> {
    let envoy_name = ours.pointer("/metadata/name").cloned().unwrap_or_default();
    let our_mount = ours
        .pointer("/spec/template/spec/containers")
        .and_then(Value::as_array)
        .and_then(|containers| containers.iter().find(|c| c["name"] == envoy_name))
        .and_then(|envoy| envoy["volumeMounts"].as_array())
        .and_then(|mounts| mounts.iter().find(|m| m["name"] == ISTIO_FILES_VOLUME));
    let Some(mount) = our_mount else {
        return Ok(());
    };
    let containers = parsed
        .value
        .pointer("/spec/template/spec/containers")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let Some(i) = containers.iter().position(|c| c["name"] == envoy_name) else {
        return Ok(());
    };
    let mounts = containers[i]["volumeMounts"].as_array().cloned().unwrap_or_default();
    if mounts.iter().any(|m| m["name"] == ISTIO_FILES_VOLUME) {
        return Ok(());
    }
    match mounts.len().checked_sub(1) {
        Some(last) => {
            let (column, end) = block_item(
                doc,
                parsed,
                &format!("/spec/template/spec/containers/{i}/volumeMounts/{last}"),
            )?;
            edits.insert(end, crlf(doc, render_items(std::slice::from_ref(mount), column)));
        }
        None => insert_entry(
            doc,
            parsed,
            &format!("/spec/template/spec/containers/{i}"),
            "volumeMounts",
            &Value::Array(vec![mount.clone()]),
            edits,
        )?,
    }
    Ok(())
}

/// `uninject`: the exact inverse of `inject`, the sds and istio-proxy sidecars and the Istio
/// volumes removed.
fn uninject(doc: &Document, parsed: &DocText) -> Result<Edits, Failure> {
    let v = &parsed.value;
    let name = str_at(v, "/metadata/name").unwrap_or("").to_string();
    let containers = v
        .pointer("/spec/template/spec/containers")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let sds = containers.iter().position(|c| c["name"] == SDS_CONTAINER);
    let istio = containers.iter().position(|c| c["name"] == ISTIO_PROXY_CONTAINER);
    let (Some(sds), Some(istio)) = (sds, istio) else {
        return Err(error_at(
            doc,
            parsed.key_span("/spec/template/spec/containers"),
            code::STREAM_CONFLICT,
            format!(
                "{name}: istio uninject can only be run when both the sds and istio-proxy sidecars are present on the gateway-proxy pod"
            ),
            "nothing to uninject here",
        ));
    };
    let gloo_mtls = containers[sds]["env"]
        .as_array()
        .is_some_and(|env| env.iter().any(|e| e["name"] == "GLOO_MTLS_SDS_ENABLED"));
    if gloo_mtls {
        return Err(error_at(
            doc,
            parsed.span(&format!("/spec/template/spec/containers/{sds}/name")),
            code::STREAM_CONFLICT,
            format!("{name}: the sds sidecar also serves glooMtls; removing it would break the xDS connection"),
            "turn off global.istioIntegration in the chart values instead",
        ));
    }
    let mut edits = Edits::default();
    for i in [sds, istio] {
        edits.delete(block_lines(
            doc,
            parsed,
            &format!("/spec/template/spec/containers/{i}"),
        )?);
    }
    let volumes = v
        .pointer("/spec/template/spec/volumes")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let istio = |volume: &Value| volume["name"].as_str().is_some_and(|n| ISTIO_VOLUMES.contains(&n));
    if !volumes.is_empty() && volumes.iter().all(istio) {
        // Only Istio volumes: `inject` added the whole `volumes:` entry, so it goes whole.
        edits.delete(entry_lines(doc, parsed, "/spec/template/spec/volumes")?);
    } else {
        for (i, volume) in volumes.iter().enumerate() {
            if istio(volume) {
                edits.delete(block_lines(doc, parsed, &format!("/spec/template/spec/volumes/{i}"))?);
            }
        }
    }
    Ok(edits)
}
