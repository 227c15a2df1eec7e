//! Input through OpenXR actions: one action set with aim and grip poses, a select button and a
//! haptic output per hand, with suggested bindings for common controllers. The per-frame result is
//! plain data ([`InputState`]) so interaction logic can be tested without a runtime.

use std::time::Duration;

use crate::convert::{Pose, pose_from_openxr};
use crate::error::{XrError, XrResult};

/// A hand (controller).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Hand {
    /// The left hand, `/user/hand/left`.
    Left,
    /// The right hand, `/user/hand/right`.
    Right,
}

impl Hand {
    /// Both hands, left first (the order of [`InputState::hands`]).
    pub const BOTH: [Hand; 2] = [Hand::Left, Hand::Right];

    /// Index into [`InputState::hands`].
    pub fn index(self) -> usize {
        match self {
            Hand::Left => 0,
            Hand::Right => 1,
        }
    }

    /// The OpenXR top-level user path.
    pub fn user_path(self) -> &'static str {
        match self {
            Hand::Left => "/user/hand/left",
            Hand::Right => "/user/hand/right",
        }
    }
}

/// One hand's input this frame. Poses are in the stage frame (Z up; see [`crate::convert`]).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct HandState {
    /// Whether the runtime has a device bound to this hand's actions right now.
    pub active: bool,
    /// The aim pose (pointing ray: origin and -Z forward), when tracked.
    pub aim: Option<Pose>,
    /// The grip pose (where the hand holds the controller), when tracked.
    pub grip: Option<Pose>,
    /// Whether select (trigger / click) is held.
    pub select: bool,
    /// Whether select went down this frame.
    pub select_pressed: bool,
    /// Whether select went up this frame.
    pub select_released: bool,
    /// Whether the hand squeezes (grip button, or a grasp with hand tracking): grabbing the twin.
    /// Always false on profiles without one (the simple controller).
    pub squeeze: bool,
    /// Thumbstick deflection, x right and y up, each in -1..=1 (zero without a thumbstick).
    pub thumbstick: glam::DVec2,
    /// Whether the thumbstick was clicked down this frame.
    pub thumbstick_pressed: bool,
    /// Whether the primary button went down this frame (A / X; the menu button on the simple
    /// controller).
    pub primary_pressed: bool,
    /// Whether the secondary button went down this frame (B / Y).
    pub secondary_pressed: bool,
}

/// Input for one frame.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct InputState {
    /// Left then right hand (index with [`Hand::index`]).
    pub hands: [HandState; 2],
    /// Whether the actions were synchronised this frame (only while the session is FOCUSED).
    pub synced: bool,
}

impl InputState {
    /// One hand's state.
    pub fn hand(&self, hand: Hand) -> &HandState {
        &self.hands[hand.index()]
    }
}

/// A haptic pulse to play on one controller.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct HapticPulse {
    /// Which controller.
    pub hand: Hand,
    /// How long (the runtime may shorten it).
    pub duration: Duration,
    /// Amplitude, 0 to 1 (clamped).
    pub amplitude: f32,
    /// Frequency in Hz, or `None` for the runtime's default.
    pub frequency: Option<f32>,
}

impl HapticPulse {
    /// A short, light tick (selection feedback).
    pub fn tick(hand: Hand) -> HapticPulse {
        HapticPulse { hand, duration: Duration::from_millis(20), amplitude: 0.5, frequency: None }
    }
}

