//! Model and experiment files: serde types, dotted-path overrides and
//! validation into the rich types the simulation is built from.

pub mod dist;
pub mod doc;
pub mod error;
pub mod estimate;
pub mod experiment;
pub mod schema;
pub mod spec;
pub mod units;
pub mod validate;

use std::path::Path;

pub use doc::Document;
pub use error::{ConfigError, Origin};
pub use spec::Model;

/// Parses `text` (from `path`), applies the `--set` overrides, then validates
/// once.
pub fn model_from_str(path: &Path, text: &str, sets: &[String]) -> Result<Model, ConfigError> {
    let mut doc = Document::parse(path, text)?;
    for s in sets {
        doc.set_arg(s)?;
    }
    model_from_doc(&doc)
}

/// Deserializes and validates a document (with its overrides already applied).
pub fn model_from_doc(doc: &Document<'_>) -> Result<Model, ConfigError> {
    let file: schema::ModelFile = doc.deserialize()?;
    validate::validate(doc, file)
}

/// Reads a model file, applies the `--set` overrides and validates it.
pub fn load_model(path: &Path, sets: &[String]) -> Result<Model, ConfigError> {
    let text = doc::read_text(path)?;
    model_from_str(path, &text, sets)
}
