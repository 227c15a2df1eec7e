//! One property's history: a bounded, time-sorted series. Numbers (plain, integer, boolean or with a
//! unit) are kept as one `f64` per sample (16 bytes with its time); when the series is full its oldest
//! samples are folded into min / max / mean [`Bucket`]s instead of being dropped, and when the buckets
//! are full the two oldest merge, so old history grows coarser, never unbounded. Other values (text)
//! are kept as they are and the oldest dropped, counted. Insert is amortised O(1) at the end (O(n) for
//! an out-of-order sample); a lookup by time is a binary search.

use std::collections::VecDeque;

use crate::clock::SimTime;
use crate::property::{PropertyValue, Unit};

/// Bytes one recent numeric sample takes (its time and value).
pub const SAMPLE_BYTES: usize = 16;

/// Bytes one bucket takes.
pub const BUCKET_BYTES: usize = std::mem::size_of::<Bucket>();

/// Down-sampled history: what `count` samples from `t0` to `t1` were.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Bucket {
    /// Time of the first sample folded in.
    pub t0: SimTime,
    /// Time of the last sample folded in.
    pub t1: SimTime,
    /// Smallest value.
    pub min: f64,
    /// Largest value.
    pub max: f64,
    /// Mean value.
    pub mean: f64,
    /// Samples folded in.
    pub count: u64,
}

impl Bucket {
    fn of(samples: impl Iterator<Item = (SimTime, f64)>) -> Option<Bucket> {
        let mut b: Option<Bucket> = None;
        for (t, v) in samples {
            b = Some(match b {
                None => Bucket { t0: t, t1: t, min: v, max: v, mean: v, count: 1 },
                Some(b) => b.merge(&Bucket { t0: t, t1: t, min: v, max: v, mean: v, count: 1 }),
            });
        }
        b
    }

    fn merge(&self, other: &Bucket) -> Bucket {
        let count = self.count + other.count;
        let mean = (self.mean * self.count as f64 + other.mean * other.count as f64) / count as f64;
        Bucket {
            t0: self.t0.min(other.t0),
            t1: self.t1.max(other.t1),
            min: self.min.min(other.min),
            max: self.max.max(other.max),
            mean,
            count,
        }
    }
}

/// Min, max, mean and count of a series (or of several) over a time window.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Aggregate {
    /// Smallest value.
    pub min: f64,
    /// Largest value.
    pub max: f64,
    /// Mean over the samples (a bucket counts with its sample count).
    pub mean: f64,
    /// Samples in the window (down-sampled ones included).
    pub count: u64,
}

impl Aggregate {
    /// Combines two aggregates.
    pub fn merge(self, other: Aggregate) -> Aggregate {
        let b = |a: Aggregate| Bucket {
            t0: SimTime::ZERO,
            t1: SimTime::ZERO,
            min: a.min,
            max: a.max,
            mean: a.mean,
            count: a.count,
        };
        let m = b(self).merge(&b(other));
        Aggregate { min: m.min, max: m.max, mean: m.mean, count: m.count }
    }
}

/// How a numeric series' `f64`s turn back into values.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
enum Kind {
    Number,
    Integer,
    Bool,
    Quantity(Unit),
}

impl Kind {
    fn of(value: &PropertyValue) -> Option<(Kind, f64)> {
        Some(match value {
            PropertyValue::Number(x) => (Kind::Number, *x),
            PropertyValue::Integer(i) => (Kind::Integer, *i as f64),
            PropertyValue::Bool(b) => (Kind::Bool, if *b { 1.0 } else { 0.0 }),
            PropertyValue::Quantity { value, unit } => (Kind::Quantity(unit.clone()), *value),
            _ => return None,
        })
    }

    fn value(&self, x: f64) -> PropertyValue {
        match self {
            Kind::Number => PropertyValue::Number(x),
            Kind::Integer => PropertyValue::Integer(x.round() as i64),
            Kind::Bool => PropertyValue::Bool(x >= 0.5),
            Kind::Quantity(unit) => PropertyValue::Quantity { value: x, unit: unit.clone() },
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Samples {
    Numeric { kind: Kind, recent: VecDeque<(SimTime, f64)>, buckets: VecDeque<Bucket> },
    Other(VecDeque<(SimTime, PropertyValue)>),
}

/// A series as a store snapshot holds it ([`super::snapshot`]): numeric samples as one block of
/// little-endian `(i64 time, f64 value)` pairs, so a snapshot of millions of samples reads at memory
/// speed rather than one serde call per number.
#[derive(serde::Serialize, serde::Deserialize)]
pub(crate) struct SeriesWire<'a> {
    folded: u64,
    dropped: u64,
    /// `None` for a series of other values.
    kind: Option<Kind>,
    #[serde(borrow)]
    recent: Blob<'a>,
    buckets: Vec<Bucket>,
    others: Vec<(SimTime, PropertyValue)>,
}

/// Bytes serialized as one byte string (borrowed from the input when read).
pub(crate) struct Blob<'a>(std::borrow::Cow<'a, [u8]>);

impl serde::Serialize for Blob<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(&self.0)
    }
}

