//! One suite, every backend: each test runs against memory, SQLite and PostgreSQL (a real server
//! started by `tests/postgres/start.sh`, a fresh database per test), and a difference between them
//! is a failure. Add a backend by adding a line to `backends!` below.

use super::*;
use crate::domain::filter::{Column, Condition, Op, Order};
use crate::error::Error;

fn rec(kind: Kind, id: &str, folder: &str, name: &str, created_at: i64, status: &str) -> Record {
    Record {
        kind,
        id: id.into(),
        folder_id: folder.into(),
        parent_id: String::new(),
        name: name.into(),
        created_at,
        status: status.into(),
        zone_id: "ru-central1-a".into(),
        platform_id: "standard-v3".into(),
        body: format!("{{\"id\":\"{id}\"}}").into_bytes().into(),
    }
}

fn op(id: &str, resource: &str, created_at: i64, done: bool, due_at: Option<i64>) -> OperationRow {
    OperationRow { id: id.into(), resource_id: resource.into(), created_at, done, due_at, body: b"{}".to_vec().into() }
}

fn insert_rows(store: &Store, rows: Vec<Record>) {
    store
        .write_now(move |tx| {
            for r in &rows {
                tx.insert(r.clone())?;
            }
            Ok(())
        })
        .unwrap();
}

/// The ids a folder's list of `kind` filtered by `name` finds.
fn ids_named(store: &Store, kind: Kind, folder: &str, name: &str) -> Vec<String> {
    let mut q = Query::new(kind);
    q.folder_id = Some(folder.into());
    q.conditions = vec![Condition { column: Column::Name, op: Op::Eq, values: vec![name.into()] }];
    store.read_now(move |tx| Ok(tx.list(&q)?.into_iter().map(|r| r.id).collect::<Vec<_>>())).unwrap()
}

fn crud(store: Store) {
    let r = rec(Kind::Instance, "i1", "f", "a", 10, "RUNNING");
    insert_rows(&store, vec![r.clone()]);
    assert_eq!(store.read_now(|tx| Ok(tx.get(Kind::Instance, "i1")?)).unwrap(), Some(r.clone()));
    // Same id in another kind is another row.
    assert_eq!(store.read_now(|tx| Ok(tx.get(Kind::Network, "i1")?)).unwrap(), None);
    let dup = store.write_now(|tx| Ok(tx.insert(rec(Kind::Instance, "i1", "f", "b", 11, ""))?));
    assert!(matches!(dup, Err(Error::Internal(_))), "{dup:?}");
    let mut changed = r.clone();
    changed.status = "STOPPED".into();
    let c = changed.clone();
    store.write_now(move |tx| Ok(tx.update(c.clone())?)).unwrap();
    assert_eq!(store.read_now(|tx| Ok(tx.get(Kind::Instance, "i1")?)).unwrap(), Some(changed.clone()));
    // An update of an indexed column (the name, then the folder) moves the row in the lists that
    // use it.
    let by_name = |folder: &str, name: &str| ids_named(&store, Kind::Instance, folder, name);
    let mut moved = changed;
    for (name, folder) in [("renamed", "f"), ("renamed", "g")] {
        (moved.name, moved.folder_id) = (name.into(), folder.into());
        let m = moved.clone();
        store.write_now(move |tx| Ok(tx.update(m.clone())?)).unwrap();
        assert_eq!((by_name("f", "a"), by_name(folder, name)), (vec![], vec!["i1".to_string()]), "{folder}/{name}");
    }
    assert_eq!(store.read_now(|tx| Ok(tx.get(Kind::Instance, "i1")?)).unwrap(), Some(moved));
    assert!(store.write_now(|tx| Ok(tx.delete(Kind::Instance, "i1")?)).unwrap());
    assert!(!store.write_now(|tx| Ok(tx.delete(Kind::Instance, "i1")?)).unwrap());
    assert_eq!(store.read_now(|tx| Ok(tx.get(Kind::Instance, "i1")?)).unwrap(), None);
}

/// A domain value written by a transaction (a body holding the value, which the memory backend
/// keeps as it is and the others encode) reads back equal, alone and in lists.
fn values_read_back_as_written(store: Store) {
    use crate::domain::{clock::Timestamp, network::Network};
    let mut network = Network {
        id: "n1".into(),
        folder_id: "f".into(),
        created_at: Timestamp(7),
        name: "net".into(),
        description: "first".into(),
        labels: [("k".to_string(), "v".to_string())].into(),
        default_security_group_id: "sg".into(),
    };
    let n = network.clone();
    store.write_now(move |tx| tx.create(&n)).unwrap();
    assert_eq!(store.read_now(|tx| tx.load::<Network>("n1")).unwrap(), Some(network.clone()));
    network.description = "second".into();
    let n = network.clone();
    store.write_now(move |tx| tx.save(&n)).unwrap();
    let mut q = Query::new(Kind::Network);
    q.folder_id = Some("f".into());
    assert_eq!(store.read_now(move |tx| tx.find::<Network>(&q)).unwrap(), [network]);
}

/// `TxExt::change` changes a row this transaction wrote in place where the backend holds values
/// (memory, and the resident store's memory), and loads and saves it everywhere else; either way
/// the columns follow the value, a value someone still holds is never changed under them, and a
/// failed transaction gives back the row as it was.
fn a_change_follows_the_value_and_rolls_back(store: Store) {
    use crate::domain::{clock::Timestamp, network::Network};
    let network = Network {
        id: "n1".into(),
        folder_id: "f".into(),
        created_at: Timestamp(7),
        name: "net".into(),
        description: String::new(),
        labels: Default::default(),
        default_security_group_id: String::new(),
    };
    let n = network.clone();
    store.write_now(move |tx| tx.create(&n)).unwrap();
    let named = |name: &str| {
        let mut q = Query::new(Kind::Network);
        q.conditions = vec![Condition { column: Column::Name, op: Op::Eq, values: vec![name.into()] }];
        store.read_now(move |tx| Ok(tx.list(&q)?.into_iter().map(|r| r.id).collect::<Vec<_>>())).unwrap()
    };
    // A row this transaction has not written: loaded and saved; the value read before is untouched.
    let (held, changed) = store
        .write_now(|tx| {
            let held = tx.load_shared::<Network>("n1")?.unwrap();
            let changed = tx.change::<Network>("n1", |n| n.description = "second".into())?.unwrap();
            Ok((held, changed))
        })
        .unwrap();
    assert_eq!((held.description.as_str(), changed.description.as_str()), ("", "second"));
    // Saved, then changed in the same transaction: in place where the backend can.
    let in_memory = store.keeps_state_in_memory();
    let in_place = store
        .write_now(move |tx| {
            let mut renamed = network.clone();
            renamed.name = "renamed".into();
            tx.save_owned(renamed)?;
            // Asked to change nothing, the backend says whether it could have changed it in place.
            let in_place = tx.change_written(Kind::Network, "n1", &mut |v| v.as_any().downcast_ref::<Network>().map(Resource::columns))?;
            let changed = tx.change::<Network>("n1", |n| (n.name, n.description) = ("again".into(), "third".into()))?.unwrap();
            assert_eq!((changed.name.as_str(), changed.description.as_str()), ("again", "third"));
            Ok(in_place)
        })
        .unwrap();
    assert_eq!(in_place, in_memory, "changed in place exactly where the state is held in memory");
    let stored = store.read_now(|tx| tx.load::<Network>("n1")).unwrap().unwrap();
    assert_eq!((stored.name.as_str(), stored.description.as_str()), ("again", "third"));
    assert_eq!((named("again"), named("renamed"), named("net")), (vec!["n1".to_string()], vec![], vec![]));
    // A failed transaction leaves the row as it was before it.
    let failed: Result<()> = store.write_now(|tx| {
        let mut renamed = tx.load::<Network>("n1")?.unwrap();
        renamed.name = "lost".into();
        tx.save_owned(renamed)?;
        tx.change::<Network>("n1", |n| n.description = "lost".into())?;
        Err(Error::Internal("boom".into()))
    });
    assert!(failed.is_err());
    let stored = store.read_now(|tx| tx.load::<Network>("n1")).unwrap().unwrap();
    assert_eq!((stored.name.as_str(), stored.description.as_str()), ("again", "third"));
    assert_eq!((named("again"), named("lost")), (vec!["n1".to_string()], vec![]));
    assert!(store.write_now(|tx| tx.change::<Network>("missing", |_| ())).unwrap().is_none());
}

