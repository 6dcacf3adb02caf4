//! CSV as RFC 4180 writes it, for exports that spreadsheets open safely.

/// Appends one field to `line`: quoted when it holds a comma, a quote or a line break (its
/// quotes doubled), and prefixed with `'` when a spreadsheet would read it as a formula
/// (`=`, `+`, `-`, `@`, a tab or a carriage return first). Numbers are written with
/// [`number`] instead, which never adds the prefix.
pub fn text(line: &mut String, value: &str) {
    let formula = value.starts_with(['=', '+', '-', '@', '\t', '\r']);
    let quoted = formula || value.contains([',', '"', '\n', '\r']);
    if quoted {
        line.push('"');
    }
    if formula {
        line.push('\'');
    }
    for c in value.chars() {
        if c == '"' {
            line.push('"');
        }
        line.push(c);
    }
    if quoted {
        line.push('"');
    }
}

/// Appends a value iapd formatted itself (a number, a date): never quoted or prefixed.
pub fn number(line: &mut String, value: &str) {
    debug_assert!(!value.contains([',', '"', '\n', '\r']));
    line.push_str(value);
}

/// Ends a record, with CRLF as RFC 4180 says.
pub fn end(line: &mut String) {
    line.push_str("\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(value: &str) -> String {
        let mut line = String::new();
        text(&mut line, value);
        line
    }

    #[test]
    fn fields_are_quoted_only_when_they_must_be() {
        assert_eq!(one("SMS to +32 470"), "SMS to +32 470");
        assert_eq!(one("a, b"), "\"a, b\"");
        assert_eq!(one("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(one("two\nlines"), "\"two\nlines\"");
        assert_eq!(one(""), "");
    }

    #[test]
    fn formulas_are_defused() {
        assert_eq!(one("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(one("+1"), "\"'+1\"");
        assert_eq!(one("@SUM(A1)"), "\"'@SUM(A1)\"");
        let mut line = String::new();
        number(&mut line, "-0.0536");
        line.push(',');
        text(&mut line, "ok");
        end(&mut line);
        assert_eq!(line, "-0.0536,ok\r\n");
    }
}
