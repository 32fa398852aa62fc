//! `#[ckpt(serde)]`: saving and loading any `Serialize + Deserialize` type.
//!
//! With the `serde` feature, [`save_serde`] runs a `serde::Serializer` that writes
//! straight into the [`Encoder`], and [`load_serde`] a `serde::Deserializer` over a
//! decoded [`Value`]. The CBOR follows the conventions of the `State` impls:
//! - structs: a map with the field names as text keys (struct variants likewise);
//!   tuples, tuple structs and sequences: an array; maps: a map with any keys;
//! - unit and unit structs: null; newtype structs: their content (transparent);
//! - enums: `"Variant"` for a unit variant, else `{"Variant": payload}` (the value for a
//!   newtype variant, an array for a tuple variant, a map for a struct variant);
//! - `Option`: null or a one-item array (like `State`, so `Option<Option<T>>` is exact);
//! - bytes (`serialize_bytes`, e.g. `serde_bytes`): a byte string; `i128`/`u128`: an
//!   integer, or an RFC 8949 bignum beyond 64 bits;
//! - the format is not human readable (`is_human_readable() == false`), like other CBOR
//!   formats: types such as `IpAddr` use their compact form.
//!
//! A `Serialize` impl that announces a length and then writes another number of items is
//! refused with [`Error::Unsaveable`] (the CBOR would be corrupt). Loading reports
//! [`Error::Type`] with the place of the mismatch (`"inner.items[2].name"`).
//!
//! Known limit: serde buffers the input of `#[serde(flatten)]` fields and of untagged or
//! internally tagged enums through `deserialize_any`, which sees the one-item array of a
//! `Some` as a sequence; an `Option` inside those shapes does not load back.
//!
//! Without the feature, the same names exist with a bound nothing satisfies, so a
//! `#[ckpt(serde)]` field fails to compile with a message asking for the feature.

#[cfg(feature = "serde")]
pub use bridge::{load_serde, save_serde, Serde, SerdeBridge};
#[cfg(not(feature = "serde"))]
pub use missing::{load_serde, save_serde, Serde, SerdeBridge};

#[cfg(not(feature = "serde"))]
mod missing {
    use crate::state::{Encoder, Loader, State, Value};
    use crate::Error;

    /// Implemented for no type: names the missing `serde` feature in compile errors.
    #[diagnostic::on_unimplemented(
        message = "`#[ckpt(serde)]` needs the `serde` feature of ckpt: add `features = [\"serde\"]` to the ckpt dependency",
        label = "saved through serde, but ckpt was built without its `serde` feature",
        note = "or implement `ckpt::state::State` for the field's type, or mark the field `#[ckpt(skip)]`"
    )]
    pub trait SerdeFeatureRequired {}

    /// The bound of generic `#[ckpt(serde)]` fields (needs the `serde` feature).
    #[doc(hidden)]
    #[diagnostic::on_unimplemented(
        message = "`#[ckpt(serde)]` needs the `serde` feature of ckpt: add `features = [\"serde\"]` to the ckpt dependency",
        label = "saved through serde, but ckpt was built without its `serde` feature"
    )]
    pub trait SerdeBridge: SerdeFeatureRequired {}

    fn missing() -> Error {
        Error::Usage("ckpt was built without its `serde` feature".into())
    }

    /// Needs the `serde` feature of ckpt.
    #[doc(hidden)]
    pub fn save_serde<T: SerdeFeatureRequired + ?Sized>(
        _: &T,
        _: &mut Encoder<'_>,
    ) -> Result<(), Error> {
        Err(missing())
    }

    /// Needs the `serde` feature of ckpt.
    #[doc(hidden)]
    pub fn load_serde<T: SerdeFeatureRequired>(_: Value) -> Result<T, Error> {
        Err(missing())
    }

    /// Needs the `serde` feature of ckpt.
    #[doc(hidden)]
    #[derive(Debug)]
    pub struct Serde<T>(pub T);

    impl<T: SerdeFeatureRequired> State for Serde<T> {
        fn save(&self, _: &mut Encoder<'_>) -> Result<(), Error> {
            Err(missing())
        }
        fn load(_: Value, _: &mut Loader) -> Result<Self, Error> {
            Err(missing())
        }
    }
}

#[cfg(feature = "serde")]
mod bridge {
    use std::fmt;

    use serde::de::{self, DeserializeOwned, DeserializeSeed, IntoDeserializer, Visitor};
    use serde::ser::{self, Serialize};

