//! Listings a page at a time, and the opaque cursors that carry DynamoDB's `LastEvaluatedKey`.

use std::collections::HashMap;

use base64::Engine as _;

use super::{keys, s, Item};
use crate::domain::ParseError;

/// One page of a listing and the opaque cursor for the next, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

/// The key attributes a listing cursor may carry.
const CURSOR_ATTRIBUTES: [&str; 6] = [
    keys::PK,
    keys::SK,
    keys::GSI1_PK,
    keys::GSI1_SK,
    keys::GSI2_PK,
    keys::GSI2_SK,
];

/// Encodes DynamoDB's `LastEvaluatedKey` as an opaque, URL-safe cursor.
pub(crate) fn encode_cursor(key: &Item) -> Option<String> {
    let mut map = serde_json::Map::new();
    for (name, value) in key {
        map.insert(
            name.clone(),
            serde_json::Value::String(value.as_s().ok()?.clone()),
        );
    }
    Some(
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(serde_json::Value::Object(map).to_string()),
    )
}

/// Decodes a cursor, checking it belongs to the listing of `index_pk_name` = `index_pk`, so a
/// forged or foreign cursor is a 400, not a DynamoDB validation error.
pub(crate) fn decode_cursor(
    raw: &str,
    index_pk_name: &str,
    index_pk: &str,
) -> Result<Item, ParseError> {
    let bad = || ParseError::new("cursor", "is not a cursor returned by this listing");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(raw)
        .map_err(|_| bad())?;
    let map: HashMap<String, String> = serde_json::from_slice(&bytes).map_err(|_| bad())?;
    if map.get(index_pk_name).map(String::as_str) != Some(index_pk)
        || map.keys().any(|k| !CURSOR_ATTRIBUTES.contains(&k.as_str()))
        || map.values().any(|v| v.len() > 1024)
    {
        return Err(bad());
    }
    Ok(map.into_iter().map(|(k, v)| (k, s(v))).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_foreign_partitions() {
        let key: Item = HashMap::from([
            ("pk".to_owned(), s("CONN#1")),
            ("sk".to_owned(), s("META")),
            ("gsi2pk".to_owned(), s("USER#u1")),
            ("gsi2sk".to_owned(), s("2026#1")),
        ]);
        let cursor = encode_cursor(&key).unwrap();
        assert_eq!(decode_cursor(&cursor, "gsi2pk", "USER#u1").unwrap(), key);
        assert_eq!(
            decode_cursor(&cursor, "gsi2pk", "USER#u2")
                .unwrap_err()
                .field,
            "cursor"
        );
        for bad in ["", "!!!", "e30", "bm90IGpzb24"] {
            assert!(decode_cursor(bad, "gsi2pk", "USER#u1").is_err(), "{bad}");
        }
    }
}
