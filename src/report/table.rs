//! A plain table of strings and its text, CSV and Markdown renderings.

use std::io::{self, Write};

use comfy_table::{ColumnConstraint, ContentArrangement, presets};

use crate::model::text;

/// Box drawing for terminals, plain ASCII for logs and files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableStyle {
    Terminal,
    Plain,
}

/// Rows of cells under a header.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Table {
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new<S: Into<String>>(headers: impl IntoIterator<Item = S>) -> Self {
        Table { headers: headers.into_iter().map(Into::into).collect(), rows: Vec::new() }
    }

    /// A two-column table of labels and values, printed without a header row.
    pub fn key_value() -> Self {
        Table::default()
    }

    pub fn push<S: Into<String>>(&mut self, row: impl IntoIterator<Item = S>) {
        self.rows.push(row.into_iter().map(Into::into).collect());
    }

    /// Renders aligned columns.
    pub fn write_text(&self, out: &mut dyn Write, style: TableStyle) -> io::Result<()> {
        self.write_text_width(out, style, None)
    }

    /// Whether every cell of column `i` is an id (a GUID or an ARM id: no spaces): such a column is never wrapped
    /// mid-string; the free-text columns give way instead.
    fn is_id_column(&self, i: usize) -> bool {
        let mut cells = self.rows.iter().filter_map(|r| r.get(i)).filter(|c| !c.is_empty()).peekable();
        cells.peek().is_some()
            && cells.all(|c| !c.contains(char::is_whitespace) && (c.starts_with('/') || crate::model::Guid::is_guid(c)))
    }

    /// [`Table::write_text`] at a given terminal width (`None`: the terminal's own).
    pub fn write_text_width(&self, out: &mut dyn Write, style: TableStyle, width: Option<u16>) -> io::Result<()> {
        let mut t = comfy_table::Table::new();
        if let Some(w) = width {
            t.set_width(w);
        }
        match style {
            TableStyle::Terminal => t.load_style(presets::UTF8_FULL_CONDENSED),
            TableStyle::Plain => t.load_style(presets::ASCII_MARKDOWN),
        };
        t.set_content_arrangement(match style {
            TableStyle::Terminal => ContentArrangement::Dynamic,
            TableStyle::Plain => ContentArrangement::Disabled,
        });
        // Text from the tenant: control characters shown as escapes, long cells cut (comfy-table lays out every
        // character, so a megabyte-long name would take minutes).
        let cells = |row: &[String]| row.iter().map(|c| text::cell(c).into_owned()).collect::<Vec<_>>();
        if !self.headers.is_empty() {
            t.set_header(cells(&self.headers));
        }
        for row in &self.rows {
            t.add_row(cells(row));
        }
        if style == TableStyle::Terminal {
            let columns = self.headers.len().max(self.rows.first().map_or(0, Vec::len));
            for i in (0..columns).filter(|i| self.is_id_column(*i)) {
                if let Some(c) = t.column_mut(i) {
                    c.set_constraint(ColumnConstraint::ContentWidth);
                }
            }
        }
        writeln!(out, "{t}")
    }

    /// Renders RFC 4180 CSV. Cells that a spreadsheet would run as a formula are prefixed with `'`.
    pub fn write_csv(&self, out: &mut dyn Write) -> io::Result<()> {
        let mut csv = CsvOut::new(out);
        csv.row(&self.headers)?;
        for row in &self.rows {
            csv.row(row)?;
        }
        csv.finish()
    }

    /// Renders a GitHub-flavoured Markdown table.
    pub fn write_markdown(&self, out: &mut dyn Write) -> io::Result<()> {
        let cell = |s: &str| text::cell(s).replace('|', "\\|");
        writeln!(out, "| {} |", self.headers.iter().map(|h| cell(h)).collect::<Vec<_>>().join(" | "))?;
        writeln!(out, "|{}", "---|".repeat(self.headers.len()))?;
        for row in &self.rows {
            writeln!(out, "| {} |", row.iter().map(|c| cell(c)).collect::<Vec<_>>().join(" | "))?;
        }
        Ok(())
    }
}

/// RFC 4180 CSV written through the `csv` crate, formula-guarded: cells a spreadsheet would run as a formula are
/// prefixed with `'`. Rows can be streamed one at a time; call [`CsvOut::finish`] at the end.
pub struct CsvOut<W: Write> {
    inner: csv::Writer<W>,
}

impl<W: Write> CsvOut<W> {
    pub fn new(out: W) -> Self {
        CsvOut { inner: csv::WriterBuilder::new().terminator(csv::Terminator::CRLF).flexible(true).from_writer(out) }
    }

    pub fn row<S: AsRef<str>>(&mut self, cells: &[S]) -> io::Result<()> {
        self.inner.write_record(cells.iter().map(|c| text::formula_guarded(c.as_ref()).into_owned())).map_err(csv_io)
    }

    /// Flushes what is buffered.
    pub fn finish(mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

fn csv_io(e: csv::Error) -> io::Error {
    match e.into_kind() {
        csv::ErrorKind::Io(e) => e,
        other => io::Error::other(format!("{other:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_columns_never_wrap_on_a_narrow_terminal() {
        let mut t = Table::new(["what", "id"]);
        let id = "/subscriptions/50000000-0000-4000-8000-000000000002/resourcegroups/rg-platform";
        t.push(["a long free-text description of the access that may well wrap over lines", id]);
        t.push(["short", "20000000-0000-4000-8000-000000000007"]);
        let mut out = Vec::new();
        t.write_text_width(&mut out, TableStyle::Terminal, Some(100)).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains(id), "the ARM id is on one line:\n{text}");
        assert!(text.contains("20000000-0000-4000-8000-000000000007"), "{text}");
        assert!(
            !text.contains("a long free-text description of the access that may well wrap over lines"),
            "the text wraps instead:\n{text}"
        );
    }

    fn sample() -> Table {
        let mut t = Table::new(["name", "note"]);
        t.push(["a,b", "say \"hi\""]);
        t.push(["=cmd()", "x|y"]);
        t
    }

    #[test]
    fn csv_quotes_and_guards_formulas() {
        let mut out = Vec::new();
        sample().write_csv(&mut out).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "name,note\r\n\"a,b\",\"say \"\"hi\"\"\"\r\n'=cmd(),x|y\r\n");
    }

    #[test]
    fn markdown_escapes_pipes() {
        let mut out = Vec::new();
        sample().write_markdown(&mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("| =cmd() | x\\|y |"), "{text}");
        assert_eq!(text.lines().nth(1), Some("|---|---|"));
    }

    #[test]
    fn plain_text_has_every_cell() {
        let mut out = Vec::new();
        sample().write_text(&mut out, TableStyle::Plain).unwrap();
        let text = String::from_utf8(out).unwrap();
        for cell in ["name", "a,b", "say \"hi\"", "=cmd()"] {
            assert!(text.contains(cell), "{cell} missing from {text}");
        }
    }
}
