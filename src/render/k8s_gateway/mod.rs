//! The Kubernetes Gateway API side (k8s-gateway spec): the Gloo chart's GatewayClass and class
//! default GatewayParameters (§2), and, for each Gateway of the `gloo-gateway` class, the
//! objects the controller's deployer renders (§4–8).

pub mod chart;
pub mod deployer;

use serde_json::Value;

use super::{Manifest, ManifestKind, engine, internal};
use crate::Failure;
use crate::diag::{Diagnostic, Location, code};
use crate::validate::rules::kube_gateway::{self, GatewayFacts};
use crate::values::Model;
use crate::values::gateway_api::{Admission, ApiObject, GatewayApiObjects, PARAMETERS_ANNOTATION, merge_specs};
use crate::values::names::is_dns_subdomain;
use deployer::{ControllerSettings, DeployerView, Missing, SecretView};

/// The controller of the class the chart installs (spec §2.2, §3).
pub const CONTROLLER_NAME: &str = "solo.io/gloo-gateway";
/// The one class this controller handles.
pub const CLASS_NAME: &str = "gloo-gateway";

/// The chart's GatewayClass and GatewayParameters when `kubeGateway.enabled` (spec §2.1), in
/// helm's order.
pub fn render_chart(model: &Model, templates: &engine::Engine) -> Result<Vec<Manifest>, Failure> {
    if !model.values.kube_gateway.is_enabled() {
        return Ok(Vec::new());
    }
    let view = chart::gateway_parameters(model);
    let mut out = Vec::new();
    for (kind, template) in [
        (ManifestKind::GatewayClass, "k8s-gateway/gatewayclass.yaml"),
        (ManifestKind::GatewayParameters, "k8s-gateway/gatewayparameters.yaml"),
    ] {
        let text = engine::render(templates, template, "p", &view).map_err(internal)?;
        let text = super::check::finish(kind, &text, None).map_err(|e| internal(format!("{}: {e}", kind.as_str())))?;
        out.push(Manifest {
            kind,
            name: CLASS_NAME.into(),
            namespace: if kind == ManifestKind::GatewayClass {
                String::new()
            } else {
                model.namespace.clone()
            },
            text,
            envoy_bootstrap: None,
            template: if kind == ManifestKind::GatewayClass {
                "k8s-gateway/gatewayclass.yaml"
            } else {
                "k8s-gateway/gatewayparameters.yaml"
            },
        });
    }
    Ok(out)
}

/// The keys of `--controller KEY=VALUE`: the controller settings a user may set instead of the
/// ones the chart values imply (spec §3).
pub const CONTROLLER_KEYS: &str = "xds-host, xds-port, istio, gloo-mtls, aws-sts-cluster, aws-sts-uri, aws";

/// The controller settings the chart values imply (spec §2.6, §3), with the user's
/// `KEY=VALUE` overrides applied in order. A bad override is a usage error.
pub fn controller_settings(model: &Model, version: &str, overrides: &[String]) -> Result<ControllerSettings, Failure> {
    let values = &model.values;
    let aws = values
        .settings
        .aws
        .as_ref()
        .filter(|a| a.enable_service_account_credentials == Some(true));
    let mut settings = ControllerSettings {
        xds_host: format!("gloo.{}.svc.cluster.local", model.namespace),
        xds_port: values.gloo.deployment.xds_port.unwrap_or(9977),
        istio: crate::values::on(values.global.istio_integration.enabled),
        gloo_mtls: model.gloo_mtls(),
        aws_sts: aws.map(|a| {
            let uri = match a.sts_credentials_region.as_deref().filter(|r| !r.is_empty()) {
                Some(region) => format!("sts.{region}.amazonaws.com"),
                None => "sts.amazonaws.com".to_string(),
            };
            (AWS_STS_CLUSTER.to_string(), uri)
        }),
        version: version.to_string(),
    };
    for text in overrides {
        apply_override(&mut settings, text)
            .map_err(|why| Failure::usage(format!("--controller {text}: {why} (keys: {CONTROLLER_KEYS})")))?;
    }
    Ok(settings)
}

/// The name of the AWS STS cluster the chart's Settings give the controller (spec §2.6).
const AWS_STS_CLUSTER: &str = "aws_sts_cluster";