fn failed_write_rolls_back_everything(store: Store) {
    insert_rows(&store, vec![rec(Kind::Network, "n0", "f", "keep", 1, "")]);
    let result: Result<()> = store.write_now(|tx| {
        tx.insert(rec(Kind::Network, "n1", "f", "x", 1, ""))?;
        tx.update(rec(Kind::Network, "n0", "f", "changed", 1, ""))?;
        tx.delete(Kind::Network, "n0")?;
        tx.claim(&Claim::new("s", "k", "o"))?.map_err(Error::Internal)?;
        tx.release("s", "k")?;
        tx.claim(&Claim::new("s", "k2", "o"))?.map_err(Error::Internal)?;
        tx.put_operation(op("op1", "n1", 1, false, Some(5)))?;
        Err(Error::Internal("boom".into()))
    });
    assert!(result.is_err());
    store
        .read_now(|tx| {
            assert_eq!(tx.get(Kind::Network, "n1")?, None);
            assert_eq!(tx.get(Kind::Network, "n0")?.map(|r| r.name), Some("keep".to_string()));
            assert!(tx.claims_in("s")?.is_empty());
            assert!(tx.claims_of("o")?.is_empty());
            assert_eq!(tx.get_operation("op1")?, None);
            Ok(())
        })
        .unwrap();
}

/// Inserting a row whose id exists in its kind fails as a duplicate, alone: the row stays as it
/// was, and the same id in another kind is a row of its own.
fn an_insert_of_an_existing_id_is_a_duplicate(store: Store) {
    insert_rows(&store, vec![rec(Kind::Network, "n1", "f", "first", 1, "")]);
    let again = store.write_now(|tx| {
        tx.insert(rec(Kind::Subnet, "n1", "f", "another kind", 2, ""))?;
        Ok(tx.insert(rec(Kind::Network, "n1", "f", "second", 2, "")))
    });
    assert!(matches!(again, Ok(Err(StoreError::Duplicate(_)))), "{again:?}");
    let (kept, other_kind) = store.read_now(|tx| Ok((tx.get(Kind::Network, "n1")?, tx.get(Kind::Subnet, "n1")?))).unwrap();
    let kept = kept.unwrap();
    assert_eq!((kept.name.as_str(), kept.created_at), ("first", 1));
    assert_eq!(other_kind.map(|r| r.name), Some("another kind".to_string()));
}

fn claims_are_unique(store: Store) {
    let first = store.write_now(|tx| Ok(tx.claim(&Claim::new("subnet:s1", "10.0.0.3", "i1"))?)).unwrap();
    assert_eq!(first, Ok(()));
    let again = store.write_now(|tx| Ok(tx.claim(&Claim::new("subnet:s1", "10.0.0.3", "i1"))?)).unwrap();
    assert_eq!(again, Ok(()), "the holder may claim again");
    let other = store.write_now(|tx| Ok(tx.claim(&Claim::new("subnet:s1", "10.0.0.3", "i2"))?)).unwrap();
    assert_eq!(other, Err("i1".to_string()));
    assert_eq!(store.read_now(|tx| Ok(tx.holder("subnet:s1", "10.0.0.3")?)).unwrap(), Some("i1".to_string()));
    assert_eq!(store.read_now(|tx| Ok(tx.holder("subnet:s1", "10.0.0.99")?)).unwrap(), None);
    let held = store.read_now(|tx| Ok((tx.is_held("subnet:s1", "10.0.0.3")?, tx.is_held("subnet:s1", "10.0.0.99")?))).unwrap();
    assert_eq!(held, (true, false));
    store
        .write_now(|tx| {
            tx.claim(&Claim::new("subnet:s1", "10.0.0.4", "i2"))?.map_err(Error::Internal)?;
            tx.claim(&Claim::new("subnet:s2", "10.0.0.3", "i1"))?.map_err(Error::Internal)?;
            Ok(())
        })
        .unwrap();
    let in_s1 = store.read_now(|tx| Ok(tx.claims_in("subnet:s1")?)).unwrap();
    assert_eq!(in_s1, [Claim::new("subnet:s1", "10.0.0.3", "i1"), Claim::new("subnet:s1", "10.0.0.4", "i2")]);
    let of_i1 = store.read_now(|tx| Ok(tx.claims_of("i1")?)).unwrap();
    assert_eq!(of_i1, [Claim::new("subnet:s1", "10.0.0.3", "i1"), Claim::new("subnet:s2", "10.0.0.3", "i1")]);
    store.write_now(|tx| Ok(tx.release("subnet:s1", "10.0.0.3")?)).unwrap();
    let now = store.write_now(|tx| Ok(tx.claim(&Claim::new("subnet:s1", "10.0.0.3", "i2"))?)).unwrap();
    assert_eq!(now, Ok(()));
}

/// What a claim records beyond its holder reads back as written.
fn claims_keep_their_detail_and_expiry(store: Store) {
    let claim = Claim::new("idempotency", "alice\n/m\nk", "op1").with_detail("f00d").expiring_at(4_102_444_800_000_000);
    store.write_now(|tx| tx.claim(&claim)?.map_err(Error::Internal)).unwrap();
    let (at, of, bare) = store
        .read_now(|tx| Ok((tx.claim_at("idempotency", "alice\n/m\nk")?, tx.claims_of("op1")?, tx.claim_at("idempotency", "k")?)))
        .unwrap();
    assert_eq!((at, of, bare), (Some(claim.clone()), vec![claim], None));
}

/// `put` (how a fold writes a resource) inserts a new row and replaces one that is there, indexed
/// columns included: the lists by name and folder find it where it now is.
fn put_inserts_a_row_or_replaces_it(store: Store) {
    let first = rec(Kind::Network, "n1", "f", "a", 10, "");
    let f = first.clone();
    store.write_now(move |tx| Ok(tx.put(f.clone())?)).unwrap();
    assert_eq!(store.read_now(|tx| Ok(tx.get(Kind::Network, "n1")?)).unwrap(), Some(first.clone()));
    let by_name = |folder: &str, name: &str| ids_named(&store, Kind::Network, folder, name);
    let mut moved = rec(Kind::Network, "n1", "g", "b", 10, "READY");
    moved.body = b"{\"id\":\"n1\",\"moved\":true}".to_vec().into();
    let m = moved.clone();
    store.write_now(move |tx| Ok(tx.put(m.clone())?)).unwrap();
    assert_eq!(store.read_now(|tx| Ok(tx.get(Kind::Network, "n1")?)).unwrap(), Some(moved));
    assert_eq!((by_name("f", "a"), by_name("g", "b")), (vec![], vec!["n1".to_string()]));
}

