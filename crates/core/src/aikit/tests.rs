use super::build::{BuildPlan, BuildRequest, BuildTarget, BuildctlArgs, ImageBuild, pushed_digest};
use super::infra::{self, Readiness};
use super::names::{self, default_image_name, default_image_tag};
use super::progress::{Progress, ProgressLine, parse_line};
use super::*;

fn hf(model_id: &str, gguf: &str) -> BuildRequest {
    BuildRequest {
        model_source: Some("huggingface".into()),
        model_id: Some(model_id.into()),
        gguf_file: Some(gguf.into()),
        ..BuildRequest::default()
    }
}

fn build_of(request: &BuildRequest) -> ImageBuild {
    match BuildPlan::from_request(request) {
        Ok(BuildPlan::Build(build)) => build,
        other => panic!("expected a build, got {other:?}"),
    }
}

fn error_of(request: &BuildRequest) -> String {
    match BuildPlan::from_request(request) {
        Err(e) => e.to_string(),
        Ok(plan) => panic!("expected a refusal, got {plan:?}"),
    }
}

#[test]
fn ten_premade_models_with_their_images() {
    assert_eq!(PREMADE_MODELS.len(), 10);
    for m in &PREMADE_MODELS {
        let (_, tag) = m.id.split_once(':').expect("id has a tag");
        assert_eq!(
            m.image,
            format!("ghcr.io/kaito-project/aikit/{}", m.id),
            "{}",
            m.id
        );
        assert!(!tag.is_empty());
        assert_eq!(m.compute_type, ComputeType::Cpu);
        names::image_ref("image", m.image).expect("premade image is a valid reference");
    }
    assert_eq!(
        premade_model("gpt-oss:20b").map(|m| m.model_name),
        Some("gpt-oss-20b")
    );
    assert_eq!(
        premade_model("qwq:32b").map(|m| m.license),
        Some("Apache 2.0")
    );
    assert!(premade_model("kaito/llama3.2-1b").is_none());
    let json = serde_json::to_value(&PREMADE_MODELS[0]).expect("json");
    assert_eq!(json["modelName"], "llama-3.2-1b-instruct");
    assert_eq!(json["computeType"], "cpu");
}

#[test]
fn derived_names_follow_the_reference() {
    assert_eq!(
        default_image_name("TheBloke/Llama-2-7B-GGUF"),
        "aikit-thebloke-llama-2-7b-gguf"
    );
    assert_eq!(
        default_image_name("Qwen/Qwen2.5_0.5B"),
        "aikit-qwen-qwen2-5-0-5b"
    );
    let long = format!("org/{}", "a".repeat(100));
    let name = default_image_name(&long);
    assert_eq!(name.len(), "aikit-".len() + 63);
    // A cut that would end in a dash drops it.
    let dashy = format!("{}/b", "a".repeat(62));
    assert!(!default_image_name(&dashy).ends_with('-'));
    assert_eq!(default_image_tag("model.Q4_K_M.gguf"), "Q4_K_M");
    assert_eq!(default_image_tag("model.q4_k_s.gguf"), "Q4_K_S");
    assert_eq!(default_image_tag("model.Q8_0.gguf"), "Q8_0");
    assert_eq!(default_image_tag("model.Q5.gguf"), "Q5");
    assert_eq!(default_image_tag("model.iq2_xxs.gguf"), "IQ2_XXS");
    assert_eq!(default_image_tag("model.f16.gguf"), "F16");
    assert_eq!(default_image_tag("model.gguf"), "custom");
}

