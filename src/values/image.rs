//! Image references as the chart composes them (Istio spec §1.5).

use crate::values::{Image, ImageVariant, PullPolicy};

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

/// The pull policy of a merged image (the chart default is `IfNotPresent`).
pub fn pull_policy(image: &Image) -> &'static str {
    image.pull_policy.unwrap_or(PullPolicy::IfNotPresent).as_str()
}

#[cfg(test)]
mod tests {
    use super::*;

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
