//! A decoded CBOR tree, and the small readers the derived `load` uses on it.

use super::tree::{Entries, Items};
use super::{Loader, State};
use crate::Error;

/// A decoded CBOR item. Shared objects (tag 28) are moved into the [`Loader`]'s table at
/// decode time and appear here as [`Value::Shared`]; later references as [`Value::Ref`].
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// Major type 0.
    Uint(u64),
    /// Major type 1: the value is `-1 - n`.
    Nint(u64),
    /// Half, single or double precision float.
    Float(f64),
    /// `true` / `false`.
    Bool(bool),
    /// `null` (and `undefined`).
    Null,
    /// A UTF-8 text string.
    Text(String),
    /// A byte string.
    Bytes(Vec<u8>),
    /// An array.
    Array(Items),
    /// A map, in the order written.
    Map(Entries),
    /// A tag other than the shared-value and typed-array tags.
    Tag(u64, Box<Value>),
    /// An RFC 8746 typed array, already in a correctly aligned vector.
    Typed(TypedArray),
    /// The definition of the n-th shared value (tag 28); its content is in the table.
    Shared(u64),
    /// A back-reference to the n-th shared value (tag 29).
    Ref(u64),
}

/// The payload of an RFC 8746 typed array (little-endian tags).
#[derive(Debug, Clone, PartialEq)]
#[allow(missing_docs)]
pub enum TypedArray {
    U8(Vec<u8>),
    U16(Vec<u16>),
    U32(Vec<u32>),
    U64(Vec<u64>),
    I8(Vec<i8>),
    I16(Vec<i16>),
    I32(Vec<i32>),
    I64(Vec<i64>),
    F32(Vec<f32>),
    F64(Vec<f64>),
}

impl TypedArray {
    /// The elements as little-endian bytes (a copy).
    pub(crate) fn to_le_bytes(&self) -> Vec<u8> {
        macro_rules! le {
            ($v:expr) => {
                $v.iter().flat_map(|x| x.to_le_bytes()).collect()
            };
        }
        match self {
            TypedArray::U8(v) => v.clone(),
            TypedArray::U16(v) => le!(v),
            TypedArray::U32(v) => le!(v),
            TypedArray::U64(v) => le!(v),
            TypedArray::I8(v) => le!(v),
            TypedArray::I16(v) => le!(v),
            TypedArray::I32(v) => le!(v),
            TypedArray::I64(v) => le!(v),
            TypedArray::F32(v) => le!(v),
            TypedArray::F64(v) => le!(v),
        }
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        match self {
            TypedArray::U8(v) => v.len(),
            TypedArray::U16(v) => v.len(),
            TypedArray::U32(v) => v.len(),
            TypedArray::U64(v) => v.len(),
            TypedArray::I8(v) => v.len(),
            TypedArray::I16(v) => v.len(),
            TypedArray::I32(v) => v.len(),
            TypedArray::I64(v) => v.len(),
            TypedArray::F32(v) => v.len(),
            TypedArray::F64(v) => v.len(),
        }
    }

    /// True when the array has no element.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Element type name, as in Rust (`"f64"`).
    pub fn elem(&self) -> &'static str {
        match self {
            TypedArray::U8(_) => "u8",
            TypedArray::U16(_) => "u16",
            TypedArray::U32(_) => "u32",
            TypedArray::U64(_) => "u64",
            TypedArray::I8(_) => "i8",
            TypedArray::I16(_) => "i16",
            TypedArray::I32(_) => "i32",
            TypedArray::I64(_) => "i64",
            TypedArray::F32(_) => "f32",
            TypedArray::F64(_) => "f64",
        }
    }

    /// The RFC 8746 little-endian tag of this element type.
    pub fn tag(&self) -> u64 {
        match self {
            TypedArray::U8(_) => 64,
            TypedArray::U16(_) => 69,
            TypedArray::U32(_) => 70,
            TypedArray::U64(_) => 71,
            TypedArray::I8(_) => 72,
            TypedArray::I16(_) => 77,
            TypedArray::I32(_) => 78,
            TypedArray::I64(_) => 79,
            TypedArray::F32(_) => 85,
            TypedArray::F64(_) => 86,
        }
    }
}

