//! A real registry client, the `oci-client` crate, pushing and pulling.

use oci_client::client::{ClientConfig, ClientProtocol, Config, ImageLayer};
use oci_client::secrets::RegistryAuth;
use oci_client::{Client, Reference};

use crate::support::*;

fn client(monolithic: bool) -> Client {
    Client::new(ClientConfig {
        protocol: ClientProtocol::Http,
        use_monolithic_push: monolithic,
        ..Default::default()
    })
}

#[tokio::test]
async fn push_and_pull_an_image_chunked_and_monolithic() {
    let server = Server::start().await;
    for (repo, monolithic) in [("ns/chunked", false), ("ns/monolithic", true)] {
        let client = client(monolithic);
        let reference: Reference = format!("{}/{repo}:v1", server.address).parse().unwrap();
        let layers = vec![
            ImageLayer::oci_v1(vec![1u8; 300_000], None),
            ImageLayer::oci_v1(b"second layer".to_vec(), None),
        ];
        let config = Config::oci_v1(br#"{"architecture":"amd64","os":"linux"}"#.to_vec(), None);
        let pushed = client
            .push(
                &reference,
                &layers,
                config.clone(),
                &RegistryAuth::Anonymous,
                None,
            )
            .await
            .unwrap();
        assert!(
            pushed.manifest_url.contains("/manifests/sha256:"),
            "{}",
            pushed.manifest_url
        );

        let pulled = client
            .pull(
                &reference,
                &RegistryAuth::Anonymous,
                vec![oci_client::manifest::IMAGE_LAYER_MEDIA_TYPE],
            )
            .await
            .unwrap();
        // oci-client downloads layers at once and lists them as they finish.
        let mut pulled_layers: Vec<_> = pulled.layers.iter().map(|layer| &layer.data).collect();
        let mut pushed_layers: Vec<_> = layers.iter().map(|layer| &layer.data).collect();
        pulled_layers.sort();
        pushed_layers.sort();
        assert_eq!(pulled_layers, pushed_layers);
        assert_eq!(pulled.config.data, config.data);

        let digest = client
            .fetch_manifest_digest(&reference, &RegistryAuth::Anonymous)
            .await
            .unwrap();
        assert_eq!(Some(digest.as_str()), pulled.digest.as_deref());
        let tags = client
            .list_tags(&reference, &RegistryAuth::Anonymous, None, None)
            .await
            .unwrap();
        assert_eq!(tags.tags, ["v1"]);
    }
}
