//! TLS for the listener the official SDKs dial: a certificate and key given as files, or
//! `--tls auto`, which makes (once) a local CA and a server certificate for localhost signed by
//! it, and keeps both in a directory so that clients trusting the CA keep working across restarts.

use std::fs;
use std::path::{Path, PathBuf};

use std::sync::Arc;

use rcgen::{BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::TlsAcceptor;

use crate::error::{Error, Result};

/// The names the automatic certificate is valid for.
const LOCAL_NAMES: [&str; 3] = ["localhost", "127.0.0.1", "::1"];

/// A server identity, and the CA that signed it when netplane made it.
pub struct ServerTls {
    pub acceptor: TlsAcceptor,
    pub ca_path: Option<PathBuf>,
}

fn failed(what: &str, e: impl std::fmt::Display) -> Error {
    Error::Unavailable(format!("TLS: {what}: {e}"))
}

fn read(path: &Path) -> Result<String> {
    fs::read_to_string(path).map_err(|e| failed(&format!("cannot read {}", path.display()), e))
}

pub fn from_files(cert: &Path, key: &Path) -> Result<ServerTls> {
    Ok(ServerTls { acceptor: acceptor(&read(cert)?, &read(key)?)?, ca_path: None })
}

/// A TLS acceptor for a PEM certificate chain and key, offering HTTP/2 and HTTP/1.1 (REST and
/// gRPC-Web clients may speak either).
fn acceptor(cert: &str, key: &str) -> Result<TlsAcceptor> {
    let chain = CertificateDer::pem_slice_iter(cert.as_bytes())
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| failed("the certificate", e))?;
    let key = PrivateKeyDer::from_pem_slice(key.as_bytes()).map_err(|e| failed("the key", e))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| failed("protocol versions", e))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| failed("the certificate and key", e))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// The CA and server certificate in `dir`, made there first if missing.
pub fn automatic(dir: &Path) -> Result<ServerTls> {
    let (ca_path, cert_path, key_path) = (dir.join("ca.pem"), dir.join("server.pem"), dir.join("server.key"));
    if !(ca_path.exists() && cert_path.exists() && key_path.exists()) {
        fs::create_dir_all(dir).map_err(|e| failed(&format!("cannot create {}", dir.display()), e))?;
        let (ca, cert, key) = generate().map_err(|e| failed("cannot make certificates", e))?;
        write(&key_path, &key, true)?;
        write(&cert_path, &cert, false)?;
        write(&ca_path, &ca, false)?;
        tracing::info!(ca = %ca_path.display(), "made a local CA and a certificate for localhost");
    }
    Ok(ServerTls { acceptor: acceptor(&read(&cert_path)?, &read(&key_path)?)?, ca_path: Some(ca_path) })
}

fn write(path: &Path, contents: &str, secret: bool) -> Result<()> {
    fs::write(path, contents).map_err(|e| failed(&format!("cannot write {}", path.display()), e))?;
    #[cfg(unix)]
    if secret {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(path, fs::Permissions::from_mode(0o600)).map_err(|e| failed("cannot protect the key", e))?;
    }
    Ok(())
}

/// (CA certificate, server certificate, server key), PEM.
fn generate() -> std::result::Result<(String, String, String), rcgen::Error> {
    let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.distinguished_name.push(DnType::CommonName, "netplane local CA");
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    let ca_key = KeyPair::generate()?;
    let ca = ca_params.self_signed(&ca_key)?;
    let issuer = Issuer::new(ca_params, ca_key);

    let mut params = CertificateParams::new(LOCAL_NAMES.map(String::from).to_vec())?;
    params.distinguished_name.push(DnType::CommonName, "localhost");
    params.use_authority_key_identifier_extension = true;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyEncipherment];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let key = KeyPair::generate()?;
    let cert = params.signed_by(&key, &issuer)?;
    Ok((ca.pem(), cert.pem(), key.serialize_pem()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn automatic_certificates_are_made_once_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let first = automatic(dir.path()).unwrap();
        let ca = fs::read_to_string(first.ca_path.as_ref().unwrap()).unwrap();
        assert!(ca.starts_with("-----BEGIN CERTIFICATE-----"));
        let second = automatic(dir.path()).unwrap();
        assert_eq!(fs::read_to_string(second.ca_path.unwrap()).unwrap(), ca, "the CA clients trust stays the same");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(fs::metadata(dir.path().join("server.key")).unwrap().permissions().mode() & 0o777, 0o600);
        }
    }
}
