//! HuggingFace: the Hub client, "Sign in with HuggingFace" (OAuth with PKCE, api.md §11) and the
//! token Secret deployments pull gated models with (§12).

pub mod hub;
pub(crate) mod oauth;
pub(crate) mod secrets;

pub use hub::{HfToken, HfUserInfo, Hub, HubConfig, HubError, ModelId, Safetensors};