/// The interaction profiles Sangam suggests bindings for, with their (action, component) pairs.
/// Components are appended to each hand's user path; one starting `left:` or `right:` is bound for
/// that hand only (the Touch controller's buttons differ between hands).
pub(crate) const PROFILES: &[(&str, &[(ActionKind, &str)])] = &[
    (
        "/interaction_profiles/khr/simple_controller",
        &[
            (ActionKind::Aim, "input/aim/pose"),
            (ActionKind::Grip, "input/grip/pose"),
            (ActionKind::Select, "input/select/click"),
            (ActionKind::Primary, "input/menu/click"),
            (ActionKind::Haptic, "output/haptic"),
        ],
    ),
    (
        "/interaction_profiles/oculus/touch_controller",
        &[
            (ActionKind::Aim, "input/aim/pose"),
            (ActionKind::Grip, "input/grip/pose"),
            (ActionKind::Select, "input/trigger/value"),
            (ActionKind::Squeeze, "input/squeeze/value"),
            (ActionKind::Thumbstick, "input/thumbstick"),
            (ActionKind::ThumbstickClick, "input/thumbstick/click"),
            (ActionKind::Primary, "left:input/x/click"),
            (ActionKind::Primary, "right:input/a/click"),
            (ActionKind::Secondary, "left:input/y/click"),
            (ActionKind::Secondary, "right:input/b/click"),
            (ActionKind::Haptic, "output/haptic"),
        ],
    ),
    (
        "/interaction_profiles/valve/index_controller",
        &[
            (ActionKind::Aim, "input/aim/pose"),
            (ActionKind::Grip, "input/grip/pose"),
            (ActionKind::Select, "input/trigger/click"),
            (ActionKind::Squeeze, "input/squeeze/value"),
            (ActionKind::Thumbstick, "input/thumbstick"),
            (ActionKind::ThumbstickClick, "input/thumbstick/click"),
            (ActionKind::Primary, "input/a/click"),
            (ActionKind::Secondary, "input/b/click"),
            (ActionKind::Haptic, "output/haptic"),
        ],
    ),
];

/// Hand tracking as a controller (`XR_EXT_hand_interaction`): aim and grip poses, pinch as select, a
/// grasp as squeeze; no haptics. Suggested only when the runtime offers the extension (it is then enabled on the instance).
pub(crate) const HAND_INTERACTION: (&str, &[(ActionKind, &str)]) = (
    "/interaction_profiles/ext/hand_interaction_ext",
    &[
        (ActionKind::Aim, "input/aim/pose"),
        (ActionKind::Grip, "input/grip/pose"),
        (ActionKind::Select, "input/pinch_ext/value"),
        (ActionKind::Squeeze, "input/grasp_ext/value"),
    ],
);

/// Which of the actions a binding is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ActionKind {
    Aim,
    Grip,
    Select,
    /// Squeeze to grab (a float value bound to a boolean action: the runtime applies its threshold).
    Squeeze,
    /// Thumbstick deflection.
    Thumbstick,
    /// Thumbstick click.
    ThumbstickClick,
    /// Primary button.
    Primary,
    /// Secondary button.
    Secondary,
    Haptic,
}

/// The component of `spec` for `hand`: the spec itself, or its rest after a matching `left:` /
/// `right:` prefix; `None` when the spec names the other hand.
pub(crate) fn component_for(spec: &str, hand: Hand) -> Option<&str> {
    match spec.split_once(':') {
        Some(("left", rest)) => (hand == Hand::Left).then_some(rest),
        Some(("right", rest)) => (hand == Hand::Right).then_some(rest),
        _ => Some(spec),
    }
}

/// The action set and its actions (created on the instance, before the session).
pub(crate) struct Actions {
    set: openxr::ActionSet,
    aim: openxr::Action<openxr::Posef>,
    grip: openxr::Action<openxr::Posef>,
    select: openxr::Action<bool>,
    squeeze: openxr::Action<bool>,
    thumbstick: openxr::Action<openxr::Vector2f>,
    thumbstick_click: openxr::Action<bool>,
    primary: openxr::Action<bool>,
    secondary: openxr::Action<bool>,
    haptic: openxr::Action<openxr::Haptic>,
    hand_paths: [openxr::Path; 2],
    /// Profiles whose bindings the runtime accepted.
    pub accepted_profiles: Vec<&'static str>,
}

/// The per-session part: action spaces for the poses.
pub(crate) struct ActionSpaces {
    aim: [openxr::Space; 2],
    grip: [openxr::Space; 2],
}

