//! Permissions a game grants a mod (`files`, `network`), shared between the node and the running
//! instance so a grant takes effect at once.
//!
//! It also remembers which kinds the mod has asked for and the game has not heard about yet, so
//! a mod calling `wasgo.request_permission` in a loop queues one `permission_requested` per kind,
//! not one per call.

use parking_lot::RwLock;
use std::collections::BTreeSet;
use std::sync::Arc;

/// The permission kinds level-2 wrappers check.
pub const KINDS: &[&str] = &["files", "network"];

/// A set of granted permission kinds.
#[derive(Debug, Default)]
pub struct Permissions {
    granted: RwLock<BTreeSet<String>>,
    /// Kinds asked for whose `permission_requested` has not been delivered yet.
    asked: RwLock<BTreeSet<String>>,
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

    /// Replaces every grant with `kinds`.
    pub fn replace(&self, kinds: impl IntoIterator<Item = String>) {
        *self.granted.write() = kinds.into_iter().collect();
    }

    /// Records that the mod asked for `kind`; true when the game should hear about it (no
    /// request for that kind is waiting to be delivered).
    pub fn ask(&self, kind: &str) -> bool {
        self.asked.write().insert(kind.to_string())
    }

    /// The request for `kind` has been delivered to the game; the next one will be too.
    pub fn request_delivered(&self, kind: &str) {
        self.asked.write().remove(kind);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kind_is_asked_once_until_the_request_is_delivered() {
        let p = Permissions::new();
        assert!(p.ask("files"));
        assert!(!p.ask("files"));
        assert!(p.ask("network"));
        p.request_delivered("files");
        assert!(p.ask("files"));
    }
}
