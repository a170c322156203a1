//! The decisions of KubeAIRunway, without I/O: which engine and provider a deployment gets
//! (CEL selection rules), whether its spec is valid, the conditions and phase it reports, and
//! for each provider the objects it renders and what their status means.
//!
//! Nothing here talks to a cluster or serves HTTP: the controller reads, calls these functions
//! and writes what they return; the API server calls the same functions to tell a user what the
//! controller will do. So the rules are unit-tested without a cluster and cannot drift apart
//! between the two.

pub mod aiconfigurator;
pub mod aikit;
pub mod autoscaler;
pub mod cel;
pub mod conditions;
pub mod costs;
pub mod decide;
pub mod fit;
pub mod gateway;
pub mod gpu;
pub mod metrics;
pub mod notice;
pub mod progress;
pub mod providers;
pub mod schedule;
pub mod selection;
pub mod step;

pub use cel::RuleEngine;
pub use decide::{Decision, ValidationError, decide};
pub use notice::Notice;
pub use providers::{Provider, Registry};
