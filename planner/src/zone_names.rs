//! Time zone names in any case, as DuckDB's ICU finds them:
//! `america/new_york` is `America/New_York`, after a time in text and as
//! the session's TimeZone. Arrow's and chrono-tz's lookups (without the
//! `case-insensitive` feature, which would add a dependency) match the
//! case exactly, so `'2024-01-02 06:00:00 america/new_york'` was
//! "Unknown TimeZone". The names ICU knows beyond chrono-tz's (`PST`,
//! `IST`, `UTC+5`) are read as the chrono-tz zone with the same offsets.

use std::str::FromStr;

use chrono::offset::{LocalResult, Offset, TimeZone};
use chrono::{Duration, NaiveDateTime};
use chrono_tz::{TZ_VARIANTS, Tz};
use datafusion::logical_expr::{LogicalPlan, SetVariable, Statement};

/// The zone names DuckDB's ICU knows and chrono-tz does not (ICU's legacy
/// three-letter names, `Factory`, the `SystemV` zones without daylight
/// saving, two old links), each with the zone chrono-tz knows whose
/// offsets DuckDB 1.5.5 gives for it, hour by hour from 1970 to 2037 and
/// day by day from 1800 (review of tstext 3, F5: `PST` was "Unknown
/// TimeZone"). Not here: the `SystemV` zones with daylight saving
/// (`SystemV/EST5EDT`, ...), whose ICU rules no zone of chrono-tz
/// follows (DuckDB has `SystemV/EST5EDT` at -04 on 2024-04-29 and
/// 2024-10-28 but at -05 on 2024-10-26).
const ICU_ONLY: [(&str, Tz); 35] = [
    ("ACT", Tz::Australia__Darwin),
    ("AET", Tz::Australia__Sydney),
    ("AGT", Tz::America__Argentina__Buenos_Aires),
    ("ART", Tz::Africa__Cairo),
    ("AST", Tz::America__Anchorage),
    ("BET", Tz::America__Sao_Paulo),
    ("BST", Tz::Asia__Dhaka),
    ("CAT", Tz::Africa__Maputo),
    ("CNT", Tz::America__St_Johns),
    ("CST", Tz::America__Chicago),
    ("CTT", Tz::Asia__Shanghai),
    ("EAT", Tz::Africa__Nairobi),
    ("ECT", Tz::Europe__Paris),
    ("IET", Tz::America__Indiana__Indianapolis),
    ("IST", Tz::Asia__Kolkata),
    ("JST", Tz::Asia__Tokyo),
    ("MIT", Tz::Pacific__Apia),
    ("NET", Tz::Asia__Yerevan),
    ("NST", Tz::Pacific__Auckland),
    ("PLT", Tz::Asia__Karachi),
    ("PNT", Tz::America__Phoenix),
    ("PRT", Tz::America__Puerto_Rico),
    ("PST", Tz::America__Los_Angeles),
    ("SST", Tz::Pacific__Guadalcanal),
    ("VST", Tz::Asia__Ho_Chi_Minh),
    ("Factory", Tz::Etc__UTC),
    ("SystemV/AST4", Tz::Etc__GMTPlus4),
    ("SystemV/CST6", Tz::Etc__GMTPlus6),
    ("SystemV/EST5", Tz::Etc__GMTPlus5),
    ("SystemV/HST10", Tz::Etc__GMTPlus10),
    ("SystemV/MST7", Tz::Etc__GMTPlus7),
    ("SystemV/PST8", Tz::Etc__GMTPlus8),
    ("SystemV/YST9", Tz::Etc__GMTPlus9),
    ("US/Pacific-New", Tz::America__Los_Angeles),
    ("Canada/East-Saskatchewan", Tz::America__Regina),
];

