//! Tests of the footprint, road and ground builders.

use glam::{DVec2, Vec3};

use super::*;

fn v2(x: f64, y: f64) -> DVec2 {
    DVec2::new(x, y)
}

fn rect(x0: f64, y0: f64, x1: f64, y1: f64) -> Vec<DVec2> {
    vec![v2(x0, y0), v2(x1, y0), v2(x1, y1), v2(x0, y1)]
}

fn tri_points(p: &Primitive, t: usize) -> [Vec3; 3] {
    [0, 1, 2].map(|k| Vec3::from_array(p.positions[p.indices[3 * t + k] as usize]))
}

fn tri_normal(p: &Primitive, t: usize) -> Vec3 {
    Vec3::from_array(p.normals[p.indices[3 * t] as usize])
}

fn tri_area(p: &Primitive, t: usize) -> f64 {
    let [a, b, c] = tri_points(p, t);
    f64::from((b - a).cross(c - a).length()) * 0.5
}

fn is_roof(p: &Primitive, t: usize) -> bool {
    tri_normal(p, t).z > 0.999
}

/// Every triangle's winding agrees with its vertex normals (counter-clockwise seen from the front).
fn assert_winding_matches_normals(p: &Primitive) {
    for t in 0..p.indices.len() / 3 {
        let [a, b, c] = tri_points(p, t);
        let geometric = (b - a).cross(c - a).normalize();
        for k in 0..3 {
            let n = Vec3::from_array(p.normals[p.indices[3 * t + k] as usize]);
            assert!(geometric.dot(n) > 0.999, "triangle {t}: winding normal {geometric} vs vertex normal {n}");
        }
    }
}

fn roof_area(p: &Primitive) -> f64 {
    (0..p.indices.len() / 3).filter(|&t| is_roof(p, t)).map(|t| tri_area(p, t)).sum()
}

#[test]
fn square_footprint_has_four_walls_and_a_roof_of_its_area() {
    let fp = Footprint { outer: rect(0.0, 0.0, 10.0, 10.0), holes: vec![], base: 0.0, height: 12.0 };
    let (p, warnings) = footprint_primitive(&fp, DVec2::ZERO).unwrap();
    assert!(warnings.is_empty(), "{warnings:?}");
    let tris = p.indices.len() / 3;
    let walls: Vec<usize> = (0..tris).filter(|&t| tri_normal(&p, t).z.abs() < 1e-6).collect();
    assert_eq!(walls.len(), 8, "two triangles per wall");
    assert_eq!(tris - walls.len(), 2, "a square roof is two triangles");
    // Flat shading: four vertices per wall, four for the roof.
    assert_eq!(p.positions.len(), 4 * 4 + 4);
    let wall_area: f64 = walls.iter().map(|&t| tri_area(&p, t)).sum();
    assert!((wall_area - 40.0 * 12.0).abs() < 1e-3, "wall area {wall_area}");
    assert!((roof_area(&p) - 100.0).abs() < 1e-3, "roof area {}", roof_area(&p));
    assert_winding_matches_normals(&p);
    assert_eq!(p.bounds.min, Vec3::new(0.0, 0.0, 0.0));
    assert_eq!(p.bounds.max, Vec3::new(10.0, 10.0, 12.0));
}

#[test]
fn footprint_with_hole_has_roof_area_outer_minus_hole_and_walls_facing_into_the_hole() {
    // The hole is given counter-clockwise, the outer ring clockwise: both windings get fixed.
    let mut outer = rect(0.0, 0.0, 20.0, 20.0);
    outer.reverse();
    let fp = Footprint { outer, holes: vec![rect(5.0, 8.0, 11.0, 12.0)], base: 3.0, height: 9.0 };
    let (p, warnings) = footprint_primitive(&fp, DVec2::ZERO).unwrap();
    assert!(warnings.is_empty(), "{warnings:?}");
    assert!((roof_area(&p) - (400.0 - 24.0)).abs() < 1e-3, "roof area {}", roof_area(&p));
    let tris = p.indices.len() / 3;
    let hole_centre = Vec3::new(8.0, 10.0, 0.0);
    let mut hole_walls = 0;
    for t in (0..tris).filter(|&t| !is_roof(&p, t)) {
        let [a, b, c] = tri_points(&p, t);
        let mid = (a + b + c) / 3.0;
        let n = tri_normal(&p, t);
        let inside_hole = (5.0..=11.0).contains(&mid.x) && (8.0..=12.0).contains(&mid.y);
        if inside_hole {
            hole_walls += 1;
            let to_centre = (hole_centre - mid).with_z(0.0);
            assert!(n.dot(to_centre) > 0.0, "hole wall normal {n} must face the hole's centre");
        }
        assert!(a.z >= 3.0 && a.z <= 9.0, "walls span base..height");
    }
    assert_eq!(hole_walls, 8, "four hole walls, two triangles each");
    assert_winding_matches_normals(&p);
}

