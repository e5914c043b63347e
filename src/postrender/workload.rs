//! The gateway-proxy workload (Deployment or DaemonSet): `inject` and post-render add the Istio
//! sidecars and volumes our render of the same proxy has (Istio spec §2), post-render also the
//! Istio pod label and annotation and the istio-files certificate mount; `uninject` takes the
//! sidecars and volumes away again.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde_json::Value;

use super::context::Context;
use super::document::{Document, Operation, error_at, items_at, str_at};
use super::text::{
    DocText, Edits, block_item, block_lines, crlf, differences, entry_lines, escape, insert_entry, manifest_kind,
    render_items, same, set_map_value,
};
use crate::Failure;
use crate::diag::{Diagnostic, Level, code};
use crate::istio::{
    GLOO_MTLS_SDS_ENV, ISTIO_FILES_VOLUME, ISTIO_MTLS_SDS_ENV, ISTIO_PROXY_CONTAINER, ISTIO_VOLUMES, SDS_CONTAINER,
};
use crate::render::{ManifestKind, engine, view};
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

impl Workloads {
    /// The edits of a gateway-proxy Deployment or DaemonSet.
    pub(super) fn edit(
        &mut self,
        cx: &mut Context,
        doc: &Document,
        parsed: &DocText,
    ) -> Result<Option<Edits>, Failure> {
        let v = &parsed.value;
        if !cx.in_scope(v) {
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
        match cx.operation {
            Operation::PostRender | Operation::Inject { .. } => {
                self.count += 1;
                let stream_mtls = serves_gloo_mtls(v);
                if matches!(cx.operation, Operation::PostRender) && cx.model.gloo_mtls() && !stream_mtls {
                    return Err(gloo_mtls_missing(doc, parsed));
                }
                if !cx.model.istio_on() {
                    if matches!(cx.operation, Operation::PostRender) {
                        Self::check_istio_not_turned_off(cx, doc, parsed)?;
                    }
                    return Ok(None);
                }
                self.gloo_tag = Self::gloo_tag_of(cx, v);
                let id = str_at(v, "/metadata/labels/gateway-proxy-id")
                    .or_else(|| str_at(v, "/metadata/name"))
                    .unwrap_or("")
                    .to_string();
                // `inject` has no values of its own: on a pod whose sds sidecar already serves
                // glooMtls it adds what the chart adds to glooMtls for Istio (§2.4).
                let gloo_mtls =
                    cx.model.gloo_mtls() || (matches!(cx.operation, Operation::Inject { .. }) && stream_mtls);
                let ours = self.our_workload(cx, &id, gloo_mtls, true)?;
                let gloo_mtls_sds = if gloo_mtls {
                    let off = self.our_workload(cx, &id, true, false)?;
                    container(&off, SDS_CONTAINER).cloned()
                } else {
                    None
                };
                Self::inject(cx, doc, parsed, &ours, gloo_mtls_sds.as_ref())
            }
            Operation::Uninject { .. } => {
                self.count += 1;
                uninject(doc, parsed).map(Some)
            }
            _ => Ok(None),
        }
    }

    /// Values that turn the Istio integration off, given to a pod that runs it: post-render
    /// adds and never removes, so it refuses them (GI041) rather than leave the sidecars. Values
    /// that say nothing about Istio leave the pod as it is.
    fn check_istio_not_turned_off(cx: &Context, doc: &Document, parsed: &DocText) -> Result<(), Failure> {
        let switch = ["/global/istioIntegration/enabled", "/global/istioSDS/enabled"]
            .into_iter()
            .find_map(|pointer| cx.loaded.locate_exact(pointer).map(|at| (pointer, at)));
        let Some((pointer, at)) = switch else {
            return Ok(());
        };
        let runs_istio = container(&parsed.value, ISTIO_PROXY_CONTAINER).is_some()
            || container(&parsed.value, SDS_CONTAINER).is_some_and(|sds| {
                sds["env"]
                    .as_array()
                    .is_some_and(|env| env.iter().any(|e| e["name"] == ISTIO_MTLS_SDS_ENV))
            });
        if !runs_istio {
            return Ok(());
        }
        let name = str_at(&parsed.value, "/metadata/name").unwrap_or("");
        let key = pointer.trim_start_matches('/').replace('/', ".");
        let mut failure = error_at(
            doc,
            parsed.key_span("/spec/template/spec/containers"),
            code::STREAM_UNSUPPORTED,
            format!(
                "the values turn the Istio integration off ({key}: false), but the pod of {name} runs its sidecars; post-render adds and does not remove them"
            ),
            "take the Istio parts out with `gloo-istio uninject`, or give post-render the values the chart was rendered with",
        );
        if let Some(diagnostic) = failure.diagnostics.first_mut() {
            diagnostic.related.push((at, format!("{key} is set here")));
        }
        Err(failure)
    }

    /// `inject` and `uninject` need a gateway-proxy workload in the stream; when there was one,
    /// they say that they succeeded.
    pub(super) fn finish(&self, cx: &mut Context) -> Result<(), Failure> {
        match cx.operation {
            Operation::Inject { namespace } | Operation::Uninject { namespace, .. } if self.count == 0 => {
                Err(Failure::invalid(vec![
                    Diagnostic::error(
                        code::STREAM_NOT_FOUND,
                        format!("no gateway-proxy Deployment or DaemonSet in namespace {namespace} in the input"),
                    )
                    .help("pipe the Gloo manifests in (helm template … | gloo-istio …), and check --namespace"),
                ]))
            }
            Operation::Inject { .. } => {
                cx.note(Level::Info, "Istio injection was successful!".into());
                Ok(())
            }
            Operation::Uninject { .. } => {
                cx.note(Level::Info, "Istio was successfully uninjected".into());
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// The tag of the workload's Gloo envoy image, when the values did not pick the Gloo version
    /// (`--gloo-version` left at the chart's placeholder and no sds tag of their own).
    fn gloo_tag_of(cx: &Context, v: &Value) -> Option<String> {
        let placeholder = CHART_DEFAULT_VERSION;
        if cx.model.values.global.gloo_mtls.sds.image.tag.as_deref() != Some(placeholder)
            || cx.loaded.locate_exact("/global/glooMtls/sds/image/tag").is_some()
        {
            return None;
        }
        let containers = v.pointer("/spec/template/spec/containers").and_then(Value::as_array)?;
        containers.iter().filter_map(|c| c["image"].as_str()).find_map(|image| {
            let image = image.split('@').next().unwrap_or(image);
            let (path, tag) = image.rsplit_once(':')?;
            let repository = path.rsplit('/').next().unwrap_or(path);
            // The envoy image's variant suffix is its own (Istio spec §1.5): the sds image takes
            // the variant of its own values, as render and the chart give it.
            let tag = tag.strip_suffix("-distroless").unwrap_or(tag);
            let repository = repository.strip_suffix("-fips").unwrap_or(repository);
            (repository.ends_with("envoy-wrapper") && !tag.contains('/') && tag != placeholder).then(|| tag.to_string())
        })
    }

    /// Our render of the workload of proxy `id`, as JSON. When the values leave the sds image
    /// at the chart's placeholder tag, the sds sidecar takes the Gloo version of the stream's
    /// own gateway proxy (as glooctl asks the running gloo).
    ///
    /// `gloo_mtls` and `istio` switch glooMtls and the Istio integration on or off in the
    /// values for this render (the pod of a glooMtls stream, with and without Istio).
    fn our_workload(&self, cx: &Context, id: &str, gloo_mtls: bool, istio: bool) -> Result<Value, Failure> {
        let proxy = cx.proxy(id)?;
        let model = if cx.model.gloo_mtls() == gloo_mtls && cx.model.istio_on() == istio {
            Cow::Borrowed(cx.model)
        } else {
            let mut model = cx.model.clone();
            let global = &mut model.values.global;
            global.gloo_mtls.enabled = Some(gloo_mtls);
            if !istio {
                global.istio_integration.enabled = Some(false);
                global.istio_sds.enabled = Some(false);
            }
            Cow::Owned(model)
        };
        let workload = view::workload(&model, &proxy, &"0".repeat(64), view::istio_files_mode(&model));
        let text = engine::render(engine::embedded(), "workload.yaml", "w", &workload).map_err(Failure::usage)?;
        let mut value = crate::yaml::parse_json(&text).map_err(Failure::usage)?;
        let placeholder = format!(":{CHART_DEFAULT_VERSION}");
        if let (Some(tag), Some(containers)) = (
            &self.gloo_tag,
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

    /// The sidecars and volumes of `ours` that the workload lacks; post-render also sets the
    /// pod metadata and the istio-files mount.
    ///
    /// `gloo_mtls_sds` is the sds sidecar our render gives the pod with glooMtls and without
    /// Istio: a pod that runs exactly that one gets only the Istio parts added to it.
    fn inject(
        cx: &mut Context,
        doc: &Document,
        parsed: &DocText,
        ours: &Value,
        gloo_mtls_sds: Option<&Value>,
    ) -> Result<Option<Edits>, Failure> {
        let v = &parsed.value;
        let name = str_at(v, "/metadata/name").unwrap_or("").to_string();
        let containers = items_at(v, "/spec/template/spec/containers");
        let our_containers = items_at(ours, "/spec/template/spec/containers");
        let envoy_index = our_containers
            .iter()
            .position(|c| c["name"] == ours.pointer("/metadata/name").cloned().unwrap_or_default());
        let istio_containers: Vec<Value> = our_containers
            .iter()
            .skip(envoy_index.map_or(0, |i| i + 1))
            .filter(|c| {
                c["name"] == SDS_CONTAINER
                    || c["name"] == ISTIO_PROXY_CONTAINER
                    || cx
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

        let inject = matches!(cx.operation, Operation::Inject { .. });
        // The sds sidecar of a glooMtls pod, as the chart renders it without Istio (for
        // `inject`, whatever its image).
        let gloo_mtls_only = |theirs: &Value| {
            gloo_mtls_sds.is_some_and(|off| {
                let mut theirs = theirs.clone();
                if inject {
                    theirs["image"] = off["image"].clone();
                    theirs["imagePullPolicy"] = off["imagePullPolicy"].clone();
                }
                same(&theirs, off)
            })
        };
        if inject {
            // glooctl's checks, as a message and no half-edit (Istio spec §5.1, §7.10); a pod
            // whose sds sidecar serves glooMtls alone gets the Istio parts.
            let gloo_mtls_pod = !existing.contains_key(ISTIO_PROXY_CONTAINER)
                && existing.get(SDS_CONTAINER).is_some_and(|(_, c)| gloo_mtls_only(c));
            if !gloo_mtls_pod && (existing.contains_key(SDS_CONTAINER) || existing.contains_key(ISTIO_PROXY_CONTAINER))
            {
                let which = if existing.contains_key(SDS_CONTAINER) {
                    SDS_CONTAINER
                } else {
                    ISTIO_PROXY_CONTAINER
                };
                cx.note(
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
                Some((i, theirs)) if cname == SDS_CONTAINER && !same(theirs, ours) && gloo_mtls_only(theirs) => {
                    complete_sds(doc, parsed, *i, theirs, ours, &mut edits)?;
                }
                Some((i, theirs)) => {
                    if !same(theirs, ours) {
                        let span = parsed.span(&format!("/spec/template/spec/containers/{i}/name"));
                        if cname == SDS_CONTAINER && serves_gloo_mtls(v) && gloo_mtls_sds.is_none() {
                            return Err(error_at(
                                doc,
                                span,
                                code::STREAM_CONFLICT,
                                format!(
                                    "the sds sidecar of {name} serves glooMtls (GLOO_MTLS_SDS_ENABLED), which these values do not turn on"
                                ),
                                "give post-render the values the chart was rendered with, global.glooMtls.enabled: true included",
                            ));
                        }
                        return Err(error_at(
                            doc,
                            span,
                            code::STREAM_CONFLICT,
                            format!(
                                "the pod of {name} already has a container `{cname}` that differs from the one these values give (in the stream ≠ from the values): {}",
                                differences(theirs, ours)
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
        let volumes = items_at(v, "/spec/template/spec/volumes");
        let our_volumes = items_at(ours, "/spec/template/spec/volumes");
        let mut wanted: Vec<Value> = our_volumes
            .iter()
            .filter(|o| o["name"].as_str().is_some_and(|n| ISTIO_VOLUMES.contains(&n)))
            .cloned()
            .collect();
        if matches!(cx.operation, Operation::PostRender) {
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
                            "the pod of {name} already has a volume `{}` that differs from the one these values give (in the stream ≠ from the values): {}",
                            ours["name"].as_str().unwrap_or(""),
                            differences(&volumes[i], ours)
                        ),
                        "remove the volume, or uninject first",
                    ));
                }
                Some(_) => reused.extend(ours["name"].as_str().map(|n| format!("`{n}`"))),
                None => missing_volumes.push(ours.clone()),
            }
        }
        if matches!(cx.operation, Operation::Inject { .. }) && !reused.is_empty() {
            // Volumes left from an earlier injection: kept, and uninject will take them with the
            // sidecars, so the pair does not give this input back. Said, not hidden.
            cx.note(
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

        if matches!(cx.operation, Operation::PostRender) {
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
    let containers = items_at(&parsed.value, "/spec/template/spec/containers");
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

/// The container named `name` of a workload, as JSON.
fn container<'v>(workload: &'v Value, name: &str) -> Option<&'v Value> {
    workload
        .pointer("/spec/template/spec/containers")
        .and_then(Value::as_array)
        .and_then(|containers| containers.iter().find(|c| c["name"] == name))
}

/// Whether the pod's sds sidecar serves glooMtls: the chart gives it `GLOO_MTLS_SDS_ENABLED`
/// and the `gloo-mtls-certs` mount only then (Istio spec §2.4).
pub(super) fn serves_gloo_mtls(workload: &Value) -> bool {
    container(workload, SDS_CONTAINER).is_some_and(|sds| {
        sds["env"]
            .as_array()
            .is_some_and(|env| env.iter().any(|e| e["name"] == GLOO_MTLS_SDS_ENV))
    })
}

/// GI041 for values that turn glooMtls on where the pod lacks it: post-render cannot add it.
fn gloo_mtls_missing(doc: &Document, parsed: &DocText) -> Failure {
    let name = str_at(&parsed.value, "/metadata/name").unwrap_or("");
    let has_sds = container(&parsed.value, SDS_CONTAINER).is_some();
    let missing = if has_sds {
        format!("its sds sidecar does not serve glooMtls (no {GLOO_MTLS_SDS_ENV} variable)")
    } else {
        "it has no sds sidecar".to_string()
    };
    error_at(
        doc,
        parsed
            .key_span("/spec/template/spec/containers")
            .or_else(|| parsed.span("/spec/template/spec")),
        code::STREAM_UNSUPPORTED,
        format!(
            "the values turn on global.glooMtls.enabled, but the pod of {name} does not run glooMtls: {missing}; post-render cannot add glooMtls"
        ),
        "render the chart with the same values (glooMtls also needs the gloo Deployment's sidecars and the certgen job), or leave glooMtls out of the values given to post-render",
    )
}

/// Adds to the sds sidecar at `index`, which runs as the chart renders it for glooMtls alone,
/// the env variables and mounts of `ours` (the same sidecar with Istio), each after the entry
/// that precedes it in `ours` (Istio spec §2.4).
fn complete_sds(
    doc: &Document,
    parsed: &DocText,
    index: usize,
    theirs: &Value,
    ours: &Value,
    edits: &mut Edits,
) -> Result<(), Failure> {
    let base = format!("/spec/template/spec/containers/{index}");
    for key in ["env", "volumeMounts"] {
        let their_items = theirs[key].as_array().cloned().unwrap_or_default();
        let our_items = ours[key].as_array().cloned().unwrap_or_default();
        let mut after: Option<usize> = None;
        let mut pending: Vec<Value> = Vec::new();
        for item in &our_items {
            match their_items.iter().position(|t| same(t, item)) {
                Some(j) => {
                    insert_items(doc, parsed, &base, key, after, &std::mem::take(&mut pending), edits)?;
                    after = Some(j);
                }
                None => pending.push(item.clone()),
            }
        }
        insert_items(doc, parsed, &base, key, after, &pending, edits)?;
    }
    let mut want = ours.clone();
    want["image"] = theirs["image"].clone();
    want["imagePullPolicy"] = theirs["imagePullPolicy"].clone();
    edits.expect(base, want);
    Ok(())
}

/// Inserts `items` into the list `key` of the container at `base`: after its item `after`, or
/// before its first item, or as a new entry when the list is missing.
fn insert_items(
    doc: &Document,
    parsed: &DocText,
    base: &str,
    key: &str,
    after: Option<usize>,
    items: &[Value],
    edits: &mut Edits,
) -> Result<(), Failure> {
    if items.is_empty() {
        return Ok(());
    }
    let list = format!("{base}/{key}");
    let len = parsed
        .value
        .pointer(&list)
        .and_then(Value::as_array)
        .map_or(0, Vec::len);
    match after {
        Some(j) => {
            let (column, end) = block_item(doc, parsed, &format!("{list}/{j}"))?;
            edits.insert(end, crlf(doc, render_items(items, column)));
        }
        None if len > 0 => {
            let first = format!("{list}/0");
            let (column, _) = block_item(doc, parsed, &first)?;
            let start = block_lines(doc, parsed, &first)?.start;
            edits.insert(start, crlf(doc, render_items(items, column)));
        }
        None => insert_entry(doc, parsed, base, key, &Value::Array(items.to_vec()), edits)?,
    }
    Ok(())
}

/// `uninject`: the exact inverse of `inject`, the sds and istio-proxy sidecars and the Istio
/// volumes removed.
fn uninject(doc: &Document, parsed: &DocText) -> Result<Edits, Failure> {
    let v = &parsed.value;
    let name = str_at(v, "/metadata/name").unwrap_or("").to_string();
    let containers = items_at(v, "/spec/template/spec/containers");
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
    let gloo_mtls = serves_gloo_mtls(v);
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
    let volumes = items_at(v, "/spec/template/spec/volumes");
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
