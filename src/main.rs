use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    gloo_istio::cli::run(gloo_istio::cli::Cli::parse())
}
