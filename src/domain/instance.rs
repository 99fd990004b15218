//! Compute instances: the aggregate, its status machine and its network interfaces.
//!
//! A long-running method moves the instance into a transitional status when it is accepted
//! (`begin`), and into the final one when its operation completes (`finish`); cancelling or failing
//! the operation puts the status back (`undo`). Only stable statuses accept new work, which is how
//! concurrent operations on one instance are refused.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use super::clock::Timestamp;
use super::subnet::Subnet;
use super::zone::REGION;
use crate::error::Error;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Status {
    Provisioning,
    Running,
    Stopping,
    Stopped,
    Starting,
    Restarting,
    Updating,
    Error,
    Crashed,
    Deleting,
}

impl Status {
    pub const ALL: [Status; 10] = [
        Status::Provisioning,
        Status::Running,
        Status::Stopping,
        Status::Stopped,
        Status::Starting,
        Status::Restarting,
        Status::Updating,
        Status::Error,
        Status::Crashed,
        Status::Deleting,
    ];

    /// The enum value name on the wire (`Instance.Status`).
    pub fn name(self) -> &'static str {
        match self {
            Status::Provisioning => "PROVISIONING",
            Status::Running => "RUNNING",
            Status::Stopping => "STOPPING",
            Status::Stopped => "STOPPED",
            Status::Starting => "STARTING",
            Status::Restarting => "RESTARTING",
            Status::Updating => "UPDATING",
            Status::Error => "ERROR",
            Status::Crashed => "CRASHED",
            Status::Deleting => "DELETING",
        }
    }

    pub fn from_name(name: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|s| s.name() == name)
    }

    /// No operation is under way on an instance in a stable status.
    pub fn is_stable(self) -> bool {
        matches!(self, Status::Running | Status::Stopped | Status::Error | Status::Crashed)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The lifecycle changes an operation can make.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Transition {
    Stop,
    Start,
    Restart,
    Delete,
    /// Update, UpdateMetadata and the network changes: UPDATING while the operation runs, then the
    /// status it had before.
    Change,
    /// A change that needs the instance STOPPED (resources, platform, interfaces).
    ChangeStopped,
}

impl Transition {
    fn accepts(self, from: Status) -> bool {
        match self {
            Transition::Stop => matches!(from, Status::Running | Status::Error | Status::Crashed),
            Transition::Start => from == Status::Stopped,
            Transition::Restart => from == Status::Running,
            Transition::Delete | Transition::Change => from.is_stable(),
            Transition::ChangeStopped => from == Status::Stopped,
        }
    }

    fn needed(self) -> &'static str {
        match self {
            Transition::Stop => "RUNNING, ERROR or CRASHED",
            Transition::Start | Transition::ChangeStopped => "STOPPED",
            Transition::Restart => "RUNNING",
            Transition::Delete | Transition::Change => "RUNNING, STOPPED, ERROR or CRASHED",
        }
    }

    fn transitional(self) -> Status {
        match self {
            Transition::Stop => Status::Stopping,
            Transition::Start => Status::Starting,
            Transition::Restart => Status::Restarting,
            Transition::Delete => Status::Deleting,
            Transition::Change | Transition::ChangeStopped => Status::Updating,
        }
    }

    fn final_status(self, from: Status) -> Status {
        match self {
            Transition::Stop => Status::Stopped,
            Transition::Start | Transition::Restart => Status::Running,
            Transition::Delete => Status::Deleting,
            Transition::Change | Transition::ChangeStopped => from,
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Resources {
    pub memory: i64,
    pub cores: i64,
    pub core_fraction: i64,
    pub gpus: i64,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum DiskMode {
    #[default]
    ReadWrite,
    ReadOnly,
}

/// The most disks one instance may have, the boot disk included.
pub const MAX_DISKS: usize = 8;

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AttachedDisk {
    pub mode: DiskMode,
    pub device_name: String,
    pub auto_delete: bool,
    pub disk_id: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DnsRecord {
    pub fqdn: String,
    pub dns_zone_id: String,
    pub ttl: i64,
    pub ptr: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct OneToOneNat {
    pub address: String,
    /// True when the address was handed out for this interface and goes back to the pool on
    /// stop or removal; false for a reserved static VPC address, which is kept.
    pub ephemeral: bool,
    /// The VPC Address resource of a static address; empty for an ephemeral one.
    #[serde(default)]
    pub address_id: String,
    pub dns_records: Vec<DnsRecord>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PrimaryAddress {
    pub address: String,
    /// The internal VPC address the interface uses as its own (it holds the address in the
    /// subnet); empty when the interface holds the address itself.
    #[serde(default)]
    pub address_id: String,
    pub one_to_one_nat: Option<OneToOneNat>,
    pub dns_records: Vec<DnsRecord>,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct NetworkInterface {
    pub index: String,
    pub mac_address: String,
    pub subnet_id: String,
    pub primary_v4_address: Option<PrimaryAddress>,
    pub security_group_ids: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Instance {
    pub id: String,
    pub folder_id: String,
    pub created_at: Timestamp,
    pub name: String,
    pub description: String,
    pub labels: HashMap<String, String>,
    pub zone_id: String,
    pub platform_id: String,
    pub resources: Resources,
    pub status: Status,
    pub metadata: HashMap<String, String>,
    pub boot_disk: Option<AttachedDisk>,
    pub secondary_disks: Vec<AttachedDisk>,
    pub network_interfaces: Vec<NetworkInterface>,
    pub hostname: String,
    pub service_account_id: String,
    /// Settings netplane keeps and returns but has no rules about (scheduling, placement, GPU,
    /// metadata options, …): one opaque fragment per field, keyed by field name, in the API
    /// layer's encoding. Keeping fields apart lets an update replace one without reading the rest.
    pub settings: BTreeMap<String, Vec<u8>>,
}

/// The fields Update may change; `None` leaves a field as it is.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct InstancePatch {
    pub name: Option<String>,
    pub description: Option<String>,
    pub labels: Option<HashMap<String, String>>,
    pub platform_id: Option<String>,
    pub resources: Option<Resources>,
    pub metadata: Option<HashMap<String, String>>,
    pub service_account_id: Option<String>,
    /// Settings fields to replace (`Some`) or clear (`None`).
    pub settings: BTreeMap<String, Option<Vec<u8>>>,
}

impl InstancePatch {
    /// Changing the hardware needs a stopped instance, as on the real cloud.
    pub fn needs_stopped(&self) -> bool {
        self.platform_id.is_some() || self.resources.is_some()
    }
}

impl Instance {
    /// `<hostname>.<region>.internal`, or `<id>.auto.internal` without a hostname.
    pub fn fqdn(&self) -> String {
        // Concatenated: every answer carrying an instance spells it, and `format!` cost several
        // times the copy.
        if self.hostname.is_empty() { [&self.id, ".auto.internal"].concat() } else { [&self.hostname, ".", REGION, ".internal"].concat() }
    }

    /// Checks that `transition` may start now and moves to its transitional status. Returns the
    /// status before, which `undo` restores.
    pub fn begin(&mut self, transition: Transition, action: &str) -> Result<Status, Error> {
        let from = self.status;
        if !transition.accepts(from) {
            return Err(Error::WrongInstanceStatus {
                id: self.id.clone(),
                status: from.name().to_string(),
                action: action.to_string(),
                needed: transition.needed().to_string(),
            });
        }
        self.status = transition.transitional();
        Ok(from)
    }

    /// Completes `transition` that began from `from`.
    pub fn finish(&mut self, transition: Transition, from: Status) {
        self.status = transition.final_status(from);
    }

    /// Puts the status back after a cancelled or failed operation.
    pub fn undo(&mut self, from: Status) {
        self.status = from;
    }

    /// Completes creation: a provisioned instance runs.
    pub fn provisioned(&mut self) {
        if self.status == Status::Provisioning {
            self.status = Status::Running;
        }
    }

    pub fn apply(&mut self, patch: &InstancePatch) {
        let InstancePatch { name, description, labels, platform_id, resources, metadata, service_account_id, settings } = patch;
        if let Some(v) = name {
            self.name = v.clone();
        }
        if let Some(v) = description {
            self.description = v.clone();
        }
        if let Some(v) = labels {
            self.labels = v.clone();
        }
        if let Some(v) = platform_id {
            self.platform_id = v.clone();
        }
        if let Some(v) = resources {
            self.resources = v.clone();
        }
        if let Some(v) = metadata {
            self.metadata = v.clone();
        }
        if let Some(v) = service_account_id {
            self.service_account_id = v.clone();
        }
        for (field, value) in settings {
            match value {
                Some(v) => self.settings.insert(field.clone(), v.clone()),
                None => self.settings.remove(field),
            };
        }
    }

    /// UpdateMetadata: removes the `delete` keys, then sets the `upsert` pairs.
    pub fn update_metadata(&mut self, delete: &[String], upsert: &BTreeMap<String, String>) {
        for key in delete {
            self.metadata.remove(key);
        }
        for (k, v) in upsert {
            self.metadata.insert(k.clone(), v.clone());
        }
    }

    /// The lowest interface index not in use ("0", "1", …), for specs that leave it empty.
    pub fn next_interface_index(&self) -> String {
        let used: Vec<&str> = self.network_interfaces.iter().map(|n| n.index.as_str()).collect();
        (0..).map(|i: u32| i.to_string()).find(|i| !used.contains(&i.as_str())).unwrap_or_default()
    }

    pub fn interface(&self, index: &str) -> Option<&NetworkInterface> {
        self.network_interfaces.iter().find(|n| n.index == index)
    }

    /// The interface a request names by index or, when the index is empty, by internal address.
    pub fn find_interface(&self, index: &str, internal_address: &str) -> Result<&NetworkInterface, Error> {
        if !index.is_empty() {
            return self
                .interface(index)
                .ok_or_else(|| Error::InterfaceNotFound { instance_id: self.id.clone(), index: index.to_string() });
        }
        self.network_interfaces
            .iter()
            .find(|n| n.primary_v4_address.as_ref().is_some_and(|p| p.address == internal_address))
            .ok_or_else(|| Error::InterfaceAddressNotFound { instance_id: self.id.clone(), address: internal_address.to_string() })
    }

    /// Detaching is refused for an unknown index and for the primary interface ("0").
    pub fn check_detachable(&self, index: &str) -> Result<&NetworkInterface, Error> {
        let nic = self.find_interface(index, "")?;
        if nic.index == "0" {
            return Err(Error::PrimaryInterface(self.id.clone()));
        }
        Ok(nic)
    }

    /// Refuses an interface index the instance already uses.
    pub fn check_index_free(&self, index: &str) -> Result<(), Error> {
        match self.interface(index) {
            Some(_) => Err(Error::InterfaceIndexInUse { index: index.to_string(), instance_id: self.id.clone() }),
            None => Ok(()),
        }
    }

    /// Adds a new interface after the others; its index must be free.
    pub fn attach_interface(&mut self, nic: NetworkInterface) -> Result<(), Error> {
        self.check_index_free(&nic.index)?;
        self.network_interfaces.push(nic);
        Ok(())
    }

    /// The boot disk, then the secondary disks.
    pub fn disks(&self) -> impl Iterator<Item = &AttachedDisk> {
        self.boot_disk.iter().chain(&self.secondary_disks)
    }

    /// Checks that `disk` may be added: not already here, its device name free, and fewer than
    /// `MAX_DISKS` disks (the boot disk included).
    pub fn check_disk_attachable(&self, disk: &AttachedDisk) -> Result<(), Error> {
        if let Some(same) = self.disks().find(|d| d.disk_id == disk.disk_id) {
            return Err(Error::DeviceNameTaken { instance_id: self.id.clone(), device_name: same.device_name.clone() });
        }
        if self.disks().any(|d| d.device_name == disk.device_name) {
            return Err(Error::DeviceNameTaken { instance_id: self.id.clone(), device_name: disk.device_name.clone() });
        }
        if self.disks().count() >= MAX_DISKS {
            return Err(Error::TooManyDisks { instance_id: self.id.clone(), limit: MAX_DISKS });
        }
        Ok(())
    }

    /// Adds a secondary disk, checked as `check_disk_attachable` does.
    pub fn attach_disk(&mut self, disk: AttachedDisk) -> Result<(), Error> {
        self.check_disk_attachable(&disk)?;
        self.secondary_disks.push(disk);
        Ok(())
    }

    /// The secondary disk a detach names by id or, when the id is empty, by device name; the boot
    /// disk cannot be detached.
    pub fn find_detachable_disk(&self, disk_id: &str, device_name: &str) -> Result<&AttachedDisk, Error> {
        let named = |d: &&AttachedDisk| if disk_id.is_empty() { d.device_name == device_name } else { d.disk_id == disk_id };
        if self.boot_disk.iter().any(|d| named(&d)) {
            return Err(Error::BootDiskDetach(self.id.clone()));
        }
        self.secondary_disks.iter().find(named).ok_or_else(|| Error::DiskNotAttached {
            instance_id: self.id.clone(),
            disk: if disk_id.is_empty() { device_name.to_string() } else { disk_id.to_string() },
        })
    }

    pub fn detach_disk(&mut self, disk_id: &str) {
        self.secondary_disks.retain(|d| d.disk_id != disk_id);
    }

    /// An interface of this instance may use `subnet` only in the instance's own zone.
    pub fn check_subnet_zone(&self, subnet: &Subnet) -> Result<(), Error> {
        if subnet.zone_id == self.zone_id {
            return Ok(());
        }
        Err(Error::SubnetZoneMismatch {
            subnet_id: subnet.id.clone(),
            subnet_zone: subnet.zone_id.clone(),
            instance_zone: self.zone_id.clone(),
        })
    }

    /// Puts `after` in place of interface `index` (adding it if new, removing it when `None`),
    /// keeping interfaces ordered by index.
    pub fn replace_interface(&mut self, index: &str, after: Option<NetworkInterface>) {
        self.network_interfaces.retain(|n| n.index != index);
        if let Some(nic) = after {
            self.network_interfaces.push(nic);
        }
        self.network_interfaces.sort_by_key(|n| n.index.parse::<u32>().unwrap_or(u32::MAX));
    }
}

impl NetworkInterface {
    pub fn nat(&self) -> Option<&OneToOneNat> {
        self.primary_v4_address.as_ref().and_then(|p| p.one_to_one_nat.as_ref())
    }

    /// The interface with one-to-one NAT `nat` added; refused if it already has one.
    pub fn with_nat(&self, instance_id: &str, nat: OneToOneNat) -> Result<NetworkInterface, Error> {
        if self.nat().is_some() {
            return Err(Error::NatAlreadyConfigured { instance_id: instance_id.to_string(), index: self.index.clone() });
        }
        let mut nic = self.clone();
        nic.primary_v4_address.get_or_insert_with(PrimaryAddress::default).one_to_one_nat = Some(nat);
        Ok(nic)
    }

    /// The interface without its one-to-one NAT; refused if it has none.
    pub fn without_nat(&self, instance_id: &str) -> Result<NetworkInterface, Error> {
        if self.nat().is_none() {
            return Err(Error::NoNat { instance_id: instance_id.to_string(), index: self.index.clone() });
        }
        let mut nic = self.clone();
        if let Some(p) = nic.primary_v4_address.as_mut() {
            p.one_to_one_nat = None;
        }
        Ok(nic)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn instance(status: Status) -> Instance {
        Instance {
            id: "fhmtest".into(),
            folder_id: "folder".into(),
            created_at: Timestamp(0),
            name: "vm".into(),
            description: String::new(),
            labels: HashMap::new(),
            zone_id: "ru-central1-a".into(),
            platform_id: "standard-v3".into(),
            resources: Resources { memory: 2 << 30, cores: 2, core_fraction: 100, gpus: 0 },
            status,
            metadata: HashMap::new(),
            boot_disk: None,
            secondary_disks: vec![],
            network_interfaces: vec![],
            hostname: String::new(),
            service_account_id: String::new(),
            settings: BTreeMap::new(),
        }
    }

    fn attached(disk_id: &str, device_name: &str) -> AttachedDisk {
        AttachedDisk { mode: DiskMode::ReadWrite, device_name: device_name.into(), auto_delete: false, disk_id: disk_id.into() }
    }

    #[test]
    fn disks_attach_with_free_device_names_up_to_the_limit_and_the_boot_disk_stays() {
        let mut i = instance(Status::Running);
        i.boot_disk = Some(attached("fhmboot", "boot"));
        assert!(matches!(i.attach_disk(attached("fhmd1", "boot")), Err(Error::DeviceNameTaken { .. })));
        assert!(matches!(i.attach_disk(attached("fhmboot", "other")), Err(Error::DeviceNameTaken { .. })));
        for n in 1..MAX_DISKS {
            i.attach_disk(attached(&format!("fhmd{n}"), &format!("data{n}"))).unwrap();
        }
        assert!(matches!(i.attach_disk(attached("fhmd9", "data9")), Err(Error::TooManyDisks { limit: MAX_DISKS, .. })));
        assert!(matches!(i.find_detachable_disk("fhmboot", ""), Err(Error::BootDiskDetach(_))));
        assert!(matches!(i.find_detachable_disk("", "boot"), Err(Error::BootDiskDetach(_))));
        assert_eq!(i.find_detachable_disk("", "data2").unwrap().disk_id, "fhmd2");
        assert!(matches!(i.find_detachable_disk("fhmnone", ""), Err(Error::DiskNotAttached { .. })));
        i.detach_disk("fhmd2");
        assert_eq!(i.disks().count(), MAX_DISKS - 1);
    }

    /// Every (transition, status) pair: which are accepted, and where they lead.
    #[test]
    fn status_machine_table() {
        use Status::*;
        use Transition::*;
        let expect = |t: Transition, from: Status| -> Option<(Status, Status)> {
            match (t, from) {
                (Stop, Running | Error | Crashed) => Some((Stopping, Stopped)),
                (Start, Stopped) => Some((Starting, Running)),
                (Restart, Running) => Some((Restarting, Running)),
                (Delete, Running | Stopped | Error | Crashed) => Some((Deleting, Deleting)),
                (Change, Running | Stopped | Error | Crashed) => Some((Updating, from)),
                (ChangeStopped, Stopped) => Some((Updating, Stopped)),
                _ => None,
            }
        };
        for t in [Stop, Start, Restart, Delete, Change, ChangeStopped] {
            for from in Status::ALL {
                let mut i = instance(from);
                match (i.begin(t, "Test"), expect(t, from)) {
                    (Ok(prev), Some((mid, end))) => {
                        assert_eq!(prev, from);
                        assert_eq!(i.status, mid, "{t:?} from {from}");
                        i.finish(t, prev);
                        assert_eq!(i.status, end, "{t:?} from {from}");
                    }
                    (Err(e), None) => {
                        assert_eq!(i.status, from, "a refusal leaves the status");
                        assert!(matches!(e, crate::error::Error::WrongInstanceStatus { .. }));
                    }
                    (got, want) => panic!("{t:?} from {from}: got {got:?}, want {want:?}"),
                }
            }
        }
    }

    #[test]
    fn interfaces_use_subnets_of_the_instance_zone_only() {
        let i = instance(Status::Stopped);
        let subnet = |zone: &str| Subnet {
            id: "e9b1".into(),
            folder_id: "folder".into(),
            created_at: Timestamp(0),
            name: String::new(),
            description: String::new(),
            labels: HashMap::new(),
            network_id: "enp1".into(),
            zone_id: zone.into(),
            v4_cidr_blocks: vec![],
            route_table_id: String::new(),
            dhcp_options: None,
        };
        assert!(i.check_subnet_zone(&subnet("ru-central1-a")).is_ok());
        let e = i.check_subnet_zone(&subnet("ru-central1-b")).unwrap_err();
        assert_eq!(e.to_string(), "Subnet e9b1 is in zone ru-central1-b, but the instance is in zone ru-central1-a");
    }

    #[test]
    fn an_interface_is_attached_only_at_a_free_index() {
        let mut i = instance(Status::Stopped);
        let nic = |index: &str| NetworkInterface {
            index: index.into(),
            mac_address: format!("d0:0d:00:00:00:0{index}"),
            subnet_id: "e9b1".into(),
            primary_v4_address: None,
            security_group_ids: vec![],
        };
        i.attach_interface(nic("0")).unwrap();
        i.attach_interface(nic("2")).unwrap();
        let e = i.attach_interface(nic("0")).unwrap_err();
        assert!(matches!(e, crate::error::Error::InterfaceIndexInUse { .. }), "{e:?}");
        assert_eq!(i.network_interfaces.iter().map(|n| n.index.as_str()).collect::<Vec<_>>(), ["0", "2"]);
        assert_eq!(i.next_interface_index(), "1");
    }

    #[test]
    fn undo_restores_the_status() {
        let mut i = instance(Status::Running);
        let prev = i.begin(Transition::Stop, "Stop").unwrap();
        assert_eq!(i.status, Status::Stopping);
        i.undo(prev);
        assert_eq!(i.status, Status::Running);
    }

    #[test]
    fn refusal_names_instance_status_and_need() {
        let mut i = instance(Status::Running);
        let e = i.begin(Transition::ChangeStopped, "AttachNetworkInterface").unwrap_err();
        assert_eq!(e.to_string(), "Instance fhmtest is RUNNING; AttachNetworkInterface needs it to be STOPPED");
    }

    #[test]
    fn provisioning_then_running() {
        let mut i = instance(Status::Provisioning);
        i.provisioned();
        assert_eq!(i.status, Status::Running);
    }

    #[test]
    fn fqdn_with_and_without_hostname() {
        let mut i = instance(Status::Running);
        assert_eq!(i.fqdn(), "fhmtest.auto.internal");
        i.hostname = "web".into();
        assert_eq!(i.fqdn(), "web.ru-central1.internal");
    }

    #[test]
    fn patch_and_metadata() {
        let mut i = instance(Status::Running);
        let patch = InstancePatch { name: Some("new".into()), ..Default::default() };
        assert!(!patch.needs_stopped());
        i.apply(&patch);
        assert_eq!(i.name, "new");
        assert!(InstancePatch { resources: Some(Resources::default()), ..Default::default() }.needs_stopped());
        i.metadata.insert("a".into(), "1".into());
        i.metadata.insert("b".into(), "2".into());
        i.update_metadata(&["a".into()], &BTreeMap::from([("c".into(), "3".into()), ("b".into(), "x".into())]));
        assert_eq!(i.metadata, HashMap::from([("b".into(), "x".into()), ("c".into(), "3".into())]));
    }

    #[test]
    fn interface_indexes_fill_gaps() {
        let mut i = instance(Status::Stopped);
        assert_eq!(i.next_interface_index(), "0");
        for idx in ["0", "2"] {
            i.network_interfaces.push(NetworkInterface {
                index: idx.into(),
                mac_address: String::new(),
                subnet_id: "s".into(),
                primary_v4_address: None,
                security_group_ids: vec![],
            });
        }
        assert_eq!(i.next_interface_index(), "1");
        assert!(i.interface("2").is_some());
        assert!(i.interface("1").is_none());
    }

    fn nic(index: &str, address: &str) -> NetworkInterface {
        NetworkInterface {
            index: index.into(),
            mac_address: String::new(),
            subnet_id: "s".into(),
            primary_v4_address: Some(PrimaryAddress { address: address.into(), ..Default::default() }),
            security_group_ids: vec![],
        }
    }

    #[test]
    fn interfaces_are_found_by_index_or_address() {
        let mut i = instance(Status::Stopped);
        i.network_interfaces = vec![nic("0", "10.0.0.3"), nic("1", "10.1.0.3")];
        assert_eq!(i.find_interface("1", "").unwrap().index, "1");
        assert_eq!(i.find_interface("", "10.1.0.3").unwrap().index, "1");
        assert!(matches!(i.find_interface("7", ""), Err(Error::InterfaceNotFound { .. })));
        assert!(matches!(i.find_interface("", "10.9.9.9"), Err(Error::InterfaceAddressNotFound { .. })));
    }

    #[test]
    fn the_primary_interface_cannot_be_detached() {
        let mut i = instance(Status::Stopped);
        i.network_interfaces = vec![nic("0", "10.0.0.3"), nic("1", "10.1.0.3")];
        assert!(matches!(i.check_detachable("0"), Err(Error::PrimaryInterface(_))));
        assert!(i.check_detachable("1").is_ok());
        assert!(matches!(i.check_detachable("2"), Err(Error::InterfaceNotFound { .. })));
    }

    #[test]
    fn replacing_interfaces_keeps_index_order() {
        let mut i = instance(Status::Stopped);
        i.replace_interface("2", Some(nic("2", "a")));
        i.replace_interface("0", Some(nic("0", "b")));
        i.replace_interface("10", Some(nic("10", "c")));
        let order: Vec<_> = i.network_interfaces.iter().map(|n| n.index.as_str()).collect();
        assert_eq!(order, ["0", "2", "10"]);
        i.replace_interface("2", None);
        assert_eq!(i.network_interfaces.len(), 2);
        i.replace_interface("0", Some(nic("0", "new")));
        assert_eq!(i.interface("0").unwrap().primary_v4_address.as_ref().unwrap().address, "new");
    }

    #[test]
    fn nat_is_added_once_and_removed_once() {
        let plain = nic("0", "10.0.0.3");
        let nat = OneToOneNat { address: "198.18.0.3".into(), ephemeral: true, address_id: String::new(), dns_records: vec![] };
        let with = plain.with_nat("i", nat.clone()).unwrap();
        assert_eq!(with.nat(), Some(&nat));
        assert!(matches!(with.with_nat("i", nat), Err(Error::NatAlreadyConfigured { .. })));
        let without = with.without_nat("i").unwrap();
        assert_eq!(without.nat(), None);
        assert!(matches!(without.without_nat("i"), Err(Error::NoNat { .. })));
    }

    #[test]
    fn status_names_round_trip() {
        for s in Status::ALL {
            assert_eq!(Status::from_name(s.name()), Some(s));
        }
        assert_eq!(Status::from_name("BOGUS"), None);
    }
}
