//! JSON documents as the page's browser reads them, natively as well.
//!
//! The mixed bridge (`src/mixed/`) reads what real nodes answer: `POST
//! /gossip/` envelopes, `GET /state`, `GET /peers/` and refusals. In the
//! page, serde_json's deserializer for those shapes was code that exists
//! once in the package (about 40 KB of raw wasm), while the browser already
//! parses JSON. So the bridge parses a body into a [`Doc`], in the page with
//! the browser's `JSON.parse`, natively with serde_json, and reads its fields
//! from the tree with the same code on both (`wire::decode_text`, the
//! bridge's answers). The native node keeps its serde decoder
//! (`wire::decode`); tests hold the two decoders to the same results.
//!
//! The tree follows what `JSON.parse` decides, on both sides: numbers are
//! `f64` (so `1e3` is the integer 1000 and integers past 2^53 round, which
//! the version checks refuse anyway); a field read from an object with a key
//! given twice is the last one; `null` counts as an absent field. Arrays and
//! objects nested [`MAX_DEPTH`] deep or more are kept as [`Doc::Deep`]
//! without their contents: no field the bridge reads is that deep, and
//! neither side's reading recurses without bound. Natively an object keeps
//! every key given twice, in order (the browser keeps the last value at the
//! first one's place), which only the digests' order can show.

use super::WireError;

/// Arrays and objects at this depth (the document is depth 0) or deeper are
/// [`Doc::Deep`].
pub const MAX_DEPTH: usize = 16;

/// A parsed JSON document.
#[derive(Clone, Debug, PartialEq)]
pub enum Doc {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number, as JavaScript holds it.
    Num(f64),
    /// A string.
    Str(String),
    /// An array.
    Arr(Vec<Doc>),
    /// An object's keys and values in document order.
    Obj(Vec<(String, Doc)>),
    /// An array or object nested [`MAX_DEPTH`] deep or more, contents dropped.
    Deep,
}

impl Doc {
    /// Parse `text` (the browser's `JSON.parse` in the page, serde_json natively).
    pub fn parse(text: &str) -> Result<Doc, WireError> {
        parse(text)
    }

    /// What this value is, for error messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Doc::Null => "null",
            Doc::Bool(_) => "a boolean",
            Doc::Num(_) => "a number",
            Doc::Str(_) => "a string",
            Doc::Arr(_) => "an array",
            Doc::Obj(_) => "an object",
            Doc::Deep => "a value nested too deep",
        }
    }

    /// Field `name` of an object (the last one if given twice); `None` if
    /// absent, `null` or this is not an object.
    pub fn get(&self, name: &str) -> Option<&Doc> {
        match self {
            Doc::Obj(fields) => {
                fields.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v).filter(|v| **v != Doc::Null)
            }
            _ => None,
        }
    }

    /// The string, if this is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Doc::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The number as an unsigned integer, if it is a whole number from 0 to `max`.
    pub fn as_uint(&self, max: u64) -> Option<u64> {
        match *self {
            // below 2^64, `as` is exact for whole numbers
            Doc::Num(x) if x >= 0.0 && x.fract() == 0.0 && x < 18_446_744_073_709_551_616.0 && x as u64 <= max => {
                Some(x as u64)
            }
            _ => None,
        }
    }

    /// Field `name` as a string; `None` if absent.
    pub fn str_field(&self, name: &str) -> Result<Option<&str>, WireError> {
        self.get(name).map(|v| v.as_str().ok_or_else(|| wrong(name, "a string", v))).transpose()
    }

    /// Field `name` as a string that must be there.
    pub fn required_str(&self, name: &str) -> Result<&str, WireError> {
        self.str_field(name)?.ok_or_else(|| missing(name))
    }

    /// Field `name` as a whole number from 0 to `max`; `None` if absent.
    pub fn uint_field(&self, name: &str, max: u64) -> Result<Option<u64>, WireError> {
        self.get(name)
            .map(|v| v.as_uint(max).ok_or_else(|| wrong(name, format_args!("a whole number from 0 to {max}"), v)))
            .transpose()
    }

    /// Field `name` as a whole number from 0 to `max` that must be there.
    pub fn required_uint(&self, name: &str, max: u64) -> Result<u64, WireError> {
        self.uint_field(name, max)?.ok_or_else(|| missing(name))
    }

    /// Field `name` as a boolean; `None` if absent.
    pub fn bool_field(&self, name: &str) -> Result<Option<bool>, WireError> {
        self.get(name)
            .map(|v| match v {
                Doc::Bool(b) => Ok(*b),
                _ => Err(wrong(name, "a boolean", v)),
            })
            .transpose()
    }

    /// Field `name` as an array; empty if absent.
    pub fn arr_field(&self, name: &str) -> Result<&[Doc], WireError> {
        match self.get(name) {
            None => Ok(&[]),
            Some(Doc::Arr(a)) => Ok(a),
            Some(v) => Err(wrong(name, "an array", v)),
        }
    }

    /// Field `name` as an object's entries; empty if absent.
    pub fn obj_field(&self, name: &str) -> Result<&[(String, Doc)], WireError> {
        match self.get(name) {
            None => Ok(&[]),
            Some(Doc::Obj(o)) => Ok(o),
            Some(v) => Err(wrong(name, "an object", v)),
        }
    }
}

