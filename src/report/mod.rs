//! Rendering of results: tables as text (comfy-table), CSV or Markdown, and values as JSON.
//!
//! Renderers write to the handle they are given and never decide where output goes or when to exit.

pub mod drift;
pub mod chart;
pub mod graph;
pub mod html;
pub mod page;
mod table;

pub use table::{CsvOut, Table, TableStyle};

/// How a command prints its result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Aligned tables for people (the default).
    Table,
    /// One JSON document, for scripts.
    Json,
    /// Comma-separated values with a header row.
    Csv,
    /// GitHub-flavoured Markdown tables, for CI job summaries.
    Markdown,
}

/// How a command that prints one record (not a list) prints it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum RecordFormat {
    /// Labelled text for people (the default).
    Table,
    /// One JSON document, for scripts.
    Json,
}

/// Writes `value` as pretty-printed JSON followed by a newline.
pub fn write_json(out: &mut dyn std::io::Write, value: &impl serde::Serialize) -> std::io::Result<()> {
    // An I/O failure keeps its kind (a closed pipe must stay `BrokenPipe`: the command then ends quietly with 0).
    serde_json::to_writer_pretty(&mut *out, value).map_err(|e| match e.io_error_kind() {
        Some(kind) => std::io::Error::from(kind),
        None => std::io::Error::other(e),
    })?;
    writeln!(out)
}
