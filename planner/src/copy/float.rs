//! DuckDB 1.5.5's two texts of a double, from its shortest round-trip
//! digits (ryu's, written into a stack buffer: no allocation per value).
//! CSV fields and partition names take Python's form ([`push_python`]:
//! `100.0`, `1e+20`, `1e-05`, `nan`, `inf`); JSON takes yyjson's
//! ([`push_json`]: `100000000000000000000.0`, `0.000015`, `1e-7`, `NaN`,
//! `Infinity`), where a FLOAT is first widened to a double.

/// Python's (and DuckDB's CSV) text of `value`: positional from 1e-4 up to
/// 1e16, scientific outside with a signed exponent of at least two digits.
pub(crate) fn push_python(value: f64, single: bool, out: &mut String) {
    if value.is_nan() {
        out.push_str("nan");
    } else if value.is_infinite() {
        out.push_str(if value > 0.0 { "inf" } else { "-inf" });
    } else {
        let mut buffer = ryu::Buffer::new();
        let scientific;
        let text = if single {
            // core's digits, not ryu's: the two break a tie between two
            // shortest texts of a FLOAT differently (2567984.25: .3, .2),
            // and the CSV bytes must not change (DuckDB's differ from both
            // on some FLOATs, see the module tests).
            #[allow(clippy::cast_possible_truncation)] // it came from an f32
            let single = value as f32;
            scientific = format!("{single:e}");
            scientific.as_str()
        } else {
            let text = buffer.format_finite(value);
            if ryu_is_python(text) {
                out.push_str(text);
                return;
            }
            text
        };
        let digits = Digits::of(text);
        let exponent = digits.point - 1;
        if digits.is_zero() || (-4..16).contains(&exponent) {
            digits.push_positional(out);
        } else {
            digits.push_mantissa(out);
            out.push(if exponent < 0 { '-' } else { '+' });
            let magnitude = exponent.unsigned_abs();
            if magnitude < 10 {
                out.push('0');
            }
            out.push_str(itoa::Buffer::new().format(magnitude));
        }
    }
}

/// Whether ryu's text of a double is already Python's: ryu writes
/// positional from the point 4 places left of the first digit (`0.00001`)
/// up to 16 digits before it, Python from 3 places left; in between the
/// two texts are the same bytes, so the digits need not be read again.
fn ryu_is_python(text: &str) -> bool {
    !text.contains('e') && !text.trim_start_matches('-').starts_with("0.0000")
}

/// DuckDB's JSON (yyjson's) text of `value`: positional while the decimal
/// point is within 21 digits left and 6 right of the first digit,
/// scientific outside with a bare exponent (`1e300`, `1e-7`); `NaN`,
/// `Infinity`, `-Infinity` bare, as DuckDB writes them.
pub(crate) fn push_json(value: f64, out: &mut Vec<u8>) {
    if value.is_nan() {
        out.extend_from_slice(b"NaN");
    } else if value.is_infinite() {
        out.extend_from_slice(if value > 0.0 {
            b"Infinity".as_slice()
        } else {
            b"-Infinity".as_slice()
        });
    } else {
        let mut buffer = ryu::Buffer::new();
        let digits = Digits::of(buffer.format_finite(value));
        let mut text = String::new();
        if digits.is_zero() || (-5..=21).contains(&digits.point) {
            digits.push_positional(&mut text);
        } else {
            digits.push_mantissa(&mut text);
            text.push_str(itoa::Buffer::new().format(digits.point - 1));
        }
        out.extend_from_slice(text.as_bytes());
    }
}

/// A finite value's significant digits (no leading or trailing zeros) and
/// the decimal point's place: `point` digits before it (zero or negative:
/// that many zeros after the point come first).
struct Digits {
    negative: bool,
    /// ASCII digits; ryu writes at most 17.
    digits: [u8; 24],
    len: usize,
    point: i32,
}

