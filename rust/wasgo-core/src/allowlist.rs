//! What a mod at levels 1 and 2 may reach of the Godot API.
//!
//! The allowlist is a readable data file (`addons/wasgo/allowlist.cfg`), extendable by the game.
//! Its format:
//!
//! ```text
//! # comment
//! [Node2D]                       a class: its members apply to subclasses too
//! methods = rotate, translate     comma-separated names
//! properties = position, rotation
//! signals = ...
//! instantiable = true            `wasgo.new` may create this exact class (not its subclasses)
//! [singletons]
//! names = Input, Time
//! ```
//!
//! On top of the file, [`HARD_DENIED_METHODS`], [`HARD_DENIED_PROPERTIES`] and
//! [`HARD_DENIED_CLASSES`] stay closed at levels 1 and 2 whatever the file or the game adds: they
//! are the escape hatches (generic calls, scripts, files, network, stopping the game).

use std::collections::{HashMap, HashSet};

/// Methods no allowlist can open at levels 1 and 2 (on any class).
pub const HARD_DENIED_METHODS: &[&str] = &[
    "call",
    "callv",
    "call_deferred",
    "callp",
    "propagate_call",
    "set_script",
    "get_script",
    "set",
    "get",
    "set_deferred",
    "set_indexed",
    "get_indexed",
    "connect",
    "disconnect",
    "emit_signal",
    "free",
    "set_meta",
    "get_meta",
    "remove_meta",
    "add_user_signal",
    "notification",
    "quit",
    "change_scene_to_file",
    "change_scene_to_packed",
    "reload_current_scene",
    "instance_from_id",
    "get_singleton",
    "load",
    "preload",
];

/// Properties no allowlist can open at levels 1 and 2.
pub const HARD_DENIED_PROPERTIES: &[&str] = &["script"];

/// Classes (and their subclasses) no allowlist can open at levels 1 and 2.
pub const HARD_DENIED_CLASSES: &[&str] = &[
    "Expression",
    "Script",
    "GDScript",
    "ResourceLoader",
    "ResourceSaver",
    "ClassDB",
    "OS",
    "FileAccess",
    "DirAccess",
    "HTTPRequest",
    "HTTPClient",
    "StreamPeer",
    "PacketPeer",
    "WebSocketPeer",
    "WebSocketMultiplayerPeer",
    "MultiplayerAPI",
    "MultiplayerPeer",
    "ENetConnection",
    "TCPServer",
    "UDPServer",
    "JavaScriptBridge",
    "ProjectSettings",
    "Engine",
    "EngineDebugger",
    "Thread",
    "Mutex",
    "Semaphore",
    "WorkerThreadPool",
    "IP",
    "Marshalls",
    "EditorInterface",
];

/// Which kind of member a rule is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MemberKind {
    Method,
    Property,
    Signal,
}

impl MemberKind {
    fn key(self) -> &'static str {
        match self {
            MemberKind::Method => "methods",
            MemberKind::Property => "properties",
            MemberKind::Signal => "signals",
        }
    }

    /// Parses `methods`/`method`, `properties`/`property`, `signals`/`signal`.
    pub fn parse(s: &str) -> Option<MemberKind> {
        match s {
            "methods" | "method" => Some(MemberKind::Method),
            "properties" | "property" => Some(MemberKind::Property),
            "signals" | "signal" => Some(MemberKind::Signal),
            _ => None,
        }
    }
}

/// The parsed allowlist.
#[derive(Debug, Default, Clone)]
pub struct Allowlist {
    members: HashMap<(String, MemberKind), HashSet<String>>,
    singletons: HashSet<String>,
    /// Classes `wasgo.new` may create (exact names: a subclass needs its own entry).
    instantiable: HashSet<String>,
}

impl Allowlist {
    /// Parses the file format above; errors name the line.
    pub fn parse(text: &str) -> Result<Allowlist, String> {
        let mut list = Allowlist::default();
        list.merge(text)?;
        Ok(list)
    }

