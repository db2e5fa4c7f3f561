//! Resources a mod brings: images, sounds and fonts made from its own bytes
//! (`wasgo.texture_from_bytes`, `audio_from_bytes`, `font_from_bytes`) and read-only `res://`
//! resources from the folders the game lists (`wasgo.load_resource`). Main thread only.
//!
//! Bytes are first judged by the core ([`wasgo_core::assets::sniff`]): the format from the
//! bytes' signature, the size against `wasgo/limits/asset_kb` and an image's declared width and
//! height against `wasgo/limits/texture_max_px` (defaults in [`Limits`]), so Godot's decoders
//! only get data of the format they expect and no decompression bomb. A decoder that still fails
//! is reported to the mod as -3 with what was wrong; Godot's own error line may appear in the
//! log, and the game goes on.
//!
//! `load_resource` reads only below a folder of `wasgo/safety/resource_folders` (empty by
//! default: nothing), only files of the media formats Godot imports and text resources
//! (`.tres`), and never a script: a `.tres` (and each `.tres` it depends on) that names a script
//! is refused before it is loaded, so a script's static initialisers never run for a mod. The
//! resource is loaded fresh (not from Godot's cache, so the mod cannot change the game's copy)
//! and must be a Texture2D, AudioStream, Font, SpriteFrames, Mesh or Material without a script.
//! The caller owns the result like anything the mod creates.

use crate::settings;
use godot::classes::resource_loader::CacheMode;
use godot::classes::{
    AudioStreamMp3, AudioStreamOggVorbis, AudioStreamWav, FileAccess, FontFile, Image,
    ImageTexture, Object, ResourceLoader,
};
use godot::prelude::*;
use wasgo_catalog::ErrorCode;
use wasgo_core::assets::{sniff, AssetFormat, AssetInfo, AssetLimits};
use wasgo_core::{AssetKind, Limits, ObjectError};

/// The resource classes `load_resource` hands out (and their subclasses).
pub const SAFE_RESOURCE_CLASSES: [&str; 6] = [
    "Texture2D",
    "AudioStream",
    "Font",
    "SpriteFrames",
    "Mesh",
    "Material",
];

/// The file extensions `load_resource` reads: media Godot imports, and text resources.
const LOADABLE_EXTENSIONS: [&str; 12] = [
    "png", "jpg", "jpeg", "webp", "svg", "ogg", "wav", "mp3", "ttf", "otf", "obj", "tres",
];

fn invalid(message: String) -> ObjectError {
    ObjectError::failed(ErrorCode::InvalidArgument.code(), message)
}

/// The caps the project settings give now.
fn limits() -> AssetLimits {
    let kb = settings::positive(settings::ASSET_KB, Limits::DEFAULT_ASSET_KB as i64) as usize;
    let px = settings::positive(
        settings::TEXTURE_MAX_PX,
        Limits::DEFAULT_TEXTURE_MAX_PX as i64,
    );
    let mpx = settings::positive(settings::SVG_DRAW_MPX, Limits::DEFAULT_SVG_DRAW_MPX as i64);
    AssetLimits {
        max_bytes: kb.saturating_mul(1024),
        max_side_px: px.min(u32::MAX as i64) as u32,
        max_svg_px: (mpx as u64).saturating_mul(1 << 20),
    }
}

/// The memory all of one instance's live assets may take (`wasgo/limits/assets_mb`).
pub fn budget() -> usize {
    (settings::positive(settings::ASSETS_MB, Limits::DEFAULT_ASSETS_MB as i64) as usize)
        .saturating_mul(1 << 20)
}

/// Judges a mod's `bytes` for an asset of `kind` before anything is decoded: what they are and
/// the memory the asset will take (a decoded image: width x height x 4 bytes).
///
/// # Errors
/// -3 with the reason (wrong format, over a cap, a broken header), naming the function.
pub fn judge(kind: AssetKind, bytes: &[u8]) -> Result<(AssetInfo, usize), ObjectError> {
    let info = sniff(kind, bytes, limits()).map_err(|e| invalid(e.message(kind)))?;
    let cost = match info.size {
        Some((w, h)) => (w as usize).saturating_mul(h as usize).saturating_mul(4),
        None => bytes.len(),
    };
    Ok((info, cost))
}