    use crate::state::{Encoder, Loader, State, TypedArray, Value};
    use crate::Error;

    /// Saves any `Serialize` value as one CBOR item (what `#[ckpt(serde)]` fields use).
    ///
    /// Errors of the value's `Serialize` impl become [`Error::Unsaveable`], with the place
    /// inside the value in `at`.
    pub fn save_serde<T: Serialize + ?Sized>(v: &T, e: &mut Encoder<'_>) -> Result<(), Error> {
        v.serialize(Ser { e }).map_err(|b| b.0)
    }

    /// Loads a value saved by [`save_serde`].
    ///
    /// A value of the wrong shape gives [`Error::Type`], with the place inside the value in
    /// `at`. Shared values (`Rc`/`Arc`, tags 28/29) never come from serde and are refused.
    pub fn load_serde<T: DeserializeOwned>(v: Value) -> Result<T, Error> {
        T::deserialize(De(v)).map_err(|b| b.0)
    }

    /// `Serialize + DeserializeOwned`, as one bound for the code `#[derive(State)]` writes.
    #[doc(hidden)]
    pub trait SerdeBridge: Serialize + DeserializeOwned {}

    impl<T: Serialize + DeserializeOwned> SerdeBridge for T {}

    /// A value saved and loaded through serde (used by derived `load` for
    /// `#[ckpt(serde)]` fields).
    #[doc(hidden)]
    #[derive(Debug)]
    pub struct Serde<T>(pub T);

    impl<T: SerdeBridge> State for Serde<T> {
        fn save(&self, e: &mut Encoder<'_>) -> Result<(), Error> {
            save_serde(&self.0, e)
        }
        fn load(v: Value, _: &mut Loader) -> Result<Self, Error> {
            load_serde(v).map(Serde)
        }
    }

    // ---------------------------------------------------------------------------------
    // Errors and locations.

    /// A ckpt error as serde's error type (serde's traits cannot be implemented on
    /// [`Error`] without making them part of its public API).
    #[derive(Debug)]
    pub struct BridgeError(Error);

