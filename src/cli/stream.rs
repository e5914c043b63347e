//! The stream commands: `post-render`, `inject`, `uninject`, `enable-mtls`, `disable-mtls`.

use std::io::BufRead;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use serde_json::{Map, Value, json};

use super::{ValuesArgs, report};
use crate::Failure;
use crate::diag::{Diagnostic, SourceFile};
use crate::pipeline::{build_model, load_values};
use crate::postrender::{Operation, Spool, run};
use crate::validate::rules::RuleOptions;
use crate::values::image::{self, WholeReference};
use crate::values::layers::{CHART_DEFAULT_VERSION, Layer, LoadedValues};
use crate::values::{Image, Model};

#[derive(Debug, Args)]
pub struct PostRenderArgs {
    #[command(flatten)]
    pub values: ValuesArgs,
    /// Do not print info findings.
    #[arg(short, long)]
    pub quiet: bool,
}

/// Where the manifests come from.
#[derive(Debug, Args)]
pub struct StreamInput {
    /// The manifests to edit (multi-document YAML); standard input when not given or `-`.
    #[arg(short = 'f', long = "filename", value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// The namespace Gloo is installed in.
    #[arg(short, long, default_value = "gloo-system")]
    pub namespace: String,
}

#[derive(Debug, Args)]
pub struct InjectArgs {
    #[command(flatten)]
    pub input: StreamInput,
    /// The namespace istiod runs in (for the default discovery address).
    #[arg(long, default_value = "istio-system")]
    pub istio_namespace: String,
    /// ISTIO_META_MESH_ID of the istio-proxy sidecar (default cluster.local).
    #[arg(long)]
    pub istio_meta_mesh_id: Option<String>,
    /// ISTIO_META_CLUSTER_ID of the istio-proxy sidecar (default Kubernetes).
    #[arg(long)]
    pub istio_meta_cluster_id: Option<String>,
    /// The istiod address (default istiod.<istio-namespace>.svc:15012).
    #[arg(long)]
    pub istio_discovery_address: Option<String>,
    /// The sds image, used as written; a bare name (`sds:1.18.0`) takes quay.io/solo-io
    /// [default: quay.io/solo-io/sds:<gloo version>].
    #[arg(long, value_name = "IMAGE")]
    pub sds_image: Option<WholeReference>,
    /// The istio-proxy image, used as written; a bare name (`proxyv2:1.23.1`) takes
    /// docker.io/istio. Match your istiod [default: docker.io/istio/proxyv2:1.22.0].
    #[arg(long, value_name = "IMAGE")]
    pub istio_proxy_image: Option<WholeReference>,
    /// The Gloo version of the default sds image tag.
    #[arg(long, value_name = "VERSION", default_value = CHART_DEFAULT_VERSION)]
    pub gloo_version: String,
}

#[derive(Debug, Args)]
pub struct UninjectArgs {
    #[command(flatten)]
    pub input: StreamInput,
    /// Also remove the Istio sslConfig of Upstreams that use the sds cluster.
    #[arg(long)]
    pub include_upstreams: bool,
}

#[derive(Debug, Args)]
pub struct MtlsArgs {
    #[command(flatten)]
    pub input: StreamInput,
    /// The Upstream's name.
    #[arg(short, long)]
    pub upstream: String,
    /// Replace (enable-mtls) or remove (disable-mtls) an sslConfig that is not the Istio one.
    #[arg(long)]
    pub force: bool,
}

fn flag_layer(name: &str, value: Value) -> Layer {
    Layer {
        source: SourceFile::new(name, ""),
        value,
        spans: Default::default(),
    }
}

fn model_from(
    layers: Vec<Layer>,
    namespace: &str,
    gloo_version: &str,
) -> Result<(Model, LoadedValues, Vec<Diagnostic>), Failure> {
    let loaded = LoadedValues::new(layers, gloo_version);
    let (model, findings) = build_model(&loaded, namespace, &RuleOptions::default()).map_err(Failure::invalid)?;
    Ok((model, loaded, findings))
}

fn values_model(args: &ValuesArgs) -> Result<(Model, LoadedValues, Vec<Diagnostic>), Failure> {
    let loaded = load_values(&args.values, &args.set, &args.gloo_version)?;
    let options = RuleOptions {
        keys: args.key_policy(),
        ..Default::default()
    };
    let (model, findings) = build_model(&loaded, &args.namespace, &options).map_err(Failure::invalid)?;
    Ok((model, loaded, findings))
}

