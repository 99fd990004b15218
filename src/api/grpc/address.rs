//! `yandex.cloud.vpc.v1.AddressService`: parse and validate, call the service, encode.

use tonic::{Request, Response, Status};

use super::status::parts;
use super::vpc::list_in_folder;
use super::{convert, fields, respond, respond_operation};
use crate::domain::address::AddressPatch;
use crate::domain::instance::DnsRecord;
use crate::domain::validate::{self, LabelRules, Violations};
use crate::ops::Movable;
use crate::proto::yandex::cloud::compute::v1 as cpb;
use crate::proto::yandex::cloud::operation::Operation as PbOperation;
use crate::proto::yandex::cloud::vpc::v1 as pb;
use crate::proto::yandex::cloud::vpc::v1::address_service_server::AddressService;
use crate::service::AddressArea;
use crate::service::addresses::CreateAddress;

type Reply<T> = std::result::Result<Response<T>, Status>;

pub struct AddressApi {
    services: AddressArea,
}

impl AddressApi {
    pub fn new(services: AddressArea) -> Self {
        AddressApi { services }
    }
}

/// VPC DNS record specs have the same shape as compute's; one checker serves both.
fn dns(v: &mut Violations, field: &str, specs: &[pb::DnsRecordSpec]) -> Vec<DnsRecord> {
    let as_compute: Vec<cpb::DnsRecordSpec> = specs
        .iter()
        .map(|s| cpb::DnsRecordSpec { fqdn: s.fqdn.clone(), dns_zone_id: s.dns_zone_id.clone(), ttl: s.ttl, ptr: s.ptr })
        .collect();
    fields::dns_records(v, field, &as_compute)
}

#[tonic::async_trait]
impl AddressService for AddressApi {
    async fn get(&self, req: Request<pb::GetAddressRequest>) -> Reply<pb::Address> {
        let (ctx, r) = parts(req);
        let result = async {
            fields::require_id("address_id", &r.address_id)?;
            let (a, used) = self.services.get_address(&r.address_id).await?;
            Ok(convert::address(&a, used))
        };
        respond(ctx.as_ref(), result.await)
    }

    async fn get_by_value(&self, req: Request<pb::GetAddressByValueRequest>) -> Reply<pb::Address> {
        use pb::get_address_by_value_request::Address as By;
        let (ctx, r) = parts(req);
        let result = async {
            let mut v = Violations::new();
            let subnet_id = match &r.scope {
                Some(pb::get_address_by_value_request::Scope::SubnetId(id)) => id.clone(),
                None => String::new(),
            };
            let ip = match &r.address {
                Some(By::ExternalIpv4Address(a)) => fields::ipv4(&mut v, "external_ipv4_address", a),
                Some(By::InternalIpv4Address(a)) => {
                    // An internal address is unique only within its subnet.
                    v.id("subnet_id", &subnet_id);
                    fields::ipv4(&mut v, "internal_ipv4_address", a)
                }
                None => None,
            };
            if ip.is_none() && v.is_empty() {
                v.add("external_ipv4_address", "required field is empty");
            }
            v.finish()?;
            let ip = ip.ok_or_else(|| crate::error::Error::invalid("external_ipv4_address", "required field is empty"))?;
            let internal = matches!(r.address, Some(By::InternalIpv4Address(_)));
            let subnet_id = if internal { Some(subnet_id) } else { None };
            let (a, used) = self.services.get_address_by_value(ip, subnet_id).await?;
            Ok(convert::address(&a, used))
        };
        respond(ctx.as_ref(), result.await)
    }

    async fn list(&self, req: Request<pb::ListAddressesRequest>) -> Reply<pb::ListAddressesResponse> {
        let (ctx, r) = parts(req);
        let result = async {
            let page = self.services.list_addresses(list_in_folder(&r.folder_id, r.page_size, &r.page_token, &r.filter)?).await?;
            Ok(pb::ListAddressesResponse {
                addresses: page.items.iter().map(|(a, u)| convert::address(a, *u)).collect(),
                next_page_token: page.next_page_token,
            })
        };
        respond(ctx.as_ref(), result.await)
    }

    async fn list_by_subnet(&self, req: Request<pb::ListAddressesBySubnetRequest>) -> Reply<pb::ListAddressesBySubnetResponse> {
        let (ctx, r) = parts(req);
        let result = async {
            let mut v = Violations::new();
            v.id("subnet_id", &r.subnet_id);
            v.page(r.page_size, &r.page_token);
            v.finish()?;
            let page = self.services.list_addresses_by_subnet(&r.subnet_id, validate::page_size(r.page_size), &r.page_token).await?;
            Ok(pb::ListAddressesBySubnetResponse {
                addresses: page.items.iter().map(|(a, u)| convert::address(a, *u)).collect(),
                next_page_token: page.next_page_token,
            })
        };
        respond(ctx.as_ref(), result.await)
    }

