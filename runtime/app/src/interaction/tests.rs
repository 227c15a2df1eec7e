//! The interaction state machine driven by synthetic input frames.

use std::time::Duration;

use glam::{DMat4, DQuat, DVec2, DVec3, Vec3};
use sangam_render::model::Aabb;
use sangam_render::scene::Placement;
use sangam_twin::{Entity, EntityId, EntityLink, PropertyValue, SimTime, TwinStore, Unit};

use super::camera::Camera;
use super::layout::{LayerGroup, LayerSource, SiteLayout};
use super::pick::{Pickable, Ray, Shape};
use super::twin_pose::GrabDelta;
use super::*;

/// Two 30 m towers 10 m apart on the north axis (layer 0), a 20 x 20 x 9 m building (layer 1), ground (layer 2).
fn layout() -> SiteLayout {
    let tower = Aabb { min: Vec3::new(-1.0, -1.0, 0.0), max: Vec3::new(1.0, 1.0, 30.0) };
    let towers = [("t1", DVec3::new(0.0, 100.0, 0.0)), ("t2", DVec3::new(0.0, 110.0, 0.0))];
    let mut pickables: Vec<Pickable> = towers
        .iter()
        .enumerate()
        .map(|(i, (id, at))| Pickable {
            target: EntityLink::Placement((*id).into()),
            shape: Shape::oriented_box(&tower, DMat4::from_translation(*at)).unwrap(),
            placement: Some(i),
            layer: Some(0),
        })
        .collect();
    pickables.push(Pickable {
        target: EntityLink::Feature("way/1".into()),
        shape: Shape::Prism {
            outer: vec![DVec2::new(50.0, 50.0), DVec2::new(70.0, 50.0), DVec2::new(70.0, 70.0), DVec2::new(50.0, 70.0)],
            base: 0.0,
            top: 9.0,
        },
        placement: None,
        layer: Some(1),
    });
    let bounds = pickables.iter().filter_map(|p| p.shape.bounds()).reduce(|a, b| a.union(&b));
    SiteLayout {
        layers: vec![
            LayerGroup { name: "placed assets".into(), placements: 0..2, source: LayerSource::Placements },
            LayerGroup { name: "osm buildings".into(), placements: 2..3, source: LayerSource::Buildings(0) },
            LayerGroup { name: "ground".into(), placements: 3..4, source: LayerSource::Ground },
        ],
        pickables,
        entities: vec![(EntityLink::Placement("t1".into()), EntityId::new("site-1"))],
        bounds,
    }
}

fn base_placements() -> Vec<Placement> {
    vec![
        Placement::at(0, DVec3::new(0.0, 100.0, 0.0)),
        Placement::at(0, DVec3::new(0.0, 110.0, 0.0)),
        Placement { model: 1, world_from_model: DMat4::IDENTITY },
        Placement { model: 2, world_from_model: DMat4::IDENTITY },
    ]
}

fn interaction() -> Interaction {
    let camera = Camera::looking_at(DVec3::new(0.0, 0.0, 20.0), DVec3::new(0.0, 100.0, 20.0), 1.0);
    let bookmarks = vec![NamedCamera {
        name: "roof".into(),
        camera: Camera::looking_at(DVec3::new(60.0, 40.0, 20.0), DVec3::new(60.0, 60.0, 9.0), 1.0),
    }];
    Interaction::new(layout(), camera, bookmarks)
}

fn north_ray(z: f64) -> Ray {
    Ray::new(DVec3::new(0.0, 0.0, z), DVec3::Y).unwrap()
}

fn select(ray: Ray) -> InputFrame {
    InputFrame { pointer: Some(ray), select: true, ..Default::default() }
}

