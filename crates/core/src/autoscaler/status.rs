//! The status the Cluster Autoscaler writes to `kube-system/cluster-autoscaler-status` (key
//! `status`), in either of its formats:
//!
//! - **YAML** (Cluster Autoscaler 1.30 and later): `time`, `autoscalerStatus`, `clusterWide`
//!   and `nodeGroups[]`, each with `health` (`status`, `nodeCounts.registered.{total,ready,…}`,
//!   and for node groups `cloudProviderTarget`, `minSize`, `maxSize`), `scaleUp`
//!   (`status`: `NoActivity`, `InProgress`, `Backoff`, with `backoffInfo`) and `scaleDown`
//!   (`status`, `candidates`), each with `lastProbeTime`/`lastTransitionTime`.
//! - **Plain text** (earlier releases): a `Cluster-autoscaler status at <time>:` header, a
//!   `Cluster-wide:` block and a `NodeGroups:` block of `Name:` entries, where each condition is
//!   a line `Health:      Healthy (ready=1 … cloudProviderTarget=1 (minSize=0, maxSize=5))`
//!   followed by `LastProbeTime:`/`LastTransitionTime:` lines.
//!
//! The reference read only the YAML and treated the text as empty.

use std::collections::BTreeMap;

use k8s_openapi::jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// Which format the ConfigMap was in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum StatusFormat {
    /// The YAML document.
    Yaml,
    /// The older plain text.
    Text,
    /// The ConfigMap had no `status` key.
    Empty,
}

/// A scale-up or scale-down condition.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Activity {
    /// `NoActivity`, `InProgress`, `Backoff` (scale-up); `NoCandidates`, `CandidatesPresent`
    /// (scale-down).
    pub status: String,
    /// Scale-down candidates, when reported.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub candidates: Option<i64>,
    /// When the condition last changed (RFC 3339).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_transition_time: Option<String>,
    /// Why scale-up backs off, when it does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backoff_message: Option<String>,
}

/// One node group (`AutoscalerStatusInfo.nodeGroups[]`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct NodeGroup {
    /// Node group name (an AKS VM scale set, an EKS Auto Scaling group, …).
    pub name: String,
    /// Fewest nodes the autoscaler keeps.
    pub min_size: i64,
    /// Most nodes it may create.
    pub max_size: i64,
    /// The size it asked the cloud for (`cloudProviderTarget`), else the registered nodes.
    pub current_size: i64,
    /// `Healthy` or `Unhealthy`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub health: Option<String>,
    /// Registered nodes that are ready.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ready_nodes: Option<i64>,
    /// Registered nodes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registered_nodes: Option<i64>,
    /// Scale-up activity.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scale_up: Option<Activity>,
    /// Scale-down activity.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scale_down: Option<Activity>,
}

/// The parsed status (`AutoscalerStatusInfo`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct AutoscalerStatus {
    /// Cluster-wide health (`Healthy`, `Unhealthy`), else the autoscaler's own status
    /// (`Running`, `Initializing`), else `unknown`.
    pub health: String,
    /// When the autoscaler wrote the status (RFC 3339).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_update_time: Option<String>,
    /// The node groups.
    pub node_groups: Vec<NodeGroup>,
    /// The format read.
    pub format: StatusFormat,
    /// `Running` or `Initializing` (YAML only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub autoscaler_status: Option<String>,
    /// Cluster-wide scale-up activity.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scale_up: Option<Activity>,
    /// Cluster-wide scale-down activity.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scale_down: Option<Activity>,
}

impl AutoscalerStatus {
    /// When the status was written, parsed.
    pub fn updated_at(&self) -> Option<Timestamp> {
        self.last_update_time
            .as_deref()
            .and_then(|t| t.parse().ok())
    }

    /// Whether any node group (or the cluster) is scaling up now.
    pub fn scaling_up(&self) -> bool {
        let active = |a: &Option<Activity>| a.as_ref().is_some_and(|a| a.status == "InProgress");
        active(&self.scale_up) || self.node_groups.iter().any(|g| active(&g.scale_up))
    }
}

/// The status text could not be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum StatusError {
    /// YAML that does not have the status document's shape.
    #[error("the status is not the Cluster Autoscaler's YAML: {0}")]
    Yaml(String),
    /// Text that is neither format.
    #[error("the status is in neither of the Cluster Autoscaler's formats")]
    Unrecognised,
}