#[test]
fn requests_become_plans() {
    let premade = BuildRequest {
        model_source: Some("premade".into()),
        premade_model: Some("llama3.2:1b".into()),
        ..BuildRequest::default()
    };
    match BuildPlan::from_request(&premade) {
        Ok(BuildPlan::Premade(m)) => assert_eq!(m.image, "ghcr.io/kaito-project/aikit/llama3.2:1b"),
        other => panic!("{other:?}"),
    }
    let build = build_of(&hf(
        "bartowski/Llama-3.2-1B-Instruct-GGUF",
        "Llama-3.2-1B-Instruct-Q4_K_M.gguf",
    ));
    assert_eq!(
        build.image_name,
        "aikit-bartowski-llama-3-2-1b-instruct-gguf"
    );
    // `-Q4_K_M.gguf` is not `.Q4_K_M.gguf`: the reference's patterns need the dot.
    assert_eq!(build.image_tag, "custom");
    assert_eq!(
        build.model_arg(),
        "huggingface://bartowski/Llama-3.2-1B-Instruct-GGUF/Llama-3.2-1B-Instruct-Q4_K_M.gguf"
    );
    let mut named = hf("org/repo", "sub/dir/m.Q8_0.gguf");
    named.image_name = Some("team/llama".into());
    named.image_tag = Some("v1.2".into());
    let b = build_of(&named);
    assert_eq!(b.name_tag(), "team/llama:v1.2");
    let target = BuildTarget::default();
    assert_eq!(target.pull_ref(&b), "localhost:30500/team/llama:v1.2");
    assert_eq!(
        target.push_ref(&b),
        "kubeairunway-registry.kubeairunway-system.svc:5000/team/llama:v1.2"
    );
    target.validate().expect("defaults are valid");
}

#[test]
fn missing_fields_are_named() {
    assert_eq!(
        error_of(&BuildRequest::default()),
        "modelSource must be \"premade\" or \"huggingface\""
    );
    let mut r = BuildRequest {
        model_source: Some("Premade".into()),
        ..BuildRequest::default()
    };
    assert!(error_of(&r).contains("modelSource"));
    r.model_source = Some("premade".into());
    assert_eq!(error_of(&r), "premade requires premadeModel field");
    r.premade_model = Some("llama9:1t".into());
    assert_eq!(error_of(&r), "Unknown premade model: llama9:1t");
    let mut h = hf("org/repo", "");
    assert_eq!(
        error_of(&h),
        "huggingface requires modelId and ggufFile fields"
    );
    h.gguf_file = Some("model.bin".into());
    assert_eq!(error_of(&h), "ggufFile must be a .gguf file");
}

#[test]
fn hostile_model_ids_are_refused() {
    for bad in [
        "org/repo; rm -rf /",
        "org/repo$(id)",
        "org/`id`",
        "org/repo\nx",
        "org/repo name",
        "--help/x",
        "-org/repo",
        "org/-repo",
        "org/repo/extra",
        "../etc/passwd",
        "org/..",
        "org/a..b",
        "org/a--b",
        "org",
        "/repo",
        "org/",
        "org/repo,push=false",
        "org/repo=x",
        "org/répo",
        "org/repo\0",
        &format!("org/{}", "a".repeat(100)),
    ] {
        let e = error_of(&hf(bad, "m.Q4_K_M.gguf"));
        assert!(e.starts_with("modelId "), "{bad:?}: {e}");
    }
}

#[test]
fn hostile_gguf_files_are_refused() {
    for bad in [
        "../../etc/passwd.gguf",
        "a/../b.gguf",
        "./m.gguf",
        ".hidden.gguf",
        "-rf.gguf",
        "--output=type=local.gguf",
        "/abs/m.gguf",
        "a//b.gguf",
        "m;reboot.gguf",
        "m$(id).gguf",
        "m .gguf",
        "m,push=true.gguf",
        "m=1.gguf",
        "m\n.gguf",
        "m.gguf\n",
        "m.GGUF",
        "m.gguf.exe",
        &format!("{}.gguf", "a".repeat(300)),
    ] {
        let e = error_of(&hf("org/repo", bad));
        assert!(e.starts_with("ggufFile "), "{bad:?}: {e}");
    }
    for good in ["m.Q4_K_M.gguf", "sub/dir/m-v1+x.gguf", "_m.gguf"] {
        build_of(&hf("org/repo", good));
    }
}

#[test]
fn hostile_image_names_and_tags_are_refused() {
    for bad in [
        "UPPER",
        "-leading",
        "trailing-",
        "a..b",
        "a/b/c/d",
        "a b",
        "a;b",
        "a,push=false",
        "a:b",
        "a@b",
        "../x",
        "/x",
        "x/",
        &"a".repeat(129),
    ] {
        let mut r = hf("org/repo", "m.gguf");
        r.image_name = Some(bad.into());
        let e = error_of(&r);
        assert!(e.starts_with("imageName "), "{bad:?}: {e}");
    }
    for bad in [
        "-x",
        ".x",
        "a b",
        "a;b",
        "a,b",
        "a/b",
        "a:b",
        "tag$(id)",
        &"t".repeat(129),
    ] {
        let mut r = hf("org/repo", "m.gguf");
        r.image_tag = Some(bad.into());
        let e = error_of(&r);
        assert!(e.starts_with("imageTag "), "{bad:?}: {e}");
    }
}

