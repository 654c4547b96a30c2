use super::*;
use crate::state::breaker::Circuit;
use crate::state::budget::Budget;

fn store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::create(&dir.path().join("state")).unwrap();
    (dir, store)
}

fn bump(store: &Store) -> Updated<u64> {
    store
        .update(&Key::Budget, |b: Budget| {
            let spent = b.spent + 1;
            (Budget { spent, ..b }, spent)
        })
        .unwrap()
}

#[test]
fn an_update_round_trips_through_a_versioned_file() {
    let (_dir, store) = store();
    assert_eq!(bump(&store).value, 1);
    assert_eq!(bump(&store).value, 2);
    let text = fs::read_to_string(store.path(&Key::Budget)).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(json["version"], 1);
    assert_eq!(json["spent"], 2);
}

#[test]
fn bad_files_are_a_warning_and_a_fresh_state() {
    let cases = [
        ("corrupt", "{{{ not json", "is not valid JSON"),
        (
            "truncated",
            "{\"version\": 1, \"spent\": 4",
            "is not valid JSON",
        ),
        ("empty", "", "is not valid JSON"),
        (
            "future",
            "{\"version\": 99, \"spent\": 4}",
            "has version 99, newer",
        ),
        ("no version", "{\"spent\": 4}", "has no version"),
        (
            "wrong shape",
            "{\"version\": 1, \"spent\": \"x\"}",
            "is malformed",
        ),
    ];
    for (what, text, problem) in cases {
        let (_dir, store) = store();
        fs::write(store.path(&Key::Budget), text).unwrap();
        let (budget, damaged) = store.read::<Budget>(&Key::Budget).unwrap();
        assert_eq!(budget, Budget::default(), "{what}");
        let damaged = damaged.unwrap_or_else(|| panic!("{what}: no warning"));
        assert!(damaged.problem.starts_with(problem), "{what}: {damaged}");
        assert!(damaged.to_string().ends_with("starting from a fresh state"));
        if what == "future" {
            // A newer recover's file is left alone: an update is an error, the file stays.
            let error = store.update(&Key::Budget, |b: Budget| (b, ())).unwrap_err();
            assert!(
                error
                    .to_string()
                    .ends_with("leaving it to the newer recover"),
                "{error}"
            );
            assert_eq!(fs::read_to_string(store.path(&Key::Budget)).unwrap(), text);
            continue;
        }
        // An update starts fresh and replaces the bad file with a good one.
        let updated = bump(&store);
        assert_eq!(updated.value, 1, "{what}");
        assert!(updated.damaged.is_some(), "{what}");
        assert_eq!(
            store.read::<Budget>(&Key::Budget).unwrap().1,
            None,
            "{what}"
        );
    }
}

#[test]
fn a_file_over_the_size_limit_is_a_warning_and_a_fresh_state_and_is_replaced() {
    let (_dir, store) = store();
    let path = store.path(&Key::Budget);
    let big = format!(
        "{{\"version\": 1, \"spent\": 4, \"pad\": \"{}\"}}",
        "x".repeat(usize::try_from(MAX_FILE_BYTES).unwrap())
    );
    fs::write(&path, &big).unwrap();
    let (budget, damaged) = store.read::<Budget>(&Key::Budget).unwrap();
    assert_eq!(budget, Budget::default());
    let damaged = damaged.unwrap();
    assert!(
        damaged.problem.contains("larger than the 1048576 bytes"),
        "{damaged}"
    );
    assert_eq!(bump(&store).value, 1);
    assert!(fs::metadata(&path).unwrap().len() < 1000);
    // At the limit exactly, the file is read (and here is valid).
    let at_limit = format!(
        "{{\"version\": 1, \"limit\": 9, \"spent\": 4}}{}",
        " ".repeat(1 << 20)
    );
    fs::write(&path, &at_limit.as_bytes()[..1 << 20]).unwrap();
    let (budget, damaged) = store.read::<Budget>(&Key::Budget).unwrap();
    assert_eq!((budget.spent, damaged), (4, None));
}

#[test]
fn what_is_not_a_regular_file_is_an_error_and_is_left_alone() {
    let (_dir, store) = store();
    let path = store.path(&Key::Budget);
    fs::create_dir(&path).unwrap();
    let error = store.read::<Budget>(&Key::Budget).unwrap_err();
    assert!(
        error.to_string().starts_with("cannot read state file"),
        "{error}"
    );
    assert!(store.update(&Key::Budget, |b: Budget| (b, ())).is_err());
    assert!(path.is_dir());
    #[cfg(unix)]
    {
        fs::remove_dir(&path).unwrap();
        nix::unistd::mkfifo(&path, nix::sys::stat::Mode::S_IRWXU).unwrap();
        // Opening a FIFO for reading would wait for a writer forever.
        let error = store.read::<Budget>(&Key::Budget).unwrap_err();
        let cause = std::error::Error::source(&error).unwrap().to_string();
        assert_eq!(cause, "not a regular file");
    }
}

#[test]
fn try_lock_says_when_another_holder_has_the_lock() {
    let (_dir, store) = store();
    let held = store.try_lock(&Key::Budget).unwrap().expect("free");
    assert!(store.try_lock(&Key::Budget).unwrap().is_none());
    drop(held);
    assert!(store.try_lock(&Key::Budget).unwrap().is_some());
}

#[test]
fn an_unwritable_directory_is_an_error_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    fs::write(&file, "").unwrap();
    let error = Store::create(&file.join("state")).unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("cannot create the state directory"),
        "{error}"
    );
    // A store whose directory vanished cannot lock, and says which file.
    let store = Store::existing(&file.join("gone"));
    let error = store
        .update(&Key::Circuit("db".into()), |c: Circuit| (c, ()))
        .unwrap_err();
    assert!(
        error.to_string().starts_with("cannot lock state file"),
        "{error}"
    );
}

#[test]
fn threads_updating_at_once_lose_no_update() {
    let (_dir, store) = store();
    std::thread::scope(|scope| {
        for _ in 0..8 {
            scope.spawn(|| {
                for _ in 0..25 {
                    bump(&store);
                }
            });
        }
    });
    let (budget, _) = store.read::<Budget>(&Key::Budget).unwrap();
    assert_eq!(budget.spent, 200);
}

#[test]
fn circuits_are_listed_and_removed_by_name() {
    let (_dir, store) = store();
    for name in ["web", "db"] {
        store
            .update(&Key::Circuit(name.into()), |c: Circuit| {
                let failures = c.consecutive_failures + 1;
                (
                    Circuit {
                        consecutive_failures: failures,
                        ..c
                    },
                    (),
                )
            })
            .unwrap();
    }
    assert_eq!(store.circuits().unwrap(), vec!["db", "web"]);
    assert!(store.remove(&Key::Circuit("db".into())).unwrap());
    assert!(!store.remove(&Key::Circuit("db".into())).unwrap());
    assert_eq!(store.circuits().unwrap(), vec!["web"]);
    assert!(
        Store::existing(Path::new("/nonexistent/x"))
            .circuits()
            .unwrap()
            .is_empty()
    );
}

#[test]
fn circuit_names_are_safe_file_names() {
    for good in ["db", "npm-registry", "a.b_c-1", &"x".repeat(100)] {
        assert!(is_valid_name(good), "{good}");
    }
    for bad in [
        "",
        ".hidden",
        "a/b",
        "..",
        "a b",
        "é",
        "a\\b",
        &"x".repeat(101),
    ] {
        assert!(!is_valid_name(bad), "{bad}");
    }
}
