//! Ray picking: which placed thing a pointer ray hits first.
//!
//! Every pickable thing has a [`Shape`] in twin space (the twin's f64 ENU metres): a placed glTF model is
//! its model-space bounding box under its world-from-model transform (an oriented box, tighter than a
//! world-aligned one), a GeoJSON building is its extruded footprint (a prism, so a ray through the
//! courtyard of an L-shaped block misses it). [`pick`] returns the nearest hit along the ray.

use glam::{DMat4, DVec2, DVec3};
use sangam_render::model::Aabb;
use sangam_twin::EntityLink;

/// A ray: points `origin + t * direction` for `t >= 0`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Ray {
    /// Where the ray starts.
    pub origin: DVec3,
    /// Its direction (need not be unit length; distances are in multiples of it).
    pub direction: DVec3,
}

impl Ray {
    /// A ray from `origin` along `direction`, normalised; `None` when the direction is zero or not finite.
    pub fn new(origin: DVec3, direction: DVec3) -> Option<Ray> {
        let direction = direction.try_normalize()?;
        origin.is_finite().then_some(Ray { origin, direction })
    }

    /// The point at parameter `t`.
    pub fn at(&self, t: f64) -> DVec3 {
        self.origin + self.direction * t
    }

    /// This ray under an affine transform; the parameter `t` of a point is unchanged.
    pub fn transformed(&self, m: &DMat4) -> Ray {
        Ray { origin: m.transform_point3(self.origin), direction: m.transform_vector3(self.direction) }
    }
}

/// An axis-aligned box in f64 twin (or world) space.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct WorldAabb {
    /// Smallest corner.
    pub min: DVec3,
    /// Largest corner.
    pub max: DVec3,
}

impl WorldAabb {
    /// The box of `points`; `None` when there are none or one is not finite.
    pub fn from_points(points: impl IntoIterator<Item = DVec3>) -> Option<WorldAabb> {
        let mut it = points.into_iter();
        let first = it.next()?;
        let mut b = WorldAabb { min: first, max: first };
        for p in it {
            b.min = b.min.min(p);
            b.max = b.max.max(p);
        }
        (b.min.is_finite() && b.max.is_finite()).then_some(b)
    }

    /// The world box of a model-space box under an affine transform (its eight corners transformed).
    pub fn of_transformed(local: &Aabb, world_from_local: &DMat4) -> Option<WorldAabb> {
        if local.is_empty() {
            return None;
        }
        let (lo, hi) = (local.min.as_dvec3(), local.max.as_dvec3());
        WorldAabb::from_points((0..8).map(|i| {
            let c = DVec3::new(
                if i & 1 == 0 { lo.x } else { hi.x },
                if i & 2 == 0 { lo.y } else { hi.y },
                if i & 4 == 0 { lo.z } else { hi.z },
            );
            world_from_local.transform_point3(c)
        }))
    }

    /// The centre.
    pub fn center(&self) -> DVec3 {
        (self.min + self.max) * 0.5
    }

    /// The smallest box holding both.
    pub fn union(&self, other: &WorldAabb) -> WorldAabb {
        WorldAabb { min: self.min.min(other.min), max: self.max.max(other.max) }
    }

    /// Whether `p` is inside or on the box.
    pub fn contains(&self, p: DVec3) -> bool {
        p.cmpge(self.min).all() && p.cmple(self.max).all()
    }
}

/// The slab test: the parameter range `(t_enter, t_exit)` where the ray is inside the box, clipped to
/// `t >= 0`; `None` when the ray misses the box or the box is behind the origin.
pub fn ray_aabb(ray: &Ray, b: &WorldAabb) -> Option<(f64, f64)> {
    let mut t0 = 0.0f64;
    let mut t1 = f64::INFINITY;
    for axis in 0..3 {
        let (o, d, lo, hi) = (ray.origin[axis], ray.direction[axis], b.min[axis], b.max[axis]);
        if d.abs() < 1e-300 {
            if o < lo || o > hi {
                return None;
            }
            continue;
        }
        let (mut a, mut c) = ((lo - o) / d, (hi - o) / d);
        if a > c {
            std::mem::swap(&mut a, &mut c);
        }
        t0 = t0.max(a);
        t1 = t1.min(c);
        if t0 > t1 {
            return None;
        }
    }
    Some((t0, t1))
}

/// What a pickable thing is in the scene file: the same vocabulary as an entity's link.
pub type PickTarget = EntityLink;

