//! Key sequences in, state and engine requests out: no terminal, no network.

use ferry::engine::api::{
    Answer, Event, Place, Question, QueueSnapshot, Request, Response, Secret, SecretChange,
    VaultState,
};
use ferry::remote::Endpoint;
use ferry::remote::trust::{HostKeyDecision, HostKeyQuestion};
use ferry::transfer::model::{Direction, OverwritePolicy};
use ferry::tui::app::Tab;
use ferry::tui::keymap::Keymap;
use ferry::tui::layers::Layer;
use ferry::tui::msg::{Effect, Input};

use crate::harness::{Staged, start};
use crate::stage::{REPORTS, answer_lists, answer_start, connect_web, staged};

fn names_on_screen(staged: &Staged) -> String {
    staged.screen()
}

#[test]
fn starting_asks_for_the_vault_profiles_and_the_start_directory() {
    let staged = Staged::new(start(REPORTS, (80, 24)));
    let lists = staged
        .sent
        .iter()
        .filter(
            |(_, r)| matches!(r, Request::List { place: Place::Local, path } if path == REPORTS),
        )
        .count();
    assert_eq!(lists, 2, "both panes start where ferry was started");
    for wanted in [Request::Vault, Request::Profiles, Request::Questions] {
        assert!(staged.sent.iter().any(|(_, r)| *r == wanted), "{wanted:?}");
    }
}

#[test]
fn a_new_user_sets_up_the_vault_typing_the_passphrase_twice() {
    let mut staged = Staged::new(start(REPORTS, (80, 24)));
    answer_start(&mut staged, VaultState::NotSetUp);
    assert!(matches!(
        staged.app.layers.last(),
        Some(Layer::CreateVault(_))
    ));
    staged.type_text("correct horse");
    staged.keys(&["tab"]);
    staged.type_text("correct hors");
    staged.keys(&["enter"]);
    assert!(staged.screen().contains("the two passphrases differ"));
    assert!(
        staged
            .take(|r| matches!(r, Request::InitVault { .. }))
            .is_none()
    );
    staged.type_text("correct horse");
    staged.keys(&["tab"]);
    staged.type_text("correct horse");
    staged.keys(&["enter"]);
    let (id, request) = staged
        .take(|r| matches!(r, Request::InitVault { .. }))
        .expect("InitVault sent");
    assert_eq!(
        request,
        Request::InitVault {
            passphrase: Some(Secret::new("correct horse")),
            key_file: None
        }
    );
    assert!(
        !staged.screen().contains("correct"),
        "the passphrase is never on screen"
    );
    staged.input(Input::Reply(
        id,
        Response::Vault {
            state: VaultState::Unlocked {
                by: "passphrase".into(),
            },
        },
    ));
    assert!(staged.app.layers.is_empty());
}

#[test]
fn a_wrong_passphrase_says_so_and_lets_you_try_again() {
    let mut staged = Staged::new(start(REPORTS, (80, 24)));
    answer_start(
        &mut staged,
        VaultState::Locked {
            passphrase: true,
            by: "passphrase".into(),
        },
    );
    staged.type_text("wrong");
    staged.keys(&["enter"]);
    let (id, _) = staged
        .take(|r| matches!(r, Request::UnlockVault { .. }))
        .expect("unlock");
    staged.input(Input::Reply(
        id,
        Response::error(ferry::remote::ErrorKind::Auth, "wrong passphrase"),
    ));
    assert!(matches!(staged.app.layers.last(), Some(Layer::Unlock(_))));
    assert!(staged.screen().contains("wrong passphrase"));
    staged.type_text("right");
    staged.keys(&["enter"]);
    let (_, request) = staged
        .take(|r| matches!(r, Request::UnlockVault { .. }))
        .expect("again");
    assert_eq!(
        request,
        Request::UnlockVault {
            passphrase: Some(Secret::new("right"))
        }
    );
}

#[test]
fn a_passphrase_file_unlocks_without_asking() {
    let mut start = start(REPORTS, (80, 24));
    start.passphrase = Some(Secret::new("from file"));
    let mut staged = Staged::new(start);
    answer_start(
        &mut staged,
        VaultState::Locked {
            passphrase: true,
            by: "passphrase".into(),
        },
    );
    assert!(staged.app.layers.is_empty());
    let (_, request) = staged
        .take(|r| matches!(r, Request::UnlockVault { .. }))
        .expect("unlock");
    assert_eq!(
        request,
        Request::UnlockVault {
            passphrase: Some(Secret::new("from file"))
        }
    );
}

