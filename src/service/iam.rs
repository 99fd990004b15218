//! IAM: who a bearer token stands for, and IAM tokens issued for OAuth tokens or service-account
//! JWTs. Without a principals file netplane runs in development mode: every call is accepted as
//! one all-folders subject. Issued tokens are claims, so they survive restarts.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;

use crate::domain::clock::{Clock, Timestamp};
use crate::domain::principals::{Principal, Principals, Rejection};
use crate::error::{Error, Result};
use crate::service::claims::ClaimScope;
use crate::store::{Claim, Store};

/// What `IamTokenService.Create` was given.
#[derive(Clone, Debug)]
pub enum Identity {
    OAuthToken(String),
    Jwt(String),
}

#[derive(Clone)]
pub struct Iam {
    principals: Option<Arc<Principals>>,
    store: Store,
    clock: Arc<dyn Clock>,
    token_lifetime: Duration,
}

impl Iam {
    pub fn new(principals: Option<Principals>, store: Store, clock: Arc<dyn Clock>, token_lifetime: Duration) -> Iam {
        Iam { principals: principals.map(Arc::new), store, clock, token_lifetime }
    }

    pub fn development_mode(&self) -> bool {
        self.principals.is_none()
    }

    /// The caller an `authorization` header value stands for.
    pub async fn authenticate(&self, authorization: Option<&str>) -> Result<Principal> {
        let Some(principals) = self.principals.clone() else { return Ok(Principal::development()) };
        let token = authorization
            .ok_or_else(|| Error::Unauthenticated("no IAM token; send `authorization: Bearer <IAM token>`".into()))?
            .strip_prefix("Bearer ")
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| Error::Unauthenticated("the authorization header must be `Bearer <IAM token>`".into()))?;
        let now = self.clock.now();
        match principals.by_iam_token(token, now) {
            Ok(principal) => return Ok(principal),
            Err(Rejection::Expired) => return Err(Error::Unauthenticated("the IAM token has expired".into())),
            Err(Rejection::Unknown) => {}
        }
        let key = token.to_string();
        let issued = self.store.lookup(move |tx| Ok(tx.claim_at(&ClaimScope::IamTokens.stored(), &key)?)).await?;
        let Some(Claim { owner: subject, expires_at: Some(expires_at), .. }) = issued else {
            return Err(Error::Unauthenticated("unknown IAM token".into()));
        };
        if Timestamp(expires_at) <= now {
            return Err(Error::Unauthenticated("the IAM token has expired".into()));
        }
        principals.by_subject(&subject).ok_or_else(|| Error::Unauthenticated(format!("subject {subject} is no longer configured")))
    }

    /// Issues an IAM token for an OAuth token or a JWT; returns it with its expiry.
    pub async fn create_token(&self, identity: Identity) -> Result<(String, Timestamp)> {
        let subject = match (&self.principals, &identity) {
            (None, Identity::OAuthToken(_)) => crate::domain::principals::DEVELOPMENT_SUBJECT.to_string(),
            (None, Identity::Jwt(jwt)) => jwt_issuer(jwt)?,
            (Some(p), Identity::OAuthToken(token)) => {
                p.by_oauth_token(token).ok_or_else(|| Error::Unauthenticated("unknown OAuth token".into()))?.subject
            }
            (Some(_), Identity::Jwt(_)) => {
                return Err(Error::Unauthenticated("service-account JWTs are accepted in development mode only".into()));
            }
        };
        let token = format!("t1.{}", uuid::Uuid::new_v4().simple());
        let expires_at = self.clock.now().plus_millis(u64::try_from(self.token_lifetime.as_millis()).unwrap_or(u64::MAX));
        let claim = Claim::new(ClaimScope::IamTokens.stored(), token.clone(), &subject).expiring_at(expires_at.0);
        self.store.write(move |tx| tx.claim(&claim)?.map_err(|_| Error::Internal("a fresh IAM token collided".into()))).await?;
        tracing::info!(%subject, "IAM token issued");
        Ok((token, expires_at))
    }

    /// Revokes an issued token; returns its subject.
    pub async fn revoke(&self, token: &str) -> Result<String> {
        let key = token.to_string();
        let holder = self
            .store
            .write(move |tx| {
                let scope = ClaimScope::IamTokens.stored();
                let holder = tx.holder(&scope, &key)?;
                tx.release(&scope, &key)?;
                Ok(holder)
            })
            .await?;
        holder.ok_or_else(|| Error::Unauthenticated("unknown IAM token".into()))
    }
}

/// The `iss` (service account id) of a JWT, read without verification (development mode).
fn jwt_issuer(jwt: &str) -> Result<String> {
    let bad = |why: &str| Error::invalid("jwt", why);
    let payload = jwt.split('.').nth(1).ok_or_else(|| bad("not a JWT (header.payload.signature)"))?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .map_err(|_| bad("payload is not base64url"))?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).map_err(|_| bad("payload is not JSON"))?;
    claims["iss"].as_str().filter(|s| !s.is_empty()).map(str::to_string).ok_or_else(|| bad("no `iss` claim"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jwt_issuer_is_read_from_the_payload() {
        let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(br#"{"iss":"ajesa","aud":"x"}"#);
        assert_eq!(jwt_issuer(&format!("h.{payload}.s")).unwrap(), "ajesa");
        assert!(jwt_issuer("nope").is_err());
        assert!(jwt_issuer("h.!!!.s").is_err());
    }
}