/// `put_claim` (how a fold writes a claim) sets it whoever held it, detail and expiry included.
fn put_claim_sets_a_claim_whoever_held_it(store: Store) {
    let new = Claim::new("names", "web", "i1").with_detail("d1");
    store.write_now(|tx| Ok(tx.put_claim(&new)?)).unwrap();
    assert_eq!(store.read_now(|tx| Ok(tx.claim_at("names", "web")?)).unwrap(), Some(new));
    let taken_over = Claim::new("names", "web", "i2").with_detail("d2").expiring_at(7);
    store.write_now(|tx| Ok(tx.put_claim(&taken_over)?)).unwrap();
    let (at, of_first) = store.read_now(|tx| Ok((tx.claim_at("names", "web")?, tx.claims_of("i1")?))).unwrap();
    assert_eq!((at, of_first), (Some(taken_over.clone()), vec![]));
    // The same owner again, with another detail: still its claim.
    let redone = Claim::new("names", "web", "i2").with_detail("d3");
    store.write_now(|tx| Ok(tx.put_claim(&redone)?)).unwrap();
    let (at, of_second) = store.read_now(|tx| Ok((tx.claim_at("names", "web")?, tx.claims_of("i2")?))).unwrap();
    assert_eq!((at, of_second), (Some(redone.clone()), vec![redone.clone()]));
    // A failed transaction gives the claim back as it was.
    let failed: Result<()> = store.write_now(|tx| {
        tx.put_claim(&Claim::new("names", "web", "i3"))?;
        Err(Error::Internal("boom".into()))
    });
    assert!(failed.is_err());
    let (at, of_third) = store.read_now(|tx| Ok((tx.claim_at("names", "web")?, tx.claims_of("i3")?))).unwrap();
    assert_eq!((at, of_third), (Some(redone), vec![]));
}

fn lists_filter_order_and_page(store: Store) {
    insert_rows(
        &store,
        vec![
            rec(Kind::Instance, "a", "f1", "web", 30, "RUNNING"),
            rec(Kind::Instance, "b", "f1", "db", 10, "STOPPED"),
            rec(Kind::Instance, "c", "f1", "web", 20, "RUNNING"),
            rec(Kind::Instance, "d", "f2", "web", 5, "RUNNING"),
            rec(Kind::Network, "e", "f1", "web", 1, ""),
        ],
    );
    // Every list is asked twice: `list_each` lends the rows `list` answers, in its order.
    let ids = |q: Query| {
        store
            .read_now(move |tx| {
                let listed: Vec<String> = tx.list(&q)?.into_iter().map(|r| r.id).collect();
                let mut lent = Vec::new();
                tx.list_each(&q, &mut |r| {
                    lent.push(r.id.clone());
                    true
                })?;
                assert_eq!(lent, listed, "list_each and list differ for {q:?}");
                Ok(listed)
            })
            .unwrap()
    };
    let mut q = Query::new(Kind::Instance);
    q.folder_id = Some("f1".into());
    assert_eq!(ids(q.clone()), ["a", "b", "c"]);
    let first_two = {
        let q = q.clone();
        store
            .read_now(move |tx| {
                let mut lent = Vec::new();
                tx.list_each(&q, &mut |r| {
                    lent.push(r.id.clone());
                    lent.len() < 2
                })?;
                Ok(lent)
            })
            .unwrap()
    };
    assert_eq!(first_two, ["a", "b"], "list_each stops where it is told to");

    let mut by_name = q.clone();
    by_name.conditions = vec![Condition { column: Column::Name, op: Op::Eq, values: vec!["web".into()] }];
    assert_eq!(ids(by_name), ["a", "c"]);

    let mut not_running = q.clone();
    not_running.conditions = vec![Condition { column: Column::Status, op: Op::NotIn, values: vec!["RUNNING".into()] }];
    assert_eq!(ids(not_running), ["b"]);

    let mut by_time = q.clone();
    by_time.conditions = vec![Condition { column: Column::CreatedAt, op: Op::In, values: vec!["10".into(), "30".into()] }];
    assert_eq!(ids(by_time), ["a", "b"]);

    let mut newest = q.clone();
    newest.order = Order { column: Column::CreatedAt, descending: true };
    assert_eq!(ids(newest.clone()), ["a", "c", "b"]);
    newest.limit = 2;
    assert_eq!(ids(newest.clone()), ["a", "c"]);
    newest.after = Some(Cursor { value: SortValue::Int(20), id: "c".into() });
    assert_eq!(ids(newest), ["b"]);

    let mut by_name_asc = q.clone();
    by_name_asc.order = Order { column: Column::Name, descending: false };
    by_name_asc.limit = 2;
    assert_eq!(ids(by_name_asc.clone()), ["b", "a"]);
    by_name_asc.after = Some(Cursor { value: SortValue::Text("web".into()), id: "a".into() });
    assert_eq!(ids(by_name_asc), ["c"]);

    let mut children = Query::new(Kind::Instance);
    children.parent_id = Some("nothing".into());
    assert!(ids(children).is_empty());
}

fn operations_by_resource_and_pending(store: Store) {
    store
        .write_now(|tx| {
            tx.put_operation(op("o1", "r", 1, true, None))?;
            tx.put_operation(op("o2", "r", 2, false, Some(50)))?;
            tx.put_operation(op("o3", "r", 2, false, Some(40)))?;
            tx.put_operation(op("o4", "other", 3, false, None))?;
            Ok(())
        })
        .unwrap();
    let ids = |v: Vec<OperationRow>| v.into_iter().map(|o| o.id).collect::<Vec<_>>();
    assert_eq!(ids(store.read_now(|tx| Ok(tx.operations_of("r", None, 10)?)).unwrap()), ["o3", "o2", "o1"]);
    assert_eq!(ids(store.read_now(|tx| Ok(tx.operations_of("r", None, 2)?)).unwrap()), ["o3", "o2"]);
    assert_eq!(ids(store.read_now(|tx| Ok(tx.operations_of("r", Some((2, "o2")), 10)?)).unwrap()), ["o1"]);
    assert_eq!(ids(store.read_now(|tx| Ok(tx.pending_operations()?)).unwrap()), ["o3", "o2", "o4"]);
    let mut done = op("o3", "r", 2, true, None);
    done.body = b"{\"done\":true}".to_vec().into();
    let d = done.clone();
    store.write_now(move |tx| Ok(tx.put_operation(d.clone())?)).unwrap();
    assert_eq!(store.read_now(|tx| Ok(tx.get_operation("o3")?)).unwrap(), Some(done));
    assert_eq!(ids(store.read_now(|tx| Ok(tx.pending_operations()?)).unwrap()), ["o2", "o4"]);
}

