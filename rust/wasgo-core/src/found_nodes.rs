//! The nodes an instance's `get_node` calls found, kept while the game promises the same
//! lookup would find the same node again.
//!
//! A mod that looks a node up by path at every use (`get_node("../Player")` in every
//! `process`, or in every round of a `main` loop) asks the game the same question again and
//! again; from `main` each ask is a round trip to the main thread. The game's object host
//! gives each answer with a *lookup stamp* ([`ObjectHost::lookup_stamp`]): a number that
//! changes whenever a path may name another node than before (the scene tree changed, a node
//! was renamed, a mod's reach changed) or a handle may have been released. While the stamp is
//! the one an answer was given under, the same question gets the same handle without asking
//! the game. A stamp of 0 means the game makes no promise for that answer (it is not kept).
//!
//! Bounded: at most [`MAX_ENTRIES`] answers, for paths of at most [`MAX_CACHED_TEXT`] bytes
//! (a longer path is always asked), and the answers kept under an older stamp are dropped
//! when one under a newer stamp is kept.
//!
//! [`ObjectHost::lookup_stamp`]: crate::objects::ObjectHost::lookup_stamp

use crate::handles::MAX_CACHED_TEXT;

/// Most answers one instance keeps.
pub const MAX_ENTRIES: usize = 32;

#[derive(Debug)]
struct Found {
    from: i32,
    path: Box<[u8]>,
    handle: i32,
}

/// One instance's kept `get_node` answers, all under one stamp.
#[derive(Debug, Default)]
pub struct FoundNodes {
    /// The stamp every kept answer was given under (0: none kept).
    stamp: u64,
    found: Vec<Found>,
    /// Where the next answer goes once [`MAX_ENTRIES`] are kept.
    next: usize,
}

impl FoundNodes {
    /// Whether an answer is kept under `stamp` (cheap: no path compared).
    #[inline]
    pub fn holds_under(&self, stamp: u64) -> bool {
        stamp != 0 && self.stamp == stamp && !self.found.is_empty()
    }

    /// The handle `get_node(from, path)` found, if that answer was given under `stamp` (the
    /// game's lookup stamp now).
    pub fn get(&self, from: i32, path: &[u8], stamp: u64) -> Option<i32> {
        if !self.holds_under(stamp) {
            return None;
        }
        self.found
            .iter()
            .find(|f| f.from == from && *f.path == *path)
            .map(|f| f.handle)
    }

    /// Keeps what `get_node(from, path)` found under `stamp` (nothing for stamp 0 or a path
    /// longer than [`MAX_CACHED_TEXT`]); answers under another stamp are dropped.
    pub fn keep(&mut self, from: i32, path: &[u8], handle: i32, stamp: u64) {
        if stamp == 0 || path.len() > MAX_CACHED_TEXT {
            return;
        }
        if self.stamp != stamp {
            self.forget();
            self.stamp = stamp;
        }
        if let Some(f) = self
            .found
            .iter_mut()
            .find(|f| f.from == from && *f.path == *path)
        {
            f.handle = handle;
            return;
        }
        let found = Found {
            from,
            path: path.into(),
            handle,
        };
        if self.found.len() < MAX_ENTRIES {
            self.found.push(found);
        } else {
            self.found[self.next] = found;
            self.next = (self.next + 1) % MAX_ENTRIES;
        }
    }

    /// Drops every kept answer.
    pub fn forget(&mut self) {
        self.found.clear();
        self.next = 0;
        self.stamp = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_holds_only_under_its_stamp() {
        let mut f = FoundNodes::default();
        assert_eq!(f.get(0, b"../A", 5), None);
        f.keep(0, b"../A", 3, 5);
        assert_eq!(f.get(0, b"../A", 5), Some(3));
        assert_eq!(
            f.get(0, b"../A", 6),
            None,
            "another stamp: the tree may have changed"
        );
        assert_eq!(f.get(0, b"../A", 0), None, "stamp 0 promises nothing");
        assert_eq!(f.get(1, b"../A", 5), None, "another base node");
        assert_eq!(f.get(0, b"../B", 5), None);
        assert_eq!(f.get(0, b"../A/", 5), None);
        assert_eq!(f.get(0, b"../", 5), None);
    }

    #[test]
    fn a_newer_stamp_drops_the_older_answers() {
        let mut f = FoundNodes::default();
        f.keep(0, b"A", 1, 5);
        f.keep(0, b"B", 2, 6);
        assert_eq!(f.get(0, b"B", 6), Some(2));
        assert_eq!(f.get(0, b"A", 6), None);
        assert_eq!(f.get(0, b"A", 5), None, "dropped, not only hidden");
    }

    #[test]
    fn nothing_is_kept_under_stamp_zero_or_for_a_long_path() {
        let mut f = FoundNodes::default();
        f.keep(0, b"A", 1, 0);
        assert_eq!(f.get(0, b"A", 0), None);
        let long = vec![b'a'; MAX_CACHED_TEXT + 1];
        f.keep(0, &long, 1, 5);
        assert_eq!(f.get(0, &long, 5), None);
        let longest = vec![b'a'; MAX_CACHED_TEXT];
        f.keep(0, &longest, 1, 5);
        assert_eq!(f.get(0, &longest, 5), Some(1));
    }

    #[test]
    fn it_keeps_at_most_max_entries_and_the_latest_answer() {
        let mut f = FoundNodes::default();
        for i in 0..MAX_ENTRIES as i32 * 3 {
            f.keep(0, format!("n{i}").as_bytes(), i + 1, 9);
            assert!(f.found.len() <= MAX_ENTRIES);
            assert_eq!(f.get(0, format!("n{i}").as_bytes(), 9), Some(i + 1));
        }
        assert_eq!(f.get(0, b"n0", 9), None, "the oldest gave its place");
        f.keep(0, b"n0", 100, 9);
        f.keep(0, b"n0", 101, 9);
        assert_eq!(f.get(0, b"n0", 9), Some(101));
        assert_eq!(f.found.iter().filter(|e| *e.path == *b"n0").count(), 1);
        f.forget();
        assert!(!f.holds_under(9));
    }
}
