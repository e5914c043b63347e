//! The one flow that `render`, `diff`, `lint` and the stream commands share: values files and
//! value flags (`--set`, `--set-json`, ...), layered as Helm layers them, then checked into a [`Model`], then rendered into
//! manifests. Only this module strings the steps together; each step knows nothing of the ones
//! above it.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::diag::{Diagnostic, Level};
use crate::render::{self, Rendered, engine, k8s_gateway};
use crate::validate::{self, Checked, rules::RuleOptions};
use crate::values::Model;
use crate::values::layers::{Layer, LoadedValues, check_total_size, dotted_path, merge_layers, read_layer};
use crate::values::set_flags::{self, SetFlags};
use crate::{Failure, FailureKind};

/// What the user asked to render.
#[derive(Debug, Clone)]
pub struct RenderOptions {
    /// Values files, later ones override earlier ones (`-` is standard input).
    pub values_files: Vec<PathBuf>,
    /// The value flags, applied after the files in Helm's order.
    pub set: SetFlags,
    /// The release namespace (`gloo-system` by default).
    pub namespace: String,
    /// The Gloo version of the default image tags.
    pub gloo_version: String,
    /// Templates to use instead of the embedded ones.
    pub templates: Option<PathBuf>,
    /// What the rules may know beyond the values.
    pub rules: RuleOptions,
    /// Manifest files (`-` is standard input) with the user's Gateways, Gateway-level
    /// GatewayParameters and GatewayClasses: the deployer's objects for each Gateway are
    /// rendered too (k8s-gateway spec §4–8).
    pub manifests: Vec<PathBuf>,
    /// `KEY=VALUE` overrides of the Gloo controller's settings (k8s-gateway spec §3).
    pub controller: Vec<String>,
    /// Keep only the deployer's objects for the Gateways of `manifests`, not what the chart
    /// renders (for a pipeline that takes the chart's objects from helm).
    pub deployed_only: bool,
}

impl Default for RenderOptions {
    fn default() -> Self {
        RenderOptions {
            values_files: Vec::new(),
            set: SetFlags::default(),
            namespace: "gloo-system".into(),
            gloo_version: crate::values::layers::CHART_DEFAULT_VERSION.into(),
            templates: None,
            rules: Default::default(),
            manifests: Vec::new(),
            controller: Vec::new(),
            deployed_only: false,
        }
    }
}

/// Loads, checks and renders the values of `opts`. Nothing is rendered from invalid values.
pub fn render_files(opts: &RenderOptions) -> Result<Rendered, Failure> {
    let loaded = load_values(&opts.values_files, &opts.set, &opts.gloo_version)?;
    let checked = validate::check_values(&loaded, &opts.namespace, &opts.rules);
    let has_errors = checked.has_errors();
    let Checked { model, mut findings } = checked;
    let Some(model) = model else {
        return Err(Failure::invalid(errors_of(findings)));
    };
    if has_errors {
        findings.extend(override_errors(&model, &loaded));
        validate::sort_findings(&mut findings);
        return Err(Failure::invalid(errors_of(findings)));
    }
    let custom;
    let templates = match &opts.templates {
        None => engine::embedded(),
        Some(dir) => {
            custom = engine::from_dir(dir).map_err(|msg| Failure::usage(format!("--templates: {msg}")))?;
            &custom
        }
    };
    let mut manifests = match render::render_model(&model, templates) {
        Ok(manifests) => manifests,
        Err(failure) => return Err(locate_overrides(failure, &model, &loaded)),
    };
    manifests.extend(k8s_gateway::render_chart(&model, templates)?);
    if !opts.manifests.is_empty() {
        let objects = k8s_gateway::read_manifests(&opts.manifests)?;
        let settings = k8s_gateway::controller_settings(&model, &opts.gloo_version, &opts.controller)?;
        let (deployed, notes) = k8s_gateway::render_gateways(&model, &objects, &settings, templates)?;
        if opts.deployed_only {
            manifests.clear();
        }
        manifests.extend(deployed);
        findings.extend(notes);
    }
    Ok(Rendered { manifests, findings })
}

/// Reads the values files and the value flags into the layers Helm would merge, in its order.
/// Every file's YAML errors are reported together; a file that cannot be read stops at once.
pub fn load_values(files: &[PathBuf], set: &SetFlags, gloo_version: &str) -> Result<LoadedValues, Failure> {
    read_values(files, set, gloo_version).map_err(|failures| {
        if let Some(io) = failures.iter().find(|f| f.kind != FailureKind::Invalid) {
            return io.clone();
        }
        Failure::invalid(failures.into_iter().flat_map(|f| f.diagnostics).collect())
    })
}

