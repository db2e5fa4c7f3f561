//! What a particle node's mesh costs the GPU: a `CPUParticles3D` draws its mesh once per
//! particle every frame, so its cost is `amount` times the mesh's triangles. With the default
//! ranges (2000 particles per node, 10,000 per mod) a mod that put a 256 x 128 `SphereMesh`
//! (66,048 triangles) or a game's detailed model on its particles had the GPU draw 660 million
//! triangles or more per frame: a frozen game. Below level 3 a mod may give a particle node
//! only a mesh of at most [`PARTICLE_MESH_MAX_TRIANGLES`] (Godot's default `SphereMesh` and
//! `TorusMesh` fit); the default allowlist's `SphereMesh` ranges stop at that default, so a mesh
//! on particles cannot grow past it afterwards either.

/// The most triangles a mesh a mod puts on a particle node may have: Godot's default
/// `SphereMesh` (64 radial segments, 32 rings).
pub const PARTICLE_MESH_MAX_TRIANGLES: u64 = 4224;

/// The triangles Godot's `SphereMesh` makes: two per radial segment per band, `rings + 1`
/// bands (Godot clamps the segments to at least 4 and the rings to at least 1).
pub fn sphere_triangles(radial_segments: i64, rings: i64) -> u64 {
    let radial = radial_segments.max(4) as u64;
    let bands = rings.max(1) as u64 + 1;
    radial.saturating_mul(bands).saturating_mul(2)
}

/// Why a mod may not put the `class` mesh with `triangles` triangles (`None`: not counted, a
/// kind of mesh WasGo cannot count cheaply) on a particle node, if it may not.
pub fn particle_mesh_refusal(class: &str, triangles: Option<u64>) -> Option<String> {
    match triangles {
        Some(n) if n <= PARTICLE_MESH_MAX_TRIANGLES => None,
        Some(n) => Some(format!(
            "`CPUParticles3D.mesh` refused: the {class} has {n} triangles, and a particle node draws its mesh once per particle every frame; a mod may give particles a mesh of at most {PARTICLE_MESH_MAX_TRIANGLES} triangles (Godot's default SphereMesh): use a simpler mesh"
        )),
        None => Some(format!(
            "`CPUParticles3D.mesh` refused: a mod may give particles a PrimitiveMesh or an ArrayMesh (of at most {PARTICLE_MESH_MAX_TRIANGLES} triangles), not a mesh of class `{class}`"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_sphere_fits_and_a_detailed_one_does_not() {
        assert_eq!(sphere_triangles(64, 32), 4224);
        assert_eq!(sphere_triangles(256, 128), 66_048);
        assert_eq!(sphere_triangles(0, 0), 16, "Godot's minimums");
        assert!(particle_mesh_refusal("SphereMesh", Some(4224)).is_none());
        let refused = particle_mesh_refusal("SphereMesh", Some(66_048)).unwrap();
        assert!(
            refused.contains("66048 triangles") && refused.contains("4224"),
            "{refused}"
        );
        let other = particle_mesh_refusal("ImmediateMesh", None).unwrap();
        assert!(
            other.contains("not a mesh of class `ImmediateMesh`"),
            "{other}"
        );
    }
}