    /// Adds the rules of another file.
    pub fn merge(&mut self, text: &str) -> Result<(), String> {
        let mut section: Option<String> = None;
        for (i, raw) in text.lines().enumerate() {
            let line = raw.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
                section = Some(name.trim().to_string());
                continue;
            }
            let (key, values) = line.split_once('=').ok_or_else(|| {
                format!(
                    "allowlist line {}: expected `key = a, b, c` or `[Class]`",
                    i + 1
                )
            })?;
            let section = section.as_deref().ok_or_else(|| {
                format!(
                    "allowlist line {}: a rule before the first `[Class]` section",
                    i + 1
                )
            })?;
            let names = values
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(String::from);
            if section == "singletons" {
                if key.trim() != "names" {
                    return Err(format!(
                        "allowlist line {}: the [singletons] section takes `names = ...`",
                        i + 1
                    ));
                }
                self.singletons.extend(names);
                continue;
            }
            if key.trim() == "instantiable" {
                match values.trim() {
                    "true" => self.instantiable.insert(section.to_string()),
                    "false" => self.instantiable.remove(section),
                    other => {
                        return Err(format!(
                            "allowlist line {}: `instantiable` is `true` or `false`, not `{other}`",
                            i + 1
                        ))
                    }
                };
                continue;
            }
            let kind = MemberKind::parse(key.trim()).ok_or_else(|| {
                format!(
                    "allowlist line {}: `{}` is not methods, properties, signals or instantiable",
                    i + 1,
                    key.trim()
                )
            })?;
            self.members
                .entry((section.to_string(), kind))
                .or_default()
                .extend(names);
        }
        Ok(())
    }

    /// Allows `names` of `kind` on `class` (from `WasmEngine`).
    pub fn extend(
        &mut self,
        class: &str,
        kind: MemberKind,
        names: impl IntoIterator<Item = String>,
    ) {
        self.members
            .entry((class.to_string(), kind))
            .or_default()
            .extend(names);
    }

    /// Allows singletons by name.
    pub fn extend_singletons(&mut self, names: impl IntoIterator<Item = String>) {
        self.singletons.extend(names);
    }

    /// Whether a member is allowed on an object whose class chain (most derived first, e.g.
    /// `["Sprite2D", "Node2D", "CanvasItem", "Node", "Object"]`) is given.
    pub fn allows(&self, class_chain: &[String], kind: MemberKind, name: &str) -> bool {
        if class_chain
            .iter()
            .any(|c| HARD_DENIED_CLASSES.contains(&c.as_str()))
        {
            return false;
        }
        match kind {
            MemberKind::Method if HARD_DENIED_METHODS.contains(&name) => return false,
            MemberKind::Property if HARD_DENIED_PROPERTIES.contains(&name) => return false,
            _ => {}
        }
        class_chain.iter().any(|c| {
            self.members
                .get(&(c.clone(), kind))
                .is_some_and(|set| set.contains(name))
        })
    }

    /// Marks classes creatable with `wasgo.new` (from `WasmEngine`).
    pub fn extend_instantiable(&mut self, classes: impl IntoIterator<Item = String>) {
        self.instantiable.extend(classes);
    }

    /// Whether `wasgo.new` may create an object of exactly this class, whose class chain (most
    /// derived first) is given: the class must be marked `instantiable` and neither it nor an
    /// ancestor may be hard-denied.
    pub fn allows_new(&self, class_chain: &[String]) -> bool {
        let Some(class) = class_chain.first() else {
            return false;
        };
        self.instantiable.contains(class)
            && !class_chain
                .iter()
                .any(|c| HARD_DENIED_CLASSES.contains(&c.as_str()))
    }

    /// Every class marked `instantiable`, sorted.
    pub fn instantiable_classes(&self) -> Vec<String> {
        let mut v: Vec<String> = self.instantiable.iter().cloned().collect();
        v.sort();
        v
    }

    /// Whether a singleton is allowed.
    pub fn allows_singleton(&self, name: &str) -> bool {
        !HARD_DENIED_CLASSES.contains(&name) && self.singletons.contains(name)
    }

    /// Every class the file names, sorted (for docs and tests).
    pub fn classes(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .members
            .keys()
            .map(|(c, _)| c.clone())
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        v.sort();
        v
    }

    /// The names of one kind on one class (not inherited).
    pub fn members(&self, class: &str, kind: MemberKind) -> Vec<String> {
        let mut v: Vec<String> = self
            .members
            .get(&(class.to_string(), kind))
            .map(|s| s.iter().cloned().collect())
            .unwrap_or_default();
        v.sort();
        v
    }

    pub fn key_of(kind: MemberKind) -> &'static str {
        kind.key()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn members_apply_to_subclasses_and_hatches_stay_closed() {
        let list = Allowlist::parse("[Node2D]\nproperties = position, script\nmethods = rotate, call\n[singletons]\nnames = Input, OS\n").unwrap();
        let sprite = chain(&["Sprite2D", "Node2D", "CanvasItem", "Node", "Object"]);
        assert!(list.allows(&sprite, MemberKind::Property, "position"));
        assert!(!list.allows(&sprite, MemberKind::Property, "modulate"));
        assert!(
            !list.allows(&sprite, MemberKind::Property, "script"),
            "hard-denied even if listed"
        );
        assert!(
            !list.allows(&sprite, MemberKind::Method, "call"),
            "hard-denied even if listed"
        );
        assert!(list.allows(&sprite, MemberKind::Method, "rotate"));
        assert!(!list.allows(
            &chain(&["Node", "Object"]),
            MemberKind::Property,
            "position"
        ));
        assert!(list.allows_singleton("Input"));
        assert!(!list.allows_singleton("OS"), "hard-denied even if listed");
    }

    #[test]
    fn every_escape_hatch_of_the_contract_is_hard_denied() {
        // Even an allowlist that opens everything by name cannot open these at levels 1 and 2.
        let mut list = Allowlist::default();
        let everything = [
            "call",
            "callv",
            "call_deferred",
            "propagate_call",
            "set_script",
            "set",
            "get",
            "quit",
            "get_singleton",
            "load",
            "open",
            "request",
            "poll",
        ];
        for class in HARD_DENIED_CLASSES
            .iter()
            .chain(&["Object", "Node", "SceneTree"])
        {
            list.extend(
                class,
                MemberKind::Method,
                everything.iter().map(|s| s.to_string()),
            );
            list.extend(class, MemberKind::Property, ["script".to_string()]);
        }
        list.extend_singletons(HARD_DENIED_CLASSES.iter().map(|s| s.to_string()));
        for class in [
            "Expression",
            "GDScript",
            "ResourceLoader",
            "ResourceSaver",
            "ClassDB",
            "OS",
            "FileAccess",
            "DirAccess",
            "HTTPRequest",
            "HTTPClient",
            "StreamPeer",
            "PacketPeer",
            "WebSocketPeer",
            "MultiplayerAPI",
            "JavaScriptBridge",
            "ProjectSettings",
            "Engine",
        ] {
            assert!(
                !list.allows(&chain(&[class, "Object"]), MemberKind::Method, "open"),
                "{class}"
            );
            assert!(!list.allows_singleton(class), "{class}");
        }
        // Subclasses of denied classes too (StreamPeerTCP, PacketPeerUDP, ...).
        assert!(!list.allows(
            &chain(&["StreamPeerTCP", "StreamPeer", "RefCounted", "Object"]),
            MemberKind::Method,
            "poll"
        ));
        let node = chain(&["Node", "Object"]);
        for method in [
            "call",
            "callv",
            "call_deferred",
            "propagate_call",
            "set_script",
            "set",
            "get",
        ] {
            assert!(!list.allows(&node, MemberKind::Method, method), "{method}");
        }
        assert!(!list.allows(&node, MemberKind::Property, "script"));
        assert!(!list.allows(
            &chain(&["SceneTree", "MainLoop", "Object"]),
            MemberKind::Method,
            "quit"
        ));
    }

    #[test]
    fn instantiable_is_per_exact_class_and_never_opens_a_denied_class() {
        let list = Allowlist::parse(
            "[Sprite2D]\ninstantiable = true\n[HTTPRequest]\ninstantiable = true\n[Node2D]\nproperties = position\n",
        )
        .unwrap();
        assert!(list.allows_new(&chain(&[
            "Sprite2D",
            "Node2D",
            "CanvasItem",
            "Node",
            "Object"
        ])));
        assert!(
            !list.allows_new(&chain(&["Node2D", "CanvasItem", "Node", "Object"])),
            "listed members do not make a class instantiable"
        );
        assert!(
            !list.allows_new(&chain(&["HTTPRequest", "Node", "Object"])),
            "hard-denied even if marked"
        );
        assert!(!list.allows_new(&[]));
        assert_eq!(list.instantiable_classes(), ["HTTPRequest", "Sprite2D"]);
        let off =
            Allowlist::parse("[Sprite2D]\ninstantiable = true\n[Sprite2D]\ninstantiable = false\n")
                .unwrap();
        assert!(
            !off.allows_new(&chain(&["Sprite2D", "Node2D", "Object"])),
            "a later file can take it back"
        );
        let e = Allowlist::parse("[Sprite2D]\ninstantiable = yes\n").unwrap_err();
        assert!(
            e.contains("line 2") && e.contains("`true` or `false`"),
            "{e}"
        );
    }

    #[test]
    fn bad_lines_are_reported_with_their_number() {
        assert!(Allowlist::parse("methods = x")
            .unwrap_err()
            .contains("line 1"));
        assert!(Allowlist::parse("[Node]\nfoo = x")
            .unwrap_err()
            .contains("line 2"));
    }
}
