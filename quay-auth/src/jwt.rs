//! Registry bearer tokens: RS256 JSON Web Tokens with Quay's claims.
//!
//! The signing key is an RSA 2048 key created on first start and kept in the database, so
//! every node signs and verifies with the same key and tokens survive restarts. A token
//! carries its grants (`access`): a registry request with a valid token is allowed exactly
//! what the token lists, without another permission check, as in Quay.

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeyPair, KeySize};
use aws_lc_rs::signature::{self, KeyPair as _, UnparsedPublicKey};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use quay_core::Error;
use quay_core::ports::CredentialStore;
use serde::{Deserialize, Serialize};

use crate::error::AuthError;
use crate::secrets::{ALPHANUMERIC, random_string};

/// Clock skew tolerated between the issuing and the verifying node, in seconds.
const LEEWAY_S: i64 = 30;

/// One repository's grant in a token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaim {
    /// Always `repository`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The repository, as the client named it in its scope.
    pub name: String,
    /// `pull`, `push`, `*`.
    pub actions: Vec<String>,
}

/// Who a token was issued to (Quay's `context` claim).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContextClaim {
    /// Always 2.
    pub version: u32,
    /// `anonymous`, `user`, `robot`, `appspecifictoken` or `oauthtoken`.
    pub entity_kind: String,
    /// The account's id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entity_reference: Option<String>,
    /// Legacy kind (`user`, `oauth`, `anonymous`).
    pub kind: String,
    /// The username behind the credential.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Content trust is not supported.
    #[serde(rename = "com.apostille.root")]
    pub trust_root: String,
    /// A fingerprint of the account's credential when the token was issued: a replaced
    /// credential (a regenerated robot token, a new password) revokes the token.
    #[serde(
        rename = "quay-rs.credential",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub credential: Option<String>,
}

/// The claims of a registry token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegistryClaims {
    /// The issuer (`INSTANCE_SERVICE_KEY_SERVICE`, `quay`).
    pub iss: String,
    /// The service the token is for (the registry's hostname).
    pub aud: String,
    /// Not valid before, epoch seconds.
    pub nbf: i64,
    /// Issued at, epoch seconds.
    pub iat: i64,
    /// Expires at, epoch seconds.
    pub exp: i64,
    /// The account's name, or `(anonymous)`.
    pub sub: String,
    /// What the token grants.
    pub access: Vec<AccessClaim>,
    /// Who it was issued to.
    pub context: ContextClaim,
}

#[derive(Serialize, Deserialize)]
struct Header {
    alg: String,
    #[serde(default)]
    typ: Option<String>,
    kid: String,
}

/// What a verified token must say.
#[derive(Clone, Debug)]
pub struct Expectations<'a> {
    /// The issuer.
    pub issuer: &'a str,
    /// The service (audience).
    pub service: &'a str,
    /// Now, epoch seconds.
    pub now_s: i64,
    /// Longest lifetime accepted (`REGISTRY_JWT_AUTH_MAX_FRESH_S`, 3660).
    pub max_lifetime_s: i64,
}

/// The signing key of registry tokens.
pub struct TokenKeys {
    kid: String,
    key_pair: KeyPair,
}

fn invalid(reason: &str) -> Error {
    Error::InvalidCredentials(format!("invalid registry token: {reason}"))
}

impl TokenKeys {
    /// The key in the database, created there first if there is none (of nodes starting
    /// together, one key wins and all use it).
    pub async fn load_or_create(store: &dyn CredentialStore) -> quay_core::Result<Self> {
        if let Some((kid, pkcs8)) = store.signing_key().await? {
            return Ok(Self::from_pkcs8(kid, &pkcs8)?);
        }
        let generated = tokio::task::spawn_blocking(|| KeyPair::generate(KeySize::Rsa2048))
            .await
            .map_err(|_| AuthError::KeyGeneration)?
            .map_err(|_| AuthError::KeyGeneration)?;
        let pkcs8 = generated.as_der().map_err(|_| AuthError::KeyGeneration)?;
        let kid = random_string(24, ALPHANUMERIC)?;
        let (kid, pkcs8) = store.store_signing_key(&kid, pkcs8.as_ref()).await?;
        Ok(Self::from_pkcs8(kid, &pkcs8)?)
    }

    fn from_pkcs8(kid: String, pkcs8: &[u8]) -> Result<Self, AuthError> {
        let key_pair =
            KeyPair::from_pkcs8(pkcs8).map_err(|e| AuthError::KeyRejected(e.to_string()))?;
        Ok(Self { kid, key_pair })
    }

