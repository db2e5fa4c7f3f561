//! The handle table behind a mod's object handles, and the one cache of allowlist decisions.
//!
//! A handle is a positive `i32` a mod holds for a game object: its slot's index and the slot's
//! generation, + 1, so 0 stays the null handle. Looking the same object (its key) up again
//! returns the same handle. A released slot is given again under its next generation, so an old
//! handle number does not name the slot's next object (a mod keeping per-node state keyed by
//! handles would have given a freed node's state to a new one): it answers invalid until the
//! slot has been reused [`GENERATIONS`] times. Every handle the mod passes is checked without
//! arithmetic that can overflow: 0, negative numbers, `i32::MIN`, numbers past the table and
//! stale generations all answer [`ErrorCode::InvalidHandle`].
//!
//! [`DecisionCache`] remembers, per handle, member kind and name, whether the allowlist lets the
//! mod reach the member, until the allowlist changes (its generation) or the handle is released.
//! [`TextCache`] keeps what the glue makes from a text a mod sends (a member name's
//! StringName, a parsed node path) so that each is made once; the glue shares one of each among
//! all instances ([`TextCache::shared`]), so a new instance makes nothing its module's earlier
//! instances made already.
//!
//! Both are bounded in count and in what one entry may hold: a name or path a mod sends is
//! bounded only by its linear memory, so a cache that kept any text would let a mod make the
//! host hold its memory many times over (a node path is not checked before it is looked up:
//! 4096 distinct 60 MB paths would be 240 GB). Texts longer than [`MAX_CACHED_TEXT`] are
//! decided or made at every use and never kept. (The decision cache cannot be filled with
//! made-up names today, since a denied member traps the mod and allowed names come from the
//! allowlist; its bounds keep that true whatever the allowlist becomes.)

use crate::fast_hash::FastMap;
use std::collections::HashMap;
use std::hash::Hash;
use wasgo_catalog::ErrorCode;

/// Most live handles one instance may hold.
pub const MAX_HANDLES: usize = 1 << 20;

/// The longest text (member name, node path) a cache keeps, in bytes. Godot's own
/// names and the paths games use are far shorter; a longer one still works, made at each use.
pub const MAX_CACHED_TEXT: usize = 256;

/// Values made from texts the mod sends, each made once: at most [`TextCache::MAX_ENTRIES`]
/// texts of at most [`MAX_CACHED_TEXT`] bytes (others are made at every use).
#[derive(Debug)]
pub struct TextCache<V> {
    made: FastMap<Box<str>, V>,
    /// Whether a full cache forgets what it kept and starts over (see [`TextCache::shared`])
    /// rather than keeping its first texts.
    restarts: bool,
}

impl<V> Default for TextCache<V> {
    fn default() -> Self {
        TextCache {
            made: FastMap::default(),
            restarts: false,
        }
    }
}

impl<V> TextCache<V> {
    /// A cache shared by every instance (values that are the same whoever asks, such as a
    /// parsed node path: what it names is still looked up and reach-checked at each use). A
    /// new instance then makes nothing its module's earlier instances made already. When full
    /// it forgets what it kept and starts over, so a mod that sends made-up texts cannot keep
    /// the others' texts out of it for good: it costs them one remake each per
    /// [`TextCache::MAX_ENTRIES`] texts it sends.
    pub fn shared() -> Self {
        TextCache {
            made: FastMap::default(),
            restarts: true,
        }
    }
}

impl<V: Clone> TextCache<V> {
    /// Most texts kept per cache.
    pub const MAX_ENTRIES: usize = 4096;

    /// The value for `text`: the kept one, else `make(text)` (kept when it succeeds and the
    /// bounds allow).
    pub fn get_or_make<E>(
        &mut self,
        text: &str,
        make: impl FnOnce(&str) -> Result<V, E>,
    ) -> Result<V, E> {
        if let Some(v) = self.get(text) {
            return Ok(v);
        }
        let v = make(text)?;
        self.keep(text, &v);
        Ok(v)
    }

    /// The value kept for `text`, if any.
    pub fn get(&self, text: &str) -> Option<V> {
        self.made.get(text).cloned()
    }

