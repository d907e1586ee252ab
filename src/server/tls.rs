//! TLS for the native node and the lab's site: the configurations that
//! `--tls-cert`/`--tls-key` (serve HTTPS) and `--tls-ca` (trust a private
//! CA when dialing `https://` peers) build, and the `reqwest` client that
//! dials with them.
//!
//! Why: a lab page served over `https://` cannot fetch from an `http://`
//! node (browsers block mixed content), so nodes that a hosted lab joins
//! must speak HTTPS. TLS here protects the transport only (who is at the
//! other end of a connection, and that nobody reads or changes the bytes on
//! the way); the origin of each update is still authenticated by its
//! Ed25519 seal, whoever relays it (see SECURITY.md).
//!
//! * rustls on the *ring* provider, passed to every config explicitly; the
//!   binary also installs it as the process's default
//!   ([`install_default_provider`]), a safety net for any `reqwest` client
//!   built without [`client_builder`];
//! * certificate checks are always on: roots are the operating system's
//!   store (`rustls-native-certs`, read once per process, so a machine's
//!   own trust settings apply and nothing compiled in goes stale) plus every
//!   certificate of the `--tls-ca` files; there is no "accept invalid" switch;
//! * ALPN offers and accepts `http/1.1` only (the node serves HTTP/1.1).
//!
//! Every way a file can be wrong is a [`TlsError`] that names the flag and
//! the file, checked before anything binds: a missing or unreadable file,
//! PEM that does not parse, a file without the expected block, a key that
//! does not match the certificate, a CA certificate that is not one.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::{ClientConfig, RootCertStore, ServerConfig};

/// The ALPN protocol both sides speak.
const ALPN: &[u8] = b"http/1.1";

/// Why a TLS file could not be used.
#[derive(Debug)]
pub enum TlsError {
    /// The file cannot be read (missing, a directory, no permission).
    Read {
        /// The flag that named it.
        flag: &'static str,
        /// The file.
        path: PathBuf,
        /// What the OS said.
        source: std::io::Error,
    },
    /// The file holds PEM that does not parse (bad base64, a block that
    /// never ends).
    Pem {
        /// The flag that named it.
        flag: &'static str,
        /// The file.
        path: PathBuf,
        /// What the PEM parser said.
        detail: String,
    },
    /// The file parses but has no block of the kind the flag needs
    /// (`CERTIFICATE` for `--tls-cert`/`--tls-ca`, a private key for `--tls-key`).
    Missing {
        /// The flag that named it.
        flag: &'static str,
        /// The file.
        path: PathBuf,
        /// What was looked for.
        what: &'static str,
    },
    /// rustls refused the certificate and key: most often a key that does
    /// not belong to the certificate, or a certificate it cannot parse.
    CertAndKey {
        /// `--tls-cert`'s file.
        cert: PathBuf,
        /// `--tls-key`'s file.
        key: PathBuf,
        /// What rustls said.
        source: rustls::Error,
    },
    /// A `--tls-ca` certificate cannot serve as a trust anchor.
    BadCa {
        /// The file.
        path: PathBuf,
        /// What the verifier said.
        source: rustls::Error,
    },
}

impl std::fmt::Display for TlsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TlsError::Read { flag, path, source } => write!(f, "{flag} {}: cannot read it: {source}", path.display()),
            TlsError::Pem { flag, path, detail } => write!(f, "{flag} {}: not valid PEM: {detail}", path.display()),
            TlsError::Missing { flag, path, what } => write!(f, "{flag} {}: no {what} in it", path.display()),
            TlsError::CertAndKey { cert, key, source: rustls::Error::InconsistentKeys(_) } => {
                write!(f, "--tls-key {} does not match the certificate in --tls-cert {}", key.display(), cert.display())
            }
            TlsError::CertAndKey { cert, key, source } => {
                write!(f, "--tls-cert {} with --tls-key {}: unusable: {source}", cert.display(), key.display())
            }
            TlsError::BadCa { path, source } => {
                write!(f, "--tls-ca {}: not a usable CA certificate: {source}", path.display())
            }
        }
    }
}

impl std::error::Error for TlsError {}

/// The crypto provider every config here is built with: *ring*. rustls
/// 0.23.48 deprecates it for lacking post-quantum key exchange
/// (X25519MLKEM768), which only the aws-lc-rs provider has; that one needs
/// cmake and a bigger C build, which this project does not take on (see
/// SECURITY.md: key exchange is classical X25519/ECDHE).
#[allow(deprecated)]
fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn read(flag: &'static str, path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|source| TlsError::Read { flag, path: path.to_owned(), source })
}