/// The geometry a ray is tested against, in twin space.
// The box variant (two matrices) is the common one and is tested in the picking loop; boxing it would add
// a pointer chase per test for no saving (pickables are built once per site).
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq)]
pub enum Shape {
    /// A model-space box under an affine world-from-model transform.
    OrientedBox {
        /// The model's bounds in its own frame.
        local: WorldAabb,
        /// World-from-model transform.
        world_from_local: DMat4,
        /// Model-from-world (the inverse), kept to test rays without inverting per pick.
        local_from_world: DMat4,
    },
    /// A vertical prism: a footprint polygon (ENU x/y) extruded from `base` to `top` metres.
    Prism {
        /// The outer ring, without a repeated closing point.
        outer: Vec<DVec2>,
        /// Bottom height.
        base: f64,
        /// Top height.
        top: f64,
    },
}

impl Shape {
    /// An oriented box from a model's bounds and its placement; `None` for an empty box or a transform
    /// that cannot be inverted (zero scale).
    pub fn oriented_box(local: &Aabb, world_from_local: DMat4) -> Option<Shape> {
        if local.is_empty() || !world_from_local.is_finite() || world_from_local.determinant().abs() < 1e-18 {
            return None;
        }
        let local = WorldAabb { min: local.min.as_dvec3(), max: local.max.as_dvec3() };
        Some(Shape::OrientedBox { local, world_from_local, local_from_world: world_from_local.inverse() })
    }

    /// Where the ray first meets the shape (`t >= 0`), if at all. A ray starting inside the shape hits
    /// it at `t = 0`.
    pub fn intersect(&self, ray: &Ray) -> Option<f64> {
        match self {
            Shape::OrientedBox { local, local_from_world, .. } => {
                ray_aabb(&ray.transformed(local_from_world), local).map(|(t0, _)| t0)
            }
            Shape::Prism { outer, base, top } => ray_prism(ray, outer, *base, *top),
        }
    }

    /// The world-aligned bounding box of the shape.
    pub fn bounds(&self) -> Option<WorldAabb> {
        match self {
            Shape::OrientedBox { local, world_from_local, .. } => {
                let aabb = Aabb { min: local.min.as_vec3(), max: local.max.as_vec3() };
                WorldAabb::of_transformed(&aabb, world_from_local)
            }
            Shape::Prism { outer, base, top } => WorldAabb::from_points(
                outer.iter().flat_map(|p| [DVec3::new(p.x, p.y, *base), DVec3::new(p.x, p.y, *top)]),
            ),
        }
    }
}

/// Even-odd point-in-polygon test.
fn point_in_polygon(p: DVec2, ring: &[DVec2]) -> bool {
    let mut inside = false;
    let n = ring.len();
    for i in 0..n {
        let (a, b) = (ring[i], ring[(i + n - 1) % n]);
        if (a.y > p.y) != (b.y > p.y) {
            let x = a.x + (p.y - a.y) / (b.y - a.y) * (b.x - a.x);
            if p.x < x {
                inside = !inside;
            }
        }
    }
    inside
}

/// First `t >= 0` where the ray meets a vertical prism (caps and walls), or 0 if it starts inside.
fn ray_prism(ray: &Ray, outer: &[DVec2], base: f64, top: f64) -> Option<f64> {
    if outer.len() < 3 || top < base {
        return None;
    }
    let o2 = ray.origin.truncate();
    if (base..=top).contains(&ray.origin.z) && point_in_polygon(o2, outer) {
        return Some(0.0);
    }
    let mut best = f64::INFINITY;
    let d = ray.direction;
    // Caps.
    if d.z.abs() > 1e-300 {
        for z in [base, top] {
            let t = (z - ray.origin.z) / d.z;
            if t >= 0.0 && t < best && point_in_polygon(ray.at(t).truncate(), outer) {
                best = t;
            }
        }
    }
    // Walls: the ray's 2D projection against each edge, then the height at the crossing.
    let d2 = d.truncate();
    let n = outer.len();
    for i in 0..n {
        let (a, b) = (outer[i], outer[(i + 1) % n]);
        let e = b - a;
        let denom = d2.perp_dot(e);
        if denom.abs() < 1e-300 {
            continue;
        }
        let w = a - o2;
        let t = w.perp_dot(e) / denom;
        let s = w.perp_dot(d2) / denom;
        if t >= 0.0 && t < best && (0.0..=1.0).contains(&s) {
            let z = ray.origin.z + t * d.z;
            if (base..=top).contains(&z) {
                best = t;
            }
        }
    }
    best.is_finite().then_some(best)
}

