//! What a particle node's mesh costs the GPU: a `CPUParticles3D` draws its mesh once per
//! particle every frame, so its cost is `amount` times the mesh's triangles. With the default
//! ranges (2000 particles per node, 10,000 per mod) a mod that put a 256 x 128 `SphereMesh`
//! (66,048 triangles) or a game's detailed model on its particles had the GPU draw 660 million
//! triangles or more per frame: a frozen game. Below level 3 a mod may give a particle node
//! only a mesh of at most [`PARTICLE_MESH_MAX_TRIANGLES`] (Godot's default `SphereMesh` and
//! `TorusMesh` fit); the default allowlist's `SphereMesh` ranges stop at that default, so a mesh
//! on particles cannot grow past it afterwards either. Over all its mesh nodes and particle
//! nodes, a mod's meshes may have Godot draw at most [`MOD_TRIANGLES_PER_FRAME`] triangles.

/// The most triangles a mesh a mod puts on a particle node may have: Godot's default
/// `SphereMesh` (64 radial segments, 32 rings).
pub const PARTICLE_MESH_MAX_TRIANGLES: u64 = 4224;

/// The most triangles one mod's meshes may have Godot draw per frame, over every
/// `MeshInstance3D` and `CPUParticles3D` it gave a mesh (a particle node counts its `amount`
/// times its mesh): a mod that put a game's detailed model (in its reach) on a thousand mesh
/// nodes of its own had the GPU draw that model a thousand times a frame.
pub const MOD_TRIANGLES_PER_FRAME: u64 = 10_000_000;

/// The triangles a `SphereMesh` is counted for in [`MOD_TRIANGLES_PER_FRAME`] and on particles:
/// what it makes ([`sphere_triangles`]), at least [`PARTICLE_MESH_MAX_TRIANGLES`], the most a mod
/// may make of it later (its segments' ranges stop there), so a count taken when the mesh was
/// set stays true.
pub fn counted_sphere_triangles(radial_segments: i64, rings: i64) -> u64 {
    sphere_triangles(radial_segments, rings).max(PARTICLE_MESH_MAX_TRIANGLES)
}

/// Why `what` (e.g. `MeshInstance3D.mesh`) may not take a value that brings the mod's meshes to
/// `sum` triangles per frame, if it may not.
pub fn frame_triangles_refusal(what: &str, sum: u64) -> Option<String> {
    (sum > MOD_TRIANGLES_PER_FRAME).then(|| {
        format!(
            "`{what}` refused: this mod's meshes would have Godot draw {sum} triangles a frame (a particle node counts its `amount` times its mesh's), over the {MOD_TRIANGLES_PER_FRAME} one mod may; use simpler meshes, fewer particles or fewer mesh nodes"
        )
    })
}

/// The triangles Godot's `SphereMesh` makes: two per radial segment per band, `rings + 1`
/// bands (Godot clamps the segments to at least 4 and the rings to at least 1).
pub fn sphere_triangles(radial_segments: i64, rings: i64) -> u64 {
    let radial = radial_segments.max(4) as u64;
    let bands = rings.max(1) as u64 + 1;
    radial.saturating_mul(bands).saturating_mul(2)
}

/// The triangles a mesh surface of `drawn` indices (or vertices, without indices) makes: a
/// triangle strip one per index after the first two, a list (or anything else, counted the
/// same) one per three.
pub fn surface_triangles(drawn: u64, strip: bool) -> u64 {
    if strip {
        drawn.saturating_sub(2)
    } else {
        drawn / 3
    }
}

/// Why a mod may not put the `class` mesh with `triangles` triangles on a particle node, if it
/// may not.
pub fn particle_mesh_refusal(class: &str, triangles: u64) -> Option<String> {
    (triangles > PARTICLE_MESH_MAX_TRIANGLES).then(|| {
        format!(
            "`CPUParticles3D.mesh` refused: the {class} has {triangles} triangles, and a particle node draws its mesh once per particle every frame; a mod may give particles a mesh of at most {PARTICLE_MESH_MAX_TRIANGLES} triangles (Godot's default SphereMesh): use a simpler mesh"
        )
    })
}

/// The refusal of a mesh of `class` on `what` (e.g. `MeshInstance3D.mesh`): a kind of mesh
/// WasGo does not count.
pub fn uncounted_mesh_refusal(what: &str, class: &str) -> String {
    format!(
        "`{what}` refused: a mod may show a PrimitiveMesh or an ArrayMesh (their triangles count against the mod's {MOD_TRIANGLES_PER_FRAME} a frame), not a mesh of class `{class}`"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_sphere_fits_and_a_detailed_one_does_not() {
        assert_eq!(sphere_triangles(64, 32), 4224);
        assert_eq!(sphere_triangles(256, 128), 66_048);
        assert_eq!(sphere_triangles(0, 0), 16, "Godot's minimums");
        assert!(particle_mesh_refusal("SphereMesh", 4224).is_none());
        let refused = particle_mesh_refusal("SphereMesh", 66_048).unwrap();
        assert!(
            refused.contains("66048 triangles") && refused.contains("4224"),
            "{refused}"
        );
        assert_eq!(
            counted_sphere_triangles(0, 0),
            4224,
            "a sphere may grow to the default"
        );
        assert_eq!(counted_sphere_triangles(256, 128), 66_048);
        assert!(frame_triangles_refusal("MeshInstance3D.mesh", 10_000_000).is_none());
        let over = frame_triangles_refusal("MeshInstance3D.mesh", 10_000_001).unwrap();
        assert!(over.contains("10000001 triangles a frame"), "{over}");
        let other = uncounted_mesh_refusal("MeshInstance3D.mesh", "ImmediateMesh");
        assert_eq!(surface_triangles(36, false), 12);
        assert_eq!(surface_triangles(36, true), 34);
        assert_eq!(surface_triangles(1, true), 0);
        assert!(
            other.contains("not a mesh of class `ImmediateMesh`"),
            "{other}"
        );
    }
}
