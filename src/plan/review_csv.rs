//! Reading a review sheet back: RFC 4180 CSV through the `csv` crate (quoted fields, doubled quotes; CRLF, LF or
//! CR-only line ends, as older spreadsheet programs save them), with the formula guard `review` adds (a leading `'`
//! before `=`, `+`, `-`, `@`, tab or CR) taken off again.

/// The rows of `text`, header first.
pub(super) fn parse(text: &str) -> Result<Vec<Vec<String>>, String> {
    let text = text.trim_start_matches('\u{feff}');
    // The reader takes an unclosed quote as running to the end of the file; a sheet is refused instead (an odd
    // number of quote characters cannot be well-formed CSV).
    if text.bytes().filter(|b| *b == b'"').count() % 2 == 1 {
        let line = text.lines().count();
        return Err(format!("line {line}: a quoted field is not closed"));
    }
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(text.as_bytes());
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| match e.position() {
            Some(p) => format!("line {}: {e}", p.line()),
            None => e.to_string(),
        })?;
        rows.push(record.iter().map(|c| crate::model::text::formula_unguarded(c.to_owned())).collect());
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_the_review_writer_writes() {
        // As report::CsvOut writes it (the integration tests check the round trip through `review`).
        let text = "\"a,b\",\"say \"\"hi\"\"\",'=cmd(),\"line\nbreak\",,'-1\r\nx,x,x,x,x,x\r\n";
        let cells = ["a,b", "say \"hi\"", "=cmd()", "line\nbreak", "", "-1"].map(str::to_owned);
        let rows = parse(text).unwrap();
        assert_eq!(rows[0], cells);
        assert_eq!(rows[1], vec!["x"; 6]);
        assert_eq!(rows.len(), 2);
    }

    #[test]
    fn cr_only_line_ends_are_line_ends() {
        let rows = parse("a,b\r1,2\r\"x\ry\",3\r").unwrap();
        assert_eq!(rows, vec![vec!["a", "b"], vec!["1", "2"], vec!["x\ry", "3"]]);
    }

    #[test]
    fn unclosed_quote_is_an_error() {
        assert!(parse("a,\"b\nc").unwrap_err().contains("not closed"));
        assert_eq!(parse("a,b").unwrap(), vec![vec!["a", "b"]]);
    }
}