fn call(call: &'static str) -> impl Fn(openxr::sys::Result) -> XrError {
    move |result| XrError::Call { call, result }
}

impl Actions {
    /// Creates the action set and actions and suggests bindings for every known profile. A profile
    /// the runtime rejects is skipped with a warning (runtimes may not know every vendor's profile).
    pub(crate) fn new(instance: &openxr::Instance) -> XrResult<Actions> {
        let set = instance.create_action_set("sangam", "Sangam", 0).map_err(call("xrCreateActionSet"))?;
        let hand_paths = [
            instance.string_to_path(Hand::Left.user_path()).map_err(call("xrStringToPath"))?,
            instance.string_to_path(Hand::Right.user_path()).map_err(call("xrStringToPath"))?,
        ];
        let aim = set.create_action("aim_pose", "Aim", &hand_paths).map_err(call("xrCreateAction"))?;
        let grip = set.create_action("grip_pose", "Grip", &hand_paths).map_err(call("xrCreateAction"))?;
        let select = set.create_action("select", "Select", &hand_paths).map_err(call("xrCreateAction"))?;
        let squeeze = set.create_action("squeeze", "Squeeze (grab)", &hand_paths).map_err(call("xrCreateAction"))?;
        let thumbstick = set.create_action("thumbstick", "Thumbstick", &hand_paths).map_err(call("xrCreateAction"))?;
        let thumbstick_click =
            set.create_action("thumbstick_click", "Thumbstick click", &hand_paths).map_err(call("xrCreateAction"))?;
        let primary = set.create_action("primary", "Primary button", &hand_paths).map_err(call("xrCreateAction"))?;
        let secondary =
            set.create_action("secondary", "Secondary button", &hand_paths).map_err(call("xrCreateAction"))?;
        let haptic = set.create_action("haptic", "Haptic feedback", &hand_paths).map_err(call("xrCreateAction"))?;
        let mut actions = Actions {
            set,
            aim,
            grip,
            select,
            squeeze,
            thumbstick,
            thumbstick_click,
            primary,
            secondary,
            haptic,
            hand_paths,
            accepted_profiles: Vec::new(),
        };
        let hands = instance.exts().ext_hand_interaction.is_some().then_some(&HAND_INTERACTION);
        for (profile, components) in PROFILES.iter().chain(hands) {
            match actions.suggest(instance, profile, components) {
                Ok(()) => actions.accepted_profiles.push(profile),
                Err(e) => tracing::warn!("OpenXR runtime rejected the bindings for {profile}: {e}; skipping it"),
            }
        }
        Ok(actions)
    }

    fn suggest(
        &self,
        instance: &openxr::Instance,
        profile: &str,
        components: &[(ActionKind, &str)],
    ) -> Result<(), openxr::sys::Result> {
        let profile_path = instance.string_to_path(profile)?;
        let mut paths = Vec::new();
        for hand in Hand::BOTH {
            for (kind, spec) in components {
                let Some(component) = component_for(spec, hand) else { continue };
                paths.push((*kind, instance.string_to_path(&format!("{}/{component}", hand.user_path()))?));
            }
        }
        let bindings: Vec<openxr::Binding<'_>> = paths
            .iter()
            .map(|(kind, path)| match kind {
                ActionKind::Aim => openxr::Binding::new(&self.aim, *path),
                ActionKind::Grip => openxr::Binding::new(&self.grip, *path),
                ActionKind::Select => openxr::Binding::new(&self.select, *path),
                ActionKind::Squeeze => openxr::Binding::new(&self.squeeze, *path),
                ActionKind::Thumbstick => openxr::Binding::new(&self.thumbstick, *path),
                ActionKind::ThumbstickClick => openxr::Binding::new(&self.thumbstick_click, *path),
                ActionKind::Primary => openxr::Binding::new(&self.primary, *path),
                ActionKind::Secondary => openxr::Binding::new(&self.secondary, *path),
                ActionKind::Haptic => openxr::Binding::new(&self.haptic, *path),
            })
            .collect();
        instance.suggest_interaction_profile_bindings(profile_path, &bindings)
    }

