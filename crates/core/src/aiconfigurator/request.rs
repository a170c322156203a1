//! The analysis a user asks for, validated field by field, and the exact argument list of the
//! `aiconfigurator cli default` run it becomes (no shell ever sees it).

use std::ffi::OsString;
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::gpu::{Backend, System, UnsupportedGpu, system_for_gpu};

/// Most GPUs an analysis may plan for.
pub const MAX_GPUS: u64 = 1024;
/// Longest model id accepted.
pub const MAX_MODEL_ID: usize = 200;
/// Largest TTFT target, in milliseconds (10 minutes).
pub const MAX_TTFT_MS: f64 = 600_000.0;

/// What the recommendation optimises.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = AIConfiguratorOptimizeFor))]
#[serde(rename_all = "lowercase")]
pub enum OptimizeFor {
    /// Most tokens per second per GPU (AI Configurator's own ranking).
    #[default]
    Throughput,
    /// Lowest time to first token.
    Latency,
}

/// A validated request: every field safe to pass to the CLI as one argument.
#[derive(Clone, Debug, PartialEq)]
pub struct Request {
    /// HuggingFace model id (`org/name` or `name`).
    pub model_id: String,
    /// The GPU as the client named it.
    pub gpu_type: String,
    /// GPUs available for the deployment.
    pub gpu_count: u32,
    /// What to optimise.
    pub optimize_for: OptimizeFor,
    /// Upper bound for the time to first token, in milliseconds.
    pub max_latency_ms: Option<f64>,
    /// The backend the client prefers, if any.
    pub backend: Option<Backend>,
}

/// A field that failed validation: `"<field>: <message>"` on the wire.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    /// The JSON field name.
    pub field: &'static str,
    /// What is wrong with it.
    pub message: String,
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// Whether `id` is a HuggingFace model id the CLI may be given: `name` or `org/name`, ASCII
/// letters, digits, `-`, `_` (and `.` in the name), each part starting with a letter or digit
/// (so it can never be read as an option or a relative path such as `..`).
pub fn valid_model_id(id: &str) -> bool {
    if id.is_empty() || id.len() > MAX_MODEL_ID {
        return false;
    }
    let mut parts = id.split('/');
    let (first, second) = (parts.next(), parts.next());
    if parts.next().is_some() {
        return false;
    }
    let part_ok = |p: &str, dots: bool| {
        p.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
            && p.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || (dots && c == '.'))
    };
    match (first, second) {
        (Some(name), None) => part_ok(name, true),
        (Some(org), Some(name)) => part_ok(org, false) && part_ok(name, true),
        _ => false,
    }
}

