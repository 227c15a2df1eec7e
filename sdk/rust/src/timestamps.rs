//! Timestamps in feeds into Unix microseconds: calendar times (`YYYY-MM-DD HH:MM[:SS[.fraction]]`,
//! `T` or space, optional `Z`) or plain seconds. One set of rules for every adapter, so two adapters
//! put one file's rows at the same simulation times. Written out (a few lines of calendar arithmetic)
//! rather than pulling a date crate into every plugin component. Cost: one pass over a short string;
//! no allocation.

/// Parses a timestamp into Unix microseconds: `YYYY-MM-DD HH:MM[:SS[.fraction]]` (or with `T`), an
/// optional trailing `Z` (times without a zone are taken as they are, like the zone of the epoch), or
/// a plain number of seconds since the Unix epoch. `None` for anything else or out of range.
///
/// ```
/// use sangam_sdk::timestamps::parse_time;
/// assert_eq!(parse_time("1970-01-02 00:00:01"), Some(86_401_000_000));
/// assert_eq!(parse_time("1.5"), Some(1_500_000));
/// assert_eq!(parse_time("2012-02-30 00:00:00"), None);
/// ```
pub fn parse_time(text: &str) -> Option<i64> {
    let t = text.trim();
    if let Ok(seconds) = t.parse::<f64>() {
        return seconds_to_us(seconds);
    }
    let t = t.strip_suffix('Z').unwrap_or(t);
    let (date, time) = t.split_once([' ', 'T'])?;
    let mut d = date.split('-');
    let (year, month, day) = (d.next()?, d.next()?, d.next()?);
    if d.next().is_some() || year.len() != 4 || month.len() != 2 || day.len() != 2 {
        return None;
    }
    let (year, month, day): (i64, u32, u32) = (digits(year)?, digits(month)?, digits(day)?);
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
        return None;
    }
    let mut parts = time.trim().split(':');
    let hour: i64 = digits(parts.next()?)?;
    let minute: i64 = digits(parts.next()?)?;
    let (second, micros) = match parts.next() {
        None => (0, 0),
        Some(s) => {
            let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
            let frac = if frac.is_empty() {
                0
            } else if frac.len() <= 6 {
                digits::<i64>(frac)? * 10_i64.pow(6 - frac.len() as u32)
            } else {
                return None;
            };
            (digits::<i64>(whole)?, frac)
        }
    };
    if parts.next().is_some() || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let days = days_from_civil(year, month, day);
    Some(((days * 24 + hour) * 60 + minute) * 60_000_000 + second * 1_000_000 + micros)
}

/// Seconds since the Unix epoch to microseconds; `None` when not finite or beyond about ±292,000
/// years (where the microseconds would not fit an `i64`).
pub fn seconds_to_us(seconds: f64) -> Option<i64> {
    (seconds.is_finite() && seconds.abs() < 9.2e12).then(|| (seconds * 1e6).round() as i64)
}

/// Parses an ASCII-digit-only field.
fn digits<T: std::str::FromStr>(s: &str) -> Option<T> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_match_the_calendar() {
        // 2012-10-02 09:00:00 UTC is Unix time 1349168400 (independently known value).
        assert_eq!(parse_time("2012-10-02 09:00:00"), Some(1_349_168_400_000_000));
        assert_eq!(parse_time("2012-10-02T09:00:00Z"), Some(1_349_168_400_000_000));
        assert_eq!(parse_time("2000-02-29 00:00"), Some(951_782_400_000_000));
        assert_eq!(parse_time("1969-12-31 23:59:59.5"), Some(-500_000));
        assert_eq!(parse_time("1900-02-29 00:00:00"), None);
        assert_eq!(parse_time("2012-10-02 24:00:00"), None);
        assert_eq!(parse_time("2012-10-02 09:00:00.1234567"), None);
        assert_eq!(parse_time("1e300"), None);
        assert_eq!(parse_time("NaN"), None);
        assert_eq!(parse_time("-1.25"), Some(-1_250_000));
    }
}
