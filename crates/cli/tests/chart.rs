//! The Helm chart (`deploy/helm/kubeairunway`) without a cluster: `helm lint`, `helm template`
//! with the value variations users choose, the chart's RBAC compared with the rules the code
//! derives from what it calls, the committed plain manifests, and the documentation of every
//! value. What happens on a cluster is `in_cluster.rs`.

mod support;

use std::collections::BTreeSet;

use serde_json::Value;
use support::{Helm, NAMESPACE, find, grants, names, rules_of};

/// A value variation: `--set` arguments.
type Variation = (&'static str, &'static [&'static str]);

/// Variations that render (each is linted and templated).
const VARIATIONS: &[Variation] = &[
    ("defaults", &[]),
    (
        "ingress",
        &[
            "server.ingress.enabled=true",
            "server.ingress.className=nginx",
            "server.ingress.hosts[0].host=ai.example.com",
            "server.ingress.hosts[0].paths[0].path=/",
            "server.ingress.hosts[0].paths[0].pathType=Prefix",
            "server.ingress.tls[0].hosts[0]=ai.example.com",
            "server.ingress.tls[0].secretName=ai-tls",
        ],
    ),
    (
        "httproute",
        &[
            "server.httpRoute.enabled=true",
            "server.httpRoute.parentRefs[0].name=gw",
            "server.httpRoute.parentRefs[0].namespace=gateway-system",
            "server.httpRoute.hostnames[0]=ai.example.com",
        ],
    ),
    (
        "servicemonitor",
        &[
            "controller.metrics.serviceMonitor.enabled=true",
            "controller.metrics.serviceMonitor.labels.release=prometheus",
        ],
    ),
    (
        "auth off with allowed hosts",
        &[
            "server.auth.enabled=false",
            "server.allowedHosts={ai.internal}",
            "server.rbac.extraClusterRoles={kubeairunway-edit,view}",
        ],
    ),
    (
        "two servers, one controller",
        &["server.replicas=2", "controller.replicas=1"],
    ),
    (
        "kubernetes provider only",
        &["controller.providers={kubernetes}"],
    ),
    (
        "image by digest",
        &[
            "image.repository=registry.example.com/kubeairunway",
            "image.digest=sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        ],
    ),
    (
        "no rbac",
        &["rbac.create=false", "rbac.aggregatedRoles=false"],
    ),
    ("controller only", &["server.enabled=false"]),
];

#[test]
fn helm_lint_passes_for_every_variation() {
    let helm = Helm::new();
    let chart = support::chart();
    for (name, sets) in VARIATIONS {
        let mut args = vec![
            "lint".to_string(),
            "--strict".into(),
            chart.display().to_string(),
            "--namespace".into(),
            NAMESPACE.into(),
        ];
        for set in *sets {
            args.push("--set".into());
            args.push((*set).into());
        }
        let out = helm.run(&args);
        assert!(
            out.ok,
            "helm lint ({name}) failed:\n{}{}",
            out.stdout, out.stderr
        );
    }
}

fn env_of(objects: &[Value]) -> Value {
    find(objects, "ConfigMap", "kubeairunway-server-env")["data"].clone()
}

fn container<'a>(objects: &'a [Value], deployment: &str) -> &'a Value {
    &find(objects, "Deployment", deployment)["spec"]["template"]["spec"]["containers"][0]
}

#[test]
fn the_defaults_install_a_hardened_server_with_auth_and_a_leader_elected_controller() {
    let objects = Helm::new().render(&[]);
    let expected: BTreeSet<String> = [
        "ServiceAccount/kubeairunway-server",
        "ServiceAccount/kubeairunway-controller",
        "ConfigMap/kubeairunway-server-env",
        "ClusterRole/kubeairunway-server",
        "ClusterRole/kubeairunway-controller",
        "ClusterRole/kubeairunway-view",
        "ClusterRole/kubeairunway-edit",
        "ClusterRoleBinding/kubeairunway-server",
        "ClusterRoleBinding/kubeairunway-controller",
        "Role/kubeairunway-controller-leader",
        "RoleBinding/kubeairunway-controller-leader",
        "Service/kubeairunway-server",
        "Service/kubeairunway-controller-metrics",
        "Deployment/kubeairunway-server",
        "Deployment/kubeairunway-controller",
        "PodDisruptionBudget/kubeairunway-controller",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    assert_eq!(names(&objects), expected);
    for o in &objects {
        let cluster_scoped =
            ["ClusterRole", "ClusterRoleBinding"].contains(&o["kind"].as_str().unwrap_or(""));
        if !cluster_scoped {
            assert_eq!(
                o["metadata"]["namespace"],
                NAMESPACE,
                "{}",
                support::describe(o)
            );
        }
    }

    let env = env_of(&objects);
    assert_eq!(env["AUTH_ENABLED"], "true");
    assert_eq!(env["HOST"], "0.0.0.0");
    assert_eq!(env["PORT"], "3001");
    assert_eq!(env["DEFAULT_NAMESPACE"], NAMESPACE);
    assert!(env.get("ALLOWED_HOSTS").is_none(), "{env}");

    for (deployment, args) in [
        ("kubeairunway-server", vec!["serve"]),
        (
            "kubeairunway-controller",
            vec![
                "controller",
                "--providers=kaito,dynamo,kuberay,kubernetes",
                "--metrics-bind-address=0.0.0.0:8081",
                "--leader-elect",
                "--resync-seconds=15",
                "--finalizer-timeout-seconds=300",
                "--heartbeat-seconds=60",
            ],
        ),
    ] {
        let pod = &find(&objects, "Deployment", deployment)["spec"]["template"]["spec"];
        let c = &pod["containers"][0];
        assert_eq!(c["image"], "kubeairunway:0.1.0");
        assert_eq!(c["args"], serde_json::json!(args), "{deployment}");
        assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
        assert_eq!(pod["securityContext"]["runAsUser"], 65532);
        assert_eq!(
            pod["securityContext"]["seccompProfile"]["type"],
            "RuntimeDefault"
        );
        assert_eq!(pod["enableServiceLinks"], false);
        let sc = &c["securityContext"];
        assert_eq!(sc["readOnlyRootFilesystem"], true, "{deployment}");
        assert_eq!(sc["allowPrivilegeEscalation"], false, "{deployment}");
        assert_eq!(sc["capabilities"]["drop"], serde_json::json!(["ALL"]));
        assert!(
            c["resources"]["requests"]["memory"].is_string(),
            "{deployment}"
        );
        assert!(
            c["resources"]["limits"]["memory"].is_string(),
            "{deployment}"
        );
    }
    let server = container(&objects, "kubeairunway-server");
    assert_eq!(server["livenessProbe"]["httpGet"]["path"], "/api/health");
    assert_eq!(
        server["readinessProbe"]["httpGet"]["path"],
        "/api/health/ready"
    );
    assert_eq!(server["volumeMounts"][0]["mountPath"], "/tmp");
    let controller = container(&objects, "kubeairunway-controller");
    assert_eq!(controller["livenessProbe"]["httpGet"]["path"], "/healthz");
    assert_eq!(controller["readinessProbe"]["httpGet"]["path"], "/readyz");
    let env_names: Vec<&str> = controller["env"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["name"].as_str())
        .collect();
    assert!(env_names.contains(&"POD_NAMESPACE") && env_names.contains(&"POD_NAME"));
    assert_eq!(
        find(&objects, "Deployment", "kubeairunway-controller")["spec"]["replicas"],
        2
    );
}

#[test]
fn variations_render_what_they_name() {
    let helm = Helm::new();
    let has = |objects: &[Value], name: &str| names(objects).contains(name);

    let o = helm.render(VARIATIONS[1].1);
    let ingress = find(&o, "Ingress", "kubeairunway-server");
    assert_eq!(ingress["spec"]["ingressClassName"], "nginx");
    assert_eq!(ingress["spec"]["rules"][0]["host"], "ai.example.com");
    assert_eq!(
        ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]["name"],
        "kubeairunway-server"
    );
    assert_eq!(ingress["spec"]["tls"][0]["secretName"], "ai-tls");

    let o = helm.render(VARIATIONS[2].1);
    let route = find(&o, "HTTPRoute", "kubeairunway-server");
    assert_eq!(route["apiVersion"], "gateway.networking.k8s.io/v1");
    assert_eq!(route["spec"]["parentRefs"][0]["name"], "gw");
    assert_eq!(
        route["spec"]["rules"][0]["backendRefs"][0]["name"],
        "kubeairunway-server"
    );
    assert!(!has(&o, "Ingress/kubeairunway-server"));

    let o = helm.render(VARIATIONS[3].1);
    let sm = find(&o, "ServiceMonitor", "kubeairunway-controller");
    assert_eq!(sm["metadata"]["labels"]["release"], "prometheus");
    assert_eq!(sm["spec"]["endpoints"][0]["port"], "metrics");
    assert!(!has(
        &helm.render(&[]),
        "ServiceMonitor/kubeairunway-controller"
    ));

    let o = helm.render(VARIATIONS[4].1);
    let env = env_of(&o);
    assert_eq!(env["AUTH_ENABLED"], "false");
    assert_eq!(env["ALLOWED_HOSTS"], "ai.internal");
    for role in ["kubeairunway-edit", "view"] {
        let binding = find(
            &o,
            "ClusterRoleBinding",
            &format!("kubeairunway-server-{role}"),
        );
        assert_eq!(binding["roleRef"]["name"], role);
        assert_eq!(binding["subjects"][0]["name"], "kubeairunway-server");
    }

    let o = helm.render(VARIATIONS[5].1);
    assert!(has(&o, "PodDisruptionBudget/kubeairunway-server"));
    assert!(!has(&o, "PodDisruptionBudget/kubeairunway-controller"));

    let o = helm.render(VARIATIONS[7].1);
    assert_eq!(
        container(&o, "kubeairunway-server")["image"],
        "registry.example.com/kubeairunway@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
    );

    let o = helm.render(VARIATIONS[8].1);
    assert!(
        o.iter()
            .all(|x| !x["kind"].as_str().unwrap_or("").contains("Role")),
        "{:?}",
        names(&o)
    );

    let o = helm.render(VARIATIONS[9].1);
    assert!(
        names(&o).iter().all(|n| !n.contains("server")),
        "{:?}",
        names(&o)
    );
}

#[test]
fn contradictory_values_are_refused_with_the_reason() {
    let helm = Helm::new();
    let refused: &[(&str, &[&str], &str)] = &[
        (
            "auth off, no hosts",
            &["server.auth.enabled=false"],
            "needs server.allowedHosts",
        ),
        (
            "replicas without a leader",
            &["controller.leaderElection.enabled=false"],
            "needs controller.leaderElection.enabled",
        ),
        (
            "route without a gateway",
            &["server.httpRoute.enabled=true"],
            "needs server.httpRoute.parentRefs",
        ),
        (
            "monitor without a service",
            &[
                "controller.metrics.serviceMonitor.enabled=true",
                "controller.metrics.service.enabled=false",
            ],
            "needs controller.metrics.service.enabled",
        ),
        (
            "unknown provider",
            &["controller.providers={kserve}"],
            "value must be one of",
        ),
        (
            "a typo",
            &["server.replica=2"],
            "additional properties 'replica' not allowed",
        ),
        ("a wrong type", &["server.port=http"], "/server/port"),
    ];
    for (name, sets, message) in refused {
        let out = helm.template_in(NAMESPACE, sets);
        assert!(!out.ok, "{name}: helm template accepted {sets:?}");
        assert!(out.stderr.contains(message), "{name}: {}", out.stderr);
    }
    let out = helm.template_in("default", &[]);
    assert!(
        !out.ok
            && out
                .stderr
                .contains("into the namespace kubeairunway-system"),
        "{}",
        out.stderr
    );
}

/// The rules of a rendered Role or ClusterRole as grants.
fn role_grants(objects: &[Value], kind: &str, name: &str) -> BTreeSet<support::Grant> {
    grants(&rules_of(find(objects, kind, name)))
}

#[test]
fn the_chart_grants_exactly_the_rules_the_code_derives() {
    let helm = Helm::new();
    let objects = helm.render(&[]);
    let backend = kubeairunway_api::rbac::backend_role();
    assert_eq!(
        role_grants(&objects, "ClusterRole", "kubeairunway-server"),
        grants(backend.rules.as_deref().unwrap_or_default()),
        "the server's ClusterRole differs from kubeairunway_api::rbac::backend_role"
    );
    for providers in [
        kubeairunway_controller::all_providers(),
        vec!["kubernetes".to_string()],
        vec!["kaito".to_string(), "kuberay".to_string()],
    ] {
        let set = format!("controller.providers={{{}}}", providers.join(","));
        let objects = helm.render(&[&set]);
        let code =
            kubeairunway_controller::rbac::cluster_rules(&providers).expect("known providers");
        assert_eq!(
            role_grants(&objects, "ClusterRole", "kubeairunway-controller"),
            grants(&code),
            "the controller's ClusterRole for {providers:?} differs from kubeairunway_controller::rbac::cluster_rules"
        );
    }
    assert_eq!(
        role_grants(&objects, "Role", "kubeairunway-controller-leader"),
        grants(&kubeairunway_controller::rbac::leader_rules())
    );
    for role in kubeairunway_api::rbac::aggregated_roles() {
        let name = role.metadata.name.clone().unwrap_or_default();
        let rendered = find(&objects, "ClusterRole", &name);
        assert_eq!(
            grants(&rules_of(rendered)),
            grants(role.rules.as_deref().unwrap_or_default()),
            "{name}"
        );
        for (key, value) in role.metadata.labels.iter().flatten() {
            if key.starts_with("rbac.authorization.k8s.io/aggregate-to-") {
                assert_eq!(
                    rendered["metadata"]["labels"][key],
                    value.as_str(),
                    "{name} {key}"
                );
            }
        }
    }
    for binding in ["kubeairunway-server", "kubeairunway-controller"] {
        let b = find(&objects, "ClusterRoleBinding", binding);
        assert_eq!(b["roleRef"]["name"], binding);
        assert_eq!(b["subjects"][0]["kind"], "ServiceAccount");
        assert_eq!(b["subjects"][0]["name"], binding);
        assert_eq!(b["subjects"][0]["namespace"], NAMESPACE);
    }
}

#[test]
fn the_plain_manifests_are_rendered_from_the_chart() {
    let helm = Helm::new();
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("kubeairunway.yaml");
    let status = std::process::Command::new("bash")
        .arg(support::root().join("scripts/render-manifests.sh"))
        .arg(&out)
        .env("HELM", helm.bin())
        .status()
        .expect("bash runs");
    assert!(status.success(), "scripts/render-manifests.sh failed");
    let rendered = std::fs::read_to_string(&out).expect("rendered");
    let committed_path = support::root().join("deploy/manifests/kubeairunway.yaml");
    let committed = std::fs::read_to_string(&committed_path).unwrap_or_default();
    assert!(
        rendered == committed,
        "{} is stale; run `make manifests`",
        committed_path.display()
    );
    let objects = support::parse_objects(&rendered);
    let crds = objects
        .iter()
        .filter(|o| o["kind"] == "CustomResourceDefinition")
        .count();
    assert_eq!(crds, kubeairunway_api::crds::all().len());
    assert_eq!(objects[0]["kind"], "Namespace");
}

#[test]
fn the_chart_version_follows_the_workspace() {
    let text = std::fs::read_to_string(support::chart().join("Chart.yaml")).expect("Chart.yaml");
    let chart: Value = serde_saphyr::from_str(&text).expect("Chart.yaml parses");
    assert_eq!(chart["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(chart["appVersion"], env!("CARGO_PKG_VERSION"));
}

/// Every key of values.yaml is in values.schema.json with a description, and the schema names
/// no key values.yaml lacks, so `helm show values` and the schema document the same values.
#[test]
fn every_value_is_documented_in_the_schema() {
    let chart = support::chart();
    let values: Value = serde_saphyr::from_str(
        &std::fs::read_to_string(chart.join("values.yaml")).expect("values.yaml"),
    )
    .expect("values.yaml parses");
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(chart.join("values.schema.json")).expect("schema"),
    )
    .expect("schema parses");

    fn walk(path: &str, value: &Value, schema: &Value, problems: &mut Vec<String>) {
        let Some(map) = value.as_object() else { return };
        let props = schema["properties"].as_object();
        // Free-form maps (labels, annotations, Kubernetes objects) are described as a whole.
        if props.is_none() {
            return;
        }
        for (key, child) in map {
            let here = format!("{path}.{key}");
            match props.and_then(|p| p.get(key)) {
                None => problems.push(format!("{here} is not in values.schema.json")),
                Some(s) => {
                    if s["description"].as_str().is_none_or(|d| d.is_empty()) {
                        problems.push(format!("{here} has no description"));
                    }
                    walk(&here, child, s, problems);
                }
            }
        }
        for key in props.into_iter().flat_map(|p| p.keys()) {
            if !map.contains_key(key) {
                problems.push(format!(
                    "{path}.{key} is in the schema but not in values.yaml"
                ));
            }
        }
    }
    let mut problems = Vec::new();
    walk("", &values, &schema, &mut problems);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