    /// Attaches the action set to `session` and creates the pose spaces.
    pub(crate) fn attach(&self, session: &openxr::Session<openxr::Vulkan>) -> XrResult<ActionSpaces> {
        session.attach_action_sets(&[&self.set]).map_err(call("xrAttachSessionActionSets"))?;
        let space = |action: &openxr::Action<openxr::Posef>, i: usize| {
            action
                .create_space(session, self.hand_paths[i], openxr::Posef::IDENTITY)
                .map_err(call("xrCreateActionSpace"))
        };
        Ok(ActionSpaces {
            aim: [space(&self.aim, 0)?, space(&self.aim, 1)?],
            grip: [space(&self.grip, 0)?, space(&self.grip, 1)?],
        })
    }

    /// Synchronises the actions and reads both hands at `time` in `base` (the reference space).
    pub(crate) fn read(
        &self,
        session: &openxr::Session<openxr::Vulkan>,
        spaces: &ActionSpaces,
        base: &openxr::Space,
        time: openxr::Time,
    ) -> XrResult<InputState> {
        session.sync_actions(&[openxr::ActiveActionSet::new(&self.set)]).map_err(call("xrSyncActions"))?;
        let mut state = InputState { synced: true, ..Default::default() };
        for hand in Hand::BOTH {
            let i = hand.index();
            let path = self.hand_paths[i];
            let select = self.select.state(session, path).map_err(call("xrGetActionStateBoolean"))?;
            let squeeze = self.squeeze.state(session, path).map_err(call("xrGetActionStateBoolean"))?;
            let stick = self.thumbstick.state(session, path).map_err(call("xrGetActionStateVector2f"))?;
            let pressed = |action: &openxr::Action<bool>| -> XrResult<bool> {
                let state = action.state(session, path).map_err(call("xrGetActionStateBoolean"))?;
                Ok(state.is_active && state.current_state && state.changed_since_last_sync)
            };
            let (thumbstick_pressed, primary_pressed, secondary_pressed) =
                (pressed(&self.thumbstick_click)?, pressed(&self.primary)?, pressed(&self.secondary)?);
            let locate = |space: &openxr::Space| -> XrResult<Option<Pose>> {
                let loc = space.locate(base, time).map_err(call("xrLocateSpace"))?;
                let valid = openxr::SpaceLocationFlags::POSITION_VALID | openxr::SpaceLocationFlags::ORIENTATION_VALID;
                Ok(loc.location_flags.contains(valid).then(|| pose_from_openxr(&loc.pose)))
            };
            let aim_active = self.aim.is_active(session, path).map_err(call("xrGetActionStatePose"))?;
            let h = &mut state.hands[i];
            h.active = aim_active || select.is_active;
            h.aim = locate(&spaces.aim[i])?;
            h.grip = locate(&spaces.grip[i])?;
            h.select = select.is_active && select.current_state;
            h.select_pressed = h.select && select.changed_since_last_sync;
            h.select_released = select.is_active && !select.current_state && select.changed_since_last_sync;
            h.squeeze = squeeze.is_active && squeeze.current_state;
            let (x, y) = (f64::from(stick.current_state.x), f64::from(stick.current_state.y));
            h.thumbstick = if stick.is_active && x.is_finite() && y.is_finite() {
                glam::DVec2::new(x.clamp(-1.0, 1.0), y.clamp(-1.0, 1.0))
            } else {
                glam::DVec2::ZERO
            };
            h.thumbstick_pressed = thumbstick_pressed;
            h.primary_pressed = primary_pressed;
            h.secondary_pressed = secondary_pressed;
        }
        Ok(state)
    }

