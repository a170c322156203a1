//! The fixture repositories and how the Hub renders them.
//!
//! Real repositories come from `hf-hub/models.json` (their metadata as the Hub reports it, with
//! a note on which values are approximations); 40 community fine-tunes named `*qwen*` are
//! generated here so a search for "qwen" spans several pages. Every repository answers the same
//! data in the listing, in model info and through `resolve`, so tests can cross-check them.

use serde::Deserialize;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

const MODELS_JSON: &str = include_str!("../../hf-hub/models.json");

/// How many synthetic community fine-tunes the catalogue holds.
pub(super) const COMMUNITY_REPOS: usize = 40;

/// The `expand` values the Hub accepts on model endpoints (the list its validation error gives).
pub(super) const EXPANDABLE: &[&str] = &[
    "author",
    "baseModels",
    "cardData",
    "config",
    "createdAt",
    "disabled",
    "downloads",
    "downloadsAllTime",
    "evalResults",
    "gated",
    "inference",
    "inferenceProviderMapping",
    "lastModified",
    "library_name",
    "likes",
    "mask_token",
    "model-index",
    "pipeline_tag",
    "private",
    "safetensors",
    "sha",
    "siblings",
    "spaces",
    "tags",
    "transformersInfo",
    "trendingScore",
    "widgetData",
    "gguf",
    "resourceGroup",
    "xetEnabled",
    "childrenModelCount",
    "usedStorage",
];

/// Keys of one entry of the default (light) `GET /api/models` listing.
pub(super) const LISTING_KEYS: &[&str] = &[
    "_id",
    "id",
    "likes",
    "trendingScore",
    "private",
    "downloads",
    "tags",
    "pipeline_tag",
    "library_name",
    "createdAt",
    "modelId",
];

/// Keys `full=true` adds to a listing entry.
pub(super) const FULL_KEYS: &[&str] = &[
    "author",
    "gated",
    "lastModified",
    "sha",
    "siblings",
    "disabled",
];

/// Keys of `GET /api/models/{id}` without `expand`.
pub(super) const MODEL_INFO_KEYS: &[&str] = &[
    "_id",
    "id",
    "private",
    "pipeline_tag",
    "library_name",
    "tags",
    "downloads",
    "likes",
    "modelId",
    "author",
    "sha",
    "lastModified",
    "gated",
    "disabled",
    "config",
    "cardData",
    "transformersInfo",
    "siblings",
    "spaces",
    "createdAt",
    "safetensors",
    "gguf",
    "usedStorage",
];

/// The `.gitattributes` every fixture repository holds (the Hub's default LFS patterns, trimmed).
const GITATTRIBUTES: &str = "*.bin filter=lfs diff=lfs merge=lfs -text\n\
*.gguf filter=lfs diff=lfs merge=lfs -text\n\
*.h5 filter=lfs diff=lfs merge=lfs -text\n\
*.msgpack filter=lfs diff=lfs merge=lfs -text\n\
*.onnx filter=lfs diff=lfs merge=lfs -text\n\
*.pt filter=lfs diff=lfs merge=lfs -text\n\
*.pth filter=lfs diff=lfs merge=lfs -text\n\
*.safetensors filter=lfs diff=lfs merge=lfs -text\n\
*.tar.gz filter=lfs diff=lfs merge=lfs -text\n\
*.zip filter=lfs diff=lfs merge=lfs -text\n\
tokenizer.json filter=lfs diff=lfs merge=lfs -text\n";

/// One repository of the fixture Hub.
pub(super) struct Repo {
    pub(super) id: String,
    object_id: String,
    pub(super) sha: String,
    author: String,
    created_at: String,
    last_modified: String,
    downloads: u64,
    likes: u64,
    trending_score: i64,
    pipeline_tag: Option<String>,
    library_name: Option<String>,
    gated: Value,
    tags: Vec<String>,
    card_data: Value,
    transformers_info: Option<Value>,
    safetensors: Option<Value>,
    gguf: Option<Value>,
    reduced_config: Option<Value>,
    pub(super) files: Vec<RepoFile>,
}

