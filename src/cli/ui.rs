//! The output handle commands print through: standard output, whether it is a terminal, and `--quiet`.

use std::io::{self, IsTerminal, Write};

use crate::report::{Format, Table, TableStyle, write_json};

/// The progress display on screen, if any: cleared by the interrupt handler before it prints its line.
static SHOWN: std::sync::Mutex<Option<indicatif::MultiProgress>> = std::sync::Mutex::new(None);

/// Clears the progress display, if one is on screen, for good.
pub(super) fn clear_progress() {
    if let Ok(Some(m)) = SHOWN.lock().as_deref() {
        let _ = m.clear();
        // And nothing drawn after it, before the process exits.
        m.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
}

/// Where a command's results go. Commands never print any other way.
pub struct Ui {
    out: Box<dyn Write>,
    err: Box<dyn Write>,
    stdout_is_terminal: bool,
    stderr_is_terminal: bool,
    pub quiet: bool,
    /// The progress display while one is shown; notes print above it.
    bars: Option<indicatif::MultiProgress>,
}

impl Ui {
    /// The process's standard output and error.
    pub fn stdio(quiet: bool) -> Self {
        Ui {
            out: Box::new(io::stdout().lock()),
            err: Box::new(io::stderr()),
            stdout_is_terminal: io::stdout().is_terminal(),
            stderr_is_terminal: io::stderr().is_terminal(),
            quiet,
            bars: None,
        }
    }

    /// Results: tables, JSON, reports.
    pub fn out(&mut self) -> &mut dyn Write {
        &mut *self.out
    }

    /// Diagnostics: warnings, progress, summaries. Silent under `--quiet`.
    pub fn note(&mut self, line: &str) {
        if !self.quiet {
            let line = crate::model::text::printable(line);
            match &self.bars {
                Some(bars) => bars.suspend(|| writeln!(self.err, "{line}")).unwrap_or(()),
                None => writeln!(self.err, "{line}").unwrap_or(()),
            }
        }
    }

    /// Progress is drawn only for a person watching a terminal.
    pub fn wants_progress(&self) -> bool {
        self.stderr_is_terminal && !self.quiet
    }

    /// A progress display on standard error, when one is wanted ([`Ui::wants_progress`]); notes print above it
    /// until [`Ui::end_progress`].
    pub fn progress(&mut self) -> Option<indicatif::MultiProgress> {
        if !self.wants_progress() {
            return None;
        }
        let bars = indicatif::MultiProgress::with_draw_target(indicatif::ProgressDrawTarget::stderr());
        if let Ok(mut shown) = SHOWN.lock() {
            *shown = Some(bars.clone());
        }
        self.bars = Some(bars.clone());
        Some(bars)
    }

    /// Takes the progress display off the screen.
    pub fn end_progress(&mut self) {
        if let Some(bars) = self.bars.take() {
            let _ = bars.clear();
        }
        if let Ok(mut shown) = SHOWN.lock() {
            *shown = None;
        }
    }

    /// Box-drawn tables on a terminal, plain ASCII elsewhere.
    pub fn table_style(&self) -> TableStyle {
        if self.stdout_is_terminal { TableStyle::Terminal } else { TableStyle::Plain }
    }

    /// Prints a list result: `table` as text, CSV or Markdown, or `json` as one JSON document.
    pub fn print(&mut self, format: Format, table: &Table, json: &impl serde::Serialize) -> io::Result<()> {
        match format {
            Format::Json => write_json(self.out(), json),
            Format::Csv => table.write_csv(self.out()),
            Format::Markdown => table.write_markdown(self.out()),
            Format::Table => {
                let style = self.table_style();
                table.write_text(self.out(), style)
            }
        }
    }

    /// Asks a yes/no question on the terminal; `None` when standard input is not a terminal (nobody to ask).
    pub fn confirm(&mut self, question: &str) -> io::Result<Option<bool>> {
        if !io::stdin().is_terminal() {
            return Ok(None);
        }
        write!(self.err, "{question} [y/N] ")?;
        self.err.flush()?;
        let mut answer = String::new();
        io::stdin().read_line(&mut answer)?;
        Ok(Some(matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes")))
    }

    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}
