//! The small JavaScript object model the Go-js host offers, and the value table through which Go
//! refers to its values.
//!
//! A [`JsValue`] is what a JavaScript value is to Go's `syscall/js`: `undefined`, `null`, a
//! boolean, a number, a string or an object. Objects ([`JsObject`]) are shared and mutable
//! (`Arc<Mutex<..>>`, so a store can move to the worker thread) and have a [`Class`]: a plain
//! object, an array, a `Uint8Array`, a `Date`, a native function of the host, a function wrapped
//! around a Go `js.FuncOf` callback, or a handle of a Godot object.
//!
//! [`ValueTable`] is `wasm_exec.js`'s `_values`, `_goRefCounts`, `_ids` and `_idPool`: Go holds a
//! value as a NaN-boxed 64-bit reference (`0x7FF8_0000 | type flag` in the high word, the table
//! id in the low word; numbers other than 0 and NaN as plain floats; `undefined` as 0); storing
//! the same object or string again reuses its id and counts the reference, and `finalizeRef`
//! frees the id when Go's count drops to zero. Ids 0..=6 are the predefined NaN, 0, null, true,
//! false, the global object and the Go object, never freed.

use parking_lot::Mutex;
use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Weak};

use super::native::Native;
use super::shapes::Shape;

/// A JavaScript value.
#[derive(Clone, Debug, Default)]
pub enum JsValue {
    #[default]
    Undefined,
    Null,
    Bool(bool),
    Number(f64),
    String(Arc<str>),
    Object(JsRef),
}

/// Outcome of a JavaScript call: `Ok(value)` or `Err(thrown)`.
pub type JsResult = Result<JsValue, JsValue>;

/// An `Error` with `message` and, when given, `code` (what `wasm_exec.js`'s `enosys()` makes).
pub fn error(message: &str, code: Option<&str>) -> JsValue {
    error_with(JsValue::str(message), code)
}

/// An `Error` whose `message` is `message` (a string value shares its text).
pub(super) fn error_with(message: JsValue, code: Option<&str>) -> JsValue {
    let o = JsRef::new(Class::Error);
    o.set("message", message);
    if let Some(c) = code {
        o.set("code", JsValue::str(c));
    }
    JsValue::Object(o)
}

/// A shared, mutable object.
#[derive(Clone)]
pub struct JsRef(pub Arc<Mutex<JsObject>>);

impl std::fmt::Debug for JsRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "JsRef({:?})", self.0.lock().class)
    }
}

/// What kind of object a [`JsObject`] is.
#[derive(Debug, Clone)]
pub enum Class {
    Plain,
    Array(Vec<JsValue>),
    Bytes(Vec<u8>),
    /// Milliseconds since the Unix epoch.
    Date(f64),
    /// A function implemented by the host.
    Native(Native),
    /// A wrapper made by `_makeFuncWrapper(id)` around Go's `js.FuncOf` callback `id`.
    GoFunc(f64),
    /// A Godot object, as the mod's handle.
    Handle(i32),
    /// A Godot value type made of numbers (`Vector2`, `Color`, `Transform2D`, ...): see
    /// [`shapes`](super::shapes).
    Typed(Shape),
    /// An `Error` (what `new Error(message)` and the host's own failures make): an object with
    /// its `message` (and `code`) as properties that is `instanceof Error`.
    Error,
}

/// A [`Class`] without its contents: what dispatching on an object needs, without copying an
/// array or byte buffer of millions of entries.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kind {
    Plain,
    Array,
    Bytes,
    Date(f64),
    Native(Native),
    GoFunc(f64),
    Handle(i32),
    Typed(Shape),
    Error,
}

impl Class {
    pub fn kind(&self) -> Kind {
        match self {
            Class::Plain => Kind::Plain,
            Class::Array(_) => Kind::Array,
            Class::Bytes(_) => Kind::Bytes,
            Class::Date(ms) => Kind::Date(*ms),
            Class::Native(n) => Kind::Native(*n),
            Class::GoFunc(id) => Kind::GoFunc(*id),
            Class::Handle(h) => Kind::Handle(*h),
            Class::Typed(shape) => Kind::Typed(*shape),
            Class::Error => Kind::Error,
        }
    }
}