impl Request {
    /// Validates a JSON body. Unknown fields are ignored (the reference's clients send none);
    /// every problem is reported, each naming its field.
    pub fn from_json(body: &Value) -> Result<Request, Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut fail = |field: &'static str, message: &str| {
            errors.push(FieldError {
                field,
                message: message.to_string(),
            });
        };
        let Some(obj) = body.as_object() else {
            fail("body", "expected a JSON object");
            return Err(errors);
        };
        let text =
            |field: &'static str, fail: &mut dyn FnMut(&'static str, &str)| match obj.get(field) {
                None | Some(Value::Null) => {
                    fail(field, "required");
                    None
                }
                Some(Value::String(s)) if s.trim().is_empty() => {
                    fail(field, "must not be empty");
                    None
                }
                Some(Value::String(s)) => Some(s.trim().to_string()),
                Some(_) => {
                    fail(field, "expected a string");
                    None
                }
            };
        let model_id = text("modelId", &mut fail).filter(|id| {
            let ok = valid_model_id(id);
            if !ok {
                fail(
                    "modelId",
                    "invalid model ID format: expected org/model-name or model-name (letters, digits, '-', '_', '.')",
                );
            }
            ok
        });
        let gpu_type = text("gpuType", &mut fail).filter(|g| {
            let ok = g.len() <= 100 && g.chars().all(|c| c.is_ascii_graphic() || c == ' ');
            if !ok {
                fail("gpuType", "must be at most 100 printable ASCII characters");
            }
            ok
        });
        let gpu_count = match obj.get("gpuCount") {
            None | Some(Value::Null) => {
                fail("gpuCount", "required");
                None
            }
            Some(v) => match v.as_u64() {
                Some(n) if (1..=MAX_GPUS).contains(&n) => u32::try_from(n).ok(),
                _ => {
                    fail(
                        "gpuCount",
                        &format!("expected an integer from 1 to {MAX_GPUS}"),
                    );
                    None
                }
            },
        };
        let optimize_for = match obj.get("optimizeFor") {
            None | Some(Value::Null) => Some(OptimizeFor::Throughput),
            Some(Value::String(s)) if s == "throughput" => Some(OptimizeFor::Throughput),
            Some(Value::String(s)) if s == "latency" => Some(OptimizeFor::Latency),
            Some(_) => {
                fail("optimizeFor", "expected \"throughput\" or \"latency\"");
                None
            }
        };
        let max_latency_ms = match obj.get("maxLatencyMs") {
            None | Some(Value::Null) => Some(None),
            Some(v) => match v.as_f64() {
                Some(ms) if ms > 0.0 && ms <= MAX_TTFT_MS => Some(Some(ms)),
                _ => {
                    fail(
                        "maxLatencyMs",
                        &format!("expected a number greater than 0 and at most {MAX_TTFT_MS}"),
                    );
                    None
                }
            },
        };
        let backend = match obj.get("backend") {
            None | Some(Value::Null) => Some(None),
            Some(Value::String(s)) if Backend::parse(s).is_some() => Some(Backend::parse(s)),
            Some(_) => {
                fail("backend", "expected \"vllm\", \"sglang\" or \"trtllm\"");
                None
            }
        };
        match (
            model_id,
            gpu_type,
            gpu_count,
            optimize_for,
            max_latency_ms,
            backend,
        ) {
            (
                Some(model_id),
                Some(gpu_type),
                Some(gpu_count),
                Some(optimize_for),
                Some(ms),
                Some(backend),
            ) if errors.is_empty() => Ok(Request {
                model_id,
                gpu_type,
                gpu_count,
                optimize_for,
                max_latency_ms: ms,
                backend,
            }),
            _ => Err(errors),
        }
    }

    /// The system and backend the analysis runs on: the client's backend when the system has
    /// data for it, else the first of vLLM, SGLang, TensorRT-LLM the system has.
    pub fn plan(&self) -> Result<Plan, UnsupportedGpu> {
        let system = system_for_gpu(&self.gpu_type)?;
        let backend = self
            .backend
            .filter(|b| system.backends.contains(b))
            .or_else(|| {
                Backend::ALL
                    .into_iter()
                    .find(|b| system.backends.contains(b))
            })
            .ok_or_else(|| UnsupportedGpu {
                gpu: self.gpu_type.clone(),
            })?;
        Ok(Plan {
            model_id: self.model_id.clone(),
            system,
            backend,
            total_gpus: self.gpu_count,
            max_latency_ms: self.max_latency_ms,
        })
    }
}

/// One `aiconfigurator cli default` run.
#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    /// `--model-path`.
    pub model_id: String,
    /// `--system`.
    pub system: &'static System,
    /// `--backend`.
    pub backend: Backend,
    /// `--total-gpus`.
    pub total_gpus: u32,
    /// `--ttft`.
    pub max_latency_ms: Option<f64>,
}

impl Plan {
    /// The arguments after the program name. With one GPU only the aggregated mode is searched
    /// (a disaggregated deployment needs a prefill and a decode GPU).
    pub fn args(&self, save_dir: &Path) -> Vec<OsString> {
        let mut args: Vec<OsString> = [
            "cli",
            "default",
            "--model-path",
            &self.model_id,
            "--total-gpus",
            &self.total_gpus.to_string(),
            "--system",
            self.system.name,
            "--backend",
            self.backend.as_str(),
            "--no-color",
        ]
        .into_iter()
        .map(OsString::from)
        .collect();
        args.push("--save-dir".into());
        args.push(save_dir.as_os_str().to_owned());
        if let Some(ms) = self.max_latency_ms {
            args.push("--ttft".into());
            args.push(format!("{ms}").into());
        }
        if self.total_gpus < 2 {
            args.push("--serving-mode".into());
            args.push("agg".into());
        }
        args
    }
}