impl<'de: 'a, 'a> serde::Deserialize<'de> for Blob<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = Blob<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a byte string")
            }
            fn visit_borrowed_bytes<E: serde::de::Error>(self, v: &'de [u8]) -> Result<Blob<'de>, E> {
                Ok(Blob(std::borrow::Cow::Borrowed(v)))
            }
            fn visit_bytes<E: serde::de::Error>(self, v: &[u8]) -> Result<Blob<'de>, E> {
                Ok(Blob(std::borrow::Cow::Owned(v.to_vec())))
            }
        }
        d.deserialize_bytes(Visit)
    }
}

/// Bytes of one numeric sample in a snapshot.
const WIRE_SAMPLE_BYTES: usize = 16;

impl Series {
    /// This series as a snapshot holds it.
    pub(crate) fn to_wire(&self) -> SeriesWire<'static> {
        let (kind, recent, buckets, others) = match &self.samples {
            Samples::Numeric { kind, recent, buckets } => {
                let mut bytes = Vec::with_capacity(recent.len() * WIRE_SAMPLE_BYTES);
                for &(t, x) in recent {
                    bytes.extend_from_slice(&t.0.to_le_bytes());
                    bytes.extend_from_slice(&x.to_le_bytes());
                }
                (Some(kind.clone()), bytes, buckets.iter().copied().collect(), Vec::new())
            }
            Samples::Other(values) => (None, Vec::new(), Vec::new(), values.iter().cloned().collect()),
        };
        SeriesWire {
            folded: self.folded,
            dropped: self.dropped,
            kind,
            recent: Blob(std::borrow::Cow::Owned(recent)),
            buckets,
            others,
        }
    }

    /// The series a snapshot holds, checked: samples in time order, buckets whole, a sample block of
    /// whole samples. `Err` says what is wrong.
    pub(crate) fn from_wire(wire: SeriesWire<'_>) -> Result<Series, String> {
        let samples = match wire.kind {
            Some(kind) => {
                let bytes = &wire.recent.0;
                if !bytes.len().is_multiple_of(WIRE_SAMPLE_BYTES) {
                    return Err(format!("a block of {} bytes is not whole samples", bytes.len()));
                }
                let mut recent = VecDeque::with_capacity(bytes.len() / WIRE_SAMPLE_BYTES);
                for pair in bytes.chunks_exact(WIRE_SAMPLE_BYTES) {
                    let (t, x) = pair.split_at(8);
                    let t = SimTime(i64::from_le_bytes(t.try_into().expect("8 bytes")));
                    recent.push_back((t, f64::from_le_bytes(x.try_into().expect("8 bytes"))));
                }
                in_order("samples", recent.iter().map(|s| s.0))?;
                // Buckets may overlap in time (a late sample folds in after a later one), each is whole.
                if wire.buckets.iter().any(|b| b.t0 > b.t1 || b.count == 0) {
                    return Err("a bucket ends before it starts or holds no sample".into());
                }
                Samples::Numeric { kind, recent, buckets: wire.buckets.into() }
            }
            None => {
                in_order("samples", wire.others.iter().map(|s| s.0))?;
                Samples::Other(wire.others.into())
            }
        };
        Ok(Series { samples, folded: wire.folded, dropped: wire.dropped })
    }
}

/// `Err` naming `what` when `times` go back.
fn in_order(what: &str, times: impl Iterator<Item = SimTime>) -> Result<(), String> {
    let mut last = SimTime(i64::MIN);
    for (i, t) in times.enumerate() {
        if t < last {
            return Err(format!("{what} out of time order at {i}"));
        }
        last = t;
    }
    Ok(())
}

/// One bounded, time-sorted series of samples.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    samples: Samples,
    folded: u64,
    dropped: u64,
}

impl Series {
    /// A series holding its first sample.
    pub(crate) fn new(t: SimTime, value: PropertyValue) -> Series {
        let samples = match Kind::of(&value) {
            Some((kind, x)) => Samples::Numeric { kind, recent: VecDeque::from([(t, x)]), buckets: VecDeque::new() },
            None => Samples::Other(VecDeque::from([(t, value)])),
        };
        Series { samples, folded: 0, dropped: 0 }
    }

    /// Samples held at full resolution.
    pub fn len(&self) -> usize {
        match &self.samples {
            Samples::Numeric { recent, .. } => recent.len(),
            Samples::Other(v) => v.len(),
        }
    }

    /// Whether the series holds no sample at full resolution.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Samples folded into buckets (numbers only: their min, max and mean are kept).
    pub fn folded(&self) -> u64 {
        self.folded
    }

