//! A serde serializer that flattens any `Serialize` value into
//! (dotted path, leaf) pairs in declaration order: how a metric's key is
//! spelled (`windows.fault.success_ratio`, `nodes.1.served`).
//!
//! Going through `serde_json::Value` would sort the keys (its map is a
//! `BTreeMap` unless a crate somewhere in the build turns on
//! `preserve_order`, which would silently change the column order), and
//! going through JSON text would re-parse floats, which `serde_json` does not
//! promise to do exactly. This walks the value itself: floats arrive as the
//! `f64` the run computed, fields in the order the struct declares them.

use std::fmt;

use serde::Serialize;
use serde::ser::{self, Impossible, SerializeMap, SerializeSeq, SerializeStruct, Serializer};

/// The one spelling of a float in every file the sweep writes: the shortest
/// text that reads back to the same `f64` (`0.1`, `12.5`, `1000`), `inf` and
/// `-inf` for infinities; NaN has no spelling (an empty cell).
pub fn fmt_f64(x: f64) -> Option<String> {
    if x.is_nan() {
        None
    } else if x.is_infinite() {
        Some(if x > 0.0 { "inf" } else { "-inf" }.into())
    } else {
        Some(format!("{x}"))
    }
}

/// A leaf of a flattened value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Leaf {
    /// A number in its exact spelling, or `None` for a missing one
    /// (`Option::None`, unit, NaN).
    Number(Option<String>),
    /// Text or a boolean: not a metric.
    Text,
}

/// Flattens `value` into (dotted path, leaf) pairs.
pub fn leaves<T: Serialize + ?Sized>(value: &T) -> Vec<(String, Leaf)> {
    let mut out = Vec::new();
    value
        .serialize(At {
            out: &mut out,
            path: String::new(),
        })
        .expect("flattening cannot fail on plain data");
    out
}

/// Why a value cannot be flattened (never for plain structs of numbers).
#[derive(Debug)]
pub struct FlatError(String);

impl fmt::Display for FlatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for FlatError {}

impl ser::Error for FlatError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        FlatError(msg.to_string())
    }
}

fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_string()
    } else {
        format!("{prefix}.{key}")
    }
}

/// Serializes one value found at `path`.
struct At<'a> {
    out: &'a mut Vec<(String, Leaf)>,
    path: String,
}

impl At<'_> {
    fn leaf(self, leaf: Leaf) -> Result<(), FlatError> {
        self.out.push((self.path, leaf));
        Ok(())
    }
    fn num(self, text: String) -> Result<(), FlatError> {
        self.leaf(Leaf::Number(Some(text)))
    }
}

/// A sequence, struct or map being serialized.
struct Compound<'a> {
    out: &'a mut Vec<(String, Leaf)>,
    path: String,
    index: usize,
    key: Option<String>,
}

impl<'a> Serializer for At<'a> {
    type Ok = ();
    type Error = FlatError;
    type SerializeSeq = Compound<'a>;
    type SerializeTuple = Compound<'a>;
    type SerializeTupleStruct = Compound<'a>;
    type SerializeTupleVariant = Impossible<(), FlatError>;
    type SerializeMap = Compound<'a>;
    type SerializeStruct = Compound<'a>;
    type SerializeStructVariant = Impossible<(), FlatError>;

