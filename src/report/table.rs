//! A plain table of strings and its text, CSV and Markdown renderings.

use std::io::{self, Write};

use comfy_table::{ContentArrangement, presets};

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
        let mut t = comfy_table::Table::new();
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
        writeln!(out, "{t}")
    }

    /// Renders RFC 4180 CSV. Cells that a spreadsheet would run as a formula are prefixed with `'`.
    pub fn write_csv(&self, out: &mut dyn Write) -> io::Result<()> {
        write_csv_row(out, &self.headers)?;
        for row in &self.rows {
            write_csv_row(out, row)?;
        }
        Ok(())
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

/// Writes one RFC 4180 CSV row, formula-guarded like [`Table::write_csv`], for output streamed row by row.
pub fn write_csv_row(out: &mut dyn Write, cells: &[String]) -> io::Result<()> {
    let line: Vec<String> = cells.iter().map(|c| csv_cell(c)).collect();
    write!(out, "{}\r\n", line.join(","))
}

fn csv_cell(c: &str) -> String {
    let c = crate::model::text::formula_guarded(c);
    if c.contains([',', '"', '\n', '\r']) { format!("\"{}\"", c.replace('"', "\"\"")) } else { c.into_owned() }
}

#[cfg(test)]
mod tests {
    use super::*;

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
