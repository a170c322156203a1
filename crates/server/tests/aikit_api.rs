//! `/api/aikit/*` against the local control plane and a real BuildKit: the premade models, the
//! rules for build requests, the infrastructure created as the caller (its objects, idempotence,
//! RBAC, the audit log, readiness), and builds run by the real `buildctl` against a real
//! `buildkitd` on loopback that pushes to a real registry on loopback.
//!
//! KWOK runs no containers, so the registry and builder pods never run here: their readiness is
//! what the cluster reports for KWOK's simulated kubelet (pods Ready at once, Deployment status
//! by the real controller-manager). The builds instead go to a `buildkitd` on loopback
//! (`--buildkit-addr`), which is what `serve` does off-cluster. No public registry is reachable,
//! so the gateway frontend of the working build is BuildKit's Dockerfile frontend, packaged as an
//! image on the local registry, and the "aikitfile" a Dockerfile served on loopback; the build
//! with the real AIKit frontend runs too and must fail, streamed and reported, because
//! `ghcr.io` cannot be reached.

mod support;

use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Service;
use kube::Api;
use kubeairunway_testenv::{LocalBuildkit, User, shared, wait_until};
use reqwest::StatusCode;
use serde_json::{Value, json};
use support::{AuthMode, Server};

const NS: &str = "kubeairunway-system";

fn hf_body(model_id: &str, gguf: &str) -> Value {
    json!({"modelSource": "huggingface", "modelId": model_id, "ggufFile": gguf})
}

#[tokio::test]
async fn premade_models_are_listed_with_their_images() {
    let s = support::own_server(AuthMode::Off);
    let list = s.get("/api/aikit/models", None).await;
    list.expect_status(StatusCode::OK, "list");
    assert_eq!(list.body["total"], 10);
    let models = list.body["models"].as_array().expect("models");
    assert_eq!(models.len(), 10);
    for m in models {
        let id = m["id"].as_str().expect("id");
        assert_eq!(m["image"], format!("ghcr.io/kaito-project/aikit/{id}"));
        assert_eq!(m["computeType"], "cpu");
        for field in ["name", "size", "modelName", "license", "description"] {
            assert!(m[field].is_string(), "{field} of {m}");
        }
    }
    for path in [
        "/api/aikit/models/gpt-oss:20b",
        "/api/aikit/models/gpt-oss%3A20b",
    ] {
        let one = s.get(path, None).await;
        one.expect_status(StatusCode::OK, path);
        assert_eq!(one.body["modelName"], "gpt-oss-20b");
    }
    s.get("/api/aikit/models/kaito%2Fllama3.2-1b", None)
        .await
        .assert_error(
            StatusCode::NOT_FOUND,
            "Premade model not found: kaito/llama3.2-1b",
            "unknown",
        );
}