#[test]
fn select_picks_the_nearest_and_ticks_haptics() {
    let mut ia = interaction();
    let out = ia.update(&select(north_ray(20.0)));
    let s = ia.selection().expect("a tower is selected").clone();
    assert_eq!(s.target, EntityLink::Placement("t1".into()), "the nearer of two towers in line");
    assert_eq!(s.entity, Some(EntityId::new("site-1")));
    assert_eq!(s.placement, Some(0));
    assert!((s.point - DVec3::new(0.0, 99.0, 20.0)).length() < 1e-9, "{:?}", s.point);
    assert_eq!(out.events, vec![InteractionEvent::Selected(s), InteractionEvent::Haptic(SELECT_HAPTIC)]);
}

#[test]
fn a_miss_clears_the_selection_without_haptics() {
    let mut ia = interaction();
    ia.update(&select(north_ray(20.0)));
    // Above both towers (30 m tall): nothing.
    let out = ia.update(&select(north_ray(40.0)));
    assert!(ia.selection().is_none());
    assert_eq!(out.events, vec![InteractionEvent::Deselected]);
    // A second miss says nothing.
    assert!(ia.update(&select(north_ray(40.0))).events.is_empty());
    // Pointing without pressing select changes nothing.
    let out = ia.update(&InputFrame { pointer: Some(north_ray(20.0)), ..Default::default() });
    assert!(out.events.is_empty() && ia.selection().is_none());
}

#[test]
fn hidden_layers_are_neither_drawn_nor_picked() {
    let mut ia = interaction();
    let out = ia.update(&InputFrame { toggle_layer: Some(0), ..Default::default() });
    assert!(out.placements_changed);
    assert_eq!(
        out.events,
        vec![InteractionEvent::LayerToggled { index: 0, name: "placed assets".into(), visible: false }]
    );
    let placements = ia.placements(&base_placements());
    assert_eq!(placements.iter().map(|p| p.model).collect::<Vec<_>>(), vec![1, 2], "towers gone");
    ia.update(&select(north_ray(20.0)));
    assert!(ia.selection().is_none(), "a hidden tower cannot be selected");
    // The building is still pickable; hide its layer and it is not.
    let down_on_roof = Ray::new(DVec3::new(60.0, 60.0, 100.0), DVec3::NEG_Z).unwrap();
    ia.update(&select(down_on_roof));
    assert_eq!(ia.selection().map(|s| s.target.clone()), Some(EntityLink::Feature("way/1".into())));
    ia.update(&InputFrame { toggle_layer: Some(1), ..Default::default() });
    ia.update(&select(down_on_roof));
    assert!(ia.selection().is_none());
    // Out-of-range layer indices are ignored.
    assert!(ia.update(&InputFrame { toggle_layer: Some(99), ..Default::default() }).events.is_empty());
    ia.update(&InputFrame { toggle_layer: Some(0), ..Default::default() });
    assert_eq!(ia.placements(&base_placements()).len(), 3);
}

#[test]
fn tabletop_shrinks_the_twin_in_front_of_the_viewer_and_back() {
    let mut ia = interaction();
    ia.set_tabletop_scale(1.0 / 500.0);
    let walk_camera = ia.camera;
    let out = ia.update(&InputFrame { toggle_tabletop: true, ..Default::default() });
    assert_eq!(out.events, vec![InteractionEvent::ModeChanged(TwinMode::Tabletop)]);
    assert!(out.placements_changed);
    assert_eq!(ia.mode(), TwinMode::Tabletop);
    let pose = *ia.twin_pose();
    let center = layout().bounds.unwrap().center();
    // The site centre sits 0.8 m ahead (north) of the eye and 0.6 m below it.
    let table = walk_camera.eye + DVec3::new(0.0, TABLE_DISTANCE_M, -TABLE_DROP_M);
    assert!((pose.to_world(center) - table).length() < 1e-9, "{:?}", pose.to_world(center));
    assert!((pose.scale - 0.002).abs() < 1e-15);
    // The camera now looks at the table.
    assert!((ia.camera.pivot() - table).length() < 1e-9);
    // Placements are the twin pose times the originals.
    let placed = ia.placements(&base_placements());
    let tower = placed[0].world_from_model.transform_point3(DVec3::ZERO);
    assert!((tower - pose.to_world(DVec3::new(0.0, 100.0, 0.0))).length() < 1e-12);
    // Picking works on the small twin: a ray at the scaled tower t1 from its south side selects it.
    let t1_mid = pose.to_world(DVec3::new(0.0, 100.0, 15.0));
    let ray = Ray::new(t1_mid - DVec3::Y, DVec3::Y).unwrap();
    ia.update(&select(ray));
    let s = ia.selection().expect("picked on the table").clone();
    assert_eq!(s.target, EntityLink::Placement("t1".into()));
    assert!((s.point - pose.to_world(DVec3::new(0.0, 99.0, 15.0))).length() < 1e-9, "hit point in world space");
    // Teleport does nothing on a table.
    let out = ia.update(&InputFrame { pointer: Some(ray), teleport: true, ..Default::default() });
    assert!(out.events.is_empty());
    // Back to walk-through: identity pose, the walking camera restored.
    let out = ia.update(&InputFrame { toggle_tabletop: true, ..Default::default() });
    assert_eq!(out.events, vec![InteractionEvent::ModeChanged(TwinMode::WalkThrough)]);
    assert!(ia.twin_pose().is_identity());
    assert_eq!(ia.camera, walk_camera);
    assert_eq!(ia.placements(&base_placements()), base_placements());
}