fn apply_override(settings: &mut ControllerSettings, text: &str) -> Result<(), String> {
    let (key, value) = text.split_once('=').ok_or("expected KEY=VALUE")?;
    let flag = || match value {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(format!("`{value}` is not true or false")),
    };
    let non_empty = || {
        if value.is_empty() {
            Err("the value is empty".to_string())
        } else {
            Ok(value.to_string())
        }
    };
    // Host and cluster names go into the envoy bootstrap: only the characters such names have.
    let name = |extra: char| {
        let value = non_empty()?;
        if value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-' || c == extra)
        {
            Ok(value)
        } else {
            Err(format!(
                "`{value}` is not a host or cluster name (letters, digits, `.`, `-`)"
            ))
        }
    };
    let default_sts = || (AWS_STS_CLUSTER.to_string(), "sts.amazonaws.com".to_string());
    match key {
        "xds-host" => settings.xds_host = name('-')?,
        "xds-port" => {
            settings.xds_port = value
                .parse::<u16>()
                .ok()
                .filter(|p| *p != 0)
                .ok_or_else(|| format!("`{value}` is not a port (1-65535)"))?
        }
        "istio" => settings.istio = flag()?,
        "gloo-mtls" => settings.gloo_mtls = flag()?,
        "aws-sts-cluster" => settings.aws_sts.get_or_insert_with(default_sts).0 = name('_')?,
        "aws-sts-uri" => settings.aws_sts.get_or_insert_with(default_sts).1 = name('-')?,
        "aws" => {
            if flag()? {
                settings.aws_sts.get_or_insert_with(default_sts);
            } else {
                settings.aws_sts = None;
            }
        }
        _ => return Err(format!("unknown key `{key}`")),
    }
    Ok(())
}

/// What the deployer renders for every Gateway of a handled class, sorted by namespace and
/// name, and the findings of the Gateways that get nothing. A Gateway the deployer refuses
/// stops the whole render with every such error.
pub fn render_gateways(
    model: &Model,
    objects: &GatewayApiObjects,
    settings: &ControllerSettings,
    templates: &engine::Engine,
) -> Result<(Vec<Manifest>, Vec<Diagnostic>), Failure> {
    let chart_parameters = chart::gateway_parameters(model);
    let mut manifests = Vec::new();
    let mut findings = Vec::new();
    // ListenerSets the API server refuses, whichever Gateway they name.
    let mut errors: Vec<Diagnostic> = objects
        .listener_sets
        .iter()
        .filter_map(|set| {
            let refused = set.check_listener_fields().err()?;
            Some(
                Diagnostic::error(
                    code::K8S_GATEWAY_REFUSED,
                    format!("XListenerSet {}/{}: {}", set.namespace(), set.name(), refused.message),
                )
                .at(set.at_key(&refused.pointer))
                .help("the API server refuses this ListenerSet as written: fix the field"),
            )
        })
        .collect();
    for gateway in objects.sorted_gateways() {
        match render_gateway(
            model,
            objects,
            &chart_parameters,
            settings,
            templates,
            gateway,
            &mut findings,
        ) {
            Ok(Outcome::Objects(objects)) => manifests.extend(objects),
            Ok(Outcome::Nothing(finding)) => findings.push(finding),
            Err(Refusal::User(message, help, location)) => errors.push(
                Diagnostic::error(code::K8S_GATEWAY_REFUSED, message)
                    .at(location.or_else(|| gateway.location.clone()))
                    .help(help),
            ),
            Err(Refusal::Ours(failure)) => return Err(failure),
        }
    }
    if !errors.is_empty() {
        return Err(Failure::invalid(errors));
    }
    Ok((manifests, findings))
}

enum Outcome {
    Objects(Vec<Manifest>),
    Nothing(Diagnostic),
}

enum Refusal {
    /// What the controller would fail on, with a hint, and where (the Gateway when not given).
    User(String, String, Option<Location>),
    Ours(Failure),
}

fn user(message: String, help: &str) -> Refusal {
    Refusal::User(message, help.to_string(), None)
}

/// Helm's release name rule (spec §6.1): at most 53 characters, a DNS subdomain.
fn valid_release_name(name: &str) -> bool {
    name.len() <= 53 && is_dns_subdomain(name)
}

