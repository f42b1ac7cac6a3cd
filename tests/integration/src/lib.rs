//! Integration tests of the connector; see tests/api.
