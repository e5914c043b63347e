//! Rules that need the whole model: settings the chart renders into broken, unsafe or inert
//! manifests without a word (Istio spec §7, gateway-proxy-keys spec §7–8). One file per family;
//! every rule names its code. Errors stop `render`; warnings and infos are reported by both
//! `render` and `lint`.

mod addresses;
mod bootstrap;
mod flags;
mod images;
pub mod kube_gateway;
mod labels;
mod proxies;
mod security;
mod sidecars;
mod upstreams;

use crate::diag::{Diagnostic, Location};
use crate::values::layers::{LoadedValues, dotted_path};
use crate::values::proxy::DEFAULT_PROXY;
use crate::values::{Model, Proxy};

pub use labels::is_label_value;

/// An Istio release as `major.minor`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct IstioVersion {
    pub major: u32,
    pub minor: u32,
}

impl std::str::FromStr for IstioVersion {
    type Err = String;

    /// `1.22`, `1.22.3` or `v1.22.3`.
    fn from_str(text: &str) -> Result<Self, String> {
        let mut parts = text.trim_start_matches('v').split('.');
        let number = |p: Option<&str>| p.and_then(|p| p.parse::<u32>().ok());
        match (number(parts.next()), number(parts.next())) {
            (Some(major), Some(minor)) => Ok(IstioVersion { major, minor }),
            _ => Err(format!("`{text}` is not an Istio version such as 1.22")),
        }
    }
}

impl std::fmt::Display for IstioVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// What the rules may know beyond the values.
#[derive(Debug, Clone, Default)]
pub struct RuleOptions {
    /// The Istio version of the cluster's istiod, when the user declares it.
    pub istio_version: Option<IstioVersion>,
    /// How the schema check treats unknown keys (`--allow-unknown`, and `lint`'s strictness).
    pub keys: super::schema::KeyPolicy,
    /// Check the values against the schema only, without the rules: what a values file can be
    /// wrong on by itself (`lint` of a file that belongs to a declared release, whose rules run
    /// on the release merged).
    pub schema_only: bool,
}

/// What every rule works with, and where its findings go.
pub struct Ctx<'a> {
    pub model: &'a Model,
    pub loaded: &'a LoadedValues,
    pub options: &'a RuleOptions,
    pub out: Vec<Diagnostic>,
}

impl Ctx<'_> {
    /// Where the value at `pointer` was written.
    pub fn at(&self, pointer: &str) -> Option<Location> {
        self.loaded.locate(pointer)
    }

    /// Where the key at `pointer` was written.
    pub fn at_key(&self, pointer: &str) -> Option<Location> {
        self.loaded.locate_key(pointer)
    }

    /// Where a key of a proxy's effective values was written: on the proxy itself, on
    /// `gatewayProxy` it inherits from, or (failing both) the proxy's key.
    pub fn proxy_at(&self, proxy: &Proxy, field_pointer: &str) -> Option<Location> {
        self.loaded
            .locate_exact(&format!("{}{field_pointer}", proxy.pointer))
            .or_else(|| {
                self.loaded
                    .locate_exact(&format!("/gatewayProxies/{DEFAULT_PROXY}{field_pointer}"))
            })
            .or_else(|| self.loaded.locate_key(&proxy.pointer))
    }

    /// The dotted path of a proxy field.
    pub fn proxy_path(&self, proxy: &Proxy, field_pointer: &str) -> String {
        dotted_path(&format!("{}{field_pointer}", proxy.pointer))
    }

    /// Whether a user layer set `pointer` (rather than the chart defaults).
    pub fn user_set(&self, pointer: &str) -> bool {
        self.loaded.locate_exact(pointer).is_some()
    }

    pub fn push(&mut self, diagnostic: Diagnostic) {
        self.out.push(diagnostic);
    }
}

/// Runs every rule.
pub fn check(model: &Model, loaded: &LoadedValues, options: &RuleOptions) -> Vec<Diagnostic> {
    let mut ctx = Ctx {
        model,
        loaded,
        options,
        out: Vec::new(),
    };
    proxies::check(&mut ctx);
    flags::check(&mut ctx);
    sidecars::check(&mut ctx);
    addresses::check(&mut ctx);
    labels::check(&mut ctx);
    bootstrap::check(&mut ctx);
    images::check(&mut ctx);
    upstreams::check(&mut ctx);
    security::check(&mut ctx);
    kube_gateway::check(&mut ctx);
    ctx.out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn istio_versions() {
        assert_eq!(
            "1.22".parse::<IstioVersion>().unwrap(),
            IstioVersion { major: 1, minor: 22 }
        );
        assert_eq!(
            "v1.9.8".parse::<IstioVersion>().unwrap(),
            IstioVersion { major: 1, minor: 9 }
        );
        assert!("latest".parse::<IstioVersion>().is_err());
    }
}
