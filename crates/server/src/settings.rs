//! Settings (docs/contract/api.md §4): the `config.json` key of ConfigMap
//! `kubeairunway-system/kubeairunway-config`, read from the watch cache so edits made with kubectl
//! show up without a restart (§19.13), and written with the caller's own credentials, so RBAC
//! decides who may change them.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::PostParams;
use kube::{Api, Client};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::activity::{self, Action, Change, Target};
use crate::auth::Caller;
use crate::cache::{Kind, SETTINGS_CONFIG_MAP, SETTINGS_NAMESPACE};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiJson, validate_namespace};
use crate::state::AppState;

/// The key of the ConfigMap that holds the settings JSON.
pub(crate) const CONFIG_KEY: &str = "config.json";
/// Labels of the ConfigMap and of the namespace when settings create it (docs/contract/api.md
/// §17.2).
const LABELS: [(&str, &str); 2] = [
    ("app.kubernetes.io/name", "kubeairunway"),
    ("app.kubernetes.io/managed-by", "kubeairunway"),
];
/// How often a write is retried when someone else changed the ConfigMap in between.
const WRITE_ATTEMPTS: usize = 3;
/// How long a successful write waits for the cache to show it (read-your-writes for `GET`).
const CACHE_CATCH_UP: Duration = Duration::from_secs(2);

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_settings, put_settings))
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
        .and_then(|cm: &std::sync::Arc<ConfigMap>| config_of(cm))
        .unwrap_or_default()
}

/// The namespace used when a request names none: the stored `defaultNamespace`, else
/// `DEFAULT_NAMESPACE`.
pub(crate) fn default_namespace(state: &AppState) -> String {
    stored_namespace(&stored(state))
        .map_or_else(|| state.config().default_namespace.clone(), str::to_string)
}

/// The stored `defaultNamespace` when it is a namespace a request could name. An edit made with
/// kubectl may store anything there, and the value ends up in API paths, so anything else
/// counts as unset.
fn stored_namespace(config: &Map<String, Value>) -> Option<&str> {
    config
        .get("defaultNamespace")
        .and_then(Value::as_str)
        .filter(|ns| validate_namespace(ns).is_ok())
}

/// The settings object of a ConfigMap, if it holds one.
fn config_of(cm: &ConfigMap) -> Option<Map<String, Value>> {
    cm.data
        .as_ref()?
        .get(CONFIG_KEY)
        .and_then(|text| serde_json::from_str::<Value>(text).ok())
        .and_then(|v| match v {
            Value::Object(map) => Some(map),
            _ => None,
        })
}

/// What clients see: the stored object with `defaultNamespace` filled in when unset or not a
/// namespace (the one [`default_namespace`] uses).
fn effective(mut config: Map<String, Value>, fallback: &str) -> Map<String, Value> {
    if stored_namespace(&config).is_none() {
        config.insert("defaultNamespace".into(), Value::String(fallback.into()));
    }
    config
}

/// Whether auth is on (`GET /api/settings`'s `auth`).
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct AuthSettings {
    /// Requests need a Kubernetes bearer token.
    pub enabled: bool,
}

/// `GET /api/settings` response.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct SettingsResponse {
    /// The stored settings (`defaultNamespace` and any other stored keys).
    #[schema(value_type = Object)]
    pub config: Map<String, Value>,
    /// Authentication mode of the server.
    pub auth: AuthSettings,
}

/// `PUT /api/settings` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct SettingsUpdate {
    /// Namespace used when a request names none (a DNS-1123 label).
    pub default_namespace: Option<String>,
}

