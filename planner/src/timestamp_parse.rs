//! DuckDB 1.5.5's grammar of a timestamp in text, which arrow's parser
//! (needing seconds, refusing `2024-1-2`) did not read:
//! `[-]Y+-M-D[ (BC)]` (separators `-`, `/`, `\` or a space, the same
//! twice; a month and day of one or two digits; `(BC)` in any case after
//! one space character), then optionally a space or `T` and a time
//! `H:M[:S[.F]]` (minutes may be left out after `H:` at the end, seconds
//! after `H:M` at the end; `24:00:00` is the next day), then `Z`, an
//! offset `±HH[[:]MM]` or `±HH:MM:SS`, or a space and a zone name, then
//! spaces. `infinity`, `-infinity`, `inf`, `-inf` and `epoch` in any case.
//! Leading spaces are skipped, and spaces between the date and time; a
//! space is any of DuckDB's, `\v` too.

/// Nanoseconds in a day.
const DAY_NANOS: i64 = 86_400_000_000_000;

/// A timestamp DuckDB reads from text.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Stamp<'a> {
    /// `infinity`.
    Infinity,
    /// `-infinity`.
    NegativeInfinity,
    /// A date and time as written (local to `zone` or `offset`).
    At {
        /// Days since 1970-01-01.
        days: i64,
        /// Nanoseconds since midnight, up to a whole day (`24:00:00`).
        nanos: i64,
        /// The offset's seconds east of UTC (`Z` is 0); None when neither
        /// an offset nor `Z` is written (a TIMESTAMPTZ then reads the time
        /// in the session's zone).
        offset: Option<i64>,
        /// A zone name after the time, and whether a space came before it.
        zone: Option<Zone<'a>>,
    },
}

/// A zone name written after the time, and whether a space came before it
/// (a TIMESTAMPTZ needs one).
pub(crate) type Zone<'a> = (&'a str, bool);

/// Why DuckDB refuses a text.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// Not the grammar: "invalid timestamp field format".
    Format,
    /// A field past its range (Feb 30, 25:00): "... out of range".
    Range,
}

/// A cursor over the text's bytes.
struct Cursor<'a> {
    text: &'a [u8],
    pos: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.text.get(self.pos).copied()
    }

    fn at_end(&self) -> bool {
        self.pos >= self.text.len()
    }

    fn eat(&mut self, byte: u8) -> bool {
        let found = self.peek() == Some(byte);
        self.pos += usize::from(found);
        found
    }

    fn skip_spaces(&mut self) {
        while self.peek().is_some_and(is_space) {
            self.pos += 1;
        }
    }

    /// Up to `most` digits (at least one) as a number and their count.
    fn digits(&mut self, most: usize) -> Option<(i64, usize)> {
        let start = self.pos;
        let mut value = 0i64;
        while let Some(b) = self.peek().filter(u8::is_ascii_digit) {
            if self.pos - start == most {
                return None;
            }
            value = value * 10 + i64::from(b - b'0');
            self.pos += 1;
        }
        (self.pos > start).then_some((value, self.pos - start))
    }

    /// One or two digits (DuckDB's ParseDoubleDigit).
    fn one_or_two(&mut self) -> Option<i64> {
        let mut value = None;
        for _ in 0..2 {
            match self.peek().filter(u8::is_ascii_digit) {
                Some(b) => {
                    value = Some(value.unwrap_or(0) * 10 + i64::from(b - b'0'));
                    self.pos += 1;
                }
                None => break,
            }
        }
        value
    }

    /// Exactly two digits, or nothing consumed.
    fn two(&mut self) -> Option<i64> {
        match self.text.get(self.pos..self.pos + 2) {
            Some([a, b]) if a.is_ascii_digit() && b.is_ascii_digit() => {
                self.pos += 2;
                Some(i64::from(a - b'0') * 10 + i64::from(b - b'0'))
            }
            _ => None,
        }
    }
}

/// DuckDB's space characters: ASCII whitespace and `\v`, which Rust's
/// `is_ascii_whitespace` leaves out.
fn is_space(byte: u8) -> bool {
    byte.is_ascii_whitespace() || byte == 0x0b
}

/// `text` read as DuckDB reads a TIMESTAMP or TIMESTAMPTZ.
pub(crate) fn parse(text: &str) -> Result<Stamp<'_>, Refusal> {
    let mut c = Cursor {
        text: text.as_bytes(),
        pos: 0,
    };
    c.skip_spaces();
    if let Some(special) = special(&text[c.pos..]) {
        return Ok(special);
    }
    let days = date(&mut c)?;
    if c.at_end() {
        return Ok(Stamp::At {
            days,
            nanos: 0,
            offset: None,
            zone: None,
        });
    }
    if !c.eat(b' ') {
        c.eat(b'T');
    }
    let nanos = time(&mut c)?;
    let (offset, zone) = offset_or_zone(&mut c, text)?;
    c.skip_spaces();
    if !c.at_end() {
        return Err(Refusal::Format);
    }
    Ok(Stamp::At {
        days,
        nanos,
        offset,
        zone,
    })
}

