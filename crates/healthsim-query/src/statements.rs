//! Splitting SQL text into statements and naming a statement's leading keyword — only to word
//! error messages ("got a DROP statement", "the text holds 2 statements").
//!
//! Nothing here decides what is allowed: DuckDB's parser has already refused the text when this
//! runs. A mistake in this hand-written scanner can make a message less precise, never let a
//! statement through.

/// Splits SQL text at top-level semicolons (outside strings, quoted identifiers, dollar quotes
/// and comments), dropping pieces that hold only whitespace and comments. Used only to word
/// error messages: what is allowed is decided by DuckDB's parser.
pub(crate) fn split_statements(sql: &str) -> Vec<&str> {
    let bytes = sql.as_bytes();
    let mut pieces = Vec::new();
    let (mut start, mut i) = (0usize, 0usize);
    let mut has_code = false;
    while i < bytes.len() {
        match bytes[i] {
            b'\'' | b'"' => {
                has_code = true;
                i = end_of_quoted(bytes, i);
            }
            b'-' if bytes.get(i + 1) == Some(&b'-') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                let mut depth = 0usize;
                while i < bytes.len() {
                    if bytes[i] == b'/' && bytes.get(i + 1) == Some(&b'*') {
                        depth += 1;
                        i += 2;
                    } else if bytes[i] == b'*' && bytes.get(i + 1) == Some(&b'/') {
                        depth -= 1;
                        i += 2;
                        if depth == 0 {
                            break;
                        }
                    } else {
                        i += 1;
                    }
                }
            }
            b'$' => {
                has_code = true;
                let tag_end = bytes[i + 1..]
                    .iter()
                    .position(|b| !(b.is_ascii_alphanumeric() || *b == b'_'))
                    .map(|p| i + 1 + p);
                match tag_end {
                    Some(end) if bytes[end] == b'$' => {
                        let tag = &sql[i..=end];
                        match sql[end + 1..].find(tag) {
                            Some(close) => i = end + 1 + close + tag.len(),
                            None => i = bytes.len(),
                        }
                    }
                    _ => i += 1,
                }
            }
            b';' => {
                if has_code {
                    pieces.push(&sql[start..i]);
                }
                has_code = false;
                i += 1;
                start = i;
            }
            b if b.is_ascii_whitespace() => i += 1,
            _ => {
                has_code = true;
                i += 1;
            }
        }
    }
    if has_code {
        pieces.push(&sql[start.min(sql.len())..]);
    }
    pieces
}

/// The index just past the string or quoted name that starts at `bytes[start]` (a `'` or `"`; a
/// doubled quote inside belongs to the text); the end of the text when it is not closed.
pub(crate) fn end_of_quoted(bytes: &[u8], start: usize) -> usize {
    let quote = bytes[start];
    let mut i = start + 1;
    while i < bytes.len() {
        if bytes[i] == quote {
            if bytes.get(i + 1) == Some(&quote) {
                i += 2;
                continue;
            }
            return i + 1;
        }
        i += 1;
    }
    bytes.len()
}

/// Whether `statement` holds `keyword` as a word of its own, outside strings, quoted
/// identifiers and comments (`PIVOT` in `SELECT * FROM (PIVOT t ON x USING count(*))`).
pub(crate) fn has_keyword(statement: &str, keyword: &str) -> bool {
    let bytes = statement.as_bytes();
    let mut i = 0usize;
    while i < bytes.len() {
        match bytes[i] {
            b'\'' | b'"' => i = end_of_quoted(bytes, i),
            b'-' if bytes.get(i + 1) == Some(&b'-') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i = statement[i..]
                    .find("*/")
                    .map_or(bytes.len(), |end| i + end + 2);
            }
            b if b.is_ascii_alphabetic() || b == b'_' => {
                let start = i;
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                    i += 1;
                }
                if statement[start..i].eq_ignore_ascii_case(keyword) {
                    return true;
                }
            }
            _ => i += 1,
        }
    }
    false
}

/// The first keyword of a statement, uppercase (`DROP`), skipping whitespace, comments and
/// opening parentheses.
pub(crate) fn leading_keyword(statement: &str) -> String {
    let mut rest = statement;
    loop {
        let trimmed = rest.trim_start_matches(|c: char| c.is_whitespace() || c == '(');
        if let Some(after) = trimmed.strip_prefix("--") {
            rest = after.split_once('\n').map_or("", |(_, r)| r);
        } else if let Some(after) = trimmed.strip_prefix("/*") {
            rest = after.split_once("*/").map_or("", |(_, r)| r);
        } else {
            rest = trimmed;
            break;
        }
    }
    rest.chars()
        .take_while(char::is_ascii_alphabetic)
        .collect::<String>()
        .to_ascii_uppercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_statements_only_for_messages() {
        let check = |sql: &str, expected: &[&str]| {
            let pieces: Vec<String> = split_statements(sql)
                .iter()
                .map(|p| leading_keyword(p))
                .collect();
            assert_eq!(pieces, expected, "{sql}");
        };
        check("SELECT 1", &["SELECT"]);
        check("SELECT 1; DROP TABLE x;", &["SELECT", "DROP"]);
        check("SELECT ';' AS x -- ; not here\n", &["SELECT"]);
        check("/* ; */ insert into t values (';')", &["INSERT"]);
        check("SELECT $$;$$; SET x = 1", &["SELECT", "SET"]);
        check("SELECT \"a;b\" FROM t;;  ; -- c", &["SELECT"]);
        check("  -- only a comment", &[]);
        check("(SELECT 1)", &["SELECT"]);
    }

    #[test]
    fn finds_keywords_only_outside_literals_and_comments() {
        let check =
            |sql: &str, expected: bool| assert_eq!(has_keyword(sql, "PIVOT"), expected, "{sql}");
        check("PIVOT t ON x USING count(*)", true);
        check("select * from (pivot t on x using count(*))", true);
        check("WITH p AS (SELECT 1) PIVOT p ON x USING count(*)", true);
        check("SELECT 'PIVOT' AS word", false);
        check("SELECT \"pivot\" FROM t", false);
        check("SELECT 1 -- PIVOT\n", false);
        check("SELECT 1 /* PIVOT */", false);
        check("SELECT pivoted, unpivot_x FROM t", false);
        check("UNPIVOT t ON a, b INTO NAME k VALUE v", false);
    }
}