/// Why a `PUT /api/settings` body is not an update (the client's to fix).
#[derive(Debug, thiserror::Error)]
pub(crate) enum InvalidSettings {
    /// A field is unknown or has the wrong type (the message names its path).
    #[error("Invalid request body: {0}")]
    Fields(#[from] serde_path_to_error::Error<serde_json::Error>),
    /// The body is not a JSON object.
    #[error("Invalid request body: expected a JSON object, got {0}")]
    NotAnObject(&'static str),
}

impl SettingsUpdate {
    /// The update in a JSON body, which must be an object (serde would otherwise accept an
    /// array of field values in declaration order).
    fn parse(body: Value) -> Result<Self, InvalidSettings> {
        match body {
            Value::Object(_) => Ok(serde_path_to_error::deserialize(body)?),
            other => Err(InvalidSettings::NotAnObject(kind_of(&other))),
        }
    }

    /// [`Self::parse`], then the rules of the values (the namespace must be a DNS-1123 label):
    /// everything `PUT /api/settings` checks before it writes.
    fn validated(body: Value) -> Result<Self, ApiError> {
        let update = Self::parse(body)?;
        if let Some(ns) = &update.default_namespace {
            validate_namespace(ns)?;
        }
        Ok(update)
    }

    /// The stored settings with this update applied; keys this server does not know are kept.
    fn apply_to(&self, mut config: Map<String, Value>) -> Map<String, Value> {
        if let Some(ns) = &self.default_namespace {
            config.insert("defaultNamespace".into(), Value::String(ns.clone()));
        }
        config
    }
}

/// The `config.json` text stored for `config` (the reference's `JSON.stringify(config, null,
/// 2)`).
fn encode(config: &Map<String, Value>) -> Result<String, serde_json::Error> {
    serde_json::to_string_pretty(config)
}

/// Why the settings could not be stored.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SaveError {
    /// The API server refused a read or write of the ConfigMap (or could not be reached).
    #[error("could not read or write the settings ConfigMap: {0}")]
    Kube(#[source] kube::Error),
    /// The merged settings could not be written as JSON.
    #[error("could not encode the settings: {0}")]
    Encode(#[from] serde_json::Error),
    /// Someone else changed the ConfigMap on every attempt.
    #[error("the settings changed concurrently on every attempt")]
    Conflict,
}

impl From<InvalidSettings> for ApiError {
    fn from(err: InvalidSettings) -> Self {
        ApiError::bad_request(err.to_string())
    }
}

impl From<SaveError> for ApiError {
    fn from(err: SaveError) -> Self {
        match err {
            SaveError::Kube(e) => ApiError::kube("Failed to save configuration", e),
            SaveError::Encode(e) => ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
            SaveError::Conflict => ApiError::new(
                StatusCode::CONFLICT,
                "Failed to save configuration: the settings changed concurrently; retry",
            ),
        }
    }
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// `PUT /api/settings` response.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct SettingsUpdated {
    /// `Settings updated successfully`.
    pub message: &'static str,
    /// The settings after the update.
    #[schema(value_type = Object)]
    pub config: Map<String, Value>,
}

/// The settings, read from the watch cache on every request.
#[utoipa::path(get, path = "/api/settings", tag = "settings", security(()),
    responses(
        (status = 200, body = SettingsResponse),
        (status = 503, description = "The cluster is unreachable", body = ErrorBody)))]
pub(crate) async fn get_settings(
    State(state): State<AppState>,
) -> ApiResult<Json<SettingsResponse>> {
    state.caches()?.ready(Kind::Settings).await?;
    Ok(Json(SettingsResponse {
        config: effective(stored(&state), &state.config().default_namespace),
        auth: AuthSettings {
            enabled: state.auth().enabled(),
        },
    }))
}

/// Changes the settings with the caller's credentials (the API server decides who may), keeping
/// stored keys this server does not know.
#[utoipa::path(put, path = "/api/settings", tag = "settings", request_body = SettingsUpdate,
    responses(
        (status = 200, body = SettingsUpdated),
        (status = 400, description = "Invalid body or namespace", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "RBAC forbids writing the ConfigMap", body = ErrorBody),
        (status = 503, description = "The cluster is unreachable", body = ErrorBody)))]