fn render_gateway(
    model: &Model,
    objects: &GatewayApiObjects,
    chart_parameters: &chart::GatewayParametersView,
    settings: &ControllerSettings,
    templates: &engine::Engine,
    gateway: &ApiObject,
    notes: &mut Vec<Diagnostic>,
) -> Result<Outcome, Refusal> {
    let (name, namespace) = (gateway.name(), gateway.namespace());
    let who = format!("Gateway {namespace}/{name}");
    let class_name = gateway
        .value
        .pointer("/spec/gatewayClassName")
        .and_then(Value::as_str)
        .unwrap_or("");
    if class_name != CLASS_NAME {
        return Ok(Outcome::Nothing(
            Diagnostic::info(
                code::K8S_GATEWAY_NO_OBJECTS,
                format!("{who} is of class `{class_name}`, which the Gloo controller does not handle: no objects"),
            )
            .at(gateway.location.clone()),
        ));
    }
    gateway.check_listener_fields().map_err(|refused| {
        Refusal::User(
            format!("{who}: {}", refused.message),
            "the API server refuses this Gateway as written: fix the field".into(),
            gateway.at_key(&refused.pointer),
        )
    })?;
    // spec §4.1: the class default through the GatewayClass's parametersRef.
    let chart_class = model.values.kube_gateway.is_enabled();
    let parameters_ref = match objects.class_named(class_name) {
        Some(class) => class.value.pointer("/spec/parametersRef").cloned(),
        None if chart_class => Some(serde_json::json!({"name": CLASS_NAME, "namespace": model.namespace})),
        None => {
            return Err(user(
                format!(
                    "{who}: its GatewayClass `{class_name}` is not in the manifests and `kubeGateway.enabled` is off"
                ),
                "set kubeGateway.enabled: true in the values (the chart installs the class), or pass the GatewayClass",
            ));
        }
    };
    let ref_name = parameters_ref
        .as_ref()
        .and_then(|r| r.get("name"))
        .and_then(Value::as_str)
        .unwrap_or("");
    let ref_namespace = parameters_ref
        .as_ref()
        .and_then(|r| r.get("namespace"))
        .and_then(Value::as_str)
        .unwrap_or("");
    let class_default = if chart_class && ref_name == CLASS_NAME && ref_namespace == model.namespace {
        chart_parameters.spec()
    } else if let Some(object) = objects.parameters_named(ref_namespace, ref_name) {
        object.value.get("spec").cloned().unwrap_or(Value::Null)
    } else {
        return Err(user(
            format!(
                "{who}: the GatewayClass `{class_name}` names GatewayParameters {ref_namespace}.{ref_name}, which is not in the manifests"
            ),
            "the GatewayClass's parametersRef needs a name and a namespace, and the object must exist",
        ));
    };
    let mut gateway_level_object = None;
    let gateway_level = match gateway
        .value
        .pointer(&format!(
            "/metadata/annotations/{}",
            PARAMETERS_ANNOTATION.replace('/', "~1")
        ))
        .and_then(Value::as_str)
        .filter(|n| !n.is_empty())
    {
        None => None,
        Some(parameters) => match objects.parameters_named(namespace, parameters) {
            Some(object) => {
                gateway_level_object = Some(object);
                Some(object.value.get("spec").cloned().unwrap_or(Value::Null))
            }
            // The chart's own object, named by a Gateway in the release namespace (case 21).
            None if chart_class && namespace == model.namespace && parameters == CLASS_NAME => {
                Some(chart_parameters.spec())
            }
            None => {
                return Err(user(
                    format!(
                        "{who}: could not retrieve GatewayParameters {namespace}.{parameters} named by its annotation {PARAMETERS_ANNOTATION}"
                    ),
                    "the GatewayParameters must be in the Gateway's namespace and among the manifests given",
                ));
            }
        },
    };
    let Some(spec) = merge_specs(&class_default, gateway_level.as_ref()) else {
        return Ok(Outcome::Nothing(
            Diagnostic::info(
                code::K8S_GATEWAY_NO_OBJECTS,
                format!(
                    "{who} is self-managed (its GatewayParameters sets selfManaged): the deployer creates no objects"
                ),
            )
            .at(gateway.location.clone()),
        ));
    };
    if !valid_release_name(name) {
        return Err(user(
            format!(
                "{who}: the deployer uses the Gateway's name as helm release name, and `{name}` ({} characters) is not one: at most 53 lower-case letters, digits, '-' and '.'",
                name.chars().count()
            ),
            "give the Gateway a shorter name",
        ));
    }
    let mut kube = spec
        .get("kube")
        .cloned()
        .unwrap_or_else(|| Value::Object(Default::default()));
    if kube.get("floatingUserId") == Some(&Value::Bool(true)) {
        deployer::drop_run_as_user(&mut kube);
    }
    let mtls_secret = if settings.gloo_mtls {
        let secret = objects
            .secrets
            .iter()
            .find(|s| s.namespace() == model.namespace && s.name() == "gloo-mtls-certs");
        let Some(secret) = secret.filter(|s| s.value.get("type").and_then(Value::as_str) == Some("kubernetes.io/tls"))
        else {
            return Err(user(
                format!(
                    "{who}: gloo mTLS is on and the Secret {}/gloo-mtls-certs of type kubernetes.io/tls is not in the manifests",
                    model.namespace
                ),
                "the deployer copies that Secret next to every proxy: pass it (placeholder data will do offline)",
            ));
        };
        let data = |key: &str| {
            secret
                .value
                .pointer(&format!("/data/{}", key.replace('/', "~1")))
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string()
        };
        Some(SecretView {
            ca: data("ca.crt"),
            cert: data("tls.crt"),
            key: data("tls.key"),
        })
    } else {
        None
    };
    let (listeners, listener_sets) = objects.listeners_of(gateway).map_err(|(problem, at)| {
        Refusal::User(
            format!("{who}: {problem}"),
            "the API server refuses this as written: fix the object (a selector is matchLabels, a map of strings, and matchExpressions, each a key, an operator In, NotIn, Exists or DoesNotExist, and values for In and NotIn only)".into(),
            at,
        )
    })?;
    for (set, admission) in listener_sets {
        match admission {
            Admission::Accepted => {}
            Admission::Refused => notes.push(
                Diagnostic::info(
                    code::K8S_GATEWAY_NO_OBJECTS,
                    format!(
                        "ListenerSet {}/{} names {who}, whose spec.allowedListeners does not let it in: its listeners get no ports",
                        set.namespace(),
                        set.name()
                    ),
                )
                .at(set.location.clone()),
            ),
            Admission::AssumedSelected => notes.push(
                Diagnostic::warning(
                    code::K8S_GATEWAY_SELECTOR_ASSUMED,
                    format!(
                        "ListenerSet {}/{} names {who}, which lets ListenerSets in by the labels of their namespace (`from: Selector`), and the manifests hold no Namespace {}: taken as selected, so its listeners get ports",
                        set.namespace(),
                        set.name(),
                        set.namespace()
                    ),
                )
                .at(set.location.clone())
                .help("add the Namespace, with its labels, to the manifests, so that the selector decides"),
            ),
        }
    }
    let (mut view, bootstrap) =
        deployer::deployer_view(name, namespace, &gateway.value, &listeners, &kube, settings, mtls_secret).map_err(|missing| {
            let (what, field) = match missing {
                Missing::SdsContainer => (
                    "no sdsContainer (`glooGateway: null` in the chart values removes it)",
                    "sdsContainer",
                ),
                Missing::IstioProxyContainer => (
                    "no istio.istioProxyContainer (a class-level `customSidecars` removes it)",
                    "istio.istioProxyContainer",
                ),
                Missing::AiExtensionEnabled => (
                    "an aiExtension without `enabled`",
                    "aiExtension.enabled",
                ),
            };
            if missing == Missing::AiExtensionEnabled {
                return user(
                    format!(
                        "{who}: its effective GatewayParameters has an aiExtension without `enabled`: the controller dereferences the missing value and fails, and creates no objects"
                    ),
                    "set aiExtension.enabled (true or false) in the class default or the Gateway's GatewayParameters",
                )
                .with_field(field);
            }
            user(
                format!(
                    "{who}: the Istio integration (or gloo mTLS) is on and its effective GatewayParameters has {what}: the deployer's chart fails (nil pointer) and creates no objects"
                ),
                match missing {
                    Missing::AiExtensionEnabled => "",
                    Missing::IstioProxyContainer => "leave kubeGateway.gatewayParameters.glooGateway.istio.customSidecars out (the deployer never uses it), or give the Gateway a GatewayParameters with istio.istioProxyContainer",
                    Missing::SdsContainer => "keep the chart's sdsContainer, or give the Gateway a GatewayParameters with one",
                },
            )
            .with_field(field)
        })?;
    notes.extend(kube_gateway::check_gateway(&GatewayFacts {
        gateway,
        gateway_level: gateway_level_object,
        class_default: &class_default,
        kube: &kube,
        istio: settings.istio,
        gloo_mtls: settings.gloo_mtls,
    }));
    let ours = |e: String| Refusal::Ours(internal(format!("{who}: {e}")));
    let bootstrap_text =
        engine::render(templates, "k8s-gateway/envoy-bootstrap.yaml", "b", &bootstrap).map_err(ours)?;
    super::check::bootstrap(&bootstrap_text).map_err(|e| ours(format!("the rendered envoy bootstrap {e}")))?;
    view.config_map_data.insert("envoy.yaml".into(), bootstrap_text.clone());
    // The AI extension's ConfigMap is the ConfigMap template with its own name and data.
    let ai_config = view.ai.is_some().then(|| DeployerView {
        name: format!("{}-ai-stats-config", view.name),
        config_map_data: view.ai_config_data.clone(),
        ..view.clone()
    });
    // (kind, template, context, the envoy bootstrap it carries), in the deployer's order.
    let mut documents = vec![(
        ManifestKind::ServiceAccount,
        "k8s-gateway/serviceaccount.yaml",
        &view,
        None,
    )];
    if view.mtls_secret.is_some() {
        documents.push((ManifestKind::Secret, "k8s-gateway/secret.yaml", &view, None));
    }
    if let Some(ai_config) = &ai_config {
        documents.push((ManifestKind::ConfigMap, "k8s-gateway/configmap.yaml", ai_config, None));
    }
    documents.extend([
        (
            ManifestKind::ConfigMap,
            "k8s-gateway/configmap.yaml",
            &view,
            Some(bootstrap_text),
        ),
        (ManifestKind::Service, "k8s-gateway/service.yaml", &view, None),
        (ManifestKind::Deployment, "k8s-gateway/deployment.yaml", &view, None),
    ]);
    let mut out = Vec::new();
    for (kind, template, context, envoy_bootstrap) in documents {
        let text = engine::render(templates, template, "d", context).map_err(ours)?;
        // The templates pass the GatewayParameters' Kubernetes fields through as they are: an
        // object that is not of its type comes from them.
        let text = super::check::finish(kind, &text, None).map_err(|e| {
            user(
                format!(
                    "{who}: the {} its effective GatewayParameters gives is not a valid Kubernetes object: it {e}",
                    kind.as_str()
                ),
                "check the spec.kube fields of the class default and of the Gateway's GatewayParameters against the GatewayParameters CRD",
            )
        })?;
        out.push(Manifest {
            kind,
            name: if kind == ManifestKind::Secret {
                "gloo-mtls-certs".into()
            } else {
                context.name.clone()
            },
            namespace: namespace.to_string(),
            envoy_bootstrap,
            text,
            template,
        });
    }
    Ok(Outcome::Objects(out))
}

impl Refusal {
    /// The message names the GatewayParameters field that is missing.
    fn with_field(self, field: &str) -> Refusal {
        match self {
            Refusal::User(message, help, at) => Refusal::User(format!("{message} (spec.kube.{field})"), help, at),
            ours => ours,
        }
    }
}

/// Reads manifest streams (`-` is standard input) into the Gateway API objects.
pub fn read_manifests(files: &[std::path::PathBuf]) -> Result<GatewayApiObjects, Failure> {
    let mut objects = GatewayApiObjects::default();
    for path in files {
        let source = crate::values::layers::read_source(path)?;
        objects
            .add_stream(&source.name, &source.text)
            .map_err(|(message, location): (String, Option<Location>)| {
                Failure::invalid(vec![Diagnostic::error(code::YAML_SYNTAX, message).at(location)])
            })?;
    }
    Ok(objects)
}
