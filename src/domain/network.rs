//! VPC networks.

use std::collections::HashMap;

use super::clock::Timestamp;

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Network {
    pub id: String,
    pub folder_id: String,
    pub created_at: Timestamp,
    pub name: String,
    pub description: String,
    pub labels: HashMap<String, String>,
    pub default_security_group_id: String,
}

/// The fields an Update may change; `None` leaves a field as it is.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct NetworkPatch {
    pub name: Option<String>,
    pub description: Option<String>,
    pub labels: Option<HashMap<String, String>>,
}

impl Network {
    pub fn apply(&mut self, patch: &NetworkPatch) {
        if let Some(name) = &patch.name {
            self.name = name.clone();
        }
        if let Some(description) = &patch.description {
            self.description = description.clone();
        }
        if let Some(labels) = &patch.labels {
            self.labels = labels.clone();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patch_changes_only_what_it_names() {
        let mut n = Network {
            id: "enp1".into(),
            folder_id: "f".into(),
            created_at: Timestamp(1),
            name: "a".into(),
            description: "d".into(),
            labels: HashMap::from([("k".into(), "v".into())]),
            default_security_group_id: String::new(),
        };
        n.apply(&NetworkPatch { name: Some("b".into()), ..Default::default() });
        assert_eq!(n.name, "b");
        assert_eq!(n.description, "d");
        assert_eq!(n.labels.len(), 1);
        n.apply(&NetworkPatch { labels: Some(HashMap::new()), ..Default::default() });
        assert!(n.labels.is_empty());
    }
}
