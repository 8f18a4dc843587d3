//! Bearer tokens: minting org admin tokens, hashing them for storage and
//! checking them in constant time.
//!
//! An admin token reads `idps.{org}.{secret}`: the org id lets a token alone
//! identify its organization (the console signs in with just the token); the
//! secret is 32 random bytes, base64url. Only SHA-256 of the whole token is
//! stored.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

const PREFIX: &str = "idps.";

/// The random source failed; no token can be minted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("no randomness available: {0}")]
pub struct RandomError(String);

/// A freshly minted admin token and the hash to store.
pub struct MintedToken {
    pub token: String,
    pub hash: Vec<u8>,
}

/// Mints a new admin token for `org`.
pub fn mint(org: &str) -> Result<MintedToken, RandomError> {
    let mut secret = [0u8; 32];
    getrandom::fill(&mut secret).map_err(|e| RandomError(e.to_string()))?;
    let token = format!("{PREFIX}{org}.{}", URL_SAFE_NO_PAD.encode(secret));
    let hash = hash(&token);
    Ok(MintedToken { token, hash })
}

/// The org id an admin token claims (unverified until its hash matches).
pub fn claimed_org(token: &str) -> Option<&str> {
    let rest = token.strip_prefix(PREFIX)?;
    let (org, secret) = rest.rsplit_once('.')?;
    (!org.is_empty() && !secret.is_empty()).then_some(org)
}

/// SHA-256 of a token, as stored.
pub fn hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// Whether `presented` hashes to one of `stored`, comparing every candidate
/// in constant time.
pub fn matches_any(presented: &str, stored: &[Vec<u8>]) -> bool {
    let presented = hash(presented);
    stored.iter().fold(false, |found, candidate| {
        found | bool::from(presented.as_slice().ct_eq(candidate.as_slice()))
    })
}

/// Whether `presented` is the operator token. An unset operator token
/// (empty) never matches.
pub fn is_operator(presented: &str, operator_token: &str) -> bool {
    !operator_token.is_empty()
        && bool::from(
            Sha256::digest(presented.as_bytes()).ct_eq(&Sha256::digest(operator_token.as_bytes())),
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_minted_token_names_its_org_and_matches_only_its_hash() {
        let minted = mint("acme-1").expect("randomness");
        assert_eq!(claimed_org(&minted.token), Some("acme-1"));
        let stored = [minted.hash.clone()];
        assert!(matches_any(&minted.token, &stored));
        let other = mint("acme-1").expect("randomness");
        assert!(!matches_any(&other.token, &stored));
    }

    #[test]
    fn an_empty_operator_token_never_matches() {
        assert!(!is_operator("", ""));
        assert!(is_operator("op", "op"));
        assert!(!is_operator("op2", "op"));
    }
}
