//! The sources' inbox: messages waiting for their adapter plugin, bounded, never dropped.
//!
//! A source (a recorded feed today; MQTT, HTTP and WebSocket sources later) offers each message for
//! the adapter the scene binds it to. The inbox holds it until the adapter's supervisor queue has
//! room; when the inbox itself is full (per adapter, [`INBOX_MESSAGES`] messages or
//! [`INBOX_BYTES`] bytes) the offer is refused and the message handed back, so the source waits
//! (back-pressure) instead of anything being lost. Every offer, refusal and delivery is counted.
//! Cost: one `VecDeque` push or pop per message.

use std::collections::{BTreeMap, VecDeque};

use sangam_twin::SimTime;

/// The most messages waiting for one adapter.
pub const INBOX_MESSAGES: usize = 4096;

/// The most payload bytes waiting for one adapter (64 MiB).
pub const INBOX_BYTES: usize = 64 << 20;

/// One message from a source, as received.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    /// The source's id (scene), file name or topic.
    pub source: String,
    /// MIME type, when the source knows it.
    pub content_type: String,
    /// When it was received, in simulation time.
    pub received: SimTime,
    /// The bytes, untouched.
    pub payload: Vec<u8>,
}

/// Why an offer was not taken; the message comes back so the source keeps it.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum OfferError {
    /// The adapter's inbox is full: offer it again later (the adapter is slower than its source).
    #[error(
        "the inbox of adapter `{adapter}` is full ({INBOX_MESSAGES} messages or {INBOX_BYTES} bytes waiting); the source must wait"
    )]
    Full {
        /// The adapter.
        adapter: String,
        /// The message, back.
        message: Box<Message>,
    },
    /// No adapter of that id runs in this session.
    #[error("no adapter `{adapter}` runs in this session; bind the source to one of the scene's adapters")]
    UnknownAdapter {
        /// The id asked for.
        adapter: String,
        /// The message, back.
        message: Box<Message>,
    },
}

/// Counters of one adapter's inbox.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct InboxStats {
    /// Messages taken.
    pub accepted: u64,
    /// Offers refused because the inbox was full (the source kept them).
    pub refused: u64,
    /// Messages handed to the adapter.
    pub delivered: u64,
    /// Payload bytes taken.
    pub bytes: u64,
}

#[derive(Default)]
struct Queue {
    messages: VecDeque<Message>,
    bytes: usize,
    stats: InboxStats,
}

/// Messages waiting for adapters, per adapter id.
#[derive(Default)]
pub struct Inbox {
    queues: BTreeMap<String, Queue>,
}

impl Inbox {
    /// An inbox for these adapters.
    pub fn new<'a>(adapters: impl IntoIterator<Item = &'a str>) -> Inbox {
        Inbox { queues: adapters.into_iter().map(|id| (id.to_string(), Queue::default())).collect() }
    }

    /// Offers a message for `adapter`: taken, or handed back with the reason.
    pub fn offer(&mut self, adapter: &str, message: Message) -> Result<(), OfferError> {
        let Some(queue) = self.queues.get_mut(adapter) else {
            return Err(OfferError::UnknownAdapter { adapter: adapter.to_string(), message: Box::new(message) });
        };
        // One message larger than the byte bound is taken when nothing else waits: it would never fit.
        let over_bytes = !queue.messages.is_empty() && queue.bytes + message.payload.len() > INBOX_BYTES;
        if queue.messages.len() >= INBOX_MESSAGES || over_bytes {
            queue.stats.refused += 1;
            return Err(OfferError::Full { adapter: adapter.to_string(), message: Box::new(message) });
        }
        queue.bytes += message.payload.len();
        queue.stats.accepted += 1;
        queue.stats.bytes += message.payload.len() as u64;
        queue.messages.push_back(message);
        Ok(())
    }

    /// Hands `adapter`'s waiting messages, oldest first, to `send` until it hands one back (`Err`:
    /// the adapter's queue is full); that one stays first in line. Returns how many went.
    pub fn deliver(&mut self, adapter: &str, mut send: impl FnMut(Message) -> Result<(), Message>) -> usize {
        let Some(queue) = self.queues.get_mut(adapter) else { return 0 };
        let mut n = 0;
        while let Some(message) = queue.messages.pop_front() {
            let bytes = message.payload.len();
            if let Err(back) = send(message) {
                queue.messages.push_front(back);
                break;
            }
            queue.bytes -= bytes;
            queue.stats.delivered += 1;
            n += 1;
        }
        n
    }

    /// Every waiting message with its adapter, adapter by adapter, oldest first.
    pub fn messages(&self) -> impl Iterator<Item = (&str, &Message)> + '_ {
        self.queues.iter().flat_map(|(id, q)| q.messages.iter().map(move |m| (id.as_str(), m)))
    }

    /// Messages waiting for `adapter`.
    pub fn waiting(&self, adapter: &str) -> usize {
        self.queues.get(adapter).map_or(0, |q| q.messages.len())
    }

    /// Messages waiting, over all adapters.
    pub fn total_waiting(&self) -> usize {
        self.queues.values().map(|q| q.messages.len()).sum()
    }

    /// The counters of `adapter`'s inbox.
    pub fn stats(&self, adapter: &str) -> Option<InboxStats> {
        self.queues.get(adapter).map(|q| q.stats)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Message `i` (its source `m{i}`, received at `i` µs) of `bytes` zero bytes.
    pub(crate) fn message(i: usize, bytes: usize) -> Message {
        Message {
            source: format!("m{i}"),
            content_type: String::new(),
            received: SimTime::from_micros(i as i64),
            payload: vec![0; bytes],
        }
    }

    #[test]
    fn a_full_inbox_hands_the_message_back_and_a_slow_adapter_gets_every_one_in_order() {
        let mut inbox = Inbox::new(["csv"]);
        for i in 0..INBOX_MESSAGES {
            inbox.offer("csv", message(i, 10)).unwrap();
        }
        match inbox.offer("csv", message(INBOX_MESSAGES, 10)) {
            Err(OfferError::Full { message, .. }) => assert_eq!(message.source, format!("m{INBOX_MESSAGES}")),
            other => panic!("expected a refusal that returns the message, got {other:?}"),
        }
        // An adapter that takes 100 messages per tick.
        let mut seen = Vec::new();
        while inbox.waiting("csv") > 0 {
            let mut room = 100;
            inbox.deliver("csv", |m| {
                if room == 0 {
                    return Err(m);
                }
                room -= 1;
                seen.push(m.received.as_micros());
                Ok(())
            });
        }
        assert_eq!(seen, (0..INBOX_MESSAGES as i64).collect::<Vec<_>>(), "all delivered, in order");
        let stats = inbox.stats("csv").unwrap();
        assert_eq!((stats.accepted, stats.refused, stats.delivered), (INBOX_MESSAGES as u64, 1, INBOX_MESSAGES as u64));
    }

    #[test]
    fn bytes_are_bounded_and_unknown_adapters_are_named() {
        let mut inbox = Inbox::new(["a"]);
        inbox.offer("a", message(0, INBOX_BYTES + 1)).expect("one oversized message is taken when alone");
        assert!(matches!(inbox.offer("a", message(1, 1)), Err(OfferError::Full { .. })));
        let e = inbox.offer("nope", message(2, 1)).unwrap_err();
        assert!(e.to_string().contains("`nope`"), "{e}");
        assert_eq!(inbox.total_waiting(), 1);
    }
}