#[test]
fn clockwise_input_gets_outward_wall_normals() {
    let mut outer = rect(0.0, 0.0, 8.0, 4.0);
    outer.reverse();
    let fp = Footprint { outer, holes: vec![], base: 0.0, height: 3.0 };
    let (p, _) = footprint_primitive(&fp, DVec2::ZERO).unwrap();
    let centre = Vec3::new(4.0, 2.0, 0.0);
    let mut checked = 0;
    for t in (0..p.indices.len() / 3).filter(|&t| !is_roof(&p, t)) {
        let [a, b, c] = tri_points(&p, t);
        let n = tri_normal(&p, t);
        // The normal is horizontal, perpendicular to the wall's edge, and points away from the centre.
        let edge = if (a.z - b.z).abs() < 1e-6 {
            b - a
        } else if (b.z - c.z).abs() < 1e-6 {
            c - b
        } else {
            a - c
        };
        assert!(n.z.abs() < 1e-6);
        assert!(n.dot(edge.normalize()).abs() < 1e-5, "normal {n} not perpendicular to edge {edge}");
        let mid = (a + b + c) / 3.0;
        assert!(n.dot((mid - centre).with_z(0.0)) > 0.0, "normal {n} at {mid} points inward");
        checked += 1;
    }
    assert_eq!(checked, 8);
    assert_winding_matches_normals(&p);
}

#[test]
fn closing_point_duplicates_and_collinear_points_are_cleaned() {
    let ring =
        vec![v2(0.0, 0.0), v2(0.0, 0.0), v2(5.0, 0.0), v2(10.0, 0.0), v2(10.0, 10.0), v2(0.0, 10.0), v2(0.0, 0.0)];
    let fp = Footprint { outer: ring, holes: vec![], base: 0.0, height: 5.0 };
    let (p, _) = footprint_primitive(&fp, DVec2::ZERO).unwrap();
    assert_eq!(p.indices.len() / 3, 8 + 2, "the straight-on point and the duplicates add no wall");
    assert!((roof_area(&p) - 100.0).abs() < 1e-3);
}

#[test]
fn wall_uvs_follow_the_perimeter_and_height_in_storeys() {
    let fp = Footprint { outer: rect(0.0, 0.0, 6.0, 3.0), holes: vec![], base: 0.0, height: 9.0 };
    let (p, _) = footprint_primitive(&fp, DVec2::ZERO).unwrap();
    let us: Vec<f32> = p.uv0.iter().zip(&p.normals).filter(|(_, n)| n[2] == 0.0).map(|(uv, _)| uv[0]).collect();
    let vs: Vec<f32> = p.uv0.iter().zip(&p.normals).filter(|(_, n)| n[2] == 0.0).map(|(uv, _)| uv[1]).collect();
    let umax = us.iter().cloned().fold(f32::MIN, f32::max);
    assert!((umax - 18.0 / 3.0).abs() < 1e-5, "u ends at perimeter / 3, got {umax}");
    let vspan = vs.iter().cloned().fold(f32::MIN, f32::max) - vs.iter().cloned().fold(f32::MAX, f32::min);
    assert!((vspan - 3.0).abs() < 1e-5, "9 m of wall is 3 storeys of v, got {vspan}");
}

