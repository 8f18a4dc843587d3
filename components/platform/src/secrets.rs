//! Sealing of tenant client secrets at rest.
//!
//! XChaCha20-Poly1305 (RustCrypto) with a random 192-bit nonce per seal, so
//! nonces never need to be tracked. The key is 32 bytes, configured as a
//! base64 Spin secret variable. A sealed secret is
//! `version(1) || nonce(24) || ciphertext+tag`. A context is bound as
//! associated data, so a sealed value copied onto another record does not
//! open: for client secrets, [`client_secret_context`] (the org, tenant and
//! client id, all known before the directory gets its id).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};

/// Bytes of an encryption key.
pub const KEY_BYTES: usize = 32;
const NONCE_BYTES: usize = 24;
const FORMAT_V1: u8 = 1;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    #[error("the encryption key is not valid base64")]
    KeyNotBase64,
    #[error(
        "the encryption key decodes to {len} bytes; it must be exactly {KEY_BYTES} (e.g. `openssl rand -base64 32`)"
    )]
    KeyWrongLength { len: usize },
    #[error("the sealed secret is malformed: {0}")]
    Malformed(&'static str),
    /// Wrong key, wrong context, or the sealed bytes were altered.
    #[error("the sealed secret does not open with this key (wrong key or tampered data)")]
    Unauthentic,
    #[error("no randomness available for a nonce: {0}")]
    Random(String),
}

/// The key that seals tenant secrets. Its bytes never appear in `Debug`.
#[derive(Clone)]
pub struct SecretKey(XChaCha20Poly1305);

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey(<redacted>)")
    }
}

/// The context a tenant's client secret is sealed under.
pub fn client_secret_context(org: &str, tenant_id: &str, client_id: &str) -> String {
    format!("idp-sync/client-secret/v1/{org}/{tenant_id}/{client_id}")
}

impl SecretKey {
    /// Parses a key from its base64 form (standard alphabet, padded),
    /// ignoring surrounding whitespace.
    pub fn from_base64(text: &str) -> Result<Self, SecretError> {
        let bytes = BASE64
            .decode(text.trim())
            .map_err(|_| SecretError::KeyNotBase64)?;
        let key: [u8; KEY_BYTES] = bytes
            .as_slice()
            .try_into()
            .map_err(|_| SecretError::KeyWrongLength { len: bytes.len() })?;
        Ok(SecretKey(XChaCha20Poly1305::new(&key.into())))
    }

