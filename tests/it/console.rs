//! The web console (`/_netplane/ui/`): its assets and endpoints over HTTP, and the whole console
//! driven in Debian's headless Chromium (`tests/python/console_flow.py`, through WebDriver),
//! which writes a screenshot of each page under `target/console/`.

use std::path::Path;
use std::process::Command;

use reqwest::Method;
use serde_json::Value;

use crate::harness::{Server, data_dir, run_python};

/// Debian's Chromium and ChromeDriver, installed by `tests/browser/install.sh` when missing.
fn chromium() -> (String, String) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser/install.sh");
    let out = Command::new("bash").arg(script).output().expect("install.sh");
    assert!(out.status.success(), "Chromium could not be installed: {}", String::from_utf8_lossy(&out.stderr));
    let printed = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let (browser, driver) = printed.split_once(' ').expect("two paths");
    (browser.to_string(), driver.to_string())
}

#[tokio::test]
async fn the_console_in_a_real_browser() {
    let dir = data_dir();
    let tls_dir = dir.path().join("tls");
    let args = ["--tls", "auto", "--tls-dir", tls_dir.to_str().unwrap(), "--tls-listen", "127.0.0.1:0"];
    let server = Server::start_with_args(dir.clone(), "memory", "inline", &args);
    let (browser, driver) = chromium();
    let shots = Path::new(env!("CARGO_TARGET_TMPDIR")).parent().unwrap().join("console");
    let ca = tls_dir.join("ca.pem");
    let out = run_python(
        "console_flow.py",
        &[&server.rest, server.tls.as_deref().unwrap(), ca.to_str().unwrap(), shots.to_str().unwrap(), &browser, &driver],
    );
    assert!(out.contains("console: ok"), "{out}");
    for page in ["topology", "topology-huawei", "resources", "operations", "calls", "faults", "faults-state"] {
        assert!(shots.join(format!("{page}.png")).exists(), "no screenshot of {page}");
    }
}

#[tokio::test]
async fn with_principals_the_console_asks_for_an_admins_token() {
    let dir = data_dir();
    let file = dir.path().join("principals.json");
    std::fs::write(&file, r#"{"principals": [{"subject": "root", "folders": ["*"], "iam_tokens": ["t-root"], "admin": true}]}"#).unwrap();
    let server = Server::start_with_args(dir.clone(), "memory", "inline", &["--principals", file.to_str().unwrap()]);
    let (browser, driver) = chromium();
    let shots = Path::new(env!("CARGO_TARGET_TMPDIR")).parent().unwrap().join("console");
    let out = run_python("console_flow.py", &["login", &server.rest, "t-root", shots.to_str().unwrap(), &browser, &driver]);
    assert!(out.contains("login: ok"), "{out}");
}

#[tokio::test]
async fn assets_are_served_to_anyone_and_data_to_admins_only() {
    let dir = data_dir();
    let file = dir.path().join("principals.json");
    std::fs::write(
        &file,
        r#"{"principals": [
            {"subject": "root", "folders": ["*"], "iam_tokens": ["t-root"], "admin": true},
            {"subject": "user", "folders": ["*"], "iam_tokens": ["t-user"]}
        ]}"#,
    )
    .unwrap();
    let server = Server::start_with_args(dir.clone(), "memory", "inline", &["--principals", file.to_str().unwrap()]);
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let get = |path: &str, token: Option<&str>| {
        let mut request = http.request(Method::GET, format!("{}{path}", server.rest));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send()
    };
    let page = get("/_netplane/ui/", None).await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    assert!(page.headers()["content-security-policy"].to_str().unwrap().contains("default-src 'self'"));
    assert!(page.text().await.unwrap().contains(r#"<script type="module" src="app.js">"#));
    let script = get("/_netplane/ui/topology.js", None).await.unwrap();
    assert_eq!((script.status().as_u16(), script.headers()["content-type"].to_str().unwrap()), (200, "text/javascript; charset=utf-8"));
    let redirect = get("/_netplane/ui", None).await.unwrap();
    assert_eq!((redirect.status().as_u16(), redirect.headers()["location"].to_str().unwrap()), (308, "/_netplane/ui/"));
    let missing = get("/_netplane/ui/nothing.js", None).await.unwrap();
    assert_eq!(missing.status(), 404);

    let made = http
        .post(format!("{}/vpc/v1/networks", server.rest))
        .bearer_auth("t-root")
        .json(&serde_json::json!({"folderId": "b1gconsole", "name": "seen"}))
        .send()
        .await
        .unwrap();
    assert_eq!(made.status(), 200);
    assert_eq!(get("/_netplane/scopes", None).await.unwrap().status(), 401);
    assert_eq!(get("/_netplane/scopes", Some("t-user")).await.unwrap().status(), 403);
    let scopes: Value = get("/_netplane/scopes", Some("t-root")).await.unwrap().json().await.unwrap();
    assert_eq!(scopes["folders"], serde_json::json!([{"id": "b1gconsole", "counts": {"network": 1, "security_group": 1}}]));
    assert_eq!(scopes["projects"], serde_json::json!([]));

    // The console's own API calls stay out of the journal; the journal filters by request id and code.
    let list = |console: bool, request_id: &'static str| {
        let mut request = http.get(format!("{}/vpc/v1/networks?folderId=b1gconsole", server.rest)).bearer_auth("t-root");
        request = request.header("x-request-id", request_id);
        if console {
            request = request.header("x-netplane-console", "1");
        }
        request.send()
    };
    assert_eq!(list(true, "from-the-console").await.unwrap().status(), 200);
    assert_eq!(list(false, "from-a-client").await.unwrap().status(), 200);
    let journal = |query: &'static str| {
        let request = get(&format!("/_netplane/requests?{query}"), Some("t-root"));
        async move { request.await.unwrap().json::<Value>().await.unwrap()["requests"].as_array().unwrap().clone() }
    };
    let ids = |calls: Vec<Value>| calls.iter().map(|c| c["request_id"].as_str().unwrap().to_string()).collect::<Vec<_>>();
    assert_eq!(ids(journal("method=yandex.cloud.vpc.v1.NetworkService/List").await), ["from-a-client"]);
    assert_eq!(ids(journal("request_id=from-a-client&code=OK").await), ["from-a-client"]);
    assert!(journal("request_id=from-a-client&code=NOT_FOUND").await.is_empty());
    assert!(journal("request_id=from-the-console").await.is_empty());
}