/// What state export and reset walk: every claim in (scope, key) order, every operation oldest
/// first, and deleting an operation (undone with the rest of a failed transaction).
fn everything_is_listed_and_operations_deleted(store: Store) {
    store
        .write_now(|tx| {
            tx.put_operation(op("o2", "r", 2, false, Some(5)))?;
            tx.put_operation(op("o1", "r", 1, true, None))?;
            tx.claim(&Claim::new("b", "k", "x"))?.unwrap();
            tx.claim(&Claim::new("a", "z", "y").with_detail("d"))?.unwrap();
            tx.claim(&Claim::new("a", "k", "x"))?.unwrap();
            Ok(())
        })
        .unwrap();
    let claims = store.read_now(|tx| Ok(tx.all_claims()?)).unwrap();
    let keys: Vec<(String, String)> = claims.iter().map(|c| (c.scope.clone(), c.key.clone())).collect();
    assert_eq!(keys, [("a".into(), "k".into()), ("a".into(), "z".into()), ("b".into(), "k".into())]);
    assert_eq!(claims[1].detail, "d");
    let ids = |store: &Store| store.read_now(|tx| Ok(tx.all_operations()?)).unwrap().into_iter().map(|o| o.id).collect::<Vec<_>>();
    assert_eq!(ids(&store), ["o1", "o2"]);
    let failed = store.write_now(|tx| {
        assert!(tx.delete_operation("o1")?);
        Err::<(), _>(crate::error::Error::Internal("rolled back".into()))
    });
    assert!(failed.is_err());
    assert_eq!(ids(&store), ["o1", "o2"], "a failed transaction's delete is undone");
    assert!(store.write_now(|tx| Ok(tx.delete_operation("o1")?)).unwrap());
    assert!(!store.write_now(|tx| Ok(tx.delete_operation("o1")?)).unwrap());
    assert_eq!(ids(&store), ["o2"]);
}

/// What pruning reads: done operations oldest first before a time, how many are done, and claims
/// past their expiry.
fn pruning_finds_done_operations_and_expired_claims(store: Store) {
    store
        .write_now(|tx| {
            tx.put_operation(op("new", "r", 30, true, None))?;
            tx.put_operation(op("old", "r", 10, true, None))?;
            tx.put_operation(op("middle", "r", 20, true, None))?;
            tx.put_operation(op("pending", "r", 5, false, Some(1)))?;
            tx.claim(&Claim::new("idempotency", "a", "op").expiring_at(100))?.unwrap();
            tx.claim(&Claim::new("idempotency", "b", "op").expiring_at(300))?.unwrap();
            tx.claim(&Claim::new("names", "c", "x"))?.unwrap();
            Ok(())
        })
        .unwrap();
    let (before, count, expired) =
        store.read_now(|tx| Ok((tx.done_operations_before(25, 10)?, tx.count_done_operations()?, tx.expired_claims(200, 10)?))).unwrap();
    assert_eq!(before, ["old", "middle"], "done ones only, oldest first");
    assert_eq!(count, 3);
    assert_eq!(expired, [("idempotency".to_string(), "a".to_string())]);
    assert_eq!(store.read_now(|tx| Ok(tx.done_operations_before(i64::MAX, 1)?)).unwrap(), ["old"]);
}

/// What runners rely on: a pending operation is taken by one transaction, which finishes it;
/// a done or unknown one is not taken; and runners racing over the same operations (threads here,
/// replicas in production) apply each exactly once.
fn pending_operations_are_taken_once(store: Store) {
    let ids: Vec<String> = (0..24).map(|i| format!("op{i:02}")).collect();
    let pending = ids.clone();
    store
        .write_now(move |tx| {
            for id in &pending {
                tx.put_operation(op(id, "r", 1, false, Some(1)))?;
            }
            tx.put_operation(op("finished", "r", 1, true, None))?;
            Ok(())
        })
        .unwrap();
    store
        .write_now(|tx| {
            assert_eq!(tx.take_pending_operation("finished")?, None);
            assert_eq!(tx.take_pending_operation("unknown")?, None);
            assert_eq!(tx.take_pending_operation("op00")?.map(|o| o.id), Some("op00".to_string()));
            Ok(())
        })
        .unwrap();
    let runners: Vec<_> = (0..6)
        .map(|_| {
            let (store, ids) = (store.clone(), ids.clone());
            std::thread::spawn(move || {
                let mut applied = 0;
                for id in &ids {
                    // The effect and the `done` mark commit together, as the runner's do; applying
                    // an operation twice would insert its row twice and fail.
                    applied += store
                        .write_now(|tx| {
                            let Some(mut row) = tx.take_pending_operation(id)? else { return Ok(0) };
                            tx.insert(rec(Kind::Network, id, "f", id, 1, ""))?;
                            row.done = true;
                            row.due_at = None;
                            tx.put_operation(row.clone())?;
                            Ok(1)
                        })
                        .unwrap();
                }
                applied
            })
        })
        .collect();
    let applied: usize = runners.into_iter().map(|r| r.join().unwrap()).sum();
    assert_eq!(applied, ids.len(), "every operation applied exactly once");
    let (rows, pending) = store.read_now(|tx| Ok((tx.list(&Query::new(Kind::Network))?.len(), tx.pending_operations()?.len()))).unwrap();
    assert_eq!((rows, pending), (ids.len(), 0));
}

/// Many writers at once through the asynchronous path the server uses, a third of them failing
/// after writing and a few panicking: every success is there, nothing of a failure is (on SQLite
/// this exercises the writer thread's groups and their per-call savepoints).
fn concurrent_writes_keep_successes_and_drop_failures(store: Store) {
    let fails = |n: usize| n % 3 == 0 || n % 60 == 1;
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(4).enable_all().build().unwrap();
    runtime.block_on(async {
        let calls: Vec<_> = (0..480)
            .map(|n| {
                let store = store.clone();
                tokio::spawn(async move {
                    store
                        .write(move |tx| {
                            let key = format!("k{n}");
                            tx.claim(&Claim::new("c", key.as_str(), "o"))?.map_err(Error::Internal)?;
                            tx.insert(rec(Kind::Network, &key, "f", &key, 1, ""))?;
                            if n % 60 == 1 {
                                panic!("call {n} panics mid-transaction (on purpose)");
                            }
                            if n % 3 == 0 { Err(Error::Internal("refused".into())) } else { Ok(()) }
                        })
                        .await
                })
            })
            .collect();
        for (n, call) in calls.into_iter().enumerate() {
            // A panic surfaces as an error or as the task's own panic, depending on the backend.
            assert_eq!(matches!(call.await, Ok(Ok(()))), !fails(n), "call {n}");
        }
    });
    let kept = (0..480).filter(|n| !fails(*n)).count();
    let (claims, rows) = store.read_now(|tx| Ok((tx.claims_in("c")?.len(), tx.list(&Query::new(Kind::Network))?.len()))).unwrap();
    assert_eq!((claims, rows), (kept, kept));
    store
        .read_now(|tx| {
            for n in [0, 1, 3, 61] {
                assert!(tx.get(Kind::Network, &format!("k{n}"))?.is_none() && tx.holder("c", &format!("k{n}"))?.is_none(), "k{n}");
            }
            assert!(tx.get(Kind::Network, "k2")?.is_some() && tx.holder("c", "k2")?.is_some());
            Ok(())
        })
        .unwrap();
}