    /// Keeps `value` for `text` when the bounds allow: texts longer than [`MAX_CACHED_TEXT`]
    /// are never kept; a full cache keeps nothing more, or starts over if it is
    /// [`TextCache::shared`].
    pub fn keep(&mut self, text: &str, value: &V) {
        if text.len() > MAX_CACHED_TEXT {
            return;
        }
        if self.made.len() >= Self::MAX_ENTRIES {
            if !self.restarts {
                return;
            }
            self.made.clear();
        }
        self.made.insert(text.into(), value.clone());
    }

    /// Texts kept.
    pub fn len(&self) -> usize {
        self.made.len()
    }

    pub fn is_empty(&self) -> bool {
        self.made.is_empty()
    }
}

/// Bits of a handle that hold the slot index (`MAX_HANDLES` slots).
const SLOT_BITS: u32 = 20;
/// Generations a slot goes through before its handle numbers come round again.
pub const GENERATIONS: u32 = 1 << 10;

/// The slot index and generation behind `handle`, if it can name a slot at all (no overflow for
/// any `i32`).
pub fn slot_index(handle: i32) -> Option<(usize, u32)> {
    let raw = u32::try_from(handle.checked_sub(1)?).ok()?;
    let generation = raw >> SLOT_BITS;
    (generation < GENERATIONS).then_some(((raw & ((1 << SLOT_BITS) - 1)) as usize, generation))
}

/// The handle of slot `index` in `generation` (`index < MAX_HANDLES`, `generation <
/// GENERATIONS`: at most 2^30).
fn handle_of(index: usize, generation: u32) -> i32 {
    ((generation << SLOT_BITS) | index as u32) as i32 + 1
}

/// Why a handle was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HandleError {
    /// Not a live handle: never given, released, 0, negative or out of range.
    #[error("{0} is not a live handle (released, or never given)")]
    Invalid(i32),
    /// The instance holds [`MAX_HANDLES`] handles already.
    #[error("the mod holds {MAX_HANDLES} handles already; release some")]
    Full,
}

impl HandleError {
    /// The ABI code a mod sees.
    pub fn code(&self) -> ErrorCode {
        match self {
            HandleError::Invalid(_) => ErrorCode::InvalidHandle,
            HandleError::Full => ErrorCode::Busy,
        }
    }
}

/// Values by handle, with one handle per key (see the module docs).
#[derive(Debug)]
pub struct HandleTable<K, V> {
    slots: Vec<Option<(K, V)>>,
    /// Each slot's generation (its next handle's, once released).
    generations: Vec<u32>,
    free: Vec<usize>,
    by_key: FastMap<K, i32>,
}

impl<K: Hash + Eq + Copy, V> Default for HandleTable<K, V> {
    fn default() -> Self {
        HandleTable {
            slots: Vec::new(),
            generations: Vec::new(),
            free: Vec::new(),
            by_key: FastMap::default(),
        }
    }
}

impl<K: Hash + Eq + Copy, V> HandleTable<K, V> {
    /// The handle already given for `key`, if any.
    pub fn find(&self, key: K) -> Option<i32> {
        self.by_key.get(&key).copied()
    }

    /// The handle for `key`: the existing one, or a new one holding `make()`.
    ///
    /// # Errors
    /// [`HandleError::Full`] when the table holds [`MAX_HANDLES`] handles.
    pub fn insert_with(&mut self, key: K, make: impl FnOnce() -> V) -> Result<i32, HandleError> {
        if let Some(h) = self.find(key) {
            return Ok(h);
        }
        let index = match self.free.pop() {
            Some(i) => i,
            None if self.slots.len() >= MAX_HANDLES => return Err(HandleError::Full),
            None => {
                self.slots.push(None);
                self.generations.push(0);
                self.slots.len() - 1
            }
        };
        self.slots[index] = Some((key, make()));
        let handle = handle_of(index, self.generations[index]);
        self.by_key.insert(key, handle);
        Ok(handle)
    }

    /// The live slot `handle` names: its index, if the generation is the slot's.
    fn live_index(&self, handle: i32) -> Option<usize> {
        let (index, generation) = slot_index(handle)?;
        (self.generations.get(index) == Some(&generation)).then_some(index)
    }

