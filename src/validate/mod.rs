//! Validation: the values against their schema, then rules that need the whole model.
//! [`check_values`] reports every finding; [`build_model`] gives the model for rendering.

pub mod rules;
pub mod schema;

use serde_json::Value;

use crate::diag::{Diagnostic, code};
use crate::values::layers::{LoadedValues, dotted_path};
use crate::values::{self, GatewayProxy, Model, Proxy, Values};
use rules::RuleOptions;

/// The outcome of checking values: the model when the values fit it, and every finding.
#[derive(Debug, Clone)]
pub struct Checked {
    pub model: Option<Model>,
    pub findings: Vec<Diagnostic>,
}

impl Checked {
    /// The model with the findings that do not stop a render; without a model, or with errors,
    /// every error.
    pub fn into_model(self) -> Result<(Model, Vec<Diagnostic>), Vec<Diagnostic>> {
        let has_errors = self.has_errors();
        match self.model {
            Some(model) if !has_errors => Ok((model, self.findings)),
            _ => Err(self
                .findings
                .into_iter()
                .filter(|d| d.level == crate::diag::Level::Error)
                .collect()),
        }
    }

    pub fn has_errors(&self) -> bool {
        self.findings.iter().any(|d| d.level == crate::diag::Level::Error)
    }
}

/// Orders findings by file and position, errors before warnings at one place.
pub fn sort_findings(findings: &mut [Diagnostic]) {
    findings.sort_by(|a, b| {
        let key = |d: &Diagnostic| {
            d.location
                .as_ref()
                .map(|l| (l.source.name.clone(), l.span.start.offset))
        };
        key(a).cmp(&key(b)).then(b.level.cmp(&a.level))
    });
}

/// Checks the loaded values: the schema, then (when the values fit the model) every rule.
/// Reports every finding; never stops at the first.
pub fn check_values(loaded: &LoadedValues, namespace: &str, options: &RuleOptions) -> Checked {
    // The namespace names resources and the files of `render --output-dir`: it must be a DNS label.
    if !values::names::is_dns_label(namespace) {
        return Checked {
            model: None,
            findings: vec![
                Diagnostic::error(
                    code::INVALID_VALUE,
                    format!("`{namespace}` is not a valid Kubernetes namespace"),
                )
                .help("use at most 63 lower-case letters, digits and '-', starting and ending with a letter or digit"),
            ],
        };
    }
    let instance = values::schema_instance(loaded);
    let mut findings = schema::not_rendered(loaded);
    let schema_findings = schema::check(&instance, loaded, &options.keys);
    let schema_failed = schema_findings.iter().any(|d| d.level == crate::diag::Level::Error);
    findings.extend(schema_findings);
    if schema_failed {
        // The rules still run, on the values without what the schema rejects.
        if !options.schema_only {
            findings.extend(rules_without_invalid(instance, loaded, namespace, options));
        }
        sort_findings(&mut findings);
        return Checked { model: None, findings };
    }
    match model_from(instance, loaded, namespace) {
        Ok(model) if options.schema_only => {
            sort_findings(&mut findings);
            Checked {
                model: Some(model),
                findings,
            }
        }
        Ok(model) => {
            findings.extend(rules::check(&model, loaded, options));
            sort_findings(&mut findings);
            Checked {
                model: Some(model),
                findings,
            }
        }
        Err(errors) => {
            findings.extend(errors);
            sort_findings(&mut findings);
            Checked { model: None, findings }
        }
    }
}

/// How many times [`rules_without_invalid`] takes out what the schema rejects before it gives
/// up (taking out a value can make its parent invalid: a required key).
const PRUNE_ROUNDS: usize = 8;

/// The findings of the rules on values the schema rejects: each rejected value (an unknown key,
/// a value of the wrong type, a list item) is taken out, so that the chart's default (or
/// nothing) stands in its place, and the rules run on the rest. Their findings about what was
/// taken out are dropped, as the schema's finding already names it: for an unknown key, the
/// findings at the key or under it; for a known key's value, the findings anywhere in the
/// mapping that holds it (a rule reading `enabled: "yes"` as unset would say something false
/// about its siblings). Nothing when the values cannot be made to fit the schema.
fn rules_without_invalid(
    mut instance: Value,
    loaded: &LoadedValues,
    namespace: &str,
    options: &RuleOptions,
) -> Vec<Diagnostic> {
    let defaults = crate::values::layers::chart_defaults(crate::values::layers::CHART_DEFAULT_VERSION);
    let mut merged = loaded.merged.clone();
    // The dotted paths whose findings are dropped.
    let mut scopes: Vec<String> = Vec::new();
    for _ in 0..PRUNE_ROUNDS {
        let rejected = schema::rejected(&instance);
        if rejected.is_empty() {
            let pruned = LoadedValues {
                layers: loaded.layers.clone(),
                user: loaded.user.clone(),
                merged,
            };
            let Ok(model) = model_from(instance, &pruned, namespace) else {
                return Vec::new();
            };
            return rules::check(&model, &pruned, options)
                .into_iter()
                .filter(|d| !scopes.iter().any(|scope| related_paths(scope, &d.path)))
                .collect();
        }
        let mut pointers = Vec::with_capacity(rejected.len());
        for place in rejected {
            let pointer = whole_list_item(&instance, &place.pointer);
            if pointer.is_empty() {
                return Vec::new();
            }
            let scope = match pointer.rsplit_once('/') {
                Some((parent, _)) if !place.unknown_key && !parent.is_empty() => parent,
                _ => pointer.as_str(),
            };
            scopes.push(dotted_path(scope));
            pointers.push(pointer);
        }
        for value in [&mut instance, &mut merged] {
            take_out(value, &pointers, &defaults);
        }
    }
    Vec::new()
}

