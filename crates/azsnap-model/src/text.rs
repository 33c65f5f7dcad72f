//! Text from the tenant made safe for where it is shown: spreadsheets (formula guard), terminals and Markdown
//! (control characters neutralised, cells cut to a readable length). JSON and CSV keep values whole, escaped by
//! their own format.

use std::borrow::Cow;

/// The characters a spreadsheet treats as the start of a formula (or that hide one).
const FORMULA_START: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// `cell` with a leading `'` when a spreadsheet would run it as a formula (`=cmd|' /C calc'!A0`).
pub fn formula_guarded(cell: &str) -> Cow<'_, str> {
    if cell.starts_with(FORMULA_START) { Cow::Owned(format!("'{cell}")) } else { Cow::Borrowed(cell) }
}

/// [`formula_guarded`] undone: the `'` taken off a guarded cell read back from a sheet.
pub fn formula_unguarded(cell: String) -> String {
    match cell.strip_prefix('\'') {
        Some(rest) if rest.starts_with(FORMULA_START) => rest.to_owned(),
        _ => cell,
    }
}

/// `s` with control characters (ESC, CR, LF, BEL, DEL, C1 controls, …) shown as escapes (`\u{1b}`, `\n`), so text
/// from the tenant cannot move the cursor, recolour a terminal or start a fake table row.
pub fn printable(s: &str) -> Cow<'_, str> {
    if !s.chars().any(char::is_control) {
        return Cow::Borrowed(s);
    }
    Cow::Owned(s.chars().map(|c| if c.is_control() { c.escape_default().to_string() } else { c.to_string() }).collect())
}

/// The most characters of one cell shown in a table for people.
pub const MAX_CELL_CHARS: usize = 200;

/// [`printable`] text cut to [`MAX_CELL_CHARS`] characters, with `…` and the number left out.
pub fn cell(s: &str) -> Cow<'_, str> {
    let count = s.chars().count();
    if count <= MAX_CELL_CHARS {
        return printable(s);
    }
    let head: String = s.chars().take(MAX_CELL_CHARS).collect();
    Cow::Owned(format!("{}… ({} more characters)", printable(&head), count - MAX_CELL_CHARS))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_guarded_and_unguarded() {
        for f in ["=cmd|' /C calc'!A0", "+1", "-1", "@SUM(A1)", "\tx", "\rx"] {
            assert_eq!(formula_guarded(f), format!("'{f}"));
            assert_eq!(formula_unguarded(formula_guarded(f).into_owned()), f);
        }
        assert_eq!(formula_guarded("Alice"), "Alice");
        assert_eq!(formula_unguarded("'quoted".to_owned()), "'quoted");
    }

    #[test]
    fn control_characters_are_shown_not_obeyed() {
        assert_eq!(printable("Alice"), "Alice");
        assert_eq!(printable("a\u{1b}[31mred\r\nfake | row"), "a\\u{1b}[31mred\\r\\nfake | row");
        assert_eq!(printable("\u{9b}2J"), "\\u{9b}2J");
        let long = "x".repeat(50_000);
        let c = cell(&long);
        assert!(c.chars().count() < MAX_CELL_CHARS + 40 && c.ends_with("(49800 more characters)"), "{c}");
    }
}
