//! The `kuberay` provider (being written).