/// The values of every layer, or the failure of every layer that could not be read (the value
/// flags are read only when every file could be).
fn read_values(files: &[PathBuf], set: &SetFlags, gloo_version: &str) -> Result<LoadedValues, Vec<Failure>> {
    let mut layers: Vec<Layer> = Vec::new();
    let mut failures = Vec::new();
    for path in files {
        match read_layer(path) {
            Ok(layer) => layers.push(layer),
            Err(failure) => failures.push(failure),
        }
    }
    if !failures.is_empty() {
        return Err(failures);
    }
    let mut user = merge_layers(&layers);
    match set_flags::apply(set, &mut user) {
        Ok(flag_layers) => layers.extend(flag_layers),
        Err(failure) => return Err(vec![failure]),
    }
    if let Err(diag) = check_total_size(&layers) {
        return Err(vec![Failure::invalid(vec![diag])]);
    }
    Ok(LoadedValues::with_user(layers, user, gloo_version))
}

/// Checks loaded values: the schema and every rule, and, for a proxy with a
/// `kubeResourceOverride`, a render that tells whether the override breaks its resource.
pub fn check_values(loaded: &LoadedValues, namespace: &str, options: &RuleOptions) -> Checked {
    let mut checked = validate::check_values(loaded, namespace, options);
    if let Some(model) = &checked.model {
        let located = override_errors(model, loaded);
        if !located.is_empty() {
            checked.findings.extend(located);
            validate::sort_findings(&mut checked.findings);
        }
    }
    checked
}

/// The model of checked values, with the findings that do not stop a render; on failure, every
/// error.
pub fn build_model(
    loaded: &LoadedValues,
    namespace: &str,
    options: &RuleOptions,
) -> Result<(Model, Vec<Diagnostic>), Vec<Diagnostic>> {
    check_values(loaded, namespace, options).into_model()
}

fn errors_of(findings: Vec<Diagnostic>) -> Vec<Diagnostic> {
    findings.into_iter().filter(|d| d.level == Level::Error).collect()
}

/// Whether a proxy of the model has a non-empty `kubeResourceOverride` (of its workload or its
/// ConfigMap).
fn has_override(model: &Model) -> bool {
    model.proxies.iter().any(|proxy| {
        let workload = proxy.values.kube_resource_override.as_ref();
        let config_map = proxy
            .values
            .config_map
            .as_ref()
            .and_then(|c| c.kube_resource_override.as_ref());
        workload.is_some_and(|o| !o.is_empty()) || config_map.is_some_and(|o| !o.is_empty())
    })
}

/// A `kubeResourceOverride` is merged into the rendered resource, so only a render can tell
/// whether it leaves a valid object: the errors of an override that breaks its resource, at
/// their keys. Renders only when a proxy has an override.
fn override_errors(model: &Model, loaded: &LoadedValues) -> Vec<Diagnostic> {
    if !has_override(model) {
        return Vec::new();
    }
    match render::render_model(model, engine::embedded()) {
        Ok(_) => Vec::new(),
        // Ours, not the values': `render` reports it as an internal error.
        Err(failure) if failure.kind != FailureKind::Invalid => Vec::new(),
        Err(failure) => locate_overrides(failure, model, loaded).diagnostics,
    }
}

/// A failed render with each override error placed at its `kubeResourceOverride` key.
fn locate_overrides(failure: Failure, model: &Model, loaded: &LoadedValues) -> Failure {
    if failure.kind != FailureKind::Invalid {
        return failure;
    }
    let fields = ["/kubeResourceOverride", "/configMap/kubeResourceOverride"];
    let diagnostics = failure
        .diagnostics
        .into_iter()
        .map(|d| {
            let pointer = model
                .proxies
                .iter()
                .flat_map(|p| fields.iter().map(move |f| format!("{}{f}", p.pointer)))
                .find(|pointer| dotted_path(pointer) == d.path);
            match pointer {
                Some(pointer) => {
                    let location = loaded.locate_key(&pointer);
                    d.at(location)
                }
                None => d,
            }
        })
        .collect();
    Failure::invalid(diagnostics)
}

/// One set of values linted together: files merged in order, then the value flags.
#[derive(Debug, Clone, Default)]
pub struct LintUnit {
    pub files: Vec<PathBuf>,
    pub set: SetFlags,
}

/// The findings of one unit, and whether a file could not be read at all.
#[derive(Debug, Clone, Default)]
pub struct LintOutcome {
    pub findings: Vec<Diagnostic>,
    pub unreadable: bool,
}