#[test]
fn degenerate_footprints_are_skipped_with_warnings() {
    let good = Footprint { outer: rect(0.0, 0.0, 4.0, 4.0), holes: vec![], base: 0.0, height: 3.0 };
    let footprints = vec![
        good.clone(),
        Footprint { outer: vec![v2(0.0, 0.0), v2(1.0, 1.0), v2(2.0, 2.0), v2(3.0, 3.0)], ..good.clone() },
        Footprint { outer: vec![v2(0.0, 0.0), v2(1.0, 0.0)], ..good.clone() },
        Footprint { outer: vec![v2(0.0, 0.0), v2(f64::NAN, 0.0), v2(1.0, 1.0), v2(0.0, 1.0)], ..good.clone() },
        Footprint { height: 0.0, ..good.clone() },
        Footprint { height: f64::INFINITY, ..good.clone() },
        Footprint { outer: vec![], ..good.clone() },
        good.clone(),
    ];
    let e = extrude_buildings("buildings", &footprints, DVec2::ZERO, [0.8, 0.8, 0.8]);
    for i in 1..=6 {
        assert!(
            e.warnings.iter().any(|w| w.starts_with(&format!("footprint {i}: skipped"))),
            "no warning for footprint {i}: {:?}",
            e.warnings
        );
    }
    assert_eq!(e.warnings.len(), 6, "{:?}", e.warnings);
    assert_eq!(e.model.warnings, e.warnings);
    let built: Vec<usize> = e.features.iter().map(|f| f.feature).collect();
    assert_eq!(built, vec![0, 7]);
    assert_eq!(e.model.triangle_count(), 2 * 10);
}

#[test]
fn a_degenerate_hole_is_dropped_but_the_building_kept() {
    let fp = Footprint {
        outer: rect(0.0, 0.0, 10.0, 10.0),
        holes: vec![vec![v2(2.0, 2.0), v2(3.0, 3.0)]],
        base: 0.0,
        height: 3.0,
    };
    let (p, warnings) = footprint_primitive(&fp, DVec2::ZERO).unwrap();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].contains("hole 0"), "{warnings:?}");
    assert!((roof_area(&p) - 100.0).abs() < 1e-3);
}

#[test]
fn positions_are_relative_to_the_origin() {
    let origin = v2(250_000.0, -4_000_000.0);
    let fp = Footprint {
        outer: rect(0.0, 0.0, 2.0, 2.0).into_iter().map(|p| p + origin).collect(),
        base: 0.0,
        height: 1.0,
        holes: vec![],
    };
    let (p, _) = footprint_primitive(&fp, origin).unwrap();
    assert_eq!(p.bounds.min, Vec3::ZERO);
    assert_eq!(p.bounds.max, Vec3::new(2.0, 2.0, 1.0));
}

#[test]
fn buildings_model_has_one_matte_material_and_an_identity_instance() {
    let fps = vec![
        Footprint { outer: rect(0.0, 0.0, 4.0, 4.0), holes: vec![], base: 0.0, height: 3.0 },
        Footprint { outer: rect(10.0, 0.0, 14.0, 6.0), holes: vec![], base: 0.0, height: 30.0 },
    ];
    let (model, warnings) = buildings_model("b", &fps, DVec2::ZERO, [0.5, 0.4, 0.3]);
    assert!(warnings.is_empty());
    assert_eq!(model.meshes.len(), 1);
    assert_eq!(model.meshes[0].primitives.len(), 1, "small layers merge into one primitive");
    assert_eq!(model.materials.len(), 1);
    let m = &model.materials[0];
    assert_eq!(m.base_color_factor, [0.5, 0.4, 0.3, 1.0]);
    assert_eq!((m.metallic_factor, m.roughness_factor), (0.0, LAYER_ROUGHNESS));
    assert_eq!(model.instances.len(), 1);
    assert_eq!(model.instances[0].transform, Mat4::IDENTITY);
    assert_eq!(model.bounds.max, Vec3::new(14.0, 6.0, 30.0));
    assert!(model.meshes[0].primitives.iter().all(|p| p.material == Some(0)));
}

