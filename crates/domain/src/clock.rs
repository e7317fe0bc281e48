//! Moments and spans of time. A `Timestamp` is a UTC instant to the millisecond; how it is kept
//! at rest (milliseconds since the Unix epoch) is the store's business, and what people and
//! clients see is RFC 3339. Rules take "now" as an argument, so they are tested with any clock.

use crate::validation::ParseError;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// A UTC instant, to the millisecond.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[cfg_attr(feature = "sqlx", derive(sqlx::Type), sqlx(transparent))]
pub struct Timestamp(i64);

/// A length of time, to the millisecond; negative when it runs backwards.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Span(i64);

impl Span {
    pub const ZERO: Span = Span(0);
    pub const SECOND: Span = Span(1_000);
    pub const MINUTE: Span = Span(60_000);
    pub const HOUR: Span = Span(3_600_000);
    pub const DAY: Span = Span(86_400_000);

    pub const fn from_millis(ms: i64) -> Span {
        Span(ms)
    }

    pub const fn as_millis(self) -> i64 {
        self.0
    }

    /// `n` days, or `None` where that many would not fit (numbers people type are unbounded).
    pub fn days(n: i64) -> Option<Span> {
        n.checked_mul(Span::DAY.0).map(Span)
    }

    pub fn hours(n: i64) -> Option<Span> {
        n.checked_mul(Span::HOUR.0).map(Span)
    }

    pub fn minutes(n: i64) -> Option<Span> {
        n.checked_mul(Span::MINUTE.0).map(Span)
    }

    /// Whole days in the span, rounded towards zero.
    pub const fn whole_days(self) -> i64 {
        self.0 / Span::DAY.0
    }

    pub fn as_hours_f64(self) -> f64 {
        self.0 as f64 / Span::HOUR.0 as f64
    }

    /// `self` times `n`, saturating (for windows computed from configuration).
    pub const fn times(self, n: i64) -> Span {
        Span(self.0.saturating_mul(n))
    }
}

impl Timestamp {
    /// The earliest moment the product deals in (the Unix epoch).
    pub const EPOCH: Timestamp = Timestamp(0);

    pub const fn from_millis(ms: i64) -> Timestamp {
        Timestamp(ms)
    }

    pub const fn as_millis(self) -> i64 {
        self.0
    }

    /// The system clock. Only the edges call this (a request, a background job); everything
    /// they call takes the moment as an argument.
    pub fn now() -> Timestamp {
        Timestamp::from(OffsetDateTime::now_utc())
    }

    /// Parses RFC 3339 (`2026-10-01T09:30:00Z`, any offset, fractions of a second dropped
    /// below the millisecond).
    pub fn parse(text: &str) -> Result<Timestamp, ParseError> {
        OffsetDateTime::parse(text.trim(), &Rfc3339)
            .map(Timestamp::from)
            .map_err(|_| {
                ParseError(format!(
                    "{text:?} is not a date and time such as 2026-10-01T09:30:00Z"
                ))
            })
    }

    /// RFC 3339 in UTC with milliseconds, always the same width, so it sorts as text.
    pub fn to_rfc3339(self) -> String {
        let at = self.to_offset();
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
            at.year(),
            u8::from(at.month()),
            at.day(),
            at.hour(),
            at.minute(),
            at.second(),
            at.millisecond()
        )
    }

    pub fn to_offset(self) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(self.0) * 1_000_000)
            .unwrap_or(OffsetDateTime::UNIX_EPOCH)
    }

    /// Whether `zone` names a time zone of the IANA database.
    pub fn known_zone(zone: &str) -> bool {
        zone.len() <= 64 && crate::sla::zones().get(zone).is_ok()
    }

    /// The moment as a person reads it in `zone` (an IANA name such as `Europe/Berlin`),
    /// minutes only and the zone named: `2026-12-01 20:35 CET`. An unknown zone reads as UTC.
    pub fn in_zone(self, zone: &str) -> String {
        let tz = crate::sla::zones()
            .get(zone)
            .unwrap_or(jiff::tz::TimeZone::UTC);
        match jiff::Timestamp::from_millisecond(self.0) {
            Ok(at) => at
                .to_zoned_datetime(tz)
                .strftime("%Y-%m-%d %H:%M %Z")
                .to_string(),
            Err(_) => self.to_rfc3339(),
        }
    }

    /// The UTC calendar day of this moment.
    pub fn date(self) -> time::Date {
        self.to_offset().date()
    }

    /// Midnight UTC at the start of `date`.
    pub fn start_of(date: time::Date) -> Timestamp {
        Timestamp::from(date.midnight().assume_utc())
    }

    /// `self + span`, saturating at the ends of time rather than overflowing.
    pub const fn plus(self, span: Span) -> Timestamp {
        Timestamp(self.0.saturating_add(span.0))
    }

    pub const fn minus(self, span: Span) -> Timestamp {
        Timestamp(self.0.saturating_sub(span.0))
    }

    /// `self + span`, or `None` past the ends of time.
    pub fn checked_plus(self, span: Span) -> Option<Timestamp> {
        self.0.checked_add(span.0).map(Timestamp)
    }

    /// How long after `earlier` this is (negative if before).
    pub const fn since(self, earlier: Timestamp) -> Span {
        Span(self.0.saturating_sub(earlier.0))
    }
}