    async fn create(&self, req: Request<pb::CreateAddressRequest>) -> Reply<PbOperation> {
        use pb::create_address_request::AddressSpec;
        let (ctx, r) = parts(req);
        let result = async {
            let mut v = Violations::new();
            v.id("folder_id", &r.folder_id);
            v.pattern("name", &r.name, &validate::VPC_NAME);
            v.description("description", &r.description);
            v.labels("labels", &r.labels, LabelRules::Vpc);
            let dns_records = dns(&mut v, "dns_record_specs", &r.dns_record_specs);
            let (spec, internal) = match &r.address_spec {
                Some(AddressSpec::ExternalIpv4AddressSpec(spec)) => (Some(spec.clone()), None),
                Some(AddressSpec::InternalIpv4AddressSpec(spec)) => (None, Some(spec.clone())),
                None => {
                    v.add(
                        "external_ipv4_address_spec",
                        "exactly one of external_ipv4_address_spec and internal_ipv4_address_spec must be set",
                    );
                    (None, None)
                }
            };
            let (zone_id, address, subnet_id, requirements) = match (spec, internal) {
                (_, Some(internal)) => {
                    let subnet_id = match &internal.scope {
                        Some(pb::internal_ipv4_address_spec::Scope::SubnetId(id)) => id.clone(),
                        None => String::new(),
                    };
                    v.id("internal_ipv4_address_spec.subnet_id", &subnet_id);
                    v.max_len("internal_ipv4_address_spec.address", &internal.address, 16);
                    let address = fields::ipv4(&mut v, "internal_ipv4_address_spec.address", &internal.address);
                    (String::new(), address, subnet_id, pb::AddressRequirements::default())
                }
                (spec, None) => {
                    let spec = spec.unwrap_or_default();
                    v.zone("external_ipv4_address_spec.zone_id", &spec.zone_id);
                    let address = fields::ipv4(&mut v, "external_ipv4_address_spec.address", &spec.address);
                    (spec.zone_id.clone(), address, String::new(), spec.requirements.unwrap_or_default())
                }
            };
            v.finish()?;
            let cmd = CreateAddress {
                folder_id: r.folder_id.clone(),
                name: r.name.clone(),
                description: r.description.clone(),
                labels: r.labels.clone(),
                zone_id,
                address,
                subnet_id,
                ddos_protection_provider: requirements.ddos_protection_provider,
                outgoing_smtp_capability: requirements.outgoing_smtp_capability,
                deletion_protection: r.deletion_protection,
                dns_records,
            };
            convert::operation_answer(&self.services.create_address(cmd).await?)
        };
        respond_operation(ctx.as_ref(), result.await)
    }

    async fn update(&self, req: Request<pb::UpdateAddressRequest>) -> Reply<PbOperation> {
        let (ctx, r) = parts(req);
        let result = async {
            let mut v = Violations::new();
            v.id("address_id", &r.address_id);
            let implied = [
                ("name", !r.name.is_empty()),
                ("description", !r.description.is_empty()),
                ("labels", !r.labels.is_empty()),
                ("reserved", r.reserved),
                ("deletion_protection", r.deletion_protection),
                ("dns_record_specs", !r.dns_record_specs.is_empty()),
            ];
            let paths = fields::paths(r.update_mask.as_ref(), &implied);
            fields::check_mask(&mut v, &paths, &["name", "description", "labels", "reserved", "deletion_protection", "dns_record_specs"]);
            let has = |f: &str| paths.iter().any(|p| p == f);
            let mut patch = AddressPatch::default();
            if has("name") {
                v.pattern("name", &r.name, &validate::VPC_NAME);
                patch.name = Some(r.name.clone());
            }
            if has("description") {
                v.description("description", &r.description);
                patch.description = Some(r.description.clone());
            }
            if has("labels") {
                v.labels("labels", &r.labels, LabelRules::Vpc);
                patch.labels = Some(r.labels.clone());
            }
            if has("reserved") {
                patch.reserved = Some(r.reserved);
            }
            if has("deletion_protection") {
                patch.deletion_protection = Some(r.deletion_protection);
            }
            if has("dns_record_specs") {
                patch.dns_records = Some(dns(&mut v, "dns_record_specs", &r.dns_record_specs));
            }
            v.finish()?;
            convert::operation_answer(&self.services.update_address(&r.address_id, patch).await?)
        };
        respond_operation(ctx.as_ref(), result.await)
    }

    async fn delete(&self, req: Request<pb::DeleteAddressRequest>) -> Reply<PbOperation> {
        let (ctx, r) = parts(req);
        let result = async {
            fields::require_id("address_id", &r.address_id)?;
            convert::operation_answer(&self.services.delete_address(&r.address_id).await?)
        };
        respond_operation(ctx.as_ref(), result.await)
    }

    async fn list_operations(&self, req: Request<pb::ListAddressOperationsRequest>) -> Reply<pb::ListAddressOperationsResponse> {
        let (ctx, r) = parts(req);
        let result = async {
            let size = fields::child_page("address_id", &r.address_id, r.page_size, &r.page_token)?;
            let page = self.services.list_address_operations(&r.address_id, size, &r.page_token).await?;
            Ok(pb::ListAddressOperationsResponse { operations: convert::operations(&page.items)?, next_page_token: page.next_page_token })
        };
        respond(ctx.as_ref(), result.await)
    }

    async fn r#move(&self, req: Request<pb::MoveAddressRequest>) -> Reply<PbOperation> {
        let (ctx, r) = parts(req);
        let result = async {
            fields::move_target("address_id", &r.address_id, &r.destination_folder_id)?;
            convert::operation_answer(&self.services.move_resource(Movable::Address, &r.address_id, &r.destination_folder_id).await?)
        };
        respond_operation(ctx.as_ref(), result.await)
    }
}
