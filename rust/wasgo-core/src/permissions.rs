//! Permissions a game grants a mod ([`Permission::Files`], [`Permission::Network`]), shared
//! between the node and the running instance so a grant takes effect at once.
//!
//! Kinds are typed inside the core; their names (`files`, `network`) appear only at the edges:
//! the mod's `wasgo.request_permission` text, the game's `grant_permission`, the grants file.
//!
//! It also remembers which kinds the mod has asked for and the game has not heard about yet, so
//! a mod calling `wasgo.request_permission` in a loop queues one `permission_requested` per kind,
//! not one per call.

use parking_lot::RwLock;
use std::collections::BTreeSet;
use std::sync::Arc;

/// A permission kind the level-2 functions check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Permission {
    /// The mod's private directory (`wasgo.file_*`, WASI writes under `/sandbox`).
    Files,
    /// Level-2 HTTP to whitelisted URLs.
    Network,
}

impl Permission {
    /// Every kind, in name order.
    pub const ALL: [Permission; 2] = [Permission::Files, Permission::Network];

    /// Parses `files` or `network`.
    pub fn parse(name: &str) -> Option<Permission> {
        Permission::ALL.into_iter().find(|p| p.name() == name)
    }

    /// The name used by mods, the game and the grants file.
    pub fn name(self) -> &'static str {
        match self {
            Permission::Files => "files",
            Permission::Network => "network",
        }
    }

    /// The names of every kind, for messages (`"files", "network"`).
    pub fn names() -> String {
        Permission::ALL
            .iter()
            .map(|p| format!("\"{}\"", p.name()))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl std::fmt::Display for Permission {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A set of granted permission kinds.
#[derive(Debug, Default)]
pub struct Permissions {
    granted: RwLock<BTreeSet<Permission>>,
    /// Kinds asked for whose `permission_requested` has not been delivered yet.
    asked: RwLock<BTreeSet<Permission>>,
}

impl Permissions {
    pub fn new() -> Arc<Permissions> {
        Arc::new(Permissions::default())
    }

    pub fn grant(&self, kind: Permission) {
        self.granted.write().insert(kind);
    }

    pub fn revoke(&self, kind: Permission) {
        self.granted.write().remove(&kind);
    }

    pub fn has(&self, kind: Permission) -> bool {
        self.granted.read().contains(&kind)
    }

    pub fn all(&self) -> Vec<Permission> {
        self.granted.read().iter().copied().collect()
    }

    /// Replaces every grant with `kinds`.
    pub fn replace(&self, kinds: impl IntoIterator<Item = Permission>) {
        *self.granted.write() = kinds.into_iter().collect();
    }

    /// Records that the mod asked for `kind`; true when the game should hear about it (no
    /// request for that kind is waiting to be delivered).
    pub fn ask(&self, kind: Permission) -> bool {
        self.asked.write().insert(kind)
    }

    /// The request for `kind` has been delivered to the game; the next one will be too.
    pub fn request_delivered(&self, kind: Permission) {
        self.asked.write().remove(&kind);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kind_is_asked_once_until_the_request_is_delivered() {
        let p = Permissions::new();
        assert!(p.ask(Permission::Files));
        assert!(!p.ask(Permission::Files));
        assert!(p.ask(Permission::Network));
        p.request_delivered(Permission::Files);
        assert!(p.ask(Permission::Files));
    }

    #[test]
    fn kinds_parse_from_their_names_and_nothing_else() {
        for p in Permission::ALL {
            assert_eq!(Permission::parse(p.name()), Some(p));
        }
        assert_eq!(Permission::parse("Files"), None);
        assert_eq!(Permission::parse("camera"), None);
        assert_eq!(Permission::names(), "\"files\", \"network\"");
    }
}