impl Value {
    /// What kind of item this is, for error messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Uint(_) => "unsigned integer",
            Value::Nint(_) => "negative integer",
            Value::Float(_) => "float",
            Value::Bool(_) => "bool",
            Value::Null => "null",
            Value::Text(_) => "text",
            Value::Bytes(_) => "byte string",
            Value::Array(_) => "array",
            Value::Map(_) => "map",
            Value::Tag(..) => "tagged item",
            Value::Typed(_) => "typed array",
            Value::Shared(_) => "shared value",
            Value::Ref(_) => "shared reference",
        }
    }

    /// Whether this value can hold others, or a link to a shared one: an array, a map, a
    /// tag, a shared definition or reference.
    pub(crate) fn is_container(&self) -> bool {
        matches!(
            self,
            Value::Array(_) | Value::Map(_) | Value::Tag(..) | Value::Shared(_) | Value::Ref(_)
        )
    }

    /// Looks up a text key in a map (`None` if this is not a map or the key is absent).
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Map(entries) => entries
                .iter()
                .find(|(k, _)| matches!(k, Value::Text(t) if t == key))
                .map(|(_, v)| v),
            _ => None,
        }
    }

    /// Removes a text key from a map and returns its value.
    pub fn take_field(&mut self, key: &str) -> Option<Value> {
        match self {
            Value::Map(entries) => {
                let i = entries
                    .iter()
                    .position(|(k, _)| matches!(k, Value::Text(t) if t == key))?;
                Some(entries.remove(i).1)
            }
            _ => None,
        }
    }

    /// The text, if this is a text string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Text(t) => Some(t),
            _ => None,
        }
    }

    /// The number, if this is an unsigned integer.
    pub fn as_u64(&self) -> Option<u64> {
        match self {
            Value::Uint(n) => Some(*n),
            _ => None,
        }
    }

    /// Splits a map written by a derived `save` of a named struct; used by derived `load`.
    #[doc(hidden)]
    pub fn into_fields(self, ty: &'static str) -> Result<Fields, Error> {
        match self {
            Value::Map(entries) => Ok(Fields {
                entries,
                next: 0,
                ty,
            }),
            other => Err(Error::ty(
                "",
                format!("{ty} (a map of fields)"),
                other.kind(),
            )),
        }
    }

    /// Splits an array of exactly `n` items; used by derived `load` of tuple structs.
    #[doc(hidden)]
    pub fn into_elements(self, ty: &'static str, n: usize) -> Result<Elements, Error> {
        match self {
            Value::Array(items) if items.len() == n => Ok(Elements {
                items: items.into_iter(),
                index: 0,
            }),
            Value::Array(items) => Err(Error::ty(
                "",
                format!("{ty} (an array of {n})"),
                format!("an array of {}", items.len()),
            )),
            other => Err(Error::ty(
                "",
                format!("{ty} (an array of {n})"),
                other.kind(),
            )),
        }
    }

    /// Splits an enum value into its variant name and payload (`Null` for a unit variant).
    #[doc(hidden)]
    pub fn into_variant(self, ty: &'static str) -> Result<(String, Value), Error> {
        match self {
            Value::Text(name) => Ok((name, Value::Null)),
            Value::Map(mut entries) if entries.len() == 1 => match entries.pop() {
                Some((Value::Text(name), payload)) => Ok((name, payload)),
                _ => Err(Error::ty(
                    "",
                    format!("{ty} (a variant name)"),
                    "a map with a non-text key",
                )),
            },
            other => Err(Error::ty("", format!("{ty} (a variant)"), other.kind())),
        }
    }
}