#[test]
fn moving_into_a_directory_and_back_lands_on_it() {
    let mut staged = staged((80, 24));
    staged.keys(&["j", "enter"]);
    let (_, request) = staged
        .take(|r| matches!(r, Request::List { .. }))
        .expect("listing");
    assert_eq!(
        request,
        Request::List {
            place: Place::Local,
            path: format!("{REPORTS}/2026-11")
        }
    );
    staged.keys(&["backspace"]);
    answer_lists(&mut staged);
    let pane = staged.app.explorer.focused_pane();
    assert_eq!(pane.path, REPORTS);
    assert_eq!(
        pane.current_entry().map(|e| e.name.as_str()),
        Some("2026-11")
    );
}

#[test]
fn a_filter_narrows_as_you_type_and_marks_survive_it() {
    let mut staged = staged((80, 24));
    staged.keys(&["/"]);
    staged.type_text("daily");
    assert_eq!(staged.app.explorer.focused_pane().listing.len(), 2);
    staged.keys(&["enter", "j", "space", "j", "space"]);
    staged.keys(&["esc"]);
    let pane = staged.app.explorer.focused_pane();
    assert_eq!(
        pane.listing.len(),
        4,
        "the filter is gone (dot files stay hidden)"
    );
    let marked: Vec<_> = pane
        .listing
        .marked()
        .iter()
        .map(|e| e.name.clone())
        .collect();
    assert_eq!(marked, ["daily-1201.csv", "daily-1202.csv"]);
    assert!(names_on_screen(&staged).contains("2 marked"));
    staged.keys(&["."]);
    assert_eq!(staged.app.explorer.focused_pane().listing.len(), 5);
    staged.keys(&["*"]);
    assert_eq!(staged.app.explorer.focused_pane().listing.marked().len(), 3);
}

#[test]
fn esc_then_a_digit_is_that_function_key_and_f5_queues_the_marked_files() {
    let mut staged = staged((80, 24));
    connect_web(&mut staged);
    assert_eq!(
        staged.app.explorer.sessions.len(),
        2,
        "the profile opened a session"
    );
    staged.keys(&["tab", "j", "j", "space", "space", "esc", "5"]);
    assert!(
        matches!(staged.app.layers.last(), Some(Layer::Confirm(_))),
        "{}",
        staged.screen()
    );
    assert!(staged.screen().contains("Copy 2 files"));
    staged.keys(&["enter"]);
    let (_, request) = staged
        .take(|r| matches!(r, Request::Enqueue(_)))
        .expect("queued");
    let Request::Enqueue(request) = request else {
        unreachable!()
    };
    assert_eq!(request.direction, Direction::Upload);
    assert_eq!(request.profile, "web");
    assert_eq!(request.target, "/srv/www");
    assert_eq!(
        request.overwrite,
        OverwritePolicy::Ask,
        "existing files are asked about"
    );
    assert_eq!(
        request.sources,
        [
            format!("{REPORTS}/daily-1201.csv"),
            format!("{REPORTS}/daily-1202.csv")
        ]
    );
}

#[test]
fn copying_between_two_servers_is_a_relay() {
    let mut staged = staged((80, 24));
    connect_web(&mut staged);
    // Open `backup` in the left pane of web's session.
    staged.keys(&["tab", "o"]);
    staged.type_text("backup");
    staged.keys(&["enter"]);
    let (id, request) = staged
        .take(|r| matches!(r, Request::Open { .. }))
        .expect("open");
    let Request::Open { place } = request else {
        unreachable!()
    };
    staged.input(Input::Reply(
        id,
        Response::Opened {
            place,
            start: "/srv/www".into(),
            info: Default::default(),
        },
    ));
    answer_lists(&mut staged);
    assert_eq!(staged.app.explorer.sessions.len(), 2, "the same session");
    staged.keys(&["j", "j", "F5", "enter"]);
    let (_, request) = staged
        .take(|r| matches!(r, Request::Enqueue(_)))
        .expect("queued");
    let Request::Enqueue(request) = request else {
        unreachable!()
    };
    assert_eq!(request.direction, Direction::Relay);
    assert_eq!(
        (request.profile.as_str(), request.peer.as_deref()),
        ("backup", Some("web"))
    );
}

