//! A private control plane's API server can be stopped and started again on the same port with
//! the same etcd, certificates and tokens, while the rest keeps running.

use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, PostParams};
use kubeairunway_testenv::{User, private_control_plane};

#[tokio::test]
async fn the_api_server_stops_and_comes_back_with_its_data() {
    let cp = private_control_plane();
    let ns = cp.namespace("outage").await.expect("namespace").name;
    let client = cp.client(User::Admin).await.expect("client");
    let maps: Api<ConfigMap> = Api::namespaced(client.clone(), &ns);
    let map: ConfigMap = serde_json::from_value(serde_json::json!({
        "metadata": { "name": "before" }, "data": { "k": "v" }
    }))
    .expect("shape");
    maps.create(&PostParams::default(), &map)
        .await
        .expect("create");

    cp.stop_apiserver().expect("stop");
    let started = Instant::now();
    let err = maps
        .get("before")
        .await
        .expect_err("no API server, no answer");
    assert!(
        !matches!(err, kube::Error::Api(_)),
        "a transport error, not an API status: {err:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(
        cp.stop_apiserver().is_err(),
        "stopping a stopped API server is an error"
    );

    cp.start_apiserver().await.expect("start again");
    assert!(
        cp.start_apiserver().await.is_err(),
        "starting a running API server is an error"
    );
    // The same client (same URL, CA and token) works again, and etcd kept the data.
    let fresh = cp.client(User::TeamA).await.expect("client");
    let got = maps.get("before").await.expect("the object survived");
    assert_eq!(got.data.expect("data")["k"], "v");
    let denied = Api::<ConfigMap>::namespaced(fresh, &ns).get("before").await;
    assert!(
        matches!(denied, Err(kube::Error::Api(ref s)) if s.code == 403),
        "RBAC still applies after the restart: {denied:?}"
    );
    let log =
        std::fs::read_to_string(cp.info().state_dir.join("logs/kube-apiserver.log")).expect("log");
    assert!(
        log.matches("Serving securely").count() >= 2,
        "both runs are in the same log"
    );
}