#[test]
fn grabbing_moves_the_whole_twin() {
    let mut ia = interaction();
    ia.update(&InputFrame { toggle_tabletop: true, ..Default::default() });
    let before = *ia.twin_pose();
    let grab = GrabDelta {
        pivot: before.to_world(DVec3::ZERO),
        translation: DVec3::new(0.0, 0.0, 0.1),
        rotation: DQuat::from_rotation_z(0.3),
        scale: 1.5,
    };
    let out = ia.update(&InputFrame { grab: Some(grab), ..Default::default() });
    assert!(out.placements_changed);
    assert_eq!(*ia.twin_pose(), before.grabbed(&grab));
    // The twin origin was the pivot: it only moved up by 0.1 m.
    let origin = ia.twin_pose().to_world(DVec3::ZERO);
    assert!((origin - (before.to_world(DVec3::ZERO) + DVec3::new(0.0, 0.0, 0.1))).length() < 1e-9);
    // A broken grab (NaN from a lost hand) changes nothing.
    let bad = GrabDelta { scale: f64::NAN, ..grab };
    assert!(!ia.update(&InputFrame { grab: Some(bad), ..Default::default() }).placements_changed);
}

#[test]
fn teleport_lands_on_roofs_and_the_ground() {
    let mut ia = interaction();
    let onto_roof = Ray::new(DVec3::new(60.0, 60.0, 100.0), DVec3::NEG_Z).unwrap();
    let out = ia.update(&InputFrame { pointer: Some(onto_roof), teleport: true, ..Default::default() });
    assert_eq!(out.events, vec![InteractionEvent::Teleported(DVec3::new(60.0, 60.0, 9.0))]);
    assert!((ia.camera.eye - DVec3::new(60.0, 60.0, 9.0 + camera::EYE_HEIGHT_M)).length() < 1e-9);
    // Down and away onto open ground.
    let onto_ground = Ray::new(DVec3::new(0.0, 0.0, 10.0), DVec3::new(-1.0, 0.0, -1.0)).unwrap();
    let out = ia.update(&InputFrame { pointer: Some(onto_ground), teleport: true, ..Default::default() });
    match out.events.as_slice() {
        [InteractionEvent::Teleported(p)] => assert!((*p - DVec3::new(-10.0, 0.0, 0.0)).length() < 1e-9, "{p:?}"),
        other => panic!("expected one teleport, got {other:?}"),
    }
    // Into the sky: no teleport.
    let up = Ray::new(DVec3::new(0.0, 0.0, 10.0), DVec3::Z).unwrap();
    assert!(ia.update(&InputFrame { pointer: Some(up), teleport: true, ..Default::default() }).events.is_empty());
}