/// Makes the resource of `kind` from a mod's `bytes`, judged by [`judge`] as `info`.
///
/// # Errors
/// -3 when Godot cannot decode them, naming the function.
pub fn decode(kind: AssetKind, info: AssetInfo, bytes: &[u8]) -> Result<Gd<Object>, ObjectError> {
    let limits = limits();
    let data = PackedByteArray::from(bytes);
    let f = kind.function();
    let broken = |what: &str| {
        invalid(format!(
            "`{f}`: Godot could not decode the {what} (the data is corrupt); pass an intact file"
        ))
    };
    let obj: Gd<Object> = match info.format {
        AssetFormat::Png | AssetFormat::Jpeg | AssetFormat::WebP | AssetFormat::Svg => {
            let mut image = Image::new_gd();
            let err = match info.format {
                AssetFormat::Png => image.load_png_from_buffer(&data),
                AssetFormat::Jpeg => image.load_jpg_from_buffer(&data),
                AssetFormat::WebP => image.load_webp_from_buffer(&data),
                // The document `svg_cost` wrote, the one it estimated (never the mod's bytes).
                _ => match &info.rewritten {
                    Some(document) => {
                        image.load_svg_from_buffer(&PackedByteArray::from(document.as_slice()))
                    }
                    None => return Err(broken("image")),
                },
            };
            if err != godot::global::Error::OK || image.is_empty() {
                return Err(broken("image"));
            }
            let (w, h) = (image.get_width(), image.get_height());
            if w as i64 > limits.max_side_px as i64 || h as i64 > limits.max_side_px as i64 {
                return Err(invalid(format!("`{f}`: the image decoded to {w} x {h} pixels, over the game's limit of {} on a side (`wasgo/limits/texture_max_px`); scale it down", limits.max_side_px)));
            }
            ImageTexture::create_from_image(&image)
                .ok_or_else(|| broken("image"))?
                .upcast()
        }
        AssetFormat::OggVorbis => AudioStreamOggVorbis::load_from_buffer(&data)
            .ok_or_else(|| broken("Ogg Vorbis sound"))?
            .upcast(),
        AssetFormat::Wav => AudioStreamWav::load_from_buffer(&data)
            .ok_or_else(|| broken("WAV sound"))?
            .upcast(),
        AssetFormat::Mp3 => {
            let stream =
                AudioStreamMp3::load_from_buffer(&data).ok_or_else(|| broken("MP3 sound"))?;
            if stream.get_length() <= 0.0 {
                return Err(broken("MP3 sound"));
            }
            stream.upcast()
        }
        AssetFormat::Font => {
            // The font without its TrueType instructions (`font_strip`), never the mod's bytes.
            let Some(stripped) = &info.rewritten else {
                return Err(broken("font"));
            };
            let mut font = FontFile::new_gd();
            font.set_data(&PackedByteArray::from(stripped.as_slice()));
            if font.get_face_count() < 1 {
                return Err(broken("font"));
            }
            // Drawn unhinted: FreeType's auto-hinter, which Godot's default light hinting runs
            // on a font without instructions, takes time quadratic in a glyph's outline
            // segments (a glyph may have 65,535 points), paid at every new size a glyph is
            // drawn at, outside every mod call.
            font.set_hinting(godot::classes::text_server::Hinting::NONE);
            font.upcast()
        }
    };
    Ok(obj)
}

