//! The values of `config.yaml` and the environment, handed out a section at a time.
//!
//! A section is a struct deriving `Deserialize`; the keys it reads are its field names,
//! which serde passes to `Deserializer::deserialize_struct`. [`field_names`] asks for them,
//! so that the environment is consulted for exactly those keys and every key is written
//! once, in its section. (Sections do not use `#[serde(flatten)]`: a flattened struct is read
//! as a map, which hides both its field names and the keys nobody read.)

use std::cell::Cell;
use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Context;
use serde::de::{self, DeserializeOwned, Visitor};
use serde_json::Value;

use super::keys;

/// The values set, and the keys the sections read so far.
pub(super) struct Values<E> {
    set: BTreeMap<String, Value>,
    env: E,
    used: Vec<&'static str>,
}

impl<E: Fn(&str) -> Option<String>> Values<E> {
    /// The values of `file`, if any; the environment is read section by section.
    pub(super) fn new(file: Option<&Path>, env: E) -> anyhow::Result<Self> {
        let set = match file {
            None => BTreeMap::new(),
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("reading config file {}", path.display()))?;
                // No snippet of the file in the message: the line may hold a password.
                let options = serde_saphyr::options! { with_snippet: false };
                let parsed: Option<BTreeMap<String, Value>> =
                    serde_saphyr::from_str_with_options(&text, options).with_context(|| {
                        format!("config file {} is not a YAML mapping", path.display())
                    })?;
                parsed.unwrap_or_default()
            }
        };
        Ok(Self {
            set,
            env,
            used: Vec::new(),
        })
    }

    /// Section `T`, from its keys.
    pub(super) fn section<T: DeserializeOwned>(&mut self) -> anyhow::Result<T> {
        self.read(Shown::Values)
    }

    /// Section `T`, whose values may hold a secret: errors about it name the key and what
    /// was expected, never the value.
    pub(super) fn secret_section<T: DeserializeOwned>(&mut self) -> anyhow::Result<T> {
        self.read(Shown::Nothing)
    }

    fn read<T: DeserializeOwned>(&mut self, shown: Shown) -> anyhow::Result<T> {
        let mut values = serde_json::Map::new();
        for &key in field_names::<T>() {
            self.used.push(key);
            if let Some(text) = (self.env)(key) {
                let value = serde_saphyr::from_str(&text).map_err(|error| match shown {
                    Shown::Values => anyhow::Error::new(error),
                    Shown::Nothing => anyhow::anyhow!("its value is not shown"),
                });
                let value = value
                    .with_context(|| format!("environment variable {key} is not valid YAML"))?;
                self.set.insert(key.to_string(), value);
            }
            match self.set.get(key) {
                None | Some(Value::Null) => {}
                Some(value) => {
                    values.insert(key.to_string(), value.clone());
                }
            }
        }
        serde_path_to_error::deserialize(Value::Object(values)).map_err(|error| {
            let key = error.path().to_string();
            let message = error.inner().to_string();
            match shown {
                Shown::Values => anyhow::anyhow!("config key {key}: {message}"),
                Shown::Nothing => {
                    // serde's messages end with what the type expected, which is safe to
                    // show; what it got may quote the value.
                    let expected = message
                        .rsplit_once(", expected ")
                        .map_or(String::new(), |(_, expected)| {
                            format!(": expected {expected}")
                        });
                    anyhow::anyhow!("config key {key} has an unusable value{expected} (not shown)")
                }
            }
        })
    }

    /// Logs what the keys that are set are: used, Quay's but not implemented, or unknown.
    pub(super) fn report(&self) {
        keys::report(self.set.keys().map(String::as_str), &self.used);
    }
}

#[derive(Clone, Copy)]
enum Shown {
    Values,
    Nothing,
}

/// The field names of `T`, a struct deriving `Deserialize`: its keys.
pub(super) fn field_names<T: DeserializeOwned>() -> &'static [&'static str] {
    let names = Cell::new(&[][..]);
    // Only the names are wanted: the deserializer stops with an error once it has them.
    let _ = T::deserialize(FieldNames(&names));
    names.get()
}

struct FieldNames<'a>(&'a Cell<&'static [&'static str]>);

impl<'de> de::Deserializer<'de> for FieldNames<'_> {
    type Error = de::value::Error;

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.0.set(fields);
        Err(de::Error::custom("only the field names are read"))
    }

    fn deserialize_any<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, Self::Error> {
        Err(de::Error::custom("a section must be a struct"))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
        ignored_any
    }
}
