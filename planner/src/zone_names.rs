//! Time zone names in any case, as DuckDB's ICU finds them:
//! `america/new_york` is `America/New_York`, after a time in text and as
//! the session's TimeZone. Arrow's and chrono-tz's lookups (without the
//! `case-insensitive` feature, which would add a dependency) match the
//! case exactly, so `'2024-01-02 06:00:00 america/new_york'` was
//! "Unknown TimeZone".

use std::str::FromStr;

use chrono_tz::{TZ_VARIANTS, Tz};
use datafusion::logical_expr::{LogicalPlan, SetVariable, Statement};

/// The zone `name` names, in any case; None for a name chrono-tz does not
/// know.
pub(crate) fn zone(name: &str) -> Option<Tz> {
    Tz::from_str(name).ok().or_else(|| {
        TZ_VARIANTS
            .iter()
            .copied()
            .find(|tz| tz.name().eq_ignore_ascii_case(name))
    })
}

/// `name` as chrono-tz spells it when it names a zone in another case
/// (arrow then finds it); None when it is already so spelled or names no
/// zone (a fixed offset, or a name DataFusion reports itself).
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
    }
}
