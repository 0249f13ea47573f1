//! A staged app for key-sequence tests and snapshots: the engine's answers written by hand, with
//! fixed paths, profiles, listings and a fixed clock, so screens are the same on every machine.

use ferry::engine::api::{
    Event, Place, ProfileSummary, QueueSnapshot, Request, Response, Settings, TestReport,
    TransferView, VaultState,
};
use ferry::profile::{HostKeyPolicy, Profile, Protocol};
use ferry::remote::{Entry, EntryKind, HopInfo, SessionInfo};
use ferry::transfer::copy::Verification;
use ferry::transfer::model::{Direction, ItemKind, OverwritePolicy, Transfer, TransferState};
use ferry::tui::msg::Input;

use crate::harness::{NOW, Staged, start};

pub const REPORTS: &str = "/home/ops/reports";

fn entry(name: &str, kind: EntryKind, size: u64, age_days: i64) -> Entry {
    Entry {
        size,
        mtime: Some(NOW - age_days * 86_400 - 3_600),
        permissions: Some(if kind == EntryKind::Dir { 0o755 } else { 0o644 }),
        owner: Some("ops".into()),
        group: Some("ops".into()),
        ..Entry::new(name, kind)
    }
}

/// The local directory the app starts in.
pub fn local_entries() -> Vec<Entry> {
    vec![
        entry("2026-11", EntryKind::Dir, 0, 3),
        entry("daily-1201.csv", EntryKind::File, 48 * 1024, 2),
        entry("daily-1202.csv", EntryKind::File, 51 * 1024, 1),
        entry("notes.txt", EntryKind::File, 1024, 40),
        entry(".hidden", EntryKind::File, 10, 400),
    ]
}

/// The server directory `web` starts in.
pub fn remote_entries() -> Vec<Entry> {
    let mut entries = vec![entry("archive", EntryKind::Dir, 0, 3)];
    for day in 26..=30 {
        entries.push(entry(
            &format!("daily-11{day}.csv"),
            EntryKind::File,
            47 * 1024 + day,
            31 - day as i64,
        ));
    }
    entries
}

fn profile(name: &str, protocol: Protocol, host: &str, user: &str, dir: Option<&str>) -> Profile {
    let mut profile = Profile::new(name, protocol, host, protocol.default_port(), user);
    profile.remote_dir = dir.map(String::from);
    profile.created_at = NOW - 86_400;
    profile.updated_at = NOW - 86_400;
    profile
}

pub fn profiles() -> Vec<ProfileSummary> {
    let mut backup = profile("backup", Protocol::Sftp, "backup.lan", "root", None);
    backup.key_file = Some("/home/ops/.ssh/id_ed25519".into());
    backup.agent = true;
    backup.host_key_policy = HostKeyPolicy::Strict;
    vec![
        ProfileSummary {
            profile: backup,
            has_password: false,
            has_key_passphrase: false,
        },
        ProfileSummary {
            profile: profile("files", Protocol::Ftps, "ftp.example.com", "bob", None),
            has_password: true,
            has_key_passphrase: false,
        },
        ProfileSummary {
            profile: profile(
                "web",
                Protocol::Sftp,
                "10.0.0.5",
                "deploy",
                Some("/srv/www"),
            ),
            has_password: true,
            has_key_passphrase: false,
        },
    ]
}

fn listing(entries: Vec<Entry>, path: &str) -> Vec<Response> {
    let count = entries.len();
    vec![
        Response::Entries { entries },
        Response::Listed {
            path: path.to_string(),
            count,
            refused: Vec::new(),
        },
    ]
}

/// Answers what the app asks at start: vault unlocked, three profiles, the listings.
pub fn staged(size: (u16, u16)) -> Staged {
    let mut staged = Staged::new(start(REPORTS, size));
    answer_start(
        &mut staged,
        VaultState::Unlocked {
            by: "passphrase (Argon2id, 64 MiB, 3 passes)".into(),
        },
    );
    staged
}