#[test]
fn delete_names_what_goes_and_asks_first() {
    let mut staged = staged((80, 24));
    staged.keys(&["j", "F8"]);
    let screen = staged.screen();
    assert!(screen.contains("Delete 1 directory"), "{screen}");
    assert!(
        screen.contains("2026-11/  (with everything in it)"),
        "{screen}"
    );
    assert!(
        staged
            .take(|r| matches!(r, Request::Remove { .. }))
            .is_none()
    );
    staged.keys(&["y"]);
    let (_, request) = staged
        .take(|r| matches!(r, Request::Remove { .. }))
        .expect("remove");
    assert_eq!(
        request,
        Request::Remove {
            place: Place::Local,
            path: format!("{REPORTS}/2026-11"),
            recursive: true
        }
    );
}

#[test]
fn mkdir_and_rename_take_a_name() {
    let mut staged = staged((80, 24));
    staged.keys(&["F7"]);
    staged.type_text("2026-12");
    staged.keys(&["enter"]);
    let (_, request) = staged
        .take(|r| matches!(r, Request::Mkdir { .. }))
        .expect("mkdir");
    assert_eq!(
        request,
        Request::Mkdir {
            place: Place::Local,
            path: format!("{REPORTS}/2026-12")
        }
    );
    staged.keys(&["j", "j", "F2"]);
    for _ in 0.."daily-1201.csv".len() {
        staged.keys(&["backspace"]);
    }
    staged.type_text("first.csv");
    staged.keys(&["enter"]);
    let (_, request) = staged
        .take(|r| matches!(r, Request::Rename { .. }))
        .expect("rename");
    assert_eq!(
        request,
        Request::Rename {
            place: Place::Local,
            from: format!("{REPORTS}/daily-1201.csv"),
            to: format!("{REPORTS}/first.csv")
        }
    );
}

#[test]
fn a_host_key_question_is_answered_from_its_dialog() {
    let mut staged = staged((80, 24));
    let question = Question::HostKey(HostKeyQuestion {
        endpoint: Endpoint {
            profile: "web".into(),
            address: "10.0.0.5:22".into(),
        },
        host: "10.0.0.5".into(),
        port: 22,
        key_type: "ssh-ed25519".into(),
        fingerprint: "SHA256:vqgtz04CGTeGphHzapNjoW8eX2rOoPNq0e0z7Y3t5g8".into(),
        other_types: Vec::new(),
    });
    staged.input(Input::Engine(Event::Question { id: 9, question }));
    assert!(staged.screen().contains("Unknown host key"));
    staged.keys(&["o"]);
    let (_, request) = staged
        .take(|r| matches!(r, Request::Answer { .. }))
        .expect("answered");
    assert_eq!(
        request,
        Request::Answer {
            question: 9,
            answer: Answer::HostKey {
                decision: HostKeyDecision::Once
            }
        }
    );
    assert!(staged.app.layers.is_empty());
}

#[test]
fn the_queue_pauses_the_transfer_under_the_cursor_and_asks_before_cancelling() {
    let mut staged = staged((80, 24));
    crate::stage::busy_queue(&mut staged);
    staged.keys(&["3"]);
    assert_eq!(staged.app.tab, Tab::Queue);
    crate::stage::busy_queue(&mut staged);
    staged.keys(&["j", "p"]);
    let (_, request) = staged
        .take(|r| matches!(r, Request::Pause { .. }))
        .expect("pause");
    assert_eq!(request, Request::Pause { id: 42 });
    staged.keys(&["c"]);
    assert!(
        staged
            .take(|r| matches!(r, Request::Cancel { .. }))
            .is_none(),
        "asked first"
    );
    staged.keys(&["y"]);
    assert!(staged.take(|r| *r == Request::Cancel { id: 42 }).is_some());
    staged.keys(&["L"]);
    for _ in 0..3 {
        staged.keys(&["backspace"]);
    }
    staged.type_text("10MiB/s");
    staged.keys(&["enter"]);
    assert!(
        staged
            .take(|r| *r
                == Request::SetLimit {
                    bytes_per_sec: 10 << 20
                })
            .is_some()
    );
}