#[test]
fn large_layers_are_chunked_and_feature_ranges_map_triangles_back() {
    // 1 000 buildings of 64 sides: 64 * 4 + 64 = 320 vertices each, 320 000 in all.
    let n = 1000;
    let fps: Vec<Footprint> = (0..n)
        .map(|i| {
            let c = v2(f64::from(i % 40) * 30.0, f64::from(i / 40) * 30.0);
            let outer =
                (0..64).map(|k| c + DVec2::from_angle(f64::from(k) * std::f64::consts::TAU / 64.0) * 10.0).collect();
            Footprint { outer, holes: vec![], base: 0.0, height: 10.0 + f64::from(i % 7) }
        })
        .collect();
    let e = extrude_buildings("b", &fps, DVec2::ZERO, [1.0; 3]);
    let prims = &e.model.meshes[0].primitives;
    assert!(prims.len() >= 5, "{} primitives", prims.len());
    assert!(prims.iter().all(|p| p.positions.len() <= MAX_CHUNK_VERTICES));
    assert_eq!(e.features.len(), n as usize);
    // The ranges tile each primitive's indices, and each range's vertices lie on its own footprint.
    let mut covered = vec![0usize; prims.len()];
    for r in &e.features {
        covered[r.primitive] += r.indices.len();
        let p = &prims[r.primitive];
        let c = v2(f64::from(r.feature as u32 % 40) * 30.0, f64::from(r.feature as u32 / 40) * 30.0);
        for &i in &p.indices[r.indices.clone()] {
            let q = p.positions[i as usize];
            let d = v2(f64::from(q[0]), f64::from(q[1])).distance(c);
            assert!(d <= 10.001, "feature {} has a vertex {d} m from its centre", r.feature);
        }
    }
    for (k, p) in prims.iter().enumerate() {
        assert_eq!(covered[k], p.indices.len(), "primitive {k}");
    }
}

#[test]
fn road_miter_at_a_right_angle_keeps_the_width_from_both_segments() {
    let road = RoadPath { points: vec![v2(0.0, 0.0), v2(10.0, 0.0), v2(10.0, 10.0)], width: 4.0 };
    let p = road_primitive(&road, DVec2::ZERO, 0.05).unwrap();
    assert_winding_matches_normals(&p);
    assert!(p.positions.iter().all(|q| (q[2] - 0.05).abs() < 1e-6), "ribbon at the lift height");
    // The vertices at the corner (10, 0), excluding the end caps.
    let corner: Vec<DVec2> = p
        .positions
        .iter()
        .map(|q| v2(f64::from(q[0]), f64::from(q[1])))
        .filter(|q| q.distance(v2(10.0, 0.0)) < 4.0)
        .collect();
    assert!(!corner.is_empty());
    for q in &corner {
        // Half a width from both centre lines: y = 0 and x = 10.
        assert!((q.y.abs() - 2.0).abs() < 1e-4, "{q} not 2 m from the first segment");
        assert!(((q.x - 10.0).abs() - 2.0).abs() < 1e-4, "{q} not 2 m from the second segment");
    }
    let spread = corner.iter().flat_map(|a| corner.iter().map(move |b| a.distance(*b))).fold(0.0, f64::max);
    assert!((spread - 4.0 * 2f64.sqrt()).abs() < 1e-4, "mitre cross-section {spread}, want width / cos 45°");
    // Area: two 10 m segments of width 4, less nothing, plus the overlap square at the corner counted
    // once by the mitre: exactly 10*4 + 10*4 (the mitre trades the outer and inner corners evenly).
    let area: f64 = (0..p.indices.len() / 3).map(|t| tri_area(&p, t)).sum();
    assert!((area - 80.0).abs() < 1e-3, "ribbon area {area}");
}