/// `name` holds the wrong kind of value.
pub fn wrong(name: &str, want: impl std::fmt::Display, got: &Doc) -> WireError {
    WireError::Invalid(format!("`{name}` must be {want}, not {}", got.kind()))
}

/// `name` is required and absent (or `null`).
pub fn missing(name: &str) -> WireError {
    WireError::Invalid(format!("missing field `{name}`"))
}

#[cfg(target_arch = "wasm32")]
fn parse(text: &str) -> Result<Doc, WireError> {
    use wasm_bindgen::JsCast;
    let v = js_sys::JSON::parse(text).map_err(|e| {
        WireError::Malformed(
            e.dyn_ref::<js_sys::Error>().map_or_else(|| "JSON.parse refused it".into(), |e| String::from(e.message())),
        )
    })?;
    Ok(from_js(&v, 0))
}

/// The tree of a value `JSON.parse` made (which holds no `undefined`,
/// functions or symbols; a lone surrogate in a string becomes U+FFFD).
#[cfg(target_arch = "wasm32")]
fn from_js(v: &wasm_bindgen::JsValue, depth: usize) -> Doc {
    use wasm_bindgen::JsCast;
    if let Some(s) = v.as_string() {
        Doc::Str(s)
    } else if let Some(x) = v.as_f64() {
        Doc::Num(x)
    } else if let Some(b) = v.as_bool() {
        Doc::Bool(b)
    } else if !v.is_object() {
        Doc::Null
    } else if depth >= MAX_DEPTH {
        Doc::Deep
    } else if js_sys::Array::is_array(v) {
        Doc::Arr(v.unchecked_ref::<js_sys::Array>().iter().map(|x| from_js(&x, depth + 1)).collect())
    } else {
        let entries = js_sys::Object::entries(v.unchecked_ref());
        Doc::Obj(
            entries
                .iter()
                .map(|e| {
                    let e: js_sys::Array = e.unchecked_into();
                    (e.get(0).as_string().unwrap_or_default(), from_js(&e.get(1), depth + 1))
                })
                .collect(),
        )
    }
}

#[cfg(not(target_arch = "wasm32"))]
fn parse(text: &str) -> Result<Doc, WireError> {
    use serde::de::DeserializeSeed;
    let mut de = serde_json::Deserializer::from_str(text);
    let kind = |e: serde_json::Error| match e.classify() {
        serde_json::error::Category::Data => WireError::Invalid(e.to_string()),
        _ => WireError::Malformed(e.to_string()),
    };
    let doc = native::Seed(0).deserialize(&mut de).map_err(kind)?;
    de.end().map_err(kind)?;
    Ok(doc)
}

#[cfg(not(target_arch = "wasm32"))]
mod native {
    use std::fmt;

    use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

    use super::{Doc, MAX_DEPTH};

    /// A value at depth `.0`.
    pub(super) struct Seed(pub(super) usize);

    impl<'de> DeserializeSeed<'de> for Seed {
        type Value = Doc;
        fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Doc, D::Error> {
            d.deserialize_any(self)
        }
    }

