//! `yandex.cloud.iam.v1.IamTokenService`: IAM tokens for OAuth tokens (and, in development mode,
//! service-account JWTs), and their revocation.

use tonic::{Request, Response, Status};

use super::pack::timestamp;
use super::respond;
use super::status::{parts, unimplemented};
use crate::domain::validate::Violations;
use crate::error::Error;
use crate::proto::yandex::cloud::iam::v1 as pb;
use crate::proto::yandex::cloud::iam::v1::create_iam_token_request::Identity as PbIdentity;
use crate::proto::yandex::cloud::iam::v1::iam_token_service_server::IamTokenService;
use crate::service::iam::{Iam, Identity};

pub struct IamApi {
    iam: Iam,
}

impl IamApi {
    pub fn new(iam: Iam) -> Self {
        IamApi { iam }
    }
}

fn identity(r: pb::CreateIamTokenRequest) -> crate::error::Result<Identity> {
    match r.identity {
        Some(PbIdentity::YandexPassportOauthToken(t)) if !t.is_empty() && t.len() <= 4000 => Ok(Identity::OAuthToken(t)),
        Some(PbIdentity::Jwt(t)) if !t.is_empty() && t.len() <= 8000 => Ok(Identity::Jwt(t)),
        Some(PbIdentity::YandexPassportOauthToken(_)) => Err(Error::invalid("yandex_passport_oauth_token", "must be 1 to 4000 characters")),
        Some(PbIdentity::Jwt(_)) => Err(Error::invalid("jwt", "must be 1 to 8000 characters")),
        None => Err(Error::invalid("identity", "exactly one of yandex_passport_oauth_token and jwt is required")),
    }
}

#[tonic::async_trait]
impl IamTokenService for IamApi {
    async fn create(&self, req: Request<pb::CreateIamTokenRequest>) -> Result<Response<pb::CreateIamTokenResponse>, Status> {
        let (ctx, r) = parts(req);
        let result = async {
            let (iam_token, expires_at) = self.iam.create_token(identity(r)?).await?;
            Ok(pb::CreateIamTokenResponse { iam_token, expires_at: timestamp(expires_at) })
        };
        respond(ctx.as_ref(), result.await)
    }

    async fn create_for_service_account(
        &self,
        _: Request<pb::CreateIamTokenForServiceAccountRequest>,
    ) -> Result<Response<pb::CreateIamTokenResponse>, Status> {
        unimplemented("yandex.cloud.iam.v1.IamTokenService", "CreateForServiceAccount")
    }

    async fn revoke(&self, req: Request<pb::RevokeIamTokenRequest>) -> Result<Response<pb::RevokeIamTokenResponse>, Status> {
        let (ctx, r) = parts(req);
        let result = async {
            let mut v = Violations::new();
            if r.iam_token.is_empty() || r.iam_token.len() > 4096 {
                v.add("iam_token", "must be 1 to 4096 characters");
            }
            v.finish()?;
            Ok(pb::RevokeIamTokenResponse { subject_id: self.iam.revoke(&r.iam_token).await? })
        };
        respond(ctx.as_ref(), result.await)
    }
}
