//! ferry's own known_hosts file: learning keys and forgetting them, never touching the user's.

use super::*;

#[test]
fn learned_key_is_known_from_the_own_file() {
    let setup = Setup::new(&[format!("alpha {ECDSA_256}")]);
    let mut hosts = setup.load();
    let own = setup.own_file();
    hosts.learn("Alpha", 22, &key(ED25519_A)).expect("learn");
    hosts.learn("alpha", 2222, &key(ED25519_B)).expect("learn");
    assert_eq!(hosts.check("alpha", 22, &key(ED25519_A)), known(&own, 1));
    assert_eq!(hosts.check("alpha", 2222, &key(ED25519_B)), known(&own, 2));

    let mode = |path: &Path| fs::metadata(path).expect("stat").permissions().mode() & 0o777;
    assert_eq!(mode(&own), 0o600);
    assert_eq!(mode(own.parent().expect("own dir")), 0o700);
    assert_eq!(
        fs::read_to_string(&own).expect("read own file"),
        format!("alpha {ED25519_A}\n[alpha]:2222 {ED25519_B}\n")
    );

    let reloaded = setup.load();
    assert_eq!(reloaded.check("alpha", 22, &key(ED25519_A)), known(&own, 1));
    assert_eq!(
        reloaded.check("alpha", 2222, &key(ED25519_B)),
        known(&own, 2)
    );
}

#[test]
fn learning_twice_writes_one_line() {
    let setup = Setup::new(&[]);
    let mut hosts = setup.load();
    hosts.learn("alpha", 22, &key(RSA)).expect("learn");
    hosts.learn("alpha", 22, &key(RSA)).expect("learn again");
    let text = fs::read_to_string(setup.own_file()).expect("read own file");
    assert_eq!(text, format!("alpha {RSA}\n"));
}

#[test]
fn learn_ends_an_unterminated_last_line_first() {
    let setup = Setup::new(&[]);
    let own = setup.own_file();
    fs::create_dir_all(own.parent().expect("own dir")).expect("mkdir");
    fs::write(&own, format!("# kept\nbeta {ECDSA_256}")).expect("write own file");
    let mut hosts = setup.load();
    hosts.learn("alpha", 22, &key(ED25519_A)).expect("learn");
    assert_eq!(
        fs::read_to_string(&own).expect("read own file"),
        format!("# kept\nbeta {ECDSA_256}\nalpha {ED25519_A}\n")
    );
    assert_eq!(hosts.check("alpha", 22, &key(ED25519_A)), known(&own, 3));
    assert_eq!(hosts.check("beta", 22, &key(ECDSA_256)), known(&own, 2));
}

#[test]
fn learn_never_touches_the_user_file() {
    let setup = Setup::new(&[format!("alpha {ED25519_A}"), "# note".into()]);
    let before = fs::read(setup.user_file()).expect("read user file");
    let mut hosts = setup.load();
    hosts.learn("alpha", 22, &key(ED25519_B)).expect("learn");
    hosts.learn("beta", 2222, &key(RSA)).expect("learn");
    assert_eq!(fs::read(setup.user_file()).expect("read user file"), before);
    assert_eq!(
        hosts.check("alpha", 22, &key(ED25519_B)),
        known(&setup.own_file(), 1)
    );
}

#[test]
fn learn_refuses_revoked_keys_and_pattern_characters() {
    let setup = Setup::new(&[format!("@revoked alpha {ED25519_A}")]);
    let mut hosts = setup.load();
    let err = hosts
        .learn("alpha", 22, &key(ED25519_A))
        .expect_err("revoked key");
    assert!(
        matches!(err, HostKeyError::Revoked { line: 1, .. }),
        "{err}"
    );
    for host in [
        "",
        "a b",
        "a,b",
        "*.example.com",
        "!a",
        "[a]:22",
        "#a",
        "@revoked",
        "a\nb",
    ] {
        let err = hosts
            .learn(host, 22, &key(ED25519_B))
            .expect_err("invalid host");
        assert!(
            matches!(err, HostKeyError::InvalidHost { .. }),
            "{host:?}: {err}"
        );
    }
    assert!(!setup.own_file().exists());
}

#[test]
fn forget_removes_own_entries_only() {
    let setup = Setup::new(&[format!("alpha {ED25519_A}")]);
    let user_before = fs::read(setup.user_file()).expect("read user file");
    let own = setup.own_file();
    fs::create_dir_all(own.parent().expect("own dir")).expect("mkdir");
    let own_text = [
        format!("alpha {ECDSA_256}"),
        "# keep this comment".into(),
        format!("[alpha]:2222 {ED25519_B}"),
        format!("alpha,beta {RSA}"),
        format!("@revoked alpha {ED25519_B}"),
        format!("{HASHED_22} {ED25519_A}"),
    ]
    .join("\n");
    fs::write(&own, format!("{own_text}\n")).expect("write own file");
    let mut hosts = setup.load();

    assert_eq!(hosts.forget("alpha", 22).expect("forget"), 2);
    assert_eq!(
        fs::read_to_string(&own).expect("read own file"),
        format!(
            "# keep this comment\n[alpha]:2222 {ED25519_B}\n@revoked alpha {ED25519_B}\n\
             {HASHED_22} {ED25519_A}\n"
        )
    );
    assert_eq!(fs::read(setup.user_file()).expect("read user"), user_before);
    let mode = fs::metadata(&own).expect("stat").permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);

    // The user's entry still answers for alpha; the own file's lines are renumbered.
    assert_eq!(
        hosts.check("alpha", 22, &key(RSA)),
        unknown(&["ssh-ed25519"])
    );
    assert_eq!(hosts.check("alpha", 2222, &key(ED25519_B)), known(&own, 2));
    assert_eq!(hosts.forget("hashed.example.org", 22).expect("forget"), 1);
    assert_eq!(hosts.forget("hashed.example.org", 22).expect("forget"), 0);
    assert_eq!(hosts.forget("gamma", 22).expect("forget"), 0);
    assert!(
        fs::read_dir(own.parent().expect("own dir"))
            .expect("list")
            .all(|e| !e
                .expect("entry")
                .file_name()
                .to_string_lossy()
                .contains("tmp"))
    );
}

#[test]
fn forget_without_an_own_file_removes_nothing() {
    let setup = Setup::new(&[format!("alpha {ED25519_A}")]);
    let mut hosts = setup.load();
    assert_eq!(hosts.forget("alpha", 22).expect("forget"), 0);
    assert!(!setup.own_file().exists());
}
