//! Plugin text made safe to show: every string a plugin hands the host that a person may read (log
//! lines, stdout and stderr, returned errors, trap backtraces, text values, labels, alerts, parameter
//! descriptions) passes through [`clean`] at the boundary, and identifiers (property names, units,
//! entity ids and kinds) through [`check_plain`].
//!
//! [`clean`] caps the length and escapes control characters (C0, DEL, C1: newlines, carriage returns,
//! ANSI escape sequences, terminal-title and clipboard-write sequences), Unicode bidirectional
//! overrides and line separators, so that plugin text can neither forge a host log line nor drive the
//! terminal it reaches, and laying it out costs at most its cap. Cost: one pass over at most `max`
//! bytes of the input (never the whole of an 8 MiB message); no allocation when the text is already
//! clean and within the cap.

use std::borrow::Cow;
use std::fmt::Write;

/// Longest error message (returned by `init`, `parse`, `step`, `draw`, or reported by a trap) kept
/// from a plugin, in bytes; the rest is cut and counted.
pub const MAX_MESSAGE_BYTES: usize = 1024;

/// Whether `c` must not reach a terminal or a log line as it is: control characters (`\n`, `\r`, ESC,
/// DEL, the C1 range), bidirectional embeddings, overrides and isolates (which reorder what a reader
/// sees), and the Unicode line and paragraph separators.
pub fn is_unsafe_char(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{2028}' | '\u{2029}')
}

fn push_escaped(out: &mut String, c: char) {
    match c {
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        c if is_unsafe_char(c) => {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        }
        c => out.push(c),
    }
}

fn escaped_len(c: char) -> usize {
    match c {
        '\n' | '\r' | '\t' => 2,
        // `\u{`, the hex digits, `}`.
        c if is_unsafe_char(c) => 4 + (32 - (c as u32).leading_zeros()).div_ceil(4).max(1) as usize,
        c => c.len_utf8(),
    }
}

/// `text` with unsafe characters escaped (`\n`, `\u{1b}`, ...) and cut to about `max` bytes; a cut
/// text ends with `… [N more bytes]`. Borrowed (no copy) when nothing needs changing.
///
/// ```
/// use sangam_plugins::text::clean;
/// assert_eq!(clean("fine", 64), "fine");
/// assert_eq!(clean("two\nlines \u{1b}[31mred", 64), "two\\nlines \\u{1b}[31mred");
/// assert_eq!(clean(&"x".repeat(100), 10), "xxxxxxxxxx… [90 more bytes]");
/// ```
pub fn clean(text: &str, max: usize) -> Cow<'_, str> {
    if text.len() <= max && !text.chars().any(is_unsafe_char) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len().min(max) + 24);
    let mut consumed = 0;
    for c in text.chars() {
        if out.len() + escaped_len(c) > max {
            break;
        }
        push_escaped(&mut out, c);
        consumed += c.len_utf8();
    }
    if consumed < text.len() {
        let _ = write!(out, "… [{} more bytes]", text.len() - consumed);
    }
    Cow::Owned(out)
}

/// [`clean`], owned.
pub fn cleaned(text: &str, max: usize) -> String {
    clean(text, max).into_owned()
}

/// Whether `text` (an identifier: a property name, unit, entity id or kind) is plain text; `Err`
/// names the first unsafe character and its byte offset.
pub fn check_plain(text: &str) -> Result<(), String> {
    match text.char_indices().find(|&(_, c)| is_unsafe_char(c)) {
        None => Ok(()),
        Some((at, c)) => {
            Err(format!("holds the control character U+{:04X} at byte {at}; only plain text is allowed here", c as u32))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ansi_title_and_clipboard_sequences_and_newlines_are_escaped() {
        // Colour, set-title (OSC 0) and clipboard-write (OSC 52) sequences, and a forged log line.
        let hostile = "\u{1b}[2J\u{1b}]0;pwned\u{7}\u{1b}]52;c;ZWNobyBoaQ==\u{7}\n2026-12-02T00:00:00Z ERROR plugin `good` draw: trapped\r";
        let shown = clean(hostile, 4096);
        assert!(!shown.chars().any(is_unsafe_char), "{shown}");
        assert!(!shown.contains('\u{1b}') && !shown.contains('\n') && !shown.contains('\r'), "{shown}");
        assert!(shown.contains("\\u{1b}]52;c;") && shown.contains("\\n2026-12-02"), "{shown}");
    }

    #[test]
    fn c1_controls_bidi_overrides_and_separators_are_escaped() {
        let shown = clean("a\u{9b}31m b\u{202e}cba\u{2066} c\u{2028}d\u{7f}", 4096);
        assert_eq!(shown, "a\\u{9b}31m b\\u{202e}cba\\u{2066} c\\u{2028}d\\u{7f}");
    }

    #[test]
    fn long_text_is_cut_at_a_char_boundary_within_the_cap_and_counted() {
        let text = "é".repeat(1_000_000); // 2 MB
        let shown = clean(&text, 101);
        let (kept, note) = shown.split_once('…').unwrap();
        assert_eq!(kept.len(), 100, "50 two-byte characters fit in 101 bytes");
        assert_eq!(note, " [1999900 more bytes]");
        // Escapes count against the cap as they are written.
        let newlines = "\n".repeat(100);
        let shown = clean(&newlines, 9);
        assert_eq!(shown, "\\n\\n\\n\\n… [96 more bytes]");
    }

    #[test]
    fn clean_text_is_borrowed() {
        assert!(matches!(clean("traffic.flow 42 veh/h", 64), Cow::Borrowed(_)));
    }

    #[test]
    fn plain_identifiers_pass_and_control_characters_are_named() {
        assert!(check_plain("traffic.flow").is_ok());
        assert!(check_plain("Durchfluss µ/h").is_ok());
        let why = check_plain("load\u{1b}[8m").unwrap_err();
        assert!(why.contains("U+001B at byte 4"), "{why}");
    }
}