pub fn answer_start(staged: &mut Staged, vault: VaultState) {
    staged.answer(
        |r| matches!(r, Request::Vault),
        |_| {
            vec![Response::Vault {
                state: vault.clone(),
            }]
        },
    );
    staged.answer(
        |r| matches!(r, Request::Profiles),
        |_| {
            vec![Response::Profiles {
                profiles: profiles(),
            }]
        },
    );
    staged.answer(
        |r| matches!(r, Request::Settings),
        |_| {
            vec![Response::Settings {
                settings: Settings {
                    bandwidth_limit: 0,
                    max_concurrent: 5,
                    verify_checksum: true,
                    atomic: true,
                    store: "/home/ops/.local/share/ferry/ferry.redb".into(),
                },
            }]
        },
    );
    staged.answer(
        |r| matches!(r, Request::Questions),
        |_| {
            vec![Response::Questions {
                pending: Vec::new(),
            }]
        },
    );
    answer_lists(staged);
}

/// Answers every listing asked for: the reports directory here, `web`'s start on the server.
pub fn answer_lists(staged: &mut Staged) {
    staged.answer(
        |r| matches!(r, Request::List { .. }),
        |r| match r {
            Request::List {
                place: Place::Local,
                path,
            } if path == REPORTS => listing(local_entries(), path),
            Request::List {
                place: Place::Profile(_),
                path,
            } if path == "/srv/www" => listing(remote_entries(), path),
            Request::List { path, .. } => listing(Vec::new(), path),
            _ => Vec::new(),
        },
    );
}

/// Connects the explorer's right pane to `web` (a new session) and lists it.
pub fn connect_web(staged: &mut Staged) {
    staged.keys(&["o"]);
    staged.type_text("web");
    staged.keys(&["enter"]);
    staged.answer(
        |r| matches!(r, Request::Open { .. }),
        |r| {
            let Request::Open { place } = r else {
                unreachable!()
            };
            vec![Response::Opened {
                place: place.clone(),
                start: "/srv/www".into(),
                info: SessionInfo::default(),
            }]
        },
    );
    answer_lists(staged);
}

fn view(
    id: u64,
    state: TransferState,
    name: &str,
    done: u64,
    total: u64,
    rate: u64,
) -> TransferView {
    TransferView {
        id,
        batch: 7,
        direction: Direction::Upload,
        profile: "backup".into(),
        peer: None,
        source: format!("/home/ops/images/{name}"),
        destination: format!("/img/{name}"),
        state,
        done,
        total,
        rate,
        eta_secs: (rate > 0).then(|| (total - done) / rate),
        attempts: if state == TransferState::Queued && done > 0 {
            2
        } else {
            1
        },
        error: None,
    }
}

pub fn finished(id: u64, state: TransferState, name: &str) -> Transfer {
    Transfer {
        id,
        batch: 6,
        direction: Direction::Upload,
        kind: ItemKind::File,
        profile: "web".into(),
        peer: None,
        local_path: format!("{REPORTS}/{name}"),
        remote_path: format!("/srv/www/{name}"),
        state,
        overwrite: OverwritePolicy::Overwrite,
        limit: 0,
        source_size: 51 * 1024,
        source_mtime: Some(NOW - 86_400),
        offset: 51 * 1024,
        bytes_sent: 51 * 1024,
        attempts: 1,
        error: (state == TransferState::Failed).then(|| ferry::remote::RemoteError {
            kind: ferry::remote::ErrorKind::Permission,
            endpoint: ferry::remote::Endpoint {
                profile: "web".into(),
                address: "10.0.0.5:22".into(),
            },
            path: Some(format!("/srv/www/{name}")),
            detail: String::new(),
        }),
        verification: (state == TransferState::Done).then(|| Verification::Sha256("ab".repeat(32))),
        position: id,
        created_us: (NOW as u64 - 600) * 1_000_000,
        started_us: Some((NOW as u64 - 590) * 1_000_000),
        finished_us: Some((NOW as u64 - 580) * 1_000_000),
        duration_ms: 900,
        run_id: None,
        segments: Vec::new(),
    }
}

