//! The last step of `avg` of DECIMALs as DuckDB 1.5.5 takes it on x86-64:
//! the exact total divided by `count * 10^scale`. For DECIMAL(4) and
//! narrower DuckDB divides DOUBLEs; for wider ones it divides in the x87's
//! extended precision (C's `long double`: 64 significant bits) and rounds
//! the quotient to a DOUBLE, so a last digit can differ from both a
//! DOUBLE division and the correctly rounded quotient (`avg` of
//! 500952713571280.655, -832973300086308.911, 235659779599173.669 is
//! -32120268971951.527 there, -32120268971951.53 by DOUBLEs). Rust has no
//! such type: [`Extended`] does the three roundings DuckDB's division
//! makes, exactly.

/// `total / (count * 10^scale)` as DuckDB 1.5.5's `avg` of a
/// DECIMAL(`precision`, `scale`) gives it, `total` being the exact sum of
/// the values' unscaled integers and `count` (> 0) their number.
pub(crate) fn duckdb_average(total: i128, count: u64, precision: u8, scale: i8) -> f64 {
    let scale = power_of_ten(scale);
    if precision <= 4 {
        // A DECIMAL(4) is a 16-bit integer in DuckDB, averaged in DOUBLEs.
        return total as f64 / (count as f64 * scale);
    }
    let divisor = Extended::product(count, scale);
    Extended::of(total.is_negative(), total.unsigned_abs())
        .divided_by(divisor)
        .to_f64()
}

/// 10^`scale` as DuckDB converts its 128-bit integer to a DOUBLE: the
/// upper 64 bits, rounded, times 2^64 plus the lower 64 bits, rounded
/// (so 10^37 is not the DOUBLE nearest to it).
fn power_of_ten(scale: i8) -> f64 {
    let power = 10u128.pow(u32::from(scale.unsigned_abs()));
    let (upper, lower) = ((power >> 64) as u64, power as u64);
    lower as f64 + upper as f64 * (u64::MAX as f64 + 1.0)
}

/// A number `±mantissa * 2^exponent` with 64 significant bits, as the
/// x87 holds a `long double`; `mantissa` has its top bit set (or is 0).
#[derive(Clone, Copy, Debug, PartialEq)]
struct Extended {
    negative: bool,
    mantissa: u64,
    exponent: i32,
}

impl Extended {
    /// `±magnitude` rounded to 64 significant bits, to nearest, ties to
    /// even (exact up to 2^64).
    fn of(negative: bool, magnitude: u128) -> Self {
        let bits = 128 - magnitude.leading_zeros() as i32;
        if bits <= 64 {
            let mantissa = (magnitude as u64) << (64 - bits).min(63);
            let mantissa = if bits == 0 { 0 } else { mantissa };
            return Self {
                negative,
                mantissa,
                exponent: bits - 64,
            };
        }
        let shift = bits - 64;
        let kept = magnitude >> shift;
        let rest = magnitude & ((1u128 << shift) - 1);
        let half = 1u128 << (shift - 1);
        let up = rest > half || (rest == half && kept & 1 == 1);
        Self::rounded(negative, kept, up, shift)
    }

    /// `count * scale` (a DOUBLE holding an integer >= 1), rounded once.
    fn product(count: u64, scale: f64) -> Self {
        let bits = scale.to_bits();
        let biased = ((bits >> 52) & 0x7ff) as i32;
        let significand = (bits & ((1u64 << 52) - 1)) | (1u64 << 52);
        let exact = u128::from(count) * u128::from(significand);
        let mut product = Self::of(false, exact);
        product.exponent += biased - 1023 - 52;
        product
    }

    /// `kept` (64 bits, or 65 after a carry) rounded up by one where `up`,
    /// times 2^`exponent`.
    fn rounded(negative: bool, kept: u128, up: bool, exponent: i32) -> Self {
        let kept = kept + u128::from(up);
        let (mantissa, exponent) = match kept >> 64 {
            0 => (kept as u64, exponent),
            _ => ((kept >> 1) as u64, exponent + 1),
        };
        Self {
            negative,
            mantissa,
            exponent,
        }
    }