/// Applying logged changes (how a fold and an open write them) writes every row as the changes
/// list it, in their order (a group's row lists several transactions' rows, the same key among
/// them): a key put twice, a delete between puts, more rows than a fold writes between pauses.
fn applying_changes_writes_every_row_in_order(store: Store) {
    use super::change_log::apply;
    use super::memory::Changes;
    let rows = 70;
    let network = |n: usize, name: &str| rec(Kind::Network, &format!("n{n}"), "f", name, n as i64, "");
    let mut changes = Changes::default();
    for n in 0..rows {
        changes.resources.push((Kind::Network, format!("n{n}"), Some(network(n, "first"))));
        if n == 1 {
            changes.resources.push((Kind::Network, "n0".into(), Some(network(0, "again"))));
        }
    }
    changes.resources.push((Kind::Network, "n7".into(), None));
    changes.resources.push((Kind::Network, "n5".into(), Some(network(5, "second"))));
    let claim = |n: usize, owner: &str| Claim::new("c", format!("k{n:02}"), owner);
    for n in 0..rows {
        changes.claims.push(("c".into(), format!("k{n:02}"), Some(claim(n, "o1"))));
    }
    changes.claims.push(("c".into(), "k03".into(), None));
    changes.claims.push(("c".into(), "k04".into(), Some(claim(4, "o2"))));
    for n in 0..rows {
        changes.operations.push((format!("op{n:02}"), Some(op(&format!("op{n:02}"), "r", n as i64, false, None))));
    }
    changes.operations.push(("op09".into(), None));
    changes.operations.push(("op02".into(), Some(op("op02", "r", 2, true, None))));
    let mut changes = Some(changes);
    store.write_now(|tx| apply(changes.take().ok_or_else(|| Error::Internal("applied twice".into()))?, tx)).unwrap();

    let (networks, claims, operations) =
        store.read_now(|tx| Ok((tx.list(&Query::new(Kind::Network))?, tx.claims_in("c")?, tx.all_operations()?))).unwrap();
    let mut expected: Vec<Record> = (0..rows).filter(|&n| n != 7).map(|n| network(n, "first")).collect();
    expected[0] = network(0, "again");
    expected[5] = network(5, "second");
    let by_id = |rows: &[Record]| {
        let mut rows = rows.to_vec();
        rows.sort_by(|a, b| a.id.cmp(&b.id));
        rows
    };
    assert_eq!(by_id(&networks), by_id(&expected));
    let expected: Vec<Claim> = (0..rows).filter(|&n| n != 3).map(|n| claim(n, if n == 4 { "o2" } else { "o1" })).collect();
    assert_eq!(claims, expected);
    let done: Vec<(String, bool)> = operations.into_iter().map(|o| (o.id, o.done)).collect();
    let expected: Vec<(String, bool)> = (0..rows).filter(|&n| n != 9).map(|n| (format!("op{n:02}"), n == 2)).collect();
    assert_eq!(done, expected);
}

fn read_transactions_refuse_writes_or_discard_them(store: Store) {
    // A read transaction may not change anything that a later reader sees.
    let _ = store.read_now(|tx| Ok(tx.insert(rec(Kind::Network, "ghost", "f", "", 1, ""))?));
    assert_eq!(store.read_now(|tx| Ok(tx.get(Kind::Network, "ghost")?)).unwrap(), None);
}

macro_rules! backends {
    ($($test:ident),* $(,)?) => {
        mod memory_backend {
            $( #[test] fn $test() { super::$test(super::Store::open("memory").unwrap()); } )*
        }
        mod sqlite_backend {
            $( #[test] fn $test() {
                let dir = tempfile::tempdir().unwrap();
                let path = dir.path().join("store.db");
                super::$test(super::Store::open(&format!("sqlite:{}", path.display())).unwrap());
            } )*
        }
        mod sqlite_direct_backend {
            $( #[test] fn $test() {
                let dir = tempfile::tempdir().unwrap();
                let path = dir.path().join("store.db");
                super::$test(super::Store::open(&format!("{}{}", super::super::SQLITE_DIRECT, path.display())).unwrap());
            } )*
        }
        mod postgres_backend {
            $( #[test] fn $test() { super::$test(super::postgres_store(stringify!($test))); } )*
        }
    };
}

/// A fresh database of the test PostgreSQL server (started once per test process): its URL.
fn postgres_database(name: &str) -> String {
    use std::sync::OnceLock;
    static SERVER: OnceLock<(tempfile::TempDir, String)> = OnceLock::new();
    let (_, url) = SERVER.get_or_init(|| {
        let dir = tempfile::Builder::new().prefix("netplane-pg").tempdir().expect("tempdir");
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/postgres/start.sh");
        let out = std::process::Command::new("bash")
            .arg(script)
            .arg(dir.path().join("cluster"))
            .arg(std::process::id().to_string())
            .output()
            .expect("run tests/postgres/start.sh");
        assert!(out.status.success(), "PostgreSQL did not start: {}", String::from_utf8_lossy(&out.stderr));
        let url = String::from_utf8_lossy(&out.stdout).trim().to_string();
        (dir, url)
    });
    let mut admin = ::postgres::Client::connect(url, ::postgres::NoTls).expect("connect to the test server");
    let database = format!("store_{name}");
    admin.batch_execute(&format!("DROP DATABASE IF EXISTS {database}")).expect("drop database");
    admin.batch_execute(&format!("CREATE DATABASE {database}")).expect("create database");
    format!("{}/{database}", url.rsplit_once('/').map_or(url.as_str(), |(base, _)| base))
}

/// A store on a fresh database of the test PostgreSQL server (started once per test process).
fn postgres_store(name: &str) -> Store {
    Store::open(&postgres_database(name)).expect("open the PostgreSQL store")
}

/// PostgreSQL ends a transaction at its first failed statement, and answers the COMMIT that
/// follows by rolling it back, without an error. A write whose closure went on past a failure
/// (here a name PostgreSQL's text cannot hold) fails instead of reporting a commit that did not
/// happen, and leaves nothing behind. The failed statement's error carries the server's message
/// and SQLSTATE.
#[test]
fn postgres_reports_no_commit_past_a_failed_statement() {
    let store = postgres_store("past_a_failed_statement");
    let outcome = store.write_now(|tx| {
        let refused = tx.insert(rec(Kind::Network, "n0", "f", "nul\0byte", 1, ""));
        // The refusal says what the server said, not only the driver's "db error".
        let refusal = refused.expect_err("PostgreSQL took a NUL in a text column").to_string();
        assert!(refusal.contains("invalid byte sequence") && refusal.contains("(SQLSTATE 22021)"), "{refusal}");
        let _after = tx.insert(rec(Kind::Network, "n1", "f", "after", 1, ""));
        Ok(())
    });
    let failed = outcome.unwrap_err();
    assert!(failed.to_string().contains("nothing of it was committed"), "{failed}");
    assert_eq!(store.read_now(|tx| Ok(tx.get(Kind::Network, "n1")?)).unwrap(), None);
}

backends!(
    crud,
    values_read_back_as_written,
    a_change_follows_the_value_and_rolls_back,
    failed_write_rolls_back_everything,
    an_insert_of_an_existing_id_is_a_duplicate,
    claims_are_unique,
    claims_keep_their_detail_and_expiry,
    put_claim_sets_a_claim_whoever_held_it,
    put_inserts_a_row_or_replaces_it,
    lists_filter_order_and_page,
    operations_by_resource_and_pending,
    pending_operations_are_taken_once,
    read_transactions_refuse_writes_or_discard_them,
    concurrent_writes_keep_successes_and_drop_failures,
    everything_is_listed_and_operations_deleted,
    pruning_finds_done_operations_and_expired_claims,
    applying_changes_writes_every_row_in_order,
);

