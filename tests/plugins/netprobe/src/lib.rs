//! A fixture overlay (SDK 1.1) that reaches for the network: `draw` opens a TCP connection, so the
//! component imports `wasi:sockets`. No scene can grant networking; `plugin check` and every front
//! end must refuse it, with the same reason, before it runs.

wit_bindgen::generate!({ path: "../../../sdk/wit/v1.1.0", world: "overlay-plugin" });

use exports::sangam::plugin::describe::{Guest as Describe, ParameterSpec};
use exports::sangam::plugin::overlay::Guest;
use sangam::plugin::overlay_types::{Labels, Markers, OverlayFrame};
use sangam::plugin::types::EntityTable;

struct Plugin;

impl Guest for Plugin {
    fn init(_entities: EntityTable) -> Result<(), String> {
        Ok(())
    }

    fn draw(_now: i64) -> Result<OverlayFrame, String> {
        let text = match std::net::TcpStream::connect("127.0.0.1:9") {
            Ok(_) => "socket:connected".to_string(),
            Err(e) => format!("socket:denied {e}"),
        };
        Ok(OverlayFrame {
            labels: Labels { positions: vec![0.0; 3], texts: vec![text], colors: vec![1.0; 4], sizes: vec![1.0] },
            markers: Markers { positions: Vec::new(), colors: Vec::new(), radii: Vec::new() },
            polylines: Vec::new(),
            heatmaps: Vec::new(),
            volumes: Vec::new(),
            alerts: Vec::new(),
        })
    }
}

impl Describe for Plugin {
    fn describe_parameters() -> Vec<ParameterSpec> {
        Vec::new()
    }
}

export!(Plugin);
