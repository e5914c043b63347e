//! Image references: the values' `image` type, and the reference the chart composes from it (Istio
//! spec §1.5).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// An image reference, composed as `registry/repository:tag@digest`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct Image {
    /// The image tag.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    /// The image repository (name).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repository: Option<String>,
    /// Digest used with the standard variant.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    /// Digest used with the fips variant.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fips_digest: Option<String>,
    /// Digest used with the distroless variant.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub distroless_digest: Option<String>,
    /// Digest used with the fips-distroless variant.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fips_distroless_digest: Option<String>,
    /// Registry prefix, such as `quay.io/solo-io`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registry: Option<String>,
    /// `imagePullPolicy` of the container.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pull_policy: Option<PullPolicy>,
    /// Name of the one image pull secret of the pod.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pull_secret: Option<String>,
    /// Image variant; the chart reads an empty string as unset.
    #[serde(
        default,
        deserialize_with = "empty_variant_is_unset",
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(schema_with = "image_variant_schema")]
    pub variant: Option<ImageVariant>,
    /// Deprecated: use `variant: fips`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fips: Option<bool>,
    /// Never append a digest.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disable_digest: Option<bool>,
}

/// `variant: ""` is unset, as in the chart's templates (and a proxy's empty variant falls back to
/// `global.image.variant`, as the chart's image merge does).
fn empty_variant_is_unset<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<ImageVariant>, D::Error> {
    match Option::<String>::deserialize(deserializer)? {
        None => Ok(None),
        Some(text) if text.is_empty() => Ok(None),
        Some(text) => ImageVariant::deserialize(serde::de::value::StringDeserializer::<D::Error>::new(text)).map(Some),
    }
}

fn image_variant_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "type": ["string", "null"],
        "enum": ["standard", "fips", "distroless", "fips-distroless", "", null],
    })
}

/// Kubernetes image pull policies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum PullPolicy {
    Always,
    IfNotPresent,
    Never,
}

impl PullPolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            PullPolicy::Always => "Always",
            PullPolicy::IfNotPresent => "IfNotPresent",
            PullPolicy::Never => "Never",
        }
    }
}

/// Image variants of the Gloo images.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ImageVariant {
    Standard,
    Fips,
    Distroless,
    FipsDistroless,
}

/// Repositories that get a `-fips` suffix for the fips variants.
pub const FIPS_REPOSITORIES: [&str; 7] = [
    "gloo-ee",
    "extauth-ee",
    "gloo-ee-envoy-wrapper",
    "rate-limit-ee",
    "discovery-ee",
    "sds-ee",
    "certgen",
];

/// Repositories that get a `-distroless` tag suffix for the distroless variants.
pub const DISTROLESS_REPOSITORIES: [&str; 16] = [
    "gloo",
    "gloo-envoy-wrapper",
    "discovery",
    "sds",
    "certgen",
    "kubectl",
    "access-logger",
    "ingress",
    "gloo-ee",
    "extauth-ee",
    "gloo-ee-envoy-wrapper",
    "rate-limit-ee",
    "discovery-ee",
    "sds-ee",
    "observability-ee",
    "caching-ee",
];

fn filled(own: &Option<String>, global: &Option<String>) -> Option<String> {
    own.clone()
        .filter(|s| !s.is_empty())
        .or_else(|| global.clone().filter(|s| !s.is_empty()))
}

fn filled_flag(own: Option<bool>, global: Option<bool>) -> Option<bool> {
    if own == Some(true) { own } else { global.or(own) }
}

/// `own` merged over `global` as sprig's `merge` does: empty fields of `own` are filled.
pub fn merged(own: &Image, global: &Image) -> Image {
    Image {
        tag: filled(&own.tag, &global.tag),
        repository: filled(&own.repository, &global.repository),
        digest: filled(&own.digest, &global.digest),
        fips_digest: filled(&own.fips_digest, &global.fips_digest),
        distroless_digest: filled(&own.distroless_digest, &global.distroless_digest),
        fips_distroless_digest: filled(&own.fips_distroless_digest, &global.fips_distroless_digest),
        registry: filled(&own.registry, &global.registry),
        pull_policy: own.pull_policy.or(global.pull_policy),
        pull_secret: filled(&own.pull_secret, &global.pull_secret),
        variant: own.variant.or(global.variant),
        fips: filled_flag(own.fips, global.fips),
        disable_digest: filled_flag(own.disable_digest, global.disable_digest),
    }
}