#[test]
fn configured_values_use_the_same_rules() {
    let good = BuildTarget {
        push_host: "127.0.0.1:5001".into(),
        pull_host: "localhost:30500".into(),
        frontend: "127.0.0.1:5001/frontend:test".into(),
        aikitfile: "http://127.0.0.1:8080/aikitfile.yaml".into(),
    };
    good.validate().expect("valid");
    for (field, value) in [
        ("push", "Registry:5000"),
        ("push", "host:99999"),
        ("push", "host:5000/path"),
        ("frontend", "frontend:latest"),
        ("frontend", "ghcr.io/x/y:-bad"),
        ("frontend", "ghcr.io/x/y@sha256:zz"),
        ("aikitfile", "file:///etc/passwd"),
        ("aikitfile", "https://user:pw@host/x"),
        ("aikitfile", "https://host/x,push=true"),
        ("aikitfile", "https://host/a b"),
    ] {
        let mut t = good.clone();
        match field {
            "push" => t.push_host = value.into(),
            "frontend" => t.frontend = value.into(),
            _ => t.aikitfile = value.into(),
        }
        assert!(t.validate().is_err(), "{field}={value:?} accepted");
    }
    names::buildkit_addr("tcp://kubeairunway-builder.kubeairunway-system.svc:1234").expect("tcp");
    names::buildkit_addr("unix:///run/buildkit/buildkitd.sock").expect("unix");
    for bad in [
        "tcp://host",
        "http://h:1",
        "unix://rel/path",
        "unix:///a/../b",
        "tcp://h:1;id",
    ] {
        assert!(names::buildkit_addr(bad).is_err(), "{bad}");
    }
}

#[test]
fn buildctl_command_lines_are_exact() {
    assert_eq!(
        BuildctlArgs::workers(BUILDKIT_ADDR),
        [
            "--addr=tcp://kubeairunway-builder.kubeairunway-system.svc:1234",
            "debug",
            "workers"
        ]
    );
    let b = build_of(&hf("org/repo", "m.Q4_K_M.gguf"));
    let args = BuildctlArgs::build(BUILDKIT_ADDR, &BuildTarget::default(), &b, "/tmp/meta.json");
    assert_eq!(
        args,
        [
            "--addr=tcp://kubeairunway-builder.kubeairunway-system.svc:1234",
            "build",
            "--progress=plain",
            "--frontend=gateway.v0",
            "--opt=source=ghcr.io/kaito-project/aikit/aikit:latest",
            "--opt=context=https://raw.githubusercontent.com/kaito-project/aikit/main/models/aikitfile.yaml",
            "--opt=build-arg:model=huggingface://org/repo/m.Q4_K_M.gguf",
            "--output=type=image,name=kubeairunway-registry.kubeairunway-system.svc:5000/aikit-org-repo:Q4_K_M,push=true,registry.insecure=true",
            "--metadata-file=/tmp/meta.json",
        ]
    );
    // Every value is a `--flag=value` or a fixed word: nothing user-given stands alone.
    for a in &args[1..] {
        assert!(a == "build" || a.starts_with("--"), "{a}");
    }
}

#[test]
fn metadata_digest() {
    let meta = r#"{"containerimage.digest":"sha256:abc","image.name":"x"}"#;
    assert_eq!(pushed_digest(meta).as_deref(), Some("sha256:abc"));
    assert_eq!(pushed_digest("{}"), None);
    assert_eq!(pushed_digest("not json"), None);
}

