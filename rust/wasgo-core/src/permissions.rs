//! Permissions a game grants a mod (`files`, `network`), shared between the node and the running
//! instance so a grant takes effect at once.

use parking_lot::RwLock;
use std::collections::BTreeSet;
use std::sync::Arc;

/// The permission kinds level-2 wrappers check.
pub const KINDS: &[&str] = &["files", "network"];

/// A set of granted permission kinds.
#[derive(Debug, Default)]
pub struct Permissions {
    granted: RwLock<BTreeSet<String>>,
}

impl Permissions {
    pub fn new() -> Arc<Permissions> {
        Arc::new(Permissions::default())
    }

    pub fn grant(&self, kind: &str) {
        self.granted.write().insert(kind.to_string());
    }

    pub fn revoke(&self, kind: &str) {
        self.granted.write().remove(kind);
    }

    pub fn has(&self, kind: &str) -> bool {
        self.granted.read().contains(kind)
    }

    pub fn all(&self) -> Vec<String> {
        self.granted.read().iter().cloned().collect()
    }
}
