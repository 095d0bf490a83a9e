//! The data format a CRM registers for a device model: the names behind condensed positions
//! and the time between historical rows.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A data format (`{"id":…, "data_order":[…], "historical_data_order":[…],
/// "historical_data_interval":…, "variables":{…}}`); what it does not use is kept in `other`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DataFormat {
    /// The id devices send as `data_format_id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<Value>,
    /// Names of the condensed `data` values, by position.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_order: Option<Vec<String>>,
    /// Names of the condensed historical values, by position; an object row may use a
    /// position ("0", "1"…) as a key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub historical_data_order: Option<Vec<String>>,
    /// Seconds from one historical row to the next when a row carries no time (negative when
    /// the rows go back in time).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub historical_data_interval: Option<i64>,
    /// Everything else (`variables`…).
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

impl DataFormat {
    /// Whether Python would find the format's dict empty (then 0.6.3 falls back to a format
    /// embedded in the request).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.id.is_none()
            && self.data_order.is_none()
            && self.historical_data_order.is_none()
            && self.historical_data_interval.is_none()
            && self.other.is_empty()
    }

    /// The data order, when it names at least one value.
    pub(crate) fn data_order(&self) -> Option<&[String]> {
        self.data_order.as_deref().filter(|order| !order.is_empty())
    }
}
