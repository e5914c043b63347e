//! The stream commands: `post-render`, `inject`, `uninject`, `enable-mtls`, `disable-mtls`.

use std::io::{BufRead, Read, Seek, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use serde_json::{Map, Value, json};

use super::{DEFAULT_NAMESPACE, ValuesArgs, report};
use crate::Failure;
use crate::diag::{Diagnostic, Location, SourceFile, code};
use crate::pipeline::{build_model, load_values};
use crate::postrender::{Document, DocumentReader, Operation, Spool, proxy_namespace, run_documents};
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

/// The model of loaded values in `namespace`, with the findings that do not stop a render.
fn values_model(
    args: &ValuesArgs,
    loaded: &LoadedValues,
    namespace: &str,
) -> Result<(Model, Vec<Diagnostic>), Failure> {
    let options = RuleOptions {
        keys: args.key_policy(),
        ..Default::default()
    };
    build_model(loaded, namespace, &options).map_err(Failure::invalid)
}

/// The namespace of a gateway-proxy workload of the stream, and where it is written.
type ProxyNamespace = (String, Option<Location>);

/// The namespace post-render works in: `-n` when given, else that of the first gateway-proxy
/// workload of the stream, else `gloo-system`; with a warning (GI060) for each namespace of
/// the stream's gateway-proxy workloads that is not that one.
fn post_render_namespace(given: Option<&str>, found: &[ProxyNamespace]) -> (String, Vec<Diagnostic>) {
    let namespace = given
        .map(str::to_string)
        .or_else(|| found.first().map(|(ns, _)| ns.clone()))
        .unwrap_or_else(|| DEFAULT_NAMESPACE.to_string());
    let mut warned: Vec<&str> = Vec::new();
    let mut warnings = Vec::new();
    for (ns, location) in found {
        if *ns == namespace || warned.contains(&ns.as_str()) {
            continue;
        }
        warned.push(ns);
        let (message, help) = match given {
            Some(_) => (
                format!(
                    "the gateway-proxy workloads of the stream are in namespace `{ns}`, but -n gives `{namespace}`: post-render works in `{namespace}` (the Upstreams it adds, the Gloo addresses it writes)"
                ),
                "Helm passes --namespace to the chart, not to the post-renderer: drop -n to take the namespace from the stream, or give the same namespace to both",
            ),
            None => (
                format!(
                    "the gateway-proxy workloads of the stream are in several namespaces: post-render works in `{namespace}`, the first, not in `{ns}`"
                ),
                "pass -n to choose the namespace",
            ),
        };
        warnings.push(
            Diagnostic::warning(code::STREAM_NAMESPACE, message)
                .at(location.clone())
                .help(help),
        );
    }
    (namespace, warnings)
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

/// Standard input read to its end, document by document with the checks of every stream
/// command, so that post-render knows the namespaces of its gateway-proxy workloads before it
/// edits the first document. The documents are kept in a spooled temporary file (in memory up
/// to the spool's bound), each as its index, its first line and its length (8 bytes each,
/// little-endian), then its text: memory stays bounded however many documents there are.
struct BufferedStream {
    records: tempfile::SpooledTempFile,
    proxies: Vec<ProxyNamespace>,
}

fn spool_error(e: std::io::Error) -> Failure {
    Failure::io(format!("cannot keep standard input in a temporary file: {e}"))
}

impl BufferedStream {
    fn read_stdin() -> Result<BufferedStream, Failure> {
        let mut records = tempfile::SpooledTempFile::new(crate::postrender::SPOOL_MEMORY_BYTES);
        let mut proxies = Vec::new();
        let mut reader = DocumentReader::new(std::io::stdin().lock());
        while let Some(doc) = reader.next_document()? {
            for number in [doc.index, doc.line, doc.text.len()] {
                records.write_all(&(number as u64).to_le_bytes()).map_err(spool_error)?;
            }
            records.write_all(doc.text.as_bytes()).map_err(spool_error)?;
            proxies.extend(proxy_namespace(&doc));
        }
        records.rewind().map_err(spool_error)?;
        Ok(BufferedStream { records, proxies })
    }

    /// The documents again, in order.
    fn documents(self) -> Documents {
        let mut records = std::io::BufReader::new(self.records);
        let mut next = move || -> Result<Option<Document>, Failure> {
            let mut numbers = [0u64; 3];
            for (i, number) in numbers.iter_mut().enumerate() {
                let mut bytes = [0u8; 8];
                match records.read_exact(&mut bytes) {
                    Err(e) if i == 0 && e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
                    other => other.map_err(spool_error)?,
                }
                *number = u64::from_le_bytes(bytes);
            }
            let [index, line, len] = numbers.map(|n| n as usize);
            let mut text = vec![0u8; len];
            records.read_exact(&mut text).map_err(spool_error)?;
            let text = String::from_utf8(text)
                .map_err(|_| Failure::io("standard input changed in its temporary file".to_string()))?;
            Ok(Some(Document { text, index, line }))
        };
        Box::new(std::iter::from_fn(move || next().transpose()))
    }
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

/// The documents of a stream command's input.
type Documents = Box<dyn Iterator<Item = Result<Document, Failure>>>;

/// What a stream command reads, and the values it edits with: the model, the loaded values and
/// the findings so far.
type Setup = (Documents, Model, LoadedValues, Vec<Diagnostic>);

fn execute(operation: Operation, setup: impl FnOnce() -> Result<Setup, Failure>, quiet: bool, color: bool) -> ExitCode {
    let result = (|| {
        let (documents, model, loaded, findings) = setup()?;
        let mut spool = Spool::new()?;
        let summary = run_documents(documents, &mut spool, &operation, &model, &loaded)?;
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
    let setup = || {
        // The values are checked before the stream is read, in the namespace of `-n` or the
        // default, and checked again in the stream's namespace when that is another.
        let reads_stdin = args.values.values.iter().any(|f| f.as_os_str() == "-")
            || args
                .values
                .set_file
                .iter()
                .flat_map(|a| a.split(','))
                .any(|p| p.ends_with("=-"));
        if reads_stdin {
            return Err(Failure::usage(
                "post-render reads the manifests on standard input: `-f -` and `--set-file KEY=-` cannot read values from it too",
            ));
        }
        let loaded = load_values(&args.values.values, &args.values.set_flags(), &args.values.gloo_version)?;
        let first = values_model(&args.values, &loaded, args.values.namespace())?;
        let stream = BufferedStream::read_stdin()?;
        let (namespace, warnings) = post_render_namespace(args.values.namespace.as_deref(), &stream.proxies);
        let (model, mut findings) = if namespace == args.values.namespace() {
            first
        } else {
            values_model(&args.values, &loaded, &namespace)?
        };
        findings.extend(warnings);
        Ok((stream.documents(), model, loaded, findings))
    };
    execute(Operation::PostRender, setup, args.quiet, color)
}

/// The stream of `file` and a model.
fn with_input(
    file: &Option<PathBuf>,
    model: impl FnOnce() -> Result<(Model, LoadedValues, Vec<Diagnostic>), Failure>,
) -> impl FnOnce() -> Result<Setup, Failure> {
    move || {
        let (model, loaded, findings) = model()?;
        let mut reader = DocumentReader::new(open_input(file)?);
        let documents: Documents = Box::new(std::iter::from_fn(move || reader.next_document().transpose()));
        Ok((documents, model, loaded, findings))
    }
}

pub fn inject(args: &InjectArgs, color: bool) -> ExitCode {
    let operation = Operation::Inject {
        namespace: args.input.namespace.clone(),
    };
    execute(
        operation,
        with_input(&args.input.file, || inject_model(args)),
        false,
        color,
    )
}

pub fn uninject(args: &UninjectArgs, color: bool) -> ExitCode {
    let operation = Operation::Uninject {
        namespace: args.input.namespace.clone(),
        include_upstreams: args.include_upstreams,
    };
    execute(
        operation,
        with_input(&args.input.file, || plain_model(&args.input.namespace)),
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
        with_input(&args.input.file, || plain_model(&args.input.namespace)),
        false,
        color,
    )
}
