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
//! ranges = amount 1..2000, add_theme_font_size_override[1] 1..512
//!                                the numbers a property (or a method's argument, by index) may take
//! [singletons]
//! names = Input, Time
//! ```
//!
//! On top of the file, [`HARD_DENIED_METHODS`], [`HARD_DENIED_PROPERTIES`] and
//! [`HARD_DENIED_CLASSES`] stay closed at levels 1 and 2 whatever the file or the game adds: they
//! are the escape hatches (generic calls, scripts, files, network, stopping the game).

use std::collections::{HashMap, HashSet};

/// Why a member a game asks to open stays closed at levels 1 and 2 whatever is added (`None`
/// when an allowlist may open it): `class` or `name` (a singleton's, for `kind` `None`) is a
/// hard-denied class, or the member a hard-denied method or property.
pub fn never_opened(class: &str, kind: Option<MemberKind>, name: &str) -> Option<String> {
    let what = match kind {
        None if HARD_DENIED_CLASSES.contains(&name) => "the singleton is one of the classes",
        Some(_) if HARD_DENIED_CLASSES.contains(&class) => "the class is one of the classes",
        Some(MemberKind::Method) if HARD_DENIED_METHODS.contains(&name) => {
            "the method is one of the methods"
        }
        Some(MemberKind::Property) if HARD_DENIED_PROPERTIES.contains(&name) => {
            "the property is one of the properties"
        }
        _ => return None,
    };
    let member = if kind.is_some() {
        format!("`{class}.{name}`")
    } else {
        format!("`{name}`")
    };
    Some(format!(
        "{member} stays closed at levels 1 and 2: {what} no allowlist opens (scripts, files, network, generic calls, stopping the game); only level 3 reaches it"
    ))
}

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
    // The other ways to call, set or notify by name, which skip every per-member check.
    "call_deferred_thread_group",
    "set_deferred_thread_group",
    "notify_deferred_thread_group",
    "call_thread_safe",
    "set_thread_safe",
    "notify_thread_safe",
    "propagate_notification",
    "rpc",
    "rpc_id",
    "call_group",
    "call_group_flags",
    "set_group",
    "set_group_flags",
    "notify_group",
    "notify_group_flags",
    "add_do_method",
    "add_undo_method",
    "add_do_property",
    "add_undo_property",
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

/// The values a property or a method's argument may take at levels 1 and 2 (both ends
/// included). Members whose value sets how much work the engine does later, outside every mod
/// budget (a particle node's `amount`, a mesh's segments, a font size, a polygon's points, a
/// label's text), get one, so that no single call makes the engine allocate or loop without
/// bound; with a `total`, the values one mod gives that property over all the objects it sets
/// it on add up to at most that (a thousand particle nodes at the most each were 250 ms a
/// frame).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ValueRange {
    pub min: f64,
    pub max: f64,
    pub kind: RangeKind,
    /// The most one mod's values of the property may add up to (properties only).
    pub total: Option<f64>,
    /// The most different values all mods together may give the members of a pool (`distinct
    /// POOL N`): each new font size makes the engine build a glyph cache for the game's own,
    /// shared font that is never freed.
    pub distinct: Option<Distinct>,
}

/// `distinct POOL N` after a range: at most `max` different values across every member whose
/// range names `pool`, for all mods of the game together (see [`DistinctPools`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Distinct {
    pub pool: PoolName,
    pub max: u32,
}

/// A pool's name: up to 24 ASCII letters, digits and `_` (kept inline so ranges stay `Copy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PoolName {
    bytes: [u8; 24],
    len: u8,
}

impl PoolName {
    fn parse(name: &str) -> Option<PoolName> {
        let ok = !name.is_empty()
            && name.len() <= 24
            && name.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_');
        if !ok {
            return None;
        }
        let mut bytes = [0; 24];
        bytes[..name.len()].copy_from_slice(name.as_bytes());
        Some(PoolName {
            bytes,
            len: name.len() as u8,
        })
    }

    pub fn as_str(&self) -> &str {
        // The bytes were checked to be ASCII when parsed.
        std::str::from_utf8(&self.bytes[..self.len as usize]).unwrap_or("")
    }
}

/// The different values the game has let mods give each `distinct` pool (one per game: what
/// they make the engine build is shared and never freed, so a mod restarting or another mod
/// does not start afresh). Values already admitted are always admitted again.
#[derive(Debug, Default)]
pub struct DistinctPools {
    pools: HashMap<PoolName, Vec<f64>>,
}