impl Digits {
    /// Reads ryu's text (`1.5e-5`, `1e20`, `0.001`, `123.45`, `100.0`).
    fn of(text: &str) -> Self {
        let (negative, text) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let (mantissa, exponent) = match text.split_once('e') {
            Some((m, e)) => (m, e.parse::<i32>().unwrap_or(0)),
            None => (text, 0),
        };
        let mut digits = [0u8; 24];
        let mut len = 0;
        // Digits before the point in ryu's text, and its leading zeros.
        let mut before = 0i32;
        let mut leading = 0i32;
        let mut dot = false;
        for b in mantissa.bytes() {
            if b == b'.' {
                dot = true;
                continue;
            }
            before += i32::from(!dot);
            if b == b'0' && len == 0 {
                leading += 1;
            } else if len < digits.len() {
                digits[len] = b;
                len += 1;
            }
        }
        let point = before + exponent - leading;
        while len > 0 && digits[len - 1] == b'0' {
            len -= 1;
        }
        Self {
            negative,
            digits,
            len,
            point,
        }
    }

    fn is_zero(&self) -> bool {
        self.len == 0
    }

    fn digits(&self) -> &str {
        // ASCII digits only, copied from ryu's text.
        std::str::from_utf8(&self.digits[..self.len]).unwrap_or_default()
    }

    /// `0.0001`, `123.45`, `100.0`, `0.0`.
    fn push_positional(&self, out: &mut String) {
        if self.negative {
            out.push('-');
        }
        let digits = self.digits();
        #[allow(clippy::cast_possible_truncation, clippy::cast_possible_wrap)] // ≤ 24
        let count = self.len as i32;
        if self.is_zero() {
            out.push_str("0.0");
        } else if self.point <= 0 {
            out.push_str("0.");
            out.extend(std::iter::repeat_n('0', self.point.unsigned_abs() as usize));
            out.push_str(digits);
        } else if self.point < count {
            let (whole, fraction) = digits.split_at(self.point.unsigned_abs() as usize);
            out.push_str(whole);
            out.push('.');
            out.push_str(fraction);
        } else {
            out.push_str(digits);
            out.extend(std::iter::repeat_n(
                '0',
                (self.point - count).unsigned_abs() as usize,
            ));
            out.push_str(".0");
        }
    }

    /// `1.5e` and `1e`: the exponent is the caller's.
    fn push_mantissa(&self, out: &mut String) {
        if self.negative {
            out.push('-');
        }
        let digits = self.digits();
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        out.push('e');
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    /// The text before ryu: two `format!`s per value (slow; kept as the
    /// reference the fast one must equal).
    fn python_reference(value: f64, single: bool) -> String {
        if value.is_nan() {
            return "nan".into();
        }
        if value.is_infinite() {
            return if value > 0.0 { "inf" } else { "-inf" }.into();
        }
        #[allow(clippy::cast_possible_truncation)]
        let (scientific, positional) = if single {
            let single = value as f32;
            (format!("{single:e}"), format!("{single}"))
        } else {
            (format!("{value:e}"), format!("{value}"))
        };
        let (mantissa, exponent) = scientific.split_once('e').unwrap();
        let exponent: i32 = exponent.parse().unwrap();
        if value == 0.0 || (-4..16).contains(&exponent) {
            if positional.contains('.') {
                positional
            } else {
                positional + ".0"
            }
        } else {
            let sign = if exponent < 0 { '-' } else { '+' };
            format!("{mantissa}e{sign}{:02}", exponent.unsigned_abs())
        }
    }

    /// Python's positional text of a double made from its digits (the
    /// path without the shortcut), `None` where Python is scientific.
    fn positional_through_digits(value: f64) -> Option<String> {
        let mut buffer = ryu::Buffer::new();
        let digits = Digits::of(buffer.format_finite(value));
        let mut out = String::new();
        (digits.is_zero() || (-4..16).contains(&(digits.point - 1))).then(|| {
            digits.push_positional(&mut out);
            out
        })
    }

    /// ryu's text taken as it is must be the text the digits make, at
    /// both ends of the positional range and on random values.
    #[test]
    fn ryus_positional_text_is_the_python_form() {
        let mut values = vec![0.0, -0.0, 1e-4, 1e-5, 9.9e-5, -1e-4, 1e15, 1e16, 9.5e15];
        values.extend([0.25, -0.25, 100.0, 1234.5678, 0.000_123_4, 2.0f64.powi(53)]);
        let mut state: u64 = 0x2545_F491_4F6C_DD1D;
        for _ in 0..1_000_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            // Magnitudes around the positional range, where the shortcut
            // is taken or just refused.
            #[allow(clippy::cast_precision_loss)]
            let mantissa = (state >> 11) as f64 / (1u64 << 53) as f64;
            #[allow(clippy::cast_possible_truncation, clippy::cast_possible_wrap)]
            let exponent = (state % 26) as i32 - 8;
            values.push(mantissa * 10f64.powi(exponent));
        }
        for value in values {
            let ours = python(value, false);
            match positional_through_digits(value) {
                Some(positional) => assert_eq!(ours, positional, "{value:e}"),
                None => assert!(ours.contains('e'), "{ours} for {value:e}"),
            }
        }
    }

