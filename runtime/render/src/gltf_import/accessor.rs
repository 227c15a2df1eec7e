//! Bounds-checked accessor reading: strides, sparse substitution, normalized integers.
//!
//! Every read is checked before any byte is touched: the buffer view must lie inside its buffer,
//! `byteOffset + byteStride * (count - 1) + elementSize` must fit in the view, sparse indices and
//! values must fit in their views and index existing elements. Output size is charged against a
//! [`Budget`] so that numbers in the JSON cannot make the importer allocate beyond the input's scale.

use std::borrow::Cow;

use gltf::json::accessor::{ComponentType, Type};
use gltf::json::validation::Checked;

use super::source::BufferData;

/// A budget of decoded bytes, shared by the whole import.
pub(crate) struct Budget {
    /// Bytes still allowed.
    pub left: u64,
    /// The budget at the start, for messages.
    pub total: u64,
}

impl Budget {
    /// Takes `bytes` from the budget, or says why not.
    pub(crate) fn charge(&mut self, bytes: u64, what: &str) -> Result<(), String> {
        if bytes > self.left {
            return Err(format!(
                "{what} would need {bytes} more bytes of memory, over the import budget of {} bytes derived from \
                 the input size; the file declares far more data than it contains",
                self.total
            ));
        }
        self.left -= bytes;
        Ok(())
    }
}

/// Reads accessors of one document.
pub(crate) struct Reader<'r, 'a> {
    pub root: &'r gltf::json::Root,
    pub buffers: &'r [BufferData<'a>],
}

/// Component type and element layout of an accessor.
#[derive(Clone, Copy)]
pub(crate) struct Layout {
    pub component: ComponentType,
    pub dims: usize,
    pub normalized: bool,
}

fn component_size(c: ComponentType) -> usize {
    match c {
        ComponentType::I8 | ComponentType::U8 => 1,
        ComponentType::I16 | ComponentType::U16 => 2,
        ComponentType::U32 | ComponentType::F32 => 4,
    }
}

fn type_dims(t: Type) -> usize {
    match t {
        Type::Scalar => 1,
        Type::Vec2 => 2,
        Type::Vec3 => 3,
        Type::Vec4 => 4,
        Type::Mat2 => 4,
        Type::Mat3 => 9,
        Type::Mat4 => 16,
    }
}

/// Decodes one component as `f32`, applying glTF's normalization rules when `normalized`.
#[inline]
fn component_f32(c: ComponentType, normalized: bool, b: &[u8]) -> f32 {
    match (c, b) {
        (ComponentType::F32, &[a, b, c, d, ..]) => f32::from_le_bytes([a, b, c, d]),
        (ComponentType::U8, &[a, ..]) => {
            if normalized {
                f32::from(a) / 255.0
            } else {
                f32::from(a)
            }
        }
        (ComponentType::I8, &[a, ..]) => {
            let v = i8::from_le_bytes([a]);
            if normalized { (f32::from(v) / 127.0).max(-1.0) } else { f32::from(v) }
        }
        (ComponentType::U16, &[a, b, ..]) => {
            let v = u16::from_le_bytes([a, b]);
            if normalized { f32::from(v) / 65535.0 } else { f32::from(v) }
        }
        (ComponentType::I16, &[a, b, ..]) => {
            let v = i16::from_le_bytes([a, b]);
            if normalized { (f32::from(v) / 32767.0).max(-1.0) } else { f32::from(v) }
        }
        (ComponentType::U32, &[a, b, c, d, ..]) => {
            let v = u32::from_le_bytes([a, b, c, d]);
            // Precision loss is inherent in u32 -> f32 and acceptable for vertex attributes.
            if normalized { (f64::from(v) / f64::from(u32::MAX)) as f32 } else { v as f32 }
        }
        _ => 0.0,
    }
}

/// Decodes one unsigned integer component (indices).
#[inline]
fn component_u32(c: ComponentType, b: &[u8]) -> Option<u32> {
    match (c, b) {
        (ComponentType::U8, &[a, ..]) => Some(u32::from(a)),
        (ComponentType::U16, &[a, b, ..]) => Some(u32::from(u16::from_le_bytes([a, b]))),
        (ComponentType::U32, &[a, b, c, d, ..]) => Some(u32::from_le_bytes([a, b, c, d])),
        _ => None,
    }
}

fn to_usize(v: u64, what: &str) -> Result<usize, String> {
    usize::try_from(v).map_err(|_| format!("{what} {v} does not fit in memory"))
}