impl DistinctPools {
    /// Admits `value` for a member with `range` (named `what` in the refusal).
    ///
    /// # Errors
    /// The refusal when the range's pool already holds its `max` different values and `value`
    /// is not one of them.
    pub fn admit(&mut self, range: &ValueRange, what: &str, value: f64) -> Result<(), String> {
        let Some(Distinct { pool, max }) = range.distinct else {
            return Ok(());
        };
        let used = self.pools.entry(pool).or_default();
        if used.contains(&value) {
            return Ok(());
        }
        if used.len() >= max as usize {
            let mut listed: Vec<String> = used.iter().map(|v| v.to_string()).collect();
            listed.sort_by(|a, b| a.len().cmp(&b.len()).then(a.cmp(b)));
            return Err(format!(
                "`{what}` refused: mods have already used {max} different `{}` values in this game, the most the allowlist lets them use (each new one makes the engine keep another cache it never frees); use one of {}, or have the game raise `distinct {} {max}` in its allowlist file",
                pool.as_str(),
                listed.join(", "),
                pool.as_str()
            ));
        }
        used.push(value);
        Ok(())
    }
}

/// What a range bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeKind {
    /// The value itself, which must be a number (an int, a float or a bool: never a text Godot
    /// would read a number from).
    Number,
    /// The size of the value, which must be a text (in characters) or an array (in elements):
    /// written `len MIN..MAX`.
    Size,
}

/// A value as a range sees it: made by `wasgo_core::variant::range_value` from the wire, and by
/// the glue from a Godot Variant.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RangeValue {
    Number(f64),
    /// A text's length in characters, an array's in elements.
    Size(usize),
    /// Anything else (a vector, an object, nil).
    Other,
}

impl RangeValue {
    /// The number, if the value is one (an int, a float or a bool).
    pub fn number(self) -> Option<f64> {
        match self {
            RangeValue::Number(n) => Some(n),
            _ => None,
        }
    }
}

impl ValueRange {
    /// Whether `value` is a finite number within the range (NaN and infinities never are).
    pub fn contains(&self, value: f64) -> bool {
        value.is_finite() && value >= self.min && value <= self.max
    }

    /// The measure of `value` if it is of the range's kind and within it.
    ///
    /// # Errors
    /// The refusal message, naming `what` (e.g. `CPUParticles2D.amount`).
    pub fn check(&self, what: &str, value: RangeValue) -> Result<f64, String> {
        let measured = match (self.kind, value) {
            (RangeKind::Number, RangeValue::Number(n)) => n,
            (RangeKind::Size, RangeValue::Size(n)) => n as f64,
            (RangeKind::Number, _) => {
                return Err(format!(
                    "`{what}` takes a number from {} to {} at this safety level (an int or a float, not a text or anything else)",
                    self.min, self.max
                ))
            }
            (RangeKind::Size, _) => {
                return Err(format!(
                    "`{what}` takes a text or an array of {} to {} characters or elements at this safety level, not another kind of value",
                    self.min, self.max
                ))
            }
        };
        if self.contains(measured) {
            return Ok(measured);
        }
        Err(match self.kind {
            RangeKind::Number => format!(
                "`{what}` takes a number from {} to {} at this safety level (the allowlist's `ranges`), not {measured}: pass a value in that range, or have the game widen the range in its allowlist file",
                self.min, self.max
            ),
            RangeKind::Size => format!(
                "`{what}` takes a text or an array of {} to {} characters or elements at this safety level (the allowlist's `ranges`), not {measured}: pass a shorter one, or have the game widen the range in its allowlist file",
                self.min, self.max
            ),
        })
    }

    /// The refusal when a value would take a mod's `total` of the property past the range's
    /// `total`.
    pub fn over_total(&self, what: &str, sum: f64) -> String {
        format!(
            "`{what}` refused: this mod's values of `{}` would add up to {sum}, over the {} one mod may give it over all its objects at this safety level (the allowlist's `ranges`); lower it on other objects first, or have the game widen the total in its allowlist file",
            what.rsplit('.').next().unwrap_or(what),
            self.total.unwrap_or(f64::INFINITY)
        )
    }

    /// Parses `1..2000`, `len 0..4096`, either with `total N` and/or `distinct POOL N` after it.
    fn parse(text: &str) -> Option<ValueRange> {
        let mut words = text.split_whitespace();
        let mut word = words.next()?;
        let kind = if word == "len" {
            word = words.next()?;
            RangeKind::Size
        } else {
            RangeKind::Number
        };
        let (min, max) = word.split_once("..")?;
        let min: f64 = min.trim().parse().ok()?;
        let max: f64 = max.trim().parse().ok()?;
        let (mut total, mut distinct) = (None, None);
        while let Some(word) = words.next() {
            match word {
                "total" if total.is_none() => {
                    let t: f64 = words.next()?.parse().ok()?;
                    (t.is_finite() && t >= max).then_some(())?;
                    total = Some(t);
                }
                "distinct" if distinct.is_none() && kind == RangeKind::Number => {
                    let pool = PoolName::parse(words.next()?)?;
                    let n: u32 = words.next()?.parse().ok()?;
                    (n > 0).then_some(())?;
                    distinct = Some(Distinct { pool, max: n });
                }
                _ => return None,
            }
        }
        (min.is_finite() && max.is_finite() && min <= max).then_some(ValueRange {
            min,
            max,
            kind,
            total,
            distinct,
        })
    }
}

