//! Reach: which nodes of the scene tree a mod may hold handles to.
//!
//! The game decides. Each `WasmScript` has a reach root (its `reach` property, or the project's
//! `wasgo/safety/default_reach`, whose empty default means the current scene); the mod may touch
//! that root and everything under it, plus its own node and everything under that. Whatever the
//! roots, some nodes are never inside: WasGo's own UI (the permission dialog) and internal
//! children (Godot's `INTERNAL_MODE_*` children: the guts of other nodes, other mods' internals
//! included). At level 3 (Unsafe) there is no limit. Objects that are not nodes (resources, the
//! `SceneTree`, timers, allowlisted singletons) are not in the tree and are not limited here.
//!
//! This file holds the rule alone, free of Godot: the glue walks from a candidate node up to the
//! tree's root and describes each node it passes as [`NodeFacts`]; [`decide`] reads them lazily,
//! bottom up, and stops at the first node that settles the answer. The glue applies it at the one
//! place handles are made (the handle table), so no way of obtaining a handle can bypass it, and
//! again when a handle is used after the tree changed, so a node moved out of reach is refused.

use crate::level::SafetyLevel;

/// The deepest ancestry walked; a deeper node is outside (fail closed).
pub const MAX_DEPTH: usize = 4096;

/// What the glue knows about one node on the way from the candidate up to the tree's root.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NodeFacts {
    /// The node is the reach root the game chose for this mod.
    pub is_reach_root: bool,
    /// The node is the mod's own `WasmScript` node.
    pub is_mod_node: bool,
    /// The node is (the top of) WasGo's own UI.
    pub is_own_ui: bool,
    /// The node is an internal child of its parent.
    pub is_internal: bool,
    /// The node is a `CanvasLayer` drawn over embedded windows ([`WINDOWS_LAYER`] or above):
    /// what is under it draws over WasGo's permission dialog.
    pub is_over_windows: bool,
}

/// The canvas layer Godot draws embedded windows on (`Viewport`'s subwindow layer): a
/// `CanvasLayer` at this layer or above draws over them.
pub const WINDOWS_LAYER: i64 = 1024;

/// Why a node is outside a mod's reach.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Outside {
    /// Neither the reach root nor the mod's node is among its ancestors.
    #[error("is outside the mod's reach (the game can widen it with `WasmScript.reach` or `wasgo/safety/default_reach`)")]
    NotUnder,
    /// It is WasGo's own UI or inside it.
    #[error("belongs to WasGo's own UI, which no mod may reach")]
    OwnUi,
    /// It is an internal child, or under one, below the mod's roots.
    #[error("is an internal child of another node, which no mod may reach")]
    Internal,
    /// Its ancestry is deeper than [`MAX_DEPTH`].
    #[error("is nested deeper than {MAX_DEPTH} nodes, which no mod may reach")]
    TooDeep,
    /// It is in a `CanvasLayer` at [`WINDOWS_LAYER`] or above, which draws over WasGo's
    /// permission dialog.
    #[error("is in a CanvasLayer at layer {WINDOWS_LAYER} or above, which draws over WasGo's permission dialog; no mod may reach it below level 3 (put the game's layer lower, or the node elsewhere)")]
    OverWindows,
}

/// Whether a mod at `level` may hold a handle to the node whose ancestry is `chain`: the node
/// itself first, then its parent, and so on up to the tree's root (or to a node without parent).
///
/// # Errors
/// The [`Outside`] reason: WasGo's UI and internal children below the mod's roots are outside
/// whatever the roots are; a node under neither root is outside.
pub fn decide(
    level: SafetyLevel,
    chain: impl IntoIterator<Item = NodeFacts>,
) -> Result<(), Outside> {
    if level == SafetyLevel::Unsafe {
        return Ok(());
    }
    let mut inside = false;
    for facts in chain.into_iter().take(MAX_DEPTH) {
        // Anywhere above the node, below the roots or above them: the mod's nodes there (its
        // own node included) would draw over the permission dialog.
        if facts.is_over_windows {
            return Err(Outside::OverWindows);
        }
        if inside {
            continue;
        }
        if facts.is_own_ui {
            return Err(Outside::OwnUi);
        }
        if facts.is_reach_root || facts.is_mod_node {
            inside = true;
            continue;
        }
        if facts.is_internal {
            return Err(Outside::Internal);
        }
    }
    if inside {
        Ok(())
    } else {
        Err(Outside::NotUnder)
    }
}

