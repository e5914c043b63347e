//! The edits of each kind of document the stream operations touch.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use super::text::{DocText, Edits, escape, render_entry, render_items};
use super::{Document, Operation, Summary, error_at, str_at};
use crate::Failure;
use crate::diag::{Diagnostic, code};
use crate::istio::{ISTIO_VOLUMES, is_istio_ssl_config, istio_ssl_config, sds_cluster};
use crate::render::{ManifestKind, engine, view};
use crate::values::layers::LoadedValues;
use crate::values::{Model, Proxy, names};
use crate::yaml::Limits;

/// Helm 4 names each document's template in this annotation (and rebuilds `# Source:` from it).
pub const HELM4_FILENAME_ANNOTATION: &str = "postrenderer.helm.sh/postrender-filename";

/// The strings looked for in every document, each with its vectorised search built once per
/// process (building one costs more than searching a small document).
struct Needles {
    helm4: memchr::memmem::Finder<'static>,
    kind: memchr::memmem::Finder<'static>,
    proxy_id: memchr::memmem::Finder<'static>,
    gloo: memchr::memmem::Finder<'static>,
}

fn needles() -> &'static Needles {
    static NEEDLES: std::sync::OnceLock<Needles> = std::sync::OnceLock::new();
    NEEDLES.get_or_init(|| Needles {
        helm4: memchr::memmem::Finder::new(HELM4_FILENAME_ANNOTATION),
        kind: memchr::memmem::Finder::new("kind"),
        proxy_id: memchr::memmem::Finder::new("gateway-proxy-id"),
        gloo: memchr::memmem::Finder::new("gloo"),
    })
}

/// Whether `finder`'s string occurs in `text`.
fn contains(text: &str, finder: &memchr::memmem::Finder<'_>) -> bool {
    finder.find(text.as_bytes()).is_some()
}

fn crlf(doc: &Document, text: String) -> String {
    if doc.text.contains("\r\n") {
        text.replace("\r\n", "\n").replace('\n', "\r\n")
    } else {
        text
    }
}

pub struct State<'a> {
    operation: &'a Operation,
    model: &'a Model,
    loaded: &'a LoadedValues,
    summary: Summary,
    /// Upstreams seen in the stream: (namespace, name).
    upstreams_seen: BTreeSet<(String, String)>,
    gateway_proxies: usize,
    upstream_found: bool,
    /// Whether the stream held any document at all (empty input gives empty output).
    saw_content: bool,
    /// Whether the stream comes from Helm 4, which names each document's template in an
    /// annotation and wants it on the documents we add too.
    helm4: bool,
    /// The Gloo image tag of the gateway proxies in the stream, for the sds sidecar when the
    /// values leave it at the chart's placeholder.
    stream_gloo_tag: Option<String>,
    /// Whether the output so far ends with a newline (what we append must start a line).
    ends_with_newline: bool,
}

