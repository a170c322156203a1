//! Leader election with a `coordination.k8s.io/v1` Lease, so two controller replicas can run
//! and only one acts. A replica that loses the lease stops (its caller exits), as
//! controller-runtime does.

use std::time::Duration;

use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;
use k8s_openapi::jiff::Timestamp;
use kube::Client;
use kube::api::{Api, PostParams};
use serde_json::json;

use crate::{Error, Result};

/// Name of the Lease replicas compete for (the chart's lease Role grants it by name).
pub const LEASE_NAME: &str = "kubeairunway-controller";

/// Lease settings.
#[derive(Clone, Debug)]
pub struct LeaderConfig {
    /// Namespace of the Lease.
    pub namespace: String,
    /// Lease name.
    pub name: String,
    /// This replica's identity.
    pub identity: String,
    /// How long a lease is valid without renewal.
    pub lease_duration: Duration,
    /// How often the holder renews.
    pub renew_every: Duration,
}

impl LeaderConfig {
    /// Default timings (15 s lease, renewed every 5 s) for `identity`.
    pub fn new(namespace: impl Into<String>, identity: impl Into<String>) -> Self {
        Self {
            namespace: namespace.into(),
            name: LEASE_NAME.into(),
            identity: identity.into(),
            lease_duration: Duration::from_secs(15),
            renew_every: Duration::from_secs(5),
        }
    }
}

/// Holds or waits for the lease.
pub struct LeaderElector {
    api: Api<Lease>,
    config: LeaderConfig,
}

impl LeaderElector {
    /// An elector for `config`.
    pub fn new(client: Client, config: LeaderConfig) -> Self {
        Self {
            api: Api::namespaced(client, &config.namespace),
            config,
        }
    }

    /// Waits until this replica holds the lease.
    pub async fn acquire(&self) -> Result<()> {
        loop {
            if self.try_acquire_or_renew().await? {
                tracing::info!(identity = %self.config.identity, "acquired the leader lease");
                return Ok(());
            }
            tokio::time::sleep(self.config.renew_every).await;
        }
    }

    /// Renews the lease until it is lost; returns then.
    pub async fn hold(&self) -> Error {
        let mut failures_since = None::<tokio::time::Instant>;
        loop {
            tokio::time::sleep(self.config.renew_every).await;
            match self.try_acquire_or_renew().await {
                Ok(true) => failures_since = None,
                Ok(false) => return Error::LostLeadership(self.config.identity.clone()),
                Err(e) => {
                    let since = *failures_since.get_or_insert_with(tokio::time::Instant::now);
                    tracing::warn!(error = %e, "renewing the leader lease failed");
                    if since.elapsed() >= self.config.lease_duration {
                        return Error::LostLeadership(self.config.identity.clone());
                    }
                }
            }
        }
    }

    /// Gives the lease up when this replica holds it, so a standby replica takes over within a
    /// second of a graceful stop instead of after the lease duration. Best effort: on failure
    /// the lease simply expires.
    pub async fn release(&self) {
        let Ok(Some(mut lease)) = self.api.get_opt(&self.config.name).await else {
            return;
        };
        let Some(spec) = lease.spec.as_mut() else {
            return;
        };
        if spec.holder_identity.as_deref() != Some(self.config.identity.as_str()) {
            return;
        }
        spec.holder_identity = None;
        spec.lease_duration_seconds = Some(1);
        spec.renew_time = Some(MicroTime(Timestamp::now()));
        match self
            .api
            .replace(&self.config.name, &PostParams::default(), &lease)
            .await
        {
            Ok(_) => tracing::info!(identity = %self.config.identity, "released the leader lease"),
            Err(e) => tracing::warn!(error = %e, "releasing the leader lease failed; it expires"),
        }
    }

    /// One attempt: true when this replica holds the lease afterwards.
    async fn try_acquire_or_renew(&self) -> Result<bool> {
        let now = Timestamp::now();
        let spec = json!({
            "holderIdentity": self.config.identity,
            "leaseDurationSeconds": self.config.lease_duration.as_secs(),
            "renewTime": MicroTime(now),
        });
        let existing = self
            .api
            .get_opt(&self.config.name)
            .await
            .map_err(|source| Error::Kube {
                what: "reading the leader lease".into(),
                source,
            })?;
        let Some(mut lease) = existing else {
            let mut fresh: Lease = serde_json::from_value(
                json!({ "metadata": { "name": self.config.name }, "spec": spec }),
            )
            .map_err(|e| Error::Invalid(e.to_string()))?;
            if let Some(s) = fresh.spec.as_mut() {
                s.acquire_time = Some(MicroTime(now));
            }
            return match self.api.create(&PostParams::default(), &fresh).await {
                Ok(_) => Ok(true),
                Err(kube::Error::Api(s)) if s.code == 409 => Ok(false),
                Err(source) => Err(Error::Kube {
                    what: "creating the leader lease".into(),
                    source,
                }),
            };
        };
        let current = lease.spec.clone().unwrap_or_default();
        let held_by_me = current.holder_identity.as_deref() == Some(self.config.identity.as_str());
        let expired = match (&current.renew_time, current.lease_duration_seconds) {
            (Some(renewed), Some(secs)) => {
                now.duration_since(renewed.0).as_secs() >= i64::from(secs)
            }
            _ => true,
        };
        if !held_by_me && !expired {
            return Ok(false);
        }
        let mut new_spec = current;
        if !held_by_me {
            new_spec.acquire_time = Some(MicroTime(now));
            new_spec.lease_transitions = Some(new_spec.lease_transitions.unwrap_or(0) + 1);
        }
        new_spec.holder_identity = Some(self.config.identity.clone());
        new_spec.lease_duration_seconds = i32::try_from(self.config.lease_duration.as_secs()).ok();
        new_spec.renew_time = Some(MicroTime(now));
        lease.spec = Some(new_spec);
        // `replace` carries the resourceVersion: a concurrent writer makes this fail with 409.
        match self
            .api
            .replace(&self.config.name, &PostParams::default(), &lease)
            .await
        {
            Ok(_) => Ok(true),
            Err(kube::Error::Api(s)) if s.code == 409 => Ok(false),
            Err(source) => Err(Error::Kube {
                what: "updating the leader lease".into(),
                source,
            }),
        }
    }
}