/// The fields of a named struct being loaded, taken one by one by name.
#[doc(hidden)]
#[derive(Debug)]
pub struct Fields {
    entries: Entries,
    next: usize,
    ty: &'static str,
}

impl Fields {
    /// Takes and loads the field `name`. Fast path: fields come in the order written.
    #[inline(always)]
    pub fn take<T: State>(&mut self, name: &'static str, l: &mut Loader) -> Result<T, Error> {
        self.take_with(name, l, |v, l| l.load(v))
    }

    /// Takes the field `name` and loads it with `load` (a `#[ckpt(with = path)]` field).
    #[inline(always)]
    pub fn take_with<T>(
        &mut self,
        name: &'static str,
        l: &mut Loader,
        load: impl FnOnce(Value, &mut Loader) -> Result<T, Error>,
    ) -> Result<T, Error> {
        let hit = |e: &(Value, Value)| matches!(&e.0, Value::Text(t) if t == name);
        let i = if self.entries.get(self.next).is_some_and(hit) {
            self.next
        } else {
            match self.entries.iter().position(hit) {
                Some(i) => i,
                None => return Err(self.missing(name)),
            }
        };
        self.next = i + 1;
        // Replace rather than remove: keeps the fast path O(1) and the indices stable.
        let v = std::mem::replace(&mut self.entries[i], (Value::Null, Value::Null)).1;
        // Error paths out of line: this frame is on the stack once per level of a deep value.
        match load(v, l) {
            Ok(x) => Ok(x),
            Err(e) => Err(e.within(name)),
        }
    }

    #[cold]
    #[inline(never)]
    fn missing(&self, name: &'static str) -> Error {
        Error::ty(
            name,
            format!("field `{name}` of {}", self.ty),
            "no such field",
        )
    }
}

/// The items of a tuple struct or tuple variant being loaded, in order.
#[doc(hidden)]
#[derive(Debug)]
pub struct Elements {
    items: std::vec::IntoIter<Value>,
    index: usize,
}

impl Elements {
    /// Loads the next item.
    #[allow(clippy::should_implement_trait)]
    #[inline]
    pub fn next<T: State>(&mut self, l: &mut Loader) -> Result<T, Error> {
        self.next_with(l, |v, l| l.load(v))
    }

    /// Loads the next item with `load` (a `#[ckpt(with = path)]` field).
    #[inline]
    pub fn next_with<T>(
        &mut self,
        l: &mut Loader,
        load: impl FnOnce(Value, &mut Loader) -> Result<T, Error>,
    ) -> Result<T, Error> {
        let i = self.index;
        self.index += 1;
        let v = self.items.next().unwrap_or(Value::Null);
        load(v, l).map_err(|e| e.within(&i.to_string()))
    }
}

impl Error {
    /// Prefixes the location of a [`Error::Type`] with a field name (`"pos"` + `"0"` → `"pos.0"`).
    #[doc(hidden)]
    #[cold]
    #[inline(never)]
    pub fn within(self, field: &str) -> Error {
        match self {
            Error::Type {
                at,
                expected,
                found,
            } => {
                let at = if at.is_empty() {
                    field.to_string()
                } else if at.starts_with('[') {
                    format!("{field}{at}")
                } else {
                    format!("{field}.{at}")
                };
                Error::Type {
                    at,
                    expected,
                    found,
                }
            }
            other => other,
        }
    }

    /// Prefixes the location of a [`Error::Type`] with an element index (`"[3]"`).
    #[doc(hidden)]
    #[cold]
    #[inline(never)]
    pub fn within_index(self, i: usize) -> Error {
        match self {
            Error::Type {
                at,
                expected,
                found,
            } => {
                let at = if at.is_empty() || at.starts_with('[') {
                    format!("[{i}]{at}")
                } else {
                    format!("[{i}].{at}")
                };
                Error::Type {
                    at,
                    expected,
                    found,
                }
            }
            other => other,
        }
    }
}
