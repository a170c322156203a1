//! Installing software into a cluster as jobs that clients follow while they run.
//!
//! Two layers, kept apart so that other kinds of job (an image build, say) can reuse the first:
//!
//! - [`jobs`]: the generic job model — a registry of jobs with planned and running steps,
//!   bounded output, events for followers, one unfinished job per target, retention — and
//!   running a job's work on its own task.
//! - The Helm runner: [`args`] (the rules for every value that becomes a Helm argument),
//!   [`helm`] (the `helm` binary, no shell, private [`home`], timeouts), [`kubeconfig`] (the
//!   caller's private kubeconfig), [`run`] (the install, uninstall and CRD-removal sequences,
//!   recovering releases left pending) and [`provider`] (a provider's installation as a plan).
//!
//! Nothing here speaks HTTP: errors are typed and say what failed; the REST server maps them
//! to its answers.

pub mod args;
pub mod helm;
pub mod home;
pub mod jobs;
pub mod kubeconfig;
pub mod provider;
pub mod run;