/// `registry/repository[:tag][@digest]` of a merged image.
pub fn reference(image: &Image) -> String {
    let repository = image.repository.clone().unwrap_or_default();
    let fips =
        image.fips == Some(true) || matches!(image.variant, Some(ImageVariant::Fips | ImageVariant::FipsDistroless));
    let distroless = matches!(
        image.variant,
        Some(ImageVariant::Distroless | ImageVariant::FipsDistroless)
    );
    let mut name = repository.clone();
    if fips && FIPS_REPOSITORIES.contains(&repository.as_str()) {
        name.push_str("-fips");
    }
    let mut out = match image.registry.as_deref().filter(|r| !r.is_empty()) {
        Some(registry) => format!("{registry}/{name}"),
        None => name,
    };
    if let Some(tag) = image.tag.as_deref().filter(|t| !t.is_empty()) {
        out.push(':');
        out.push_str(tag);
        if distroless && DISTROLESS_REPOSITORIES.contains(&repository.as_str()) {
            out.push_str("-distroless");
        }
    }
    if image.disable_digest != Some(true) {
        let digest = if image.fips == Some(true) || image.variant == Some(ImageVariant::Fips) {
            &image.fips_digest
        } else if image.variant == Some(ImageVariant::Distroless) {
            &image.distroless_digest
        } else if image.variant == Some(ImageVariant::FipsDistroless) {
            &image.fips_distroless_digest
        } else {
            &image.digest
        };
        if let Some(digest) = digest.as_deref().filter(|d| !d.is_empty()) {
            out.push('@');
            out.push_str(digest);
        }
    }
    out
}

/// An image reference given whole, as on `inject --istio-proxy-image`: used as written, except
/// that a bare name (`proxyv2:1.23.1`, no `/`) takes the registry of the image it replaces. A
/// digest stays a digest; no tag is added.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WholeReference(String);

impl WholeReference {
    /// The reference, with `default_registry` in front of a bare name.
    pub fn resolve(&self, default_registry: &str) -> String {
        let name = self.0.split('@').next().unwrap_or_default();
        if name.contains('/') || default_registry.is_empty() {
            self.0.clone()
        } else {
            format!("{}/{}", default_registry.trim_end_matches('/'), self.0)
        }
    }
}

impl std::str::FromStr for WholeReference {
    type Err = String;

    /// Checks the grammar of `[registry[:port]/]path[:tag][@algorithm:digest]`.
    fn from_str(reference: &str) -> Result<Self, String> {
        if reference.is_empty() {
            return Err("an image reference cannot be empty".into());
        }
        if let Some(c) = reference.chars().find(|c| c.is_whitespace() || c.is_control()) {
            return Err(format!("an image reference cannot contain {c:?}"));
        }
        let (named, digest) = match reference.split_once('@') {
            Some((named, digest)) => (named, Some(digest)),
            None => (reference, None),
        };
        if let Some(digest) = digest {
            check_digest(digest)?;
        }
        let (path, tag) = match named.rsplit_once(':') {
            Some((path, tag)) if !tag.contains('/') => (path, Some(tag)),
            _ => (named, None),
        };
        if let Some(tag) = tag {
            let valid = !tag.is_empty()
                && tag.len() <= 128
                && !tag.starts_with(['.', '-'])
                && tag
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
            if !valid {
                return Err(format!(
                    "tag `{tag}`: a tag is 1 to 128 letters, digits, `_`, `.` and `-`, not starting with `.` or `-`"
                ));
            }
        }
        let mut components: Vec<&str> = path.split('/').collect();
        if components.len() > 1 {
            let first = components[0];
            if first.contains(['.', ':']) || first == "localhost" {
                check_registry(first)?;
                components.remove(0);
            }
        }
        for component in components {
            check_path_component(component)?;
        }
        Ok(WholeReference(reference.to_string()))
    }
}

fn check_digest(digest: &str) -> Result<(), String> {
    let Some((algorithm, encoded)) = digest.split_once(':') else {
        return Err(format!(
            "digest `{digest}`: a digest is `algorithm:hex`, such as `sha256:…`"
        ));
    };
    let hex = |len: usize| {
        encoded.len() == len
            && encoded
                .chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
    };
    let valid = match algorithm {
        "sha256" => hex(64),
        "sha384" => hex(96),
        "sha512" => hex(128),
        _ => false,
    };
    if valid {
        Ok(())
    } else {
        Err(format!(
            "digest `{digest}`: a digest is sha256, sha384 or sha512 followed by `:` and 64, 96 or 128 lowercase hex digits"
        ))
    }
}