impl<'a> State<'a> {
    pub fn new(operation: &'a Operation, model: &'a Model, loaded: &'a LoadedValues) -> Result<State<'a>, Failure> {
        if model.gloo_mtls() && matches!(operation, Operation::PostRender | Operation::Inject { .. }) {
            return Err(Failure::invalid(vec![
                Diagnostic::error(
                    code::STREAM_UNSUPPORTED,
                    "global.glooMtls.enabled cannot be added to rendered manifests",
                )
                .help("glooMtls also changes the gloo Deployment and needs the certgen job: render it with the chart"),
            ]));
        }
        Ok(State {
            operation,
            model,
            loaded,
            summary: Summary::default(),
            upstreams_seen: BTreeSet::new(),
            gateway_proxies: 0,
            upstream_found: false,
            saw_content: false,
            helm4: false,
            stream_gloo_tag: None,
            ends_with_newline: true,
        })
    }

    pub fn summary(&self) -> Summary {
        self.summary.clone()
    }

    fn note(&mut self, level: crate::diag::Level, message: String) {
        self.summary
            .messages
            .push(Diagnostic::new(code::STREAM_NOTE, level, message));
    }

    /// Handles one document: its final text (the document itself when it passes through).
    pub fn document<'d>(&mut self, doc: &'d Document) -> Result<Cow<'d, str>, Failure> {
        // Lines are inserted whole; a last document without its final newline gets one for the
        // edit and loses it again after.
        let out = if !doc.text.is_empty() && !doc.text.ends_with('\n') {
            let padded = Document {
                text: format!("{}\n", doc.text),
                index: doc.index,
                line: doc.line,
            };
            match self.document_lines(&padded)? {
                Cow::Borrowed(_) => Cow::Borrowed(doc.text.as_str()),
                Cow::Owned(out) if out == padded.text => Cow::Borrowed(doc.text.as_str()),
                Cow::Owned(out) => Cow::Owned(out.strip_suffix('\n').map(str::to_string).unwrap_or(out)),
            }
        } else {
            self.document_lines(doc)?
        };
        self.ends_with_newline = out.is_empty() || out.ends_with('\n');
        Ok(out)
    }

    fn document_lines<'d>(&mut self, doc: &'d Document) -> Result<Cow<'d, str>, Failure> {
        if !self.saw_content && crate::yaml::stream::has_content(&doc.text) {
            self.saw_content = true;
        }
        if !self.helm4 && contains(&doc.text, &needles().helm4) {
            self.helm4 = true;
        }
        // Only documents that may be ours are parsed; everything else passes through unread.
        if !self.may_concern(&doc.text) {
            return Ok(Cow::Borrowed(&doc.text));
        }
        let parsed = DocText::parse(&doc.text).map_err(|err| {
            error_at(
                doc,
                Some(err.span),
                code::YAML_SYNTAX,
                format!("cannot parse this document: {}", err.message),
                "fix the manifest",
            )
        })?;
        let Some(parsed) = parsed else {
            return Ok(Cow::Borrowed(&doc.text));
        };
        let kind = str_at(&parsed.value, "/kind").unwrap_or("");
        // Line edits are made for LF and CRLF line breaks; a document that breaks lines with a
        // lone `\r` passes through when it needs no edit and is refused when it does.
        let edits = match self.edits(doc, &parsed) {
            Ok(None) => None,
            Ok(Some(edits)) if edits.is_empty() => None,
            Err(_) | Ok(Some(_)) if crate::yaml::stream::has_lone_cr(&doc.text) => {
                return Err(error_at(
                    doc,
                    None,
                    code::STREAM_UNSUPPORTED,
                    format!(
                        "document {} (from line {}) breaks lines with a lone carriage return (\\r), which gloo-istio does not edit",
                        doc.index + 1,
                        doc.line
                    ),
                    "convert the manifests' line endings to LF or CRLF (e.g. `tr '\\r' '\\n'`)",
                ));
            }
            Ok(Some(edits)) => Some(edits),
            Err(failure) => return Err(failure),
        };
        let Some(mut edits) = edits else {
            return Ok(Cow::Borrowed(&doc.text));
        };
        let expected = edits.take_expected();
        let out = edits.apply(&doc.text).map_err(|e| internal(doc, e))?;
        verify(doc, kind, &out, &expected)?;
        self.summary.changed_documents += 1;
        Ok(Cow::Owned(out))
    }

    /// The edits one parsed document needs, if it is one of the shapes the operation edits.
    fn edits(&mut self, doc: &Document, parsed: &DocText) -> Result<Option<Edits>, Failure> {
        let v = &parsed.value;
        let kind = str_at(v, "/kind").unwrap_or("");
        let is_gloo = str_at(v, "/apiVersion").unwrap_or("").starts_with("gloo.solo.io/");
        let label = str_at(v, "/metadata/labels/gloo");
        match (kind, self.operation) {
            ("Deployment" | "DaemonSet", _) if label == Some("gateway-proxy") => self.gateway_proxy(doc, parsed),
            ("Deployment", Operation::PostRender) if label == Some("gloo") => self.gloo_deployment(doc, parsed),
            ("ConfigMap", _) if label == Some("gateway-proxy") && v.pointer("/data/envoy.yaml").is_some() => {
                self.bootstrap_config_map(doc, parsed)
            }
            ("Settings", Operation::PostRender) if is_gloo => self.settings(doc, parsed),
            ("Upstream", _) if is_gloo => self.upstream(doc, parsed),
            _ => Ok(None),
        }
    }

    /// What follows the last document: the values' Upstreams not already in the stream, and
    /// the checks that need the whole stream.
    pub fn finish(&mut self) -> Result<String, Failure> {
        match self.operation {
            Operation::PostRender => {
                let mut out = String::new();
                if !self.saw_content {
                    return Ok(out);
                }
                if !self.ends_with_newline && !self.model.values.upstreams.is_empty() {
                    out.push('\n');
                }
                for upstream in &self.model.values.upstreams {
                    let key = (self.model.namespace.clone(), names::upstream_name(upstream));
                    if self.upstreams_seen.contains(&key) {
                        continue;
                    }
                    let text = self.render_upstream(upstream)?;
                    out.push_str("---\n# Source: gloo-istio/templates/upstream.yaml\n");
                    out.push_str(&text);
                }
                Ok(out)
            }
            Operation::Inject { namespace } | Operation::Uninject { namespace, .. } if self.gateway_proxies == 0 => {
                Err(Failure::invalid(vec![
                    Diagnostic::error(
                        code::STREAM_NOT_FOUND,
                        format!("no gateway-proxy Deployment or DaemonSet in namespace {namespace} in the input"),
                    )
                    .help("pipe the Gloo manifests in (helm template … | gloo-istio …), and check --namespace"),
                ]))
            }
            Operation::Inject { .. } => {
                self.note(crate::diag::Level::Info, "Istio injection was successful!".into());
                Ok(String::new())
            }
            Operation::Uninject { .. } => {
                self.note(crate::diag::Level::Info, "Istio was successfully uninjected".into());
                Ok(String::new())
            }
            Operation::EnableMtls {
                upstream, namespace, ..
            }
            | Operation::DisableMtls {
                upstream, namespace, ..
            } if !self.upstream_found => Err(Failure::invalid(vec![
                Diagnostic::error(
                    code::STREAM_NOT_FOUND,
                    format!("Error reading upstream: Upstream {namespace}/{upstream} is not in the input"),
                )
                .help("pipe the manifests that hold the Upstream in, and check --upstream and --namespace"),
            ])),
            _ => Ok(String::new()),
        }
    }

    /// The Upstream the values give, as post-render appends it: with Helm 4's file-name
    /// annotation when the stream comes from Helm 4 (so that a second run finds it unchanged).
    fn render_upstream(&self, upstream: &crate::values::UpstreamValues) -> Result<String, Failure> {
        let text = engine::render(
            engine::embedded(),
            "upstream.yaml",
            "u",
            &view::upstream(self.model, upstream),
        )
        .map_err(Failure::usage)?;
        if !self.helm4 {
            return Ok(text);
        }
        let mark = json!({"metadata": {"annotations": {
            HELM4_FILENAME_ANNOTATION: "gloo-istio/templates/upstream.yaml"
        }}});
        crate::render::check::finish(ManifestKind::Upstream, &text, mark.as_object())
            .map_err(|e| Failure::usage(e.to_string()))
    }

    /// A cheap look at a document's text: could it be one we edit? Gateway-proxy workloads and
    /// ConfigMaps carry the `gateway-proxy-id` label; Settings and Upstreams are told by kind.
    /// A document whose kind cannot be seen on a line of its own is parsed to be sure.
    fn may_concern(&self, text: &str) -> bool {
        let kind = text
            .lines()
            .find_map(|line| line.strip_prefix("kind:"))
            .map(|k| k.trim().trim_matches(['"', '\'']));
        match kind {
            None => contains(text, &needles().kind),
            Some("Deployment") => {
                contains(text, &needles().proxy_id)
                    || (matches!(self.operation, Operation::PostRender)
                        && (self.model.values.global.istio_integration.disable_autoinjection == Some(true)
                            || self.model.sidecar_on_gateway())
                        && contains(text, &needles().gloo))
            }
            Some("DaemonSet" | "ConfigMap") => contains(text, &needles().proxy_id),
            Some("Settings" | "Upstream") => true,
            Some(_) => false,
        }
    }

    fn in_scope(&self, v: &Value) -> bool {
        let ns = str_at(v, "/metadata/namespace").unwrap_or(&self.model.namespace);
        match self.operation {
            Operation::Inject { namespace } | Operation::Uninject { namespace, .. } => ns == namespace,
            _ => true,
        }
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

    /// Our render of the workload of proxy `id`, as JSON. When the values leave the sds image
    /// at the chart's placeholder tag, the sds sidecar takes the Gloo version of the stream's
    /// own gateway proxy (as glooctl asks the running gloo).
    fn our_workload(&self, id: &str) -> Result<Value, Failure> {
        let proxy = self.proxy(id)?;
        let workload = view::workload(self.model, &proxy, &"0".repeat(64), view::istio_files_mode(self.model));
        let text = engine::render(engine::embedded(), "workload.yaml", "w", &workload).map_err(Failure::usage)?;
        let mut value = crate::yaml::parse_json(&text).map_err(Failure::usage)?;
        let placeholder = format!(":{}", crate::values::layers::CHART_DEFAULT_VERSION);
        if let (Some(tag), Some(containers)) = (
            &self.stream_gloo_tag,
            value
                .pointer_mut("/spec/template/spec/containers")
                .and_then(Value::as_array_mut),
        ) {
            for c in containers.iter_mut().filter(|c| c["name"] == "sds") {
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

    fn gateway_proxy(&mut self, doc: &Document, parsed: &DocText) -> Result<Option<Edits>, Failure> {
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
                self.gateway_proxies += 1;
                if !self.model.istio_on() {
                    return Ok(None);
                }
                self.stream_gloo_tag = self.gloo_tag_of(v);
                let id = str_at(v, "/metadata/labels/gateway-proxy-id")
                    .or_else(|| str_at(v, "/metadata/name"))
                    .unwrap_or("")
                    .to_string();
                let ours = self.our_workload(&id)?;
                self.inject_workload(doc, parsed, &ours)
            }
            Operation::Uninject { .. } => {
                self.gateway_proxies += 1;
                self.uninject_workload(doc, parsed).map(Some)
            }
            _ => Ok(None),
        }
    }

    /// The tag of the workload's Gloo envoy image, when the values did not pick the Gloo version
    /// (`--gloo-version` left at the chart's placeholder and no sds tag of their own).
    fn gloo_tag_of(&self, v: &Value) -> Option<String> {
        let placeholder = crate::values::layers::CHART_DEFAULT_VERSION;
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

    fn inject_workload(&mut self, doc: &Document, parsed: &DocText, ours: &Value) -> Result<Option<Edits>, Failure> {
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
                c["name"] == "sds"
                    || c["name"] == "istio-proxy"
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
            if existing.contains_key("sds") || existing.contains_key("istio-proxy") {
                let which = if existing.contains_key("sds") {
                    "sds"
                } else {
                    "istio-proxy"
                };
                self.note(
                    crate::diag::Level::Warning,
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
            wanted.extend(
                our_volumes
                    .iter()
                    .filter(|o| o["name"] == "istio-default-certs")
                    .cloned(),
            );
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
                crate::diag::Level::Warning,
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
            self.post_render_pod_metadata(doc, parsed, ours, &mut edits)?;
            self.istio_files_mount(doc, parsed, ours, &mut edits)?;
        }
        Ok(Some(edits))
    }

    /// The Istio pod label and the excludeInboundPorts annotation, as the chart sets them.
    fn post_render_pod_metadata(
        &self,
        doc: &Document,
        parsed: &DocText,
        ours: &Value,
        edits: &mut Edits,
    ) -> Result<(), Failure> {
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

    /// The `/etc/certs/` mount of the envoy container for istio-files Upstreams.
    fn istio_files_mount(
        &self,
        doc: &Document,
        parsed: &DocText,
        ours: &Value,
        edits: &mut Edits,
    ) -> Result<(), Failure> {
        if !view::istio_files_mode(self.model) {
            return Ok(());
        }
        let envoy_name = ours.pointer("/metadata/name").cloned().unwrap_or_default();
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
        if mounts.iter().any(|m| m["name"] == "istio-default-certs") {
            return Ok(());
        }
        let mount = json!({"mountPath": "/etc/certs/", "name": "istio-default-certs", "readOnly": true});
        match mounts.len().checked_sub(1) {
            Some(last) => {
                let (column, end) = block_item(
                    doc,
                    parsed,
                    &format!("/spec/template/spec/containers/{i}/volumeMounts/{last}"),
                )?;
                edits.insert(end, crlf(doc, render_items(&[mount], column)));
            }
            None => insert_entry(
                doc,
                parsed,
                &format!("/spec/template/spec/containers/{i}"),
                "volumeMounts",
                &json!([mount]),
                edits,
            )?,
        }
        Ok(())
    }

    fn uninject_workload(&mut self, doc: &Document, parsed: &DocText) -> Result<Edits, Failure> {
        let v = &parsed.value;
        let name = str_at(v, "/metadata/name").unwrap_or("").to_string();
        let containers = v
            .pointer("/spec/template/spec/containers")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let sds = containers.iter().position(|c| c["name"] == "sds");
        let istio = containers.iter().position(|c| c["name"] == "istio-proxy");
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

    fn bootstrap_config_map(&mut self, doc: &Document, parsed: &DocText) -> Result<Option<Edits>, Failure> {
        if !self.in_scope(&parsed.value) {
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
        let clusters = bootstrap
            .value
            .pointer("/static_resources/clusters")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let sds_index = clusters.iter().position(|c| c["name"] == "gateway_proxy_sds");
        let name = str_at(&parsed.value, "/metadata/name").unwrap_or("").to_string();
        match self.operation {
            Operation::PostRender | Operation::Inject { .. } => {
                if !self.model.sds_on() {
                    return Ok(None);
                }
                if sds_index.is_some() {
                    if matches!(self.operation, Operation::Inject { .. }) {
                        self.note(
                            crate::diag::Level::Warning,
                            format!("Warning: gateway_proxy_sds cluster already found in gateway proxy configMap {name}, it has not been updated"),
                        );
                    }
                    return Ok(None);
                }
                if clusters.is_empty() {
                    return Err(error_at(
                        doc,
                        parsed.span("/data/envoy.yaml"),
                        code::STREAM_CONFLICT,
                        format!("the bootstrap of {name} has no static clusters"),
                        "is this a Gloo gateway-proxy bootstrap?",
                    ));
                }
                // Right after the xDS cluster (Istio spec §3.1).
                let xds = clusters
                    .iter()
                    .position(|c| c["alt_stat_name"] == "xds_cluster")
                    .unwrap_or(0);
                let cluster = sds_cluster();
                let item = format!("/static_resources/clusters/{xds}");
                match (bootstrap.dash_column(&item), bootstrap.item_lines(&item)) {
                    (Some(column), Some(lines)) => {
                        let inner_text = render_items(&[cluster], column);
                        self.edit_block_scalar(doc, parsed, &envoy, lines.end, &inner_text)
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
            Operation::Uninject { .. } => {
                let Some(i) = sds_index else {
                    return Ok(None);
                };
                if references_sds_cluster(&bootstrap.value, i) {
                    return Err(error_at(
                        doc,
                        parsed.span("/data/envoy.yaml"),
                        code::STREAM_CONFLICT,
                        format!(
                            "the bootstrap of {name} uses the gateway_proxy_sds cluster beyond its definition (glooMtls?); removing it would break envoy"
                        ),
                        "turn off global.istioIntegration in the chart values instead",
                    ));
                }
                let item = format!("/static_resources/clusters/{i}");
                match bootstrap.item_lines(&item) {
                    Some(lines) => match (
                        self.block_scalar_range(doc, parsed, &envoy, lines.start),
                        self.block_scalar_range(doc, parsed, &envoy, lines.end),
                    ) {
                        (Ok(start), Ok(end)) => {
                            let mut edits = Edits::default();
                            edits.delete(start.start..end.start);
                            Ok(Some(edits))
                        }
                        _ => {
                            // A quoted bootstrap (Helm 4 re-serialises): edit the text, requote.
                            let mut new_content = envoy.clone();
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
                            list.remove(i);
                        }
                        replace_bootstrap(doc, parsed, &crate::yaml::emit::document(&value))
                    }
                }
            }
            _ => Ok(None),
        }
    }

    /// The offset in the document of line `inner_offset` (a line start) of a literal block
    /// scalar's content, as a zero-length range.
    fn block_scalar_range(
        &self,
        doc: &Document,
        parsed: &DocText,
        content: &str,
        inner_offset: usize,
    ) -> Result<std::ops::Range<usize>, Failure> {
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

    /// Inserts `inner_text` (lines of the bootstrap) at `inner_offset` of the bootstrap, inside
    /// the ConfigMap's literal block scalar; other ConfigMap shapes are rewritten whole.
    fn edit_block_scalar(
        &self,
        doc: &Document,
        parsed: &DocText,
        content: &str,
        inner_offset: usize,
        inner_text: &str,
    ) -> Result<Option<Edits>, Failure> {
        let span = parsed
            .span("/data/envoy.yaml")
            .ok_or_else(|| internal(doc, "no envoy.yaml span".into()))?;
        match self.block_scalar_range(doc, parsed, content, inner_offset) {
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

    fn settings(&mut self, doc: &Document, parsed: &DocText) -> Result<Option<Edits>, Failure> {
        let integration = &self.model.values.global.istio_integration;
        let want = [
            (
                "appendXForwardedHost",
                integration.append_x_forwarded_host.unwrap_or(true),
            ),
            ("enableAutoMtls", integration.enable_auto_mtls.unwrap_or(false)),
            ("enableIntegration", self.model.settings_integration()),
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

    fn gloo_deployment(&mut self, doc: &Document, parsed: &DocText) -> Result<Option<Edits>, Failure> {
        let integration = &self.model.values.global.istio_integration;
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
        if self.model.sidecar_on_gateway() {
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

    fn upstream(&mut self, doc: &Document, parsed: &DocText) -> Result<Option<Edits>, Failure> {
        let v = &parsed.value;
        let name = str_at(v, "/metadata/name").unwrap_or("").to_string();
        let namespace = str_at(v, "/metadata/namespace")
            .unwrap_or(&self.model.namespace)
            .to_string();
        match self.operation {
            Operation::PostRender => {
                self.upstreams_seen.insert((namespace.clone(), name.clone()));
                let ours = self
                    .model
                    .values
                    .upstreams
                    .iter()
                    .find(|u| names::upstream_name(u) == name && namespace == self.model.namespace);
                let Some(ours) = ours else {
                    return Ok(None);
                };
                let text = self.render_upstream(ours)?;
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
                let references = ssl.and_then(|s| str_at(s, "/sds/clusterName")) == Some("gateway_proxy_sds");
                if namespace != *gloo_ns || !references {
                    return Ok(None);
                }
                if !include_upstreams {
                    return Err(error_at(
                        doc,
                        parsed.key_span("/spec/sslConfig"),
                        code::STREAM_CONFLICT,
                        format!(
                            "Upstream {name} has sds config referencing the gateway_proxy_sds cluster: istio uninject can only be run when upstreams no longer reference the sds cluster"
                        ),
                        "remove those references or use the --include-upstreams flag",
                    ));
                }
                self.note(crate::diag::Level::Warning, format!("Warning: Found upstream {name} with sds config referencing the gateway_proxy_sds cluster, removing"));
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
                self.upstream_found = true;
                let enable = matches!(self.operation, Operation::EnableMtls { .. });
                let ssl = v
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
                            "the Upstream's sslConfig is not an Istio one; disable-mtls removes only Istio sslConfigs"
                                .into(),
                            "use --force to remove it anyway",
                        ));
                    }
                    (false, Some(_)) => edits.delete(entry_lines(doc, parsed, "/spec/sslConfig")?),
                }
                Ok(Some(edits))
            }
            _ => Ok(None),
        }
    }
}

/// Whether a bootstrap names the `gateway_proxy_sds` cluster anywhere but in its definition, the
/// cluster at `/static_resources/clusters/{definition}`: a string equal to the name (the
/// `cluster_name` of an SDS config, as glooMtls writes) or a key. A longer string holding the
/// name (a host `gateway_proxy_sds.example`) or a comment is no reference.
fn references_sds_cluster(bootstrap: &Value, definition: usize) -> bool {
    fn names(value: &Value) -> bool {
        match value {
            Value::String(s) => s == "gateway_proxy_sds",
            Value::Array(items) => items.iter().any(names),
            Value::Object(map) => map.iter().any(|(k, v)| k == "gateway_proxy_sds" || names(v)),
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

/// Semantic equality of two manifests' parts (numbers compared by value). A container's
/// `PROXY_CONFIG` is compared as the YAML it is: the chart writes it unquoted, we as JSON.
fn same(a: &Value, b: &Value) -> bool {
    crate::render::check::first_difference(&normalized(a), &normalized(b), "").is_none()
}

fn normalized(value: &Value) -> Value {
    let mut value = value.clone();
    if let Some(env) = value.get_mut("env").and_then(Value::as_array_mut) {
        for var in env {
            if var["name"] == "PROXY_CONFIG"
                && let Some(parsed) = var["value"].as_str().and_then(|t| crate::yaml::parse_json(t).ok())
            {
                var["value"] = parsed;
            }
        }
    }
    value
}

fn internal(doc: &Document, message: String) -> Failure {
    error_at(
        doc,
        None,
        code::INTERNAL,
        format!("document {}: {message}", doc.index + 1),
        "this is a bug in gloo-istio; please report it with the input",
    )
}

/// The error for a collection gloo-istio must edit but finds in flow style.
fn flow_style(doc: &Document, parsed: &DocText, pointer: &str, what: &str) -> Failure {
    error_at(
        doc,
        parsed.span(pointer),
        code::STREAM_UNSUPPORTED,
        format!("this {what} is written in flow style, which gloo-istio does not edit"),
        &format!("write the {what} in block style (one entry a line)"),
    )
}

/// The dash column of a block sequence item and the offset after its last line.
fn block_item(doc: &Document, parsed: &DocText, pointer: &str) -> Result<(usize, usize), Failure> {
    match (parsed.dash_column(pointer), parsed.item_lines(pointer)) {
        (Some(column), Some(lines)) => Ok((column, lines.end)),
        _ => Err(flow_style(doc, parsed, pointer, "list")),
    }
}

fn block_lines(doc: &Document, parsed: &DocText, pointer: &str) -> Result<std::ops::Range<usize>, Failure> {
    parsed
        .item_lines(pointer)
        .ok_or_else(|| flow_style(doc, parsed, pointer, "list"))
}

fn entry_lines(doc: &Document, parsed: &DocText, pointer: &str) -> Result<std::ops::Range<usize>, Failure> {
    parsed
        .entry_lines(pointer)
        .ok_or_else(|| flow_style(doc, parsed, pointer, "mapping"))
}

/// Adds `key: value` to the block mapping at `map_pointer`, after its last entry.
fn insert_entry(
    doc: &Document,
    parsed: &DocText,
    map_pointer: &str,
    key: &str,
    value: &Value,
    edits: &mut Edits,
) -> Result<(), Failure> {
    let map = parsed.value.pointer(map_pointer).and_then(Value::as_object);
    let last = map
        .and_then(|m| m.keys().next_back())
        .map(|k| format!("{map_pointer}/{}", escape(k)));
    let (Some(column), Some(last)) = (parsed.key_column(map_pointer), last) else {
        return Err(error_at(
            doc,
            parsed.span(map_pointer),
            code::STREAM_UNSUPPORTED,
            "this mapping is empty or in flow style, which gloo-istio does not edit".into(),
            "write the mapping in block style",
        ));
    };
    // The last key in source order is the one whose lines end last.
    let end = map
        .into_iter()
        .flat_map(|m| m.keys())
        .filter_map(|k| parsed.entry_lines(&format!("{map_pointer}/{}", escape(k))))
        .map(|r| r.end)
        .max()
        .or_else(|| parsed.entry_lines(&last).map(|r| r.end))
        .unwrap_or(doc.text.len());
    edits.insert(end, crlf(doc, render_entry(key, value, column)));
    edits.expect(format!("{map_pointer}/{}", escape(key)), value.clone());
    Ok(())
}

/// Sets `key` of the block mapping at `map_pointer` to a scalar `value`: replaces the value in
/// place when the key exists, else adds the entry. Creates the mapping when it is missing.
fn set_map_value(
    doc: &Document,
    parsed: &DocText,
    map_pointer: &str,
    key: &str,
    value: &Value,
    edits: &mut Edits,
) -> Result<(), Failure> {
    let pointer = format!("{map_pointer}/{}", escape(key));
    match parsed.value.pointer(&pointer) {
        Some(existing) if same(existing, value) => Ok(()),
        Some(existing) => {
            let span = parsed
                .span(&pointer)
                .ok_or_else(|| internal(doc, format!("no span for {pointer}")))?;
            let text = crate::yaml::emit::nested(value, 0);
            let text = text.trim_start();
            if existing.is_null() && !is_null_literal(&parsed.text[span.start.offset..span.end.offset]) {
                // An empty value (`key:` and nothing after it) has no text to replace: the value
                // goes after the colon.
                let colon = parsed.key_span(&pointer).and_then(|key| {
                    let after_key = &parsed.text[key.end.offset..];
                    let gap = after_key.len() - after_key.trim_start_matches([' ', '\t']).len();
                    after_key[gap..].starts_with(':').then_some(key.end.offset + gap)
                });
                let Some(colon) = colon else {
                    return Err(error_at(
                        doc,
                        parsed.key_span(&pointer).or(Some(span)),
                        code::STREAM_UNSUPPORTED,
                        format!(
                            "`{key}` has an empty value without a colon after its key, which gloo-istio does not edit"
                        ),
                        &format!("write `{key}: null`, or leave the key out"),
                    ));
                };
                edits.insert(colon + 1, format!(" {text}"));
            } else {
                edits.replace(span.start.offset..span.end.offset, text.to_string());
            }
            edits.expect(pointer, value.clone());
            Ok(())
        }
        None if parsed
            .value
            .pointer(map_pointer)
            .is_some_and(|m| m.as_object().is_some_and(|m| !m.is_empty())) =>
        {
            insert_entry(doc, parsed, map_pointer, key, value, edits)
        }
        None => {
            let (parent, name) = map_pointer.rsplit_once('/').unwrap_or(("", map_pointer));
            insert_entry(doc, parsed, parent, name, &json!({ key: value }), edits)
        }
    }
}

/// Whether the source text of a null value writes it (a null word, or a tag such as `!!null`),
/// rather than leaving it empty (the loader's span of an empty value is empty or lies on the
/// text around it).
fn is_null_literal(text: &str) -> bool {
    let text = text.trim();
    matches!(text, "~" | "null" | "Null" | "NULL") || text.starts_with('!')
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

/// Every edited document must still parse; workloads must still fit their Kubernetes type.
fn verify(doc: &Document, kind: &str, text: &str, expected: &[(String, Value)]) -> Result<(), Failure> {
    let value = match crate::yaml::load_document(text.as_bytes(), Limits::default()) {
        Ok(Some(node)) => node.to_json(),
        Ok(None) => return Err(internal(doc, "the edited document is empty".into())),
        Err(e) => {
            return Err(internal(
                doc,
                format!("the edited document does not parse: {}", e.message),
            ));
        }
    };
    for (pointer, want) in expected {
        if !value.pointer(pointer).is_some_and(|found| same(found, want)) {
            return Err(internal(
                doc,
                format!("the edited document does not hold {want} at {pointer}"),
            ));
        }
    }
    if let Some(kind) = manifest_kind(kind) {
        // As strict as the input allows: a document that already carried fields its Kubernetes
        // type does not know (a newer API) is only required to still parse as that type.
        if crate::render::check::finish(kind, &doc.text, None).is_ok() {
            crate::render::check::finish(kind, text, None)
                .map_err(|e| internal(doc, format!("the edited document {e}")))?;
        } else {
            crate::render::check::deserializes(kind, &value)
                .map_err(|e| internal(doc, format!("the edited document does not parse as its type: {e}")))?;
        }
    }
    if let Some(envoy) = value.pointer("/data/envoy.yaml").and_then(Value::as_str) {
        crate::render::check::bootstrap(envoy).map_err(|e| internal(doc, format!("the edited envoy bootstrap {e}")))?;
    }
    Ok(())
}

fn manifest_kind(kind: &str) -> Option<ManifestKind> {
    match kind {
        "Deployment" => Some(ManifestKind::Deployment),
        "DaemonSet" => Some(ManifestKind::DaemonSet),
        "ConfigMap" => Some(ManifestKind::ConfigMap),
        _ => None,
    }
}