#[test]
fn inspector_follows_selection_and_the_displayed_time() {
    let mut store = TwinStore::new();
    let mut e = Entity::new("site-1", "telecom.site");
    e.link = Some(EntityLink::Placement("t1".into()));
    e.properties.insert("tx_power".into(), PropertyValue::Quantity { value: 43.0, unit: Unit::parse("dBm") });
    store.add_entity(SimTime::ZERO, e).unwrap();
    let id = EntityId::new("site-1");
    let dbm = |v| PropertyValue::Quantity { value: v, unit: Unit::parse("dBm") };
    store.record(&id, "tx_power", SimTime::from_millis(400), dbm(40.0)).unwrap();

    let mut ia = interaction();
    let live = SimTime::from_millis(800);
    assert!(ia.inspector(&store, live).is_none(), "nothing selected");
    ia.update(&select(north_ray(20.0)));
    let now = ia.inspector(&store, live).expect("site-1 is selected");
    assert_eq!(now.entity, id);
    assert_eq!(now.rows[0].numeric, Some(40.0));
    assert_eq!(now.chart.as_ref().map(|c| c.points.len()), Some(2));
    // The session's playhead half a second back.
    let past = ia.inspector(&store, SimTime::from_millis(300)).unwrap();
    assert_eq!(past.at, SimTime::from_millis(300));
    assert_eq!(past.rows[0].numeric, Some(43.0), "the value before the 0.4 s change");
    // The second tower has no entity: selected, but no inspector.
    ia.update(&select(Ray::new(DVec3::new(0.0, 105.0, 20.0), DVec3::Y).unwrap()));
    assert_eq!(ia.selection().map(|s| s.entity.clone()), Some(None));
    assert!(ia.inspector(&store, live).is_none());
}

#[test]
fn bookmarks_and_camera_input_move_the_viewer() {
    let mut ia = interaction();
    let out = ia.update(&InputFrame { bookmark: Some(0), ..Default::default() });
    assert_eq!(out.events, vec![InteractionEvent::Bookmark("roof".into())]);
    assert_eq!(ia.camera, ia.bookmarks()[0].camera);
    assert!(ia.update(&InputFrame { bookmark: Some(5), ..Default::default() }).events.is_empty());
    let pivot = ia.camera.pivot();
    ia.update(&InputFrame { orbit: DVec2::new(0.5, 0.1), ..Default::default() });
    assert!((ia.camera.pivot() - pivot).length() < 1e-9, "orbit keeps the pivot");
    let d = ia.camera.focus_distance;
    ia.update(&InputFrame { zoom_steps: 2.0, ..Default::default() });
    assert!((ia.camera.focus_distance - d * ZOOM_PER_STEP * ZOOM_PER_STEP).abs() < 1e-9);
    let eye = ia.camera.eye;
    ia.update(&InputFrame { fly: DVec3::new(0.0, 5.0, 0.0), dt: Duration::from_millis(100), ..Default::default() });
    let moved = (ia.camera.eye - eye).length();
    assert!((moved - ia.camera.fly_speed() * 0.1).abs() < 1e-9, "fly input is clamped to 1: {moved}");
}

#[test]
fn scripted_input_replays_frames_in_order() {
    let mut ia = interaction();
    let mut script = ScriptedInput::new([
        InputFrame { toggle_layer: Some(2), ..Default::default() },
        select(north_ray(20.0)),
        InputFrame { toggle_tabletop: true, ..Default::default() },
    ]);
    let mut events = Vec::new();
    while let Some(frame) = script.next_frame() {
        events.extend(ia.update(&frame).events);
    }
    assert!(matches!(events[0], InteractionEvent::LayerToggled { index: 2, visible: false, .. }));
    assert!(matches!(events[1], InteractionEvent::Selected(_)));
    assert!(matches!(events[2], InteractionEvent::Haptic(_)));
    assert_eq!(events[3], InteractionEvent::ModeChanged(TwinMode::Tabletop));
    assert_eq!(events.len(), 4);
    assert!(script.next_frame().is_none());
}
