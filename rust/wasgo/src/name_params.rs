//! Which method parameters and properties of an engine class take a name (a `StringName` or a
//! `NodePath`), so that a mod's `String` given there is held to the rule for names
//! ([`wasgo_core::text::refused_char`]): Godot turns it into a name and, when the call fails,
//! copies it into its log as it is (`Input.is_action_pressed("x\n...")` printed
//! `The InputMap action "x` and then a line of the mod's own; `AnimatedSprite2D.animation` set to
//! an unknown name logs it the same way). Main thread only.

use godot::classes::ClassDb;
use godot::prelude::*;
use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::rc::Rc;
use wasgo_core::variant::WireVariant;
use wasgo_core::ObjectError;

/// The most classes whose tables are kept; past it the table starts afresh (the classes a mod
/// reaches are bounded by the game's, so this is never reached in practice).
const MAX_CLASSES: usize = 1024;

/// What one class takes names in, as ClassDB declares it (its own members and its ancestors').
#[derive(Default)]
struct ClassNames {
    /// Per method: for each parameter, whether it takes a name.
    methods: HashMap<String, Rc<[bool]>>,
    /// The properties whose type is a name.
    properties: HashSet<String>,
}

thread_local! {
    static KEPT: RefCell<HashMap<StringName, Rc<ClassNames>>> = RefCell::new(HashMap::new());
}

/// Whether a member's `type` (a Variant type) is a name's.
fn is_name_type(member: &VarDictionary) -> bool {
    let ty = member
        .get("type")
        .and_then(|t| t.try_to::<i64>().ok())
        .unwrap_or(0);
    ty == VariantType::STRING_NAME.ord() as i64 || ty == VariantType::NODE_PATH.ord() as i64
}

/// The table of `class`, made once from ClassDB's method and property lists (a class ClassDB
/// does not know has an empty one: its members are taken as texts).
fn class_names(class: &StringName) -> Rc<ClassNames> {
    if let Some(kept) = KEPT.with_borrow(|kept| kept.get(class).cloned()) {
        return kept;
    }
    let db = ClassDb::singleton();
    let mut names = ClassNames::default();
    for method in db
        .class_get_method_list_ex(class)
        .no_inheritance(false)
        .done()
        .iter_shared()
    {
        let Some(name) = method.get("name") else {
            continue;
        };
        // `Array[Dictionary]`: a typed array, which an untyped one does not convert from.
        let flags: Rc<[bool]> = method
            .get("args")
            .and_then(|args| args.try_to::<Array<VarDictionary>>().ok())
            .map(|args| args.iter_shared().map(|arg| is_name_type(&arg)).collect())
            .unwrap_or_default();
        names.methods.insert(name.to_string(), flags);
    }
    for property in db
        .class_get_property_list_ex(class)
        .no_inheritance(false)
        .done()
        .iter_shared()
    {
        if is_name_type(&property) {
            if let Some(name) = property.get("name") {
                names.properties.insert(name.to_string());
            }
        }
    }
    let names = Rc::new(names);
    KEPT.with_borrow_mut(|kept| {
        if kept.len() >= MAX_CLASSES {
            kept.clear();
        }
        kept.insert(class.clone(), names.clone());
    });
    names
}

/// Whether property `name` of `class` takes a name (asked once per cached property entry).
pub fn property_takes_name(class: &StringName, name: &str) -> bool {
    class_names(class).properties.contains(name)
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
    let names = class_names(class);
    let Some(params) = names.methods.get(method) else {
        return Ok(());
    };
    for (i, arg) in args.iter().enumerate() {
        let WireVariant::String(text) = arg else {
            continue;
        };
        if !params.get(i).copied().unwrap_or(false) {
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
