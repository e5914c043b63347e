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
        sort_findings(&mut findings);
        return Checked { model: None, findings };
    }
    match model_from(instance, loaded, namespace) {
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
