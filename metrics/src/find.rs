//! Field look-ups in the small objects of a report. `serde_json`'s map hashes every key with
//! SipHash; a report's objects hold a handful of keys, which a scan compares faster (the
//! length first, then the bytes). Larger objects go through the map's index.

use serde_json::{Map, Value};

/// Objects up to this many keys are scanned.
const SCAN: usize = 16;

/// The value under `name`.
pub(crate) fn get<'m>(map: &'m Map<String, Value>, name: &str) -> Option<&'m Value> {
    if map.len() > SCAN {
        return map.get(name);
    }
    map.iter()
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

/// The value under `name`, to change in place.
pub(crate) fn get_mut<'m>(map: &'m mut Map<String, Value>, name: &str) -> Option<&'m mut Value> {
    if map.len() > SCAN {
        return map.get_mut(name);
    }
    map.iter_mut()
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

/// Sets `name` to `value`: in its place when present (no key allocated), else appended.
pub(crate) fn set(map: &mut Map<String, Value>, name: &str, value: Value) {
    match get_mut(map, name) {
        Some(slot) => *slot = value,
        None => {
            map.insert(name.to_owned(), value);
        }
    }
}