    /// Samples dropped (non-numeric values past the series' capacity).
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// The down-sampled buckets, oldest first (empty for non-numeric series).
    pub fn buckets(&self) -> impl DoubleEndedIterator<Item = &Bucket> + '_ {
        let buckets = match &self.samples {
            Samples::Numeric { buckets, .. } => Some(buckets),
            Samples::Other(_) => None,
        };
        buckets.into_iter().flat_map(|b| b.iter())
    }

    /// Bytes this series holds (its samples and buckets).
    pub fn bytes(&self) -> usize {
        match &self.samples {
            Samples::Numeric { recent, buckets, .. } => recent.len() * SAMPLE_BYTES + buckets.len() * BUCKET_BYTES,
            Samples::Other(v) => v.iter().map(|(_, v)| 16 + value_bytes(v)).sum(),
        }
    }

    /// Feeds this series' whole state (samples, buckets, counters) to a state hash.
    pub(crate) fn hash_into(&self, h: &mut super::hash::HashWriter) {
        h.u64(self.folded);
        h.u64(self.dropped);
        match &self.samples {
            Samples::Numeric { kind, recent, buckets } => {
                h.tag(0);
                match kind {
                    Kind::Number => h.tag(0),
                    Kind::Integer => h.tag(1),
                    Kind::Bool => h.tag(2),
                    Kind::Quantity(unit) => {
                        h.tag(3);
                        h.str(unit.as_str());
                    }
                }
                h.u64(recent.len() as u64);
                for &(t, x) in recent {
                    h.i64(t.0);
                    h.f64(x);
                }
                h.u64(buckets.len() as u64);
                for b in buckets {
                    h.i64(b.t0.0);
                    h.i64(b.t1.0);
                    h.f64(b.min);
                    h.f64(b.max);
                    h.f64(b.mean);
                    h.u64(b.count);
                }
            }
            Samples::Other(values) => {
                h.tag(1);
                h.u64(values.len() as u64);
                for (t, v) in values {
                    h.i64(t.0);
                    h.value(v);
                }
            }
        }
    }

    /// The full-resolution samples, oldest first.
    pub fn iter(&self) -> Box<dyn DoubleEndedIterator<Item = (SimTime, PropertyValue)> + '_> {
        match &self.samples {
            Samples::Numeric { kind, recent, .. } => Box::new(recent.iter().map(move |&(t, x)| (t, kind.value(x)))),
            Samples::Other(v) => Box::new(v.iter().map(|(t, v)| (*t, v.clone()))),
        }
    }

    /// The sample with the greatest time (the last written among equal times).
    pub fn latest(&self) -> Option<(SimTime, PropertyValue)> {
        match &self.samples {
            Samples::Numeric { kind, recent, .. } => recent.back().map(|&(t, x)| (t, kind.value(x))),
            Samples::Other(v) => v.back().map(|(t, v)| (*t, v.clone())),
        }
    }

    /// The value at `t`: the last full-resolution sample at or before it; before those, the mean of
    /// the bucket that covers `t` (or the last one before it); `None` before the first sample.
    pub fn value_at(&self, t: SimTime) -> Option<PropertyValue> {
        match &self.samples {
            Samples::Numeric { kind, recent, buckets } => {
                let i = recent.partition_point(|(st, _)| *st <= t);
                if i > 0 {
                    return Some(kind.value(recent[i - 1].1));
                }
                let j = buckets.partition_point(|b| b.t0 <= t);
                (j > 0).then(|| kind.value(buckets[j - 1].mean))
            }
            Samples::Other(v) => {
                let i = v.partition_point(|(st, _)| *st <= t);
                (i > 0).then(|| v[i - 1].1.clone())
            }
        }
    }

    /// Full-resolution samples with `t0 <= t <= t1`, oldest first.
    pub fn window(
        &self,
        t0: SimTime,
        t1: SimTime,
    ) -> Box<dyn DoubleEndedIterator<Item = (SimTime, PropertyValue)> + '_> {
        match &self.samples {
            Samples::Numeric { kind, recent, .. } => {
                let start = recent.partition_point(|(st, _)| *st < t0);
                let end = recent.partition_point(|(st, _)| *st <= t1).max(start);
                Box::new(recent.range(start..end).map(move |&(t, x)| (t, kind.value(x))))
            }
            Samples::Other(v) => {
                let start = v.partition_point(|(st, _)| *st < t0);
                let end = v.partition_point(|(st, _)| *st <= t1).max(start);
                Box::new(v.range(start..end).map(|(t, v)| (*t, v.clone())))
            }
        }
    }

    /// Numeric samples with `t0 <= t <= t1` as plain numbers, oldest first (empty for text).
    pub fn numbers(&self, t0: SimTime, t1: SimTime) -> impl DoubleEndedIterator<Item = (SimTime, f64)> + '_ {
        let recent: &VecDeque<(SimTime, f64)> = match &self.samples {
            Samples::Numeric { recent, .. } => recent,
            Samples::Other(_) => &EMPTY,
        };
        let start = recent.partition_point(|(st, _)| *st < t0);
        let end = recent.partition_point(|(st, _)| *st <= t1).max(start);
        recent.range(start..end).copied()
    }

    /// Min, max, mean and count over `t0..=t1`, buckets (wholly inside the window) included; `None`
    /// for text or when nothing lies in the window.
    pub fn aggregate(&self, t0: SimTime, t1: SimTime) -> Option<Aggregate> {
        let Samples::Numeric { buckets, .. } = &self.samples else { return None };
        let from_buckets = buckets.iter().filter(|b| b.t0 >= t0 && b.t1 <= t1).fold(None::<Bucket>, |a, b| {
            Some(match a {
                None => *b,
                Some(a) => a.merge(b),
            })
        });
        let from_recent = Bucket::of(self.numbers(t0, t1));
        let merged = match (from_buckets, from_recent) {
            (Some(a), Some(b)) => a.merge(&b),
            (a, b) => a.or(b)?,
        };
        Some(Aggregate { min: merged.min, max: merged.max, mean: merged.mean, count: merged.count })
    }

    /// Inserts a sample (after any with the same time: the later write wins there), keeping at most
    /// `capacity` full-resolution samples and `capacity / 8` buckets (at least 4).
    /// Returns whether the sample is now the series' latest (not an older one arriving late).
    pub(crate) fn insert(&mut self, t: SimTime, value: PropertyValue, capacity: usize) -> bool {
        let capacity = capacity.max(2);
        if let Samples::Numeric { kind, recent, .. } = &mut self.samples {
            match Kind::of(&value) {
                Some((k, x)) if k == *kind => {
                    let latest = insert_sorted(recent, t, x);
                    self.fit(capacity);
                    return latest;
                }
                // Another type than the series had: from now on it is kept as values.
                _ => self.keep_as_values(),
            }
        }
        let latest = match &mut self.samples {
            Samples::Other(v) => insert_sorted(v, t, value),
            Samples::Numeric { .. } => false,
        };
        self.fit(capacity);
        latest
    }

    /// Brings the series within `capacity` (folding or dropping its oldest samples).
    pub(crate) fn fit(&mut self, capacity: usize) {
        let capacity = capacity.max(2);
        match &mut self.samples {
            Samples::Numeric { recent, buckets, .. } => {
                if recent.len() <= capacity {
                    return;
                }
                // Fold an eighth of the capacity at a time (at least two samples) into one bucket.
                let fold = (capacity / 8).max(2);
                while recent.len() > capacity {
                    let n = fold.min(recent.len());
                    if let Some(b) = Bucket::of(recent.drain(..n)) {
                        buckets.push_back(b);
                        self.folded += b.count;
                    }
                }
                // Too many buckets: merge the adjacent pair holding the fewest samples, so resolution
                // thins out evenly over the past instead of one bucket swallowing all of it.
                let max_buckets = (capacity / 8).max(4);
                while buckets.len() > max_buckets {
                    let Some(i) = (0..buckets.len() - 1).min_by_key(|&i| buckets[i].count + buckets[i + 1].count)
                    else {
                        break;
                    };
                    let merged = buckets[i].merge(&buckets[i + 1]);
                    buckets[i] = merged;
                    buckets.remove(i + 1);
                }
            }
            Samples::Other(v) => {
                while v.len() > capacity {
                    v.pop_front();
                    self.dropped += 1;
                }
            }
        }
    }

    fn keep_as_values(&mut self) {
        if let Samples::Numeric { kind, recent, buckets } = &self.samples {
            let values = recent.iter().map(|&(t, x)| (t, kind.value(x))).collect();
            self.dropped += buckets.iter().map(|b| b.count).sum::<u64>();
            self.samples = Samples::Other(values);
        }
    }
}

static EMPTY: VecDeque<(SimTime, f64)> = VecDeque::new();

/// Inserts in time order; returns whether the sample went last (it is the latest).
fn insert_sorted<V>(samples: &mut VecDeque<(SimTime, V)>, t: SimTime, value: V) -> bool {
    match samples.back() {
        Some((last, _)) if *last > t => {
            let i = samples.partition_point(|(st, _)| *st <= t);
            samples.insert(i, (t, value));
            false
        }
        _ => {
            samples.push_back((t, value));
            true
        }
    }
}

/// Heap bytes of a value beyond its inline size (text and unit names).
fn value_bytes(value: &PropertyValue) -> usize {
    std::mem::size_of::<PropertyValue>()
        + match value {
            PropertyValue::Text(t) => t.len(),
            _ => 0,
        }
}
