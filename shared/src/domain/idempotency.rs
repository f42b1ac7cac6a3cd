//! The `Idempotency-Key` header: one type for every idempotent operation (sends, bookings).

use super::ParseError;

/// The header's name, as requests and problem `field`s spell it.
pub const HEADER: &str = "Idempotency-Key";

/// `Idempotency-Key`: 1-255 printable ASCII characters (spaces inside allowed, as in the IETF
/// draft's string form), not only spaces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    pub fn parse(raw: &str) -> Result<Self, ParseError> {
        if raw.is_empty()
            || raw.len() > 255
            || !raw.bytes().all(|b| (0x20..0x7f).contains(&b))
            || raw.trim().is_empty()
        {
            return Err(ParseError::new(
                HEADER,
                "must be 1-255 printable ASCII characters",
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    /// For operations that cannot be made safe without a key (a booking retried without one
    /// could book twice).
    pub fn required(raw: Option<&str>) -> Result<Self, ParseError> {
        match raw {
            Some(k) => Self::parse(k),
            None => Err(ParseError::new(
                HEADER,
                "the header is required so that a retry never books twice",
            )),
        }
    }

    /// A fresh key, for a request that came without one (a UUID: unique, and safe in a URL).
    pub fn generate() -> Self {
        Self(uuid::Uuid::new_v4().to_string())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_printable_ascii_up_to_255() {
        assert!(IdempotencyKey::parse("order-42/attempt 1").is_ok());
        assert!(IdempotencyKey::required(Some("booking-42")).is_ok());
        for bad in ["", "   ", "tab\there", "é", &"k".repeat(256)] {
            assert_eq!(
                IdempotencyKey::parse(bad).unwrap_err().field,
                HEADER,
                "{bad:?}"
            );
        }
        assert_eq!(IdempotencyKey::required(None).unwrap_err().field, HEADER);
        let made = IdempotencyKey::generate();
        assert!(IdempotencyKey::parse(made.as_str()).is_ok());
        assert_ne!(made, IdempotencyKey::generate());
    }
}