/// An object: its class and its own properties.
#[derive(Debug)]
pub struct JsObject {
    pub class: Class,
    pub props: BTreeMap<String, JsValue>,
}

impl JsObject {
    /// Takes the object's properties and elements out (see [`drop_values`] and [`super::heap`]).
    pub(super) fn take_contents(&mut self) -> Vec<JsValue> {
        let mut contents: Vec<JsValue> = std::mem::take(&mut self.props).into_values().collect();
        if let Class::Array(items) = &mut self.class {
            contents.append(items);
        }
        contents
    }
}

impl Drop for JsObject {
    /// Frees the contents iteratively: a deep chain of objects would otherwise be dropped one
    /// stack frame per level.
    fn drop(&mut self) {
        let contents = self.take_contents();
        if !contents.is_empty() {
            drop_values(contents);
        }
    }
}

impl JsRef {
    /// A new object, registered in the heap of the instance running on this thread.
    pub fn new(class: Class) -> JsRef {
        let cell = Arc::new(Mutex::new(JsObject {
            class,
            props: BTreeMap::new(),
        }));
        Heap::register(&cell);
        JsRef(cell)
    }

    pub fn ptr(&self) -> usize {
        Arc::as_ptr(&self.0) as usize
    }

    pub fn set(&self, name: &str, v: JsValue) {
        self.0.lock().props.insert(name.to_string(), v);
    }

    pub fn get_own(&self, name: &str) -> JsValue {
        self.0.lock().props.get(name).cloned().unwrap_or_default()
    }
}

impl JsValue {
    pub fn str(s: &str) -> JsValue {
        JsValue::String(Arc::from(s))
    }

    pub fn object(class: Class) -> JsValue {
        JsValue::Object(JsRef::new(class))
    }

    /// A plain object with `props`.
    pub fn plain(props: &[(&str, JsValue)]) -> JsValue {
        let o = JsRef::new(Class::Plain);
        for (k, v) in props {
            o.set(k, v.clone());
        }
        JsValue::Object(o)
    }

    pub fn array(items: Vec<JsValue>) -> JsValue {
        JsValue::object(Class::Array(items))
    }

    /// The kind of object this is; `None` for a primitive.
    pub fn kind(&self) -> Option<Kind> {
        self.as_object().map(|o| o.0.lock().class.kind())
    }

    pub fn as_object(&self) -> Option<&JsRef> {
        match self {
            JsValue::Object(o) => Some(o),
            _ => None,
        }
    }

    pub fn is_function(&self) -> bool {
        matches!(self.kind(), Some(Kind::Native(_) | Kind::GoFunc(_)))
    }

    /// Whether this is a function the Go program made (`js.FuncOf`), not one of the host's
    /// (`Object`, `Array`, `Date`, ...): what a game may call as the program's export.
    pub fn is_go_function(&self) -> bool {
        matches!(self.kind(), Some(Kind::GoFunc(_)))
    }

    /// `Number(v)`, for the values a program passes where JavaScript expects a number.
    pub fn to_number(&self) -> f64 {
        match self {
            JsValue::Number(n) => *n,
            JsValue::Bool(b) => f64::from(u8::from(*b)),
            JsValue::Null => 0.0,
            JsValue::String(s) => s.trim().parse().unwrap_or(f64::NAN),
            _ => f64::NAN,
        }
    }

    pub fn truthy(&self) -> bool {
        match self {
            JsValue::Undefined | JsValue::Null => false,
            JsValue::Bool(b) => *b,
            JsValue::Number(n) => *n != 0.0 && !n.is_nan(),
            JsValue::String(s) => !s.is_empty(),
            JsValue::Object(_) => true,
        }
    }

    /// `String(v)`, or `None` when the text would be longer than `max` bytes (a program can make
    /// an array whose text is terabytes: a million references to one large string). The text is
    /// built once and stops growing at `max`.
    pub fn to_js_string_within(&self, max: usize) -> Option<String> {
        let mut out = String::new();
        self.push_js_string(&mut out, max).then_some(out)
    }

