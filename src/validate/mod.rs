//! Validation: the values against their schema, then rules that need the whole model.

pub mod lint;
pub mod rules;
pub mod schema;
