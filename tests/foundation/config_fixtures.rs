//! Every file in tests/valid_configs loads; every file in tests/invalid_configs fails with a
//! message naming the key (given on the file's first line as `# key: …`) and the file.

use std::path::{Path, PathBuf};

use ferry::config::Config;

use crate::support::env::FerryEnv;

fn fixtures(dir: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join(dir);
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("fixture dir")
        .map(|e| e.expect("entry").path())
        .collect();
    files.sort();
    assert!(!files.is_empty());
    files
}

#[test]
fn valid_configs_load() {
    for file in fixtures("valid_configs") {
        Config::load(&file, true).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    }
}

#[test]
fn example_config_documents_the_defaults() {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("config.example.toml");
    let text = std::fs::read_to_string(&example).expect("config.example.toml");
    let is_setting = |l: &str| {
        l.split_once(" = ")
            .is_some_and(|(k, _)| k.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
    };
    let uncommented: String = text
        .lines()
        .map(|l| l.strip_prefix("# ").filter(|l| is_setting(l)).unwrap_or(l))
        .filter(|l| !l.starts_with('#'))
        .collect::<Vec<_>>()
        .join("\n");
    assert!(uncommented.contains("timeout = "), "{uncommented}");
    let parsed = Config::parse(&uncommented, &example).expect("example parses");
    assert_eq!(parsed, Config::default());
}

#[test]
fn invalid_configs_name_key_and_file() {
    for file in fixtures("invalid_configs") {
        let text = std::fs::read_to_string(&file).expect("read");
        let key = text
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("# key: "))
            .unwrap_or_else(|| panic!("{} must start with `# key: …`", file.display()));
        let err = Config::load(&file, true)
            .expect_err("must fail")
            .to_string();
        assert!(
            err.contains(&format!("`{key}`")),
            "{}: {err}",
            file.display()
        );
        assert!(err.contains(&file.display().to_string()), "{err}");
    }
}

#[test]
fn broken_config_stops_the_binary_with_one_line() {
    let env = FerryEnv::new();
    env.write_config("[connection]\ntimeout = \"forever\"\n");
    let err = env.fails(env.ferry(&["profile", "list"]));
    assert!(err.contains("connection.timeout"), "{err}");
    assert!(err.contains("config.toml"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
}

#[test]
fn missing_default_config_means_defaults_but_named_one_must_exist() {
    let env = FerryEnv::new();
    std::fs::remove_file(env.config_file()).expect("rm");
    let err = env.fails(env.ferry(&["profile", "list"]));
    assert!(err.contains("cannot read config file"), "{err}");
    let mut cmd = env.ferry(&["profile", "list"]);
    cmd.env_remove("FERRY_CONFIG")
        .env("XDG_CONFIG_HOME", env.dir.path().join("nowhere"));
    env.ok(cmd);
}
