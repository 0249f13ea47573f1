//! Every tab and dialog at 80×24 and 120×35, with a fixed clock and fixed paths (the staged
//! app's), as insta snapshots. NO_COLOR styling, so the text is the whole picture.

use ferry::engine::api::{Event, Question, Refusal, Request, Response, VaultState};
use ferry::remote::Endpoint;
use ferry::remote::ftp::CertificateInfo;
use ferry::remote::trust::{CertificateQuestion, HostKeyQuestion, HostKeyRefusal};
use ferry::transfer::conflict::Conflict;
use ferry::transfer::model::Direction;
use ferry::tui::msg::Input;

use crate::harness::{NOW, Staged, start};
use crate::stage::{
    REPORTS, answer_start, busy_queue, connect_web, history, staged, tested_web,
    tested_web_through_jumps,
};

const SIZES: [(u16, u16); 2] = [(80, 24), (120, 35)];

/// Snapshots the screen `stage` leaves at each size.
fn snap(name: &str, stage: impl Fn(&mut Staged)) {
    for size in SIZES {
        let mut staged = staged(size);
        stage(&mut staged);
        let screen = staged.screen();
        insta::assert_snapshot!(format!("{name}_{}x{}", size.0, size.1), screen);
    }
}

fn web_endpoint() -> Endpoint {
    Endpoint {
        profile: "web".into(),
        address: "10.0.0.5:22".into(),
    }
}

fn question(staged: &mut Staged, question: Question) {
    staged.input(Input::Engine(Event::Question { id: 5, question }));
}

#[test]
fn explorer_local() {
    snap("explorer_local", |_| {});
}

#[test]
fn explorer_local_and_remote_with_marks() {
    snap("explorer_remote", |s| {
        connect_web(s);
        s.keys(&["tab", "j", "j", "space", "space"]);
    });
}

#[test]
fn explorer_filtering() {
    snap("explorer_filter", |s| {
        s.keys(&["/"]);
        s.type_text("daily");
    });
}

#[test]
fn explorer_loading() {
    snap("explorer_loading", |s| {
        s.keys(&["j", "enter"]);
    });
}

#[test]
fn queue_tab() {
    snap("queue", |s| {
        busy_queue(s);
        s.keys(&["3"]);
        busy_queue(s);
    });
}

#[test]
fn profiles_tab() {
    snap("profiles", |s| {
        s.keys(&["5", "j", "j", "t"]);
        tested_web(s);
    });
}

#[test]
fn profiles_tab_after_a_test_through_two_jump_hosts() {
    snap("profiles_jumps", |s| {
        s.app.profiles[2].profile.jump = vec!["bastion".into(), "ops@gw:2222".into()];
        s.keys(&["5", "j", "j", "t"]);
        tested_web_through_jumps(s);
    });
}

#[test]
fn dashboard_tab() {
    snap("dashboard", |s| {
        busy_queue(s);
        s.keys(&["1"]);
        history(s);
    });
}

#[test]
fn vault_setup_dialog() {
    for size in SIZES {
        let mut staged = Staged::new(start(REPORTS, size));
        answer_start(&mut staged, VaultState::NotSetUp);
        staged.type_text("secret");
        insta::assert_snapshot!(
            format!("dialog_vault_setup_{}x{}", size.0, size.1),
            staged.screen()
        );
    }
}

#[test]
fn unlock_dialog() {
    for size in SIZES {
        let mut staged = Staged::new(start(REPORTS, size));
        answer_start(
            &mut staged,
            VaultState::Locked {
                passphrase: true,
                by: "passphrase".into(),
            },
        );
        staged.type_text("x");
        staged.keys(&["enter"]);
        let (id, _) = staged
            .take(|r| matches!(r, Request::UnlockVault { .. }))
            .expect("unlock");
        staged.input(Input::Reply(
            id,
            Response::error(ferry::remote::ErrorKind::Auth, "wrong passphrase"),
        ));
        insta::assert_snapshot!(
            format!("dialog_unlock_{}x{}", size.0, size.1),
            staged.screen()
        );
    }
}

#[test]
fn profile_picker_dialog() {
    snap("dialog_picker", |s| s.keys(&["o"]));
}

#[test]
fn connecting_dialog() {
    snap("dialog_connecting", |s| {
        s.keys(&["o"]);
        s.type_text("web");
        s.keys(&["enter"]);
    });
}

