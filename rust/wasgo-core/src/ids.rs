//! Identifiers shared across layers.

/// Identifies one instance to the object host (and its HTTP requests to the HTTP host). Unique
/// within a runtime ([`Runtime::next_instance_key`](crate::runtime::Runtime::next_instance_key)).
pub type InstanceKey = u64;
