//! Reading a review sheet back: RFC 4180 CSV (quoted fields, doubled quotes; CRLF, LF or CR-only line ends, as
//! older spreadsheet programs save them), with the formula guard
//! `review` adds (a leading `'` before `=`, `+`, `-`, `@`, tab or CR) taken off again.

/// The rows of `text`, header first.
pub fn parse(text: &str) -> Result<Vec<Vec<String>>, String> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.trim_start_matches('\u{feff}').chars().peekable();
    let mut line = 1;
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => quoted = false,
                '\n' => {
                    line += 1;
                    field.push(c);
                }
                _ => field.push(c),
            }
            continue;
        }
        match c {
            '"' if field.is_empty() => quoted = true,
            ',' => row.push(unguard(std::mem::take(&mut field))),
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' | '\r' => {
                row.push(unguard(std::mem::take(&mut field)));
                rows.push(std::mem::take(&mut row));
                line += 1;
            }
            _ => field.push(c),
        }
    }
    if quoted {
        return Err(format!("line {line}: a quoted field is not closed"));
    }
    if !field.is_empty() || !row.is_empty() {
        row.push(unguard(field));
        rows.push(row);
    }
    Ok(rows)
}

fn unguard(cell: String) -> String {
    crate::model::text::formula_unguarded(cell)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_the_review_writer_writes() {
        // As report::write_csv_row writes it (the integration tests check the round trip through `review`).
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
