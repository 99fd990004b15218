//! `yandex.cloud.vpc.v1.SecurityGroupService`: parse and validate, call the service, encode.

use tonic::{Request, Response, Status};

use super::status::parts;
use super::vpc::list_in_folder;
use super::{convert, fields, respond, respond_operation};
use crate::domain::security_group::{self as sg, Direction, Rule, SecurityGroupPatch, Target};
use crate::domain::validate::{self, LabelRules, Violations};
use crate::ops::Movable;
use crate::proto::yandex::cloud::operation::Operation as PbOperation;
use crate::proto::yandex::cloud::vpc::v1 as pb;
use crate::proto::yandex::cloud::vpc::v1::security_group_service_server::SecurityGroupService;
use crate::service::SecurityGroupArea;
use crate::service::security_groups::CreateSecurityGroup;

type Reply<T> = std::result::Result<Response<T>, Status>;

pub struct SecurityGroupApi {
    services: SecurityGroupArea,
}

impl SecurityGroupApi {
    pub fn new(services: SecurityGroupArea) -> Self {
        SecurityGroupApi { services }
    }
}

/// A rule spec as a domain rule (id minted later), with every problem reported under `field`.
pub fn rule(v: &mut Violations, field: &str, spec: &pb::SecurityGroupRuleSpec) -> Rule {
    use pb::security_group_rule_spec::{Protocol, Target as T};
    v.description(&format!("{field}.description"), &spec.description);
    v.labels(&format!("{field}.labels"), &spec.labels, LabelRules::Compute);
    let direction = match pb::security_group_rule::Direction::try_from(spec.direction) {
        Ok(pb::security_group_rule::Direction::Ingress) => Direction::Ingress,
        Ok(pb::security_group_rule::Direction::Egress) => Direction::Egress,
        _ => {
            v.add(format!("{field}.direction"), "required: INGRESS or EGRESS");
            Direction::Ingress
        }
    };
    let (protocol_name, protocol_number) = match &spec.protocol {
        Some(Protocol::ProtocolName(n)) => {
            (n.to_uppercase(), sg::PROTOCOLS.iter().find(|(p, _)| p.eq_ignore_ascii_case(n)).map_or(0, |(_, num)| *num))
        }
        Some(Protocol::ProtocolNumber(n)) => (String::new(), *n),
        None => ("ANY".to_string(), -1),
    };
    let target = match &spec.target {
        Some(T::CidrBlocks(c)) => Target::Cidr { v4: c.v4_cidr_blocks.clone(), v6: c.v6_cidr_blocks.clone() },
        Some(T::SecurityGroupId(id)) => Target::SecurityGroup(id.clone()),
        Some(T::PredefinedTarget(t)) => Target::Predefined(t.clone()),
        None => {
            v.add(field, "exactly one of cidr_blocks, security_group_id and predefined_target must be set");
            Target::Cidr { v4: vec![], v6: vec![] }
        }
    };
    let rule = Rule {
        id: String::new(),
        description: spec.description.clone(),
        labels: spec.labels.clone(),
        direction,
        ports: spec.ports.map(|p| (p.from_port, p.to_port)),
        protocol_name,
        protocol_number,
        target,
    };
    let mut problems = Vec::new();
    if spec.target.is_some() {
        sg::check_rule(field, &rule, &mut problems);
    }
    for p in problems {
        v.add(p.field, p.description);
    }
    rule
}

fn rules(v: &mut Violations, field: &str, specs: &[pb::SecurityGroupRuleSpec]) -> Vec<Rule> {
    specs.iter().enumerate().map(|(i, s)| rule(v, &format!("{field}[{i}]"), s)).collect()
}

#[tonic::async_trait]
impl SecurityGroupService for SecurityGroupApi {
    async fn get(&self, req: Request<pb::GetSecurityGroupRequest>) -> Reply<pb::SecurityGroup> {
        let (ctx, r) = parts(req);
        let result = async {
            fields::require_id("security_group_id", &r.security_group_id)?;
            Ok(convert::security_group(&self.services.get_security_group(&r.security_group_id).await?))
        };
        respond(ctx.as_ref(), result.await)
    }

    async fn list(&self, req: Request<pb::ListSecurityGroupsRequest>) -> Reply<pb::ListSecurityGroupsResponse> {
        let (ctx, r) = parts(req);
        let result = async {
            let page =
                self.services.list_security_groups(list_in_folder(&r.folder_id, r.page_size, &r.page_token, &r.filter)?, None).await?;
            Ok(pb::ListSecurityGroupsResponse {
                security_groups: page.items.iter().map(convert::security_group).collect(),
                next_page_token: page.next_page_token,
            })
        };
        respond(ctx.as_ref(), result.await)
    }

    async fn create(&self, req: Request<pb::CreateSecurityGroupRequest>) -> Reply<PbOperation> {
        let (ctx, r) = parts(req);
        let result = async {
            let mut v = Violations::new();
            v.id("folder_id", &r.folder_id);
            v.pattern("name", &r.name, &validate::VPC_NAME);
            v.description("description", &r.description);
            v.labels("labels", &r.labels, LabelRules::Compute);
            v.id("network_id", &r.network_id);
            let rules = rules(&mut v, "rule_specs", &r.rule_specs);
            v.finish()?;
            let cmd = CreateSecurityGroup {
                folder_id: r.folder_id.clone(),
                name: r.name.clone(),
                description: r.description.clone(),
                labels: r.labels.clone(),
                network_id: r.network_id.clone(),
                rules,
            };
            convert::operation_answer(&self.services.create_security_group(cmd).await?)
        };
        respond_operation(ctx.as_ref(), result.await)
    }