    fn python(value: f64, single: bool) -> String {
        let mut out = String::new();
        push_python(value, single, &mut out);
        out
    }

    fn json(value: f64) -> String {
        let mut out = Vec::new();
        push_json(value, &mut out);
        String::from_utf8(out).unwrap()
    }

    fn digit_count(text: &str) -> usize {
        let mantissa = text.split('e').next().unwrap_or_default();
        let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
        digits.trim_matches('0').len()
    }

    /// Values near every power of ten and random bit patterns. A DOUBLE:
    /// reads back as itself, in the `format!` reference's form and no more
    /// digits (the two break ties apart: 1658206780088562.25 is `.2` here
    /// and in DuckDB, `.3` in the reference; copy_duckdb compares with
    /// DuckDB). A FLOAT: the reference's text exactly.
    #[test]
    fn the_python_form_reads_back_as_the_value_on_a_million_values() {
        let mut values = vec![0.0, -0.0, f64::MIN_POSITIVE, f64::MAX, f64::MIN, 5e-324];
        for e in -320..=308 {
            let p = 10f64.powi(e);
            values.extend([
                p,
                -p,
                p * 1.5,
                p * 0.999_999_9,
                p * 9.876_543_21,
                p.next_up(),
            ]);
        }
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..1_000_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            values.push(f64::from_bits(state));
        }
        for value in values {
            let (ours, reference) = (python(value, false), python_reference(value, false));
            if ours != reference {
                assert_eq!(ours.parse::<f64>().unwrap(), value, "{ours} vs {reference}");
                assert!(
                    digit_count(&ours) <= digit_count(&reference),
                    "{ours} vs {reference}"
                );
                assert_eq!(
                    ours.contains('e'),
                    reference.contains('e'),
                    "{ours} vs {reference}"
                );
            }
            #[allow(clippy::cast_possible_truncation)]
            let single = f64::from(value as f32);
            assert_eq!(
                python(single, true),
                python_reference(single, true),
                "{single:e}"
            );
        }
    }

    /// Each expected text is what DuckDB 1.5.5 wrote in JSON for the value.
    #[test]
    fn the_json_form_is_duckdbs() {
        for (value, expected) in [
            (f64::NAN, "NaN"),
            (f64::INFINITY, "Infinity"),
            (f64::NEG_INFINITY, "-Infinity"),
            (1e20, "100000000000000000000.0"),
            (1e21, "1e21"),
            (0.1, "0.1"),
            (1e-7, "1e-7"),
            (1e-6, "0.000001"),
            (100.0, "100.0"),
            (1.5e-5, "0.000015"),
            (1e300, "1e300"),
            (123_456.789, "123456.789"),
            (1e16, "10000000000000000.0"),
            (-0.0, "-0.0"),
            (12_345_678_901_234_567_890.0, "12345678901234567000.0"),
            (2.5e-300, "2.5e-300"),
            (f64::from(0.1f32), "0.10000000149011612"),
            (f64::from(3.4e38f32), "3.3999999521443642e38"),
            (f64::from(1e-7f32), "1.0000000116860974e-7"),
        ] {
            assert_eq!(json(value), expected);
        }
    }
}
