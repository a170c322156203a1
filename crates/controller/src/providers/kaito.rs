//! The `kaito` provider (being written).
