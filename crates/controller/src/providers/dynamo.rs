//! The `dynamo` provider (being written).