/// One file of a repository.
pub(super) struct RepoFile {
    pub(super) name: String,
    pub(super) size: u64,
    /// 40 hex digits (the Hub's is the git blob SHA-1; here a digest of the content).
    pub(super) blob_id: String,
    pub(super) content: Content,
}

/// What `resolve` serves for a file.
pub(super) enum Content {
    /// A regular git file, served as is.
    Text(String),
    /// An LFS file: only its pointer is known (the Hub redirects to its CDN for the bytes).
    Lfs { sha256: String, pointer_size: u64 },
}

/// The result of looking a repository id up.
pub(super) enum Lookup<'a> {
    Found(&'a Repo),
    /// Same id in another case: the Hub answers 307 to the canonical spelling.
    OtherCase(&'a Repo),
    Missing,
}

/// Every fixture repository.
pub(super) struct Catalogue {
    repos: Vec<Repo>,
}

impl Catalogue {
    /// Parses the real repositories and generates the community ones.
    pub(super) fn load() -> Result<Catalogue, serde_json::Error> {
        let file: FixtureFile = serde_json::from_str(MODELS_JSON)?;
        let mut repos: Vec<Repo> = file.models.into_iter().map(Repo::from_spec).collect();
        repos.extend((1..=COMMUNITY_REPOS).map(community_repo));
        Ok(Catalogue { repos })
    }

    pub(super) fn repos(&self) -> impl Iterator<Item = &Repo> {
        self.repos.iter()
    }

    pub(super) fn lookup(&self, id: &str) -> Lookup<'_> {
        if let Some(repo) = self.repos.iter().find(|r| r.id == id) {
            return Lookup::Found(repo);
        }
        match self.repos.iter().find(|r| r.id.eq_ignore_ascii_case(id)) {
            Some(repo) => Lookup::OtherCase(repo),
            None => Lookup::Missing,
        }
    }
}

impl Repo {
    fn from_spec(spec: RepoSpec) -> Repo {
        let author = spec.id.split('/').next().unwrap_or_default().to_string();
        let mut files = vec![text_file(".gitattributes", GITATTRIBUTES.to_string())];
        files.push(text_file(
            "README.md",
            model_card(&spec.id, &spec.card_data),
        ));
        if let Some(config) = &spec.config {
            files.push(text_file("config.json", pretty(config)));
        }
        if let Some(generation) = &spec.generation_config {
            files.push(text_file("generation_config.json", pretty(generation)));
        }
        for lfs in &spec.lfs_files {
            files.push(lfs_file(&spec.id, lfs));
        }
        if let Some(shards) = &spec.shards {
            files.extend(shard_files(&spec.id, shards));
        }
        files.sort_by(|a, b| a.name.cmp(&b.name));
        let reduced_config = spec
            .config
            .as_ref()
            .map(|c| reduce_config(c, spec.tokenizer_config.as_ref()));
        Repo {
            author,
            object_id: spec.object_id,
            sha: spec.sha,
            created_at: spec.created_at,
            last_modified: spec.last_modified,
            downloads: spec.downloads,
            likes: spec.likes,
            trending_score: spec.trending_score,
            pipeline_tag: spec.pipeline_tag,
            library_name: spec.library_name,
            gated: spec.gated,
            tags: spec.tags,
            card_data: spec.card_data,
            transformers_info: spec.transformers_info,
            safetensors: spec.safetensors,
            gguf: spec.gguf,
            reduced_config,
            files,
            id: spec.id,
        }
    }

    pub(super) fn author(&self) -> &str {
        &self.author
    }
    pub(super) fn downloads(&self) -> u64 {
        self.downloads
    }
    pub(super) fn likes(&self) -> u64 {
        self.likes
    }
    pub(super) fn trending_score(&self) -> i64 {
        self.trending_score
    }
    pub(super) fn created_at(&self) -> &str {
        &self.created_at
    }
    pub(super) fn last_modified(&self) -> &str {
        &self.last_modified
    }

    /// Whether downloading files needs accepted terms (`gated` is `"auto"` or `"manual"`).
    pub(super) fn is_gated(&self) -> bool {
        self.gated != Value::Bool(false)
    }