/// `text` read as DuckDB reads a DATE: its days since 1970-01-01 (None for
/// `infinity` and `-infinity`); whatever follows the date is ignored.
pub(crate) fn parse_date(text: &str) -> Result<Option<i64>, Refusal> {
    let mut c = Cursor {
        text: text.as_bytes(),
        pos: 0,
    };
    c.skip_spaces();
    match special(&text[c.pos..]) {
        Some(Stamp::At { days, .. }) => Ok(Some(days)),
        Some(_) => Ok(None),
        None => date(&mut c).map(Some),
    }
}

/// `infinity`, `-infinity` (or `inf`, `-inf`) and `epoch`, in any case,
/// with trailing spaces. `epoch` is the instant 0, at offset 0 (review of
/// tstext 3, F1: a TIMESTAMPTZ of it was the session zone's midnight).
fn special(rest: &str) -> Option<Stamp<'static>> {
    let word = rest.trim_end_matches(|c: char| c.is_ascii() && is_space(c as u8));
    let is = |name: &str| word.eq_ignore_ascii_case(name);
    if is("infinity") || is("inf") {
        Some(Stamp::Infinity)
    } else if is("-infinity") || is("-inf") {
        Some(Stamp::NegativeInfinity)
    } else if is("epoch") {
        Some(Stamp::At {
            days: 0,
            nanos: 0,
            offset: Some(0),
            zone: None,
        })
    } else {
        None
    }
}

/// The date's days since 1970-01-01.
fn date(c: &mut Cursor) -> Result<i64, Refusal> {
    let negative = c.eat(b'-');
    // Ten digits or more are past DuckDB's range; more than 18 its format.
    let (year, count) = c.digits(18).ok_or(Refusal::Format)?;
    let separator = c.peek().filter(|b| b"-/\\ ".contains(b));
    let separator = separator.ok_or(Refusal::Format)?;
    c.pos += 1;
    let month = c.one_or_two().ok_or(Refusal::Format)?;
    if !c.eat(separator) {
        return Err(Refusal::Format);
    }
    let day = c.one_or_two().ok_or(Refusal::Format)?;
    if c.peek().is_some_and(|b| b.is_ascii_digit()) {
        return Err(Refusal::Format);
    }
    // One space character, then `(BC)` in any case; not after year 0 or
    // a negative year.
    if let Some([space, b'(', b, c2, b')']) = c.text.get(c.pos..c.pos + 5)
        && is_space(*space)
        && b.eq_ignore_ascii_case(&b'b')
        && c2.eq_ignore_ascii_case(&b'c')
    {
        if negative || year == 0 {
            return Err(Refusal::Format);
        }
        c.pos += 5;
        return civil_days(1 - year, month, day, count);
    }
    civil_days(if negative { -year } else { year }, month, day, count)
}

/// Days since 1970-01-01 of an astronomical year's month and day.
fn civil_days(year: i64, month: i64, day: i64, digits: usize) -> Result<i64, Refusal> {
    if digits > 9 || !(1..=12).contains(&month) || day < 1 || day > month_days(year, month) {
        return Err(Refusal::Range);
    }
    // Howard Hinnant's days_from_civil.
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Ok(era * 146_097 + doe - 719_468)
}

fn month_days(year: i64, month: i64) -> i64 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// The time's nanoseconds since midnight.
fn time(c: &mut Cursor) -> Result<i64, Refusal> {
    c.skip_spaces();
    let (hours, _) = c.digits(9).ok_or(Refusal::Format)?;
    if !c.eat(b':') {
        return Err(Refusal::Format);
    }
    let mut minutes = 0;
    let mut seconds = 0;
    if !c.at_end() {
        minutes = c.one_or_two().ok_or(Refusal::Format)?;
        if !c.at_end() {
            if !c.eat(b':') {
                return Err(Refusal::Format);
            }
            if !c.at_end() {
                seconds = c.one_or_two().ok_or(Refusal::Format)?;
            }
        }
    }
    if minutes >= 60 || seconds >= 60 {
        return Err(Refusal::Format);
    }
    // Past a day's hours it is out of range whatever follows (and the
    // nanoseconds below would overflow from 2,562,048 hours on).
    if hours > 24 {
        return Err(Refusal::Range);
    }
    let mut fraction = 0;
    if c.eat(b'.') {
        let mut scale = 100_000_000;
        while let Some(b) = c.peek().filter(u8::is_ascii_digit) {
            fraction += i64::from(b - b'0') * scale;
            scale /= 10;
            c.pos += 1;
        }
    }
    let nanos = ((hours * 60 + minutes) * 60 + seconds) * 1_000_000_000 + fraction;
    // DuckDB compares microseconds with a day's: 24:00 and less than a
    // microsecond is the next midnight.
    match (nanos / 1_000).cmp(&(DAY_NANOS / 1_000)) {
        std::cmp::Ordering::Greater => Err(Refusal::Range),
        std::cmp::Ordering::Equal => Ok(DAY_NANOS),
        std::cmp::Ordering::Less => Ok(nanos),
    }
}

