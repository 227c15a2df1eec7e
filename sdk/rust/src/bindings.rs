//! The wit-bindgen output for `sangam:plugin@1.3.0`. Hidden from plugin authors: the rest of the crate
//! re-exports the types and wraps the calls.
//!
//! # Why four small worlds instead of the three in the WIT
//!
//! The WIT's role worlds (`adapter-plugin`, `simulation-plugin`, `overlay-plugin`) all export the same
//! `describe` interface. wit-bindgen names an interface's export macro after the interface alone and,
//! for use from another crate (`pub_export_macro`), puts it at this crate's root, so generating the
//! three worlds here would define `describe`'s macro three times. Instead this module generates four
//! worlds of an internal package (`sdk/rust/wit/glue.wit`) that split each role world in two: the role's own export with the
//! role world's imports (`sim`, `adapter`, `overlay`), and `describe` alone (`describe`). An
//! `export_*!` macro emits both halves into the plugin, and wit-component unions the two custom
//! sections into exactly the role world's shape: the same imports, the same two exports.
//!
//! The `sim` world is generated first and owns every shared interface (`types`, `log`, `clock`,
//! `params`, `twin`, `geometry`, `output`); the others reuse those through `with`, so an [`Updates`](crate::Updates) is one
//! Rust type whatever the role.
//!
//! With `pub_export_macro` wit-bindgen puts only the *imports* of a world into this library's
//! `component-type` custom section; the full world (with its exports) is emitted by the export macro
//! inside the plugin crate that invokes it, so a plugin never claims the exports of other roles.

/// Bindings of the simulation role (and of every interface the roles share).
pub mod simulation {
    wit_bindgen::generate!({
        path: ["../wit/v1.3.0", "wit/glue.wit"],
        world: "sangam:sdk-glue/sim@1.3.0",
        generate_all,
        pub_export_macro: true,
        export_macro_name: "export_sim_world",
        default_bindings_module: "$crate::__bindings::simulation",
        additional_derives: [PartialEq],
    });
}

/// Bindings of the adapter role.
pub mod adapter {
    wit_bindgen::generate!({
        path: ["../wit/v1.3.0", "wit/glue.wit"],
        world: "sangam:sdk-glue/adapter@1.3.0",
        pub_export_macro: true,
        export_macro_name: "export_adapter_world",
        default_bindings_module: "$crate::__bindings::adapter",
        additional_derives: [PartialEq],
        with: {
            "sangam:plugin/types@1.3.0": crate::__bindings::simulation::sangam::plugin::types,
            "sangam:plugin/log@1.3.0": crate::__bindings::simulation::sangam::plugin::log,
            "sangam:plugin/clock@1.3.0": crate::__bindings::simulation::sangam::plugin::clock,
            "sangam:plugin/params@1.3.0": crate::__bindings::simulation::sangam::plugin::params,
        },
    });
}

/// Bindings of the overlay role.
pub mod overlay {
    wit_bindgen::generate!({
        path: ["../wit/v1.3.0", "wit/glue.wit"],
        world: "sangam:sdk-glue/overlay@1.3.0",
        pub_export_macro: true,
        export_macro_name: "export_overlay_world",
        default_bindings_module: "$crate::__bindings::overlay",
        additional_derives: [PartialEq],
        with: {
            "sangam:plugin/types@1.3.0": crate::__bindings::simulation::sangam::plugin::types,
            "sangam:plugin/log@1.3.0": crate::__bindings::simulation::sangam::plugin::log,
            "sangam:plugin/clock@1.3.0": crate::__bindings::simulation::sangam::plugin::clock,
            "sangam:plugin/params@1.3.0": crate::__bindings::simulation::sangam::plugin::params,
            "sangam:plugin/twin@1.3.0": crate::__bindings::simulation::sangam::plugin::twin,
            "sangam:plugin/geometry@1.3.0": crate::__bindings::simulation::sangam::plugin::geometry,
            "sangam:plugin/overlay-types@1.3.0": generate,
        },
    });
}

/// Bindings of `describe`, exported by every role.
pub mod describe {
    wit_bindgen::generate!({
        path: ["../wit/v1.3.0", "wit/glue.wit"],
        world: "sangam:sdk-glue/describe@1.3.0",
        pub_export_macro: true,
        export_macro_name: "export_describe_world",
        default_bindings_module: "$crate::__bindings::describe",
        additional_derives: [PartialEq],
        with: {
            "sangam:plugin/types@1.3.0": crate::__bindings::simulation::sangam::plugin::types,
        },
    });
}
