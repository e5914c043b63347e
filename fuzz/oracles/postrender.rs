//! The stream commands on arbitrary manifest streams: the first byte picks the operation
//! (post-render with one of two values sets, inject, uninject, enable-mtls, disable-mtls), the
//! rest is the stream.
//!
//! Oracles besides "no panic, no hang, no unbounded memory":
//! - post-render is idempotent: post-render(post-render(x)) == post-render(x);
//! - inject then uninject gives the input back byte for byte, when inject changed something
//!   and warned about nothing (a warning means a pod was already injected and left alone);
//! - set `GLOO_ISTIO_FUZZ_STRICT=1` to also fail on GI099 ("this is a bug in gloo-istio") for
//!   a stream, which the input alone should never produce, and to check the inputs of known
//!   bugs (below).
//!
//! Known bugs are skipped unless strict, so that a run can find others; each has a failing
//! case in tests/hostile/, and its guard goes when it is fixed. There is none today.

use std::io::Cursor;
use std::sync::OnceLock;

use gloo_istio::diag::{Level, SourceFile};
use gloo_istio::pipeline::build_model;
use gloo_istio::postrender::{Operation, Spool, Summary, run};
use gloo_istio::validate::rules::RuleOptions;
use gloo_istio::values::Model;
use gloo_istio::values::layers::{CHART_DEFAULT_VERSION, Layer, LoadedValues};
use gloo_istio::{Failure, FailureKind};

const ISTIO_VALUES: &str = "global:
  istioIntegration:
    enabled: true
    enableAutoMtls: true
gatewayProxies:
  gatewayProxy:
    istioMetaMeshId: mesh1
    istioDiscoveryAddress: istiod-1-22.istio-system.svc:15012
upstreams:
- service: reviews
  namespace: bookinfo
  port: 9080
  mtls: istio-sds
";

const SIDECAR_VALUES: &str = "global:
  istioIntegration:
    enableIstioSidecarOnGateway: true
    istioSidecarRevTag: canary
  istioSDS:
    enabled: true
";

struct Setup {
    model: Model,
    loaded: LoadedValues,
}

fn setup(text: &'static str) -> Setup {
    let layer = Layer::parse(SourceFile::new("fuzz-values.yaml", text)).expect("fuzz values parse");
    let loaded = LoadedValues::new(vec![layer], CHART_DEFAULT_VERSION);
    let (model, _) = build_model(&loaded, "gloo-system", &RuleOptions::default()).expect("fuzz values validate");
    Setup { model, loaded }
}

fn setups() -> &'static [Setup; 3] {
    static SETUPS: OnceLock<[Setup; 3]> = OnceLock::new();
    SETUPS.get_or_init(|| [setup(ISTIO_VALUES), setup(SIDECAR_VALUES), setup("{}")])
}

fn apply(input: &[u8], operation: &Operation, setup: &Setup) -> Result<(Vec<u8>, Summary), Failure> {
    let mut spool = Spool::new().expect("a temporary file");
    let summary = run(Cursor::new(input), &mut spool, operation, &setup.model, &setup.loaded)?;
    let mut out = Vec::new();
    spool.copy_to(&mut out).expect("copy the spool");
    Ok((out, summary))
}

fn strict() -> bool {
    static STRICT: OnceLock<bool> = OnceLock::new();
    *STRICT.get_or_init(|| std::env::var("GLOO_ISTIO_FUZZ_STRICT").as_deref() == Ok("1"))
}

fn check_failure(failure: &Failure) {
    for diag in &failure.diagnostics {
        let _ = diag.render_human(false);
        let _ = diag.to_json();
    }
    if strict() {
        assert!(
            failure.kind != FailureKind::Internal && failure.diagnostics.iter().all(|d| d.code != "GI099"),
            "internal error on a stream: {failure}"
        );
    }
}

/// Runs the target on one input; panics when an oracle fails.
pub fn check(data: &[u8]) {
    let Some((&selector, input)) = data.split_first() else {
        return;
    };
    let [istio, sidecar, plain] = setups();
    let namespace = "gloo-system".to_string();
    let upstream = if selector & 0x10 == 0 {
        "bookinfo-reviews-9080"
    } else {
        "default-reviews-9080"
    }
    .to_string();
    let force = selector & 0x20 != 0;
    match selector % 6 {
        0 | 1 => {
            let setup = if selector % 6 == 0 { istio } else { sidecar };
            match apply(input, &Operation::PostRender, setup) {
                Ok((once, _)) => match apply(&once, &Operation::PostRender, setup) {
                    Ok((twice, _)) => assert!(
                        once == twice,
                        "post-render is not idempotent\n--- once:\n{}\n--- twice:\n{}",
                        String::from_utf8_lossy(&once),
                        String::from_utf8_lossy(&twice)
                    ),
                    Err(failure) => panic!(
                        "post-render fails on its own output: {failure}\n--- once:\n{}",
                        String::from_utf8_lossy(&once)
                    ),
                },
                Err(failure) => check_failure(&failure),
            }
        }
        2 => {
            let inject = Operation::Inject {
                namespace: namespace.clone(),
            };
            match apply(input, &inject, istio) {
                Ok((injected, summary)) => {
                    let warned = summary.messages.iter().any(|d| d.level >= Level::Warning);
                    if summary.changed_documents > 0 && !warned {
                        let uninject = Operation::Uninject {
                            namespace,
                            include_upstreams: false,
                        };
                        match apply(&injected, &uninject, plain) {
                            Ok((back, _)) => assert!(
                                back == input,
                                "uninject(inject(x)) != x\n--- x:\n{}\n--- back:\n{}",
                                String::from_utf8_lossy(input),
                                String::from_utf8_lossy(&back)
                            ),
                            Err(failure) => panic!(
                                "uninject fails on inject's output: {failure}\n--- injected:\n{}",
                                String::from_utf8_lossy(&injected)
                            ),
                        }
                    }
                }
                Err(failure) => check_failure(&failure),
            }
        }
        3 => {
            let operation = Operation::Uninject {
                namespace,
                include_upstreams: force,
            };
            if let Err(failure) = apply(input, &operation, plain) {
                check_failure(&failure);
            }
        }
        4 => {
            let operation = Operation::EnableMtls {
                upstream,
                namespace,
                force,
            };
            if let Err(failure) = apply(input, &operation, plain) {
                check_failure(&failure);
            }
        }
        _ => {
            let operation = Operation::DisableMtls {
                upstream,
                namespace,
                force,
            };
            if let Err(failure) = apply(input, &operation, plain) {
                check_failure(&failure);
            }
        }
    }
}