/// Loads a `res://` resource read-only for a mod (see the module docs).
///
/// # Errors
/// -1 for a path outside the listed folders or a missing file; -3 for a refused type or a
/// resource that names a script.
pub fn load_resource(path: &str) -> Result<Gd<Object>, ObjectError> {
    const F: &str = "wasgo.load_resource";
    let not_found = |why: String| ObjectError::failed(ErrorCode::NotFound.code(), why);
    let folders = settings::resource_folders();
    let clean = GString::from(path).simplify_path().to_string();
    if !clean.starts_with("res://") || clean.contains("..") {
        return Err(not_found(format!("`{F}`: `{path}` is not a `res://` path inside the game; pass a path like `res://mod_assets/ship.png`")));
    }
    let inside = folders.iter().any(|folder| {
        let folder = GString::from(folder.as_str()).simplify_path().to_string();
        let folder = folder.trim_end_matches('/');
        folder.starts_with("res://") && clean.starts_with(&format!("{folder}/"))
    });
    if !inside {
        return Err(not_found(format!("`{F}`: `{path}` is not inside a folder the game lets mods read (`wasgo/safety/resource_folders`: {folders:?})")));
    }
    let extension = clean.rsplit('.').next().unwrap_or("").to_ascii_lowercase();
    if !LOADABLE_EXTENSIONS.contains(&extension.as_str()) {
        return Err(invalid(format!("`{F}`: `{path}` is not a file mods may load (images, sounds, fonts, `.obj` meshes and `.tres` resources only; never scenes or scripts)")));
    }
    let mut loader = ResourceLoader::singleton();
    if !loader.exists(clean.as_str()) {
        return Err(not_found(format!(
            "`{F}`: there is no resource at `{path}`"
        )));
    }
    refuse_scripts(&mut loader, &clean, 0)?;
    let resource = loader
        .load_ex(clean.as_str())
        .cache_mode(CacheMode::IGNORE)
        .done()
        .ok_or_else(|| {
            ObjectError::failed(
                ErrorCode::CallFailed.code(),
                format!("`{F}`: Godot could not load `{path}`"),
            )
        })?;
    let safe = SAFE_RESOURCE_CLASSES.iter().any(|c| resource.is_class(*c));
    if !safe || resource.get_script().is_some() {
        return Err(invalid(format!(
            "`{F}`: `{path}` is a `{}`; mods may load only {} resources, without scripts",
            resource.get_class(),
            SAFE_RESOURCE_CLASSES.join(", ")
        )));
    }
    Ok(resource.upcast())
}

/// Refuses a resource that names a script, itself or through the resources and scenes it
/// depends on (at most 8 deep), before anything is loaded: each file's bytes are looked into
/// ([`wasgo_core::assets::resource_names_script`]), in an exported game the binary file its
/// `.remap` names.
fn refuse_scripts(
    loader: &mut Gd<ResourceLoader>,
    path: &str,
    depth: u32,
) -> Result<(), ObjectError> {
    let refuse = |why: &str| {
        invalid(format!(
            "`wasgo.load_resource`: `{path}` {why}; mods may never load scripts"
        ))
    };
    if depth > 8 {
        return Err(refuse("depends on resources nested more than 8 deep"));
    }
    for dependency in loader.get_dependencies(path).as_slice() {
        // "uid://...::Type::res://path" or a plain path.
        let entry = dependency.to_string();
        let dep_path = entry.rsplit("::").next().unwrap_or(&entry).to_string();
        let lower = entry.to_ascii_lowercase();
        if lower.contains("script") || dep_path.ends_with(".gd") || dep_path.ends_with(".cs") {
            return Err(refuse(&format!("depends on the script `{dep_path}`")));
        }
        // A scene or a resource of any format may carry a script of its own: looked into too
        // (only `.tres` files were, and a `.tscn` holding a script passed).
        if wasgo_core::assets::is_resource_file(&dep_path) {
            refuse_scripts(loader, &dep_path, depth + 1)?;
        }
    }
    if wasgo_core::assets::is_resource_file(path) {
        let file = if FileAccess::file_exists(path) {
            Some(path.to_string())
        } else {
            // An exported game converted it and left a remap beside its name.
            let remap = format!("{path}.remap");
            FileAccess::file_exists(&remap)
                .then(|| FileAccess::get_file_as_string(&remap).to_string())
                .and_then(|text| wasgo_core::assets::remap_target(&text))
        };
        let Some(file) = file else {
            return Err(refuse("cannot be looked into for scripts (no such file)"));
        };
        let bytes = FileAccess::get_file_as_bytes(&file);
        if let Some(why) = wasgo_core::assets::resource_names_script(bytes.as_slice()) {
            return Err(refuse(why));
        }
    }
    Ok(())
}

/// Level 3: any resource at a `res://` or `user://` path (no folder or type rule).
///
/// # Errors
/// -1 when nothing loads from `path`.
pub fn load_any(path: &str) -> Result<Gd<Object>, ObjectError> {
    ResourceLoader::singleton()
        .load(path)
        .map(|r| r.upcast())
        .ok_or_else(|| {
            ObjectError::failed(
                ErrorCode::NotFound.code(),
                format!("`wasgo.load_resource`: nothing loads from `{path}`"),
            )
        })
}
