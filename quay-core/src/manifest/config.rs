//! Labels of an image configuration (the config blob of a Docker or OCI image).

use std::collections::BTreeMap;

use serde::Deserialize;

#[derive(Deserialize)]
struct ImageConfig {
    config: Option<ContainerConfig>,
}

#[derive(Deserialize)]
struct ContainerConfig {
    #[serde(rename = "Labels")]
    labels: Option<BTreeMap<String, serde_json::Value>>,
}

/// The `config.Labels` of an image configuration blob, with string values only. Anything
/// that is not an image configuration (an artifact's config, say) simply has no labels.
pub fn config_labels(config_blob: &[u8]) -> BTreeMap<String, String> {
    let Ok(ImageConfig {
        config: Some(ContainerConfig {
            labels: Some(labels),
        }),
    }) = serde_json::from_slice(config_blob)
    else {
        return BTreeMap::new();
    };
    labels
        .into_iter()
        .filter_map(|(key, value)| match value {
            serde_json::Value::String(text) => Some((key, text)),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_read_from_the_image_config() {
        let blob =
            br#"{"architecture":"amd64","config":{"Labels":{"quay.expires-after":"2h","n":1}}}"#;
        let labels = config_labels(blob);
        assert_eq!(labels.len(), 1);
        assert_eq!(labels["quay.expires-after"], "2h");
    }

    #[test]
    fn other_blobs_have_no_labels() {
        assert!(config_labels(b"{}").is_empty());
        assert!(config_labels(b"not json").is_empty());
        assert!(config_labels(br#"{"config":{"Labels":null}}"#).is_empty());
    }
}