/// One thing that can be picked.
#[derive(Clone, Debug, PartialEq)]
pub struct Pickable {
    /// What it is in the scene file.
    pub target: PickTarget,
    /// Its geometry in twin space.
    pub shape: Shape,
    /// The render placement that draws it, if it has one of its own (GeoJSON buildings share one).
    pub placement: Option<usize>,
    /// The layer it belongs to (hidden layers are not picked), if any.
    pub layer: Option<usize>,
}

/// A ray hit.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Hit {
    /// Index into the pickables.
    pub index: usize,
    /// Ray parameter of the hit (metres along a unit ray).
    pub t: f64,
    /// The hit point.
    pub point: DVec3,
}

/// The nearest pickable the ray hits, if any.
///
/// Hits at `t = 0` (the ray starts inside a shape, say a camera in a tower's bounding box) rank after
/// every hit in front of the ray, so standing inside one thing still lets you pick another.
pub fn pick(ray: &Ray, pickables: &[Pickable]) -> Option<Hit> {
    let mut best: Option<(bool, f64, usize)> = None;
    for (index, p) in pickables.iter().enumerate() {
        let Some(t) = p.shape.intersect(ray) else { continue };
        let inside = t <= 0.0;
        let better = match best {
            None => true,
            Some((b_inside, bt, _)) => (inside, t) < (b_inside, bt),
        };
        if better {
            best = Some((inside, t, index));
        }
    }
    best.map(|(_, t, index)| Hit { index, t, point: ray.at(t) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use glam::{DQuat, Vec3};

    fn unit_box() -> Aabb {
        Aabb { min: Vec3::splat(-0.5), max: Vec3::splat(0.5) }
    }

    fn boxed(name: &str, at: DVec3) -> Pickable {
        Pickable {
            target: PickTarget::Placement(name.into()),
            shape: Shape::oriented_box(&unit_box(), DMat4::from_translation(at)).unwrap(),
            placement: None,
            layer: None,
        }
    }

    fn ray(o: [f64; 3], d: [f64; 3]) -> Ray {
        Ray::new(DVec3::from_array(o), DVec3::from_array(d)).unwrap()
    }

    #[test]
    fn nearest_of_overlapping_entities_wins() {
        // Two boxes along +Y that overlap (0.5 and 0.9 m centres): the nearer one is picked, whatever the order.
        let near = boxed("near", DVec3::new(0.0, 5.0, 0.0));
        let far = boxed("far", DVec3::new(0.0, 5.4, 0.0));
        let r = ray([0.0, 0.0, 0.0], [0.0, 1.0, 0.0]);
        for list in [vec![near.clone(), far.clone()], vec![far, near]] {
            let hit = pick(&r, &list).expect("a hit");
            assert_eq!(list[hit.index].target, PickTarget::Placement("near".into()));
            assert!((hit.t - 4.5).abs() < 1e-9, "entry face at y = 4.5, got {}", hit.t);
            assert!((hit.point - DVec3::new(0.0, 4.5, 0.0)).length() < 1e-9);
        }
    }

    #[test]
    fn miss_and_behind_give_nothing() {
        let list = vec![boxed("a", DVec3::new(0.0, 5.0, 0.0))];
        assert!(pick(&ray([0.0, 0.0, 0.0], [1.0, 0.0, 0.0]), &list).is_none(), "perpendicular ray");
        assert!(pick(&ray([0.0, 0.0, 0.0], [0.0, -1.0, 0.0]), &list).is_none(), "box behind the origin");
        assert!(pick(&ray([0.0, 0.0, 0.6], [0.0, 1.0, 0.0]), &list).is_none(), "passes just above");
        assert!(pick(&ray([0.0, 0.0, 0.0], [0.0, 1.0, 0.0]), &[]).is_none());
    }

    #[test]
    fn oriented_box_uses_the_rotation_and_scale() {
        // A 1 m box scaled 10x along its X, turned 90° (its X now along world Y): 10 m long north-south.
        let m = DMat4::from_scale_rotation_translation(
            DVec3::new(10.0, 1.0, 1.0),
            DQuat::from_rotation_z(std::f64::consts::FRAC_PI_2),
            DVec3::new(20.0, 0.0, 0.0),
        );
        let p = Pickable {
            target: PickTarget::Placement("wall".into()),
            shape: Shape::oriented_box(&unit_box(), m).unwrap(),
            placement: Some(3),
            layer: None,
        };
        // A ray going east at y = 4 hits it (the wall spans y in [-5, 5]) at x = 19.5.
        let hit = pick(&ray([0.0, 4.0, 0.0], [1.0, 0.0, 0.0]), std::slice::from_ref(&p)).expect("hit");
        assert!((hit.t - 19.5).abs() < 1e-9, "{}", hit.t);
        // At y = 6 it passes north of the wall.
        assert!(pick(&ray([0.0, 6.0, 0.0], [1.0, 0.0, 0.0]), std::slice::from_ref(&p)).is_none());
        let b = p.shape.bounds().unwrap();
        assert!((b.min - DVec3::new(19.5, -5.0, -0.5)).length() < 1e-9, "{b:?}");
        assert!((b.max - DVec3::new(20.5, 5.0, 0.5)).length() < 1e-9, "{b:?}");
        assert!(Shape::oriented_box(&unit_box(), DMat4::from_scale(DVec3::ZERO)).is_none());
        assert!(Shape::oriented_box(&Aabb::EMPTY, DMat4::IDENTITY).is_none());
    }

    #[test]
    fn prism_courtyard_is_not_solid() {
        // An L-shaped block: 0..20 x 0..20 minus the quadrant 10..20 x 10..20, 9 m tall.
        let outer = vec![
            DVec2::new(0.0, 0.0),
            DVec2::new(20.0, 0.0),
            DVec2::new(20.0, 10.0),
            DVec2::new(10.0, 10.0),
            DVec2::new(10.0, 20.0),
            DVec2::new(0.0, 20.0),
        ];
        let shape = Shape::Prism { outer, base: 0.0, top: 9.0 };
        // Straight down into the missing quadrant: no hit. Into the solid part: the roof at z = 9.
        assert_eq!(shape.intersect(&ray([15.0, 15.0, 50.0], [0.0, 0.0, -1.0])), None);
        let t = shape.intersect(&ray([5.0, 5.0, 50.0], [0.0, 0.0, -1.0])).unwrap();
        assert!((t - 41.0).abs() < 1e-9, "{t}");
        // Horizontally from the west at 3 m: the west wall at x = 0.
        let t = shape.intersect(&ray([-7.0, 15.0, 3.0], [1.0, 0.0, 0.0])).unwrap();
        assert!((t - 7.0).abs() < 1e-9, "{t}");
        // The same ray above the roof misses; one starting inside hits at 0.
        assert_eq!(shape.intersect(&ray([-7.0, 15.0, 9.5], [1.0, 0.0, 0.0])), None);
        assert_eq!(shape.intersect(&ray([5.0, 5.0, 1.0], [1.0, 0.0, 0.0])), Some(0.0));
        let b = shape.bounds().unwrap();
        assert_eq!((b.min, b.max), (DVec3::ZERO, DVec3::new(20.0, 20.0, 9.0)));
    }

    #[test]
    fn a_hit_in_front_beats_a_shape_around_the_origin() {
        // The camera stands inside a big box; a small box ahead is still the pick.
        let around = Pickable {
            target: PickTarget::Feature("way/1".into()),
            shape: Shape::oriented_box(&unit_box(), DMat4::from_scale(DVec3::splat(100.0))).unwrap(),
            placement: None,
            layer: None,
        };
        let ahead = boxed("ahead", DVec3::new(0.0, 10.0, 0.0));
        let hit = pick(&ray([0.0, 0.0, 0.0], [0.0, 1.0, 0.0]), &[around.clone(), ahead]).unwrap();
        assert_eq!(hit.index, 1);
        // Alone, the box around the camera is picked at t = 0.
        assert_eq!(pick(&ray([0.0, 0.0, 0.0], [0.0, 1.0, 0.0]), &[around]).unwrap().t, 0.0);
    }

    #[test]
    fn ray_rejects_degenerate_input() {
        assert!(Ray::new(DVec3::ZERO, DVec3::ZERO).is_none());
        assert!(Ray::new(DVec3::NAN, DVec3::X).is_none());
        assert!(Ray::new(DVec3::ZERO, DVec3::new(f64::INFINITY, 0.0, 0.0)).is_none());
    }
}