/// What a range applies to: a property, or one argument of a method.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum RangedMember {
    Property(String),
    Argument(String, usize),
}

/// The parsed allowlist.
#[derive(Debug, Default, Clone)]
pub struct Allowlist {
    members: HashMap<(String, MemberKind), HashSet<String>>,
    singletons: HashSet<String>,
    /// Classes `wasgo.new` may create (exact names: a subclass needs its own entry).
    instantiable: HashSet<String>,
    /// `ranges` by class (a later file's range for the same member replaces the earlier one).
    ranges: HashMap<(String, RangedMember), ValueRange>,
    /// Every method with a ranged argument on some class: a call to any other method needs no
    /// range lookup.
    ranged_methods: HashSet<String>,
    /// Every property with a range on some class (the same, for properties).
    ranged_properties: HashSet<String>,
    /// `grows` by class and method: how many elements a method that adds one may leave.
    growth: HashMap<(String, String), Growth>,
    /// Every method with a `grows` limit on some class (a call to any other needs no lookup).
    grown_methods: HashSet<String>,
}

/// `grows = METHOD COUNT_METHOD[ARGUMENT] MAX`: a call of METHOD (which adds an element: a
/// curve's point, an animation's frame) is refused at levels 1 and 2 once COUNT_METHOD says the
/// object already has MAX; COUNT_METHOD is called with the call's argument ARGUMENT when one is
/// given (`get_frame_count[0]`: the frames of the animation being added to), and its result is a
/// count or an array whose size is. Each call is one element, so a range cannot bound it: a
/// mod could grow an owned Curve by a million points a second.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Growth {
    pub count_method: String,
    pub argument: Option<usize>,
    pub max: u64,
}

impl Growth {
    /// `get_point_count 1024`, `get_frame_count[0] 1024`.
    fn parse(text: &str) -> Option<Growth> {
        let mut words = text.split_whitespace();
        let counter = words.next()?;
        let max: u64 = words.next()?.parse().ok()?;
        if words.next().is_some() {
            return None;
        }
        let (count_method, argument) = match counter.split_once('[') {
            Some((m, i)) => (m, Some(i.strip_suffix(']')?.parse().ok()?)),
            None => (counter, None),
        };
        (!count_method.is_empty()).then(|| Growth {
            count_method: count_method.to_string(),
            argument,
            max,
        })
    }

