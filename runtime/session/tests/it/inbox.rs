//! An adapter slower than its source: every message waits in the inbox and lands in the twin.

use std::time::Duration;

use sangam_session::{Message, OfferError};
use sangam_twin::{EntityId, SimTime};

use crate::{repo, scene, session, settle};

#[test]
fn every_message_offered_lands_in_the_twin_in_order_even_past_the_adapter_s_queue() {
    let manifest = repo().join("plugins/csv-adapter/plugin.toml");
    let scene = scene(
        "inbox",
        &format!(
            r#"[[entities]]
id = "s1"
kind = "traffic.counter"

[[plugins]]
id = "counts"
artifact = "csv_adapter.wasm"
manifest = "{}"
"#,
            manifest.display()
        ),
    );
    let mut s = session(&scene);
    // Three times the supervisor's own queue, offered at once (a burst from a source).
    let n = 3 * sangam_plugins::supervisor::MAX_QUEUED_MESSAGES as usize;
    let mut refused = 0;
    let mut pending: Vec<Message> = (0..n)
        .rev()
        .map(|i| Message {
            source: "counts.csv".into(),
            content_type: "text/csv".into(),
            received: SimTime::from_secs(i as i64),
            payload: format!("id,time,flow[veh/h]\ns1,{i},{}\n", 1000 + i).into_bytes(),
        })
        .collect();
    // The source offers until the inbox refuses, then waits a tick and offers the same message again.
    while let Some(message) = pending.pop() {
        match s.offer("counts", message) {
            Ok(()) => {}
            Err(OfferError::Full { message, .. }) => {
                refused += 1;
                pending.push(*message);
                s.tick(Duration::ZERO);
            }
            Err(other) => panic!("{other}"),
        }
    }
    let id = EntityId::new("s1");
    settle(&mut s, |s| s.store().series(&id, "flow").is_some_and(|series| series.len() == n));
    let values: Vec<f64> = s.store().series(&id, "flow").unwrap().iter().map(|(_, v)| v.as_f64().unwrap()).collect();
    assert_eq!(values, (0..n).map(|i| (1000 + i) as f64).collect::<Vec<_>>(), "all {n}, in time order");
    let stats = s.inbox().stats("counts").unwrap();
    assert_eq!((stats.accepted, stats.delivered, stats.refused), (n as u64, n as u64, refused));
    assert_eq!(s.plugins().supervisor().unwrap().stats("counts").unwrap().late, 0, "nothing was refused late");
    assert_eq!(s.totals().messages_delivered, n as u64);
}