    /// The value behind `handle`.
    ///
    /// # Errors
    /// [`HandleError::Invalid`] for anything but a live handle.
    pub fn get(&self, handle: i32) -> Result<&V, HandleError> {
        self.live_index(handle)
            .and_then(|i| self.slots[i].as_ref())
            .map(|(_, v)| v)
            .ok_or(HandleError::Invalid(handle))
    }

    /// The value behind `handle`, mutably.
    ///
    /// # Errors
    /// [`HandleError::Invalid`] for anything but a live handle.
    pub fn get_mut(&mut self, handle: i32) -> Result<&mut V, HandleError> {
        self.live_index(handle)
            .and_then(|i| self.slots[i].as_mut())
            .map(|(_, v)| v)
            .ok_or(HandleError::Invalid(handle))
    }

    /// Forgets `handle` (its slot is given again under its next generation); unknown handles
    /// are ignored.
    pub fn release(&mut self, handle: i32) -> Option<V> {
        let index = self.live_index(handle)?;
        let (key, value) = self.slots[index].take()?;
        self.by_key.remove(&key);
        self.generations[index] = (self.generations[index] + 1) % GENERATIONS;
        self.free.push(index);
        Some(value)
    }

    /// The live handles whose value `dead` says is gone (an object the game freed): the owner
    /// releases them, with whatever else it keeps per handle.
    pub fn dead_handles(&self, mut dead: impl FnMut(&V) -> bool) -> Vec<i32> {
        self.slots
            .iter()
            .enumerate()
            .filter_map(|(i, s)| match s {
                Some((_, v)) if dead(v) => Some(handle_of(i, self.generations[i])),
                _ => None,
            })
            .collect()
    }

    /// Live handles.
    pub fn len(&self) -> usize {
        self.by_key.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_key.is_empty()
    }
}

/// Allowlist decisions per (handle, kind) and member name, valid for one allowlist generation.
#[derive(Debug)]
pub struct DecisionCache<Kind> {
    generation: u64,
    decisions: HashMap<(i32, Kind), HashMap<Box<str>, bool>>,
    /// Decisions kept, over every handle and kind.
    kept: usize,
}

impl<Kind> Default for DecisionCache<Kind> {
    fn default() -> Self {
        DecisionCache {
            generation: 0,
            decisions: HashMap::new(),
            kept: 0,
        }
    }
}

impl<Kind: Hash + Eq + Copy> DecisionCache<Kind> {
    /// Most member names remembered per (handle, kind); more are decided each time.
    pub const MAX_NAMES: usize = 256;
    /// Most decisions remembered per instance, over all its handles (a mod may hold
    /// [`MAX_HANDLES`] handles); more are decided each time.
    pub const MAX_KEPT: usize = 1 << 16;

    /// The decision for `member`, made by `decide` when not cached under `generation`.
    pub fn decide(
        &mut self,
        generation: u64,
        handle: i32,
        kind: Kind,
        member: &str,
        decide: impl FnOnce() -> bool,
    ) -> bool {
        if self.generation != generation {
            self.decisions.clear();
            self.kept = 0;
            self.generation = generation;
        }
        if let Some(ok) = self
            .decisions
            .get(&(handle, kind))
            .and_then(|names| names.get(member))
        {
            return *ok;
        }
        let ok = decide();
        if member.len() <= MAX_CACHED_TEXT && self.kept < Self::MAX_KEPT {
            let names = self.decisions.entry((handle, kind)).or_default();
            if names.len() < Self::MAX_NAMES {
                names.insert(member.into(), ok);
                self.kept += 1;
            }
        }
        ok
    }

    /// Forgets the decisions about a released handle.
    pub fn forget(&mut self, handle: i32) {
        let mut forgotten = 0;
        self.decisions.retain(|(h, _), names| {
            let keep = *h != handle;
            if !keep {
                forgotten += names.len();
            }
            keep
        });
        self.kept -= forgotten;
    }

