//! Which method parameters and properties of an engine class take a name (a `StringName` or a
//! `NodePath`), so that a mod's `String` given there is held to the rule for names
//! ([`wasgo_core::text::refused_char`]): Godot turns it into a name and, when the call fails,
//! copies it into its log as it is (`Input.is_action_pressed("x\n...")` printed
//! `The InputMap action "x` and then a line of the mod's own; `AnimatedSprite2D.animation` set to
//! an unknown name logs it the same way). And which take a text at all (a name or a `String`),
//! so that an array or a dictionary is not given there: a release build of Godot converts an
//! argument to its parameter's type unchecked, and turns a container into the text of all its
//! elements, past every text range (a range counts an array's elements). Main thread only.

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

/// What one class takes names and texts in, as ClassDB declares it (its own members and its
/// ancestors').
#[derive(Default)]
struct ClassNames {
    /// Per method: what each parameter takes.
    methods: HashMap<String, Rc<[Takes]>>,
    /// The properties whose type is a name.
    properties: HashSet<String>,
    /// The properties whose type is a text (a name or a `String`).
    texts: HashSet<String>,
    /// The properties that may hold an object: typed as one, or as any Variant.
    objects: HashSet<String>,
    /// Every property ClassDB lists for the class.
    listed: HashSet<String>,
}

/// What a parameter or property takes, of the kinds this module looks at.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Takes {
    /// A `StringName` or a `NodePath`.
    Name,
    /// A `String`.
    Text,
    Other,
}

thread_local! {
    static KEPT: RefCell<HashMap<StringName, Rc<ClassNames>>> = RefCell::new(HashMap::new());
}

/// What a member of type `type` (a Variant type) takes.
fn takes(member: &VarDictionary) -> Takes {
    let ty = member
        .get("type")
        .and_then(|t| t.try_to::<i64>().ok())
        .unwrap_or(0);
    if ty == VariantType::STRING_NAME.ord() as i64 || ty == VariantType::NODE_PATH.ord() as i64 {
        Takes::Name
    } else if ty == VariantType::STRING.ord() as i64 {
        Takes::Text
    } else {
        Takes::Other
    }
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
        let flags: Rc<[Takes]> = method
            .get("args")
            .and_then(|args| args.try_to::<Array<VarDictionary>>().ok())
            .map(|args| args.iter_shared().map(|arg| takes(&arg)).collect())
            .unwrap_or_default();
        names.methods.insert(name.to_string(), flags);
    }
    for property in db
        .class_get_property_list_ex(class)
        .no_inheritance(false)
        .done()
        .iter_shared()
    {
        if let Some(name) = property.get("name") {
            names.listed.insert(name.to_string());
        }
        let ty = property
            .get("type")
            .and_then(|t| t.try_to::<i64>().ok())
            .unwrap_or(0);
        if ty == VariantType::OBJECT.ord() as i64 || ty == VariantType::NIL.ord() as i64 {
            if let Some(name) = property.get("name") {
                names.objects.insert(name.to_string());
            }
        }
        let kind = takes(&property);
        if kind == Takes::Other {
            continue;
        }
        if let Some(name) = property.get("name") {
            if kind == Takes::Name {
                names.properties.insert(name.to_string());
            }
            names.texts.insert(name.to_string());
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

/// Whether property `name` of `class` takes a text (a `String`, `StringName` or `NodePath`;
/// asked once per cached property entry).
pub fn property_takes_text(class: &StringName, name: &str) -> bool {
    class_names(class).texts.contains(name)
}

/// Whether property `name` of `class` may hold an object: ClassDB types it as an object or as
/// any Variant. A property ClassDB does not list (a script's, metadata) may hold anything.
pub fn property_may_hold_object(class: &StringName, name: &str) -> bool {
    let names = class_names(class);
    names.objects.contains(name) || !names.listed.contains(name)
}

/// The -3 for an array, a packed array or a dictionary given to `what`, a member that takes a
/// text (below level 3): Godot would turn it into the text of all its elements, which no text
/// range measures.
pub fn container_to_text_refusal(what: &str) -> ObjectError {
    ObjectError::failed(
        wasgo_catalog::ErrorCode::InvalidArgument.code(),
        format!(
            "{what} takes a text: pass a String, not an array or a dictionary (Godot would turn it into the text of all its elements, past every limit on texts)"
        ),
    )
}

/// The -3 for an argument of `class.method` that a parameter taking a text may not take (below
/// level 3): a `String` holding a character names may not, given to a parameter that takes a
/// name (StringName and NodePath arguments, and the control characters of any text, are
/// refused before the call reaches the glue: `wasgo_core::objects::ObjectOp::hidden_text`);
/// an array, a packed array or a dictionary given to any parameter that takes a text
/// ([`container_to_text_refusal`]).
pub fn refuse_bad_text_args(
    class: &StringName,
    method: &str,
    args: &[WireVariant],
) -> Result<(), ObjectError> {
    if !args
        .iter()
        .any(|a| matches!(a, WireVariant::String(_)) || wasgo_core::variant::is_container(a))
    {
        return Ok(());
    }
    let names = class_names(class);
    let Some(params) = names.methods.get(method) else {
        return Ok(());
    };
    for (i, arg) in args.iter().enumerate() {
        let takes = params.get(i).copied().unwrap_or(Takes::Other);
        if takes == Takes::Other {
            continue;
        }
        if wasgo_core::variant::is_container(arg) {
            return Err(container_to_text_refusal(&format!(
                "argument {} of `wasgo.call` `{class}.{method}`",
                i + 1
            )));
        }
        let (WireVariant::String(text), Takes::Name) = (arg, takes) else {
            continue;
        };
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
