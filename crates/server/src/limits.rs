//! The limits every request is held to. They live in their own module because the router
//! enforces them while extractors and the installation routes word their answers after them.

use std::time::Duration;

/// Largest request body accepted (JSON bodies are small; anything bigger is a mistake or abuse).
pub const BODY_LIMIT: usize = 1 << 20;
/// Longest a non-streaming request may take before it is cancelled with 408.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Marks a response whose body trickles out keep-alive bytes until its answer is ready (a
/// synchronous installation, an AI Configurator analysis): such a response starts within
/// [`REQUEST_TIMEOUT`] and may then take longer. Compressing it would hold the keep-alive bytes
/// back, so `lib.rs` skips compression for responses carrying it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Uncompressed;
