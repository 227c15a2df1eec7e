//! Source locations and wording for errors in the TOML files a user writes (scenes, plugin manifests).
//!
//! Every such error names `file:line:column` and says how to fix it; this module holds the parts that do
//! not depend on which file format it is.

/// The 1-based line and column (in characters) of a byte offset in `text`.
///
/// An offset past the end is clamped to the end; one inside a multi-byte character rounds down to
/// that character's start.
pub fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

/// A TOML parse or schema error restated for the person who wrote the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TomlDiagnostic {
    /// 1-based line of the offending key or value (1 when the parser gave no location).
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// The message in the file's own terms ("key", not serde's "field"), ending in how to fix it.
    pub message: String,
}

/// Restates a `toml` error on `text`: its location as line and column, serde's "field" wording as
/// "key", and a fix for the common cases (unknown, missing or mistyped keys). `format_doc` names the
/// document that lists the allowed keys, e.g. `docs/scene-format.md`.
pub fn toml_diagnostic(text: &str, error: &toml::de::Error, format_doc: &str) -> TomlDiagnostic {
    let (line, column) = error.span().map_or((1, 1), |span| line_column(text, span.start));
    let message = error.message().trim_end();
    let hint = if message.starts_with("unknown field") {
        format!("; remove the key or fix its spelling (keys are case-sensitive; see {format_doc})")
    } else if message.starts_with("missing field") {
        format!("; add this required key (see {format_doc})")
    } else if message.starts_with("invalid type") || message.starts_with("invalid length") {
        "; change the value to the expected type".to_string()
    } else {
        String::new()
    };
    let message =
        message.replacen("missing field", "missing required key", 1).replacen("unknown field", "unknown key", 1);
    TomlDiagnostic { line, column, message: format!("{message}{hint}") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Probe {
        name: String,
        size: u32,
    }

    #[test]
    fn line_column_counts_characters() {
        let t = "ab\nçé\n";
        assert_eq!(line_column(t, 0), (1, 1));
        assert_eq!(line_column(t, 3), (2, 1));
        assert_eq!(line_column(t, 7), (2, 3)); // after "çé" (4 bytes)
        assert_eq!(line_column(t, 5), (2, 2)); // inside "é" rounds down to its start
        assert_eq!(line_column(t, 999), (3, 1));
    }

    #[test]
    fn unknown_key_is_located_and_named_with_the_fix() {
        let text = "name = \"a\"\nsize = 3\nsizee = 4\n";
        let e = toml::from_str::<Probe>(text).unwrap_err();
        let d = toml_diagnostic(text, &e, "docs/x.md");
        assert_eq!((d.line, d.column), (3, 1));
        assert!(d.message.starts_with("unknown key `sizee`"), "{}", d.message);
        assert!(d.message.contains("fix its spelling") && d.message.contains("docs/x.md"), "{}", d.message);
    }

    #[test]
    fn missing_and_mistyped_keys_say_what_to_do() {
        let e = toml::from_str::<Probe>("name = \"a\"\n").unwrap_err();
        let d = toml_diagnostic("name = \"a\"\n", &e, "docs/x.md");
        assert!(d.message.starts_with("missing required key `size`"), "{}", d.message);
        assert!(d.message.contains("add this required key (see docs/x.md)"), "{}", d.message);

        let text = "name = \"a\"\nsize = \"big\"\n";
        let e = toml::from_str::<Probe>(text).unwrap_err();
        let d = toml_diagnostic(text, &e, "docs/x.md");
        assert_eq!(d.line, 2);
        assert!(d.message.contains("invalid type") && d.message.ends_with("change the value to the expected type"));
    }
}
