//! How the Huawei columns of the error table (`error.rs`) are answered: the HTTP status and vendor
//! code each error answers on Huawei's private NAT v3 API (`NAT.xxxx`, `{"error_code",
//! "error_msg"}`) and VPC v1 API (`VPC.xxxx`, `{"code", "message"}`), and the authentication codes
//! Huawei's API gateway answers for both (`APIGW.xxxx`). Codes from Huawei's published tables are
//! used where one fits; the few netplane had to choose are listed in DIVERGENCES.md.

use super::{Error, ResourceKind, Vendor};

/// Which Huawei API is answering.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HuaweiApi {
    PrivateNat,
    /// VPC v1: `{"code", "message"}` errors, no `request_id`.
    Vpc,
    /// VPC v3: the VPC column's codes in the private NAT's shape (`error_code`, `error_msg`,
    /// `request_id`).
    VpcV3,
}

/// What an error looks like on a Huawei API.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HuaweiError {
    pub status: u16,
    pub code: &'static str,
    pub message: String,
}

impl Error {
    pub fn huawei(&self, api: HuaweiApi) -> HuaweiError {
        let row = self.row();
        let (column, generic) = match api {
            HuaweiApi::PrivateNat => (row.nat, "NAT.0002"),
            HuaweiApi::Vpc | HuaweiApi::VpcV3 => (row.vpc, "VPC.0101"),
        };
        let (status, code) = match column {
            Vendor::Is(status, code) => (status, code),
            Vendor::Invalid => (self.code().http_status().clamp(400, 499), generic),
            Vendor::By(decide) => decide(self),
        };
        let message = match self {
            // The wording of Huawei's NAT.1002: "%s %s could not be found."
            Error::NotFound(kind, id) => format!("{kind} {} could not be found.", super::echo(id)),
            Error::Unauthenticated(why) => format!("Incorrect IAM authentication information: {why}"),
            other => other.to_string(),
        };
        let message = super::cut(&message, super::MAX_MESSAGE_CHARS).into_owned();
        HuaweiError { status, code, message }
    }
}

/// VPC's not-found code names the resource: the VPC itself, or anything else.
pub(super) fn vpc_not_found(e: &Error) -> (u16, &'static str) {
    match e {
        Error::NotFound(ResourceKind::Vpc, _) => (404, "VPC.0003"),
        _ => (404, "VPC.0202"),
    }
}

/// VPC's invalid-parameter code tells a subnet's fields from a VPC's.
pub(super) fn vpc_invalid(e: &Error) -> (u16, &'static str) {
    if e.violations().iter().any(|v| v.field.starts_with("subnet")) { (400, "VPC.0201") } else { (400, "VPC.0101") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_nat_codes() {
        let table = [
            (Error::from(crate::error::TransportError::MalformedJson("x".into())), 400, "NAT.1010"),
            (Error::invalid("dnat_rule.protocol", "bad"), 400, "NAT.0002"),
            (Error::GatewayFrozen("g".into()), 400, "NAT.1208"),
            (Error::DnatAnyNeedsZeroPorts, 400, "NAT.1306"),
            (Error::DnatBackendNotOne, 400, "NAT.1311"),
            (Error::SubnetExhausted("s".into()), 400, "NAT.1404"),
            (Error::not_found(ResourceKind::DnatRule, "r"), 404, "NAT.1002"),
            (Error::TransitIpTaken { transit_ip_id: "t".into(), rule_id: "r".into() }, 409, "NAT.1305"),
            (Error::DnatBackendInUse { rule_id: "r".into() }, 409, "NAT.1307"),
            (
                Error::DnatPortInUse { transit_ip_id: "t".into(), protocol: "tcp".into(), port: "80".into(), rule_id: "r".into() },
                409,
                "NAT.1309",
            ),
            (Error::DnatWholeIpTaken { transit_ip_id: "t".into(), rule_id: "r".into() }, 409, "NAT.1310"),
            (Error::TransitIpInUse("t".into()), 409, "NAT.1409"),
            (Error::Internal("x".into()), 500, "NAT.1001"),
            (Error::Unauthenticated("no".into()), 401, "APIGW.0301"),
            (Error::ProjectDenied { project_id: "p".into() }, 403, "APIGW.0302"),
        ];
        for (error, status, code) in table {
            let answer = error.huawei(HuaweiApi::PrivateNat);
            assert_eq!((answer.status, answer.code), (status, code), "{error:?}");
        }
    }

    #[test]
    fn nat_not_found_uses_huaweis_wording() {
        let e = Error::not_found(ResourceKind::DnatRule, "24dd6bf5").huawei(HuaweiApi::PrivateNat);
        assert_eq!(e.message, "DnatRule 24dd6bf5 could not be found.");
    }

    #[test]
    fn vpc_codes_name_the_resource() {
        assert_eq!(Error::not_found(ResourceKind::Vpc, "v").huawei(HuaweiApi::Vpc).code, "VPC.0003");
        assert_eq!(Error::not_found(ResourceKind::Subnet, "s").huawei(HuaweiApi::Vpc).code, "VPC.0202");
        assert_eq!(Error::invalid("subnet.cidr", "bad").huawei(HuaweiApi::Vpc).code, "VPC.0201");
        assert_eq!(Error::invalid("vpc.cidr", "bad").huawei(HuaweiApi::Vpc).code, "VPC.0101");
        assert_eq!(Error::Unauthenticated("x".into()).huawei(HuaweiApi::Vpc).status, 401);
    }
}
