//! The functions the Go-js host implements, by name of their kind: what an object of class
//! [`Class::Native`](super::value::Class::Native) calls. [`builtins`](super::builtins) implements
//! the JavaScript globals' ones, [`godot`](super::godot) the `godot` object's. Kept apart from
//! both so that the object model ([`value`](super::value)) can name them without depending on
//! what they do.

/// A function the host implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Native {
    ObjectCtor,
    /// `Object.keys(value)`: an array's indices, then the object's own property names.
    ObjectKeys,
    ArrayCtor,
    Uint8ArrayCtor,
    DateCtor,
    ErrorCtor,
    DateGetTimezoneOffset,
    DateGetTime,
    GetRandomValues,
    PerformanceNow,
    FsWriteSync,
    FsWrite,
    FsFsync,
    /// Every other `fs` call: its callback gets an `ENOSYS` error.
    FsEnosys,
    /// `process.getuid` and friends: -1.
    ProcessMinusOne,
    ProcessCwd,
    /// `process.umask`, `process.chdir`, `process.getgroups`: throw `ENOSYS`.
    ProcessEnosys,
    /// `go._makeFuncWrapper(id)`.
    MakeFuncWrapper,
    /// `console.log`, `console.info`, `console.debug`: a line on the mod's stdout.
    ConsoleLog,
    /// `console.error`, `console.warn`: a line on the mod's stderr (Go's own runtime writes
    /// `console.error("call to released function")` when a released `js.Func` is called).
    ConsoleError,
    /// The prototype methods the host has ([`prototype_method`](super::builtins::prototype_method)):
    /// an array's `push`, `pop`, `join`, `slice`, `indexOf` and `includes`.
    ArrayPush,
    ArrayPop,
    ArrayJoin,
    ArraySlice,
    ArrayIndexOf,
    ArrayIncludes,
    /// Any object's `hasOwnProperty`.
    HasOwnProperty,
    Godot(GodotFn),
}

/// The methods of the `godot` object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GodotFn {
    SelfNode,
    GetNode,
    Get,
    Set,
    Call,
    Connect,
    Emit,
    CallGame,
    Vec2,
    Vec3,
    FileWrite,
    FileRead,
    FileDelete,
    FileList,
    HttpRequest,
    RequestPermission,
    /// `godot.release(handle)`: `wasgo.release`.
    Release,
}
