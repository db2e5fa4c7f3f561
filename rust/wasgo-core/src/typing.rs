//! What the player types is the player's: the rules that keep a mod below level 3 from reading a
//! password field or logging keys, decided here; the glue answers the two questions only Godot
//! can (is a text field focused? is this `LineEdit` secret?).
//!
//! - **While the player types** (a `LineEdit` or `TextEdit` has the keyboard focus, in any
//!   window or viewport),
//!   the `Input` singleton's keyboard and action queries answer "nothing pressed" to mods
//!   ([`quiet_input_answer`]): polling `is_key_pressed` every frame would otherwise spell out
//!   what the player types, and `is_action_pressed` what the game maps to letters. Mouse and
//!   joypad queries are untouched.
//! - **The focus stays where the player put it**: `grab_focus` and `release_focus` are refused
//!   on every text field (a mod cannot make one, so any is the game's) and on any control while
//!   the player types ([`moves_focus`]), so a mod cannot move the player's keystrokes from a
//!   password field into a field it can read (also not by hiding the field first, which drops
//!   its focus). Whether a field is editable does not matter (a mod may change `editable`).
//! - **Key events** (`input` export, when the game turns input events on) are not delivered while
//!   the player types: a text field does not take key releases, which would spell out the text.
//! - **A secret field's text is never the mod's**: on a `LineEdit` whose `secret` is on, reading
//!   or writing the text is refused ([`is_secret_text_member`]), and its `text_changed` /
//!   `text_submitted` signals reach the mod's callbacks with the text left empty
//!   ([`blank_secret_text`]).

use crate::variant::{Vector2, WireVariant};

/// The classes whose focus means the player is typing (subclasses included: `CodeEdit`).
pub const TEXT_FIELD_CLASSES: [&str; 2] = ["LineEdit", "TextEdit"];

/// What an `Input` query answers a mod while the player types: "nothing pressed", in the type
/// the method returns; `None` for a query that is not about the keyboard or actions (mouse
/// buttons, joypads, the mouse's velocity), which answers as usual.
pub fn quiet_input_answer(method: &str) -> Option<WireVariant> {
    match method {
        "is_key_pressed"
        | "is_physical_key_pressed"
        | "is_key_label_pressed"
        | "is_anything_pressed"
        | "is_action_pressed"
        | "is_action_just_pressed"
        | "is_action_just_released" => Some(WireVariant::Bool(false)),
        "get_action_strength" | "get_action_raw_strength" | "get_axis" => {
            Some(WireVariant::Float(0.0))
        }
        "get_vector" => Some(WireVariant::Vector2(Vector2::new(0.0, 0.0))),
        _ => None,
    }
}

/// Whether a `Control` method moves the keyboard focus (refused while the player types).
pub fn moves_focus(method: &str) -> bool {
    matches!(method, "grab_focus" | "release_focus")
}

/// The message of a refused focus move.
pub fn focus_refusal(method: &str) -> String {
    format!(
        "`Control.{method}` refused: the player is typing in a text field, and a mod may not move the keyboard focus away from it; try again once the field lost the focus (`focus_exited`)"
    )
}

/// Whether a `LineEdit` member reads or writes its text (refused while `secret` is on).
pub fn is_secret_text_member(member: &[u8]) -> bool {
    matches!(
        member,
        // Properties: the text, how much of it there may be (shortening it cuts the player's
        // password), where the caret is (its length).
        b"text"
            | b"max_length"
            | b"caret_column"
            // Methods a game may open: each reads, changes or measures the text.
            | b"get_text"
            | b"set_text"
            | b"get_selected_text"
            | b"insert_text_at_caret"
            | b"delete_text"
            | b"delete_char_at_caret"
            | b"clear"
            | b"menu_option"
            | b"select"
            | b"select_all"
            | b"deselect"
            | b"has_selection"
            | b"get_selection_from_column"
            | b"get_selection_to_column"
            | b"get_caret_column"
            | b"set_caret_column"
            | b"set_max_length"
            | b"get_max_length"
    )
}

