//! The seed's OpenAPI document (`docs/openapi/`), for the tests that hold the service to it.

use serde_json::{Map, Value};

/// The seed's OpenAPI 3.1 document.
pub fn document() -> Value {
    serde_json::from_str(include_str!(
        "../../docs/openapi/iamuserdetails-me.openapi.json"
    ))
    .expect("the seed document is JSON")
}

/// The properties of the seed's `IAMUserDetail`, by name, in the seed's order.
pub fn properties() -> Map<String, Value> {
    document()["components"]["schemas"]["IAMUserDetail"]["properties"]
        .as_object()
        .expect("IAMUserDetail has properties")
        .clone()
}

/// The JSON types a property schema allows, as a sorted list; `None` means any type.
pub fn types(schema: &Value) -> Option<Vec<String>> {
    let mut out = match &schema["type"] {
        Value::String(t) => vec![t.clone()],
        Value::Array(ts) => ts
            .iter()
            .filter_map(|t| t.as_str())
            .map(str::to_owned)
            .collect(),
        _ => {
            let branches = schema
                .get("anyOf")
                .or_else(|| schema.get("oneOf"))?
                .as_array()?;
            let mut all = Vec::new();
            for branch in branches {
                all.extend(types(branch)?);
            }
            all
        }
    };
    out.sort();
    out.dedup();
    Some(out)
}