/// Transfers running, waiting and finished, as the Queue tab and the dashboard show them.
pub fn busy_queue(staged: &mut Staged) {
    const GIB: u64 = 1 << 30;
    let rows = vec![
        view(
            41,
            TransferState::Running,
            "vm-01.qcow2",
            2 * GIB,
            3 * GIB,
            61 << 20,
        ),
        view(
            42,
            TransferState::Running,
            "vm-02.qcow2",
            GIB,
            3 * GIB,
            27 << 20,
        ),
        view(43, TransferState::Queued, "vm-03.qcow2", 0, 2 * GIB, 0),
    ];
    let snapshot = QueueSnapshot {
        transfers: rows.clone(),
        running: 2,
        queued: 1,
        paused: 0,
        total: 3,
        rate: 88 << 20,
        done_bytes: 3 * GIB,
        total_bytes: 8 * GIB,
        limit: 0,
    };
    for (n, rate) in [20u64, 40, 60, 88, 80, 90, 88].iter().enumerate() {
        let _ = n;
        staged.app.queue.sample(rate << 20, NOW - 7 + n as i64);
    }
    staged.input(Input::Progress(snapshot));
    for transfer in [
        finished(30, TransferState::Done, "daily-1202.csv"),
        finished(31, TransferState::Failed, "x.bin"),
    ] {
        staged.input(Input::Engine(Event::Finished { transfer }));
    }
    staged.answer(
        |r| matches!(r, Request::QueueWindow { .. }),
        |r| {
            let Request::QueueWindow { start, .. } = r else {
                unreachable!()
            };
            vec![Response::QueueWindow {
                start: *start,
                total: rows.len(),
                transfers: rows.iter().skip(*start).cloned().collect(),
            }]
        },
    );
}

/// The history the dashboard shows.
pub fn history(staged: &mut Staged) {
    let transfers = vec![
        finished(30, TransferState::Done, "daily-1202.csv"),
        finished(29, TransferState::Done, "daily-1201.csv"),
        finished(31, TransferState::Failed, "x.bin"),
    ];
    staged.answer(
        |r| matches!(r, Request::History { .. }),
        |_| {
            vec![Response::History {
                transfers: transfers.clone(),
            }]
        },
    );
}

/// A finished test of `web`.
pub fn tested_web(staged: &mut Staged) {
    staged.answer(
        |r| matches!(r, Request::Test { .. }),
        |_| {
            vec![Response::Tested {
                report: Box::new(TestReport {
                    profile: "web".into(),
                    address: "10.0.0.5:22".into(),
                    ok: true,
                    connect_ms: Some(91),
                    banner: Some("SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3".into()),
                    host_key: Some(
                        "ssh-ed25519 SHA256:vqgtz04CGTeGphHzapNjoW8eX2rOoPNq0e0z7Y3t5g8".into(),
                    ),
                    certificate: None,
                    auth_method: Some("password".into()),
                    security: Some("aes128-gcm@openssh.com".into()),
                    home: Some("/home/deploy".into()),
                    free_bytes: Some(78 << 30),
                    error: None,
                    hops: Vec::new(),
                }),
            }]
        },
    );
}

/// A finished test of `web` through two jump hosts.
pub fn tested_web_through_jumps(staged: &mut Staged) {
    let hop = |name: &str, address: &str, fingerprint: &str, millis| HopInfo {
        name: name.into(),
        address: address.into(),
        host_key: Some(("ssh-ed25519".into(), fingerprint.into())),
        millis,
    };
    staged.answer(
        |r| matches!(r, Request::Test { .. }),
        |_| {
            vec![Response::Tested {
                report: Box::new(TestReport {
                    profile: "web".into(),
                    address: "10.0.0.5:22".into(),
                    ok: true,
                    connect_ms: Some(212),
                    banner: Some("SSH-2.0-OpenSSH_9.2p1".into()),
                    host_key: Some(
                        "ssh-ed25519 SHA256:vqgtz04CGTeGphHzapNjoW8eX2rOoPNq0e0z7Y3t5g8".into(),
                    ),
                    auth_method: Some("password".into()),
                    home: Some("/home/deploy".into()),
                    hops: vec![
                        hop(
                            "bastion",
                            "203.0.113.7:22",
                            "SHA256:Zk1Q8m4mXw0yTtGq3Rr1o2kXo9vWc6hY7bN5pJ2sLdE",
                            41,
                        ),
                        hop(
                            "ops@gw:2222",
                            "gw:2222",
                            "SHA256:3fK9xQ0bV7nW2mR5tY8uI1oP4aS6dF9gH2jK5lZ8cXv",
                            63,
                        ),
                    ],
                    ..TestReport::default()
                }),
            }]
        },
    );
}
