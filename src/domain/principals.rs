//! Who may call, and on which folders (Yandex Cloud) and projects (Huawei Cloud): the principals
//! configuration (a JSON file), token and access-key lookup, and the scopes of a principal. Pure:
//! the clock is passed in.

use std::collections::BTreeSet;

use serde::Deserialize;

use super::clock::Timestamp;

/// The folders (or projects) a principal may use. Code acting for no caller (the runner, tests) is
/// trusted.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Scope {
    #[default]
    All,
    Only(BTreeSet<String>),
}

impl Scope {
    /// From configured ids, where `"*"` means every one.
    fn from_list(ids: &[String]) -> Scope {
        if ids.iter().any(|f| f == "*") { Scope::All } else { Scope::Only(ids.iter().cloned().collect()) }
    }

    pub fn allows(&self, folder_id: &str) -> bool {
        match self {
            Scope::All => true,
            Scope::Only(folders) => folders.contains(folder_id),
        }
    }
}

/// An authenticated caller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Principal {
    /// The subject id operations record in `created_by`.
    pub subject: String,
    pub folders: Scope,
    /// Huawei Cloud projects.
    pub projects: Scope,
    /// May call the emulator's own endpoints (`/_netplane/…`, `/metrics`).
    pub admin: bool,
}

impl Principal {
    /// The caller in development mode (no principals configured): every folder.
    pub fn development() -> Principal {
        Principal { subject: DEVELOPMENT_SUBJECT.to_string(), folders: Scope::All, projects: Scope::All, admin: true }
    }
}

pub const DEVELOPMENT_SUBJECT: &str = "netplane-dev";

/// A configured IAM token; without `expires_at` it never expires.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(untagged)]
pub enum ConfiguredToken {
    Plain(String),
    Expiring { token: String, expires_at: String },
}

#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct PrincipalConfig {
    pub subject: String,
    /// Folder ids, or `"*"` for every folder.
    #[serde(default)]
    pub folders: Vec<String>,
    #[serde(default)]
    pub iam_tokens: Vec<ConfiguredToken>,
    /// OAuth tokens `IamTokenService.Create` exchanges for IAM tokens of this subject.
    #[serde(default)]
    pub oauth_tokens: Vec<String>,
    /// Huawei Cloud project ids, or `"*"` for every project.
    #[serde(default)]
    pub projects: Vec<String>,
    /// `X-Auth-Token` values for the Huawei APIs.
    #[serde(default)]
    pub auth_tokens: Vec<String>,
    /// Access key pairs for Huawei's `SDK-HMAC-SHA256` request signatures.
    #[serde(default)]
    pub access_keys: Vec<AccessKey>,
    /// May call the emulator's own endpoints (`/_netplane/…`, `/metrics`).
    #[serde(default)]
    pub admin: bool,
}

#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct AccessKey {
    pub access_key: String,
    pub secret_key: String,
}

/// The principals file: `{"principals": [...]}`.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Principals {
    pub principals: Vec<PrincipalConfig>,
}

/// Why a token was not accepted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Rejection {
    Unknown,
    Expired,
}

impl Principals {
    pub fn parse(json: &str) -> Result<Principals, String> {
        let parsed: Principals = serde_json::from_str(json).map_err(|e| format!("principals: {e}"))?;
        for p in &parsed.principals {
            if p.subject.is_empty() {
                return Err("principals: a principal has an empty subject".into());
            }
            for token in &p.iam_tokens {
                if let ConfiguredToken::Expiring { expires_at, .. } = token {
                    parse_time(expires_at).map_err(|e| format!("principals: {}: expires_at: {e}", p.subject))?;
                }
            }
        }
        Ok(parsed)
    }

    fn principal(config: &PrincipalConfig) -> Principal {
        Principal {
            subject: config.subject.clone(),
            folders: Scope::from_list(&config.folders),
            projects: Scope::from_list(&config.projects),
            admin: config.admin,
        }
    }

    /// The principal an `X-Auth-Token` stands for.
    pub fn by_auth_token(&self, token: &str) -> Option<Principal> {
        self.principals.iter().find(|c| c.auth_tokens.iter().any(|t| t == token)).map(Self::principal)
    }

    /// The principal an access key belongs to, with its secret key.
    pub fn by_access_key(&self, access_key: &str) -> Option<(Principal, String)> {
        self.principals.iter().find_map(|c| {
            let pair = c.access_keys.iter().find(|k| k.access_key == access_key)?;
            Some((Self::principal(c), pair.secret_key.clone()))
        })
    }

