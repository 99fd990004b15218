//! Who is calling a Huawei API, and for which project. Real clients authenticate two ways:
//! `X-Auth-Token` (an IAM token, as in the seed document) or an AK/SK `SDK-HMAC-SHA256` signature
//! (what the official SDKs send). Both map to principals of the principals file, whose `projects`
//! say which project ids in the path they may use. Without a principals file every call is
//! accepted (development mode).

use std::sync::Arc;

use http::request::Parts;

use crate::domain::aksk::{self, ALGORITHM};
use crate::domain::clock::Clock;
use crate::domain::principals::{Principal, Principals};
use crate::error::{Error, Result};

#[derive(Clone)]
pub struct HuaweiAuth {
    principals: Option<Arc<Principals>>,
    clock: Arc<dyn Clock>,
}

impl HuaweiAuth {
    pub fn new(principals: Option<Principals>, clock: Arc<dyn Clock>) -> HuaweiAuth {
        HuaweiAuth { principals: principals.map(Arc::new), clock }
    }

    pub fn development_mode(&self) -> bool {
        self.principals.is_none()
    }

    /// The caller of a request for `project_id`, or why it is refused: an unknown or wrong
    /// credential is `Unauthenticated` (APIGW.0301), a valid one for another project is
    /// `ProjectDenied` (APIGW.0302) before anything of that project is read.
    pub fn admit(&self, parts: &Parts, body: &[u8], project_id: &str) -> Result<Principal> {
        let Some(principals) = &self.principals else { return Ok(Principal::development()) };
        let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok());
        let principal = if let Some(token) = header("x-auth-token") {
            principals.by_auth_token(token).ok_or_else(|| Error::Unauthenticated("unknown X-Auth-Token".into()))?
        } else if let Some(authorization) = header("authorization").filter(|a| a.starts_with(ALGORITHM)) {
            self.verify_signature(principals, parts, body, authorization, project_id)?
        } else {
            return Err(Error::Unauthenticated(format!("send X-Auth-Token or an {ALGORITHM} Authorization header")));
        };
        if !principal.projects.allows(project_id) {
            return Err(Error::ProjectDenied { project_id: project_id.to_string() });
        }
        Ok(principal)
    }

    fn verify_signature(
        &self,
        principals: &Principals,
        parts: &Parts,
        body: &[u8],
        authorization: &str,
        project_id: &str,
    ) -> Result<Principal> {
        let refused = |r: aksk::Refusal| Error::Unauthenticated(r.describe());
        let parsed = aksk::parse_authorization(authorization).map_err(refused)?;
        let (principal, secret) =
            principals.by_access_key(&parsed.access).ok_or_else(|| Error::Unauthenticated("unknown access key".into()))?;
        let mut headers: Vec<(String, String)> =
            parts.headers.iter().filter_map(|(n, v)| Some((n.as_str().to_string(), v.to_str().ok()?.to_string()))).collect();
        // HTTP/2 carries the host as the URI's authority, not as a header.
        if parts.headers.get(http::header::HOST).is_none()
            && let Some(authority) = parts.uri.authority()
        {
            headers.push(("host".into(), authority.to_string()));
        }
        let request = aksk::Request {
            method: parts.method.as_str(),
            path: parts.uri.path(),
            query: parts.uri.query().unwrap_or(""),
            headers: &headers,
            body,
        };
        aksk::verify(&secret, &request, &parsed, self.clock.now()).map_err(refused)?;
        if let Some(header_project) = parts.headers.get("x-project-id").and_then(|v| v.to_str().ok())
            && header_project != project_id
        {
            return Err(Error::Unauthenticated(format!(
                "X-Project-Id {header_project} does not match the project {project_id} in the path"
            )));
        }
        Ok(principal)
    }
}