impl<'r, 'a> Reader<'r, 'a> {
    /// The bytes of buffer view `view`, checked to lie inside its buffer.
    pub(crate) fn view_bytes(&self, view: usize) -> Result<(&'r [u8], Option<usize>), String>
    where
        'a: 'r,
    {
        let Some(v) = self.root.buffer_views.get(view) else {
            return Err(format!("bufferView {view} does not exist"));
        };
        let buffer = v.buffer.value();
        let data = match self.buffers.get(buffer) {
            Some(Ok(d)) => d.as_ref(),
            Some(Err(e)) => return Err(format!("bufferView {view} uses buffers[{buffer}], which is unusable: {e}")),
            None => return Err(format!("bufferView {view} refers to missing buffer {buffer}")),
        };
        let offset = to_usize(v.byte_offset.map_or(0, |o| o.0), "byteOffset")?;
        let length = to_usize(v.byte_length.0, "byteLength")?;
        let end = offset
            .checked_add(length)
            .ok_or_else(|| format!("bufferView {view}: byteOffset + byteLength overflows"))?;
        let Some(bytes) = data.get(offset..end) else {
            return Err(format!(
                "bufferView {view} (bytes {offset}..{end}) lies outside buffers[{buffer}] ({} bytes)",
                data.len()
            ));
        };
        let stride = v.byte_stride.map(|s| s.0).filter(|&s| s != 0);
        Ok((bytes, stride))
    }

    /// The accessor's layout, checked against the `dims` the caller accepts.
    pub(crate) fn layout(&self, index: usize, accept_dims: &[usize]) -> Result<Layout, String> {
        let Some(acc) = self.root.accessors.get(index) else {
            return Err(format!("accessor {index} does not exist"));
        };
        let (Checked::Valid(ct), Checked::Valid(ty)) = (&acc.component_type, &acc.type_) else {
            return Err(format!("accessor {index} has an unknown componentType or type"));
        };
        let dims = type_dims(*ty);
        if !accept_dims.contains(&dims) || matches!(ty, Type::Mat2 | Type::Mat3 | Type::Mat4) {
            return Err(format!(
                "accessor {index} has type {ty:?}; expected {}",
                accept_dims.iter().map(|d| format!("{d} components")).collect::<Vec<_>>().join(" or ")
            ));
        }
        Ok(Layout { component: ct.0, dims, normalized: acc.normalized })
    }

    /// The accessor's elements, tightly packed (`count * elementSize` bytes), with sparse
    /// substitutions applied. Borrows when the data is already tightly packed and not sparse.
    fn packed(
        &self,
        index: usize,
        layout: Layout,
        ignore_stride: bool,
        budget: &mut Budget,
    ) -> Result<Cow<'r, [u8]>, String>
    where
        'a: 'r,
    {
        let acc = self.root.accessors.get(index).ok_or_else(|| format!("accessor {index} does not exist"))?;
        let count = to_usize(acc.count.0, "count")?;
        let elem = component_size(layout.component)
            .checked_mul(layout.dims)
            .ok_or_else(|| "element size overflows".to_string())?;
        let total = count.checked_mul(elem).ok_or_else(|| format!("accessor {index}: count {count} overflows"))?;
        let mut out: Cow<'r, [u8]> = match acc.buffer_view {
            Some(view_index) => {
                let view = view_index.value();
                let (bytes, stride) = self.view_bytes(view)?;
                let offset = to_usize(acc.byte_offset.map_or(0, |o| o.0), "byteOffset")?;
                // Index views must not have a stride; old exporters wrote one anyway.
                let stride = if ignore_stride { elem } else { stride.unwrap_or(elem) };
                if stride < elem {
                    return Err(format!(
                        "accessor {index}: bufferView {view} byteStride {stride} is smaller than the element size \
                         {elem}"
                    ));
                }
                if count == 0 {
                    Cow::Borrowed(&[][..])
                } else {
                    let needed = stride
                        .checked_mul(count - 1)
                        .and_then(|s| s.checked_add(offset))
                        .and_then(|s| s.checked_add(elem))
                        .ok_or_else(|| format!("accessor {index}: byte range overflows"))?;
                    if needed > bytes.len() {
                        return Err(format!(
                            "accessor {index} reads past the end of bufferView {view} (needs {needed} bytes, has {})",
                            bytes.len()
                        ));
                    }
                    let data = bytes.get(offset..needed).unwrap_or_default();
                    if stride == elem {
                        Cow::Borrowed(data)
                    } else {
                        budget.charge(total as u64, &format!("accessor {index}"))?;
                        let mut packed = Vec::with_capacity(total);
                        for chunk in data.chunks(stride) {
                            packed.extend_from_slice(chunk.get(..elem).unwrap_or(chunk));
                        }
                        Cow::Owned(packed)
                    }
                }
            }
            None => {
                // All zeros (then sparse values). Nothing in the file backs this allocation, so it
                // is charged to the budget first.
                budget.charge(total as u64, &format!("accessor {index} (no bufferView, zero-filled)"))?;
                Cow::Owned(vec![0u8; total])
            }
        };
        if let Some(sparse) = &acc.sparse {
            let n = to_usize(sparse.count.0, "sparse.count")?;
            if n > count {
                return Err(format!("accessor {index}: sparse.count {n} is larger than count {count}"));
            }
            let Checked::Valid(ict) = &sparse.indices.component_type else {
                return Err(format!("accessor {index}: sparse.indices has an unknown componentType"));
            };
            let isize_ = component_size(ict.0);
            let (ibytes, _) = self
                .view_bytes(sparse.indices.buffer_view.value())
                .map_err(|e| format!("accessor {index}: sparse.indices: {e}"))?;
            let ioff = to_usize(sparse.indices.byte_offset.0, "sparse.indices.byteOffset")?;
            let iend = n
                .checked_mul(isize_)
                .and_then(|l| l.checked_add(ioff))
                .ok_or_else(|| format!("accessor {index}: sparse.indices range overflows"))?;
            let Some(ibytes) = ibytes.get(ioff..iend) else {
                return Err(format!(
                    "accessor {index}: sparse.indices read past the end of bufferView {} (needs {iend} bytes, has {})",
                    sparse.indices.buffer_view.value(),
                    ibytes.len()
                ));
            };
            let (vbytes, _) = self
                .view_bytes(sparse.values.buffer_view.value())
                .map_err(|e| format!("accessor {index}: sparse.values: {e}"))?;
            let voff = to_usize(sparse.values.byte_offset.0, "sparse.values.byteOffset")?;
            let vend = n
                .checked_mul(elem)
                .and_then(|l| l.checked_add(voff))
                .ok_or_else(|| format!("accessor {index}: sparse.values range overflows"))?;
            let Some(vbytes) = vbytes.get(voff..vend) else {
                return Err(format!(
                    "accessor {index}: sparse.values read past the end of bufferView {} (needs {vend} bytes, has {})",
                    sparse.values.buffer_view.value(),
                    vbytes.len()
                ));
            };
            if n > 0 {
                if let Cow::Borrowed(_) = out {
                    budget.charge(total as u64, &format!("accessor {index} (sparse copy)"))?;
                }
                let target = out.to_mut();
                for (k, (ib, value)) in ibytes.chunks_exact(isize_).zip(vbytes.chunks_exact(elem)).enumerate() {
                    let Some(i) = component_u32(ict.0, ib).and_then(|i| usize::try_from(i).ok()) else {
                        return Err(format!("accessor {index}: sparse.indices has an invalid componentType"));
                    };
                    let dst = i.checked_mul(elem).and_then(|s| Some(s..s.checked_add(elem)?));
                    let Some(slot) = dst.and_then(|r| target.get_mut(r)) else {
                        return Err(format!("accessor {index}: sparse.indices[{k}] = {i} is not below count {count}"));
                    };
                    slot.copy_from_slice(value);
                }
            }
        }
        Ok(out)
    }

