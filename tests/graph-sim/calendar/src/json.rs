//! Small helpers for reading Graph request bodies: property names are matched
//! case-insensitively (Graph binds `Subject` and `subject` alike), `null` counts as absent, and a
//! value of the wrong JSON type is an `ErrorInvalidRequest`.

use serde_json::{Map, Value};

use crate::error::CalendarError;

/// The value of `key` (case-insensitive), if present.
pub(crate) fn field<'a>(obj: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    obj.get(key).or_else(|| {
        obj.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v)
    })
}

/// Whether `key` is present at all (even as `null`).
pub(crate) fn has(obj: &Map<String, Value>, key: &str) -> bool {
    field(obj, key).is_some()
}

fn wrong_type(what: &str, ty: &str) -> CalendarError {
    CalendarError::InvalidRequest(format!("Property '{what}' must be {ty}."))
}

pub(crate) fn opt_str<'a>(
    obj: &'a Map<String, Value>,
    key: &str,
    what: &str,
) -> Result<Option<&'a str>, CalendarError> {
    match field(obj, key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(wrong_type(what, "a string")),
    }
}

pub(crate) fn opt_bool(
    obj: &Map<String, Value>,
    key: &str,
    what: &str,
) -> Result<Option<bool>, CalendarError> {
    match field(obj, key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(wrong_type(what, "a boolean")),
    }
}

pub(crate) fn opt_i64(
    obj: &Map<String, Value>,
    key: &str,
    what: &str,
) -> Result<Option<i64>, CalendarError> {
    match field(obj, key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_i64()
            .map(Some)
            .ok_or_else(|| wrong_type(what, "an integer")),
    }
}

pub(crate) fn as_object<'a>(
    value: &'a Value,
    what: &str,
) -> Result<&'a Map<String, Value>, CalendarError> {
    value
        .as_object()
        .ok_or_else(|| wrong_type(what, "an object"))
}