/// Lints one unit: YAML errors of every file, then (when every file parsed) the schema and
/// every rule on the merged values.
pub fn lint(unit: &LintUnit, namespace: &str, gloo_version: &str, options: &RuleOptions) -> LintOutcome {
    let mut outcome = LintOutcome::default();
    let loaded = match read_values(&unit.files, &unit.set, gloo_version) {
        Ok(loaded) => loaded,
        Err(failures) => {
            for failure in failures {
                outcome.unreadable |= failure.kind != FailureKind::Invalid;
                outcome.findings.extend(failure.diagnostics);
            }
            return outcome;
        }
    };
    // `lint` holds every key to the chart: what is wrong in a section gloo-istio does not
    // render is an error here, where `render` only warns.
    let mut strict = options.clone();
    strict.keys.strict_unrendered = true;
    outcome.findings = check_values(&loaded, namespace, &strict).findings;
    outcome
}

/// The stack of each lint thread: what the main thread usually has, as the checks recurse into
/// values up to the loader's depth limit.
const THREAD_STACK_BYTES: usize = 8 * 1024 * 1024;

/// Lints every unit, on the available cores, and returns the outcomes in the order of `units`.
///
/// The units that read standard input (`-`) run first, in order, on this thread. The others are
/// taken one at a time by this thread and helper threads; a panic in any of them is re-raised
/// here once all have stopped.
pub fn lint_all(units: &[LintUnit], namespace: &str, gloo_version: &str, options: &RuleOptions) -> Vec<LintOutcome> {
    let mut outcomes: Vec<Option<LintOutcome>> = vec![None; units.len()];
    for (i, unit) in units.iter().enumerate() {
        if unit.files.iter().any(|f| f.as_os_str() == "-") {
            outcomes[i] = Some(lint(unit, namespace, gloo_version, options));
        }
    }
    let rest: Vec<usize> = (0..units.len()).filter(|&i| outcomes[i].is_none()).collect();
    let next = AtomicUsize::new(0);
    let work = || {
        let mut done = Vec::new();
        while let Some(&i) = rest.get(next.fetch_add(1, Ordering::Relaxed)) {
            done.push((i, lint(&units[i], namespace, gloo_version, options)));
        }
        done
    };
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(rest.len());
    std::thread::scope(|scope| {
        // Helpers that cannot be started leave their share to the others.
        let helpers: Vec<_> = (1..threads)
            .filter_map(|_| {
                std::thread::Builder::new()
                    .stack_size(THREAD_STACK_BYTES)
                    .spawn_scoped(scope, work)
                    .ok()
            })
            .collect();
        let mut finished = vec![Ok(work())];
        finished.extend(helpers.into_iter().map(|helper| helper.join()));
        for result in finished {
            match result {
                Ok(done) => done.into_iter().for_each(|(i, outcome)| outcomes[i] = Some(outcome)),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
    });
    outcomes.into_iter().flatten().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lint_all_gives_the_outcomes_of_lint_in_the_order_of_the_units() {
        let dir = tempfile::tempdir().unwrap();
        let examples = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("values");
        let mut files: Vec<PathBuf> = std::fs::read_dir(examples)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        for (i, text) in ["global:\n  istioSds: {}\n", "gatewayProxies: [1]\n", "a: [\n"]
            .iter()
            .enumerate()
        {
            let path = dir.path().join(format!("bad-{i}.yaml"));
            std::fs::write(&path, text).unwrap();
            files.push(path);
        }
        files.push(dir.path().join("missing.yaml"));
        // Enough units for every thread.
        let units: Vec<LintUnit> = files
            .iter()
            .cycle()
            .take(67)
            .map(|f| LintUnit {
                files: vec![f.clone()],
                set: SetFlags::default(),
            })
            .collect();
        let options = RuleOptions::default();
        let version = crate::values::layers::CHART_DEFAULT_VERSION;
        let describe = |outcome: &LintOutcome| {
            let messages: Vec<String> = outcome
                .findings
                .iter()
                .map(|d| format!("{} {}", d.code, d.message))
                .collect();
            (outcome.unreadable, messages)
        };
        let expected: Vec<_> = units
            .iter()
            .map(|unit| describe(&lint(unit, "gloo-system", version, &options)))
            .collect();
        let parallel: Vec<_> = lint_all(&units, "gloo-system", version, &options)
            .iter()
            .map(describe)
            .collect();
        assert_eq!(parallel, expected);
        assert!(expected.iter().any(|(unreadable, _)| *unreadable));
        assert!(
            expected
                .iter()
                .any(|(_, messages)| messages.iter().any(|m| m.contains("istioSds")))
        );
    }
}
