//! The checked constructors of limits, for values that come from the API. They live apart
//! from the types because they answer with [`Error`], which itself names [`super::Reached`].

use super::{LimitKind, QuotaLimit};
use crate::error::{Error, Result};

impl LimitKind {
    /// Quay's spelling (`Warning`, `Reject`), accepted in any case.
    pub fn parse(text: &str) -> Result<Self> {
        match text.to_ascii_lowercase().as_str() {
            "warning" => Ok(Self::Warning),
            "reject" => Ok(Self::Reject),
            _ => Err(Error::InvalidRequest(format!(
                "Quota limit type must be Warning or Reject, not {text:?}"
            ))),
        }
    }
}

impl QuotaLimit {
    /// A limit, with the threshold checked.
    pub fn new(kind: LimitKind, threshold_percent: i64) -> Result<Self> {
        match u8::try_from(threshold_percent) {
            Ok(percent @ 1..=100) => Ok(Self {
                kind,
                threshold_percent: percent,
            }),
            _ => Err(Error::InvalidRequest(
                "Quota limit threshold must be between 1 and 100".into(),
            )),
        }
    }
}
