//! A throwaway PKI for TLS tests, made inside the test with `rcgen`: a CA,
//! leaf certificates for loopback (IP SAN 127.0.0.1, DNS localhost) signed
//! by it, written as PEM files in a fresh temporary directory that is
//! removed when the [`Pki`] is dropped.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose};

/// A CA and the directory its files live in.
pub struct Pki {
    dir: PathBuf,
    ca: CertifiedIssuer<'static, KeyPair>,
    /// The CA's certificate, PEM (what `--tls-ca` takes).
    pub ca_pem: PathBuf,
}

/// A leaf certificate and its key, as files.
pub struct Leaf {
    /// The certificate, PEM (`--tls-cert`).
    pub cert: PathBuf,
    /// Its private key, PKCS#8 PEM (`--tls-key`).
    pub key: PathBuf,
}

impl Pki {
    /// A new CA named `name`, its certificate written to `DIR/NAME-ca.pem`.
    pub fn new(name: &str) -> Pki {
        static MADE: AtomicU32 = AtomicU32::new(0);
        let seq = MADE.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("gossip-pki-{}-{name}-{seq}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a temporary directory");
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, format!("gossip test CA {name}"));
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca = CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap();
        let ca_pem = dir.join(format!("{name}-ca.pem"));
        std::fs::write(&ca_pem, ca.pem()).unwrap();
        Pki { dir, ca, ca_pem }
    }

    /// A leaf for 127.0.0.1 and localhost signed by this CA, as `DIR/NAME.pem`
    /// and `DIR/NAME.key`.
    pub fn leaf(&self, name: &str) -> Leaf {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()]).unwrap();
        params.distinguished_name.push(DnType::CommonName, name);
        let cert = params.signed_by(&key, &self.ca).unwrap();
        let leaf = Leaf { cert: self.dir.join(format!("{name}.pem")), key: self.dir.join(format!("{name}.key")) };
        std::fs::write(&leaf.cert, cert.pem()).unwrap();
        std::fs::write(&leaf.key, key.serialize_pem()).unwrap();
        leaf
    }

    /// A file of this PKI's directory with these contents.
    pub fn file(&self, name: &str, contents: &[u8]) -> PathBuf {
        let p = self.dir.join(name);
        std::fs::write(&p, contents).unwrap();
        p
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

impl Drop for Pki {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
