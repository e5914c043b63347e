use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    // A bug must reach the user as a diagnostic with exit code 2, never as a raw panic message.
    std::panic::set_hook(Box::new(gloo_istio::cli::report_panic));
    match std::panic::catch_unwind(|| gloo_istio::cli::run(gloo_istio::cli::Cli::parse())) {
        Ok(code) => code,
        Err(_) => ExitCode::from(2),
    }
}