impl From<OffsetDateTime> for Timestamp {
    fn from(at: OffsetDateTime) -> Timestamp {
        Timestamp((at.unix_timestamp_nanos() / 1_000_000) as i64)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_rfc3339())
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Timestamp, D::Error> {
        let text = String::deserialize(deserializer)?;
        Timestamp::parse(&text).map_err(|e| serde::de::Error::custom(e.0))
    }
}

impl utoipa::PartialSchema for Timestamp {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
                utoipa::openapi::KnownFormat::DateTime,
            )))
            .description(Some("RFC 3339, UTC, milliseconds"))
            .into()
    }
}

impl utoipa::ToSchema for Timestamp {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_in_and_out() {
        let at = Timestamp::parse("2026-10-01T09:30:00Z").unwrap();
        assert_eq!(at.as_millis(), 1_790_847_000_000);
        assert_eq!(at.to_rfc3339(), "2026-10-01T09:30:00.000Z");
        // Offsets are honoured, sub-millisecond digits dropped.
        let same = Timestamp::parse("2026-10-01T11:30:00.0004+02:00").unwrap();
        assert_eq!(same, at);
        assert_eq!(
            Timestamp::from_millis(5).to_rfc3339(),
            "1970-01-01T00:00:00.005Z"
        );
        assert!(Timestamp::parse("yesterday")
            .unwrap_err()
            .0
            .contains("2026-10-01"));
        assert!(Timestamp::parse("2026-13-01T00:00:00Z").is_err());
    }

    #[test]
    fn serde_speaks_rfc3339() {
        let at = Timestamp::from_millis(1_790_847_000_123);
        let json = serde_json::to_string(&at).unwrap();
        assert_eq!(json, "\"2026-10-01T09:30:00.123Z\"");
        assert_eq!(serde_json::from_str::<Timestamp>(&json).unwrap(), at);
        assert!(serde_json::from_str::<Timestamp>("12").is_err());
    }

    #[test]
    fn arithmetic_saturates_and_checked_spans_refuse_overflow() {
        let at = Timestamp::from_millis(1_000);
        assert_eq!(at.plus(Span::SECOND).as_millis(), 2_000);
        assert_eq!(at.minus(Span::DAY).as_millis(), 1_000 - 86_400_000);
        assert_eq!(at.plus(Span::from_millis(i64::MAX)).as_millis(), i64::MAX);
        assert_eq!(Span::minutes(153_722_867_280_912_930), None);
        assert_eq!(Span::days(2), Some(Span::from_millis(172_800_000)));
        assert_eq!(at.checked_plus(Span::from_millis(i64::MAX)), None);
        let later = Timestamp::from_millis(1_000 + 3 * 86_400_000 + 5);
        assert_eq!(later.since(at).whole_days(), 3);
        assert_eq!(at.since(later).whole_days(), -3);
    }

    #[test]
    fn moments_read_in_the_viewers_zone_with_the_zone_named() {
        // 2026-12-01T19:35:00Z
        let at = Timestamp::parse("2026-12-01T19:35:00Z").unwrap();
        assert_eq!(at.in_zone("Europe/Berlin"), "2026-12-01 20:35 CET");
        assert_eq!(at.in_zone("America/New_York"), "2026-12-01 14:35 EST");
        // Summer time is named as such.
        let july = Timestamp::parse("2026-07-01T12:00:00Z").unwrap();
        assert_eq!(july.in_zone("Europe/Berlin"), "2026-07-01 14:00 CEST");
        assert_eq!(at.in_zone("UTC"), "2026-12-01 19:35 UTC");
        assert_eq!(at.in_zone("Mars/Olympus"), "2026-12-01 19:35 UTC");
    }

    #[test]
    fn calendar_days_are_utc() {
        let at = Timestamp::parse("2026-03-29T23:59:59.999Z").unwrap();
        let day = at.date();
        assert_eq!(day.to_string(), "2026-03-29");
        assert_eq!(
            Timestamp::start_of(day).to_rfc3339(),
            "2026-03-29T00:00:00.000Z"
        );
        assert_eq!(at.since(Timestamp::start_of(day)), Span::DAY.minus_one_ms());
    }

    impl Span {
        fn minus_one_ms(self) -> Span {
            Span(self.0 - 1)
        }
    }
}