/// Parses the ConfigMap's `status` value (`None` when the key is missing).
pub fn parse_status(text: Option<&str>) -> Result<AutoscalerStatus, StatusError> {
    let Some(text) = text.map(str::trim).filter(|t| !t.is_empty() && *t != "{}") else {
        return Ok(AutoscalerStatus {
            health: "unknown".into(),
            last_update_time: None,
            node_groups: Vec::new(),
            format: StatusFormat::Empty,
            autoscaler_status: None,
            scale_up: None,
            scale_down: None,
        });
    };
    if text.starts_with("Cluster-autoscaler status at") || text.contains("\nCluster-wide:") {
        return Ok(parse_text(text));
    }
    parse_yaml(text)
}

/// Go's `time.Time.String()` (`2024-05-15 10:21:33.123456789 +0000 UTC`), RFC 3339, as RFC 3339.
fn normalise_time(t: &str) -> Option<String> {
    let t = t.trim().trim_matches('"');
    if t.is_empty() {
        return None;
    }
    if let Ok(ts) = t.parse::<Timestamp>() {
        return Some(ts.to_string());
    }
    // Drop a monotonic clock reading (`m=+0.1`) and the zone abbreviation after the offset.
    let core: Vec<&str> = t.split_whitespace().take(3).collect();
    if core.len() == 3 {
        let text = core.join(" ");
        for format in ["%Y-%m-%d %H:%M:%S%.f %z", "%Y-%m-%d %H:%M:%S %z"] {
            if let Ok(z) =
                k8s_openapi::jiff::fmt::strtime::parse(format, &text).and_then(|p| p.to_timestamp())
            {
                return Some(z.to_string());
            }
        }
    }
    None
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct YamlStatus {
    time: Option<String>,
    autoscaler_status: Option<String>,
    cluster_wide: Option<YamlGroup>,
    node_groups: Vec<YamlGroup>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct YamlGroup {
    name: Option<String>,
    health: Option<YamlHealth>,
    scale_up: Option<YamlActivity>,
    scale_down: Option<YamlActivity>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct YamlHealth {
    status: Option<String>,
    node_counts: Option<YamlNodeCounts>,
    cloud_provider_target: Option<i64>,
    min_size: Option<i64>,
    max_size: Option<i64>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct YamlNodeCounts {
    registered: Option<YamlRegistered>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct YamlRegistered {
    total: Option<i64>,
    ready: Option<i64>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct YamlActivity {
    status: Option<String>,
    candidates: Option<i64>,
    last_transition_time: Option<serde_json::Value>,
    backoff_info: Option<YamlBackoff>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct YamlBackoff {
    error_code: Option<String>,
    error_message: Option<String>,
}

fn yaml_activity(a: Option<YamlActivity>) -> Option<Activity> {
    let a = a?;
    Some(Activity {
        status: a.status?,
        candidates: a.candidates,
        last_transition_time: a
            .last_transition_time
            .as_ref()
            .and_then(serde_json::Value::as_str)
            .and_then(normalise_time),
        backoff_message: a
            .backoff_info
            .and_then(|b| match (b.error_code, b.error_message) {
                (Some(c), Some(m)) => Some(format!("{c}: {m}")),
                (c, m) => m.or(c),
            }),
    })
}

fn parse_yaml(text: &str) -> Result<AutoscalerStatus, StatusError> {
    let doc: YamlStatus =
        serde_saphyr::from_str(text).map_err(|e| StatusError::Yaml(e.to_string()))?;
    let cluster = doc.cluster_wide.unwrap_or_default();
    let health = cluster
        .health
        .as_ref()
        .and_then(|h| h.status.clone())
        .or_else(|| doc.autoscaler_status.clone())
        .unwrap_or_else(|| "unknown".into());
    let node_groups = doc
        .node_groups
        .into_iter()
        .filter_map(|g| {
            let name = g.name?;
            let h = g.health.unwrap_or_default();
            let registered = h.node_counts.as_ref().and_then(|c| c.registered.as_ref());
            Some(NodeGroup {
                name,
                min_size: h.min_size.unwrap_or(0),
                max_size: h.max_size.unwrap_or(0),
                current_size: h
                    .cloud_provider_target
                    .or(registered.and_then(|r| r.total))
                    .unwrap_or(0),
                health: h.status.clone(),
                ready_nodes: registered.and_then(|r| r.ready),
                registered_nodes: registered.and_then(|r| r.total),
                scale_up: yaml_activity(g.scale_up),
                scale_down: yaml_activity(g.scale_down),
            })
        })
        .collect();
    Ok(AutoscalerStatus {
        health,
        last_update_time: doc.time.as_deref().and_then(normalise_time),
        node_groups,
        format: StatusFormat::Yaml,
        autoscaler_status: doc.autoscaler_status,
        scale_up: yaml_activity(cluster.scale_up),
        scale_down: yaml_activity(cluster.scale_down),
    })
}

/// One condition line of the text format: `Health:  Healthy (k=v k=v (k=v, k=v))`.
#[derive(Default)]
struct TextCondition {
    status: String,
    fields: BTreeMap<String, String>,
    last_transition_time: Option<String>,
}

#[derive(Default)]
struct TextGroup {
    name: Option<String>,
    conditions: BTreeMap<String, TextCondition>,
}

fn parse_text(text: &str) -> AutoscalerStatus {
    let mut time = None;
    let mut cluster = TextGroup::default();
    let mut groups: Vec<TextGroup> = Vec::new();
    let mut in_groups = false;
    let mut last_condition: Option<String> = None;
    for line in text.lines() {
        let trimmed = line.trim();
        if let Some(rest) = trimmed.strip_prefix("Cluster-autoscaler status at") {
            time = normalise_time(rest.trim().trim_end_matches(':'));
            continue;
        }
        if trimmed == "Cluster-wide:" {
            in_groups = false;
            continue;
        }
        if trimmed == "NodeGroups:" {
            in_groups = true;
            continue;
        }
        let Some((key, value)) = trimmed.split_once(':') else {
            continue;
        };
        let value = value.trim();
        let current = if in_groups {
            if key == "Name" {
                groups.push(TextGroup {
                    name: Some(value.to_string()),
                    ..TextGroup::default()
                });
                last_condition = None;
                continue;
            }
            match groups.last_mut() {
                Some(g) => g,
                None => continue,
            }
        } else {
            &mut cluster
        };
        match key {
            "Health" | "ScaleUp" | "ScaleDown" => {
                current
                    .conditions
                    .insert(key.to_string(), text_condition(value));
                last_condition = Some(key.to_string());
            }
            "LastTransitionTime" => {
                if let Some(c) = last_condition
                    .as_ref()
                    .and_then(|k| current.conditions.get_mut(k))
                {
                    c.last_transition_time = normalise_time(value);
                }
            }
            _ => {}
        }
    }
    let num = |c: Option<&TextCondition>, k: &str| {
        c.and_then(|c| c.fields.get(k))
            .and_then(|v| v.parse::<i64>().ok())
    };
    let activity = |c: Option<&TextCondition>| {
        c.map(|c| Activity {
            status: c.status.clone(),
            candidates: c.fields.get("candidates").and_then(|v| v.parse().ok()),
            last_transition_time: c.last_transition_time.clone(),
            backoff_message: None,
        })
    };
    let node_groups = groups
        .iter()
        .filter_map(|g| {
            let h = g.conditions.get("Health");
            Some(NodeGroup {
                name: g.name.clone()?,
                min_size: num(h, "minSize").unwrap_or(0),
                max_size: num(h, "maxSize").unwrap_or(0),
                current_size: num(h, "cloudProviderTarget")
                    .or(num(h, "registered"))
                    .unwrap_or(0),
                health: h.map(|h| h.status.clone()),
                ready_nodes: num(h, "ready"),
                registered_nodes: num(h, "registered"),
                scale_up: activity(g.conditions.get("ScaleUp")),
                scale_down: activity(g.conditions.get("ScaleDown")),
            })
        })
        .collect();
    AutoscalerStatus {
        health: cluster
            .conditions
            .get("Health")
            .map_or_else(|| "unknown".into(), |h| h.status.clone()),
        last_update_time: time,
        node_groups,
        format: StatusFormat::Text,
        autoscaler_status: None,
        scale_up: activity(cluster.conditions.get("ScaleUp")),
        scale_down: activity(cluster.conditions.get("ScaleDown")),
    }
}

/// `Healthy (ready=1 unready=0 (resourceUnready=0) cloudProviderTarget=1 (minSize=0, maxSize=5))`
/// → `Healthy` and every `key=value` inside the parentheses, however nested.
fn text_condition(value: &str) -> TextCondition {
    let (status, rest) = match value.find('(') {
        Some(i) => (value[..i].trim(), &value[i..]),
        None => (value.trim(), ""),
    };
    let fields = rest
        .split(|c: char| c.is_whitespace() || matches!(c, '(' | ')' | ','))
        .filter_map(|w| w.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    TextCondition {
        status: status.to_string(),
        fields,
        last_transition_time: None,
    }
}