/// Whether a member hides a node or takes its focus away when set or called (`hide`, `visible`,
/// `focus_mode`, `process_mode`): on the text field the player types in, or a node above it,
/// Godot ends the typing (a hidden control loses the focus, and showing it again does not give
/// it back), and the keys typed next (the rest of a password) reached the mod. Refused there
/// while the player types.
pub fn ends_focus(member: &[u8]) -> bool {
    matches!(
        member,
        b"hide"
            | b"visible"
            | b"set_visible"
            | b"focus_mode"
            | b"set_focus_mode"
            | b"process_mode"
            | b"set_process_mode"
    )
}

/// The message of a refused [`ends_focus`] member.
pub fn ends_focus_refusal(member: &str) -> String {
    format!(
        "`{member}` refused: the player is typing in a text field under this node, and below level 3 a mod may not hide it or take its focus away (the keys typed next would reach the mod); try again once the field lost the focus (`focus_exited`)"
    )
}

/// The message of a refused focus move into a text field.
pub fn field_focus_refusal(method: &str) -> String {
    format!(
        "`Control.{method}` refused on a text field: below level 3 a mod never moves the keyboard focus into or out of the game's `LineEdit`/`TextEdit` (the player's keystrokes would land where the mod reads them)"
    )
}

/// The message of a refused read or write of a secret field's text.
pub fn secret_refusal(member: &str) -> String {
    format!(
        "`LineEdit.{member}` refused: the field's `secret` is on (a password or other secret the player types), and its text is never a mod's to read or change"
    )
}

/// The signals whose arguments carry a `LineEdit`'s text.
pub fn carries_text(signal: &str) -> bool {
    matches!(
        signal,
        "text_changed" | "text_submitted" | "text_change_rejected"
    )
}

/// A secret field's signal arguments as a mod gets them: every text emptied, the rest kept.
pub fn blank_secret_text<V>(args: &mut [V], is_text: impl Fn(&V) -> bool, empty: impl Fn() -> V) {
    for arg in args.iter_mut() {
        if is_text(arg) {
            *arg = empty();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_that_hide_a_node_or_take_its_focus_are_named() {
        for m in [
            "hide",
            "visible",
            "set_visible",
            "focus_mode",
            "process_mode",
        ] {
            assert!(ends_focus(m.as_bytes()), "{m}");
        }
        for m in ["show", "position", "modulate", "visible_ratio", "text"] {
            assert!(!ends_focus(m.as_bytes()), "{m}");
        }
        assert!(ends_focus_refusal("hide").contains("typing"));
    }

    #[test]
    fn keyboard_and_action_queries_answer_nothing_pressed() {
        for m in [
            "is_key_pressed",
            "is_physical_key_pressed",
            "is_action_pressed",
        ] {
            assert_eq!(quiet_input_answer(m), Some(WireVariant::Bool(false)), "{m}");
        }
        assert_eq!(
            quiet_input_answer("get_axis"),
            Some(WireVariant::Float(0.0))
        );
        assert_eq!(
            quiet_input_answer("get_vector"),
            Some(WireVariant::Vector2(Vector2::new(0.0, 0.0)))
        );
        // The mouse and joypads are not what the player types with.
        for m in [
            "is_mouse_button_pressed",
            "is_joy_button_pressed",
            "get_joy_axis",
            "get_last_mouse_velocity",
            "get_connected_joypads",
        ] {
            assert_eq!(quiet_input_answer(m), None, "{m}");
        }
    }

    #[test]
    fn secret_members_and_signals() {
        assert!(is_secret_text_member(b"text"));
        assert!(is_secret_text_member(b"get_selected_text"));
        assert!(is_secret_text_member(b"max_length"));
        assert!(field_focus_refusal("grab_focus").contains("text field"));
        assert!(!is_secret_text_member(b"placeholder_text"));
        assert!(!is_secret_text_member(b"secret"));
        assert!(carries_text("text_submitted"));
        assert!(!carries_text("focus_entered"));
        assert!(moves_focus("grab_focus") && moves_focus("release_focus"));
        assert!(!moves_focus("has_focus"));
        let mut mixed: Vec<Result<String, i32>> = vec![Ok("hunter2".into()), Err(3)];
        blank_secret_text(&mut mixed, |v| v.is_ok(), || Ok(String::new()));
        assert_eq!(mixed, vec![Ok(String::new()), Err(3)]);
        assert!(focus_refusal("grab_focus").contains("typing"));
        assert!(secret_refusal("text").contains("secret"));
    }
}