pub(crate) async fn put_settings(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<Value>,
) -> ApiResult<Json<SettingsUpdated>> {
    let update = SettingsUpdate::validated(body)?;
    let written = write(caller.client(), &update)
        .await
        .map_err(ApiError::from);
    let detail = match &update.default_namespace {
        Some(ns) => format!("(defaultNamespace: {ns})"),
        None => String::new(),
    };
    let change = Change::new(Action::UpdateSettings, Target::Settings).detail(detail);
    activity::record(&state, &caller, change, &written).await;
    let (config, resource_version) = written?;
    wait_for_cache(&state, &resource_version).await;
    Ok(Json(SettingsUpdated {
        message: "Settings updated successfully",
        config: effective(config, &state.config().default_namespace),
    }))
}

/// Merges `update` into the stored ConfigMap (creating it, and its namespace, when missing).
/// Returns the stored settings and the resource version written.
async fn write(
    client: &Client,
    update: &SettingsUpdate,
) -> Result<(Map<String, Value>, String), SaveError> {
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), SETTINGS_NAMESPACE);
    let fail = SaveError::Kube;
    for _ in 0..WRITE_ATTEMPTS {
        let current = api.get_opt(SETTINGS_CONFIG_MAP).await.map_err(fail)?;
        let config = update.apply_to(current.as_ref().and_then(config_of).unwrap_or_default());
        let text = encode(&config)?;
        let result = match current {
            Some(mut cm) => {
                let labels = cm.metadata.labels.get_or_insert_with(Default::default);
                for (k, v) in LABELS {
                    labels.insert(k.into(), v.into());
                }
                cm.data
                    .get_or_insert_with(Default::default)
                    .insert(CONFIG_KEY.into(), text);
                // The resource version read above makes this fail with 409 if someone else
                // wrote in between, instead of overwriting their change.
                api.replace(SETTINGS_CONFIG_MAP, &PostParams::default(), &cm)
                    .await
            }
            None => create(client, &api, text).await,
        };
        match result {
            Ok(cm) => return Ok((config, cm.metadata.resource_version.unwrap_or_default())),
            Err(kube::Error::Api(s)) if s.code == 409 => continue,
            Err(e) => return Err(fail(e)),
        }
    }
    Err(SaveError::Conflict)
}

fn labelled(name: &str, namespace: Option<&str>) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.into()),
        namespace: namespace.map(Into::into),
        labels: Some(
            LABELS
                .iter()
                .map(|(k, v)| ((*k).into(), (*v).into()))
                .collect(),
        ),
        ..Default::default()
    }
}

/// Creates the ConfigMap; when its namespace does not exist yet, creates that first.
async fn create(
    client: &Client,
    api: &Api<ConfigMap>,
    text: String,
) -> Result<ConfigMap, kube::Error> {
    let cm = ConfigMap {
        metadata: labelled(SETTINGS_CONFIG_MAP, Some(SETTINGS_NAMESPACE)),
        data: Some([(CONFIG_KEY.to_string(), text)].into()),
        ..Default::default()
    };
    match api.create(&PostParams::default(), &cm).await {
        Err(kube::Error::Api(s)) if s.code == 404 => {
            let namespaces: Api<Namespace> = Api::all(client.clone());
            let ns = Namespace {
                metadata: labelled(SETTINGS_NAMESPACE, None),
                ..Default::default()
            };
            match namespaces.create(&PostParams::default(), &ns).await {
                Ok(_) => {}
                Err(kube::Error::Api(s)) if s.code == 409 => {}
                Err(e) => return Err(e),
            }
            api.create(&PostParams::default(), &cm).await
        }
        other => other,
    }
}