/// On PostgreSQL, where replicas write at once, a runner passes by an operation another holds
/// instead of waiting for it (`SKIP LOCKED`): the holder answers only after the other has looked.
#[test]
fn postgres_runners_pass_by_an_operation_another_holds() {
    let store = postgres_store("pass_by_held_operation");
    store.write_now(|tx| Ok(tx.put_operation(op("held", "r", 1, false, Some(1)))?)).unwrap();
    let (looked, seen) = std::sync::mpsc::channel();
    let (holding, held) = std::sync::mpsc::channel();
    let other = {
        let store = store.clone();
        std::thread::spawn(move || {
            held.recv().unwrap();
            let taken = store.write_now(|tx| Ok(tx.take_pending_operation("held")?.is_some())).unwrap();
            looked.send(taken).unwrap();
        })
    };
    let mut told = false;
    store
        .write_now(|tx| {
            let mut row = tx.take_pending_operation("held")?.expect("pending");
            if !told {
                told = true;
                holding.send(()).unwrap();
                let other_took = seen.recv_timeout(std::time::Duration::from_secs(20)).expect("the other runner waited instead");
                assert!(!other_took, "a held operation was taken twice");
            }
            row.done = true;
            tx.put_operation(row.clone())?;
            Ok(())
        })
        .unwrap();
    other.join().unwrap();
    assert!(store.read_now(|tx| Ok(tx.get_operation("held")?)).unwrap().unwrap().done);
}

#[test]
fn sqlite_state_survives_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let spec = format!("sqlite:{}", dir.path().join("s.db").display());
    {
        let store = Store::open(&spec).unwrap();
        insert_rows(&store, vec![rec(Kind::Subnet, "s1", "f", "n", 1, "")]);
        store.write_now(|tx| Ok(tx.claim(&Claim::new("x", "y", "z"))?)).unwrap().unwrap();
    }
    let store = Store::open(&spec).unwrap();
    assert!(store.read_now(|tx| Ok(tx.get(Kind::Subnet, "s1")?)).unwrap().is_some());
    assert_eq!(store.read_now(|tx| Ok(tx.claims_in("x")?)).unwrap().len(), 1);
}

/// The resident store (`sqlite:`) and SQLite served straight from the file (`sqlite-direct:`, as
/// releases before the resident store) read each other's files: the format is one.
#[test]
fn resident_and_direct_sqlite_share_their_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db").display().to_string();
    let direct = format!("{}{path}", super::SQLITE_DIRECT);
    {
        let store = Store::open(&direct).unwrap();
        insert_rows(&store, vec![rec(Kind::Network, "n1", "f", "net-1", 1, "")]);
        store.write_now(|tx| Ok(tx.put_operation(op("o1", "n1", 1, true, None))?)).unwrap();
        store.write_now(|tx| Ok(tx.claim(&Claim::new("names", "net-1", "n1").with_detail("d").expiring_at(9))?)).unwrap().unwrap();
    }
    {
        let store = Store::open(&format!("sqlite:{path}")).unwrap();
        assert_eq!(store.read_now(|tx| Ok(tx.get(Kind::Network, "n1")?)).unwrap().unwrap().name, "net-1");
        assert!(store.read_now(|tx| Ok(tx.get_operation("o1")?)).unwrap().unwrap().done);
        assert_eq!(store.read_now(|tx| Ok(tx.claim_at("names", "net-1")?)).unwrap().unwrap().detail, "d");
        // Changes of every kind, made in memory, reach the file.
        insert_rows(&store, vec![rec(Kind::Subnet, "s1", "f", "sub", 2, "")]);
        store
            .write_now(|tx| {
                tx.delete(Kind::Network, "n1")?;
                tx.release("names", "net-1")?;
                tx.claim(&Claim::new("names", "net-1", "n2"))?.expect("free again");
                tx.delete_operation("o1")?;
                tx.put_operation(op("o2", "s1", 2, false, Some(5)))?;
                Ok(())
            })
            .unwrap();
        // A failed transaction leaves nothing behind, in memory or in the file.
        let failed = store.write_now(|tx| {
            tx.insert(rec(Kind::Subnet, "ghost", "f", "g", 3, ""))?;
            Err::<(), _>(Error::Internal("no".into()))
        });
        assert!(failed.is_err());
    }
    // The resident store left the file with its keys only; served from SQLite again, it has every
    // index its reads use back (a list by name names its index: it fails without it).
    let read_indexes = || {
        let conn = rusqlite::Connection::open(&path).unwrap();
        let names: Vec<String> = super::sql_indexes::READ_INDEXES.iter().map(|(name, _)| format!("'{name}'")).collect();
        let sql = format!("SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name IN ({})", names.join(", "));
        conn.query_row(&sql, [], |r| r.get::<_, usize>(0)).unwrap()
    };
    assert_eq!(read_indexes(), 0);
    let store = Store::open(&direct).unwrap();
    assert_eq!(read_indexes(), super::sql_indexes::READ_INDEXES.len());
    let mut by_name = Query::new(Kind::Subnet);
    by_name.folder_id = Some("f".into());
    by_name.conditions = vec![Condition { column: Column::Name, op: Op::Eq, values: vec!["sub".into()] }];
    assert_eq!(store.read_now(move |tx| Ok(tx.list(&by_name)?)).unwrap().len(), 1);
    assert!(store.read_now(|tx| Ok(tx.get(Kind::Network, "n1")?)).unwrap().is_none());
    assert!(store.read_now(|tx| Ok(tx.get(Kind::Subnet, "s1")?)).unwrap().is_some());
    assert!(store.read_now(|tx| Ok(tx.get(Kind::Subnet, "ghost")?)).unwrap().is_none());
    assert_eq!(store.read_now(|tx| Ok(tx.claim_at("names", "net-1")?)).unwrap().unwrap(), Claim::new("names", "net-1", "n2"));
    assert!(store.read_now(|tx| Ok(tx.get_operation("o1")?)).unwrap().is_none());
    assert_eq!(store.read_now(|tx| Ok(tx.pending_operations()?)).unwrap().len(), 1);
}

/// While writes go on, committed changes are folded into the tables and their log rows dropped
/// from the log file; the tables record how far they reach.
#[test]
fn the_resident_store_folds_its_log_into_the_tables() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let store = Store::open(&format!("sqlite:{}", path.display())).unwrap();
    let file = rusqlite::Connection::open(&path).unwrap();
    let log = rusqlite::Connection::open(log_file::path_of(&path.display().to_string())).unwrap();
    let count = |conn: &rusqlite::Connection, sql: &str| conn.query_row(sql, [], |r| r.get::<_, i64>(0)).unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let mut written = 0;
    while count(&file, "SELECT count(*) FROM resources WHERE kind = 'network'") == 0 {
        assert!(std::time::Instant::now() < deadline, "no fold after {written} writes");
        insert_rows(&store, vec![rec(Kind::Network, &format!("n{written}"), "f", "", written, "")]);
        written += 1;
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let folded = count(&file, "SELECT upto FROM folded");
    assert!(folded > 0 && folded <= written, "folded up to {folded} of {written}");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while count(&log, &format!("SELECT count(*) FROM change_log WHERE seq <= {folded}")) > 0 {
        assert!(std::time::Instant::now() < deadline, "folded rows stay in the log file");
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    assert!(count(&log, "SELECT count(*) FROM change_log") < written, "folded changes leave the log");
}

/// Every way of opening the store file folds what its log file holds past what the tables
/// record as folded, and only that: a row at or below the record (left by a crash between a
/// fold's commit and its trim) is not applied again; and changes logged after a reopen are
/// numbered past the record, so that they are folded too.
#[test]
fn every_open_folds_the_log_file_past_what_the_tables_hold() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db").display().to_string();
    let resident = format!("sqlite:{path}");
    let direct = format!("{}{path}", super::SQLITE_DIRECT);
    insert_rows(&Store::open(&resident).unwrap(), vec![rec(Kind::Network, "n1", "f", "a", 1, "")]);
    let upto =
        |path: &str| rusqlite::Connection::open(path).unwrap().query_row("SELECT upto FROM folded", [], |r| r.get::<_, i64>(0)).unwrap();
    let log = rusqlite::Connection::open(log_file::path_of(&path)).unwrap();
    let append = |seq: i64, record: Record| {
        let mut changes = memory::Changes { resources: vec![(record.kind, record.id.clone(), Some(record))], ..Default::default() };
        log.execute(
            "INSERT INTO change_log (seq, changes) VALUES (?1, ?2)",
            rusqlite::params![seq, change_log::encode(&mut changes).unwrap()],
        )
        .unwrap();
    };
    drop(Store::open(&direct).unwrap());
    let before = upto(&path);
    assert!(before >= 1, "the resident store's write is folded");
    append(before + 1, rec(Kind::Network, "n1", "f", "b", 1, ""));
    append(before + 2, rec(Kind::Network, "n2", "f", "c", 2, ""));
    let name = |store: &Store, id: &str| store.read_now(|tx| Ok(tx.get(Kind::Network, id)?)).unwrap().map(|r| r.name);
    {
        let store = Store::open(&direct).unwrap();
        assert_eq!((name(&store, "n1"), name(&store, "n2")), (Some("b".into()), Some("c".into())));
    }
    assert_eq!(upto(&path), before + 2);
    assert_eq!(log.query_row("SELECT count(*) FROM change_log", [], |r| r.get::<_, i64>(0)).unwrap(), 0, "folded rows are trimmed");
    // As if a crash had come between a fold's commit and its trim.
    append(before + 2, rec(Kind::Network, "n1", "f", "stale", 1, ""));
    {
        let store = Store::open(&resident).unwrap();
        assert_eq!(name(&store, "n1"), Some("b".into()), "a folded row is not applied again");
        insert_rows(&store, vec![rec(Kind::Network, "n3", "f", "d", 3, "")]);
    }
    let store = Store::open(&direct).unwrap();
    assert_eq!(name(&store, "n3"), Some("d".into()), "a change logged after a reopen is folded");
    assert!(upto(&path) > before + 2);
}