    /// The principal a configured IAM token stands for, at `now`.
    pub fn by_iam_token(&self, token: &str, now: Timestamp) -> Result<Principal, Rejection> {
        for config in &self.principals {
            for configured in &config.iam_tokens {
                let (value, expires_at) = match configured {
                    ConfiguredToken::Plain(value) => (value, None),
                    ConfiguredToken::Expiring { token, expires_at } => (token, parse_time(expires_at).ok()),
                };
                if value == token {
                    return match expires_at {
                        Some(at) if at <= now => Err(Rejection::Expired),
                        _ => Ok(Self::principal(config)),
                    };
                }
            }
        }
        Err(Rejection::Unknown)
    }

    pub fn by_oauth_token(&self, token: &str) -> Option<Principal> {
        self.principals.iter().find(|c| c.oauth_tokens.iter().any(|t| t == token)).map(Self::principal)
    }

    pub fn by_subject(&self, subject: &str) -> Option<Principal> {
        self.principals.iter().find(|c| c.subject == subject).map(Self::principal)
    }
}

fn parse_time(text: &str) -> Result<Timestamp, String> {
    let at = humantime::parse_rfc3339(text).map_err(|e| e.to_string())?;
    Ok(Timestamp::from(at))
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFIG: &str = r#"{"principals": [
        {"subject": "alice", "folders": ["f1", "f2"], "iam_tokens": ["t-alice", {"token": "t-old", "expires_at": "2020-01-01T00:00:00Z"}],
         "oauth_tokens": ["oauth-alice"]},
        {"subject": "root", "folders": ["*"], "iam_tokens": ["t-root"]}
    ]}"#;

    fn now() -> Timestamp {
        Timestamp(1_800_000_000_000_000)
    }

    #[test]
    fn tokens_resolve_to_their_principal_and_folders() {
        let p = Principals::parse(CONFIG).unwrap();
        let alice = p.by_iam_token("t-alice", now()).unwrap();
        assert_eq!(alice.subject, "alice");
        assert!(alice.folders.allows("f1") && alice.folders.allows("f2") && !alice.folders.allows("f3"));
        assert_eq!(p.by_iam_token("t-root", now()).unwrap().folders, Scope::All);
        assert_eq!(p.by_iam_token("nope", now()), Err(Rejection::Unknown));
        assert_eq!(p.by_iam_token("t-old", now()), Err(Rejection::Expired));
        assert_eq!(p.by_iam_token("t-old", Timestamp(1_500_000_000_000_000)).unwrap().subject, "alice");
        assert_eq!(p.by_oauth_token("oauth-alice").map(|p| p.subject), Some("alice".into()));
        assert_eq!(p.by_oauth_token("t-alice"), None, "IAM tokens are not OAuth tokens");
        assert_eq!(p.by_subject("root").map(|p| p.folders), Some(Scope::All));
    }

    #[test]
    fn huawei_credentials_resolve_to_their_projects() {
        let p = Principals::parse(
            r#"{"principals": [{"subject": "hw", "projects": ["p1"], "auth_tokens": ["x-token"],
                "access_keys": [{"access_key": "AK1", "secret_key": "SK1"}]}]}"#,
        )
        .unwrap();
        let by_token = p.by_auth_token("x-token").unwrap();
        assert!(by_token.projects.allows("p1") && !by_token.projects.allows("p2"));
        assert!(!by_token.folders.allows("f1"), "no folders unless configured");
        let (by_key, secret) = p.by_access_key("AK1").unwrap();
        assert_eq!((by_key.subject.as_str(), secret.as_str()), ("hw", "SK1"));
        assert_eq!(p.by_access_key("AK2"), None);
        assert_eq!(p.by_auth_token("AK1"), None);
    }

    #[test]
    fn bad_files_are_refused_with_the_reason() {
        assert!(Principals::parse("{").is_err());
        assert!(Principals::parse(r#"{"principals": [{"subject": "", "folders": []}]}"#).unwrap_err().contains("empty subject"));
        assert!(Principals::parse(r#"{"principals": [{"subject": "a", "folders": [], "colour": 1}]}"#).unwrap_err().contains("colour"));
        let bad_time = r#"{"principals": [{"subject": "a", "folders": [], "iam_tokens": [{"token": "t", "expires_at": "soon"}]}]}"#;
        assert!(Principals::parse(bad_time).unwrap_err().contains("expires_at"));
    }

    #[test]
    fn development_mode_sees_everything() {
        let dev = Principal::development();
        assert!(dev.folders.allows("anything"));
        assert_eq!(dev.subject, DEVELOPMENT_SUBJECT);
    }
}
