//! What each code means, read from `docs/diagnostics.md` (embedded when the binary is built):
//! the one description of every code. `--format sarif` takes its rule metadata from here.

/// The diagnostics reference, one `## GInnn title` section per code.
const REFERENCE: &str = include_str!("../../docs/diagnostics.md");

/// One code's entry in `docs/diagnostics.md`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// `GI018`.
    pub code: &'static str,
    /// The section's title after the code (`conflicting flags`).
    pub title: &'static str,
    /// The first paragraph, on one line (Markdown).
    pub summary: String,
    /// The whole section below the heading (Markdown).
    pub body: &'static str,
}

/// Every documented code, in the order of `docs/diagnostics.md`.
pub fn rules() -> Vec<Rule> {
    let mut out = Vec::new();
    let mut rest = REFERENCE;
    while let Some(start) = find_heading(rest) {
        let after = &rest[start + 3..];
        let heading_end = after.find('\n').unwrap_or(after.len());
        let heading = &after[..heading_end];
        let body_start = (heading_end + 1).min(after.len());
        let body_len = find_heading(&after[body_start..]).unwrap_or(after.len() - body_start);
        let body = after[body_start..body_start + body_len].trim();
        if let Some((code, title)) = heading.split_once(' ')
            && code.len() == 5
            && code.starts_with("GI")
            && code[2..].bytes().all(|b| b.is_ascii_digit())
        {
            let summary = body
                .split("\n\n")
                .next()
                .unwrap_or_default()
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ");
            out.push(Rule {
                code,
                title: title.trim(),
                summary,
                body,
            });
        }
        rest = &after[body_start..];
    }
    out
}

/// The offset of the next `## ` heading at the start of a line.
fn find_heading(text: &str) -> Option<usize> {
    if text.starts_with("## ") {
        return Some(0);
    }
    text.find("\n## ").map(|i| i + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_section_becomes_a_rule_with_its_first_paragraph() {
        let rules = rules();
        let gi018 = rules.iter().find(|r| r.code == "GI018").expect("GI018 is documented");
        assert_eq!(gi018.title, "conflicting flags");
        assert!(!gi018.summary.is_empty() && !gi018.summary.contains('\n'));
        assert!(gi018.body.contains("Bad:"), "{}", gi018.body);
        assert!(!gi018.body.contains("## GI019"), "{}", gi018.body);
        let last = rules.last().expect("rules");
        assert!(!last.body.contains("## "), "{}", last.body);
    }
}
