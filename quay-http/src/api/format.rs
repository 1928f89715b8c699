//! How `/api/v1` writes dates and page tokens, and reads its date parameters.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use serde::de::DeserializeOwned;
use time::Date;
use time::macros::format_description;

use super::error::{ApiError, ApiResult};

/// Milliseconds in a day.
pub(crate) const DAY_MS: i64 = 86_400_000;

/// A time as Quay writes it: RFC 2822 in UTC, e.g. `Tue, 01 Jul 2025 10:00:00 -0000`.
pub(crate) use quay_core::audit::rfc2822;

/// The start (UTC) of the day `text` names, in Quay's `%m/%d/%Y`.
pub(crate) fn day_start(text: &str) -> ApiResult<i64> {
    let format = format_description!("[month padding:none]/[day padding:none]/[year]");
    let date = Date::parse(text.trim(), &format).map_err(|_| {
        ApiError::invalid(format!("Invalid date {text:?}: expected month/day/year"))
    })?;
    let seconds = date.midnight().assume_utc().unix_timestamp();
    Ok(seconds * 1000)
}

/// An opaque `next_page` token for `position`. It is not secret: it only says where the
/// next page starts within what the request itself may read.
pub(crate) fn page_token<T: Serialize>(position: &T) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(position).unwrap_or_default())
}

/// The position a `next_page` token names.
pub(crate) fn page_position<T: DeserializeOwned>(token: &str) -> ApiResult<T> {
    URL_SAFE_NO_PAD
        .decode(token)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .ok_or_else(|| ApiError::invalid("Invalid next_page token"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_as_quay_writes_and_reads_them() {
        assert_eq!(
            rfc2822(1_751_364_000_000),
            "Tue, 01 Jul 2025 10:00:00 -0000"
        );
        assert_eq!(day_start("07/01/2025").unwrap(), 1_751_328_000_000);
        assert_eq!(day_start("7/1/2025").unwrap(), 1_751_328_000_000);
        assert!(day_start("2025-07-01").is_err());
        assert!(day_start("13/01/2025").is_err());
    }

    #[test]
    fn page_tokens_round_trip_and_refuse_garbage() {
        let token = page_token(&(1_i64, 2_i64));
        assert_eq!(page_position::<(i64, i64)>(&token).unwrap(), (1, 2));
        assert!(page_position::<(i64, i64)>("!!").is_err());
        assert!(page_position::<(i64, i64)>(&page_token(&"text")).is_err());
    }
}