    /// Reads accessor `index` as `N`-component float vectors (normalized integers converted).
    pub(crate) fn read_vecs<const N: usize>(&self, index: usize, budget: &mut Budget) -> Result<Vec<[f32; N]>, String>
    where
        'a: 'r,
    {
        let layout = self.layout(index, &[N])?;
        let data = self.packed(index, layout, false, budget)?;
        let cs = component_size(layout.component);
        let elem = cs * N;
        let count = data.len() / elem.max(1);
        budget.charge((count as u64).saturating_mul(4 * N as u64), &format!("accessor {index}"))?;
        let (ct, norm) = (layout.component, layout.normalized);
        let out = if ct == ComponentType::F32 {
            data.chunks_exact(elem)
                .map(|e| {
                    let mut v = [0.0f32; N];
                    for (o, c) in v.iter_mut().zip(e.chunks_exact(4)) {
                        if let &[a, b, c, d] = c {
                            *o = f32::from_le_bytes([a, b, c, d]);
                        }
                    }
                    v
                })
                .collect()
        } else {
            data.chunks_exact(elem)
                .map(|e| {
                    let mut v = [0.0f32; N];
                    for (o, c) in v.iter_mut().zip(e.chunks_exact(cs)) {
                        *o = component_f32(ct, norm, c);
                    }
                    v
                })
                .collect()
        };
        Ok(out)
    }

    /// Reads an index accessor (unsigned scalar integers).
    pub(crate) fn read_indices(&self, index: usize, budget: &mut Budget) -> Result<Vec<u32>, String>
    where
        'a: 'r,
    {
        let layout = self.layout(index, &[1])?;
        if !matches!(layout.component, ComponentType::U8 | ComponentType::U16 | ComponentType::U32) {
            return Err(format!(
                "accessor {index} has componentType {:?}; indices must be unsigned byte, short or int",
                layout.component
            ));
        }
        let data = self.packed(index, layout, true, budget)?;
        let cs = component_size(layout.component);
        let count = data.len() / cs;
        budget.charge((count as u64).saturating_mul(4), &format!("accessor {index}"))?;
        Ok(data.chunks_exact(cs).map(|c| component_u32(layout.component, c).unwrap_or(u32::MAX)).collect())
    }
}