#[tokio::test]
async fn previews_and_refusals_before_anything_runs() {
    let s = support::own_server(AuthMode::Off);
    let premade = s
        .post_json(
            "/api/aikit/build/preview",
            None,
            &json!({"modelSource": "premade", "premadeModel": "llama3.2:1b"}),
        )
        .await;
    premade.expect_status(StatusCode::OK, "premade preview");
    assert_eq!(
        premade.body,
        json!({"imageRef": "ghcr.io/kaito-project/aikit/llama3.2:1b", "wasPremade": true,
               "requiresBuild": false, "registryUrl": "kubeairunway-registry.kubeairunway-system.svc:5000"})
    );
    let hf = s
        .post_json(
            "/api/aikit/build/preview",
            None,
            &hf_body("TheBloke/Llama-2-7B-GGUF", "llama-2-7b.Q4_K_M.gguf"),
        )
        .await;
    hf.expect_status(StatusCode::OK, "hf preview");
    assert_eq!(
        hf.body["imageRef"],
        "localhost:30500/aikit-thebloke-llama-2-7b-gguf:Q4_K_M"
    );
    assert_eq!(hf.body["requiresBuild"], true);

    // A premade "build" is the catalog image at once.
    let built = s
        .post_json(
            "/api/aikit/build",
            None,
            &json!({"modelSource": "premade", "premadeModel": "phi4:14b"}),
        )
        .await;
    built.expect_status(StatusCode::OK, "premade build");
    assert_eq!(
        built.body,
        json!({"success": true, "imageRef": "ghcr.io/kaito-project/aikit/phi4:14b", "buildTime": 0.0,
               "wasPremade": true, "message": "Using premade AIKit image"})
    );

    let hostile = [
        (hf_body("org/repo; rm -rf /", "m.gguf"), "modelId"),
        (hf_body("--help/x", "m.gguf"), "modelId"),
        (hf_body("org/repo", "../../etc/passwd.gguf"), "ggufFile"),
        (hf_body("org/repo", "--output=type=local.gguf"), "ggufFile"),
        (hf_body("org/repo", "m$(id).gguf"), "ggufFile"),
        (
            hf_body("org/repo", "model.bin"),
            "ggufFile must be a .gguf file",
        ),
        (
            json!({"modelSource": "huggingface", "modelId": "org/repo", "ggufFile": "m.gguf", "imageName": "Evil,push=false"}),
            "imageName",
        ),
        (
            json!({"modelSource": "huggingface", "modelId": "org/repo", "ggufFile": "m.gguf", "imageTag": "-x"}),
            "imageTag",
        ),
        (
            json!({"modelSource": "huggingface", "modelId": "org/repo", "ggufFile": "m.gguf", "imageName": "a".repeat(300)}),
            "imageName is longer",
        ),
        (
            json!({"modelSource": "premade", "premadeModel": "nope:1b"}),
            "Unknown premade model: nope:1b",
        ),
        (
            json!({"modelSource": "premade"}),
            "premade requires premadeModel field",
        ),
        (
            json!({"modelSource": "huggingface", "modelId": "org/repo"}),
            "huggingface requires modelId and ggufFile fields",
        ),
        (json!({}), "modelSource"),
    ];
    for (body, fragment) in &hostile {
        s.post_json("/api/aikit/build/preview", None, body)
            .await
            .assert_error(
                StatusCode::BAD_REQUEST,
                &format!("Invalid request: {fragment}"),
                body,
            );
        s.post_json("/api/aikit/build", None, body)
            .await
            .assert_error(
                StatusCode::BAD_REQUEST,
                &format!("Invalid build request: {fragment}"),
                body,
            );
    }
    let jobs = s.get("/api/jobs", None).await;
    assert!(
        jobs.body["jobs"]
            .as_array()
            .expect("jobs")
            .iter()
            .all(|j| j["kind"] != "build-image"),
        "a refused build started a job: {}",
        jobs.body
    );
}

/// One Server-Sent Event.
#[derive(Debug)]
struct Sse {
    event: String,
    data: Value,
}

async fn read_events(s: &Server, id: &str) -> Vec<Sse> {
    let response = s
        .request(
            reqwest::Method::GET,
            &format!("/api/jobs/{id}/events"),
            Some(User::Admin),
        )
        .timeout(Duration::from_secs(120))
        .send()
        .await
        .expect("events request");
    assert_eq!(response.status(), StatusCode::OK);
    let mut stream = response.bytes_stream();
    let mut buffer = String::new();
    let mut events = Vec::new();
    while let Some(chunk) = stream.next().await {
        buffer.push_str(&String::from_utf8_lossy(&chunk.expect("chunk")));
        while let Some(end) = buffer.find("\n\n") {
            let block: String = buffer.drain(..end + 2).collect();
            let (mut event, mut data) = (String::new(), String::new());
            for line in block.lines() {
                if let Some(v) = line.strip_prefix("event:") {
                    event = v.trim().to_string();
                } else if let Some(v) = line.strip_prefix("data:") {
                    data.push_str(v.trim_start());
                }
            }
            if event.is_empty() {
                continue;
            }
            let done = event == "end";
            events.push(Sse {
                event,
                data: serde_json::from_str(&data).unwrap_or(Value::Null),
            });
            if done {
                return events;
            }
        }
    }
    panic!("the event stream ended without an end event: {events:?}");
}

/// Every output line the stream carried: what the first snapshot already held (the build may
/// be under way, or over, before the subscription), then the `output` events.
fn output_lines(events: &[Sse]) -> Vec<String> {
    let mut lines = Vec::new();
    if let Some(snapshot) = events.iter().find(|e| e.event == "snapshot") {
        for step in snapshot.data["steps"].as_array().into_iter().flatten() {
            for stream in ["output", "error"] {
                lines.extend(
                    step[stream]
                        .as_str()
                        .unwrap_or_default()
                        .lines()
                        .map(str::to_string),
                );
            }
        }
    }
    lines.extend(
        events
            .iter()
            .filter(|e| e.event == "output")
            .map(|e| e.data["line"].as_str().unwrap_or_default().to_string()),
    );
    lines
}

