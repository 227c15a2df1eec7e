//! A what-if branch fed the same inputs as the session it was forked from: every message the leader
//! accepts (from its sources, a test, a feed) is copied for the branch, which takes the copies into
//! its own inbox ([`Session::follow`]) before its tick, so both branches' adapters see the same
//! messages at the same clock times and their twins differ only by what the branch's parameters do.
//!
//! When copying starts ([`Session::copy_inputs`], at the fork) the messages already waiting in the
//! leader's inbox (accepted, not yet handed to an adapter, so not yet in the twin the branch copied)
//! are copied first. Messages already handed to the leader's adapters but not yet applied are not:
//! a branch forked while an adapter is busy misses what that adapter has in hand (a fork at the
//! session's start, as `--compare` makes, misses nothing).
//!
//! Bounded: at most [`MAX_COPIES`] messages or [`MAX_COPY_BYTES`] bytes wait for a branch that does
//! not take them (a branch whose adapters are slower than the leader's); past that the oldest copy is
//! dropped and counted ([`Session::input_copies_dropped`]), which the comparison says on screen. The
//! leader's own inputs are never touched. Cost: one message clone per accepted message while a branch
//! follows; one `VecDeque` move per message into the branch.

use std::collections::VecDeque;

use crate::{Message, OfferError, Session};

/// The most copies waiting for a branch (four inboxes' worth).
pub const MAX_COPIES: usize = 4 * crate::inbox::INBOX_MESSAGES;

/// The most copied payload bytes waiting for a branch (256 MiB).
pub const MAX_COPY_BYTES: usize = 4 * crate::inbox::INBOX_BYTES;

/// The copies a leader keeps for its branch, oldest first.
#[derive(Default)]
pub(crate) struct InputCopies {
    queue: VecDeque<(String, Message)>,
    bytes: usize,
    dropped: u64,
    copied: u64,
}

impl InputCopies {
    /// Keeps a copy of `message` for `adapter`, dropping (and counting) the oldest past the bounds.
    pub(crate) fn push(&mut self, adapter: &str, message: Message) {
        self.bytes += message.payload.len();
        self.copied += 1;
        self.queue.push_back((adapter.to_string(), message));
        while self.queue.len() > MAX_COPIES || (self.bytes > MAX_COPY_BYTES && self.queue.len() > 1) {
            let Some((_, oldest)) = self.queue.pop_front() else { break };
            self.bytes -= oldest.payload.len();
            self.dropped += 1;
        }
    }

    fn pop(&mut self) -> Option<(String, Message)> {
        let (adapter, message) = self.queue.pop_front()?;
        self.bytes -= message.payload.len();
        Some((adapter, message))
    }

    fn push_front(&mut self, adapter: String, message: Message) {
        self.bytes += message.payload.len();
        self.queue.push_front((adapter, message));
    }
}

/// What one [`Session::follow`] moved.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Followed {
    /// Copies taken into the branch's inbox.
    pub taken: usize,
    /// Copies still waiting (the branch's inbox is full; they go next time).
    pub waiting: usize,
}

impl Session {
    /// Starts keeping a copy of every message this session accepts, for a branch that follows it
    /// ([`Session::follow`]); the messages waiting in its inbox now are copied first. One follower.
    pub fn copy_inputs(&mut self) {
        let mut copies = InputCopies::default();
        for (adapter, message) in self.inbox.messages() {
            copies.push(adapter, message.clone());
        }
        self.copies = Some(copies);
    }

    /// Takes the copies of what `leader` accepted since the last call into this branch's inbox, oldest
    /// first, until its inbox is full (the rest wait in the leader, in order). Call it before the
    /// branch's tick, after the leader's. A message for an adapter the branch does not run (a scene
    /// whose branch dropped it cannot: a fork loads the same plugins) is dropped and counted.
    pub fn follow(&mut self, leader: &mut Session) -> Followed {
        let Some(copies) = leader.copies.as_mut() else { return Followed::default() };
        let mut taken = 0;
        while let Some((adapter, message)) = copies.pop() {
            match self.inbox.offer(&adapter, message) {
                Ok(()) => taken += 1,
                Err(OfferError::Full { message, .. }) => {
                    copies.push_front(adapter, *message);
                    break;
                }
                Err(OfferError::UnknownAdapter { .. }) => copies.dropped += 1,
            }
        }
        Followed { taken, waiting: copies.queue.len() }
    }

    /// Copies dropped because the branch did not take them in time (0 when none follows).
    pub fn input_copies_dropped(&self) -> u64 {
        self.copies.as_ref().map_or(0, |c| c.dropped)
    }

    /// Messages copied for a branch so far (0 when none follows).
    pub fn input_copies_made(&self) -> u64 {
        self.copies.as_ref().map_or(0, |c| c.copied)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inbox::tests::message;

    #[test]
    fn copies_past_the_bounds_drop_the_oldest_and_count_them() {
        let mut c = InputCopies::default();
        for i in 0..MAX_COPIES + 10 {
            c.push("a", message(i, 1));
        }
        assert_eq!((c.queue.len(), c.dropped, c.copied), (MAX_COPIES, 10, (MAX_COPIES + 10) as u64));
        assert_eq!(c.pop().unwrap().1.source, "m10", "the oldest went first");
        let mut c = InputCopies::default();
        let big = MAX_COPY_BYTES / 2 + 1;
        for i in 0..3 {
            c.push("a", message(i, big));
        }
        assert_eq!((c.queue.len(), c.dropped, c.bytes), (1, 2, big), "bytes are bounded too");
        let mut c = InputCopies::default();
        c.push("a", message(0, MAX_COPY_BYTES + 1));
        assert_eq!((c.queue.len(), c.dropped), (1, 0), "one oversized copy alone is kept");
    }
}
