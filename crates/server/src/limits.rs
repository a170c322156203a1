//! The limits every request is held to. They live in their own module because the router
//! enforces them while extractors and the installation routes word their answers after them.

use std::time::Duration;

/// Largest request body accepted (JSON bodies are small; anything bigger is a mistake or abuse).
pub const BODY_LIMIT: usize = 1 << 20;
/// Longest a non-streaming request may take before it is cancelled with 408.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
