//! The manifest-stream splitters on arbitrary text: `yaml::stream::split_stream` (analyze) and
//! `postrender::DocumentReader` (post-render and the glooctl-style commands) must cut the same
//! documents, give the input back byte for byte when concatenated, and agree on the offsets and
//! first lines of every document. Each document is then loaded on its own (spans shifted to
//! stream positions), which must not panic, and must not hold two YAML documents (a boundary
//! the splitter missed).

use std::io::Cursor;

use gloo_istio::postrender::DocumentReader;
use gloo_istio::yaml::stream::split_stream;
use gloo_istio::yaml::{Limits, LoadErrorKind};

/// Runs the target on one input; panics when an oracle fails.
pub fn check(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        // The reader rejects invalid UTF-8 with a located error; it must not panic.
        let mut reader = DocumentReader::new(Cursor::new(data));
        while let Ok(Some(_)) = reader.next_document() {}
        return;
    };
    let docs = split_stream(text);
    let (mut offset, mut line) = (0usize, 1usize);
    for doc in &docs {
        assert_eq!(doc.offset, offset, "offset of a document");
        assert_eq!(doc.line, line, "first line of a document");
        assert_eq!(&text[doc.offset..doc.offset + doc.text.len()], doc.text);
        offset += doc.text.len();
        // YAML 1.2 line breaks: `\n`, `\r\n` and a lone `\r`.
        line += doc.text.matches('\n').count() + doc.text.matches('\r').count() - doc.text.matches("\r\n").count();
        let _ = doc.has_content();
        let loaded = doc.load(Limits::default());
        // A piece of the splitter is at most one YAML document: two means a missed boundary.
        if let Err(err) = &loaded {
            assert!(
                err.kind != LoadErrorKind::MultipleDocuments,
                "the splitter left two documents in one piece: {:?}\n{}",
                err.message,
                doc.text
            );
        }
        if let Ok(Some(node)) = loaded {
            let mut spans = std::collections::BTreeMap::new();
            node.index_spans(&mut spans);
            for (key, value) in spans.values() {
                for span in key.iter().chain(Some(value)) {
                    assert!(span.start.offset <= span.end.offset && span.end.offset <= text.len());
                    assert!(
                        text.is_char_boundary(span.start.offset),
                        "span start inside a character"
                    );
                }
            }
        }
    }
    assert_eq!(offset, text.len(), "the documents do not give the input back");

    let mut reader = DocumentReader::new(Cursor::new(data));
    let mut streamed = Vec::new();
    while let Some(doc) = reader.next_document().expect("UTF-8 input reads") {
        streamed.push((doc.text, doc.line));
    }
    let split: Vec<(String, usize)> = docs.iter().map(|d| (d.text.to_string(), d.line)).collect();
    assert_eq!(streamed, split, "split_stream and DocumentReader disagree");
}