    /// Appends `String(v)` to `out`; false (and `out` unfinished) once it would pass `max` bytes.
    fn push_js_string(&self, out: &mut String, max: usize) -> bool {
        let push = |out: &mut String, s: &str| push_within(out, s, max);
        match self {
            JsValue::Undefined => push(out, "undefined"),
            JsValue::Null => push(out, "null"),
            JsValue::Bool(b) => push(out, if *b { "true" } else { "false" }),
            JsValue::Number(n) => push(out, &number_to_string(*n)),
            JsValue::String(s) => push(out, s),
            JsValue::Object(o) => {
                let obj = o.0.lock();
                match &obj.class {
                    Class::Array(items) => push_joined(items, ",", out, max, &mut JoinWalk::of(o)),
                    Class::Bytes(b) => {
                        let mut digits = [0u8; 3];
                        b.iter().enumerate().all(|(i, x)| {
                            (i == 0 || push(out, ",")) && push(out, byte_text(*x, &mut digits))
                        })
                    }
                    Class::Native(_) | Class::GoFunc(_) => {
                        push(out, "function () { [native code] }")
                    }
                    // `String(new Error(m))`: "Error: m", or "Error" for an empty message.
                    Class::Error => match obj.props.get("message") {
                        Some(JsValue::String(m)) if !m.is_empty() => {
                            push(out, "Error: ") && push(out, m)
                        }
                        _ => push(out, "Error"),
                    },
                    _ => push(out, "[object Object]"),
                }
            }
        }
    }

    /// The type flag of the NaN box: 0 none, 1 object, 2 string, 4 function.
    fn type_flag(&self) -> u32 {
        match self {
            JsValue::String(_) => 2,
            JsValue::Object(_) if self.is_function() => 4,
            JsValue::Object(_) => 1,
            _ => 0,
        }
    }
}

/// The decimal text of `x`, in `buf`.
fn byte_text(x: u8, buf: &mut [u8; 3]) -> &str {
    let mut start = 3;
    let mut x = x;
    loop {
        start -= 1;
        buf[start] = b'0' + x % 10;
        x /= 10;
        if x == 0 {
            break;
        }
    }
    std::str::from_utf8(&buf[start..]).unwrap_or_default()
}

