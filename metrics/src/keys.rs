//! The condensed key names of 0.6.3 (`CONDENSED_KEY_NAMES`), both ways, top level only: data
//! keys are condensed through the data format's order, not through this table.
//!
//! 0.6.3 writes `dtc` for `data_collection_timestamp` where the spec's table says `dct`; the
//! wire format is 0.6.3's.

use serde_json::{Map, Value};

/// (full name, condensed name), in 0.6.3's order.
pub const KEYS: [(&str, &str); 18] = [
    ("serial_number", "sn"),
    ("timestamp", "ts"),
    ("auth", "a"),
    ("request_count", "rc"),
    ("data_collection_timestamp", "dtc"),
    ("data_format_id", "df"),
    ("data_format", "dfo"),
    ("data", "d"),
    ("historical_data", "hd"),
    ("accessories", "acc"),
    ("token_list", "tkl"),
    ("active_until_timestamp", "auts"),
    ("active_seconds_left", "asl"),
    ("settings", "st"),
    ("extra_data", "ed"),
    ("token_count", "tc"),
    ("active_until_timestamp_requested", "autsr"),
    ("active_seconds_left_requested", "aslr"),
];

/// The full name of a condensed key; any other key as it is.
#[must_use]
pub fn to_simple(key: &str) -> &str {
    KEYS.iter()
        .find(|(_, short)| *short == key)
        .map_or(key, |(full, _)| full)
}

/// The condensed name of a full key; any other key as it is.
#[must_use]
pub fn to_condensed(key: &str) -> &str {
    KEYS.iter()
        .find(|(full, _)| *full == key)
        .map_or(key, |(_, short)| short)
}

/// The table's full name for a condensed or a full name (`None` for any other key), as a
/// `&'static str` the parsed report keeps without allocating.
pub(crate) fn full_name(key: &str) -> Option<&'static str> {
    KEYS.iter()
        .find(|(full, short)| *short == key || *full == key)
        .map(|(full, _)| *full)
}

/// A copy of `map` under full key names. Two keys that name the same field merge as in a
/// Python dict: the first one's place, the last one's value.
#[must_use]
pub fn simple_keys(map: &Map<String, Value>) -> Map<String, Value> {
    let mut out = Map::with_capacity(map.len());
    for (key, value) in map {
        out.insert(to_simple(key).to_owned(), value.clone());
    }
    out
}

/// `map` moved under full key names, as [`simple_keys`].
#[must_use]
pub fn into_simple_keys(map: Map<String, Value>) -> Map<String, Value> {
    let mut out = Map::with_capacity(map.len());
    for (key, value) in map {
        let key = match to_simple(&key) {
            full if full.len() != key.len() => full.to_owned(),
            _ => key,
        };
        out.insert(key, value);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_ways() {
        for (full, short) in KEYS {
            assert_eq!(to_simple(short), full);
            assert_eq!(to_condensed(full), short);
        }
        assert_eq!(to_simple("dct"), "dct");
        assert_eq!(to_simple("x"), "x");
    }

    #[test]
    fn merged_keys_keep_the_first_place_and_the_last_value() {
        let map: Map<String, Value> =
            serde_json::from_str(r#"{"sn":"a","ts":1,"serial_number":"b"}"#).unwrap();
        let out = into_simple_keys(map);
        let keys: Vec<_> = out.keys().map(String::as_str).collect();
        assert_eq!(keys, ["serial_number", "timestamp"]);
        assert_eq!(out["serial_number"], "b");
    }
}
