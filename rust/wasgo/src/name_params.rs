//! Which parameters of an engine method take a name (a `StringName` or a `NodePath`), so that a
//! mod's `String` argument there is held to the rule for names
//! ([`wasgo_core::text::refused_char`]): Godot turns it into a name and, when the call fails,
//! copies it into its log as it is (`Input.is_action_pressed("x\n...")` printed
//! `The InputMap action "x` and then a line of the mod's own). Main thread only.

use godot::classes::ClassDb;
use godot::prelude::*;
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use wasgo_core::variant::WireVariant;
use wasgo_core::ObjectError;

/// The most (class, method) pairs whose answers are kept; past it the table starts afresh (the
/// pairs a mod can call are bounded by the allowlist, so this is never reached in practice).
const MAX_KEPT: usize = 4096;

/// Per class and method: for each parameter, whether it takes a name.
type Kept = HashMap<(StringName, String), Rc<[bool]>>;

thread_local! {
    static KEPT: RefCell<Kept> = RefCell::new(HashMap::new());
}

/// For each parameter of `class.method` as ClassDB declares it (the class's own or an
/// ancestor's), whether it takes a `StringName` or a `NodePath`; empty for a method ClassDB does
/// not know (a script's: its parameters are taken as texts).
fn name_params(class: &StringName, method: &str) -> Rc<[bool]> {
    let key = (class.clone(), method.to_string());
    if let Some(kept) = KEPT.with_borrow(|kept| kept.get(&key).cloned()) {
        return kept;
    }
    let list = ClassDb::singleton()
        .class_get_method_list_ex(class)
        .no_inheritance(false)
        .done();
    let flags: Rc<[bool]> = list
        .iter_shared()
        .find(|m| m.get("name").is_some_and(|n| n.to_string() == method))
        .and_then(|m| m.get("args"))
        // `Array[Dictionary]`: a typed array, which an untyped one does not convert from.
        .and_then(|args| args.try_to::<Array<VarDictionary>>().ok())
        .map(|args| {
            args.iter_shared()
                .map(|arg| {
                    let ty = arg
                        .get("type")
                        .and_then(|t| t.try_to::<i64>().ok())
                        .unwrap_or(0);
                    ty == VariantType::STRING_NAME.ord() as i64
                        || ty == VariantType::NODE_PATH.ord() as i64
                })
                .collect()
        })
        .unwrap_or_default();
    KEPT.with_borrow_mut(|kept| {
        if kept.len() >= MAX_KEPT {
            kept.clear();
        }
        kept.insert(key, flags.clone());
    });
    flags
}

/// The -3 for a `String` argument of `class.method` given to a parameter that takes a name, when
/// it holds a character names may not (below level 3; StringName and NodePath arguments, and
/// the control characters of any text, are refused before the call reaches the glue:
/// `wasgo_core::objects::ObjectOp::hidden_text`).
pub fn refuse_hidden_name_args(
    class: &StringName,
    method: &str,
    args: &[WireVariant],
) -> Result<(), ObjectError> {
    if !args.iter().any(|a| matches!(a, WireVariant::String(_))) {
        return Ok(());
    }
    let names = name_params(class, method);
    for (i, arg) in args.iter().enumerate() {
        let WireVariant::String(text) = arg else {
            continue;
        };
        if !names.get(i).copied().unwrap_or(false) {
            continue;
        }
        let what = || {
            format!(
                "argument {} of `wasgo.call` `{class}.{method}` (a name)",
                i + 1
            )
        };
        if let Some(refused) = wasgo_core::objects::hidden_text_refusal(text, true, what) {
            return Err(refused);
        }
    }
    Ok(())
}