    /// The key's id (`kid`).
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// A signed token with these claims.
    pub fn sign(&self, claims: &RegistryClaims) -> Result<String, AuthError> {
        let header = Header {
            alg: "RS256".into(),
            typ: Some("JWT".into()),
            kid: self.kid.clone(),
        };
        let header = serde_json::to_vec(&header).map_err(|_| AuthError::Signing)?;
        let claims = serde_json::to_vec(claims).map_err(|_| AuthError::Signing)?;
        let signed = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header),
            URL_SAFE_NO_PAD.encode(claims)
        );
        let mut signature = vec![0; self.key_pair.public_modulus_len()];
        self.key_pair
            .sign(
                &signature::RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                signed.as_bytes(),
                &mut signature,
            )
            .map_err(|_| AuthError::Signing)?;
        Ok(format!("{signed}.{}", URL_SAFE_NO_PAD.encode(signature)))
    }

    /// The claims of a token this key signed, if it is valid now.
    pub fn verify(
        &self,
        token: &str,
        expect: &Expectations<'_>,
    ) -> quay_core::Result<RegistryClaims> {
        let mut parts = token.split('.');
        let (Some(header), Some(claims), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(invalid("not a JWT"));
        };
        let decode = |part: &str| {
            URL_SAFE_NO_PAD
                .decode(part)
                .map_err(|_| invalid("not base64url"))
        };
        let parsed_header: Header =
            serde_json::from_slice(&decode(header)?).map_err(|_| invalid("unreadable header"))?;
        if parsed_header.alg != "RS256" || parsed_header.kid != self.kid {
            return Err(invalid("unknown algorithm or key"));
        }
        let public_key = UnparsedPublicKey::new(
            &signature::RSA_PKCS1_2048_8192_SHA256,
            self.key_pair.public_key().as_ref(),
        );
        let signed = &token[..header.len() + 1 + claims.len()];
        public_key
            .verify(signed.as_bytes(), &decode(signature)?)
            .map_err(|_| invalid("bad signature"))?;
        let claims: RegistryClaims =
            serde_json::from_slice(&decode(claims)?).map_err(|_| invalid("unreadable claims"))?;
        if claims.iss != expect.issuer || claims.aud != expect.service {
            return Err(invalid("wrong issuer or audience"));
        }
        if claims.exp <= expect.now_s - LEEWAY_S || claims.nbf > expect.now_s + LEEWAY_S {
            return Err(invalid("expired or not yet valid"));
        }
        if claims.exp - claims.iat > expect.max_lifetime_s || claims.sub.is_empty() {
            return Err(invalid("lifetime too long or no subject"));
        }
        let known = |action: &String| matches!(action.as_str(), "pull" | "push" | "*");
        if claims
            .access
            .iter()
            .any(|a| a.kind != "repository" || !a.actions.iter().all(known))
        {
            return Err(invalid("unknown access"));
        }
        Ok(claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new_keys() -> TokenKeys {
        let pair = KeyPair::generate(KeySize::Rsa2048).unwrap();
        TokenKeys::from_pkcs8("kid-1".into(), pair.as_der().unwrap().as_ref()).unwrap()
    }

    fn claims(now: i64) -> RegistryClaims {
        RegistryClaims {
            iss: "quay".into(),
            aud: "registry.test".into(),
            nbf: now,
            iat: now,
            exp: now + 3600,
            sub: "alice".into(),
            access: vec![AccessClaim {
                kind: "repository".into(),
                name: "alice/app".into(),
                actions: vec!["pull".into(), "push".into()],
            }],
            context: ContextClaim {
                version: 2,
                entity_kind: "user".into(),
                entity_reference: Some("1".into()),
                kind: "user".into(),
                user: Some("alice".into()),
                trust_root: "$disabled".into(),
                credential: None,
            },
        }
    }

    fn expect(now_s: i64) -> Expectations<'static> {
        Expectations {
            issuer: "quay",
            service: "registry.test",
            now_s,
            max_lifetime_s: 3660,
        }
    }

    #[test]
    fn a_signed_token_verifies_with_its_claims() {
        let keys = new_keys();
        let token = keys.sign(&claims(1000)).unwrap();
        assert_eq!(keys.verify(&token, &expect(1000)).unwrap(), claims(1000));
        // Within the leeway either side.
        assert!(keys.verify(&token, &expect(1000 - 29)).is_ok());
        assert!(keys.verify(&token, &expect(1000 + 3600 + 29)).is_ok());
    }

    #[test]
    fn tampered_expired_and_foreign_tokens_are_refused() {
        let keys = new_keys();
        let token = keys.sign(&claims(1000)).unwrap();
        // Changing one character of the claims breaks the signature.
        let (head, rest) = token.split_once('.').unwrap();
        let (body, signature) = rest.split_once('.').unwrap();
        let mut forged = claims(1000);
        forged.access[0].actions.push("*".into());
        let forged_body = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&forged).unwrap());
        assert_ne!(forged_body, body);
        let tampered = format!("{head}.{forged_body}.{signature}");
        assert!(matches!(
            keys.verify(&tampered, &expect(1000)),
            Err(Error::InvalidCredentials(_))
        ));
        // Expired, too long-lived, for another service, or signed by another key.
        assert!(keys.verify(&token, &expect(1000 + 3600 + 31)).is_err());
        let long = keys
            .sign(&RegistryClaims {
                exp: 1000 + 7200,
                ..claims(1000)
            })
            .unwrap();
        assert!(keys.verify(&long, &expect(1000)).is_err());
        let elsewhere = Expectations {
            service: "other.test",
            ..expect(1000)
        };
        assert!(keys.verify(&token, &elsewhere).is_err());
        // Another key under the same id.
        let stranger = new_keys();
        assert!(stranger.verify(&token, &expect(1000)).is_err());
        assert!(keys.verify("not.a.token", &expect(1000)).is_err());
        assert!(keys.verify("", &expect(1000)).is_err());
    }
}