/// Every `CERTIFICATE` block of a PEM file, in order (at least one).
fn read_certs(flag: &'static str, path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let bytes = read(flag, path)?;
    let certs = CertificateDer::pem_slice_iter(&bytes).collect::<Result<Vec<_>, _>>().map_err(|e| TlsError::Pem {
        flag,
        path: path.to_owned(),
        detail: e.to_string(),
    })?;
    if certs.is_empty() {
        return Err(TlsError::Missing { flag, path: path.to_owned(), what: "CERTIFICATE block" });
    }
    Ok(certs)
}

/// The first private key (PKCS#8, PKCS#1 or SEC1) of a PEM file.
fn read_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    let flag = "--tls-key";
    let bytes = read(flag, path)?;
    PrivateKeyDer::from_pem_slice(&bytes).map_err(|e| match e {
        rustls::pki_types::pem::Error::NoItemsFound => {
            TlsError::Missing { flag, path: path.to_owned(), what: "PRIVATE KEY block" }
        }
        e => TlsError::Pem { flag, path: path.to_owned(), detail: e.to_string() },
    })
}

/// The server side: serve HTTPS with the certificate chain in `cert` (leaf
/// first, as PEM) and its private key in `key`. Fails, naming the file,
/// unless both read, parse and belong together.
pub fn server_config(cert: &Path, key: &Path) -> Result<Arc<ServerConfig>, TlsError> {
    let chain = read_certs("--tls-cert", cert)?;
    let key_der = read_key(key)?;
    let mut config = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .expect("ring supports rustls's default protocol versions")
        .with_no_client_auth()
        .with_single_cert(chain, key_der)
        .map_err(|source| TlsError::CertAndKey { cert: cert.to_owned(), key: key.to_owned(), source })?;
    config.alpn_protocols = vec![ALPN.to_vec()];
    Ok(Arc::new(config))
}

/// The operating system's trusted roots, read once per process (a machine
/// without a store has none: only `--tls-ca` roots are trusted then).
fn system_roots() -> &'static RootCertStore {
    static ROOTS: OnceLock<RootCertStore> = OnceLock::new();
    ROOTS.get_or_init(|| {
        let found = rustls_native_certs::load_native_certs();
        for e in &found.errors {
            tracing::debug!("system certificate store: {e}");
        }
        let mut roots = RootCertStore::empty();
        let (added, ignored) = roots.add_parsable_certificates(found.certs);
        tracing::debug!(added, ignored, "system trusted roots loaded");
        roots
    })
}

/// The client side: dial `https://` peers trusting the system's roots and
/// every certificate in the `cas` PEM files (each may be a bundle).
/// Certificates are always verified, host names included.
pub fn client_config(cas: &[PathBuf]) -> Result<Arc<ClientConfig>, TlsError> {
    let mut roots = system_roots().clone();
    for path in cas {
        for cert in read_certs("--tls-ca", path)? {
            roots.add(cert).map_err(|source| TlsError::BadCa { path: path.clone(), source })?;
        }
    }
    let mut config = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .expect("ring supports rustls's default protocol versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![ALPN.to_vec()];
    Ok(Arc::new(config))
}

/// The client configuration with the system's roots alone, built once per
/// process: what a node without `--tls-ca` dials with.
pub fn default_client_config() -> Arc<ClientConfig> {
    static CONFIG: OnceLock<Arc<ClientConfig>> = OnceLock::new();
    CONFIG.get_or_init(|| client_config(&[]).expect("no CA files, nothing to fail on")).clone()
}

/// A `reqwest` client builder that dials `https://` with `config` (default:
/// [`default_client_config`]) and `http://` as before. Every `reqwest`
/// client in this crate, its tools and tests is made through here: reqwest
/// is built without a crypto provider of its own, so `Client::new()` would
/// panic for want of one.
pub fn client_builder(config: Option<&Arc<ClientConfig>>) -> reqwest::ClientBuilder {
    let config = config.cloned().unwrap_or_else(default_client_config);
    reqwest::Client::builder().tls_backend_preconfigured(ClientConfig::clone(&config))
}

/// Make *ring* the process's default rustls provider (once; later calls and
/// a default installed already are left alone). The binary calls it first
/// thing, so that a `reqwest` client built anywhere in it without
/// [`client_builder`] still works instead of panicking for want of a
/// provider (it then trusts the system's roots only, never `--tls-ca`).
pub fn install_default_provider() {
    let _ = CryptoProvider::install_default(Arc::unwrap_or_clone(provider()));
}

/// A `reqwest` client with default settings and [`client_builder`]'s TLS.
pub fn client() -> reqwest::Client {
    client_builder(None).build().expect("a client with a preconfigured rustls config always builds")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn after_installing_the_default_provider_a_plain_reqwest_client_builds() {
        install_default_provider();
        install_default_provider(); // a second call changes nothing
        assert!(CryptoProvider::get_default().is_some());
        assert!(reqwest::Client::builder().build().is_ok(), "reqwest finds ring as the default");
        assert!(client_builder(None).build().is_ok());
    }
}
