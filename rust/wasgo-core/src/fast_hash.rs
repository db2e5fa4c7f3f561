//! A small, fast hash for the maps on hot paths (object ids, handles, short member names).
//!
//! The standard library's SipHash resists collision flooding at about 20 ns per short key;
//! these maps are looked up per host call and per node per frame. Their keys are ids Godot
//! assigns and names the mod picks: a mod that chose colliding names would only slow its own
//! lookups down, never another mod's or the game's.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// The Fx hash (rustc's): a rotate, xor and multiply per 8-byte word.
#[derive(Default, Clone, Copy)]
pub struct FxHasher(u64);

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.add(n);
    }

    fn write_i64(&mut self, n: i64) {
        self.add(n as u64);
    }

    fn write_u32(&mut self, n: u32) {
        self.add(u64::from(n));
    }

    fn write_i32(&mut self, n: i32) {
        self.add(n as u32 as u64);
    }

    fn write_usize(&mut self, n: usize) {
        self.add(n as u64);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

impl FxHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

/// A `HashMap` with [`FxHasher`].
pub type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_keys_hash_alike_and_a_map_finds_them() {
        let mut map: FastMap<u64, &str> = FastMap::default();
        for i in 0..10_000u64 {
            map.insert(i << 24 | 7, "x");
        }
        assert_eq!(map.len(), 10_000);
        assert!(map.contains_key(&(5 << 24 | 7)));
        assert!(!map.contains_key(&(10_001 << 24 | 7)));
        let mut names: FastMap<Box<str>, u8> = FastMap::default();
        names.insert("position".into(), 1);
        names.insert("positio".into(), 2);
        assert_eq!(names.get("position"), Some(&1));
        assert_eq!(names.get("positio"), Some(&2));
    }
}