    fn serialize_bool(self, _: bool) -> Result<(), FlatError> {
        self.leaf(Leaf::Text)
    }
    fn serialize_i8(self, v: i8) -> Result<(), FlatError> {
        self.num(v.to_string())
    }
    fn serialize_i16(self, v: i16) -> Result<(), FlatError> {
        self.num(v.to_string())
    }
    fn serialize_i32(self, v: i32) -> Result<(), FlatError> {
        self.num(v.to_string())
    }
    fn serialize_i64(self, v: i64) -> Result<(), FlatError> {
        self.num(v.to_string())
    }
    fn serialize_u8(self, v: u8) -> Result<(), FlatError> {
        self.num(v.to_string())
    }
    fn serialize_u16(self, v: u16) -> Result<(), FlatError> {
        self.num(v.to_string())
    }
    fn serialize_u32(self, v: u32) -> Result<(), FlatError> {
        self.num(v.to_string())
    }
    fn serialize_u64(self, v: u64) -> Result<(), FlatError> {
        self.num(v.to_string())
    }
    fn serialize_f32(self, v: f32) -> Result<(), FlatError> {
        self.serialize_f64(v as f64)
    }
    fn serialize_f64(self, v: f64) -> Result<(), FlatError> {
        self.leaf(Leaf::Number(fmt_f64(v)))
    }
    fn serialize_char(self, _: char) -> Result<(), FlatError> {
        self.leaf(Leaf::Text)
    }
    fn serialize_str(self, _: &str) -> Result<(), FlatError> {
        self.leaf(Leaf::Text)
    }
    fn serialize_bytes(self, _: &[u8]) -> Result<(), FlatError> {
        self.leaf(Leaf::Text)
    }
    fn serialize_none(self) -> Result<(), FlatError> {
        self.leaf(Leaf::Number(None))
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), FlatError> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), FlatError> {
        self.leaf(Leaf::Number(None))
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<(), FlatError> {
        self.serialize_unit()
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
    ) -> Result<(), FlatError> {
        self.leaf(Leaf::Text)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<(), FlatError> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), FlatError> {
        let path = join(&self.path, variant);
        value.serialize(At {
            out: self.out,
            path,
        })
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Compound<'a>, FlatError> {
        Ok(Compound {
            out: self.out,
            path: self.path,
            index: 0,
            key: None,
        })
    }
    fn serialize_tuple(self, len: usize) -> Result<Compound<'a>, FlatError> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(
        self,
        _: &'static str,
        len: usize,
    ) -> Result<Compound<'a>, FlatError> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        name: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, FlatError> {
        Err(FlatError(format!("cannot flatten tuple variant of {name}")))
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Compound<'a>, FlatError> {
        self.serialize_seq(None)
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Compound<'a>, FlatError> {
        self.serialize_seq(None)
    }
    fn serialize_struct_variant(
        self,
        name: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, FlatError> {
        Err(FlatError(format!(
            "cannot flatten struct variant of {name}"
        )))
    }
}

impl Compound<'_> {
    fn child<T: Serialize + ?Sized>(&mut self, key: &str, value: &T) -> Result<(), FlatError> {
        value.serialize(At {
            out: self.out,
            path: join(&self.path, key),
        })
    }
    fn element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), FlatError> {
        let i = self.index;
        self.index += 1;
        self.child(&i.to_string(), value)
    }
}

impl SerializeSeq for Compound<'_> {
    type Ok = ();
    type Error = FlatError;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), FlatError> {
        self.element(value)
    }
    fn end(self) -> Result<(), FlatError> {
        Ok(())
    }
}

impl ser::SerializeTuple for Compound<'_> {
    type Ok = ();
    type Error = FlatError;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), FlatError> {
        self.element(value)
    }
    fn end(self) -> Result<(), FlatError> {
        Ok(())
    }
}

impl ser::SerializeTupleStruct for Compound<'_> {
    type Ok = ();
    type Error = FlatError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), FlatError> {
        self.element(value)
    }
    fn end(self) -> Result<(), FlatError> {
        Ok(())
    }
}

impl SerializeStruct for Compound<'_> {
    type Ok = ();
    type Error = FlatError;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), FlatError> {
        self.child(key, value)
    }
    fn end(self) -> Result<(), FlatError> {
        Ok(())
    }
}

impl SerializeMap for Compound<'_> {
    type Ok = ();
    type Error = FlatError;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), FlatError> {
        let k = serde_json::to_value(key).map_err(|e| FlatError(e.to_string()))?;
        self.key = Some(match k {
            serde_json::Value::String(s) => s,
            other => other.to_string(),
        });
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), FlatError> {
        let key = self.key.take().unwrap_or_default();
        self.child(&key, value)
    }
    fn end(self) -> Result<(), FlatError> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize)]
    struct Inner {
        z: f64,
        a: Option<u64>,
    }
    #[derive(Serialize)]
    struct Outer {
        name: String,
        b: Inner,
        list: Vec<Inner>,
        flag: bool,
    }

    #[test]
    fn keeps_declaration_order_and_exact_values() {
        let v = Outer {
            name: "x".into(),
            b: Inner {
                z: 0.1 + 0.2,
                a: None,
            },
            list: vec![Inner { z: 1.0, a: Some(3) }],
            flag: true,
        };
        let l = leaves(&v);
        let n = |s: &str| Leaf::Number(Some(s.to_string()));
        assert_eq!(
            l,
            vec![
                ("name".into(), Leaf::Text),
                ("b.z".into(), n("0.30000000000000004")),
                ("b.a".into(), Leaf::Number(None)),
                ("list.0.z".into(), n("1")),
                ("list.0.a".into(), n("3")),
                ("flag".into(), Leaf::Text),
            ]
        );
    }
}