    /// Whether a `filter` value matches: a tag, the pipeline tag or the library.
    pub(super) fn has_tag(&self, tag: &str) -> bool {
        self.tags.iter().any(|t| t == tag)
            || self.pipeline_tag.as_deref() == Some(tag)
            || self.library_name.as_deref() == Some(tag)
    }

    pub(super) fn file(&self, name: &str) -> Option<&RepoFile> {
        self.files.iter().find(|f| f.name == name)
    }

    /// The value of one model property as the Hub names it; `None` when the repository has
    /// none (the Hub then leaves the key out).
    pub(super) fn property(&self, key: &str, blobs: bool) -> Option<Value> {
        Some(match key {
            "_id" => json!(self.object_id),
            "id" | "modelId" => json!(self.id),
            "author" => json!(self.author),
            "sha" => json!(self.sha),
            "createdAt" => json!(self.created_at),
            "lastModified" => json!(self.last_modified),
            "private" | "disabled" | "xetEnabled" => json!(false),
            "gated" => self.gated.clone(),
            "downloads" => json!(self.downloads),
            "downloadsAllTime" => json!(self.downloads.saturating_mul(4)),
            "likes" => json!(self.likes),
            "trendingScore" => json!(self.trending_score),
            "pipeline_tag" => json!(self.pipeline_tag.as_ref()?),
            "library_name" => json!(self.library_name.as_ref()?),
            "tags" => json!(self.tags),
            "config" => self.reduced_config.clone()?,
            "cardData" => self.card_data.clone(),
            "transformersInfo" => self.transformers_info.clone()?,
            "safetensors" => self.safetensors.clone()?,
            "gguf" => self.gguf.clone()?,
            "siblings" => Value::Array(self.files.iter().map(|f| f.sibling(blobs)).collect()),
            "spaces" => json!([]),
            "usedStorage" => json!(self.files.iter().map(|f| f.size).sum::<u64>()),
            "childrenModelCount" => {
                json!({"adapter": 0, "merge": 0, "quantized": 0, "finetune": 0})
            }
            _ => return None,
        })
    }

    /// An object of `_id`, `id` and then `keys`, in that order, leaving out absent properties.
    pub(super) fn render(&self, keys: &[&str], blobs: bool) -> Value {
        let mut object = Map::new();
        for key in ["_id", "id"].iter().chain(keys) {
            if object.contains_key(*key) {
                continue;
            }
            if let Some(value) = self.property(key, blobs) {
                object.insert((*key).to_string(), value);
            }
        }
        Value::Object(object)
    }
}

impl RepoFile {
    fn sibling(&self, blobs: bool) -> Value {
        if !blobs {
            return json!({ "rfilename": self.name });
        }
        let mut sibling =
            json!({ "rfilename": self.name, "size": self.size, "blobId": self.blob_id });
        if let (
            Content::Lfs {
                sha256,
                pointer_size,
            },
            Some(object),
        ) = (&self.content, sibling.as_object_mut())
        {
            object.insert(
                "lfs".into(),
                json!({ "size": self.size, "sha256": sha256, "pointerSize": pointer_size }),
            );
        }
        sibling
    }
}

