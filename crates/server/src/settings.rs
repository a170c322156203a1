//! Settings (api.md §4): the `config.json` key of ConfigMap `kubeairunway-system/kubeairunway-config`,
//! read from the watch cache so edits made with kubectl show up without a restart.

use k8s_openapi::api::core::v1::ConfigMap;
use serde_json::{Map, Value};
use utoipa_axum::router::OpenApiRouter;

use crate::AppState;
use crate::cache::{SETTINGS_CONFIG_MAP, SETTINGS_NAMESPACE};

/// The key of the ConfigMap that holds the settings JSON.
pub(crate) const CONFIG_KEY: &str = "config.json";

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
}

/// The stored settings object (empty when the ConfigMap, its key or valid JSON is missing).
pub(crate) fn stored(state: &AppState) -> Map<String, Value> {
    let Ok(caches) = state.caches() else {
        return Map::new();
    };
    caches
        .settings
        .state()
        .iter()
        .find(|cm| {
            cm.metadata.name.as_deref() == Some(SETTINGS_CONFIG_MAP)
                && cm.metadata.namespace.as_deref() == Some(SETTINGS_NAMESPACE)
        })
        .and_then(|cm: &std::sync::Arc<ConfigMap>| cm.data.as_ref()?.get(CONFIG_KEY).cloned())
        .and_then(|text| serde_json::from_str::<Value>(&text).ok())
        .and_then(|v| v.as_object().cloned())
        .unwrap_or_default()
}

/// The namespace used when a request names none: the stored `defaultNamespace`, else
/// `DEFAULT_NAMESPACE`.
pub(crate) fn default_namespace(state: &AppState) -> String {
    stored(state)
        .get("defaultNamespace")
        .and_then(Value::as_str)
        .filter(|ns| !ns.is_empty())
        .map_or_else(|| state.config().default_namespace.clone(), str::to_string)
}