fn check_registry(host: &str) -> Result<(), String> {
    let (name, port) = match host.split_once(':') {
        Some((name, port)) => (name, Some(port)),
        None => (host, None),
    };
    let name_ok = !name.is_empty()
        && name.split('.').all(|label| {
            !label.is_empty()
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
    let port_ok = port.is_none_or(|p| !p.is_empty() && p.len() <= 5 && p.chars().all(|c| c.is_ascii_digit()));
    if name_ok && port_ok {
        Ok(())
    } else {
        Err(format!("registry `{host}`: not a host name with an optional port"))
    }
}

fn check_path_component(component: &str) -> Result<(), String> {
    let separator = |c: char| matches!(c, '.' | '_' | '-');
    let valid = !component.is_empty()
        && !component.starts_with(separator)
        && !component.ends_with(separator)
        && component
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || separator(c));
    if valid {
        Ok(())
    } else {
        Err(format!(
            "`{component}`: a repository name is lowercase letters, digits and `.`, `_` or `-` between them"
        ))
    }
}

/// The pull policy of a merged image (the chart default is `IfNotPresent`).
pub fn pull_policy(image: &Image) -> &'static str {
    image.pull_policy.unwrap_or(PullPolicy::IfNotPresent).as_str()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_references_keep_their_form() {
        let digest = format!("sha256:{}", "ab".repeat(32));
        for (given, expected) in [
            ("proxyv2:1.23.1", "docker.io/istio/proxyv2:1.23.1".to_string()),
            (
                &*format!("proxyv2@{digest}"),
                format!("docker.io/istio/proxyv2@{digest}"),
            ),
            (
                &*format!("proxyv2:1.23.1@{digest}"),
                format!("docker.io/istio/proxyv2:1.23.1@{digest}"),
            ),
            ("istio/proxyv2:1.23.1", "istio/proxyv2:1.23.1".into()),
            ("localhost:5000/proxyv2", "localhost:5000/proxyv2".into()),
            (
                "reg.example.com/a/b/proxyv2:v1.23.1-distroless",
                "reg.example.com/a/b/proxyv2:v1.23.1-distroless".into(),
            ),
        ] {
            let reference: WholeReference = given.parse().unwrap_or_else(|e| panic!("{given}: {e}"));
            assert_eq!(reference.resolve("docker.io/istio"), expected, "{given}");
        }
    }

    #[test]
    fn malformed_whole_references_are_refused() {
        for given in [
            "",
            "proxy v2",
            "proxyv2:",
            "proxyv2:-x",
            "Proxyv2:1.23",
            "proxyv2@sha256:abc",
            "proxyv2@md5:0123",
            "reg_x.io/proxyv2:1",
            "a//b",
            "proxyv2:1.2\n",
            "proxyv2:1.2\u{2028}",
        ] {
            assert!(given.parse::<WholeReference>().is_err(), "{given:?} was accepted");
        }
    }

    fn img(registry: &str, repository: &str, tag: &str) -> Image {
        Image {
            registry: Some(registry.into()),
            repository: Some(repository.into()),
            tag: Some(tag.into()),
            ..Image::default()
        }
    }

    #[test]
    fn sds_ee_variants() {
        // Istio spec §6 case 9.
        for (variant, expected) in [
            (None, "my-sds-reg/sds-ee:my-sds-tag"),
            (Some(ImageVariant::Standard), "my-sds-reg/sds-ee:my-sds-tag"),
            (Some(ImageVariant::Fips), "my-sds-reg/sds-ee-fips:my-sds-tag"),
            (
                Some(ImageVariant::Distroless),
                "my-sds-reg/sds-ee:my-sds-tag-distroless",
            ),
            (
                Some(ImageVariant::FipsDistroless),
                "my-sds-reg/sds-ee-fips:my-sds-tag-distroless",
            ),
        ] {
            let global = Image {
                variant,
                ..Image::default()
            };
            assert_eq!(
                reference(&merged(&img("my-sds-reg", "sds-ee", "my-sds-tag"), &global)),
                expected
            );
        }
    }

    #[test]
    fn proxyv2_never_gets_variant_suffixes() {
        // Istio spec §6 case 8.
        for variant in [
            ImageVariant::Fips,
            ImageVariant::Distroless,
            ImageVariant::FipsDistroless,
        ] {
            let global = Image {
                variant: Some(variant),
                ..Image::default()
            };
            let mut own = img("my-istio-reg", "my-istio-repo", "");
            own.tag = None;
            assert_eq!(reference(&merged(&own, &global)), "my-istio-reg/my-istio-repo");
            own.tag = Some("tag1".into());
            assert_eq!(reference(&merged(&own, &global)), "my-istio-reg/my-istio-repo:tag1");
        }
        let own = Image {
            digest: Some("digest1".into()),
            ..img("my-istio-reg", "my-istio-repo", "tag1")
        };
        assert_eq!(reference(&own), "my-istio-reg/my-istio-repo:tag1@digest1");
    }

    #[test]
    fn own_pull_policy_wins() {
        let global = Image {
            pull_policy: Some(PullPolicy::IfNotPresent),
            ..Image::default()
        };
        let own = Image {
            pull_policy: Some(PullPolicy::Always),
            ..Image::default()
        };
        assert_eq!(pull_policy(&merged(&own, &global)), "Always");
    }
}
