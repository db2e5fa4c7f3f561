//! Conversions between Godot Variants and wasm values.

use godot::prelude::*;
use wasgo_core::catalog::Abi;
use wasgo_core::{GameType, GameValue, Val};

pub fn game_value_to_variant(v: &GameValue) -> Variant {
    match v {
        GameValue::I32(x) => (*x as i64).to_variant(),
        GameValue::I64(x) => x.to_variant(),
        GameValue::F32(x) => (*x as f64).to_variant(),
        GameValue::F64(x) => x.to_variant(),
        GameValue::String(s) => GString::from(s.as_str()).to_variant(),
    }
}

fn number(v: &Variant) -> Option<f64> {
    v.try_to::<i64>().map(|i| i as f64).ok().or_else(|| v.try_to::<f64>().ok()).or_else(|| v.try_to::<bool>().ok().map(|b| b as i64 as f64))
}

fn integer(v: &Variant) -> Option<i64> {
    v.try_to::<i64>().ok().or_else(|| v.try_to::<bool>().ok().map(|b| b as i64))
}

/// Converts a game function's return value to its declared type.
pub fn variant_to_game_value(v: &Variant, t: GameType) -> Result<GameValue, String> {
    let bad = || format!("it returned {v} ({:?}) where {t:?} was declared", v.get_type());
    Ok(match t {
        GameType::I32 => GameValue::I32(integer(v).and_then(|i| i32::try_from(i).ok()).ok_or_else(bad)?),
        GameType::I64 => GameValue::I64(integer(v).ok_or_else(bad)?),
        GameType::F32 => GameValue::F32(number(v).ok_or_else(bad)? as f32),
        GameType::F64 => GameValue::F64(number(v).ok_or_else(bad)?),
        GameType::String => GameValue::String(v.try_to::<GString>().map(|s| s.to_string()).or_else(|_| v.try_to::<StringName>().map(|s| s.to_string())).map_err(|_| bad())?),
    })
}

/// Converts a call argument to the wasm type the export expects.
pub fn variant_to_val(v: &Variant, t: Abi) -> Result<Val, String> {
    let bad = || format!("{v} ({:?}) cannot be passed as {}", v.get_type(), t.name());
    Ok(match t {
        Abi::I32 => Val::I32(integer(v).and_then(|i| i32::try_from(i).ok()).ok_or_else(bad)?),
        Abi::I64 => Val::I64(integer(v).ok_or_else(bad)?),
        Abi::F32 => Val::F32((number(v).ok_or_else(bad)? as f32).to_bits()),
        Abi::F64 => Val::F64(number(v).ok_or_else(bad)?.to_bits()),
    })
}

/// Converts a wasm result to a Variant (`int` or `float`).
pub fn val_to_variant(v: &Val) -> Variant {
    match v {
        Val::I32(x) => (*x as i64).to_variant(),
        Val::I64(x) => x.to_variant(),
        Val::F32(bits) => (f32::from_bits(*bits) as f64).to_variant(),
        Val::F64(bits) => f64::from_bits(*bits).to_variant(),
        _ => Variant::nil(),
    }
}