/// Waits briefly until the settings cache holds `resource_version`, so a `GET` right after a
/// `PUT` shows the change. A slow watch only delays this answer, it never fails it.
async fn wait_for_cache(state: &AppState, resource_version: &str) {
    let Ok(caches) = state.caches() else { return };
    let seen = || {
        caches
            .settings
            .state()
            .iter()
            .any(|cm| cm.metadata.resource_version.as_deref() == Some(resource_version))
    };
    let deadline = tokio::time::Instant::now() + CACHE_CATCH_UP;
    while !seen() && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[cfg(test)]
mod props;

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn effective_fills_in_the_default_namespace_only_when_unset() {
        let stored = |v: Value| v.as_object().cloned().expect("object");
        assert_eq!(
            Value::Object(effective(Map::new(), "kubeairunway-system")),
            json!({ "defaultNamespace": "kubeairunway-system" })
        );
        assert_eq!(
            Value::Object(effective(
                stored(json!({ "defaultNamespace": "", "activeProviderId": "kaito" })),
                "d"
            )),
            json!({ "defaultNamespace": "d", "activeProviderId": "kaito" })
        );
        assert_eq!(
            Value::Object(effective(
                stored(json!({ "defaultNamespace": "team-a" })),
                "d"
            )),
            json!({ "defaultNamespace": "team-a" })
        );
    }

    /// Found by `props::stored_config_map_never_panics`: a kubectl edit that stores a value no
    /// request could name (here 63 characters ending in `-`) was used as the default namespace.
    #[test]
    fn a_stored_namespace_that_is_no_namespace_counts_as_unset() {
        let stored = |v: Value| v.as_object().cloned().expect("object");
        for bad in [
            json!("0000--a0--0-0--a0-aaa0aa--a0-0a-00a0-a-aa-aaa0-a0-a0-a-0a0a00a-"),
            json!("../etc"),
            json!("Team A"),
            json!(7),
        ] {
            let config = stored(json!({ "defaultNamespace": bad, "activeProviderId": "kaito" }));
            assert_eq!(stored_namespace(&config), None, "{bad}");
            assert_eq!(
                Value::Object(effective(config, "d")),
                json!({ "defaultNamespace": "d", "activeProviderId": "kaito" }),
                "{bad}"
            );
        }
        let config = stored(json!({ "defaultNamespace": "team-a" }));
        assert_eq!(stored_namespace(&config), Some("team-a"));
    }

    /// Found by `props::settings_round_trip`: a PUT rewrote a stored number one unit in the last
    /// place off (serde_json's default float parser is not exact).
    #[test]
    fn stored_numbers_survive_a_rewrite_exactly() {
        let text =
            "{\"defaultNamespace\":\"a\",\"x\":[-6.081923333481115e+196, 1.5862794035624501e+19]}";
        let cm = ConfigMap {
            data: Some([(CONFIG_KEY.to_string(), text.to_string())].into()),
            ..Default::default()
        };
        let config = config_of(&cm).expect("settings");
        let again = serde_json::from_str::<Value>(&encode(&config).expect("encode")).expect("json");
        assert_eq!(
            again["x"],
            json!([-6.081923333481115e196, 1.5862794035624501e19])
        );
        assert_eq!(Value::Object(config), again);
    }

    #[test]
    fn only_json_objects_count_as_settings() {
        let cm = |text: &str| ConfigMap {
            data: Some([(CONFIG_KEY.to_string(), text.to_string())].into()),
            ..Default::default()
        };
        assert!(config_of(&cm("{\"a\":1}")).is_some());
        assert!(config_of(&cm("[1]")).is_none());
        assert!(config_of(&cm("not json")).is_none());
        assert!(config_of(&ConfigMap::default()).is_none());
    }

    #[test]
    fn updates_reject_unknown_fields_wrong_types_and_non_objects() {
        let parse = |v: Value| SettingsUpdate::parse(v).map(|u| u.default_namespace);
        assert_eq!(
            parse(json!({ "defaultNamespace": "a" })).ok(),
            Some(Some("a".into()))
        );
        assert_eq!(parse(json!({})).ok(), Some(None));
        assert!(parse(json!({ "namespace": "a" })).is_err());
        assert!(parse(json!({ "defaultNamespace": 3 })).is_err());
        assert!(parse(json!(["alpha"])).is_err(), "not a field list");
        assert!(parse(json!(null)).is_err());
        assert!(parse(json!("alpha")).is_err());
    }
}