/// A log file that belongs to another store (its store file was replaced beside it) is never
/// folded into this one: holding changes, it stops the open with a message; empty, it is taken over.
#[test]
fn a_log_file_of_another_store_is_not_folded() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db").display().to_string();
    let spec = format!("sqlite:{path}");
    insert_rows(&Store::open(&spec).unwrap(), vec![rec(Kind::Network, "n1", "f", "a", 1, "")]);
    let log = rusqlite::Connection::open(log_file::path_of(&path)).unwrap();
    let mut changes = memory::Changes {
        resources: vec![(Kind::Network, "n9".into(), Some(rec(Kind::Network, "n9", "f", "z", 9, "")))],
        ..Default::default()
    };
    log.execute("INSERT INTO change_log (seq, changes) VALUES (1000, ?1)", [change_log::encode(&mut changes).unwrap()]).unwrap();
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{path}{suffix}"));
    }
    let refused = Store::open(&spec).map(|_| ());
    assert!(matches!(&refused, Err(Error::Unavailable(m)) if m.contains("another store") && m.contains("-changes")), "{refused:?}");
    log.execute("DELETE FROM change_log", []).unwrap();
    let store = Store::open(&spec).unwrap();
    assert!(store.read_now(|tx| Ok(tx.get(Kind::Network, "n9")?)).unwrap().is_none());
    insert_rows(&store, vec![rec(Kind::Network, "n2", "f", "b", 2, "")]);
    drop(store);
    let store = Store::open(&format!("{}{path}", super::SQLITE_DIRECT)).unwrap();
    assert!(store.read_now(|tx| Ok(tx.get(Kind::Network, "n2")?)).unwrap().is_some(), "the taken-over log serves the new store");
}

/// No transaction answers from a change that is not committed yet: while the file's write lock is
/// held elsewhere, a write applied in memory waits for its commit, and so does a read that sees it.
#[test]
fn the_resident_store_answers_nothing_before_its_commit() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let store = Store::open(&format!("sqlite:{}", path.display())).unwrap();
    let blocker = rusqlite::Connection::open(log_file::path_of(&path.display().to_string())).unwrap();
    blocker.execute_batch("BEGIN IMMEDIATE").unwrap();
    let (done, answers) = std::sync::mpsc::channel();
    let writer = {
        let (store, done) = (store.clone(), done.clone());
        std::thread::spawn(move || {
            let written = store.write_now(|tx| Ok(tx.insert(rec(Kind::Network, "pending", "f", "", 1, ""))?));
            done.send(("write", written.is_ok())).unwrap();
        })
    };
    // The reader starts once the write is in memory (it then sees the row, or nothing).
    while store.0.progress().unwrap().applied() == 0 {
        std::thread::yield_now();
    }
    let reader = std::thread::spawn(move || {
        let seen = store.read_now(|tx| Ok(tx.get(Kind::Network, "pending")?));
        done.send(("read", seen.is_ok_and(|row| row.is_some()))).unwrap();
    });
    assert!(answers.recv_timeout(std::time::Duration::from_millis(300)).is_err(), "answered before the commit");
    blocker.execute_batch("ROLLBACK").unwrap();
    let mut got = [answers.recv().unwrap(), answers.recv().unwrap()];
    got.sort();
    assert_eq!(got, [("read", true), ("write", true)]);
    writer.join().unwrap();
    reader.join().unwrap();
}

/// A transaction that touches many rows, each more than once, logs each row once, as the
/// transaction left it, and the tables hold that once the file is opened again. (The store file
/// is held while the log row is read, so that no fold trims it first.)
#[test]
fn a_large_transaction_logs_each_row_once_as_it_ended() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db").display().to_string();
    let store = Store::open(&format!("sqlite:{path}")).unwrap();
    let file = rusqlite::Connection::open(&path).unwrap();
    file.execute_batch("BEGIN IMMEDIATE").unwrap();
    let rows = 40;
    store
        .write_now(|tx| {
            for i in 0..rows {
                tx.insert(rec(Kind::Network, &format!("n{i:02}"), "f", "first", i, ""))?;
                tx.claim(&Claim::new("c", format!("k{i:02}"), "o"))?.map_err(Error::Internal)?;
                tx.put_operation(op(&format!("op{i:02}"), "r", i, false, None))?;
            }
            for i in 0..rows {
                tx.update(rec(Kind::Network, &format!("n{i:02}"), "f", "second", i, ""))?;
                if i % 2 == 0 {
                    tx.release("c", &format!("k{i:02}"))?;
                }
                tx.put_operation(op(&format!("op{i:02}"), "r", i, true, None))?;
            }
            Ok(())
        })
        .unwrap();
    let log = rusqlite::Connection::open(log_file::path_of(&path)).unwrap();
    let logged: Vec<Vec<u8>> = {
        let mut st = log.prepare("SELECT changes FROM change_log ORDER BY seq").unwrap();
        st.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect()
    };
    assert_eq!(logged.len(), 1);
    let changes = change_log::decode(&logged[0]).unwrap();
    let names: Vec<(String, String)> =
        changes.resources.into_iter().map(|(_, id, now)| (id, now.map(|r| r.name).unwrap_or_default())).collect();
    assert_eq!(names, (0..rows).map(|i| (format!("n{i:02}"), "second".to_string())).collect::<Vec<_>>());
    let claims: Vec<(String, bool)> = changes.claims.into_iter().map(|(_, key, now)| (key, now.is_some())).collect();
    assert_eq!(claims, (0..rows).map(|i| (format!("k{i:02}"), i % 2 == 1)).collect::<Vec<_>>());
    let done: Vec<(String, bool)> = changes.operations.into_iter().map(|(id, now)| (id, now.is_some_and(|o| o.done))).collect();
    assert_eq!(done, (0..rows).map(|i| (format!("op{i:02}"), true)).collect::<Vec<_>>());
    file.execute_batch("ROLLBACK").unwrap();
    drop(store);
    let reopened = Store::open(&format!("{}{path}", super::SQLITE_DIRECT)).unwrap();
    let (networks, held) = reopened.read_now(|tx| Ok((tx.list(&Query::new(Kind::Network))?, tx.claims_in("c")?))).unwrap();
    assert!(networks.len() == rows as usize && networks.iter().all(|r| r.name == "second"), "{networks:?}");
    assert_eq!(held.len(), rows as usize / 2);
}

