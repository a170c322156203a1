//! HuggingFace: the Hub client (`hub.rs`: ids, tokens, timeouts, the Hub's error conventions,
//! caches) and the sign-ins pending with it (`signin.rs`). This tree speaks to the Hub only; the
//! routes that use it (`/api/oauth/huggingface`, `/api/secrets/huggingface`, the model routes)
//! map its errors to answers.

pub mod hub;
pub(crate) mod signin;

pub use hub::{
    HfToken, HfUserInfo, Hub, HubConfig, HubError, InvalidModelId, InvalidToken, ModelId,
    Safetensors,
};
