//! Kubernetes Events as data: the decisions say what to publish, the controller publishes.

/// One Event to publish on the ModelDeployment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notice {
    /// `Warning` rather than `Normal`.
    pub warning: bool,
    /// CamelCase reason.
    pub reason: String,
    /// Human-readable note.
    pub note: String,
    /// What the controller was doing (`Select`, `Reconcile`, `Cleanup`).
    pub action: &'static str,
}

impl Notice {
    /// A `Normal` Event.
    pub fn normal(reason: &str, note: impl Into<String>, action: &'static str) -> Self {
        Self {
            warning: false,
            reason: reason.into(),
            note: note.into(),
            action,
        }
    }

    /// A `Warning` Event.
    pub fn warning(reason: &str, note: impl Into<String>, action: &'static str) -> Self {
        Self {
            warning: true,
            reason: reason.into(),
            note: note.into(),
            action,
        }
    }
}