/// What follows the time: `Z`, an offset (seconds east of UTC) or a zone.
fn offset_or_zone<'a>(
    c: &mut Cursor,
    text: &'a str,
) -> Result<(Option<i64>, Option<Zone<'a>>), Refusal> {
    if c.at_end() {
        return Ok((None, None));
    }
    if c.eat(b'Z') {
        return Ok((Some(0), None));
    }
    if let Some(sign @ (b'+' | b'-')) = c.peek() {
        let start = c.pos;
        c.pos += 1;
        if let Some(hours) = c.two() {
            // `HH`, `HHMM`, `HH:`, `HH:MM`, `HH:MM:` or `HH:MM:SS`, as
            // DuckDB reads an offset (`+023015`, `+0230:15` are not).
            let mut seconds = hours * 3600;
            if c.eat(b':') {
                if let Some(minutes) = c.two() {
                    seconds += minutes * 60;
                    if c.eat(b':') {
                        seconds += c.two().unwrap_or(0);
                    }
                }
            } else if let Some(minutes) = c.two() {
                seconds += minutes * 60;
            }
            return Ok((Some(if sign == b'-' { -seconds } else { seconds }), None));
        }
        c.pos = start;
    }
    // A zone comes after one space. Anything else against the time is a
    // zone that is not one (DuckDB: "not UTC" to a TIMESTAMP, the format's
    // error to a TIMESTAMPTZ), `06:00:00UTC` and `06:00:00\t` too.
    if !c.eat(b' ') {
        let zone = (&text[c.pos..], false);
        c.pos = c.text.len();
        return Ok((None, Some(zone)));
    }
    // DuckDB's zone characters, `:` too (`UTC-03:30`, `Europe/Paris:x`
    // an unknown zone).
    let start = c.pos;
    while c
        .peek()
        .is_some_and(|b| b.is_ascii_alphanumeric() || b"/_+-:".contains(&b))
    {
        c.pos += 1;
    }
    let zone = (c.pos > start).then(|| (&text[start..c.pos], true));
    Ok((None, zone))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> (i64, i64, i64) {
        match parse(text) {
            Ok(Stamp::At {
                days,
                nanos,
                offset,
                ..
            }) => (days, nanos, offset.unwrap_or(0)),
            other => panic!("{text}: {other:?}"),
        }
    }

    /// DuckDB's shapes, each checked against DuckDB 1.5.5.
    #[test]
    fn reads_duckdb_shapes() {
        let six = 6 * 3_600_000_000_000;
        assert_eq!(at("2024-01-02 06:00"), (19724, six, 0));
        assert_eq!(at("2024-1-2 6:0"), (19724, six, 0));
        assert_eq!(at("2024/01/02T06:"), (19724, six, 0));
        assert_eq!(at("  2024-01-02  06:00:00.5  ").1, six + 500_000_000);
        assert_eq!(at("2024-01-02 06:00:00+02:30:15").2, 9015);
        assert_eq!(at("2024-01-02 06:00:00-0230").2, -9000);
        assert_eq!(at("1970-01-01 24:00:00").1, DAY_NANOS);
        assert_eq!(at("0000-01-01").0, at("0001-01-01 (BC)").0);
        assert_eq!(at("-1-01-01").0, at("0002-01-01 (BC)").0);
        assert_eq!(at("0002-01-01\x0b(bC)").0, at("0002-01-01 (BC)").0);
        assert_eq!(at("2024-01-02 06:00:00+02:30:").2, 9000);
        assert_eq!(at("\x0b2024-01-02 06:00:00Z\x0b").1, six);
        assert_eq!(parse(" INF "), Ok(Stamp::Infinity));
        assert_eq!(parse("-infinity"), Ok(Stamp::NegativeInfinity));
    }

    /// DuckDB's refusals, with its kind of error.
    #[test]
    fn refuses_as_duckdb() {
        for text in [
            "2024-01-02 06",
            "2024-01-02 06:00+02",
            "2024-01-02 06:00 ",
            "2024-01-02 06:60",
            "2024-01-02 06:00:60",
            "2024-01-02 ",
            "2024-01-02x",
            "2024-01-002",
            "+2024-01-02",
            "2024-01-02 06:00:00+02x",
            "2024-01-02 06:00:00  +02",
            "2024-01-02 06:00:00+023015",
            "2024-01-02 06:00:00+0230:15",
            "0000-01-01 (BC)",
            "-1-01-01 (bc)",
            "infin",
            "",
        ] {
            assert_eq!(parse(text), Err(Refusal::Format), "{text}");
        }
        for text in [
            "2024-02-30",
            "2023-02-29",
            "2024-01-02 25:00",
            "1234567890-01-01",
            "2024-01-02 2562048:00",
            "2024-01-02 5124096:00",
            "2024-01-02 999999999:59:59.999999999",
        ] {
            assert_eq!(parse(text), Err(Refusal::Range), "{text}");
        }
    }
}
