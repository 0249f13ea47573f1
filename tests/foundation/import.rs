//! `ferry profile import-ssh-config` with a fixture that has Include, wildcards and IdentityFile.

use crate::support::env::FerryEnv;

fn write_fixture(env: &FerryEnv) {
    let ssh = env.home().join(".ssh");
    std::fs::create_dir_all(ssh.join("conf.d")).expect("mkdir");
    std::fs::write(ssh.join("id_web"), "not parsed at import time").expect("key");
    std::fs::write(
        ssh.join("config"),
        "# main config\n\
         Include conf.d/*.conf\n\
         Host web\n    HostName 10.0.0.5\n    User deploy\n    Port 2222\n    IdentityFile ~/.ssh/id_web\n\
         Host *.internal !bastion.internal\n    User ops\n\
         Host gone\n    IdentityFile ~/.ssh/missing_key\n\
         Host *\n    User fallback\n",
    )
    .expect("config");
    std::fs::write(
        ssh.join("conf.d/db.conf"),
        "Host db db2\n    HostName db.example.com\n",
    )
    .expect("include");
}

#[test]
fn imports_concrete_hosts_and_reports_the_rest() {
    let env = FerryEnv::new();
    write_fixture(&env);
    let dry = env.ok(env.ferry(&["profile", "import-ssh-config", "--dry-run"]));
    assert!(dry.contains("would import web"), "{dry}");
    assert!(dry.contains("skipped pattern *.internal"), "{dry}");
    assert!(dry.contains("skipped gone: IdentityFile"), "{dry}");
    let list = env.ok(env.ferry(&["profile", "list"]));
    assert!(
        list.contains("no profiles"),
        "dry run changed nothing: {list}"
    );

    let out = env.ok(env.ferry(&["profile", "import-ssh-config"]));
    assert!(out.contains("imported db"), "{out}");
    let json: serde_json::Value =
        serde_json::from_str(&env.ok(env.ferry(&["profile", "list", "--json"]))).expect("json");
    let profiles = json.as_array().expect("array");
    let names: Vec<&str> = profiles
        .iter()
        .map(|p| p["name"].as_str().expect("n"))
        .collect();
    assert_eq!(names, ["db", "db2", "web"]);
    let web = &profiles[2];
    assert_eq!(web["host"], "10.0.0.5");
    assert_eq!(web["port"], 2222);
    assert_eq!(web["user"], "deploy");
    assert!(
        web["key_file"]
            .as_str()
            .expect("key")
            .ends_with(".ssh/id_web")
    );
    let db = &profiles[0];
    assert_eq!(db["host"], "db.example.com");
    assert_eq!(db["user"], "fallback", "Host * supplies the user");
    assert_eq!(db["agent"], true, "no IdentityFile: the agent");
    assert_eq!(db["protocol"], "sftp");

    let again = env.ok(env.ferry(&["profile", "import-ssh-config"]));
    assert!(
        again.contains("skipped web: a profile with this name exists"),
        "{again}"
    );
    let replaced = env.ok(env.ferry(&["profile", "import-ssh-config", "--replace"]));
    assert!(replaced.contains("imported web"), "{replaced}");
    let json: serde_json::Value =
        serde_json::from_str(&env.ok(env.ferry(&["profile", "list", "--json"]))).expect("json");
    assert_eq!(json.as_array().expect("array").len(), 3);
}

#[test]
fn explicit_file_that_does_not_exist_is_an_error() {
    let env = FerryEnv::new();
    let err = env.fails(env.ferry(&[
        "profile",
        "import-ssh-config",
        "--file",
        "/nonexistent/config",
    ]));
    assert!(
        err.contains("cannot read ssh config /nonexistent/config"),
        "{err}"
    );
}