#[test]
fn copy_dialog() {
    snap("dialog_copy", |s| {
        connect_web(s);
        s.keys(&["tab", "j", "j", "space", "space", "F5"]);
    });
}

#[test]
fn delete_dialog() {
    snap("dialog_delete", |s| {
        s.keys(&["j", "space", "space", "space", "F8"])
    });
}

#[test]
fn mkdir_and_rename_dialogs() {
    snap("dialog_mkdir", |s| s.keys(&["F7"]));
    snap("dialog_rename", |s| s.keys(&["j", "j", "F2"]));
}

#[test]
fn host_key_dialog() {
    snap("dialog_host_key", |s| {
        question(
            s,
            Question::HostKey(HostKeyQuestion {
                endpoint: web_endpoint(),
                host: "10.0.0.5".into(),
                port: 22,
                key_type: "ssh-ed25519".into(),
                fingerprint: "SHA256:vqgtz04CGTeGphHzapNjoW8eX2rOoPNq0e0z7Y3t5g8".into(),
                other_types: Vec::new(),
            }),
        )
    });
}

#[test]
fn certificate_dialog() {
    snap("dialog_certificate", |s| {
        question(
            s,
            Question::Certificate(CertificateQuestion {
                endpoint: Endpoint {
                    profile: "files".into(),
                    address: "ftp.example.com:21".into(),
                },
                certificate: CertificateInfo {
                    subject: "CN=ftp.example.com".into(),
                    issuer: "CN=ftp.example.com".into(),
                    sha256_hex: "3f".repeat(32),
                    not_after: "2027-06-01 00:00:00 UTC".into(),
                    verified: false,
                },
                problem: "self-signed certificate".into(),
            }),
        )
    });
}

#[test]
fn exists_dialog() {
    snap("dialog_exists", |s| {
        question(
            s,
            Question::Exists(Conflict {
                transfer: 12,
                batch: 3,
                direction: Direction::Upload,
                profile: "web".into(),
                source: format!("{REPORTS}/daily-1202.csv"),
                destination: "/srv/www/daily-1202.csv".into(),
                source_size: 51 * 1024,
                source_mtime: Some(NOW - 3_600),
                existing_size: 50 * 1024,
                existing_mtime: Some(NOW - 90_000),
            }),
        );
        s.keys(&["a"]);
    });
}

#[test]
fn changed_host_key_refusal() {
    snap("dialog_refusal", |s| {
        s.input(Input::Engine(Event::Refused {
            refusal: Refusal::HostKeyChanged(HostKeyRefusal {
                endpoint: web_endpoint(),
                host: "10.0.0.5".into(),
                port: 22,
                key_type: "ssh-ed25519".into(),
                presented: "SHA256:Ap8Oq0m1XoGmaQvYV2Q8vO9dGf6Rk0kqS8u6yJt3N2w".into(),
                recorded_type: "ssh-ed25519".into(),
                recorded: "SHA256:vqgtz04CGTeGphHzapNjoW8eX2rOoPNq0e0z7Y3t5g8".into(),
                file: "/home/ops/.ssh/known_hosts".into(),
                line: 14,
            }),
        }))
    });
}

#[test]
fn viewer_and_info() {
    snap("dialog_viewer", |s| {
        s.keys(&["j", "j", "F3"]);
        s.answer(
            |r| matches!(r, Request::Peek { .. }),
            |_| {
                vec![Response::Peeked {
                    size: 48 * 1024,
                    bytes: b"date,host,bytes\n2026-12-01,web,1204\n2026-12-01,db,88\x1b]0;x\x07\n"
                        .to_vec(),
                }]
            },
        );
    });
    snap("dialog_info", |s| s.keys(&["j", "j", "i"]));
}

#[test]
fn help_overlay() {
    snap("dialog_help", |s| s.keys(&["?"]));
}

#[test]
fn quit_dialog() {
    snap("dialog_quit", |s| {
        busy_queue(s);
        s.keys(&["q"]);
    });
}

#[test]
fn profile_form() {
    snap("dialog_profile_form", |s| {
        s.keys(&["5", "a"]);
        s.type_text("db");
        s.keys(&["tab", "tab"]);
    });
    snap("dialog_profile_edit", |s| s.keys(&["5", "j", "j", "e"]));
}

#[test]
fn too_small() {
    let mut staged = staged((70, 20));
    staged.input(Input::Resize(70, 20));
    insta::assert_snapshot!("too_small_70x20", staged.screen());
}
