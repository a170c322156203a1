//! The KubeAIRunway controller: the core reconciler (engine and provider selection, unified
//! status) and the providers that turn a ModelDeployment into a serving stack.

pub mod providers;