#[derive(Deserialize)]
struct FixtureFile {
    models: Vec<RepoSpec>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RepoSpec {
    id: String,
    #[serde(rename = "_id")]
    object_id: String,
    sha: String,
    created_at: String,
    last_modified: String,
    downloads: u64,
    likes: u64,
    trending_score: i64,
    #[serde(rename = "pipeline_tag")]
    pipeline_tag: Option<String>,
    #[serde(rename = "library_name")]
    library_name: Option<String>,
    gated: Value,
    tags: Vec<String>,
    card_data: Value,
    transformers_info: Option<Value>,
    safetensors: Option<Value>,
    gguf: Option<Value>,
    tokenizer_config: Option<Value>,
    config: Option<Value>,
    generation_config: Option<Value>,
    #[serde(default)]
    lfs_files: Vec<LfsSpec>,
    shards: Option<ShardSpec>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LfsSpec {
    rfilename: String,
    size: u64,
    sha256: Option<String>,
    blob_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ShardSpec {
    count: u64,
    total_bytes: u64,
}

/// The model-info `config`: the Hub shows only a few keys of config.json, not its dimensions.
fn reduce_config(config: &Value, tokenizer_config: Option<&Value>) -> Value {
    let mut reduced = Map::new();
    for key in ["architectures", "model_type"] {
        if let Some(value) = config.get(key) {
            reduced.insert(key.to_string(), value.clone());
        }
    }
    if let Some(tokenizer) = tokenizer_config {
        reduced.insert("tokenizer_config".into(), tokenizer.clone());
    }
    Value::Object(reduced)
}

fn pretty(value: &Value) -> String {
    let mut text = serde_json::to_string_pretty(value).unwrap_or_default();
    text.push('\n');
    text
}

fn text_file(name: &str, content: String) -> RepoFile {
    let blob_id = hex_digest(&format!("blob {}\0{content}", content.len()), 40);
    RepoFile {
        name: name.to_string(),
        size: content.len() as u64,
        blob_id,
        content: Content::Text(content),
    }
}

fn lfs_file(repo: &str, spec: &LfsSpec) -> RepoFile {
    let sha256 = spec
        .sha256
        .clone()
        .unwrap_or_else(|| hex_digest(&format!("{repo}/{}", spec.rfilename), 64));
    let blob_id = spec
        .blob_id
        .clone()
        .unwrap_or_else(|| hex_digest(&format!("pointer {sha256}"), 40));
    RepoFile {
        name: spec.rfilename.clone(),
        size: spec.size,
        blob_id,
        content: Content::Lfs {
            pointer_size: pointer_size(spec.size),
            sha256,
        },
    }
}

/// `model-0000i-of-0000n.safetensors`, the total split evenly (the last takes the remainder).
fn shard_files(repo: &str, shards: &ShardSpec) -> Vec<RepoFile> {
    let count = shards.count.max(1);
    let each = shards.total_bytes / count;
    (1..=count)
        .map(|i| {
            let size = if i == count {
                shards.total_bytes - each * (count - 1)
            } else {
                each
            };
            let spec = LfsSpec {
                rfilename: format!("model-{i:05}-of-{count:05}.safetensors"),
                size,
                sha256: None,
                blob_id: None,
            };
            lfs_file(repo, &spec)
        })
        .collect()
}

/// Length of a git-lfs pointer file (`version …\noid sha256:…\nsize …\n`).
fn pointer_size(size: u64) -> u64 {
    125 + size.to_string().len() as u64
}

/// A model card: the card data as YAML front matter, then a title.
fn model_card(id: &str, card_data: &Value) -> String {
    let mut card = String::from("---\n");
    if let Some(fields) = card_data.as_object() {
        for (key, value) in fields {
            match value {
                Value::Array(items) => {
                    card.push_str(&format!("{key}:\n"));
                    for item in items {
                        card.push_str(&format!("- {}\n", yaml_scalar(item)));
                    }
                }
                other => card.push_str(&format!("{key}: {}\n", yaml_scalar(other))),
            }
        }
    }
    let name = id.rsplit('/').next().unwrap_or(id);
    card.push_str(&format!(
        "---\n\n# {name}\n\nModel card of the local HuggingFace Hub used by the KubeAIRunway tests.\n"
    ));
    card
}

fn yaml_scalar(value: &Value) -> String {
    match value {
        Value::String(s) => serde_json::to_string(s).unwrap_or_default(),
        other => other.to_string(),
    }
}

/// The first `len` hex digits of SHA-256(`seed`): stable stand-ins for ids and digests.
pub(super) fn hex_digest(seed: &str, len: usize) -> String {
    let digest = Sha256::digest(seed.as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    hex[..len.min(hex.len())].to_string()
}

/// Qwen2.5-0.5B's parameter count (its safetensors total on the Hub).
const QWEN25_05B_PARAMS: u64 = 494_032_768;

/// Community fine-tune `n` of Qwen2.5-0.5B-Instruct (the real base model's config).
fn community_repo(n: usize) -> Repo {
    let names = [
        "Qwen2.5-0.5B-finetune",
        "qwen2.5-0.5b-chat-sft",
        "Qwen2.5-0.5B-Instruct-dpo",
        "QWEN2.5-0.5B-lora-merged",
    ];
    let author = format!("community-{n}");
    let id = format!("{author}/{}-{n}", names[(n - 1) % names.len()]);
    let f32_weights = n.is_multiple_of(5);
    let (dtype, torch_dtype, bytes) = if f32_weights {
        ("F32", "float32", 4)
    } else {
        ("BF16", "bfloat16", 2)
    };
    let mut parameters = Map::new();
    parameters.insert(dtype.to_string(), json!(QWEN25_05B_PARAMS));
    let month = 1 + n % 9;
    let day = 1 + n % 28;
    let config = json!({
        "architectures": ["Qwen2ForCausalLM"],
        "attention_dropout": 0.0,
        "bos_token_id": 151643,
        "eos_token_id": 151645,
        "hidden_act": "silu",
        "hidden_size": 896,
        "initializer_range": 0.02,
        "intermediate_size": 4864,
        "max_position_embeddings": 32768,
        "max_window_layers": 21,
        "model_type": "qwen2",
        "num_attention_heads": 14,
        "num_hidden_layers": 24,
        "num_key_value_heads": 2,
        "rms_norm_eps": 1e-06,
        "rope_theta": 1000000.0,
        "sliding_window": 32768,
        "tie_word_embeddings": true,
        "torch_dtype": torch_dtype,
        "transformers_version": "4.46.3",
        "use_cache": true,
        "use_sliding_window": false,
        "vocab_size": 151936
    });
    let spec = RepoSpec {
        object_id: hex_digest(&format!("{id}#_id"), 24),
        sha: hex_digest(&format!("{id}#sha"), 40),
        created_at: format!("2025-{month:02}-{day:02}T10:{:02}:00.000Z", n % 60),
        last_modified: format!("2025-{month:02}-{day:02}T18:{:02}:00.000Z", n % 60),
        downloads: ((COMMUNITY_REPOS + 1 - n) * 37 + (n * n) % 13) as u64,
        likes: ((n * 7) % 23) as u64,
        trending_score: i64::from(n.is_multiple_of(3)),
        pipeline_tag: Some("text-generation".into()),
        library_name: Some("transformers".into()),
        gated: json!(false),
        tags: [
            "transformers",
            "safetensors",
            "qwen2",
            "text-generation",
            "conversational",
            "base_model:Qwen/Qwen2.5-0.5B-Instruct",
            "base_model:finetune:Qwen/Qwen2.5-0.5B-Instruct",
            "license:apache-2.0",
            "autotrain_compatible",
            "text-generation-inference",
            "endpoints_compatible",
            "region:us",
        ]
        .iter()
        .map(|t| t.to_string())
        .collect(),
        card_data: json!({
            "base_model": "Qwen/Qwen2.5-0.5B-Instruct",
            "library_name": "transformers",
            "license": "apache-2.0",
            "pipeline_tag": "text-generation"
        }),
        transformers_info: Some(json!({
            "auto_model": "AutoModelForCausalLM",
            "pipeline_tag": "text-generation",
            "processor": "AutoTokenizer"
        })),
        safetensors: Some(json!({
            "parameters": parameters,
            "total": QWEN25_05B_PARAMS
        })),
        gguf: None,
        tokenizer_config: Some(json!({
            "bos_token": null,
            "eos_token": "<|im_end|>",
            "pad_token": "<|endoftext|>",
            "unk_token": null
        })),
        config: Some(config),
        generation_config: None,
        lfs_files: vec![LfsSpec {
            rfilename: "model.safetensors".into(),
            size: QWEN25_05B_PARAMS * bytes + 32_600,
            sha256: None,
            blob_id: None,
        }],
        shards: None,
        id,
    };
    Repo::from_spec(spec)
}
