//! A build request (`POST /api/aikit/build`, `/build/preview`) turned into a validated plan, and
//! the exact `buildctl` command lines of a build.
//!
//! The command line is a list of arguments for `execve` — no shell ever sees it — and every
//! value in it passed the allow-lists of [`super::names`] first, so no value can start with
//! `-`, contain a comma or `=` where `buildctl` splits, or carry shell syntax. Flags are
//! written `--flag=value`, so even a value that slipped through could not become an option.

use super::models::{PremadeModel, premade_model};
use super::names::{self, NameError};
use super::{AIKIT_FRONTEND, AIKITFILE_URL, REGISTRY_PULL_HOST, REGISTRY_PUSH_HOST};

/// Where the model of a build comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ModelSource {
    /// A premade AIKit image (no build).
    Premade,
    /// A GGUF file of a HuggingFace repository (built).
    Huggingface,
}

/// The body of a build request, as received (every field optional until checked).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BuildRequest {
    /// `premade` or `huggingface`.
    pub model_source: Option<String>,
    /// Premade model id (`llama3.2:1b`).
    pub premade_model: Option<String>,
    /// HuggingFace repository id.
    pub model_id: Option<String>,
    /// GGUF file in that repository.
    pub gguf_file: Option<String>,
    /// Image name (default `aikit-<sanitized modelId>`).
    pub image_name: Option<String>,
    /// Image tag (default: the quantisation of the file, else `custom`).
    pub image_tag: Option<String>,
}

/// Why a build request cannot be planned. Every one is the caller's mistake (400).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BuildError {
    /// `modelSource` missing or unknown.
    #[error("modelSource must be \"premade\" or \"huggingface\"")]
    Source,
    /// `premade` without `premadeModel`.
    #[error("premade requires premadeModel field")]
    PremadeModelMissing,
    /// `huggingface` without `modelId` or `ggufFile`.
    #[error("huggingface requires modelId and ggufFile fields")]
    HuggingfaceFieldsMissing,
    /// No premade model of that id.
    #[error("Unknown premade model: {0}")]
    UnknownPremade(String),
    /// A value breaks its rule.
    #[error(transparent)]
    Invalid(#[from] NameError),
}

/// A validated image build of a HuggingFace GGUF file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageBuild {
    /// Repository id.
    pub model_id: String,
    /// File in it.
    pub gguf_file: String,
    /// Image name.
    pub image_name: String,
    /// Image tag.
    pub image_tag: String,
}

impl ImageBuild {
    /// The AIKit `model` build argument: `huggingface://<modelId>/<ggufFile>`.
    pub fn model_arg(&self) -> String {
        format!("huggingface://{}/{}", self.model_id, self.gguf_file)
    }

    /// `<name>:<tag>`.
    pub fn name_tag(&self) -> String {
        format!("{}:{}", self.image_name, self.image_tag)
    }
}

/// What a request means.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BuildPlan {
    /// Use this premade image.
    Premade(&'static PremadeModel),
    /// Build an image.
    Build(ImageBuild),
}

impl BuildPlan {
    /// Checks `request` against the rules (docs/contract/api.md §13 plus the allow-lists).
    pub fn from_request(request: &BuildRequest) -> Result<Self, BuildError> {
        match request.model_source.as_deref() {
            Some("premade") => {
                let id = present(&request.premade_model).ok_or(BuildError::PremadeModelMissing)?;
                premade_model(id)
                    .map(BuildPlan::Premade)
                    .ok_or_else(|| BuildError::UnknownPremade(shown(id)))
            }
            Some("huggingface") => {
                let (Some(model_id), Some(gguf_file)) =
                    (present(&request.model_id), present(&request.gguf_file))
                else {
                    return Err(BuildError::HuggingfaceFieldsMissing);
                };
                names::model_id(model_id)?;
                names::gguf_file(gguf_file)?;
                let image_name = present(&request.image_name)
                    .map_or_else(|| names::default_image_name(model_id), str::to_string);
                names::image_name(&image_name)?;
                let image_tag = present(&request.image_tag)
                    .map_or_else(|| names::default_image_tag(gguf_file), str::to_string);
                names::image_tag(&image_tag)?;
                Ok(BuildPlan::Build(ImageBuild {
                    model_id: model_id.to_string(),
                    gguf_file: gguf_file.to_string(),
                    image_name,
                    image_tag,
                }))
            }
            _ => Err(BuildError::Source),
        }
    }
}