#[test]
fn quitting_with_transfers_running_asks_how() {
    let mut staged = staged((80, 24));
    staged.input(Input::Progress(QueueSnapshot {
        running: 1,
        total: 1,
        ..Default::default()
    }));
    staged.keys(&["q"]);
    assert!(matches!(staged.app.layers.last(), Some(Layer::Quit { .. })));
    assert!(staged.other.is_empty());
    staged.keys(&["c"]);
    let (id, _) = staged
        .take(|r| *r == Request::CancelAll)
        .expect("cancel all");
    staged.input(Input::Reply(id, Response::Ok));
    assert_eq!(staged.other, [Effect::Quit]);
}

#[test]
fn quitting_when_idle_leaves_at_once() {
    let mut staged = staged((80, 24));
    staged.keys(&["q"]);
    assert_eq!(staged.other, [Effect::Quit]);
}

#[test]
fn a_profile_is_added_from_the_form() {
    let mut staged = staged((80, 24));
    staged.keys(&["5", "a"]);
    staged.type_text("db");
    staged.keys(&["tab", "tab"]);
    staged.type_text("db.lan");
    staged.keys(&["enter"]);
    let (_, request) = staged
        .take(|r| matches!(r, Request::SaveProfile { .. }))
        .expect("saved");
    let Request::SaveProfile {
        original,
        profile,
        password,
        ..
    } = request
    else {
        unreachable!()
    };
    assert_eq!(original, None);
    assert_eq!(
        (profile.name.as_str(), profile.host.as_str(), profile.port),
        ("db", "db.lan", 22)
    );
    assert_eq!(password, SecretChange::Keep);
}

#[test]
fn rebound_keys_take_effect_and_help_lists_them() {
    let mut overrides = std::collections::BTreeMap::new();
    overrides.insert("copy".to_string(), vec!["y".to_string()]);
    let mut start = start(REPORTS, (120, 35));
    start.keymap = Keymap::new(&overrides).expect("keymap");
    let mut staged = Staged::new(start);
    answer_start(
        &mut staged,
        VaultState::Unlocked {
            by: "key file".into(),
        },
    );
    connect_web(&mut staged);
    staged.keys(&["tab", "j", "j", "y"]);
    assert!(matches!(staged.app.layers.last(), Some(Layer::Confirm(_))));
    staged.keys(&["esc", "?"]);
    let help = staged.screen();
    assert!(
        help.contains("y") && help.contains("copy to the other pane"),
        "{help}"
    );
}

#[test]
fn the_mouse_selects_rows_and_tabs() {
    use crossterm::event::{KeyModifiers, MouseButton, MouseEvent, MouseEventKind};
    let mut staged = staged((80, 24));
    let click = |column, row| {
        Input::Mouse(MouseEvent {
            kind: MouseEventKind::Down(MouseButton::Left),
            column,
            row,
            modifiers: KeyModifiers::NONE,
        })
    };
    staged.input(click(50, 5));
    let session = staged.app.explorer.session();
    assert_eq!(session.focus, ferry::tui::app::outbox::Side::Right);
    assert_eq!(session.right.cursor, 2);
    staged.input(click(27, 0));
    assert_eq!(staged.app.tab, Tab::Queue);
}

#[test]
fn a_terminal_too_small_shows_a_notice() {
    let mut staged = staged((60, 20));
    staged.input(Input::Resize(60, 20));
    let screen = staged.screen();
    assert!(screen.contains("terminal too small"), "{screen}");
    assert!(screen.contains("60×20"));
    staged.input(Input::Resize(80, 24));
    assert!(staged.screen().contains("daily-1201.csv"));
}

#[test]
fn an_idle_queue_says_so_instead_of_a_full_gauge_of_nothing() {
    let mut staged = staged((80, 24));
    staged.input(Input::Progress(QueueSnapshot::default()));
    staged.keys(&["3"]);
    let screen = staged.screen();
    assert!(screen.contains("nothing queued or running"), "{screen}");
    assert!(!screen.contains("0 B of 0 B"), "{screen}");
    staged.input(Input::Progress(QueueSnapshot {
        running: 1,
        total: 4,
        total_bytes: 10,
        ..Default::default()
    }));
    assert!(
        staged.screen().contains("0 B of 10 B"),
        "{}",
        staged.screen()
    );
}
