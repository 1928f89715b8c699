//! A webhook's own body (Quay's `template`): a JSON document whose strings may refer to the
//! event data with `${path}`, a JSONPath (`${updated_tags}`, `${updated_tags[0]}`,
//! `$.repository` spelled `${$.repository}`).
//!
//! A string that is nothing but one reference takes the value itself (a list stays a list);
//! a reference inside a longer string is written as text: a list joined with commas, a
//! string as it is, anything else as JSON. A reference that finds nothing reads `(none)`.

use serde_json::{Map, Value};
use serde_json_path::JsonPath;

use crate::error::{Error, Result};

/// What a reference that finds nothing reads as.
const MISSING: &str = "(none)";

/// A parsed template, checked when the notification is saved.
#[derive(Clone, Debug)]
pub struct Template {
    document: Value,
}

impl Template {
    /// The template in `text`, refused with the reason when it is not JSON or holds a
    /// reference that is not a JSONPath.
    pub fn parse(text: &str) -> Result<Self> {
        let document: Value = serde_json::from_str(text).map_err(|error| {
            Error::InvalidRequest(format!("template: not a JSON document: {error}"))
        })?;
        check(&document)?;
        Ok(Self { document })
    }

    /// The body for `data`.
    pub fn render(&self, data: &Value) -> Value {
        render(&self.document, data)
    }
}

/// Every reference in `value` parses.
fn check(value: &Value) -> Result<()> {
    match value {
        Value::String(text) => {
            for reference in references(text) {
                let reference = reference.map_err(|at| {
                    Error::InvalidRequest(format!(
                        "template: `${{` without a closing `}}` in \"{}\"",
                        &text[at..]
                    ))
                })?;
                path(reference.path)?;
            }
            Ok(())
        }
        Value::Array(items) => items.iter().try_for_each(check),
        Value::Object(fields) => fields.values().try_for_each(check),
        _ => Ok(()),
    }
}

fn render(value: &Value, data: &Value) -> Value {
    match value {
        Value::String(text) => render_string(text, data),
        Value::Array(items) => items.iter().map(|item| render(item, data)).collect(),
        Value::Object(fields) => Value::Object(
            fields
                .iter()
                .map(|(key, value)| (key.clone(), render(value, data)))
                .collect::<Map<_, _>>(),
        ),
        other => other.clone(),
    }
}

fn render_string(text: &str, data: &Value) -> Value {
    let found: Vec<Reference<'_>> = references(text).filter_map(|r| r.ok()).collect();
    if let [only] = found.as_slice()
        && only.start == 0
        && only.end == text.len()
    {
        return lookup(only.path, data).unwrap_or_else(|| MISSING.into());
    }
    let mut rendered = String::with_capacity(text.len());
    let mut written = 0;
    for reference in found {
        rendered.push_str(&text[written..reference.start]);
        match lookup(reference.path, data) {
            Some(value) => rendered.push_str(&as_text(&value)),
            None => rendered.push_str(MISSING),
        }
        written = reference.end;
    }
    rendered.push_str(&text[written..]);
    Value::String(rendered)
}

/// The value at `path` in `data`: one match as itself, several as a list.
fn lookup(reference: &str, data: &Value) -> Option<Value> {
    let matches = path(reference).ok()?.query(data).all();
    match matches.as_slice() {
        [] => None,
        [one] => Some((*one).clone()),
        many => Some(many.iter().map(|value| (*value).clone()).collect()),
    }
}

fn as_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Array(items) => items.iter().map(as_text).collect::<Vec<_>>().join(", "),
        Value::Null => MISSING.into(),
        other => other.to_string(),
    }
}

/// `reference` as a JSONPath; a bare path is taken from the root (`updated_tags` is
/// `$.updated_tags`).
fn path(reference: &str) -> Result<JsonPath> {
    let reference = reference.trim();
    let full = if reference.starts_with('$') {
        reference.to_string()
    } else if reference.starts_with('[') {
        format!("${reference}")
    } else {
        format!("$.{reference}")
    };
    JsonPath::parse(&full).map_err(|error| {
        Error::InvalidRequest(format!(
            "template: `${{{reference}}}` is not a JSONPath: {error}"
        ))
    })
}

/// One `${...}` in a string: where it is and what it refers to.
struct Reference<'t> {
    start: usize,
    end: usize,
    path: &'t str,
}

/// The references of `text` in order; an unclosed one is an error at its offset.
fn references(text: &str) -> impl Iterator<Item = std::result::Result<Reference<'_>, usize>> {
    let mut from = 0;
    std::iter::from_fn(move || {
        let start = from + text.get(from..)?.find("${")?;
        let Some(length) = text[start + 2..].find('}') else {
            from = text.len();
            return Some(Err(start));
        };
        let end = start + 2 + length + 1;
        from = end;
        Some(Ok(Reference {
            start,
            end,
            path: &text[start + 2..end - 1],
        }))
    })
}