    impl fmt::Display for BridgeError {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            fmt::Display::fmt(&self.0, f)
        }
    }

    impl std::error::Error for BridgeError {}

    impl ser::Error for BridgeError {
        fn custom<M: fmt::Display>(msg: M) -> Self {
            BridgeError(Error::Unsaveable {
                at: String::new(),
                detail: msg.to_string(),
            })
        }
    }

    impl de::Error for BridgeError {
        fn custom<M: fmt::Display>(msg: M) -> Self {
            BridgeError(Error::ty(
                "",
                "a value its Deserialize impl accepts",
                msg.to_string(),
            ))
        }
        fn invalid_type(unexp: de::Unexpected<'_>, exp: &dyn de::Expected) -> Self {
            BridgeError(Error::ty("", exp.to_string(), unexp.to_string()))
        }
        fn invalid_value(unexp: de::Unexpected<'_>, exp: &dyn de::Expected) -> Self {
            BridgeError(Error::ty("", exp.to_string(), unexp.to_string()))
        }
        fn invalid_length(len: usize, exp: &dyn de::Expected) -> Self {
            BridgeError(Error::ty("", exp.to_string(), format!("{len} items")))
        }
        fn unknown_variant(variant: &str, expected: &'static [&'static str]) -> Self {
            BridgeError(Error::ty(
                "",
                format!("one of the variants {}", names(expected)),
                format!("variant `{variant}`"),
            ))
        }
        fn unknown_field(field: &str, expected: &'static [&'static str]) -> Self {
            BridgeError(Error::ty(
                "",
                format!("one of the fields {}", names(expected)),
                format!("field `{field}`"),
            ))
        }
        fn missing_field(field: &'static str) -> Self {
            BridgeError(Error::ty(
                field,
                format!("field `{field}`"),
                "no such field",
            ))
        }
        fn duplicate_field(field: &'static str) -> Self {
            BridgeError(Error::ty(
                field,
                "each field once",
                format!("field `{field}` twice"),
            ))
        }
    }

    fn names(xs: &[&str]) -> String {
        if xs.is_empty() {
            return "(none)".into();
        }
        xs.iter()
            .map(|x| format!("`{x}`"))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// One step of a location: a field or text key (`.name`) or an index (`[3]`).
    enum Seg<'a> {
        Field(&'a str),
        Index(i128),
        Other(&'static str),
    }

    impl BridgeError {
        /// Prefixes the location of the error with `seg`.
        fn at(self, seg: Seg<'_>) -> BridgeError {
            let join = |at: String| -> String {
                let head = match seg {
                    Seg::Field(f) => f.to_string(),
                    Seg::Index(i) => format!("[{i}]"),
                    Seg::Other(what) => format!("[{what}]"),
                };
                if at.is_empty() {
                    head
                } else if at.starts_with('[') {
                    format!("{head}{at}")
                } else {
                    format!("{head}.{at}")
                }
            };
            BridgeError(match self.0 {
                Error::Type {
                    at,
                    expected,
                    found,
                } => Error::Type {
                    at: join(at),
                    expected,
                    found,
                },
                Error::Unsaveable { at, detail } => Error::Unsaveable {
                    at: join(at),
                    detail,
                },
                other => other,
            })
        }
    }

    fn mismatch(expected: impl Into<String>, found: &Value) -> BridgeError {
        BridgeError(Error::ty("", expected, found.kind()))
    }

    // ---------------------------------------------------------------------------------
    // Serializer: straight into the encoder.

    struct Ser<'a, 'w> {
        e: &'a mut Encoder<'w>,
    }

    /// An array or a map being written: counts items against the announced length.
    struct Compound<'a, 'w> {
        e: &'a mut Encoder<'w>,
        /// Announced length; `None`: an indefinite-length item, closed by a break.
        len: Option<usize>,
        count: usize,
        /// `"items"`, `"fields"` or `"entries"`, for the error message.
        what: &'static str,
    }

    impl<'a, 'w> Compound<'a, 'w> {
        fn array(e: &'a mut Encoder<'w>, len: Option<usize>) -> Self {
            match len {
                Some(n) => e.array(n as u64),
                None => e.array_indef(),
            }
            Compound {
                e,
                len,
                count: 0,
                what: "items",
            }
        }

        fn map(e: &'a mut Encoder<'w>, len: Option<usize>, what: &'static str) -> Self {
            match len {
                Some(n) => e.map(n as u64),
                None => e.map_indef(),
            }
            Compound {
                e,
                len,
                count: 0,
                what,
            }
        }

        /// Counts one more item, refusing one past the announced length.
        fn bump(&mut self) -> Result<(), BridgeError> {
            self.count += 1;
            match self.len {
                Some(n) if self.count > n => Err(self.wrong_len()),
                _ => Ok(()),
            }
        }

        fn wrong_len(&self) -> BridgeError {
            let n = self.len.unwrap_or(0);
            let wrote = if self.count > n {
                "more".to_string()
            } else {
                self.count.to_string()
            };
            BridgeError(Error::Unsaveable {
                at: String::new(),
                detail: format!(
                    "its Serialize impl announced {n} {} but wrote {wrote}",
                    self.what
                ),
            })
        }

        fn close(self) -> Result<(), BridgeError> {
            match self.len {
                None => {
                    self.e.end();
                    Ok(())
                }
                Some(n) if n == self.count => Ok(()),
                Some(_) => Err(self.wrong_len()),
            }
        }

        fn element<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), BridgeError> {
            let i = self.count;
            self.bump()?;
            v.serialize(Ser { e: &mut *self.e })
                .map_err(|err| err.at(Seg::Index(i as i128)))
        }

        fn field<T: Serialize + ?Sized>(
            &mut self,
            key: &'static str,
            v: &T,
        ) -> Result<(), BridgeError> {
            self.bump()?;
            self.e.text(key);
            v.serialize(Ser { e: &mut *self.e })
                .map_err(|err| err.at(Seg::Field(key)))
        }
    }

    /// Writes the head `{"Variant": ` of a variant with a payload.
    fn variant_head(e: &mut Encoder<'_>, variant: &str) {
        e.map(1);
        e.text(variant);
    }

    impl<'a, 'w> ser::Serializer for Ser<'a, 'w> {
        type Ok = ();
        type Error = BridgeError;
        type SerializeSeq = Compound<'a, 'w>;
        type SerializeTuple = Compound<'a, 'w>;
        type SerializeTupleStruct = Compound<'a, 'w>;
        type SerializeTupleVariant = Compound<'a, 'w>;
        type SerializeMap = Compound<'a, 'w>;
        type SerializeStruct = Compound<'a, 'w>;
        type SerializeStructVariant = Compound<'a, 'w>;

        fn is_human_readable(&self) -> bool {
            false
        }

        fn serialize_bool(self, v: bool) -> Result<(), BridgeError> {
            self.e.bool(v);
            Ok(())
        }
        fn serialize_i8(self, v: i8) -> Result<(), BridgeError> {
            self.serialize_i64(v as i64)
        }
        fn serialize_i16(self, v: i16) -> Result<(), BridgeError> {
            self.serialize_i64(v as i64)
        }
        fn serialize_i32(self, v: i32) -> Result<(), BridgeError> {
            self.serialize_i64(v as i64)
        }
        fn serialize_i64(self, v: i64) -> Result<(), BridgeError> {
            self.e.int(v);
            Ok(())
        }
        fn serialize_i128(self, v: i128) -> Result<(), BridgeError> {
            v.save(self.e).map_err(BridgeError)
        }
        fn serialize_u8(self, v: u8) -> Result<(), BridgeError> {
            self.serialize_u64(v as u64)
        }
        fn serialize_u16(self, v: u16) -> Result<(), BridgeError> {
            self.serialize_u64(v as u64)
        }
        fn serialize_u32(self, v: u32) -> Result<(), BridgeError> {
            self.serialize_u64(v as u64)
        }
        fn serialize_u64(self, v: u64) -> Result<(), BridgeError> {
            self.e.uint(v);
            Ok(())
        }
        fn serialize_u128(self, v: u128) -> Result<(), BridgeError> {
            v.save(self.e).map_err(BridgeError)
        }
        fn serialize_f32(self, v: f32) -> Result<(), BridgeError> {
            self.e.f32(v);
            Ok(())
        }
        fn serialize_f64(self, v: f64) -> Result<(), BridgeError> {
            self.e.f64(v);
            Ok(())
        }
        fn serialize_char(self, v: char) -> Result<(), BridgeError> {
            self.e.text(v.encode_utf8(&mut [0; 4]));
            Ok(())
        }
        fn serialize_str(self, v: &str) -> Result<(), BridgeError> {
            self.e.text(v);
            Ok(())
        }
        fn serialize_bytes(self, v: &[u8]) -> Result<(), BridgeError> {
            self.e.bytes(v);
            Ok(())
        }
        fn serialize_none(self) -> Result<(), BridgeError> {
            self.e.null();
            Ok(())
        }
        fn serialize_some<T: Serialize + ?Sized>(self, v: &T) -> Result<(), BridgeError> {
            self.e.array(1);
            v.serialize(self)
        }
        fn serialize_unit(self) -> Result<(), BridgeError> {
            self.e.null();
            Ok(())
        }
        fn serialize_unit_struct(self, _: &'static str) -> Result<(), BridgeError> {
            self.e.null();
            Ok(())
        }
        fn serialize_unit_variant(
            self,
            _: &'static str,
            _: u32,
            variant: &'static str,
        ) -> Result<(), BridgeError> {
            self.e.text(variant);
            Ok(())
        }
        fn serialize_newtype_struct<T: Serialize + ?Sized>(
            self,
            _: &'static str,
            v: &T,
        ) -> Result<(), BridgeError> {
            v.serialize(self)
        }
        fn serialize_newtype_variant<T: Serialize + ?Sized>(
            self,
            _: &'static str,
            _: u32,
            variant: &'static str,
            v: &T,
        ) -> Result<(), BridgeError> {
            variant_head(self.e, variant);
            v.serialize(self).map_err(|err| err.at(Seg::Field(variant)))
        }
        fn serialize_seq(self, len: Option<usize>) -> Result<Compound<'a, 'w>, BridgeError> {
            Ok(Compound::array(self.e, len))
        }
        fn serialize_tuple(self, len: usize) -> Result<Compound<'a, 'w>, BridgeError> {
            Ok(Compound::array(self.e, Some(len)))
        }
        fn serialize_tuple_struct(
            self,
            _: &'static str,
            len: usize,
        ) -> Result<Compound<'a, 'w>, BridgeError> {
            Ok(Compound::array(self.e, Some(len)))
        }
        fn serialize_tuple_variant(
            self,
            _: &'static str,
            _: u32,
            variant: &'static str,
            len: usize,
        ) -> Result<Compound<'a, 'w>, BridgeError> {
            variant_head(self.e, variant);
            Ok(Compound::array(self.e, Some(len)))
        }
        fn serialize_map(self, len: Option<usize>) -> Result<Compound<'a, 'w>, BridgeError> {
            Ok(Compound::map(self.e, len, "entries"))
        }
        fn serialize_struct(
            self,
            _: &'static str,
            len: usize,
        ) -> Result<Compound<'a, 'w>, BridgeError> {
            Ok(Compound::map(self.e, Some(len), "fields"))
        }
        fn serialize_struct_variant(
            self,
            _: &'static str,
            _: u32,
            variant: &'static str,
            len: usize,
        ) -> Result<Compound<'a, 'w>, BridgeError> {
            variant_head(self.e, variant);
            Ok(Compound::map(self.e, Some(len), "fields"))
        }
    }

    impl ser::SerializeSeq for Compound<'_, '_> {
        type Ok = ();
        type Error = BridgeError;
        fn serialize_element<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), BridgeError> {
            self.element(v)
        }
        fn end(self) -> Result<(), BridgeError> {
            self.close()
        }
    }

    impl ser::SerializeTuple for Compound<'_, '_> {
        type Ok = ();
        type Error = BridgeError;
        fn serialize_element<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), BridgeError> {
            self.element(v)
        }
        fn end(self) -> Result<(), BridgeError> {
            self.close()
        }
    }

    impl ser::SerializeTupleStruct for Compound<'_, '_> {
        type Ok = ();
        type Error = BridgeError;
        fn serialize_field<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), BridgeError> {
            self.element(v)
        }
        fn end(self) -> Result<(), BridgeError> {
            self.close()
        }
    }

    impl ser::SerializeTupleVariant for Compound<'_, '_> {
        type Ok = ();
        type Error = BridgeError;
        fn serialize_field<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), BridgeError> {
            self.element(v)
        }
        fn end(self) -> Result<(), BridgeError> {
            self.close()
        }
    }

    impl ser::SerializeMap for Compound<'_, '_> {
        type Ok = ();
        type Error = BridgeError;
        fn serialize_key<T: Serialize + ?Sized>(&mut self, k: &T) -> Result<(), BridgeError> {
            let i = self.count;
            self.bump()?;
            k.serialize(Ser { e: &mut *self.e })
                .map_err(|err| err.at(Seg::Other("key")).at(Seg::Index(i as i128)))
        }
        fn serialize_value<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), BridgeError> {
            // The key is gone: the entry's position locates the error.
            let i = self.count.saturating_sub(1);
            v.serialize(Ser { e: &mut *self.e })
                .map_err(|err| err.at(Seg::Index(i as i128)))
        }
        fn serialize_entry<K: Serialize + ?Sized, V: Serialize + ?Sized>(
            &mut self,
            k: &K,
            v: &V,
        ) -> Result<(), BridgeError> {
            self.serialize_key(k)?;
            v.serialize(Ser { e: &mut *self.e })
                .map_err(|err| err.at(key_seg(k).as_seg()))
        }
        fn end(self) -> Result<(), BridgeError> {
            self.close()
        }
    }

    impl ser::SerializeStruct for Compound<'_, '_> {
        type Ok = ();
        type Error = BridgeError;
        fn serialize_field<T: Serialize + ?Sized>(
            &mut self,
            key: &'static str,
            v: &T,
        ) -> Result<(), BridgeError> {
            self.field(key, v)
        }
        fn end(self) -> Result<(), BridgeError> {
            self.close()
        }
    }

    impl ser::SerializeStructVariant for Compound<'_, '_> {
        type Ok = ();
        type Error = BridgeError;
        fn serialize_field<T: Serialize + ?Sized>(
            &mut self,
            key: &'static str,
            v: &T,
        ) -> Result<(), BridgeError> {
            self.field(key, v)
        }
        fn end(self) -> Result<(), BridgeError> {
            self.close()
        }
    }

    /// A map key as a location step (only computed once an error is on its way out).
    enum KeySeg {
        Text(String),
        Int(i128),
        Other,
    }

    impl KeySeg {
        fn as_seg(&self) -> Seg<'_> {
            match self {
                KeySeg::Text(t) => Seg::Field(t),
                KeySeg::Int(i) => Seg::Index(*i),
                KeySeg::Other => Seg::Other("key"),
            }
        }
    }

    /// Reads the key of a failed entry back as a location, for text and integer keys.
    fn key_seg<K: Serialize + ?Sized>(k: &K) -> KeySeg {
        let mut buf = Vec::new();
        let mut e = Encoder::new(&mut buf);
        if save_serde(k, &mut e).is_err() || e.finish().is_err() {
            return KeySeg::Other;
        }
        match crate::state::decode_slice(&buf) {
            Ok((Value::Text(t), _)) => KeySeg::Text(t),
            Ok((Value::Uint(n), _)) => KeySeg::Int(n as i128),
            Ok((Value::Nint(n), _)) => KeySeg::Int(-1 - n as i128),
            _ => KeySeg::Other,
        }
    }

    // ---------------------------------------------------------------------------------
    // Deserializer: over a decoded value.

    /// Deserializes one owned [`Value`].
    struct De(Value);

    fn bignum(v: &Value) -> Option<u128> {
        match v {
            Value::Bytes(b) => {
                let b = &b[b.iter().take_while(|&&x| x == 0).count()..];
                if b.len() > 16 {
                    return None;
                }
                Some(b.iter().fold(0u128, |acc, &x| (acc << 8) | x as u128))
            }
            _ => None,
        }
    }

    fn typed_items(t: TypedArray) -> Vec<Value> {
        fn ints<T: Into<i128>>(v: Vec<T>) -> Vec<Value> {
            v.into_iter()
                .map(|x| {
                    let x: i128 = x.into();
                    if x >= 0 {
                        Value::Uint(x as u64)
                    } else {
                        Value::Nint((-1 - x) as u64)
                    }
                })
                .collect()
        }
        match t {
            TypedArray::U8(v) => ints(v),
            TypedArray::U16(v) => ints(v),
            TypedArray::U32(v) => ints(v),
            TypedArray::U64(v) => ints(v),
            TypedArray::I8(v) => ints(v),
            TypedArray::I16(v) => ints(v),
            TypedArray::I32(v) => ints(v),
            TypedArray::I64(v) => ints(v),
            TypedArray::F32(v) => v.into_iter().map(|x| Value::Float(x as f64)).collect(),
            TypedArray::F64(v) => v.into_iter().map(Value::Float).collect(),
        }
    }

    /// Visits an array; items the visitor leaves unread are an error.
    fn visit_array<'de, V: Visitor<'de>>(
        items: Vec<Value>,
        visitor: V,
    ) -> Result<V::Value, BridgeError> {
        let len = items.len();
        let mut seq = SeqDe {
            it: items.into_iter(),
            index: 0,
        };
        let out = visitor.visit_seq(&mut seq)?;
        if seq.it.len() != 0 {
            return Err(BridgeError(Error::ty(
                "",
                format!("an array of {}", seq.index),
                format!("an array of {len}"),
            )));
        }
        Ok(out)
    }

    /// Visits a map; entries the visitor leaves unread are an error.
    fn visit_map<'de, V: Visitor<'de>>(
        entries: Vec<(Value, Value)>,
        visitor: V,
    ) -> Result<V::Value, BridgeError> {
        let len = entries.len();
        let mut map = MapDe {
            it: entries.into_iter(),
            value: None,
            key: KeySeg::Other,
            read: 0,
        };
        let out = visitor.visit_map(&mut map)?;
        if map.it.len() != 0 {
            return Err(BridgeError(Error::ty(
                "",
                format!("a map of {} entries", map.read),
                format!("a map of {len} entries"),
            )));
        }
        Ok(out)
    }

    impl<'de> de::Deserializer<'de> for De {
        type Error = BridgeError;

        fn is_human_readable(&self) -> bool {
            false
        }

        fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, BridgeError> {
            match self.0 {
                Value::Uint(n) => visitor.visit_u64(n),
                Value::Nint(n) => match i64::try_from(n) {
                    Ok(n) => visitor.visit_i64(-1 - n),
                    Err(_) => visitor.visit_i128(-1 - n as i128),
                },
                Value::Float(f) => visitor.visit_f64(f),
                Value::Bool(b) => visitor.visit_bool(b),
                Value::Null => visitor.visit_unit(),
                Value::Text(t) => visitor.visit_string(t),
                Value::Bytes(b) => visitor.visit_byte_buf(b),
                Value::Array(items) => visit_array(items.into_vec(), visitor),
                Value::Map(entries) => visit_map(entries.into_vec(), visitor),
                Value::Typed(t) => visit_array(typed_items(t), visitor),
                Value::Tag(2, b) => match bignum(&b) {
                    Some(n) => match u64::try_from(n) {
                        Ok(n) => visitor.visit_u64(n),
                        Err(_) => visitor.visit_u128(n),
                    },
                    None => Err(BridgeError(Error::ty(
                        "",
                        "an integer of at most 128 bits",
                        "a larger bignum",
                    ))),
                },
                Value::Tag(3, b) => match bignum(&b).and_then(|n| i128::try_from(n).ok()) {
                    Some(n) => match i64::try_from(n) {
                        Ok(n) => visitor.visit_i64(-1 - n),
                        Err(_) => visitor.visit_i128(-1 - n),
                    },
                    None => Err(BridgeError(Error::ty(
                        "",
                        "an integer of at most 128 bits",
                        "a larger negative bignum",
                    ))),
                },
                // Other tags only annotate their item.
                Value::Tag(_, inner) => De(*inner).deserialize_any(visitor),
                v @ (Value::Shared(_) | Value::Ref(_)) => {
                    Err(mismatch("a value written through serde", &v))
                }
            }
        }

        fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, BridgeError> {
            match self.0 {
                Value::Null => visitor.visit_none(),
                Value::Array(mut items) if items.len() == 1 => match items.pop() {
                    Some(x) => visitor.visit_some(De(x)),
                    None => visitor.visit_none(),
                },
                other => Err(mismatch("Option (null or an array of 1)", &other)),
            }
        }

        fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, BridgeError> {
            match self.0 {
                Value::Null => visitor.visit_unit(),
                other => Err(mismatch("() (null)", &other)),
            }
        }

        fn deserialize_unit_struct<V: Visitor<'de>>(
            self,
            name: &'static str,
            visitor: V,
        ) -> Result<V::Value, BridgeError> {
            match self.0 {
                Value::Null => visitor.visit_unit(),
                other => Err(mismatch(format!("{name} (null)"), &other)),
            }
        }

        fn deserialize_newtype_struct<V: Visitor<'de>>(
            self,
            _: &'static str,
            visitor: V,
        ) -> Result<V::Value, BridgeError> {
            visitor.visit_newtype_struct(self)
        }

        fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, BridgeError> {
            match self.0 {
                Value::Bytes(b) | Value::Typed(TypedArray::U8(b)) => visitor.visit_byte_buf(b),
                other => De(other).deserialize_any(visitor),
            }
        }

        fn deserialize_byte_buf<V: Visitor<'de>>(
            self,
            visitor: V,
        ) -> Result<V::Value, BridgeError> {
            self.deserialize_bytes(visitor)
        }

        fn deserialize_enum<V: Visitor<'de>>(
            self,
            name: &'static str,
            _: &'static [&'static str],
            visitor: V,
        ) -> Result<V::Value, BridgeError> {
            match self.0 {
                Value::Text(variant) => visitor.visit_enum(EnumDe {
                    variant,
                    payload: None,
                }),
                Value::Map(mut entries) if entries.len() == 1 => match entries.pop() {
                    Some((Value::Text(variant), payload)) => visitor.visit_enum(EnumDe {
                        variant,
                        payload: Some(payload),
                    }),
                    Some((k, _)) => Err(BridgeError(Error::ty(
                        "",
                        format!("{name} (a variant name)"),
                        format!("a map with a {} key", k.kind()),
                    ))),
                    None => Err(BridgeError(Error::ty("", name, "an empty map"))),
                },
                other => Err(mismatch(
                    format!("{name} (a variant name or a map of 1)"),
                    &other,
                )),
            }
        }

        fn deserialize_ignored_any<V: Visitor<'de>>(
            self,
            visitor: V,
        ) -> Result<V::Value, BridgeError> {
            visitor.visit_unit()
        }

        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
            seq tuple tuple_struct map struct identifier
        }
    }

    struct SeqDe {
        it: std::vec::IntoIter<Value>,
        index: usize,
    }

    impl<'de> de::SeqAccess<'de> for SeqDe {
        type Error = BridgeError;

        fn next_element_seed<T: DeserializeSeed<'de>>(
            &mut self,
            seed: T,
        ) -> Result<Option<T::Value>, BridgeError> {
            match self.it.next() {
                None => Ok(None),
                Some(v) => {
                    let i = self.index;
                    self.index += 1;
                    seed.deserialize(De(v))
                        .map(Some)
                        .map_err(|e| e.at(Seg::Index(i as i128)))
                }
            }
        }

        fn size_hint(&self) -> Option<usize> {
            Some(self.it.len())
        }
    }

    struct MapDe {
        it: std::vec::IntoIter<(Value, Value)>,
        /// The value of the entry whose key was just read.
        value: Option<Value>,
        /// That key, to locate errors.
        key: KeySeg,
        read: usize,
    }

    impl<'de> de::MapAccess<'de> for MapDe {
        type Error = BridgeError;

        fn next_key_seed<K: DeserializeSeed<'de>>(
            &mut self,
            seed: K,
        ) -> Result<Option<K::Value>, BridgeError> {
            let Some((k, v)) = self.it.next() else {
                return Ok(None);
            };
            self.read += 1;
            self.value = Some(v);
            let r = match k {
                // Text keys (field names, mostly) are lent to the seed and kept as location.
                Value::Text(t) => {
                    let r = seed.deserialize(t.as_str().into_deserializer());
                    self.key = KeySeg::Text(t);
                    r
                }
                k => {
                    self.key = match k {
                        Value::Uint(n) => KeySeg::Int(n as i128),
                        Value::Nint(n) => KeySeg::Int(-1 - n as i128),
                        _ => KeySeg::Other,
                    };
                    seed.deserialize(De(k))
                }
            };
            r.map(Some).map_err(|e| e.at(self.key.as_seg()))
        }

        fn next_value_seed<V: DeserializeSeed<'de>>(
            &mut self,
            seed: V,
        ) -> Result<V::Value, BridgeError> {
            let v = self.value.take().unwrap_or(Value::Null);
            seed.deserialize(De(v)).map_err(|e| e.at(self.key.as_seg()))
        }

        fn size_hint(&self) -> Option<usize> {
            Some(self.it.len())
        }
    }

    struct EnumDe {
        variant: String,
        /// `None` for the bare variant name.
        payload: Option<Value>,
    }

    impl<'de> de::EnumAccess<'de> for EnumDe {
        type Error = BridgeError;
        type Variant = VariantDe;

        fn variant_seed<V: DeserializeSeed<'de>>(
            self,
            seed: V,
        ) -> Result<(V::Value, VariantDe), BridgeError> {
            let v = seed.deserialize(self.variant.as_str().into_deserializer())?;
            Ok((
                v,
                VariantDe {
                    variant: self.variant,
                    payload: self.payload,
                },
            ))
        }
    }

    struct VariantDe {
        variant: String,
        payload: Option<Value>,
    }

    impl VariantDe {
        /// The payload of a variant that needs one.
        fn payload(&mut self, what: &str) -> Result<Value, BridgeError> {
            self.payload.take().ok_or_else(|| {
                BridgeError(Error::ty(
                    "",
                    format!("variant `{}` with {what}", self.variant),
                    "a bare variant name",
                ))
            })
        }
    }

    impl<'de> de::VariantAccess<'de> for VariantDe {
        type Error = BridgeError;

        fn unit_variant(self) -> Result<(), BridgeError> {
            match self.payload {
                None | Some(Value::Null) => Ok(()),
                Some(other) => Err(BridgeError(Error::ty(
                    self.variant.as_str(),
                    "a unit variant (a bare variant name)",
                    other.kind(),
                ))),
            }
        }

        fn newtype_variant_seed<T: DeserializeSeed<'de>>(
            mut self,
            seed: T,
        ) -> Result<T::Value, BridgeError> {
            let v = self.payload("a payload")?;
            seed.deserialize(De(v))
                .map_err(|e| e.at(Seg::Field(&self.variant)))
        }

        fn tuple_variant<V: Visitor<'de>>(
            mut self,
            len: usize,
            visitor: V,
        ) -> Result<V::Value, BridgeError> {
            let r = match self.payload(&format!("an array of {len}"))? {
                Value::Array(items) => visit_array(items.into_vec(), visitor),
                Value::Typed(t) => visit_array(typed_items(t), visitor),
                other => Err(mismatch(format!("an array of {len}"), &other)),
            };
            r.map_err(|e| e.at(Seg::Field(&self.variant)))
        }

        fn struct_variant<V: Visitor<'de>>(
            mut self,
            _: &'static [&'static str],
            visitor: V,
        ) -> Result<V::Value, BridgeError> {
            let r = match self.payload("a map of fields")? {
                Value::Map(entries) => visit_map(entries.into_vec(), visitor),
                Value::Array(items) => visit_array(items.into_vec(), visitor),
                other => Err(mismatch("a map of fields", &other)),
            };
            r.map_err(|e| e.at(Seg::Field(&self.variant)))
        }
    }
}