/// The transactions one group commit takes are one row of the log file, numbered as the newest
/// of them, and every one of them is in the tables once the file is opened again. (Writes queued
/// while the log file's write lock is held elsewhere all join the group that waits for it; the
/// store file is held too, so that no fold trims the row before it is read.)
#[test]
fn a_group_of_transactions_is_one_row_of_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db").display().to_string();
    let store = Store::open(&format!("sqlite:{path}")).unwrap();
    let log = rusqlite::Connection::open(log_file::path_of(&path)).unwrap();
    let file = rusqlite::Connection::open(&path).unwrap();
    log.execute_batch("BEGIN IMMEDIATE").unwrap();
    file.execute_batch("BEGIN IMMEDIATE").unwrap();
    let writers: Vec<_> = (0..8)
        .map(|i| {
            let store = store.clone();
            std::thread::spawn(move || store.write_now(move |tx| Ok(tx.insert(rec(Kind::Network, &format!("n{i}"), "f", "", i, ""))?)))
        })
        .collect();
    while store.0.progress().unwrap().applied() < 8 {
        std::thread::yield_now();
    }
    // A write queues its change before it lets go of the memory lock: once a read holds that lock,
    // the last of the eight is queued as well.
    let (inside, entered) = std::sync::mpsc::channel();
    let reader = {
        let store = store.clone();
        std::thread::spawn(move || {
            store.read_now(move |_| {
                inside.send(()).unwrap();
                Ok(())
            })
        })
    };
    entered.recv().unwrap();
    log.execute_batch("ROLLBACK").unwrap();
    reader.join().unwrap().unwrap();
    for writer in writers {
        writer.join().unwrap().unwrap();
    }
    let rows: Vec<(i64, Vec<u8>)> = {
        let mut st = log.prepare("SELECT seq, changes FROM change_log ORDER BY seq").unwrap();
        st.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap().map(Result::unwrap).collect()
    };
    file.execute_batch("ROLLBACK").unwrap();
    assert_eq!(rows.len(), 1, "one row for the group");
    assert_eq!(rows[0].0, 8, "numbered as the newest transaction");
    let mut ids: Vec<String> = change_log::decode(&rows[0].1).unwrap().resources.into_iter().map(|(_, id, _)| id).collect();
    ids.sort();
    assert_eq!(ids, (0..8).map(|i| format!("n{i}")).collect::<Vec<_>>());
    drop(store);
    let reopened = Store::open(&format!("{}{path}", super::SQLITE_DIRECT)).unwrap();
    let folded = reopened.read_now(|tx| Ok(tx.list(&Query::new(Kind::Network))?)).unwrap();
    assert_eq!(folded.len(), 8);
}

/// When the log cannot take a change the memory already holds, the store stops: nothing more is
/// answered from a state the file does not have, and a restart reads the file again.
#[test]
fn the_resident_store_stops_when_its_log_fails() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let store = Store::open(&format!("sqlite:{}", path.display())).unwrap();
    insert_rows(&store, vec![rec(Kind::Network, "kept", "f", "", 1, "")]);
    // Reopened, the file folds its log into the tables; then the log cannot take the next change.
    drop(store);
    let store = Store::open(&format!("sqlite:{}", path.display())).unwrap();
    let outsider = rusqlite::Connection::open(log_file::path_of(&path.display().to_string())).unwrap();
    outsider.execute_batch("PRAGMA busy_timeout = 5000; DROP TABLE change_log").unwrap();
    let refused = store.write_now(|tx| Ok(tx.insert(rec(Kind::Network, "lost", "f", "", 2, ""))?));
    assert!(matches!(refused, Err(Error::Storage(_))), "{refused:?}");
    outsider.execute_batch("CREATE TABLE change_log (seq INTEGER PRIMARY KEY, changes BLOB NOT NULL)").unwrap();
    let later = store.read_now(|tx| Ok(tx.get(Kind::Network, "kept")?));
    assert!(matches!(&later, Err(Error::Storage(m)) if m.contains("restart")), "{later:?}");
    drop(store);
    let reopened = Store::open(&format!("sqlite:{}", path.display())).unwrap();
    assert!(reopened.read_now(|tx| Ok(tx.get(Kind::Network, "kept")?)).unwrap().is_some());
    assert!(reopened.read_now(|tx| Ok(tx.get(Kind::Network, "lost")?)).unwrap().is_none(), "an unacknowledged change came back");
}

/// Claims as releases before the claim columns wrote them: data packed into the owner.
const PACKED_CLAIMS: &str = "INSERT INTO claims (scope, key, owner) VALUES
    ('idempotency', 'alice/m/k', 'op1 f00d 4102444800000000'),
    ('iam/tokens', 't1.abc', '4102444800000000 alice smith'),
    ('subnet/s1/ip#lowest', '', '10.0.0.7'),
    ('subnet/s1/ip', '10.0.0.3', 'compute.instance:i1')";

/// The migration moves what was packed into owners to the claim's own columns.
fn packed_claims_move_to_columns(store: Store) {
    let at = |scope: &str, key: &str| store.read_now(|tx| Ok(tx.claim_at(scope, key)?)).unwrap().expect("still there");
    assert_eq!(
        at("idempotency", "alice/m/k"),
        Claim::new("idempotency", "alice/m/k", "op1").with_detail("f00d").expiring_at(4_102_444_800_000_000)
    );
    assert_eq!(at("iam/tokens", "t1.abc"), Claim::new("iam/tokens", "t1.abc", "alice smith").expiring_at(4_102_444_800_000_000));
    assert_eq!(at("subnet/s1/ip#lowest", ""), Claim::new("subnet/s1/ip#lowest", "", "netplane.allocator").with_detail("10.0.0.7"));
    assert_eq!(
        at("subnet/s1/ip", "10.0.0.3"),
        Claim::new("subnet/s1/ip", "10.0.0.3", "compute.instance:i1"),
        "other claims stay as they were"
    );
}

#[test]
fn sqlite_claims_written_before_version_4_move_to_columns() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v3.db");
    {
        let mut conn = rusqlite::Connection::open(&path).unwrap();
        super::sqlite::migrate_to(&mut conn, 3);
        conn.execute_batch(PACKED_CLAIMS).unwrap();
    }
    packed_claims_move_to_columns(Store::open(&format!("sqlite:{}", path.display())).unwrap());
}

#[test]
fn postgres_claims_written_before_version_3_move_to_columns() {
    let url = postgres_database("packed_claims");
    let mut client = ::postgres::Client::connect(&url, ::postgres::NoTls).unwrap();
    super::postgres::migrate_to(&mut client, 2);
    client.batch_execute(PACKED_CLAIMS).unwrap();
    drop(client);
    packed_claims_move_to_columns(Store::open(&url).unwrap());
}