    /// Seals `plaintext`, bound to `context`.
    pub fn seal(&self, plaintext: &str, context: &str) -> Result<Vec<u8>, SecretError> {
        let mut nonce = [0u8; NONCE_BYTES];
        getrandom::fill(&mut nonce).map_err(|e| SecretError::Random(e.to_string()))?;
        let ciphertext = self
            .0
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plaintext.as_bytes(),
                    aad: context.as_bytes(),
                },
            )
            // Encryption fails only for messages beyond 256 GiB.
            .map_err(|_| SecretError::Malformed("plaintext too long"))?;
        let mut sealed = Vec::with_capacity(1 + NONCE_BYTES + ciphertext.len());
        sealed.push(FORMAT_V1);
        sealed.extend_from_slice(&nonce);
        sealed.extend_from_slice(&ciphertext);
        Ok(sealed)
    }

    /// Opens a secret sealed with this key and the same `context`.
    pub fn open(&self, sealed: &[u8], context: &str) -> Result<String, SecretError> {
        let (&version, rest) = sealed
            .split_first()
            .ok_or(SecretError::Malformed("empty"))?;
        if version != FORMAT_V1 {
            return Err(SecretError::Malformed("unknown format version"));
        }
        if rest.len() < NONCE_BYTES {
            return Err(SecretError::Malformed("shorter than a nonce"));
        }
        let (nonce, ciphertext) = rest.split_at(NONCE_BYTES);
        let plaintext = self
            .0
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| SecretError::Unauthentic)?;
        String::from_utf8(plaintext).map_err(|_| SecretError::Malformed("plaintext is not UTF-8"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY_A: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
    const KEY_B: &str = "HxwdHhscGRoXGBUWExQREg8QDQ4LDAkKBwgFBgMEAQI=";
    const SECRET: &str = "Xq8Q~client-secret-value~0123456789";
    const CONTEXT: &str = "idp-sync/test";

    fn key(text: &str) -> SecretKey {
        SecretKey::from_base64(text).expect("test key is valid")
    }

    #[test]
    fn a_sealed_secret_opens_to_the_original() {
        let sealed = key(KEY_A).seal(SECRET, CONTEXT).unwrap();
        assert_eq!(key(KEY_A).open(&sealed, CONTEXT).unwrap(), SECRET);
    }

    #[test]
    fn sealing_twice_gives_different_bytes() {
        let k = key(KEY_A);
        assert_ne!(
            k.seal(SECRET, CONTEXT).unwrap(),
            k.seal(SECRET, CONTEXT).unwrap()
        );
    }

    #[test]
    fn the_plaintext_never_appears_in_the_sealed_bytes() {
        let sealed = key(KEY_A).seal(SECRET, CONTEXT).unwrap();
        // Nor any 8-byte piece of it.
        for piece in SECRET.as_bytes().windows(8) {
            assert!(!sealed.windows(8).any(|w| w == piece));
        }
    }

    #[test]
    fn a_wrong_key_does_not_open() {
        let sealed = key(KEY_A).seal(SECRET, CONTEXT).unwrap();
        assert_eq!(
            key(KEY_B).open(&sealed, CONTEXT),
            Err(SecretError::Unauthentic)
        );
    }

    #[test]
    fn a_secret_moved_to_another_org_or_tenant_does_not_open() {
        let k = key(KEY_A);
        let context = client_secret_context("acme", "tenant-1", "client-1");
        let sealed = k.seal(SECRET, &context).unwrap();
        for other in [
            client_secret_context("other", "tenant-1", "client-1"),
            client_secret_context("acme", "tenant-2", "client-1"),
            client_secret_context("acme", "tenant-1", "client-2"),
        ] {
            assert_eq!(k.open(&sealed, &other), Err(SecretError::Unauthentic));
        }
        assert_eq!(k.open(&sealed, &context).unwrap(), SECRET);
    }

    #[test]
    fn any_flipped_bit_is_detected() {
        let k = key(KEY_A);
        let sealed = k.seal(SECRET, CONTEXT).unwrap();
        // Every byte after the version: nonce, ciphertext and tag.
        for i in 1..sealed.len() {
            let mut tampered = sealed.clone();
            tampered[i] ^= 0x01;
            assert_eq!(
                k.open(&tampered, CONTEXT),
                Err(SecretError::Unauthentic),
                "byte {i}"
            );
        }
    }

    #[test]
    fn truncated_or_foreign_input_is_malformed_not_a_panic() {
        let k = key(KEY_A);
        let mut unknown_version = k.seal(SECRET, CONTEXT).unwrap();
        unknown_version[0] = 2;
        for bad in [&[][..], &[1, 2, 3], &unknown_version] {
            let result = k.open(bad, CONTEXT);
            assert!(
                matches!(result, Err(SecretError::Malformed(_))),
                "{bad:?}: {result:?}"
            );
        }
    }

    #[test]
    fn bad_keys_are_refused_with_the_reason() {
        assert_eq!(
            SecretKey::from_base64("not base64!").unwrap_err(),
            SecretError::KeyNotBase64
        );
        // 16 bytes: a plausible mistake (an AES-128 key).
        assert_eq!(
            SecretKey::from_base64("AAECAwQFBgcICQoLDA0ODw==").unwrap_err(),
            SecretError::KeyWrongLength { len: 16 }
        );
        assert!(SecretKey::from_base64(&format!(" {KEY_A}\n")).is_ok());
    }

    #[test]
    fn the_key_is_redacted_in_debug_output() {
        assert_eq!(format!("{:?}", key(KEY_A)), "SecretKey(<redacted>)");
    }
}