/// The zone `name` names, in any case: chrono-tz's, ICU's own
/// ([`ICU_ONLY`]), or the whole-hour zone a `UTC+N` or `UTC-N` names
/// ([`utc_hours`]); None for a name neither knows.
pub(crate) fn zone(name: &str) -> Option<Tz> {
    Tz::from_str(name)
        .ok()
        .or_else(|| {
            TZ_VARIANTS
                .iter()
                .copied()
                .find(|tz| tz.name().eq_ignore_ascii_case(name))
        })
        .or_else(|| {
            let icu = ICU_ONLY
                .iter()
                .find(|(icu, _)| icu.eq_ignore_ascii_case(name));
            icu.map(|(_, tz)| *tz)
        })
        .or_else(|| {
            // `Etc/GMT-5` is 5 hours east of UTC (POSIX's sign), as
            // DuckDB stores `UTC+5`; `Etc/GMT+0` its `UTC+0`.
            let hours = utc_hours(name)?;
            let sign = if hours > 0 { '-' } else { '+' };
            Tz::from_str(&format!("Etc/GMT{sign}{}", hours.abs())).ok()
        })
}

/// Hours east of UTC of a zone named `UTC+N` or `UTC-N` as DuckDB's ICU
/// reads one (checked against DuckDB 1.5.5): `UTC` exactly, a sign, then
/// only digits and colons; the digits before a colon are the hours, or
/// their hundreds when 100 or more (`0530` is 5: minutes are dropped), to
/// the whole-hour zone `Etc/GMT∓N`, which runs from -12 to +14. None for
/// any other name (`GMT+5`, `utc+5` are unknown zones to DuckDB too).
fn utc_hours(name: &str) -> Option<i64> {
    let rest = name.strip_prefix("UTC")?;
    let sign = match rest.as_bytes().first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let rest = &rest[1..];
    if rest.is_empty() || !rest.bytes().all(|b| b.is_ascii_digit() || b == b':') {
        return None;
    }
    let digits = rest.split(':').next().unwrap_or_default();
    let number: i64 = if digits.is_empty() {
        0
    } else {
        digits.parse().ok()?
    };
    let hours = sign * if number < 100 { number } else { number / 100 };
    (-12..=14).contains(&hours).then_some(hours)
}

/// A zone a local time is read in and an instant's local time given by:
/// a zone chrono-tz knows ([`zone`]) or a fixed offset (a session's
/// `+05:30`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Zone {
    /// A zone of chrono-tz's, with its daylight saving and history.
    Named(Tz),
    /// Seconds east of UTC, always.
    Fixed(i64),
}

impl Zone {
    /// The zone a session's TimeZone (or a TIMESTAMPTZ type's) names: a
    /// fixed offset (`+05:30`, `-0800`) or a zone name in any case; None
    /// for a name neither.
    pub(crate) fn of(name: &str) -> Option<Self> {
        fixed_offset(name)
            .map(Zone::Fixed)
            .or_else(|| zone(name).map(Zone::Named))
    }

    /// Whether every instant's local time is its UTC time (`UTC`, `GMT`,
    /// `+00:00`): a TIMESTAMP is then its TIMESTAMPTZ's instant as it is.
    pub(crate) fn is_utc(self) -> bool {
        match self {
            Zone::Fixed(offset) => offset == 0,
            Zone::Named(tz) => matches!(
                tz,
                Tz::UTC
                    | Tz::UCT
                    | Tz::GMT
                    | Tz::GMT0
                    | Tz::GMTPlus0
                    | Tz::GMTMinus0
                    | Tz::Greenwich
                    | Tz::Universal
                    | Tz::Zulu
                    | Tz::Etc__UTC
                    | Tz::Etc__UCT
                    | Tz::Etc__GMT
                    | Tz::Etc__GMT0
                    | Tz::Etc__GMTPlus0
                    | Tz::Etc__GMTMinus0
                    | Tz::Etc__Greenwich
                    | Tz::Etc__Universal
                    | Tz::Etc__Zulu
            ),
        }
    }

