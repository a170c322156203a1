//! Certificates and keys of the local control plane, generated fresh for every cluster.

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};

use crate::Result;

/// PEM material written to the state directory.
pub(crate) struct Pki {
    pub ca_cert: String,
    pub ca_key: String,
    pub serving_cert: String,
    pub serving_key: String,
    /// Serving certificate of KWOK's simulated kubelets (`127.0.0.1`), which the API server
    /// verifies against the CA when it fetches pod logs.
    pub kubelet_cert: String,
    pub kubelet_key: String,
    /// The API server's client certificate towards the kubelets.
    pub kubelet_client_cert: String,
    pub kubelet_client_key: String,
    /// Signs service-account tokens.
    pub sa_key: String,
    /// Verifies service-account tokens.
    pub sa_pub: String,
}

/// A CA, serving certificates for `127.0.0.1`/`localhost` (API server, kubelets) and the API
/// server's kubelet client certificate signed by it, and a service-account signing key.
pub(crate) fn generate() -> Result<Pki> {
    let ca_key = KeyPair::generate()?;
    let mut ca = CertificateParams::default();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(DnType::CommonName, "kubeairunway-local-ca");
    ca.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_cert = ca.self_signed(&ca_key)?;

    let serving_key = KeyPair::generate()?;
    let mut serving = CertificateParams::new(vec![
        "127.0.0.1".to_string(),
        "localhost".to_string(),
        "kubernetes".to_string(),
        "kubernetes.default.svc".to_string(),
    ])?;
    serving
        .distinguished_name
        .push(DnType::CommonName, "kube-apiserver");
    serving.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    serving.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    let issuer = Issuer::new(ca, &ca_key);
    let serving_cert = serving.signed_by(&serving_key, &issuer)?;

    let kubelet_key = KeyPair::generate()?;
    let mut kubelet =
        CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()])?;
    kubelet
        .distinguished_name
        .push(DnType::CommonName, "kwok-kubelet");
    kubelet.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    kubelet.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    let kubelet_cert = kubelet.signed_by(&kubelet_key, &issuer)?;

    let client_key = KeyPair::generate()?;
    let mut client = CertificateParams::new(Vec::<String>::new())?;
    client
        .distinguished_name
        .push(DnType::CommonName, "kube-apiserver-kubelet-client");
    client
        .distinguished_name
        .push(DnType::OrganizationName, "system:masters");
    client.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    client.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    let client_cert = client.signed_by(&client_key, &issuer)?;

    let sa_key = KeyPair::generate()?;
    Ok(Pki {
        ca_cert: ca_cert.pem(),
        ca_key: ca_key.serialize_pem(),
        serving_cert: serving_cert.pem(),
        serving_key: serving_key.serialize_pem(),
        kubelet_cert: kubelet_cert.pem(),
        kubelet_key: kubelet_key.serialize_pem(),
        kubelet_client_cert: client_cert.pem(),
        kubelet_client_key: client_key.serialize_pem(),
        sa_pub: sa_key.public_key_pem(),
        sa_key: sa_key.serialize_pem(),
    })
}
