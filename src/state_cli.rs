//! `netplane state export|import`: the state document of `/_netplane/state`, from and into a
//! store directly (the server need not run; with SQLite it must not be writing the same file).

use std::io::Read;

use crate::config::StateCommand;
use crate::error::{Error, Result};
use crate::service::state::Snapshot;
use crate::service::{Services, Settings};
use crate::store::Store;

async fn open(spec: &str) -> Result<Services> {
    let spec = spec.to_string();
    let store = tokio::task::spawn_blocking(move || Store::open(&spec)).await.map_err(|e| Error::Internal(e.to_string()))??;
    Ok(Services::new(store, Settings::default()))
}

/// Reads a state document from `path` (`-`: standard input).
pub fn read_snapshot(path: &std::path::Path) -> Result<Snapshot> {
    let text = if path.as_os_str() == "-" {
        let mut text = String::new();
        std::io::stdin().read_to_string(&mut text).map_err(|e| Error::Unavailable(format!("standard input: {e}")))?;
        text
    } else {
        std::fs::read_to_string(path).map_err(|e| Error::Unavailable(format!("cannot read {}: {e}", path.display())))?
    };
    serde_json::from_str(&text).map_err(|e| Error::invalid("state", format!("{}: not a state document: {e}", path.display())))
}

/// Runs one `state` subcommand; export writes the document to standard output.
pub async fn run(command: StateCommand) -> Result<()> {
    match command {
        StateCommand::Export { store } => {
            let snapshot = open(&store).await?.admin.export_state().await?;
            let text = serde_json::to_string_pretty(&snapshot).map_err(|e| Error::Internal(e.to_string()))?;
            println!("{text}");
        }
        StateCommand::Import { store, file } => {
            let snapshot = read_snapshot(&file)?;
            let counts = open(&store).await?.admin.import_state(snapshot).await?;
            eprintln!(
                "imported {} resources, {} operations and {} claims into {store}",
                counts.resources, counts.operations, counts.claims
            );
        }
    }
    Ok(())
}