    /// Seconds east of UTC at the instant `utc`.
    pub(crate) fn offset_at_utc(self, utc: &NaiveDateTime) -> i64 {
        match self {
            Zone::Fixed(offset) => offset,
            Zone::Named(tz) => i64::from(tz.offset_from_utc_datetime(utc).fix().local_minus_utc()),
        }
    }

    /// Seconds east of UTC of the local time `local` as DuckDB's ICU reads
    /// it: the later instant of a repeated hour, and a time in a skipped
    /// hour shifted forward by the gap (the offset before it).
    pub(crate) fn offset_at_local(self, local: &NaiveDateTime) -> i64 {
        let tz = match self {
            Zone::Fixed(offset) => return offset,
            Zone::Named(tz) => tz,
        };
        match tz.from_local_datetime(local) {
            LocalResult::Single(zoned) | LocalResult::Ambiguous(_, zoned) => {
                i64::from(zoned.offset().fix().local_minus_utc())
            }
            // In a gap: the offset a day before (no zone skips twice a
            // day); at chrono's first day, the offset there.
            LocalResult::None => {
                let before = local
                    .checked_sub_signed(Duration::days(1))
                    .unwrap_or(*local);
                self.offset_at_utc(&before)
            }
        }
    }
}

/// Seconds east of UTC of a fixed-offset zone name (`+05:30`, `-08:00`,
/// `+0530`), as a session zone may be; None for any other name.
pub(crate) fn fixed_offset(name: &str) -> Option<i64> {
    let sign = match name.as_bytes().first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let digits: String = name[1..].chars().filter(|c| *c != ':').collect();
    if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let hours: i64 = digits[..2].parse().ok()?;
    let minutes: i64 = digits[2..].parse().ok()?;
    Some(sign * (hours * 3600 + minutes * 60))
}

/// `name` as chrono-tz spells it when it names a zone in another case or
/// as `UTC+N` (arrow then finds it; review of tstext 3, F4: `SET TimeZone
/// = 'UTC+5'` was "Unknown TimeZone"); None when it is already so spelled
/// or names no zone (a fixed offset, or a name DataFusion reports itself).
pub(crate) fn canonical(name: &str) -> Option<&'static str> {
    match Tz::from_str(name) {
        Ok(_) => None,
        Err(_) => zone(name).map(|tz| tz.name()),
    }
}

/// A `SET TimeZone` plan with its zone spelled as chrono-tz spells it, as
/// DuckDB stores it (arrow shows a TIMESTAMPTZ only in a zone it finds);
/// any other plan as it is.
pub(crate) fn spelled_setting(plan: LogicalPlan) -> LogicalPlan {
    match plan {
        LogicalPlan::Statement(Statement::SetVariable(SetVariable { variable, value }))
            if ["timezone", "time.zone", "datafusion.execution.time_zone"]
                .iter()
                .any(|name| variable.eq_ignore_ascii_case(name)) =>
        {
            let value = canonical(&value).map_or(value, str::to_string);
            LogicalPlan::Statement(Statement::SetVariable(SetVariable { variable, value }))
        }
        plan => plan,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_names_in_any_case() {
        assert_eq!(zone("america/NEW_york"), Some(Tz::America__New_York));
        assert_eq!(zone("Europe/Paris"), Some(Tz::Europe__Paris));
        assert_eq!(canonical("us/pacific"), Some("US/Pacific"));
        assert_eq!(canonical("Asia/Kolkata"), None);
        assert_eq!(canonical("+05:30"), None);
        assert_eq!(zone("Mars/Base"), None);
        assert_eq!(canonical("UTC+5"), Some("Etc/GMT-5"));
        assert_eq!(canonical("UTC-03:30"), Some("Etc/GMT+3"));
        assert_eq!(canonical("UTC-0"), Some("Etc/GMT+0"));
        assert_eq!(zone("UTC+15"), None);
        assert_eq!(zone("utc+5"), None);
        assert_eq!(canonical("pst"), Some("America/Los_Angeles"));
        assert_eq!(zone("SystemV/EST5EDT"), None);
    }
}
