use std::process::ExitCode;

use clap::Parser;

/// Size classes on a bump arena, in front of the system allocator (see `gloo_istio::alloc`).
#[global_allocator]
static ALLOCATOR: gloo_istio::alloc::ExecutableArena = gloo_istio::alloc::ExecutableArena::new();

fn main() -> ExitCode {
    // A bug must reach the user as a diagnostic with exit code 2, never as a raw panic message.
    std::panic::set_hook(Box::new(gloo_istio::cli::report_panic));
    match std::panic::catch_unwind(|| gloo_istio::cli::run(gloo_istio::cli::Cli::parse())) {
        Ok(code) => code,
        Err(_) => ExitCode::from(2),
    }
}
