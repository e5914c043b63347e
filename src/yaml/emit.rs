//! YAML-safe output. STUB: the API below is the contract; the implementation is being written.

/// A double-quoted YAML scalar holding exactly `s`, on one line.
pub fn quote(_s: &str) -> String {
    todo!("yaml emitter")
}

/// `value` written as the YAML that follows a `key:` on the same line: ` "text"`, ` 42`,
/// ` true`, ` null`, ` {}`, ` []`, or a newline and a block map or sequence whose lines are
/// indented by `indent` spaces.
pub fn nested(_value: &serde_json::Value, _indent: usize) -> String {
    todo!("yaml emitter")
}

/// A whole document (a block map at column 0) ending with a newline.
pub fn document(_value: &serde_json::Value) -> String {
    todo!("yaml emitter")
}