fn present(value: &Option<String>) -> Option<&str> {
    value.as_deref().filter(|s| !s.is_empty())
}

fn shown(value: &str) -> String {
    let mut s: String = value.chars().take(64).collect();
    if value.chars().count() > 64 {
        s.push('…');
    }
    s
}

/// Where builds go and what they run: the registry host the builder pushes to, the host
/// kubelets pull from, the AIKit frontend image and the aikitfile. The defaults are the
/// reference's; each is configurable (`serve --aikit-*`) for mirrors and for tests.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BuildTarget {
    /// Registry host:port the builder pushes to.
    pub push_host: String,
    /// Registry host:port a deployment's image reference names.
    pub pull_host: String,
    /// The BuildKit frontend image (gateway source).
    pub frontend: String,
    /// The aikitfile (build context URL).
    pub aikitfile: String,
}

impl Default for BuildTarget {
    fn default() -> Self {
        Self {
            push_host: REGISTRY_PUSH_HOST.into(),
            pull_host: REGISTRY_PULL_HOST.into(),
            frontend: AIKIT_FRONTEND.into(),
            aikitfile: AIKITFILE_URL.into(),
        }
    }
}

impl BuildTarget {
    /// Checks the configured values with the same allow-lists as user input.
    pub fn validate(&self) -> Result<(), NameError> {
        names::registry_host("aikit push registry", &self.push_host)?;
        names::registry_host("aikit pull registry", &self.pull_host)?;
        names::image_ref("aikit frontend", &self.frontend)?;
        names::http_url("aikitfile", &self.aikitfile)
    }

    /// The reference the builder pushes.
    pub fn push_ref(&self, build: &ImageBuild) -> String {
        format!("{}/{}", self.push_host, build.name_tag())
    }

    /// The reference a deployment runs (`localhost:30500/<name>:<tag>` by default).
    pub fn pull_ref(&self, build: &ImageBuild) -> String {
        format!("{}/{}", self.pull_host, build.name_tag())
    }
}

/// `buildctl` command lines (arguments after the program name).
pub struct BuildctlArgs;

impl BuildctlArgs {
    /// `buildctl --addr=<addr> debug workers`: is the builder there?
    pub fn workers(addr: &str) -> Vec<String> {
        vec![format!("--addr={addr}"), "debug".into(), "workers".into()]
    }

    /// The build: the AIKit frontend through the gateway, the aikitfile as remote context, the
    /// model as build argument, pushed to the registry; progress as plain text; the pushed
    /// digest into `metadata_file`.
    pub fn build(
        addr: &str,
        target: &BuildTarget,
        build: &ImageBuild,
        metadata_file: &str,
    ) -> Vec<String> {
        vec![
            format!("--addr={addr}"),
            "build".into(),
            "--progress=plain".into(),
            "--frontend=gateway.v0".into(),
            format!("--opt=source={}", target.frontend),
            format!("--opt=context={}", target.aikitfile),
            format!("--opt=build-arg:model={}", build.model_arg()),
            format!(
                "--output=type=image,name={},push=true,registry.insecure=true",
                target.push_ref(build)
            ),
            format!("--metadata-file={metadata_file}"),
        ]
    }
}

/// The digest `buildctl --metadata-file` recorded (`containerimage.digest`), if any.
pub fn pushed_digest(metadata_json: &str) -> Option<String> {
    let value: serde_json::Value = serde_json::from_str(metadata_json).ok()?;
    value
        .get("containerimage.digest")
        .and_then(|d| d.as_str())
        .filter(|d| d.starts_with("sha256:"))
        .map(str::to_string)
}