fn inject_model(args: &InjectArgs) -> Result<(Model, LoadedValues, Vec<Diagnostic>), Failure> {
    let mut proxy = Map::new();
    proxy.insert(
        "istioDiscoveryAddress".into(),
        json!(
            args.istio_discovery_address
                .clone()
                .unwrap_or_else(|| format!("istiod.{}.svc:15012", args.istio_namespace))
        ),
    );
    if let Some(mesh) = &args.istio_meta_mesh_id {
        proxy.insert("istioMetaMeshId".into(), json!(mesh));
    }
    if let Some(cluster) = &args.istio_meta_cluster_id {
        proxy.insert("istioMetaClusterId".into(), json!(cluster));
    }
    let values = json!({
        "global": {"istioIntegration": {"enabled": true}},
        "gatewayProxies": {"gatewayProxy": proxy},
    });
    let (mut model, loaded, findings) = model_from(
        vec![flag_layer("inject flags", values)],
        &args.input.namespace,
        &args.gloo_version,
    )?;
    // A bare name takes the registry of the default image it replaces.
    let global = &model.values.global;
    let registry_of = |own: &Image| image::merged(own, &global.image).registry.unwrap_or_default();
    let sds_registry = registry_of(&global.gloo_mtls.sds.image);
    let istio_registry = registry_of(&global.gloo_mtls.istio_proxy.image);
    model.whole_images.sds = args.sds_image.as_ref().map(|r| r.resolve(&sds_registry));
    model.whole_images.istio_proxy = args.istio_proxy_image.as_ref().map(|r| r.resolve(&istio_registry));
    Ok((model, loaded, findings))
}

fn plain_model(namespace: &str) -> Result<(Model, LoadedValues, Vec<Diagnostic>), Failure> {
    model_from(Vec::new(), namespace, CHART_DEFAULT_VERSION)
}

fn open_input(file: &Option<PathBuf>) -> Result<Box<dyn BufRead>, Failure> {
    match file {
        None => Ok(Box::new(std::io::stdin().lock())),
        Some(path) if path.as_os_str() == "-" => Ok(Box::new(std::io::stdin().lock())),
        Some(path) => {
            let file =
                std::fs::File::open(path).map_err(|e| Failure::io(format!("cannot read {}: {e}", path.display())))?;
            Ok(Box::new(std::io::BufReader::new(file)))
        }
    }
}

fn execute(
    operation: Operation,
    file: &Option<PathBuf>,
    setup: impl FnOnce() -> Result<(Model, LoadedValues, Vec<Diagnostic>), Failure>,
    quiet: bool,
    color: bool,
) -> ExitCode {
    let result = (|| {
        let (model, loaded, findings) = setup()?;
        let mut spool = Spool::new()?;
        let summary = run(open_input(file)?, &mut spool, &operation, &model, &loaded)?;
        Ok::<_, Failure>((spool, summary, findings))
    })();
    match result {
        Ok((spool, summary, mut findings)) => {
            findings.extend(summary.messages);
            report(&findings, color, quiet);
            match spool.copy_to(&mut std::io::stdout().lock()) {
                Ok(()) => ExitCode::SUCCESS,
                Err(failure) => {
                    report(&failure.diagnostics, color, false);
                    ExitCode::from(failure.exit_code())
                }
            }
        }
        Err(failure) => {
            report(&failure.diagnostics, color, false);
            ExitCode::from(failure.exit_code())
        }
    }
}

pub fn post_render(args: &PostRenderArgs, color: bool) -> ExitCode {
    execute(
        Operation::PostRender,
        &None,
        || values_model(&args.values),
        args.quiet,
        color,
    )
}

pub fn inject(args: &InjectArgs, color: bool) -> ExitCode {
    let operation = Operation::Inject {
        namespace: args.input.namespace.clone(),
    };
    execute(operation, &args.input.file, || inject_model(args), false, color)
}

pub fn uninject(args: &UninjectArgs, color: bool) -> ExitCode {
    let operation = Operation::Uninject {
        namespace: args.input.namespace.clone(),
        include_upstreams: args.include_upstreams,
    };
    execute(
        operation,
        &args.input.file,
        || plain_model(&args.input.namespace),
        false,
        color,
    )
}

pub fn mtls(args: &MtlsArgs, enable: bool, color: bool) -> ExitCode {
    let (upstream, namespace, force) = (args.upstream.clone(), args.input.namespace.clone(), args.force);
    let operation = if enable {
        Operation::EnableMtls {
            upstream,
            namespace,
            force,
        }
    } else {
        Operation::DisableMtls {
            upstream,
            namespace,
            force,
        }
    };
    execute(
        operation,
        &args.input.file,
        || plain_model(&args.input.namespace),
        false,
        color,
    )
}