    /// The refusal for `what` (`Curve.add_point`) at `count` elements.
    pub fn refusal(&self, what: &str, count: u64) -> String {
        format!(
            "`{what}` refused: the object already has {count} elements (`{}`), the most a mod may give it at this safety level (the allowlist's `grows`); remove some first, or have the game raise the limit in its allowlist file",
            self.count_method
        )
    }
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
            if key.trim() == "grows" {
                for item in values.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                    let growth = item
                        .split_once(char::is_whitespace)
                        .and_then(|(method, rest)| Some((method, Growth::parse(rest)?)))
                        .ok_or_else(|| {
                            format!(
                                "allowlist line {}: `{item}` is not a growth limit: write `METHOD COUNT_METHOD MAX` or `METHOD COUNT_METHOD[ARGUMENT] MAX`, e.g. `add_point get_point_count 1024`",
                                i + 1
                            )
                        })?;
                    self.grown_methods.insert(growth.0.to_string());
                    self.growth
                        .insert((section.to_string(), growth.0.to_string()), growth.1);
                }
                continue;
            }
            if key.trim() == "ranges" {
                for item in values.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                    let (member, range) = parse_range_item(item).ok_or_else(|| {
                        format!(
                            "allowlist line {}: `{item}` is not a range: write `property MIN..MAX`, `property len MIN..MAX` (a text's or an array's size), either with `total N` after it, or `method[ARGUMENT] MIN..MAX`, any number range with `distinct POOL N` after it, e.g. `amount 1..2000 total 10000` or `font_size 1..512 distinct font_size 16`",
                            i + 1
                        )
                    })?;
                    match &member {
                        RangedMember::Argument(method, _) => {
                            self.ranged_methods.insert(method.clone())
                        }
                        RangedMember::Property(name) => self.ranged_properties.insert(name.clone()),
                    };
                    self.ranges.insert((section.to_string(), member), range);
                }
                continue;
            }
            let kind = MemberKind::parse(key.trim()).ok_or_else(|| {
                format!(
                    "allowlist line {}: `{}` is not methods, properties, signals, instantiable, ranges or grows",
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

    /// The range of property `name` on an object whose class chain (most derived first) is
    /// given: the most derived class that names one decides.
    pub fn property_range(&self, class_chain: &[String], name: &str) -> Option<ValueRange> {
        if !self.ranged_properties.contains(name) {
            return None;
        }
        self.range_of(class_chain, &RangedMember::Property(name.to_string()))
    }

    /// The properties of this class chain whose range has a per-mod `total`, with their range
    /// (the most derived class's): what a new object's own values already count against.
    pub fn property_totals(&self, class_chain: &[String]) -> Vec<(String, ValueRange)> {
        let mut found: Vec<(String, ValueRange)> = Vec::new();
        for class in class_chain {
            for ((c, member), range) in &self.ranges {
                if let RangedMember::Property(name) = member {
                    if c == class && !found.iter().any(|(n, _)| n == name) {
                        found.push((name.clone(), *range));
                    }
                }
            }
        }
        found.retain(|(_, range)| range.total.is_some());
        found.sort_by(|a, b| a.0.cmp(&b.0));
        found
    }

    /// The ranges of the arguments of `method` on an object of this class chain, by argument
    /// index (empty for almost every method: only those named in a `ranges` line have any).
    pub fn argument_ranges(
        &self,
        class_chain: &[String],
        method: &str,
    ) -> Vec<(usize, ValueRange)> {
        if !self.ranged_methods.contains(method) {
            return Vec::new();
        }
        let mut found: Vec<(usize, ValueRange)> = Vec::new();
        for class in class_chain {
            for ((c, member), range) in &self.ranges {
                if let RangedMember::Argument(m, index) = member {
                    if c == class && m == method && !found.iter().any(|(i, _)| i == index) {
                        found.push((*index, *range));
                    }
                }
            }
        }
        found.sort_by_key(|(i, _)| *i);
        found
    }

    /// The growth limit of `method` on an object of this class chain (the most derived class's).
    pub fn growth(&self, class_chain: &[String], method: &str) -> Option<&Growth> {
        if !self.has_growth(method) {
            return None;
        }
        class_chain
            .iter()
            .find_map(|class| self.growth.get(&(class.clone(), method.to_string())))
    }

    /// Whether some class limits `method` with `grows` (one hash lookup: almost no method has
    /// one).
    pub fn has_growth(&self, method: &str) -> bool {
        self.grown_methods.contains(method)
    }

    /// Whether some class has a range for property `name` (a cheap first test).
    pub fn has_property_ranges(&self, name: &str) -> bool {
        self.ranged_properties.contains(name)
    }

    /// Whether some class has a range for an argument of `method` (a cheap first test).
    pub fn has_argument_ranges(&self, method: &str) -> bool {
        self.ranged_methods.contains(method)
    }

    fn range_of(&self, class_chain: &[String], member: &RangedMember) -> Option<ValueRange> {
        class_chain
            .iter()
            .find_map(|c| self.ranges.get(&(c.clone(), member.clone())).copied())
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

/// `amount 1..2000 total 10000`, `text len 0..1024` or `add_theme_font_size_override[1] 1..512`
/// (a method's argument takes no `total`).
fn parse_range_item(item: &str) -> Option<(RangedMember, ValueRange)> {
    let (name, range) = item.split_once(char::is_whitespace)?;
    let range = ValueRange::parse(range)?;
    let member = match name.split_once('[') {
        Some((method, index)) => {
            let index: usize = index.strip_suffix(']')?.parse().ok()?;
            if method.is_empty() || range.total.is_some() {
                return None;
            }
            RangedMember::Argument(method.to_string(), index)
        }
        None => RangedMember::Property(name.to_string()),
    };
    Some((member, range))
}

#[cfg(test)]
mod tests {
    #[test]
    fn property_totals_are_the_most_derived_classes_with_a_total() {
        let list = super::Allowlist::parse(
            "[GradientTexture1D]\nranges = width 1..2048 total 16384\n[Texture2D]\nranges = width 1..4 total 8, height 1..9\n",
        )
        .unwrap();
        let chain = |c: &[&str]| c.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let totals = list.property_totals(&chain(&["GradientTexture1D", "Texture2D", "Resource"]));
        assert_eq!(totals.len(), 1, "{totals:?}");
        assert_eq!(totals[0].0, "width");
        assert_eq!(totals[0].1.total, Some(16384.0));
        assert!(list.property_totals(&chain(&["Node"])).is_empty());
    }

    #[test]
    fn members_no_allowlist_opens_are_named() {
        assert!(never_opened("Node", Some(MemberKind::Method), "call")
            .unwrap()
            .contains("`Node.call` stays closed"));
        assert!(never_opened("OS", Some(MemberKind::Method), "get_name").is_some());
        assert!(never_opened("", None, "OS").unwrap().contains("`OS`"));
        assert!(never_opened("Node", Some(MemberKind::Property), "script").is_some());
        assert_eq!(
            never_opened("Node2D", Some(MemberKind::Property), "position"),
            None
        );
        assert_eq!(never_opened("", None, "Input"), None);
    }

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

    fn number(min: f64, max: f64) -> ValueRange {
        ValueRange {
            min,
            max,
            kind: RangeKind::Number,
            total: None,
            distinct: None,
        }
    }

    #[test]
    fn growth_limits_name_their_counter_and_bad_ones_their_line() {
        let list = Allowlist::parse(
            "[Curve]\ngrows = add_point get_point_count 1024\n[SpriteFrames]\ngrows = add_frame get_frame_count[0] 64, add_animation get_animation_names 16\n",
        )
        .unwrap();
        let curve = list
            .growth(&chain(&["Curve", "Resource", "Object"]), "add_point")
            .unwrap();
        assert_eq!(
            (curve.count_method.as_str(), curve.argument, curve.max),
            ("get_point_count", None, 1024)
        );
        let frames = list
            .growth(&chain(&["SpriteFrames", "Resource", "Object"]), "add_frame")
            .unwrap();
        assert_eq!((frames.argument, frames.max), (Some(0), 64));
        assert!(list.growth(&chain(&["Curve"]), "add_frame").is_none());
        assert!(frames
            .refusal("SpriteFrames.add_frame", 64)
            .contains("already has 64 elements (`get_frame_count`)"));
        for bad in [
            "add_point",
            "add_point get_point_count",
            "add_point c[x] 3",
            "add_point c 3 4",
        ] {
            let e = Allowlist::parse(&format!("[X]\n\ngrows = {bad}\n")).unwrap_err();
            assert!(e.contains("line 3") && e.contains("growth limit"), "{e}");
        }
    }

    #[test]
    fn distinct_pools_admit_a_limited_number_of_values_shared_by_their_members() {
        let list = Allowlist::parse(
            "[Control]\nranges = add_theme_font_size_override[1] 1..512 distinct font_size 3\n[LabelSettings]\nranges = font_size 1..512 distinct font_size 3, outline_size 0..9\n",
        )
        .unwrap();
        let control = chain(&["Label", "Control", "Object"]);
        let arg = list.argument_ranges(&control, "add_theme_font_size_override");
        let (_, method) = arg[0];
        let property = list
            .property_range(&chain(&["LabelSettings", "Object"]), "font_size")
            .unwrap();
        let mut pools = DistinctPools::default();
        assert_eq!(
            pools.admit(&method, "Label.add_theme_font_size_override[1]", 16.0),
            Ok(())
        );
        assert_eq!(
            pools.admit(&property, "LabelSettings.font_size", 24.0),
            Ok(())
        );
        assert_eq!(
            pools.admit(&method, "m", 16.0),
            Ok(()),
            "a value already used"
        );
        assert_eq!(pools.admit(&property, "p", 32.0), Ok(()));
        let e = pools
            .admit(&method, "Label.add_theme_font_size_override[1]", 48.0)
            .unwrap_err();
        assert!(
            e.contains("have already used 3 different `font_size` values")
                && e.contains("use one of 16, 24, 32"),
            "{e}"
        );
        assert_eq!(
            pools.admit(&property, "p", 24.0),
            Ok(()),
            "still the old ones"
        );
        // A range without `distinct` admits anything.
        let outline = list
            .property_range(&chain(&["LabelSettings", "Object"]), "outline_size")
            .unwrap();
        for v in 0..9 {
            assert_eq!(pools.admit(&outline, "o", v as f64), Ok(()));
        }
        for bad in [
            "font_size 1..512 distinct",
            "font_size 1..512 distinct font_size",
            "font_size 1..512 distinct font_size 0",
            "font_size 1..512 distinct font-size 3",
            "text len 0..9 distinct t 3",
            "font_size 1..512 distinct a 3 distinct b 4",
        ] {
            assert!(
                Allowlist::parse(&format!("[X]\nranges = {bad}\n")).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn ranges_bound_properties_and_arguments_most_derived_class_first() {
        let list = Allowlist::parse(
            "[CPUParticles2D]\nranges = amount 1..2000 total 10000\n[Control]\nranges = add_theme_font_size_override[1] 1..512, add_theme_constant_override[1] -1024..1024\n[Node]\nranges = amount 1..5\n[Label]\nranges = text len 0..1024\n",
        )
        .unwrap();
        let particles = chain(&["CPUParticles2D", "Node2D", "CanvasItem", "Node", "Object"]);
        let range = list.property_range(&particles, "amount").unwrap();
        assert_eq!(
            range,
            ValueRange {
                total: Some(10000.0),
                ..number(1.0, 2000.0)
            },
            "the most derived class decides"
        );
        let what = "CPUParticles2D.amount";
        assert_eq!(
            range.check(what, RangeValue::Number(1.0)),
            Ok(1.0),
            "both ends are in"
        );
        assert_eq!(range.check(what, RangeValue::Number(2000.0)), Ok(2000.0));
        for bad in [
            0.0,
            2000.5,
            2_147_483_647.0,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ] {
            assert!(range.check(what, RangeValue::Number(bad)).is_err(), "{bad}");
        }
        // A text Godot would read a number from is no number: "2147483647" was let through as
        // a size of 10 and crashed Godot.
        let e = range.check(what, RangeValue::Size(10)).unwrap_err();
        assert!(
            e.contains("takes a number") && e.contains("not a text"),
            "{e}"
        );
        assert!(range.check(what, RangeValue::Other).is_err());
        let msg = range
            .check(what, RangeValue::Number(2_147_483_647.0))
            .unwrap_err();
        assert!(
            msg.contains("`CPUParticles2D.amount`")
                && msg.contains("from 1 to 2000")
                && msg.contains("2147483647"),
            "{msg}"
        );
        let label = chain(&["Label", "Control", "CanvasItem", "Node", "Object"]);
        let text = list.property_range(&label, "text").unwrap();
        assert_eq!(text.kind, RangeKind::Size);
        assert_eq!(text.check("Label.text", RangeValue::Size(1024)), Ok(1024.0));
        assert!(text.check("Label.text", RangeValue::Size(1025)).is_err());
        assert!(
            text.check("Label.text", RangeValue::Number(5.0)).is_err(),
            "a number is no text"
        );
        assert_eq!(
            list.property_range(&chain(&["Node", "Object"]), "amount")
                .unwrap()
                .max,
            5.0
        );
        assert!(list.property_range(&particles, "lifetime").is_none());
        assert!(list.has_property_ranges("amount") && !list.has_property_ranges("lifetime"));
        assert!(list.has_argument_ranges("add_theme_font_size_override"));
        assert!(!list.has_argument_ranges("rotate"));
        assert_eq!(
            list.argument_ranges(&label, "add_theme_constant_override"),
            [(1, number(-1024.0, 1024.0))]
        );
        assert!(list
            .argument_ranges(&particles, "add_theme_font_size_override")
            .is_empty());
        assert!(range
            .over_total(what, 10500.0)
            .contains("`amount` would add up to 10500, over the 10000"));
    }

    #[test]
    fn a_later_range_replaces_an_earlier_one_and_bad_ranges_name_their_line() {
        let mut list = Allowlist::parse("[CPUParticles2D]\nranges = amount 1..2000\n").unwrap();
        list.merge("[CPUParticles2D]\nranges = amount 1..50000\n")
            .unwrap();
        let particles = chain(&["CPUParticles2D", "Node", "Object"]);
        assert_eq!(
            list.property_range(&particles, "amount").unwrap().max,
            50000.0
        );
        for bad in [
            "amount",
            "amount 5..1",
            "amount x..2",
            "amount 1..inf",
            "[1] 1..2",
            "m[x] 1..2",
            "m[1 1..2",
            "amount 1..2 total",
            "amount 1..20 total 10",
            "amount 1..2 most 5",
            "m[1] 1..2 total 5",
            "text len",
            "text size 0..5",
        ] {
            let e = Allowlist::parse(&format!("[A]\nranges = {bad}\n")).unwrap_err();
            assert!(
                e.contains("line 2") && e.contains("is not a range"),
                "{bad}: {e}"
            );
        }
    }

    /// The list the addon ships (`addons/wasgo/allowlist.cfg`), checked for the bounds the attack
    /// sweeps asked for: what is not listed, and the ranges that keep one call's work small.
    #[cfg(test)]
    mod shipped_list {
        use super::*;

        fn shipped() -> Allowlist {
            Allowlist::parse(include_str!(
                "../../../godot_project/addons/wasgo/allowlist.cfg"
            ))
            .expect("the shipped allowlist parses")
        }

        fn arg_range(list: &Allowlist, class: &[&str], method: &str, index: usize) -> ValueRange {
            list.argument_ranges(&chain(class), method)
                .into_iter()
                .find(|(i, _)| *i == index)
                .map(|(_, r)| r)
                .unwrap_or_else(|| panic!("{method}[{index}] has no range"))
        }

        #[test]
        fn tween_transitions_and_eases_are_godots_own() {
            // Godot takes any number and logs an error at every step of every tweener after
            // it, in its tween processing, outside any mod call.
            let list = shipped();
            for class in [
                &["Tween", "RefCounted", "Object"][..],
                &["PropertyTweener", "Tweener", "RefCounted", "Object"][..],
            ] {
                for (method, last) in [("set_trans", 11.0), ("set_ease", 3.0)] {
                    let r = arg_range(&list, class, method, 0);
                    assert!(r.check(method, RangeValue::Number(0.0)).is_ok());
                    assert!(r.check(method, RangeValue::Number(last)).is_ok());
                    assert!(r.check(method, RangeValue::Number(last + 1.0)).is_err());
                    assert!(r.check(method, RangeValue::Number(-1.0)).is_err());
                }
            }
        }

        #[test]
        fn pattern_searches_are_not_listed() {
            // Godot's wildcard matcher recursed once per `*` (a 300,000-star pattern crashed Godot)
            // and backtracks (a 25-byte pattern ran for 40 s).
            let list = shipped();
            let node = chain(&["Node", "Object"]);
            assert!(!list.allows(&node, MemberKind::Method, "find_child"));
            assert!(!list.allows(&node, MemberKind::Method, "find_children"));
            assert!(list.allows(&node, MemberKind::Method, "get_children"));
        }

        #[test]
        fn texts_godot_keeps_on_made_objects_are_bounded() {
            // Each was a way to make Godot hold 4 MB per call (a 1 MiB text) without end.
            let list = shipped();
            for (class, property) in [
                (
                    &["AnimatedSprite2D", "Node2D", "CanvasItem", "Node", "Object"][..],
                    "autoplay",
                ),
                (&["AudioStreamPlayer", "Node", "Object"][..], "bus"),
            ] {
                let r = list
                    .property_range(&chain(class), property)
                    .unwrap_or_else(|| panic!("{property} has no range"));
                assert!(r.check(property, RangeValue::Size(256)).is_ok());
                assert!(r.check(property, RangeValue::Size(257)).is_err());
            }
            let control = ["Control", "CanvasItem", "Node", "Object"];
            for method in [
                "add_theme_color_override",
                "add_theme_font_override",
                "add_theme_font_size_override",
                "remove_theme_color_override",
                "remove_theme_font_override",
            ] {
                let r = arg_range(&list, &control, method, 0);
                assert!(r.check(method, RangeValue::Size(256)).is_ok());
                assert!(r.check(method, RangeValue::Size(257)).is_err());
            }
        }

        #[test]
        fn names_paths_and_action_names_are_bounded() {
            let list = shipped();
            let label = chain(&["Label", "Control", "CanvasItem", "Node", "Object"]);
            let name = list
                .property_range(&label, "name")
                .expect("Node.name has a range");
            assert!(name.check("name", RangeValue::Size(256)).is_ok());
            assert!(name.check("name", RangeValue::Size(257)).is_err());
            assert!(name.check("name", RangeValue::Size(0)).is_err());
            let node = ["Node", "Object"];
            for method in ["has_node", "get_node_or_null"] {
                let r = arg_range(&list, &node, method, 0);
                assert!(r.check(method, RangeValue::Size(4096)).is_ok());
                assert!(r.check(method, RangeValue::Size(4097)).is_err());
            }
            let input = ["Input", "Object"];
            for (method, args) in [
                ("is_action_pressed", 1),
                ("is_action_just_pressed", 1),
                ("get_action_strength", 1),
                ("get_axis", 2),
                ("get_vector", 4),
            ] {
                for i in 0..args {
                    let r = arg_range(&list, &input, method, i);
                    assert!(r.check(method, RangeValue::Size(1_000_000)).is_err());
                    assert!(r.check(method, RangeValue::Size(10)).is_ok());
                }
            }
        }

        #[test]
        fn animation_and_resource_names_a_mod_leaves_in_the_engine_are_bounded() {
            let list = shipped();
            let resource = chain(&["SpriteFrames", "Resource", "RefCounted", "Object"]);
            let name = list
                .property_range(&resource, "resource_name")
                .expect("Resource.resource_name has a range");
            assert!(name.check("resource_name", RangeValue::Size(256)).is_ok());
            assert!(name
                .check("resource_name", RangeValue::Size(4_000_000))
                .is_err());
            let frames = ["SpriteFrames", "Resource", "RefCounted", "Object"];
            let player = ["AnimationPlayer", "AnimationMixer", "Node", "Object"];
            for (class, method) in [
                (&frames, "add_animation"),
                (&frames, "add_frame"),
                (&frames, "set_animation_loop"),
                (&player, "play"),
                (&player, "queue"),
            ] {
                let r = arg_range(&list, class, method, 0);
                assert!(
                    r.check(method, RangeValue::Size(4_000_000)).is_err(),
                    "{method}"
                );
                assert!(r.check(method, RangeValue::Size(12)).is_ok(), "{method}");
            }
            let current = list
                .property_range(&chain(&player), "current_animation")
                .expect("current_animation has a range");
            assert!(current
                .check("current_animation", RangeValue::Size(257))
                .is_err());
            let queue = list
                .growth(&chain(&player), "queue")
                .expect("AnimationPlayer.queue grows");
            assert_eq!(queue.max, 64);
        }

        /// Godot steps an AnimatedSprite2D at the product of the animation's fps, `speed_scale`,
        /// `play`'s custom speed and 1 / each frame's duration: each was bounded alone (3 million
        /// fps together), and a volume of 1e6 dB turned the game's whole mix into NaN.
        #[test]
        fn animation_speeds_and_audio_volumes_are_bounded_together() {
            let list = shipped();
            let sprite = ["AnimatedSprite2D", "Node2D", "CanvasItem", "Node", "Object"];
            let frames = ["SpriteFrames", "Resource", "RefCounted", "Object"];
            let custom = arg_range(&list, &sprite, "play", 1);
            assert!(custom.check("play", RangeValue::Number(1.0)).is_ok());
            assert!(custom.check("play", RangeValue::Number(16.0)).is_err());
            let duration = arg_range(&list, &frames, "add_frame", 2);
            assert!(duration.check("add_frame", RangeValue::Number(1.0)).is_ok());
            assert!(duration
                .check("add_frame", RangeValue::Number(0.0))
                .is_err());
            let speed = arg_range(&list, &frames, "set_animation_speed", 1);
            let scale = list
                .property_range(&chain(&sprite), "speed_scale")
                .expect("speed_scale has a range");
            let top =
                |r: &ValueRange, what: &str, v: f64| r.check(what, RangeValue::Number(v)).is_ok();
            assert!(top(&speed, "fps", 120.0) && !top(&speed, "fps", 121.0));
            assert!(top(&scale, "speed_scale", 16.0) && !top(&scale, "speed_scale", 17.0));
            for method in ["play", "play_backwards"] {
                let name = arg_range(&list, &sprite, method, 0);
                assert!(
                    name.check(method, RangeValue::Size(1 << 20)).is_err(),
                    "{method}"
                );
            }
            for class in [
                &["AudioStreamPlayer", "Node", "Object"][..],
                &[
                    "AudioStreamPlayer2D",
                    "Node2D",
                    "CanvasItem",
                    "Node",
                    "Object",
                ],
                &["AudioStreamPlayer3D", "Node3D", "Node", "Object"],
            ] {
                let volume = list
                    .property_range(&chain(class), "volume_db")
                    .unwrap_or_else(|| panic!("{class:?}.volume_db has a range"));
                for (v, ok) in [
                    (0.0, true),
                    (-80.0, true),
                    (24.0, true),
                    (1e6, false),
                    (f64::INFINITY, false),
                ] {
                    assert_eq!(
                        volume.check("volume_db", RangeValue::Number(v)).is_ok(),
                        ok,
                        "{class:?} {v}"
                    );
                }
            }
            let player_2d = chain(&[
                "AudioStreamPlayer2D",
                "Node2D",
                "CanvasItem",
                "Node",
                "Object",
            ]);
            let player_3d = chain(&["AudioStreamPlayer3D", "Node3D", "Node", "Object"]);
            for (class, property) in [
                (&player_2d, "max_distance"),
                (&player_2d, "attenuation"),
                (&player_3d, "max_distance"),
                (&player_3d, "unit_size"),
            ] {
                let r = list
                    .property_range(class, property)
                    .unwrap_or_else(|| panic!("{property} has a range"));
                assert!(
                    r.check(property, RangeValue::Number(1e30)).is_err(),
                    "{property}"
                );
            }
        }

        #[test]
        fn outline_sizes_share_a_small_pool_and_theme_constants_are_not_listed() {
            let list = shipped();
            let settings = chain(&["LabelSettings", "Resource", "RefCounted", "Object"]);
            for property in ["outline_size", "shadow_size"] {
                let range = list
                    .property_range(&settings, property)
                    .expect("a range for the outline");
                assert!(range.check(property, RangeValue::Number(65.0)).is_err());
                let distinct = range.distinct.expect("a distinct pool");
                assert_eq!(distinct.max, 4, "{property}");
                assert_eq!(
                    Some(distinct.pool),
                    PoolName::parse("outline_size"),
                    "{property}"
                );
            }
            let label = chain(&["Label", "Control", "CanvasItem", "Node", "Object"]);
            assert!(!list.allows(&label, MemberKind::Method, "add_theme_constant_override"));
            // A particle scaled to fill the screen, ten thousand times a frame.
            for class in ["CPUParticles2D", "CPUParticles3D"] {
                let particles = chain(&[class, "Node", "Object"]);
                let scale = list
                    .property_range(&particles, "scale_amount_max")
                    .expect("a range for the particles' scale");
                assert!(scale
                    .check("scale_amount_max", RangeValue::Number(1000.0))
                    .is_err());
            }
        }

        #[test]
        fn animation_speeds_are_bounded() {
            let list = shipped();
            let sprite = chain(&["AnimatedSprite2D", "Node2D", "CanvasItem", "Node", "Object"]);
            let speed = list
                .property_range(&sprite, "speed_scale")
                .expect("speed_scale range");
            assert!(speed.check("speed_scale", RangeValue::Number(1e9)).is_err());
            assert!(speed.check("speed_scale", RangeValue::Number(2.0)).is_ok());
            let fps = arg_range(
                &list,
                &["SpriteFrames", "Resource", "RefCounted", "Object"],
                "set_animation_speed",
                1,
            );
            assert!(fps.check("fps", RangeValue::Number(1e9)).is_err());
            assert!(fps.check("fps", RangeValue::Number(30.0)).is_ok());
        }
    }
}