    /// Plays `pulse` on its controller.
    pub(crate) fn haptic(&self, session: &openxr::Session<openxr::Vulkan>, pulse: &HapticPulse) -> XrResult<()> {
        let nanos = i64::try_from(pulse.duration.as_nanos()).unwrap_or(i64::MAX);
        let vibration = openxr::HapticVibration::new()
            .duration(openxr::Duration::from_nanos(nanos))
            .amplitude(pulse.amplitude.clamp(0.0, 1.0))
            .frequency(pulse.frequency.filter(|f| f.is_finite() && *f > 0.0).unwrap_or(0.0));
        self.haptic
            .apply_feedback(session, self.hand_paths[pulse.hand.index()], &vibration)
            .map_err(call("xrApplyHapticFeedback"))
    }

    /// The interaction profile currently bound to `hand`, if any.
    pub(crate) fn current_profile(
        &self,
        instance: &openxr::Instance,
        session: &openxr::Session<openxr::Vulkan>,
        hand: Hand,
    ) -> Option<String> {
        let path = session.current_interaction_profile(self.hand_paths[hand.index()]).ok()?;
        if path == openxr::Path::NULL {
            return None;
        }
        instance.path_to_string(path).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// How many bindings `kind` has for `hand` in `components`.
    fn bound(components: &[(ActionKind, &str)], kind: ActionKind, hand: Hand) -> usize {
        components.iter().filter(|(k, spec)| *k == kind && component_for(spec, hand).is_some()).count()
    }

    #[test]
    fn every_profile_binds_every_action_for_both_hands() {
        for (profile, components) in PROFILES {
            for hand in Hand::BOTH {
                for kind in
                    [ActionKind::Aim, ActionKind::Grip, ActionKind::Select, ActionKind::Primary, ActionKind::Haptic]
                {
                    assert_eq!(bound(components, kind, hand), 1, "{profile} {kind:?} {hand:?}");
                }
                // Controllers with a thumbstick and two face buttons get all of them, on each hand.
                let full = !profile.ends_with("simple_controller");
                for kind in [ActionKind::Thumbstick, ActionKind::ThumbstickClick, ActionKind::Secondary] {
                    assert_eq!(bound(components, kind, hand), usize::from(full), "{profile} {kind:?} {hand:?}");
                }
            }
            assert!(profile.starts_with("/interaction_profiles/"));
        }
        assert_eq!(PROFILES.len(), 3);
        // Squeeze where the controller has a grip button: every profile but the simple controller.
        for (profile, components) in PROFILES {
            let squeezes = components.iter().filter(|(k, _)| *k == ActionKind::Squeeze).count();
            assert_eq!(squeezes, usize::from(!profile.ends_with("simple_controller")), "{profile}");
        }
        // Hands: poses, pinch for select and grasp for squeeze, no haptic output to bind.
        let (profile, components) = HAND_INTERACTION;
        assert!(profile.starts_with("/interaction_profiles/ext/"));
        for kind in [ActionKind::Aim, ActionKind::Grip, ActionKind::Select, ActionKind::Squeeze] {
            assert_eq!(components.iter().filter(|(k, _)| *k == kind).count(), 1, "{profile} {kind:?}");
        }
        assert!(!components.iter().any(|(k, _)| *k == ActionKind::Haptic));
    }

    #[test]
    fn hand_prefixed_components_bind_one_hand() {
        assert_eq!(component_for("left:input/x/click", Hand::Left), Some("input/x/click"));
        assert_eq!(component_for("left:input/x/click", Hand::Right), None);
        assert_eq!(component_for("right:input/a/click", Hand::Right), Some("input/a/click"));
        assert_eq!(component_for("input/a/click", Hand::Left), Some("input/a/click"));
    }

    #[test]
    fn hand_indices_match_order() {
        let mut s = InputState::default();
        s.hands[Hand::Right.index()].select = true;
        assert!(s.hand(Hand::Right).select);
        assert!(!s.hand(Hand::Left).select);
        assert_eq!(Hand::Left.user_path(), "/user/hand/left");
    }
}