/// JavaScript's number-to-string (ECMAScript's `Number::toString` in base 10): the shortest
/// digits that read back as `n`, written positionally for exponents from -6 to 20 and with an
/// exponent otherwise (`1e+21`, `1e-7`, `1152921504606847000` for 2^60, `0` for -0).
pub fn number_to_string(n: f64) -> String {
    if n.is_nan() {
        return "NaN".into();
    }
    if n.is_infinite() {
        return if n > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    if n == 0.0 {
        return "0".into();
    }
    if n < 0.0 {
        return format!("-{}", number_to_string(-n));
    }
    // Rust's `{:e}` gives the shortest round-trip digits: `d.ddde±x`.
    let sci = format!("{n:e}");
    let (mantissa, exponent) = sci.split_once('e').unwrap_or((&sci, "0"));
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let k = digits.len() as i64;
    // The value is 0.digits x 10^point.
    let point = exponent.parse::<i64>().unwrap_or(0) + 1;
    if k <= point && point <= 21 {
        format!("{digits}{}", "0".repeat((point - k) as usize))
    } else if 0 < point && point <= 21 {
        let (int, frac) = digits.split_at(point as usize);
        format!("{int}.{frac}")
    } else if -6 < point && point <= 0 {
        format!("0.{}{digits}", "0".repeat((-point) as usize))
    } else {
        let e = point - 1;
        let sign = if e < 0 { '-' } else { '+' };
        let (first, rest) = digits.split_at(1);
        if rest.is_empty() {
            format!("{first}e{sign}{}", e.abs())
        } else {
            format!("{first}.{rest}e{sign}{}", e.abs())
        }
    }
}

/// Host bytes counted for a value slot (an array element, a table entry).
pub const VALUE_BYTES: usize = std::mem::size_of::<JsValue>();
/// Host bytes counted for an object besides its contents.
pub const OBJECT_BYTES: usize = 96;
/// Host bytes counted for an object property besides its name and its share of the property
/// map's nodes ([`props_bytes`]).
pub const PROP_BYTES: usize = 64;
/// Host bytes of one node of an object's property map (a B-tree node of 11 names and values).
pub const NODE_BYTES: usize =
    11 * (std::mem::size_of::<String>() + std::mem::size_of::<JsValue>()) + 16;

/// Host bytes `count` properties of one object take, besides their names' text: a node of the
/// map for every 5 (a B-tree node is at least half full, and an object's first property takes a
/// whole node) and [`PROP_BYTES`] each. (Counted at a flat 64 bytes a property, the objects of a
/// 100,000-point `PackedVector2Array` took three times what was counted.)
pub fn props_bytes(count: usize) -> usize {
    count.div_ceil(5) * NODE_BYTES + count * PROP_BYTES
}

/// What one more property of an object that has `count` takes, besides its name's text.
pub fn new_prop_bytes(count: usize) -> usize {
    props_bytes(count + 1) - props_bytes(count)
}

const NAN_HEAD: u64 = 0x7FF8_0000;
/// At most this many values Go may hold at once; a program above it traps (it leaks values).
pub const MAX_LIVE_VALUES: usize = 1 << 20;

/// How the table recognises a value it already holds (`wasm_exec.js` keys a `Map` by the value).
#[derive(Hash, PartialEq, Eq)]
enum IdKey {
    Str(Arc<str>),
    Obj(usize),
}

/// Go's references to JavaScript values.
pub struct ValueTable {
    values: Vec<Option<JsValue>>,
    counts: Vec<u64>,
    ids: HashMap<IdKey, u32>,
    pool: Vec<u32>,
}

/// The id of the global object.
pub const GLOBAL_ID: u32 = 5;
/// The id of the Go object (`this` in `wasm_exec.js`).
pub const GO_ID: u32 = 6;

impl ValueTable {
    /// The predefined values, with `global` and `go` at ids 5 and 6.
    pub fn new(global: JsRef, go: JsRef) -> ValueTable {
        let values = vec![
            Some(JsValue::Number(f64::NAN)),
            Some(JsValue::Number(0.0)),
            Some(JsValue::Null),
            Some(JsValue::Bool(true)),
            Some(JsValue::Bool(false)),
            Some(JsValue::Object(global.clone())),
            Some(JsValue::Object(go.clone())),
        ];
        let mut ids = HashMap::new();
        ids.insert(IdKey::Obj(global.ptr()), GLOBAL_ID);
        ids.insert(IdKey::Obj(go.ptr()), GO_ID);
        ValueTable {
            counts: vec![u64::MAX; values.len()],
            values,
            ids,
            pool: Vec::new(),
        }
    }

    /// The values Go holds now.
    pub fn values(&self) -> impl Iterator<Item = &JsValue> {
        self.values.iter().flatten()
    }

    /// `loadValue`: the value a NaN-boxed reference stands for.
    pub fn load(&self, raw: u64) -> JsValue {
        let f = f64::from_bits(raw);
        if f == 0.0 {
            return JsValue::Undefined;
        }
        if !f.is_nan() {
            return JsValue::Number(f);
        }
        let id = (raw & 0xFFFF_FFFF) as usize;
        match self.values.get(id) {
            Some(Some(v)) => v.clone(),
            // `finalizeRef` leaves `null` in the slot, as `wasm_exec.js` does.
            Some(None) => JsValue::Null,
            // Past the table: `undefined`, as reading past a JavaScript array gives.
            None => JsValue::Undefined,
        }
    }

    /// `storeValue`: the NaN-boxed reference for `v`, counting Go's reference.
    ///
    /// # Errors
    /// When Go holds [`MAX_LIVE_VALUES`] values already.
    pub fn store(&mut self, v: &JsValue) -> Result<u64, String> {
        let key = match v {
            JsValue::Number(n) if *n != 0.0 => {
                if n.is_nan() {
                    return Ok(NAN_HEAD << 32);
                }
                return Ok(n.to_bits());
            }
            JsValue::Undefined => return Ok(0),
            JsValue::Number(_) => return Ok(NAN_HEAD << 32 | 1),
            JsValue::Null => return Ok(NAN_HEAD << 32 | 2),
            JsValue::Bool(true) => return Ok(NAN_HEAD << 32 | 3),
            JsValue::Bool(false) => return Ok(NAN_HEAD << 32 | 4),
            JsValue::String(s) => IdKey::Str(s.clone()),
            JsValue::Object(o) => IdKey::Obj(o.ptr()),
        };
        let id = match self.ids.get(&key) {
            Some(id) => *id,
            None => {
                let id = match self.pool.pop() {
                    Some(id) => id,
                    None => {
                        if self.values.len() >= MAX_LIVE_VALUES {
                            return Err(format!(
                                "the program holds more than {MAX_LIVE_VALUES} JavaScript values at once (release `js.Value`s and `js.Func`s it no longer needs)"
                            ));
                        }
                        self.values.push(None);
                        self.counts.push(0);
                        (self.values.len() - 1) as u32
                    }
                };
                self.values[id as usize] = Some(v.clone());
                self.counts[id as usize] = 0;
                self.ids.insert(key, id);
                id
            }
        };
        let count = &mut self.counts[id as usize];
        *count = count.saturating_add(1);
        Ok(((NAN_HEAD | u64::from(v.type_flag())) << 32) | u64::from(id))
    }

    /// Whether Go holds `v` already (storing it again adds a reference, not a value).
    pub fn holds(&self, v: &JsValue) -> bool {
        match v {
            JsValue::String(s) => self.ids.contains_key(&IdKey::Str(s.clone())),
            JsValue::Object(o) => self.ids.contains_key(&IdKey::Obj(o.ptr())),
            _ => true,
        }
    }

    /// `finalizeRef`: Go dropped one reference to `id`.
    pub fn finalize(&mut self, id: u32) {
        let i = id as usize;
        let Some(count) = self.counts.get_mut(i) else {
            return;
        };
        if *count == u64::MAX || *count == 0 {
            return;
        }
        *count -= 1;
        if *count == 0 {
            if let Some(v) = self.values[i].take() {
                let key = match &v {
                    JsValue::String(s) => IdKey::Str(s.clone()),
                    JsValue::Object(o) => IdKey::Obj(o.ptr()),
                    _ => return,
                };
                self.ids.remove(&key);
                self.pool.push(id);
            }
        }
    }

    /// How many ids are in use (for tests and stats).
    pub fn live(&self) -> usize {
        self.values.iter().filter(|v| v.is_some()).count()
    }
}

// Where objects register: every object made while an instance runs is listed in that
// instance's `Heap` (its accounting and its clearing at the end are in `super::heap`).

type Cell = Mutex<JsObject>;

/// The objects one instance's host made (see the module docs).
#[derive(Default)]
pub struct Heap {
    objects: Mutex<Objects>,
}

#[derive(Default)]
struct Objects {
    list: Vec<Weak<Cell>>,
    /// The list's length at which the references of freed objects are dropped from it next.
    compact_at: usize,
}

thread_local! {
    /// The heaps this thread has entered, innermost last.
    static ENTERED: RefCell<Vec<Arc<Heap>>> = const { RefCell::new(Vec::new()) };
}

/// While it lives, objects made on this thread register in the heap it entered.
pub struct Entered(());

impl Drop for Entered {
    fn drop(&mut self) {
        ENTERED.with(|e| e.borrow_mut().pop());
    }
}

impl Heap {
    /// Makes `heap` the one objects made on this thread register in, until the guard drops.
    pub fn enter(heap: &Arc<Heap>) -> Entered {
        ENTERED.with(|e| e.borrow_mut().push(heap.clone()));
        Entered(())
    }

    /// Registers a new object in the heap this thread entered (none: the object is nobody's,
    /// such as a value made in a test).
    pub(super) fn register(object: &Arc<Cell>) {
        ENTERED.with(|e| {
            if let Some(heap) = e.borrow().last() {
                heap.add(object);
            }
        });
    }

    fn add(&self, object: &Arc<Cell>) {
        let mut objects = self.objects.lock();
        if objects.list.len() >= objects.compact_at {
            objects.list.retain(|w| w.strong_count() > 0);
            objects.compact_at = (objects.list.len() * 2).max(1024);
        }
        objects.list.push(Arc::downgrade(object));
    }

    /// The objects still alive.
    pub(super) fn live(&self) -> Vec<Arc<Cell>> {
        self.objects
            .lock()
            .list
            .iter()
            .filter_map(Weak::upgrade)
            .collect()
    }
}

/// Drops `values` and everything only they hold without recursion (see the module docs).
pub(super) fn drop_values(mut work: Vec<JsValue>) {
    while let Some(v) = work.pop() {
        if let JsValue::Object(JsRef(cell)) = v {
            // The last holder: take the contents out before the object goes, so its own `Drop`
            // has nothing to free.
            if let Ok(cell) = Arc::try_unwrap(cell) {
                work.extend(cell.into_inner().take_contents());
            }
        }
    }
}

/// Appends `s` to `out` unless `out` would then pass `max` bytes (false: nothing appended).
fn push_within(out: &mut String, s: &str, max: usize) -> bool {
    if out.len().saturating_add(s.len()) > max {
        return false;
    }
    out.push_str(s);
    true
}

/// How deep `join` (and `String(array)`) follows arrays inside arrays: deeper ones are empty
/// text, as an array inside itself is (each level holds its array's lock and a host frame).
const MAX_JOIN_DEPTH: usize = 64;
/// The most elements one `join` looks at, nested ones included (2^21, about what the memory
/// limit lets one array hold): an array of a million references to an array nested 64 deep
/// made 64 million steps of one host call with no text to stop them.
pub(crate) const MAX_JOIN_ELEMENTS: usize = 1 << 21;

/// Where a [`push_joined`] is: the arrays whose elements are being joined (an array inside
/// itself is empty text, as in JavaScript) and the elements it may still look at.
pub(crate) struct JoinWalk {
    open: Vec<usize>,
    elements_left: usize,
}

impl JoinWalk {
    /// A walk that starts at `array` (locked by the caller).
    pub(crate) fn of(array: &JsRef) -> JoinWalk {
        JoinWalk {
            open: vec![array.ptr()],
            elements_left: MAX_JOIN_ELEMENTS,
        }
    }
}

/// Appends `items.join(sep)` to `out` (what `String(array)` is, with `","`), as JavaScript
/// makes it: `undefined` and `null` are empty, an array inside is joined with `","`, one
/// already being joined or deeper than [`MAX_JOIN_DEPTH`] is empty, any other value is its
/// `String(v)`. False (and `out` unfinished) once it would pass `max` bytes or look at more
/// than [`MAX_JOIN_ELEMENTS`] elements.
pub(crate) fn push_joined(
    items: &[JsValue],
    sep: &str,
    out: &mut String,
    max: usize,
    walk: &mut JoinWalk,
) -> bool {
    let push = |out: &mut String, s: &str| push_within(out, s, max);
    for (i, v) in items.iter().enumerate() {
        let Some(left) = walk.elements_left.checked_sub(1) else {
            return false;
        };
        walk.elements_left = left;
        let fits = (i == 0 || push(out, sep))
            && match v {
                JsValue::Undefined | JsValue::Null => true,
                JsValue::Object(o) if walk.open.contains(&o.ptr()) => true,
                JsValue::Object(o) => {
                    let obj = o.0.lock();
                    match &obj.class {
                        Class::Array(_) if walk.open.len() >= MAX_JOIN_DEPTH => true,
                        Class::Array(inner) => {
                            walk.open.push(o.ptr());
                            let fits = push_joined(inner, ",", out, max, walk);
                            walk.open.pop();
                            fits
                        }
                        _ => {
                            drop(obj);
                            v.push_js_string(out, max)
                        }
                    }
                }
                v => v.push_js_string(out, max),
            };
        if !fits {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> ValueTable {
        ValueTable::new(JsRef::new(Class::Plain), JsRef::new(Class::Plain))
    }

    #[test]
    fn numbers_print_as_javascript_prints_them() {
        let cases: [(f64, &str); 14] = [
            (0.0, "0"),
            (-0.0, "0"),
            (1.0, "1"),
            (-42.0, "-42"),
            (0.1, "0.1"),
            (1.5e-6, "0.0000015"),
            (1e-7, "1e-7"),
            (1.25e-7, "1.25e-7"),
            (123456.789, "123456.789"),
            (1e20, "100000000000000000000"),
            (1e21, "1e+21"),
            (1.5e300, "1.5e+300"),
            (2f64.powi(60), "1152921504606847000"),
            (f64::MAX, "1.7976931348623157e+308"),
        ];
        for (n, text) in cases {
            assert_eq!(number_to_string(n), text, "{n:e}");
        }
        assert_eq!(number_to_string(f64::NAN), "NaN");
        assert_eq!(number_to_string(f64::NEG_INFINITY), "-Infinity");
    }

    #[test]
    fn a_finalized_reference_loads_as_null_and_one_past_the_table_as_undefined() {
        let mut t = table();
        let v = JsValue::object(Class::Plain);
        let raw = t.store(&v).unwrap();
        let id = (raw & 0xFFFF_FFFF) as u32;
        t.finalize(id);
        assert!(matches!(t.load(raw), JsValue::Null), "{:?}", t.load(raw));
        let past = (raw & !0xFFFF_FFFF) | 0xFFFF;
        assert!(matches!(t.load(past), JsValue::Undefined));
    }

    #[test]
    fn only_canonical_decimals_are_element_indices() {
        use crate::gojs::array_index;
        assert_eq!(array_index("0"), Some(0));
        assert_eq!(array_index("12"), Some(12));
        for name in ["01", "+1", "-1", "1.0", "", "length"] {
            assert_eq!(array_index(name), None, "{name}");
        }
    }

    #[test]
    fn the_text_of_a_value_is_built_only_up_to_its_limit() {
        let big = JsValue::str(&"x".repeat(1 << 20));
        let holder = JsValue::array(vec![]);
        let items = vec![
            JsValue::Number(1.0),
            JsValue::Null,
            holder.clone(),
            JsValue::str("a"),
            JsValue::Number(0.5),
        ];
        let array = JsValue::array(items);
        assert_eq!(array.to_js_string_within(100).as_deref(), Some("1,,,a,0.5"));
        assert_eq!(array.to_js_string_within(8), None);
        let bytes = JsValue::object(Class::Bytes(vec![0, 7, 42, 255]));
        assert_eq!(bytes.to_js_string_within(64).as_deref(), Some("0,7,42,255"));
        // A million references to one 1 MiB string would be a terabyte of text.
        let many = JsValue::array(vec![big; 1 << 20]);
        assert_eq!(many.to_js_string_within(64 << 20), None);
    }

    #[test]
    fn numbers_are_stored_as_floats_and_zero_nan_undefined_as_predefined_refs() {
        let mut t = table();
        assert_eq!(t.store(&JsValue::Number(1.5)).unwrap(), 1.5f64.to_bits());
        assert_eq!(
            t.store(&JsValue::Number(0.0)).unwrap(),
            0x7FF8_0000_0000_0001
        );
        assert_eq!(t.store(&JsValue::Undefined).unwrap(), 0);
        assert!(matches!(t.load(0x7FF8_0000_0000_0002), JsValue::Null));
        assert!(matches!(t.load(2.5f64.to_bits()), JsValue::Number(n) if n == 2.5));
    }

    #[test]
    fn the_same_string_reuses_its_id_until_every_reference_is_finalized() {
        let mut t = table();
        let a = t.store(&JsValue::str("hi")).unwrap();
        let b = t.store(&JsValue::str("hi")).unwrap();
        assert_eq!(a, b);
        assert_eq!(a >> 32, 0x7FF8_0002);
        let id = (a & 0xFFFF_FFFF) as u32;
        t.finalize(id);
        assert!(matches!(t.load(a), JsValue::String(_)));
        t.finalize(id);
        // `wasm_exec.js` leaves `null` in a finalized slot.
        assert!(matches!(t.load(a), JsValue::Null));
        assert_eq!(t.live(), 7);
    }

    #[test]
    fn predefined_values_are_never_freed() {
        let mut t = table();
        t.finalize(GLOBAL_ID);
        assert!(matches!(
            t.load(0x7FF8_0001_0000_0000 | u64::from(GLOBAL_ID)),
            JsValue::Object(_)
        ));
    }
}
