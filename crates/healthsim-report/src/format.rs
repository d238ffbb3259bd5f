//! Text for people: HTML escaping and numbers as a reader expects them (`1,234`, `$1,234.50`,
//! `12.3%`, `$1.2M`).

/// `text` safe inside HTML text and double- or single-quoted attributes.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
    out
}

/// Digits grouped by thousands: `1234567` → `1,234,567`.
fn group_digits(digits: &str) -> String {
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// A count: `1,234,567`.
pub(crate) fn count(n: u64) -> String {
    group_digits(&n.to_string())
}

/// A number with `decimals` decimals and grouped thousands: `-1,234.5`.
pub(crate) fn number(x: f64, decimals: usize) -> String {
    if !x.is_finite() {
        return "–".to_string();
    }
    let text = format!("{:.*}", decimals, x.abs());
    let (whole, fraction) = text.split_once('.').unwrap_or((&text, ""));
    let sign = if x < 0.0 && text.chars().any(|c| c.is_ascii_digit() && c != '0') {
        "-"
    } else {
        ""
    };
    if fraction.is_empty() {
        format!("{sign}{}", group_digits(whole))
    } else {
        format!("{sign}{}.{fraction}", group_digits(whole))
    }
}

/// Dollars and cents: `$1,234.50`.
pub(crate) fn money(x: f64) -> String {
    let text = number(x, 2);
    match text.strip_prefix('-') {
        Some(positive) => format!("-${positive}"),
        None => format!("${text}"),
    }
}

/// A short amount for axes: `$950`, `$1.2k`, `$3.4M`.
pub(crate) fn money_short(x: f64) -> String {
    let (sign, x) = if x < 0.0 { ("-", -x) } else { ("", x) };
    let (value, unit) = if x >= 1e9 {
        (x / 1e9, "B")
    } else if x >= 1e6 {
        (x / 1e6, "M")
    } else if x >= 1e3 {
        (x / 1e3, "k")
    } else {
        (x, "")
    };
    let digits = if unit.is_empty() || value >= 100.0 || value.fract() < 0.05 {
        0
    } else {
        1
    };
    format!("{sign}${value:.digits$}{unit}")
}

/// A share as a percentage with one decimal: `0.1234` → `12.3%`.
pub(crate) fn percent(share: f64) -> String {
    format!("{}%", number(share * 100.0, 1))
}

/// A short count for axes: `950`, `1.2k`, `3.4M`.
pub(crate) fn count_short(x: f64) -> String {
    let x = x.max(0.0);
    if x >= 1e6 {
        format!("{:.1}M", x / 1e6)
    } else if x >= 1e4 {
        format!("{:.0}k", x / 1e3)
    } else if x >= 1e3 {
        format!("{:.1}k", x / 1e3)
    } else if x.fract().abs() < 1e-9 {
        format!("{x:.0}")
    } else {
        format!("{x:.1}")
    }
}

/// `text` cut to `max` characters with an ellipsis (chart labels; tables show the full text).
pub(crate) fn shorten(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        None => text.to_string(),
        Some((cut, _)) => format!("{}…", text[..cut].trim_end()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(actual: String, expected: &str) {
        assert_eq!(actual, expected);
    }

    #[test]
    fn escapes_markup_and_quotes() {
        check(
            escape(r#"<script>alert('x') & "y"</script>"#),
            "&lt;script&gt;alert(&#39;x&#39;) &amp; &quot;y&quot;&lt;/script&gt;",
        );
        check(escape("plain"), "plain");
    }

    #[test]
    fn formats_numbers() {
        check(count(0), "0");
        check(count(999), "999");
        check(count(1000), "1,000");
        check(count(1_234_567), "1,234,567");
        check(number(1234.5, 1), "1,234.5");
        check(number(-1234.6, 0), "-1,235");
        check(number(-0.001, 2), "0.00");
        check(number(f64::NAN, 2), "–");
        check(money(1234.5), "$1,234.50");
        check(money(-3.0), "-$3.00");
        check(money_short(950.0), "$950");
        check(money_short(1234.0), "$1.2k");
        check(money_short(10_000.0), "$10k");
        check(money_short(3_400_000.0), "$3.4M");
        check(percent(0.1234), "12.3%");
        check(percent(1.0), "100.0%");
        check(count_short(950.0), "950");
        check(count_short(1500.0), "1.5k");
        check(count_short(25_000.0), "25k");
        check(count_short(2_500_000.0), "2.5M");
        check(shorten("abcdef", 3), "abc…");
        check(shorten("abc", 3), "abc");
    }
}