#[test]
fn plain_progress_lines() {
    assert_eq!(
        parse_line("#1 [internal] load remote build context"),
        ProgressLine::Vertex {
            id: 1,
            text: "[internal] load remote build context"
        }
    );
    assert_eq!(parse_line("#1 DONE 0.1s"), ProgressLine::Done { id: 1 });
    assert_eq!(parse_line("#4 CACHED"), ProgressLine::Cached { id: 4 });
    assert_eq!(parse_line("#2 CANCELED"), ProgressLine::Canceled { id: 2 });
    assert_eq!(
        parse_line("#3 ERROR: failed to do request: dial tcp: lookup ghcr.io: no such host"),
        ProgressLine::Error {
            id: 3,
            message: "failed to do request: dial tcp: lookup ghcr.io: no such host"
        }
    );
    assert_eq!(
        parse_line("error: failed to solve: boom"),
        ProgressLine::Failure("failed to solve: boom")
    );
    assert_eq!(parse_line("------"), ProgressLine::Other);
    assert_eq!(parse_line("#x DONE"), ProgressLine::Other);
    // A log line that merely starts with DONE is not the end of the step.
    assert_eq!(
        parse_line("#5 DONE with it"),
        ProgressLine::Vertex {
            id: 5,
            text: "DONE with it"
        }
    );

    let mut p = Progress::default();
    for line in [
        "#1 [internal] load remote build context",
        "#1 DONE 0.1s",
        "#2 copy /context /",
        "#2 CACHED",
        "#3 resolve image config for 127.0.0.1:5000/frontend:test",
        "#3 0.123 some log",
    ] {
        p.observe(line);
    }
    let s = p.summary();
    assert_eq!((s.steps, s.completed, s.cached), (3, 2, 1));
    assert_eq!(
        s.current.as_deref(),
        Some("resolve image config for 127.0.0.1:5000/frontend:test")
    );
    assert_eq!(p.error(), None);
    p.observe("#3 ERROR: no such host");
    assert_eq!(
        p.error(),
        Some("resolve image config for 127.0.0.1:5000/frontend:test: no such host")
    );
    p.observe("error: failed to solve: no such host");
    assert_eq!(p.error(), Some("failed to solve: no such host"));
    assert_eq!(p.summary().current, None);
}

#[test]
fn infrastructure_objects() {
    let d = infra::registry_deployment();
    let j = serde_json::to_value(&d).expect("json");
    assert_eq!(j["metadata"]["name"], REGISTRY_NAME);
    assert_eq!(j["metadata"]["namespace"], NAMESPACE);
    assert_eq!(
        j["metadata"]["labels"]["app.kubernetes.io/managed-by"],
        "kubeairunway"
    );
    assert_eq!(j["spec"]["selector"]["matchLabels"]["app"], REGISTRY_NAME);
    let c = &j["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(c["image"], "registry:2");
    assert_eq!(c["ports"][0]["containerPort"], 5000);
    assert_eq!(c["env"][0]["name"], "REGISTRY_STORAGE_DELETE_ENABLED");
    assert_eq!(c["resources"]["limits"]["memory"], "512Mi");
    assert_eq!(c["readinessProbe"]["httpGet"]["path"], "/v2/");
    assert_eq!(c["volumeMounts"][0]["mountPath"], "/var/lib/registry");
    let s = serde_json::to_value(infra::registry_service()).expect("json");
    assert_eq!(s["spec"]["type"], "NodePort");
    assert_eq!(s["spec"]["ports"][0]["nodePort"], 30500);
    let b = serde_json::to_value(infra::builder_deployment()).expect("json");
    let c = &b["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(c["image"], BUILDKIT_IMAGE);
    assert_eq!(c["args"][1], "--addr=tcp://0.0.0.0:1234");
    assert_eq!(c["securityContext"]["privileged"], true);
    assert_eq!(c["resources"]["requests"]["cpu"], "2");
    assert_eq!(c["resources"]["requests"]["memory"], "4Gi");
    let bs = serde_json::to_value(infra::builder_service()).expect("json");
    assert_eq!(bs["spec"]["ports"][0]["port"], 1234);
    assert_eq!(bs["spec"]["selector"]["app"], BUILDER_NAME);

    let mut d = infra::builder_deployment();
    assert!(!Readiness::of(&d).is_ready());
    d.status = Some(k8s_openapi::api::apps::v1::DeploymentStatus {
        ready_replicas: Some(1),
        ..Default::default()
    });
    assert_eq!(
        Readiness::of(&d),
        Readiness {
            ready: 1,
            desired: 1
        }
    );
    assert!(Readiness::of(&d).is_ready());
}