/// Like [`decide`], but tells a chain cut at [`MAX_DEPTH`] apart from one that ended: `ended`
/// says whether the walk reached a node without parent.
///
/// # Errors
/// As [`decide`], with [`Outside::TooDeep`] for a cut chain that settled nothing.
pub fn decide_walk(
    level: SafetyLevel,
    chain: impl IntoIterator<Item = NodeFacts>,
    ended: impl FnOnce() -> bool,
) -> Result<(), Outside> {
    match decide(level, chain) {
        Err(Outside::NotUnder) if !ended() => Err(Outside::TooDeep),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PLAIN: NodeFacts = NodeFacts {
        is_reach_root: false,
        is_mod_node: false,
        is_own_ui: false,
        is_internal: false,
        is_over_windows: false,
    };
    const OVER: NodeFacts = NodeFacts {
        is_over_windows: true,
        ..PLAIN
    };

    #[test]
    fn a_layer_over_the_windows_anywhere_above_is_outside() {
        assert_eq!(safe(&[PLAIN, OVER, ROOT]), Err(Outside::OverWindows));
        assert_eq!(safe(&[PLAIN, ROOT, OVER, PLAIN]), Err(Outside::OverWindows));
        assert_eq!(safe(&[MOD, OVER]), Err(Outside::OverWindows));
        assert_eq!(safe(&[PLAIN, ROOT, PLAIN]), Ok(()));
        assert_eq!(decide(SafetyLevel::Unsafe, [OVER]), Ok(()));
    }
    const ROOT: NodeFacts = NodeFacts {
        is_reach_root: true,
        ..PLAIN
    };
    const MOD: NodeFacts = NodeFacts {
        is_mod_node: true,
        ..PLAIN
    };
    const UI: NodeFacts = NodeFacts {
        is_own_ui: true,
        ..PLAIN
    };
    const INTERNAL: NodeFacts = NodeFacts {
        is_internal: true,
        ..PLAIN
    };

    fn safe(chain: &[NodeFacts]) -> Result<(), Outside> {
        decide(SafetyLevel::Safe, chain.iter().copied())
    }

    #[test]
    fn the_reach_root_and_everything_under_it_are_inside() {
        assert_eq!(safe(&[ROOT, PLAIN]), Ok(()));
        assert_eq!(safe(&[PLAIN, PLAIN, ROOT, PLAIN]), Ok(()));
    }

    #[test]
    fn the_mod_node_and_its_subtree_are_inside_wherever_the_reach_root_is() {
        assert_eq!(safe(&[MOD, PLAIN]), Ok(()));
        assert_eq!(safe(&[PLAIN, MOD, PLAIN, PLAIN]), Ok(()));
    }

    #[test]
    fn a_node_above_or_beside_the_roots_is_outside() {
        // The tree's root itself, a sibling of the scene (an autoload), an orphan.
        assert_eq!(safe(&[PLAIN]), Err(Outside::NotUnder));
        assert_eq!(safe(&[PLAIN, PLAIN]), Err(Outside::NotUnder));
        assert_eq!(safe(&[]), Err(Outside::NotUnder));
    }

    #[test]
    fn wasgo_ui_is_outside_even_under_the_reach_root() {
        assert_eq!(safe(&[UI, ROOT]), Err(Outside::OwnUi));
        assert_eq!(safe(&[PLAIN, PLAIN, UI, PLAIN, ROOT]), Err(Outside::OwnUi));
    }

    #[test]
    fn internal_children_below_the_roots_are_outside() {
        assert_eq!(safe(&[INTERNAL, ROOT]), Err(Outside::Internal));
        assert_eq!(safe(&[PLAIN, INTERNAL, PLAIN, MOD]), Err(Outside::Internal));
    }

    #[test]
    fn a_root_that_is_itself_an_internal_child_is_still_inside() {
        let internal_root = NodeFacts {
            is_internal: true,
            ..ROOT
        };
        assert_eq!(safe(&[PLAIN, internal_root, INTERNAL]), Ok(()));
    }

    #[test]
    fn level_three_reaches_everything() {
        for chain in [vec![PLAIN], vec![UI, ROOT], vec![INTERNAL, MOD], vec![]] {
            assert_eq!(decide(SafetyLevel::Unsafe, chain), Ok(()));
        }
        assert_eq!(
            decide(SafetyLevel::Wrapped, [PLAIN]),
            Err(Outside::NotUnder)
        );
    }

    #[test]
    fn a_chain_deeper_than_the_limit_is_outside_and_says_so() {
        let deep = std::iter::repeat_n(PLAIN, MAX_DEPTH).chain([ROOT]);
        assert_eq!(
            decide(SafetyLevel::Safe, deep.clone()),
            Err(Outside::NotUnder)
        );
        assert_eq!(
            decide_walk(SafetyLevel::Safe, deep, || false),
            Err(Outside::TooDeep)
        );
        assert_eq!(
            decide_walk(SafetyLevel::Safe, [PLAIN], || true),
            Err(Outside::NotUnder)
        );
        assert_eq!(decide_walk(SafetyLevel::Safe, [ROOT], || false), Ok(()));
    }

    #[test]
    fn above_the_roots_the_walk_looks_only_for_a_layer_over_the_windows() {
        let mut seen = 0;
        let chain = [PLAIN, ROOT, UI, INTERNAL, PLAIN]
            .into_iter()
            .inspect(|_| seen += 1);
        assert_eq!(decide(SafetyLevel::Safe, chain), Ok(()));
        assert_eq!(seen, 5);
    }

    #[test]
    fn every_reason_says_what_it_is() {
        for reason in [
            Outside::NotUnder,
            Outside::OwnUi,
            Outside::Internal,
            Outside::TooDeep,
            Outside::OverWindows,
        ] {
            assert!(!reason.to_string().is_empty());
        }
        assert!(Outside::NotUnder.to_string().contains("`WasmScript.reach`"));
    }
}