    async fn update(&self, req: Request<pb::UpdateSecurityGroupRequest>) -> Reply<PbOperation> {
        let (ctx, r) = parts(req);
        let result = async {
            let mut v = Violations::new();
            v.id("security_group_id", &r.security_group_id);
            let implied = [
                ("name", !r.name.is_empty()),
                ("description", !r.description.is_empty()),
                ("labels", !r.labels.is_empty()),
                ("rule_specs", !r.rule_specs.is_empty()),
            ];
            let paths = fields::paths(r.update_mask.as_ref(), &implied);
            fields::check_mask(&mut v, &paths, &["name", "description", "labels", "rule_specs"]);
            let has = |f: &str| paths.iter().any(|p| p == f);
            let mut patch = SecurityGroupPatch::default();
            if has("name") {
                v.pattern("name", &r.name, &validate::VPC_NAME);
                patch.name = Some(r.name.clone());
            }
            if has("description") {
                v.description("description", &r.description);
                patch.description = Some(r.description.clone());
            }
            if has("labels") {
                v.labels("labels", &r.labels, LabelRules::Compute);
                patch.labels = Some(r.labels.clone());
            }
            if has("rule_specs") {
                patch.rules = Some(rules(&mut v, "rule_specs", &r.rule_specs));
            }
            v.finish()?;
            convert::operation_answer(&self.services.update_security_group(&r.security_group_id, patch, vec![], vec![]).await?)
        };
        respond_operation(ctx.as_ref(), result.await)
    }

    async fn update_rules(&self, req: Request<pb::UpdateSecurityGroupRulesRequest>) -> Reply<PbOperation> {
        let (ctx, r) = parts(req);
        let result = async {
            let mut v = Violations::new();
            v.id("security_group_id", &r.security_group_id);
            let added = rules(&mut v, "addition_rule_specs", &r.addition_rule_specs);
            v.finish()?;
            let op = self
                .services
                .update_security_group(&r.security_group_id, SecurityGroupPatch::default(), r.deletion_rule_ids.clone(), added)
                .await?;
            convert::operation_answer(&op)
        };
        respond_operation(ctx.as_ref(), result.await)
    }

    async fn update_rule(&self, req: Request<pb::UpdateSecurityGroupRuleRequest>) -> Reply<PbOperation> {
        let (ctx, r) = parts(req);
        let result = async {
            let mut v = Violations::new();
            v.id("security_group_id", &r.security_group_id);
            v.id("rule_id", &r.rule_id);
            let implied = [("description", !r.description.is_empty()), ("labels", !r.labels.is_empty())];
            let paths = fields::paths(r.update_mask.as_ref(), &implied);
            fields::check_mask(&mut v, &paths, &["description", "labels"]);
            let has = |f: &str| paths.iter().any(|p| p == f);
            let description = has("description").then(|| r.description.clone());
            if description.is_some() {
                v.description("description", &r.description);
            }
            let labels = has("labels").then(|| r.labels.clone());
            if labels.is_some() {
                v.labels("labels", &r.labels, LabelRules::Vpc);
            }
            v.finish()?;
            convert::operation_answer(
                &self.services.update_security_group_rule(&r.security_group_id, &r.rule_id, description, labels).await?,
            )
        };
        respond_operation(ctx.as_ref(), result.await)
    }

    async fn delete(&self, req: Request<pb::DeleteSecurityGroupRequest>) -> Reply<PbOperation> {
        let (ctx, r) = parts(req);
        let result = async {
            fields::require_id("security_group_id", &r.security_group_id)?;
            convert::operation_answer(&self.services.delete_security_group(&r.security_group_id).await?)
        };
        respond_operation(ctx.as_ref(), result.await)
    }

    async fn r#move(&self, req: Request<pb::MoveSecurityGroupRequest>) -> Reply<PbOperation> {
        let (ctx, r) = parts(req);
        let result = async {
            fields::move_target("security_group_id", &r.security_group_id, &r.destination_folder_id)?;
            convert::operation_answer(
                &self.services.move_resource(Movable::SecurityGroup, &r.security_group_id, &r.destination_folder_id).await?,
            )
        };
        respond_operation(ctx.as_ref(), result.await)
    }

    async fn list_operations(
        &self,
        req: Request<pb::ListSecurityGroupOperationsRequest>,
    ) -> Reply<pb::ListSecurityGroupOperationsResponse> {
        let (ctx, r) = parts(req);
        let result = async {
            let mut v = Violations::new();
            v.id("security_group_id", &r.security_group_id);
            v.page(r.page_size, &r.page_token);
            v.finish()?;
            let page =
                self.services.list_security_group_operations(&r.security_group_id, validate::page_size(r.page_size), &r.page_token).await?;
            Ok(pb::ListSecurityGroupOperationsResponse {
                operations: convert::operations(&page.items)?,
                next_page_token: page.next_page_token,
            })
        };
        respond(ctx.as_ref(), result.await)
    }
}
