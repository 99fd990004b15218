//! `yandex.cloud.endpoint.ApiEndpointService`: endpoint discovery. Every service id the SDKs know
//! points at netplane's advertised address; the ones netplane does not serve answer UNIMPLEMENTED.

use tonic::{Request, Response, Status};

use super::respond;
use super::status::parts;
use crate::error::{Error, ResourceKind};
use crate::proto::yandex::cloud::endpoint as pb;
use crate::proto::yandex::cloud::endpoint::api_endpoint_service_server::ApiEndpointService;

/// The service ids of the official SDKs' endpoint tables.
pub const SERVICE_IDS: &[&str] = &[
    "ai-assistants",
    "ai-files",
    "ai-foundation-models",
    "ai-llm",
    "ai-speechkit",
    "ai-stt",
    "ai-translate",
    "ai-vision",
    "ai-vision-ocr",
    "alb",
    "apigateway-connections",
    "billing",
    "cdn",
    "certificate-manager",
    "certificate-manager-data",
    "compute",
    "container-registry",
    "dataproc",
    "dataproc-manager",
    "datasphere",
    "datatransfer",
    "dns",
    "endpoint",
    "iam",
    "iot-devices",
    "kms",
    "kms-crypto",
    "load-balancer",
    "loadtesting",
    "lockbox",
    "lockbox-payload",
    "log-ingestion",
    "log-reading",
    "logging",
    "managed-airflow",
    "managed-clickhouse",
    "managed-elasticsearch",
    "managed-greenplum",
    "managed-kafka",
    "managed-kubernetes",
    "managed-mongodb",
    "managed-mysql",
    "managed-opensearch",
    "managed-postgresql",
    "managed-redis",
    "managed-spark",
    "managed-sqlserver",
    "marketplace",
    "operation",
    "organization-manager",
    "quota",
    "quota-manager",
    "resource-manager",
    "resourcemanager",
    "serverless-apigateway",
    "serverless-containers",
    "serverless-functions",
    "serverless-triggers",
    "storage-api",
    "trino",
    "vpc",
    "ydb",
];

pub struct EndpointApi {
    address: String,
}

impl EndpointApi {
    /// `address` is what clients should dial (`host:port`).
    pub fn new(address: String) -> Self {
        EndpointApi { address }
    }

    fn endpoint(&self, id: &str) -> pb::ApiEndpoint {
        pb::ApiEndpoint { id: id.to_string(), address: self.address.clone() }
    }
}

#[tonic::async_trait]
impl ApiEndpointService for EndpointApi {
    async fn get(&self, req: Request<pb::GetApiEndpointRequest>) -> Result<Response<pb::ApiEndpoint>, Status> {
        let (ctx, r) = parts(req);
        let found = SERVICE_IDS.contains(&r.api_endpoint_id.as_str()).then(|| self.endpoint(&r.api_endpoint_id));
        respond(ctx.as_ref(), found.ok_or_else(|| Error::not_found(ResourceKind::ApiEndpoint, r.api_endpoint_id)))
    }

    async fn list(&self, req: Request<pb::ListApiEndpointsRequest>) -> Result<Response<pb::ListApiEndpointsResponse>, Status> {
        let (ctx, _) = parts(req);
        let endpoints = SERVICE_IDS.iter().map(|id| self.endpoint(id)).collect();
        respond(ctx.as_ref(), Ok(pb::ListApiEndpointsResponse { endpoints, next_page_token: String::new() }))
    }
}
