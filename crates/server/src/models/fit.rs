//! Gathers what the planner needs: the GPU types to plan for (the cluster's, or one the caller
//! names), the plan parameters, and a model's shape from its `config.json` on the Hub.

use axum::http::StatusCode;

use crate::auth::{Caller, Resource};
use crate::cache::Kind;
use crate::error::{ApiError, ApiResult};
use crate::hf::{HfToken, Hub, HubError, ModelId};
use crate::state::AppState;
use kubeairunway_core::fit::gpus::{self, GpuType};
use kubeairunway_core::fit::planner::{self, ModelPlan, ModelShape, PlanRequest, Weights};

/// Longest context a plan may ask for (10 M tokens: beyond any model today).
pub(crate) const MAX_CONTEXT: u64 = 10_000_000;
/// Most concurrent sequences a plan may ask for.
pub(crate) const MAX_CONCURRENCY: u32 = 4_096;

/// The GPU types and parameters of a plan, with a note when the cluster could not be read.
pub(crate) struct PlanTarget {
    /// GPU types to plan for.
    pub gpus: Vec<GpuType>,
    /// Context length and concurrency.
    pub request: PlanRequest,
    /// Why the list of GPU types is empty, when it is.
    pub note: Option<String>,
}

impl PlanTarget {
    /// Validated plan parameters and the GPU types: `gpu_type` when given (a cluster product
    /// name or a well-known GPU such as `H100`), else every GPU type of the cluster the caller
    /// may see.
    pub(crate) async fn resolve(
        state: &AppState,
        caller: &Caller,
        gpu_type: Option<&str>,
        context_length: Option<u64>,
        concurrency: Option<u32>,
    ) -> ApiResult<Self> {
        if let Some(c) = context_length
            && !(1..=MAX_CONTEXT).contains(&c)
        {
            return Err(ApiError::bad_request(format!(
                "contextLength must be between 1 and {MAX_CONTEXT}"
            )));
        }
        if let Some(c) = concurrency
            && !(1..=MAX_CONCURRENCY).contains(&c)
        {
            return Err(ApiError::bad_request(format!(
                "concurrency must be between 1 and {MAX_CONCURRENCY}"
            )));
        }
        let request = PlanRequest {
            context_length,
            concurrency,
        };
        let (cluster, note) = cluster_gpu_types(state, caller).await;
        let gpu_type = gpu_type.map(str::trim).filter(|g| !g.is_empty());
        let Some(name) = gpu_type else {
            let note = note.or_else(|| {
                cluster.is_empty().then(|| {
                    "The cluster has no GPU nodes; pass gpuType (for example H100) to plan for a GPU you could add".to_string()
                })
            });
            return Ok(Self {
                gpus: cluster,
                request,
                note,
            });
        };
        if name.len() > 100 {
            return Err(ApiError::bad_request(
                "gpuType is longer than 100 characters",
            ));
        }
        let gpu = gpus::gpu_type_named(name, &cluster).ok_or_else(|| {
            let mut known: Vec<String> = cluster.iter().map(|g| g.name.clone()).collect();
            known.extend(
                [
                    "H200",
                    "H100",
                    "A100-80GB",
                    "A100",
                    "L40S",
                    "L4",
                    "A10G",
                    "T4",
                ]
                .iter()
                .map(|s| (*s).to_string()),
            );
            ApiError::bad_request(format!(
                "Unknown gpuType \"{name}\": use one of {}",
                known.join(", ")
            ))
        })?;
        Ok(Self {
            gpus: vec![gpu],
            request,
            note: None,
        })
    }
}

/// The cluster's GPU types from the node cache, or none with the reason.
async fn cluster_gpu_types(state: &AppState, caller: &Caller) -> (Vec<GpuType>, Option<String>) {
    let caches = match state.caches() {
        Ok(c) => c,
        Err(e) => {
            return (
                Vec::new(),
                Some(format!("Cluster GPU types unknown: {}", e.message)),
            );
        }
    };
    if let Err(e) = caches.ready(Kind::Nodes).await {
        return (
            Vec::new(),
            Some(format!("Cluster GPU types unknown: {}", e.message)),
        );
    }
    if !caller.can("list", Resource::NODES, None).await {
        return (
            Vec::new(),
            Some(
                "Cluster GPU types unknown: you may not list nodes; pass gpuType to plan for a specific GPU"
                    .into(),
            ),
        );
    }
    (gpus::cluster_gpu_types(&caches.nodes.state()), None)
}

/// The model's shape from its `config.json`, or the reason it is unavailable (a gated repo
/// without a token, a repository without one, an unusual config).
pub(crate) async fn shape(
    hub: &Hub,
    id: &ModelId,
    token: Option<&HfToken>,
) -> Result<(ModelShape, serde_json::Value), String> {
    match hub.config_json(id, token).await {
        Ok(config) => ModelShape::from_config(&config)
            .map(|s| (s, config))
            .map_err(|e| format!("config.json of {id} cannot be used: {e}")),
        Err(e @ (HubError::Gated(_) | HubError::Forbidden(_) | HubError::Unauthorized(_))) => {
            Err(format!("{e}; the plan counts weights only"))
        }
        Err(e) => Err(format!(
            "config.json unavailable ({e}); the plan counts weights only"
        )),
    }
}

/// The checkpoint's dtype from `config.json` (`torch_dtype`, or `dtype` in newer files).
pub(crate) fn config_dtype(config: &serde_json::Value) -> Option<&str> {
    ["torch_dtype", "dtype"]
        .iter()
        .find_map(|k| config.get(*k).and_then(|d| d.as_str()))
}

/// The plan for a model whose weights are known, with the shape when there is one.
pub(crate) fn plan_with(
    id: &str,
    weights: &Weights,
    shape: Result<&ModelShape, &str>,
    target: &PlanTarget,
) -> ModelPlan {
    let mut plan = planner::plan(id, weights, shape.ok(), &target.gpus, &target.request);
    if let Err(why) = shape {
        plan.notes.push(why.to_string());
    }
    if let Some(note) = &target.note {
        plan.notes.push(note.clone());
    }
    plan
}

/// 400 for a plan of a model whose size nobody knows.
pub(crate) fn unknown_size(id: &str) -> ApiError {
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        format!(
            "The size of {id} is unknown: the Hub lists no safetensors parameters and the id names no size"
        ),
    )
}
