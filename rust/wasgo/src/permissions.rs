//! Grants kept between runs (`user://wasgo/permissions.cfg`) and the dialog WasGo shows when a
//! mod asks for a permission and the game handles no `permission_requested`.

use crate::script::WasmScript;
use crate::settings;
use godot::classes::{ConfirmationDialog, DisplayServer};
use godot::prelude::*;
use parking_lot::Mutex;
use wasgo_core::grants::GrantStore;

/// Where grants are saved.
pub const GRANTS_FILE: &str = "user://wasgo/permissions.cfg";

static STORE: Mutex<Option<GrantStore>> = Mutex::new(None);

fn with_store<R>(f: impl FnOnce(&mut GrantStore) -> R) -> R {
    let mut slot = STORE.lock();
    let store = slot.get_or_insert_with(|| {
        let (store, problem) = GrantStore::open(settings::globalize(GRANTS_FILE).into());
        if let Some(problem) = problem {
            godot_warn!("WasGo: {problem}; starting with no saved grants");
        }
        store
    });
    f(store)
}

/// The kinds saved for `mod_id`.
pub fn saved(mod_id: &str) -> Vec<String> {
    with_store(|s| s.kinds(mod_id))
}

/// Saves a grant (warning when the file cannot be written; the grant holds for this run).
pub fn save(mod_id: &str, kind: &str) {
    if let Err(e) = with_store(|s| s.grant(mod_id, kind)) {
        godot_warn!("WasGo: {e}");
    }
}

/// Removes a saved grant.
pub fn forget(mod_id: &str, kind: &str) {
    if let Err(e) = with_store(|s| s.revoke(mod_id, kind)) {
        godot_warn!("WasGo: {e}");
    }
}

/// Drops the in-memory copy (extension shutdown); the next use reads the file again.
pub fn close() {
    STORE.lock().take();
}

/// Whether WasGo can show a window (false in `--headless` runs).
pub fn has_display() -> bool {
    DisplayServer::singleton().get_name() != "headless"
}

/// What a permission lets a mod do, for the dialog.
fn power(kind: &str, mod_id: &str) -> String {
    match kind {
        "files" => format!("read and write files in its own folder (user://mods/{mod_id}/)"),
        "network" => "send HTTP requests to the web addresses this game allows".into(),
        other => format!("use the `{other}` permission"),
    }
}

/// A dialog asking the player whether mod `mod_id` may have `kind`; the answer goes to the
/// `WasmScript` `script` ([`WasmScript::answer_permission_dialog`]) and the dialog frees itself.
/// The caller adds it to the tree and pops it up.
pub fn dialog(script: InstanceId, mod_id: &str, kind: &str) -> Gd<ConfirmationDialog> {
    let mut dialog = ConfirmationDialog::new_alloc();
    dialog.set_title("Mod permission");
    dialog.set_text(&format!(
        "The mod \u{201c}{mod_id}\u{201d} asks for permission to {}.\n\nAllow it?",
        power(kind, mod_id)
    ));
    dialog.set_ok_button_text("Allow");
    dialog.set_cancel_button_text("Deny");
    dialog.set_exclusive(false);
    let dialog_id = dialog.instance_id();
    for (signal, allowed) in [("confirmed", true), ("canceled", false)] {
        let kind = kind.to_string();
        let answer = Callable::from_fn("wasgo_permission_answer", move |_args: &[&Variant]| {
            if let Ok(mut node) = Gd::<WasmScript>::try_from_instance_id(script) {
                node.bind_mut().answer_permission_dialog(&kind, allowed);
            }
            if let Ok(mut d) = Gd::<ConfirmationDialog>::try_from_instance_id(dialog_id) {
                d.queue_free();
            }
        });
        dialog.connect(signal, &answer);
    }
    dialog
}