#[test]
fn very_sharp_turns_bevel_and_stay_bounded() {
    let road = RoadPath { points: vec![v2(0.0, 0.0), v2(50.0, 0.0), v2(0.0, 0.5), v2(0.0, 0.4)], width: 6.0 };
    let p = road_primitive(&road, DVec2::ZERO, DEFAULT_ROAD_LIFT).unwrap();
    assert_winding_matches_normals(&p);
    for q in &p.positions {
        let q = v2(f64::from(q[0]), f64::from(q[1]));
        // Corners sit within the mitre limit; segment-end vertices lie a half-width beside a point.
        assert!(q.is_finite());
        let to_segments = road
            .points
            .windows(2)
            .map(|w| {
                let (a, b) = (w[0], w[1]);
                let t = ((q - a).dot(b - a) / (b - a).length_squared()).clamp(0.0, 1.0);
                q.distance(a + (b - a) * t)
            })
            .fold(f64::INFINITY, f64::min);
        assert!(to_segments <= 3.0 * MITER_LIMIT + 1e-6, "vertex {q} is {to_segments} m from the centre line");
    }
    let reach = p.positions.iter().map(|q| f64::from(q[0]).abs().max(f64::from(q[1]).abs())).fold(0.0, f64::max);
    assert!(reach < 50.0 + 3.0 * MITER_LIMIT, "the ribbon spikes out to {reach} m");
}

#[test]
fn road_u_runs_across_and_v_along() {
    let road = RoadPath { points: vec![v2(0.0, 0.0), v2(20.0, 0.0)], width: 5.0 };
    let p = road_primitive(&road, DVec2::ZERO, 0.0).unwrap();
    for (q, uv) in p.positions.iter().zip(&p.uv0) {
        assert!((uv[1] - q[0] / 5.0).abs() < 1e-6, "v = distance / width");
        assert_eq!(uv[0], if q[1] > 0.0 { 0.0 } else { 1.0 }, "u = 0 on the left");
    }
}

#[test]
fn bad_roads_are_skipped_with_warnings() {
    let roads = vec![
        RoadPath { points: vec![v2(0.0, 0.0)], width: 5.0 },
        RoadPath { points: vec![v2(0.0, 0.0), v2(0.0, 0.0)], width: 5.0 },
        RoadPath { points: vec![v2(0.0, 0.0), v2(5.0, 0.0)], width: f64::NAN },
        RoadPath { points: vec![v2(0.0, 0.0), v2(5.0, f64::INFINITY)], width: 5.0 },
        RoadPath { points: vec![v2(0.0, 0.0), v2(5.0, 0.0)], width: -1.0 },
        RoadPath { points: vec![v2(0.0, 0.0), v2(5.0, 0.0), v2(0.0, 0.0)], width: 3.0 },
    ];
    let e = extrude_roads("roads", &roads, DVec2::ZERO, [0.2; 3], f64::NAN);
    assert_eq!(e.warnings.len(), 5, "{:?}", e.warnings);
    for i in 0..5 {
        assert!(e.warnings[i].starts_with(&format!("road {i}: skipped")), "{:?}", e.warnings);
    }
    assert_eq!(e.features.len(), 1, "the U-turn road is built");
    let p = &e.model.meshes[0].primitives[0];
    assert!(p.positions.iter().all(|q| (f64::from(q[2]) - DEFAULT_ROAD_LIFT).abs() < 1e-6));
    assert!(p.positions.iter().all(|q| q[0] >= -1.5 - 1e-5 && q[0] <= 5.0 + 1.5 + 1e-5));
}

#[test]
fn ground_plane_is_a_square_facing_up() {
    let p = ground_plane(v2(100.0, -50.0), 500.0);
    assert_eq!(p.indices.len(), 6);
    assert_winding_matches_normals(&p);
    let area: f64 = (0..2).map(|t| tri_area(&p, t)).sum();
    assert!((area - 1000.0 * 1000.0).abs() < 1.0);
    assert_eq!(p.bounds.min, Vec3::new(-400.0, -550.0, 0.0));
    assert_eq!(p.bounds.max, Vec3::new(600.0, 450.0, 0.0));
    assert!(ground_plane(DVec2::ZERO, f64::NAN).indices.is_empty());
    let m = ground_model("ground", DVec2::ZERO, 10.0, [0.4, 0.45, 0.38]);
    assert_eq!(m.triangle_count(), 2);
    assert_eq!(m.materials[0].base_color_factor, [0.4, 0.45, 0.38, 1.0]);
}