    /// Decisions kept, over every handle and kind.
    pub fn kept(&self) -> usize {
        self.kept
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handles_start_at_one_and_are_reused_per_key() {
        let mut t = HandleTable::default();
        assert_eq!(t.insert_with(10u64, || "a"), Ok(1));
        assert_eq!(t.insert_with(20u64, || "b"), Ok(2));
        assert_eq!(t.insert_with(10u64, || "again"), Ok(1));
        assert_eq!(t.get(1), Ok(&"a"));
        assert_eq!(t.len(), 2);
    }

    #[test]
    fn zero_negative_min_and_huge_handles_are_invalid_without_overflow() {
        let mut t = HandleTable::default();
        t.insert_with(1u64, || ()).unwrap();
        for h in [0, -1, -4, i32::MIN, i32::MIN + 1, 2, i32::MAX] {
            assert_eq!(t.get(h), Err(HandleError::Invalid(h)), "handle {h}");
            assert_eq!(t.get_mut(h).err(), Some(HandleError::Invalid(h)));
            assert_eq!(t.release(h), None);
        }
        assert_eq!(
            HandleError::Invalid(i32::MIN).code(),
            ErrorCode::InvalidHandle
        );
        assert_eq!(slot_index(i32::MIN), None);
        assert_eq!(slot_index(1), Some((0, 0)));
        assert_eq!(slot_index(i32::MAX), None, "past the last generation");
    }

    #[test]
    fn a_released_slot_is_given_again_under_a_new_number() {
        let mut t = HandleTable::default();
        let a = t.insert_with(1u64, || "a").unwrap();
        let b = t.insert_with(2u64, || "b").unwrap();
        assert_eq!(t.release(a), Some("a"));
        assert_eq!(t.get(a), Err(HandleError::Invalid(a)));
        assert_eq!(t.find(1), None);
        // The slot is reused, its old number names nothing: a mod's state kept by handle does
        // not pass to the next object.
        let c = t.insert_with(3u64, || "c").unwrap();
        assert_ne!(c, a);
        assert_eq!(slot_index(c).map(|(i, _)| i), slot_index(a).map(|(i, _)| i));
        assert_eq!(t.get(a), Err(HandleError::Invalid(a)));
        assert_eq!(t.release(a), None);
        assert_eq!(t.get(c), Ok(&"c"));
        assert_eq!(t.get(b), Ok(&"b"));
        // Generations come round after GENERATIONS reuses.
        let mut last = c;
        for key in 4..4 + u64::from(GENERATIONS) {
            t.release(last);
            last = t.insert_with(key, || "n").unwrap();
        }
        assert_eq!(last, c);
        assert!(t.get(last).is_ok());
    }

    #[test]
    fn dead_handles_names_the_live_handles_whose_value_is_gone() {
        let mut t = HandleTable::default();
        let a = t.insert_with(1u64, || false).unwrap();
        let b = t.insert_with(2u64, || true).unwrap();
        let c = t.insert_with(3u64, || true).unwrap();
        t.release(c);
        assert_eq!(t.dead_handles(|gone| *gone), vec![b]);
        assert!(t.get(a).is_ok());
    }

    #[test]
    fn long_member_names_are_decided_at_every_use_and_never_kept() {
        let mut c = DecisionCache::default();
        let asked = std::cell::Cell::new(0);
        let mut decide = |member: &str| {
            c.decide(0, 1, 0u8, member, || {
                asked.set(asked.get() + 1);
                false
            })
        };
        let edge = "n".repeat(MAX_CACHED_TEXT);
        let long = "n".repeat(MAX_CACHED_TEXT + 1);
        for _ in 0..3 {
            assert!(!decide(&edge));
            assert!(!decide(&long));
        }
        // The name at the bound is kept (asked once), the longer one is asked every time.
        assert_eq!(asked.get(), 1 + 3);
        assert_eq!(c.kept(), 1);
    }

    #[test]
    fn decisions_kept_are_bounded_over_all_handles_and_counted_back_on_release() {
        let mut c = DecisionCache::default();
        let per = DecisionCache::<u8>::MAX_NAMES;
        let handles = DecisionCache::<u8>::MAX_KEPT / per + 4;
        for h in 1..=handles as i32 {
            for n in 0..per + 2 {
                c.decide(0, h, 0u8, &format!("m{n}"), || true);
            }
        }
        assert_eq!(c.kept(), DecisionCache::<u8>::MAX_KEPT);
        // A released handle's decisions make room again.
        c.forget(1);
        assert_eq!(c.kept(), DecisionCache::<u8>::MAX_KEPT - per);
        let asked = std::cell::Cell::new(0);
        for _ in 0..2 {
            c.decide(0, handles as i32 + 1, 0u8, "position", || {
                asked.set(asked.get() + 1);
                true
            });
        }
        assert_eq!(asked.get(), 1, "kept once there was room");
        // A new generation starts from nothing.
        c.decide(1, 1, 0u8, "position", || true);
        assert_eq!(c.kept(), 1);
    }

    #[test]
    fn a_text_cache_keeps_short_texts_it_made_up_to_its_bound() {
        let mut t = TextCache::<usize>::default();
        let made = std::cell::Cell::new(0);
        let get = |t: &mut TextCache<usize>, text: &str| {
            t.get_or_make(text, |s| {
                made.set(made.get() + 1);
                if s.is_empty() {
                    Err("empty")
                } else {
                    Ok(s.len())
                }
            })
        };
        assert_eq!(get(&mut t, "../Bench"), Ok(8));
        assert_eq!(get(&mut t, "../Bench"), Ok(8));
        assert_eq!(made.get(), 1);
        // Failures are not kept; neither are texts over the bound.
        assert_eq!(get(&mut t, ""), Err("empty"));
        assert_eq!(get(&mut t, ""), Err("empty"));
        let long = "x".repeat(MAX_CACHED_TEXT + 1);
        assert_eq!(get(&mut t, &long), Ok(MAX_CACHED_TEXT + 1));
        assert_eq!(get(&mut t, &long), Ok(MAX_CACHED_TEXT + 1));
        assert_eq!(made.get(), 5);
        assert_eq!(t.len(), 1);
        for i in 0..TextCache::<usize>::MAX_ENTRIES + 10 {
            get(&mut t, &format!("p{i}")).unwrap();
        }
        assert_eq!(t.len(), TextCache::<usize>::MAX_ENTRIES);
    }

    #[test]
    fn a_shared_text_cache_starts_over_when_full_so_made_up_texts_cannot_keep_others_out() {
        let mut t = TextCache::<usize>::shared();
        t.keep("..", &2);
        assert_eq!(t.get(".."), Some(2));
        // Long texts are never kept, shared or not.
        let long = "y".repeat(MAX_CACHED_TEXT + 1);
        t.keep(&long, &1);
        assert_eq!(t.get(&long), None);
        // A flood fills it, then it starts over: the flood's texts go, later texts are kept.
        let mut t = TextCache::<usize>::shared();
        for i in 0..TextCache::<usize>::MAX_ENTRIES {
            t.keep(&format!("junk{i}"), &i);
        }
        assert_eq!(t.len(), TextCache::<usize>::MAX_ENTRIES);
        t.keep("..", &2);
        assert_eq!(t.len(), 1, "a full shared cache starts over");
        assert_eq!(t.get(".."), Some(2));
        assert_eq!(t.get("junk7"), None);
        // A per-instance cache keeps its first texts instead.
        let mut own = TextCache::<usize>::default();
        for i in 0..TextCache::<usize>::MAX_ENTRIES {
            own.keep(&format!("junk{i}"), &i);
        }
        own.keep("..", &2);
        assert_eq!((own.get(".."), own.get("junk7")), (None, Some(7)));
    }

    #[test]
    fn decisions_are_cached_until_the_generation_changes_or_the_handle_is_released() {
        let mut c = DecisionCache::default();
        let asked = std::cell::Cell::new(0);
        let decide = |c: &mut DecisionCache<u8>, generation: u64, handle: i32| {
            c.decide(generation, handle, 0, "position", || {
                asked.set(asked.get() + 1);
                true
            })
        };
        assert!(decide(&mut c, 0, 1));
        assert!(decide(&mut c, 0, 1));
        assert_eq!(asked.get(), 1);
        c.forget(1);
        decide(&mut c, 0, 1);
        decide(&mut c, 1, 1);
        assert_eq!(asked.get(), 3);
    }
}