    impl<'de> Visitor<'de> for Seed {
        type Value = Doc;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a JSON value")
        }
        fn visit_unit<E>(self) -> Result<Doc, E> {
            Ok(Doc::Null)
        }
        fn visit_bool<E>(self, b: bool) -> Result<Doc, E> {
            Ok(Doc::Bool(b))
        }
        fn visit_u64<E>(self, n: u64) -> Result<Doc, E> {
            Ok(Doc::Num(n as f64))
        }
        fn visit_i64<E>(self, n: i64) -> Result<Doc, E> {
            Ok(Doc::Num(n as f64))
        }
        fn visit_f64<E>(self, x: f64) -> Result<Doc, E> {
            Ok(Doc::Num(x))
        }
        fn visit_str<E>(self, s: &str) -> Result<Doc, E> {
            Ok(Doc::Str(s.to_owned()))
        }
        fn visit_string<E>(self, s: String) -> Result<Doc, E> {
            Ok(Doc::Str(s))
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut s: A) -> Result<Doc, A::Error> {
            if self.0 >= MAX_DEPTH {
                while s.next_element::<IgnoredAny>()?.is_some() {}
                return Ok(Doc::Deep);
            }
            let mut v = Vec::new();
            while let Some(x) = s.next_element_seed(Seed(self.0 + 1))? {
                v.push(x);
            }
            Ok(Doc::Arr(v))
        }
        fn visit_map<M: MapAccess<'de>>(self, mut m: M) -> Result<Doc, M::Error> {
            if self.0 >= MAX_DEPTH {
                while m.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                return Ok(Doc::Deep);
            }
            let mut v = Vec::new();
            while let Some(k) = m.next_key::<String>()? {
                v.push((k, m.next_value_seed(Seed(self.0 + 1))?));
            }
            Ok(Doc::Obj(v))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_document_keeps_order_numbers_as_f64_and_the_last_of_a_repeated_field() {
        let d = Doc::parse(r#"{"b":1,"a":[true,null,"x",-2.5,1e3],"b":2,"n":null}"#).unwrap();
        let Doc::Obj(f) = &d else { panic!("{d:?}") };
        assert_eq!(f.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(), ["b", "a", "b", "n"]);
        assert_eq!(d.get("b"), Some(&Doc::Num(2.0)));
        assert_eq!(d.get("n"), None, "null is absent");
        assert_eq!(
            d.arr_field("a").unwrap(),
            [Doc::Bool(true), Doc::Null, Doc::Str("x".into()), Doc::Num(-2.5), Doc::Num(1000.0)]
        );
        assert_eq!(d.required_uint("b", 10).unwrap(), 2);
        assert!(matches!(d.required_str("b"), Err(WireError::Invalid(m)) if m.contains("must be a string")));
        assert!(matches!(d.required_str("zz"), Err(WireError::Invalid(m)) if m == "missing field `zz`"));
    }

    #[test]
    fn whole_numbers_are_read_within_their_bounds_only() {
        let n = |x: f64| Doc::Num(x);
        assert_eq!(n(0.0).as_uint(5), Some(0));
        assert_eq!(n(-0.0).as_uint(5), Some(0));
        assert_eq!(n(5.0).as_uint(5), Some(5));
        assert_eq!(n(6.0).as_uint(5), None);
        assert_eq!(n(1.5).as_uint(5), None);
        assert_eq!(n(-1.0).as_uint(5), None);
        assert_eq!(n(f64::INFINITY).as_uint(u64::MAX), None);
        assert_eq!(n(f64::NAN).as_uint(u64::MAX), None);
        assert_eq!(n(4294967295.0).as_uint(u32::MAX as u64), Some(u32::MAX as u64));
        assert_eq!(n(4294967296.0).as_uint(u32::MAX as u64), None);
        // 2^64 is the f64 nearest u64::MAX, and out of range
        assert_eq!(n(18446744073709551616.0).as_uint(u64::MAX), None);
        assert_eq!(n(18446744073709549568.0).as_uint(u64::MAX), Some(18446744073709549568));
        assert_eq!(Doc::Str("1".into()).as_uint(5), None);
    }

    #[test]
    fn deep_values_are_kept_shallow_and_nothing_recurses_without_bound() {
        let deep = format!(r#"{{"from":"a","x":{}{}}}"#, "[".repeat(500_000), "]".repeat(500_000));
        let d = Doc::parse(&deep).unwrap();
        assert_eq!(d.required_str("from").unwrap(), "a");
        let mut v = d.get("x").unwrap();
        let mut depth = 1;
        while let Doc::Arr(a) = v {
            v = &a[0];
            depth += 1;
        }
        assert_eq!((v, depth), (&Doc::Deep, MAX_DEPTH));
        let open = format!(r#"{{"from":"a","x":{}"#, "{\"k\":".repeat(200_000));
        assert!(matches!(Doc::parse(&open), Err(WireError::Malformed(_))));
    }

    #[test]
    fn what_is_not_one_json_document_is_malformed() {
        for bad in ["", " ", "{", "{} {}", "[1,]", "{'a':1}", "NaN", "\u{feff}{}", "[1] x"] {
            assert!(matches!(Doc::parse(bad), Err(WireError::Malformed(_))), "{bad:?}");
        }
    }
}
