//! HTTPS with rustls, as Quay serves it: `PREFERRED_URL_SCHEME: https` with `ssl.cert` (the
//! certificate chain, PEM) and `ssl.key` (its private key, PEM) next to the config file.
//! Without those files, `https` only names the scheme clients use in front of a proxy that
//! terminates TLS, and the registry itself speaks plain HTTP.
//!
//! Handshakes run in each connection's own task (`crate::server`), so that a slow or silent
//! client never holds up the accepting of others.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// The certificate and key next to the config file at `config`, if both are there.
pub(crate) fn certificate_files(config: &Path) -> Option<(std::path::PathBuf, std::path::PathBuf)> {
    let directory = config.parent()?;
    let (cert, key) = (directory.join("ssl.cert"), directory.join("ssl.key"));
    (cert.is_file() && key.is_file()).then_some((cert, key))
}

/// A rustls server configuration of the certificate chain and key in these PEM files.
pub(crate) fn server_config(cert: &Path, key: &Path) -> anyhow::Result<Arc<ServerConfig>> {
    let chain = CertificateDer::pem_file_iter(cert)
        .and_then(Iterator::collect::<Result<Vec<_>, _>>)
        .with_context(|| format!("reading the certificate chain {}", cert.display()))?;
    let key = PrivateKeyDer::from_pem_file(key)
        .with_context(|| format!("reading the private key {}", key.display()))?;
    let mut config = ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .context("the certificate and key do not make a TLS configuration")?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}