/// The build step of the final view, checked to hold exactly the lines the stream carried.
fn build_step(events: &[Sse]) -> Value {
    let end = &events.last().expect("end").data;
    assert_eq!(end["steps"].as_array().map(Vec::len), Some(1), "{end}");
    let step = end["steps"][0].clone();
    let mut kept: Vec<String> = ["output", "error"]
        .iter()
        .flat_map(|s| {
            step[*s]
                .as_str()
                .unwrap_or_default()
                .lines()
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .collect();
    let mut streamed = output_lines(events);
    kept.sort();
    streamed.sort();
    assert_eq!(streamed, kept, "the stream and the job disagree");
    step
}

async fn start_async_build(s: &Server, body: &Value) -> String {
    let reply = s
        .post_json("/api/aikit/build?async=true", Some(User::Admin), body)
        .await;
    reply.expect_status(StatusCode::ACCEPTED, "async build");
    assert_eq!(reply.body["kind"], "build-image");
    reply.body["jobId"].as_str().expect("jobId").to_string()
}

async fn registry_json(http: &reqwest::Client, url: &str) -> Value {
    http.get(url)
        .header(
            reqwest::header::ACCEPT,
            "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json",
        )
        .send()
        .await
        .expect("registry request")
        .json()
        .await
        .expect("registry json")
}

fn audited_create(resource: &str, name: &str) -> Option<Value> {
    std::fs::read_to_string(shared().info().audit_log_path())
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|e| {
            e["verb"] == "create"
                && e["stage"] == "ResponseComplete"
                && e["objectRef"]["resource"] == resource
                && e["objectRef"]["namespace"] == NS
                && e["objectRef"]["name"] == name
                && e["responseStatus"]["code"] == 201
        })
}

#[tokio::test]
async fn infrastructure_is_set_up_as_the_caller_then_real_builds_run_against_buildkitd() {
    let admin = support::admin_client().await;
    let deployments: Api<Deployment> = Api::namespaced(admin.clone(), NS);
    let services: Api<Service> = Api::namespaced(admin.clone(), NS);

    // A real buildkitd, registry and input server on loopback, and the frontend image.
    let bk = tokio::task::spawn_blocking(|| {
        let bk = LocalBuildkit::start()?;
        let frontend = bk.push_dockerfile_frontend("frontend:test")?;
        Ok::<_, kubeairunway_testenv::Error>((bk, frontend))
    })
    .await
    .expect("join")
    .unwrap_or_else(|e| panic!("buildkitd and the registry on loopback: {e}"));
    let (bk, frontend) = bk;
    let weights = "GGUF fake weights of the test\n";
    bk.put_file("weights.gguf", weights);
    // Stands in for the aikitfile: the frontend gets the `model` build argument exactly as
    // AIKit's does, and fetches the "model" over HTTP.
    bk.put_file(
        "aikitfile.yaml",
        format!(
            "FROM scratch\nARG model\nLABEL ai.kubeairunway.model=$model\nADD {}/weights.gguf /models/model.gguf\n",
            bk.files_url()
        ),
    );
    let buildctl = bk.buildctl().to_path_buf();
    let addr = bk.addr();
    let registry = bk.registry_host().to_string();
    let aikitfile = format!("{}/aikitfile.yaml", bk.files_url());
    let s = support::start_in_mode(AuthMode::On, |c| {
        c.aikit.buildctl_path = buildctl.clone();
        c.aikit.buildkit_addr = addr.clone();
        c.aikit.target.push_host = registry.clone();
        c.aikit.target.frontend = frontend.clone();
        c.aikit.target.aikitfile = aikitfile.clone();
    });

    // Before the setup: nothing there, and builds are refused with what to do.
    let status = s
        .get("/api/aikit/infrastructure/status", Some(User::Admin))
        .await;
    status.expect_status(StatusCode::OK, "status");
    assert_eq!(status.body["ready"], false);
    assert_eq!(
        status.body["registry"]["message"],
        "Registry deployment not found"
    );
    assert_eq!(status.body["builder"]["message"], "Builder not found");
    assert_eq!(status.body["builder"]["driver"], "kubernetes");
    let body = hf_body("org/repo", "m.Q4_K_M.gguf");
    s.post_json("/api/aikit/build", Some(User::Admin), &body)
        .await
        .assert_error(
            StatusCode::CONFLICT,
            "POST /api/aikit/infrastructure/setup",
            "not set up",
        );

    // A viewer may not set it up: the API server refuses the viewer's own request.
    let viewer = s
        .post_json(
            "/api/aikit/infrastructure/setup",
            Some(User::Viewer),
            &json!({}),
        )
        .await;
    assert_eq!(viewer.status, StatusCode::FORBIDDEN, "{}", viewer.body);
    assert!(
        deployments
            .get_opt("kubeairunway-registry")
            .await
            .expect("read")
            .is_none()
    );
    s.post_json("/api/aikit/build", Some(User::Viewer), &body)
        .await
        .assert_error(StatusCode::FORBIDDEN, "deployments", "viewer build");

    // The admin sets it up; KWOK's kubelet makes the pods Ready, the controller-manager the
    // Deployments.
    let setup = s
        .post_json(
            "/api/aikit/infrastructure/setup",
            Some(User::Admin),
            &json!({}),
        )
        .await;
    setup.expect_status(StatusCode::OK, "setup");
    assert_eq!(setup.body["success"], true);
    assert_eq!(setup.body["message"], "Build infrastructure is ready");
    assert_eq!(
        setup.body["builder"],
        json!({"name": "kubeairunway-builder", "ready": true})
    );
    let created: Vec<&str> = setup.body["created"]
        .as_array()
        .expect("created")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for object in [
        "Deployment/kubeairunway-registry",
        "Service/kubeairunway-registry",
        "Deployment/kubeairunway-builder",
        "Service/kubeairunway-builder",
    ] {
        assert!(created.contains(&object), "{object} not in {created:?}");
    }
    let registry_d = deployments
        .get("kubeairunway-registry")
        .await
        .expect("registry deployment");
    let c = &registry_d
        .spec
        .as_ref()
        .expect("spec")
        .template
        .spec
        .as_ref()
        .expect("pod")
        .containers[0];
    assert_eq!(c.image.as_deref(), Some("registry:2"));
    assert_eq!(c.ports.as_ref().expect("ports")[0].container_port, 5000);
    let registry_s = services
        .get("kubeairunway-registry")
        .await
        .expect("registry service");
    let port = &registry_s
        .spec
        .as_ref()
        .expect("spec")
        .ports
        .as_ref()
        .expect("ports")[0];
    assert_eq!(port.node_port, Some(30500));
    assert_eq!(
        registry_s.spec.as_ref().and_then(|s| s.type_.as_deref()),
        Some("NodePort")
    );
    let builder_d = deployments
        .get("kubeairunway-builder")
        .await
        .expect("builder deployment");
    let c = &builder_d
        .spec
        .as_ref()
        .expect("spec")
        .template
        .spec
        .as_ref()
        .expect("pod")
        .containers[0];
    assert_eq!(c.image.as_deref(), Some("docker.io/moby/buildkit:v0.34.2"));
    assert!(
        c.args
            .as_ref()
            .expect("args")
            .contains(&"--addr=tcp://0.0.0.0:1234".to_string())
    );
    assert_eq!(
        c.security_context.as_ref().and_then(|s| s.privileged),
        Some(true)
    );
    let requests = c
        .resources
        .as_ref()
        .and_then(|r| r.requests.as_ref())
        .expect("requests");
    assert_eq!(requests["cpu"].0, "2");
    assert_eq!(requests["memory"].0, "4Gi");
    let builder_s = services
        .get("kubeairunway-builder")
        .await
        .expect("builder service");
    assert_eq!(
        builder_s
            .spec
            .as_ref()
            .expect("spec")
            .ports
            .as_ref()
            .expect("ports")[0]
            .port,
        1234
    );
    for d in [&registry_d, &builder_d] {
        assert_eq!(
            d.metadata.labels.as_ref().expect("labels")["app.kubernetes.io/managed-by"],
            "kubeairunway"
        );
    }
    // Created as the caller: the audit log names the admin, not the backend.
    for (resource, name) in [
        ("deployments", "kubeairunway-registry"),
        ("services", "kubeairunway-registry"),
        ("deployments", "kubeairunway-builder"),
        ("services", "kubeairunway-builder"),
    ] {
        let event = wait_until("the audit event", Duration::from_secs(10), || async move {
            Ok((audited_create(resource, name), String::new()))
        })
        .await
        .expect("audited");
        assert_eq!(event["user"]["username"], "admin", "{event}");
    }

    // Idempotent: nothing is created or changed the second time.
    let again = s
        .post_json(
            "/api/aikit/infrastructure/setup",
            Some(User::Admin),
            &json!({}),
        )
        .await;
    again.expect_status(StatusCode::OK, "setup again");
    assert_eq!(again.body["created"], json!([]));
    let after = deployments
        .get("kubeairunway-builder")
        .await
        .expect("builder");
    assert_eq!(after.metadata.uid, builder_d.metadata.uid);
    assert_eq!(after.metadata.generation, builder_d.metadata.generation);
    let status = s
        .get("/api/aikit/infrastructure/status", Some(User::Admin))
        .await;
    assert_eq!(status.body["ready"], true, "{}", status.body);
    assert_eq!(
        status.body["registry"]["message"],
        format!("Registry ready at {}", bk.registry_host())
    );
    assert_eq!(status.body["builder"]["message"], "Builder is ready");
    assert_eq!(status.body["builder"]["running"], true);

    // A builder that does not answer: 503 saying what to configure, and no job.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let dead = format!("tcp://{}", closed.local_addr().expect("addr"));
    drop(closed);
    let buildctl = bk.buildctl().to_path_buf();
    let silent = support::start_in_mode(AuthMode::On, |c| {
        c.aikit.buildctl_path = buildctl.clone();
        c.aikit.buildkit_addr = dead.clone();
    });
    silent
        .post_json("/api/aikit/build", Some(User::Admin), &body)
        .await
        .assert_error(
            StatusCode::SERVICE_UNAVAILABLE,
            "--buildkit-addr",
            "silent builder",
        );
    let no_buildctl = support::start_in_mode(AuthMode::On, |c| {
        c.aikit.buildctl_path = "/nonexistent/buildctl".into();
    });
    no_buildctl
        .post_json("/api/aikit/build", Some(User::Admin), &body)
        .await
        .assert_error(
            StatusCode::SERVICE_UNAVAILABLE,
            "BUILDCTL_PATH",
            "no buildctl",
        );

    // The real build, followed over SSE.
    let job = start_async_build(&s, &body).await;
    let events = read_events(&s, &job).await;
    let step = build_step(&events);
    let command = step["command"].as_str().expect("command");
    for part in [
        &format!("--addr={}", bk.addr()),
        &" build --progress=plain --frontend=gateway.v0 ".to_string(),
        &format!("--opt=source={frontend}"),
        &format!("--opt=context={}/aikitfile.yaml", bk.files_url()),
        &"--opt=build-arg:model=huggingface://org/repo/m.Q4_K_M.gguf".to_string(),
        &format!(
            "--output=type=image,name={}/aikit-org-repo:Q4_K_M,push=true,registry.insecure=true",
            bk.registry_host()
        ),
        &"--metadata-file=".to_string(),
    ] {
        assert!(command.contains(part), "{part} not in {command}");
    }
    let lines = output_lines(&events);
    assert!(
        lines.iter().any(|l| l.contains(&format!(
            "resolve image config for docker-image://{frontend}"
        ))),
        "{lines:#?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("ADD") && l.contains("weights.gguf")),
        "{lines:#?}"
    );
    assert!(
        lines.iter().any(|l| l.contains("pushing manifest for")),
        "{lines:#?}"
    );
    let end = &events.last().expect("end").data;
    assert_eq!(end["state"], "succeeded", "{end}");
    assert_eq!(end["kind"], "build-image");
    assert_eq!(end["target"], "aikit/aikit-org-repo:Q4_K_M");
    assert_eq!(end["user"], "admin");
    assert_eq!(
        end["details"]["imageRef"],
        "localhost:30500/aikit-org-repo:Q4_K_M"
    );
    assert_eq!(end["details"]["wasPremade"], false);
    let progress = &end["details"]["progress"];
    assert!(progress["steps"].as_u64().unwrap_or(0) >= 3, "{progress}");
    assert_eq!(progress["steps"], progress["completed"], "{progress}");
    let digest = end["details"]["digest"]
        .as_str()
        .expect("digest")
        .to_string();

    // The image is in the registry under that digest, with the model argument and the file.
    let http = reqwest::Client::builder().no_proxy().build().expect("http");
    let reg = format!("http://{}/v2/aikit-org-repo", bk.registry_host());
    let head = http
        .head(format!("{reg}/manifests/Q4_K_M"))
        .header(
            reqwest::header::ACCEPT,
            "application/vnd.oci.image.manifest.v1+json",
        )
        .send()
        .await
        .expect("manifest");
    assert_eq!(head.status(), StatusCode::OK);
    assert_eq!(
        head.headers()["docker-content-digest"]
            .to_str()
            .expect("digest"),
        digest
    );
    let manifest = registry_json(&http, &format!("{reg}/manifests/{digest}")).await;
    assert_eq!(
        manifest["layers"].as_array().map(Vec::len),
        Some(1),
        "{manifest}"
    );
    let config_digest = manifest["config"]["digest"]
        .as_str()
        .expect("config digest");
    let config = registry_json(&http, &format!("{reg}/blobs/{config_digest}")).await;
    assert_eq!(
        config["config"]["Labels"]["ai.kubeairunway.model"],
        "huggingface://org/repo/m.Q4_K_M.gguf"
    );

    // The synchronous form answers in the reference's shape once the build has finished.
    let sync = s
        .request(reqwest::Method::POST, "/api/aikit/build", Some(User::Admin))
        .json(&json!({"modelSource": "huggingface", "modelId": "org/repo", "ggufFile": "m.Q4_K_M.gguf", "imageName": "team/llama", "imageTag": "v1"}))
        .timeout(Duration::from_secs(120))
        .send()
        .await
        .expect("sync build");
    assert_eq!(sync.status(), StatusCode::OK);
    let sync: Value = sync.json().await.expect("json");
    assert_eq!(sync["success"], true, "{sync}");
    assert_eq!(sync["imageRef"], "localhost:30500/team/llama:v1");
    assert_eq!(sync["wasPremade"], false);
    assert_eq!(sync["message"], "AIKit image built successfully");
    assert!(
        sync["buildTime"].as_f64().is_some_and(|t| t >= 0.0),
        "{sync}"
    );
    assert!(sync["jobId"].is_string());
    // The viewer may not read the admin's build.
    let job_id = sync["jobId"].as_str().expect("jobId");
    let read = s
        .get(&format!("/api/jobs/{job_id}"), Some(User::Viewer))
        .await;
    assert_eq!(read.status, StatusCode::FORBIDDEN);

    // The real AIKit frontend cannot be pulled here (no route to ghcr.io): the build runs, and
    // fails streamed and reported with BuildKit's reason.
    let buildctl = bk.buildctl().to_path_buf();
    let addr = bk.addr();
    let registry = bk.registry_host().to_string();
    let aikit = support::start_in_mode(AuthMode::On, |c| {
        c.aikit.buildctl_path = buildctl.clone();
        c.aikit.buildkit_addr = addr.clone();
        c.aikit.target.push_host = registry.clone();
    });
    let job = start_async_build(&aikit, &body).await;
    let events = read_events(&aikit, &job).await;
    let step = build_step(&events);
    let command = step["command"].as_str().expect("command").to_string();
    assert!(
        command.contains("--opt=source=ghcr.io/kaito-project/aikit/aikit:latest"),
        "{command}"
    );
    assert!(command.contains("--opt=context=https://raw.githubusercontent.com/kaito-project/aikit/main/models/aikitfile.yaml"), "{command}");
    let lines = output_lines(&events);
    assert!(
        lines
            .iter()
            .any(|l| l.contains("ERROR") && l.contains("ghcr.io")),
        "{lines:#?}"
    );
    let end = &events.last().expect("end").data;
    assert_eq!(end["state"], "failed", "{end}");
    assert_eq!(end["failedStep"], "build");
    let message = end["message"].as_str().expect("message");
    assert!(
        message.starts_with("AIKit image build failed at step \"build\": failed to solve: ")
            && message.contains("ghcr.io/kaito-project/aikit/aikit:latest"),
        "{message}"
    );
    assert!(end["details"].get("imageRef").is_none(), "{end}");
    assert_eq!(step["state"], "failed");
    assert_eq!(step["exitCode"], 1);
    drop(bk);
}