    /// `self / divisor` rounded to 64 significant bits (`divisor` not 0).
    fn divided_by(self, divisor: Self) -> Self {
        let negative = self.negative != divisor.negative;
        if self.mantissa == 0 || divisor.mantissa == 0 {
            return Self {
                negative,
                mantissa: 0,
                exponent: 0,
            };
        }
        let dividend = u128::from(self.mantissa) << 64;
        let d = u128::from(divisor.mantissa);
        // Both mantissas have their top bit set: the quotient has 64 or
        // 65 bits.
        let (quotient, remainder) = (dividend / d, dividend % d);
        let exponent = self.exponent - divisor.exponent - 64;
        if quotient >> 64 != 0 {
            let kept = quotient >> 1;
            let guard = quotient & 1 == 1;
            let up = guard && (remainder != 0 || kept & 1 == 1);
            Self::rounded(negative, kept, up, exponent + 1)
        } else {
            let twice = remainder * 2;
            let up = twice > d || (twice == d && quotient & 1 == 1);
            Self::rounded(negative, quotient, up, exponent)
        }
    }

    /// The DOUBLE nearest to `self` (ties to even), as the x87 stores a
    /// `long double` into a `double`.
    fn to_f64(self) -> f64 {
        if self.mantissa == 0 {
            return if self.negative { -0.0 } else { 0.0 };
        }
        let kept = u128::from(self.mantissa >> 11);
        let rest = self.mantissa & 0x7ff;
        let up = rest > 0x400 || (rest == 0x400 && kept & 1 == 1);
        let kept = kept + u128::from(up);
        let (significand, exponent) = match kept >> 53 {
            0 => (kept as u64, self.exponent + 11),
            _ => ((kept >> 1) as u64, self.exponent + 12),
        };
        let biased = exponent + 52 + 1023;
        let magnitude = if (1..=2046).contains(&biased) {
            f64::from_bits(((biased as u64) << 52) | (significand & ((1u64 << 52) - 1)))
        } else {
            significand as f64 * 2f64.powi(exponent)
        };
        if self.negative { -magnitude } else { magnitude }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Averages DuckDB 1.5.5 gives (x86-64), each unlike the DOUBLE
    /// division's or the correctly rounded quotient's last digit.
    #[test]
    fn averages_round_as_duckdbs_long_double_division() {
        let total: i128 = 500952713571280655 - 832973300086308911 + 235659779599173669;
        assert_eq!(duckdb_average(total, 3, 18, 3), -32120268971951.527);
        let total: i128 =
            24208458646440889027818083674946047914 + 9573183045430110754931124758871392093;
        assert_eq!(duckdb_average(total, 2, 38, 37), 1.6890820845935501);
        let total: i128 = 115723638610873035591050643729 - 25038856548095156183305253637
            + 201839104007089895942809654602
            + 244723946142121293684142486733;
        assert_eq!(duckdb_average(total, 4, 30, 20), 1343119580.5299728);
        assert_eq!(duckdb_average(6, 3, 2, 1), 0.2);
        assert_eq!(duckdb_average(-15, 1, 9, 1), -1.5);
        assert_eq!(duckdb_average(0, 5, 18, 0), 0.0);
    }

    /// Rounding to 64 bits is exact below 2^64 and to nearest, ties to
    /// even, above.
    #[test]
    fn extended_rounds_to_64_bits() {
        let exact = Extended::of(false, u128::from(u64::MAX));
        assert_eq!((exact.mantissa, exact.exponent), (u64::MAX, 0));
        let tie_down = Extended::of(false, (1u128 << 65) + 2);
        assert_eq!((tie_down.mantissa, tie_down.exponent), (1u64 << 63, 2));
        let tie_up = Extended::of(false, (1u128 << 65) + 6);
        assert_eq!((tie_up.mantissa, tie_up.exponent), ((1u64 << 63) + 2, 2));
        let carry = Extended::of(true, (1u128 << 66) - 1);
        assert_eq!((carry.mantissa, carry.exponent), (1u64 << 63, 3));
        assert_eq!(carry.to_f64(), -(2f64.powi(66)));
    }
}