/// `pointer`, or the outermost list that holds what it points at: an item is taken out with
/// its list, so that the other items keep their indexes.
fn whole_list_item(instance: &Value, pointer: &str) -> String {
    let tokens: Vec<&str> = pointer.split('/').collect();
    (1..tokens.len())
        .map(|end| tokens[..end].join("/"))
        .find(|prefix| !prefix.is_empty() && instance.pointer(prefix).is_some_and(Value::is_array))
        .unwrap_or_else(|| pointer.to_string())
}

/// Replaces the value at each pointer by the chart's default there, or removes its key when the
/// chart has none; the keys of one mapping in one pass (a section may have thousands).
fn take_out(value: &mut Value, pointers: &[String], defaults: &Value) {
    let mut by_parent: std::collections::BTreeMap<&str, std::collections::HashSet<String>> = Default::default();
    for pointer in pointers {
        if let Some((parent, key)) = pointer.rsplit_once('/') {
            let key = key.replace("~1", "/").replace("~0", "~");
            by_parent.entry(parent).or_default().insert(key);
        }
    }
    for (parent, keys) in by_parent {
        let Some(Value::Object(map)) = value.pointer_mut(parent) else {
            continue;
        };
        map.retain(|key, _| !keys.contains(key));
        let parent_default = defaults.pointer(parent);
        for key in keys {
            if let Some(default) = parent_default.and_then(|d| d.get(&key)) {
                map.insert(key, default.clone());
            }
        }
    }
}

/// Whether two dotted key paths are the same key, or one lies under the other.
fn related_paths(a: &str, b: &str) -> bool {
    let under = |long: &str, short: &str| {
        long.strip_prefix(short)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('.') || rest.starts_with('['))
    };
    !a.is_empty() && !b.is_empty() && (under(a, b) || under(b, a))
}

fn model_from(instance: Value, loaded: &LoadedValues, namespace: &str) -> Result<Model, Vec<Diagnostic>> {
    let values: Values = serde_json::from_value(instance).map_err(|err| {
        vec![Diagnostic::error(
            code::INVALID_VALUE,
            format!("the values do not fit the model: {err}"),
        )]
    })?;
    let gateway_enabled = values.gateway.enabled.unwrap_or(true);
    let mut proxies = Vec::new();
    if let Some(Value::Object(raw_proxies)) = loaded.merged.get("gatewayProxies") {
        // serde_json maps iterate in sorted key order, which is the chart's order.
        for key in raw_proxies.keys() {
            let mut effective = values::proxy::effective_proxy(raw_proxies, key);
            values::proxy::strip_nulls(&mut effective);
            values::normalize_quantities(&mut effective);
            let pointer = format!("/gatewayProxies/{}", key.replace('~', "~0").replace('/', "~1"));
            let proxy_values: GatewayProxy = serde_json::from_value(effective).map_err(|err| {
                vec![
                    Diagnostic::error(
                        code::INVALID_VALUE,
                        format!(
                            "`{}` with the keys it inherits from `gatewayProxy` is invalid: {err}",
                            dotted_path(&pointer)
                        ),
                    )
                    .path(dotted_path(&pointer))
                    .at(loaded.locate_key(&pointer)),
                ]
            })?;
            if !gateway_enabled || values::on(proxy_values.disabled) {
                continue;
            }
            proxies.push(Proxy {
                key: key.clone(),
                id: values::proxy::kebab_case(key),
                values: proxy_values,
                pointer,
            });
        }
    }
    Ok(Model {
        values,
        proxies,
        namespace: namespace.to_string(),
        whole_images: Default::default(),
    })
}

/// Checks the loaded values and builds the model for rendering. On success, also returns the
/// findings that do not stop a render (infos and warnings); on failure, every error.
pub fn build_model(
    loaded: &LoadedValues,
    namespace: &str,
    options: &RuleOptions,
) -> Result<(Model, Vec<Diagnostic>), Vec<Diagnostic>> {
    check_values(loaded, namespace, options).into_model()
}
