//! The app never hands a server's control bytes to the terminal: hostile names in a listing,
//! refused names, an error's details and a test's jump hosts are drawn escaped.

use ferry::engine::api::{Failure, Place, Request, Response, TestReport};
use ferry::remote::{EntryKind, ErrorKind, HopInfo, SessionInfo};
use ferry::text::name_from_bytes;

use crate::stage::{self, staged};

fn hostile_entries() -> Vec<ferry::remote::Entry> {
    crate::support::hostile::FILE_NAMES
        .iter()
        .map(|name| ferry::remote::Entry::new(name_from_bytes(name).as_ref(), EntryKind::File))
        .collect()
}

fn assert_screen_safe(screen: &str) {
    for c in screen.chars() {
        let private = ('\u{10FF00}'..='\u{10FFFF}').contains(&c);
        assert!(
            (c == '\n' || !c.is_control()) && !private,
            "raw {c:?} on screen:\n{screen}"
        );
    }
}

#[test]
fn hostile_listing_and_error_are_drawn_escaped() {
    let mut staged = staged((120, 35));
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
                start: "/srv/\x1b]0;www\x07".into(),
                info: SessionInfo::default(),
            }]
        },
    );
    staged.answer(
        |r| {
            matches!(
                r,
                Request::List {
                    place: Place::Profile(_),
                    ..
                }
            )
        },
        |r| {
            let Request::List { path, .. } = r else {
                unreachable!()
            };
            let entries = hostile_entries();
            let count = entries.len();
            vec![
                Response::Entries { entries },
                Response::Listed {
                    path: path.clone(),
                    count,
                    refused: vec!["a/b\\x1b".into()],
                },
            ]
        },
    );
    stage::answer_lists(&mut staged);
    let screen = staged.screen();
    assert_screen_safe(&screen);
    assert!(screen.contains("esc\\x1b]0;pwned\\x07.txt"), "{screen}");
    assert!(screen.contains("caf\\xe9.txt"), "{screen}");
    assert!(screen.contains("csi\\x9b31m.txt"), "{screen}");

    // An error whose details came from the server.
    staged.keys(&["F7"]);
    staged.type_text("new");
    staged.keys(&["enter"]);
    staged.answer(
        |r| matches!(r, Request::Mkdir { .. }),
        |_| {
            vec![Response::Error(Failure {
                kind: ErrorKind::Permission,
                message: "web: /srv/new: permission denied (\x1b[2J\u{9b}31m)".into(),
            })]
        },
    );
    let screen = staged.screen();
    assert_screen_safe(&screen);
    assert!(screen.contains("\\x1b[2J\\u{9b}31m"), "{screen}");
}

#[test]
fn a_test_report_s_hops_are_drawn_escaped() {
    let mut staged = staged((120, 35));
    staged.keys(&["5", "j", "j", "t"]);
    staged.answer(
        |r| matches!(r, Request::Test { .. }),
        |_| {
            vec![Response::Tested {
                report: Box::new(TestReport {
                    profile: "web".into(),
                    ok: true,
                    hops: vec![HopInfo {
                        name: "gw\x1b]0;pwned\x07".into(),
                        address: "10.0.0.1:22".into(),
                        host_key: Some(("ssh-ed25519\x1b[2J".into(), "SHA256:abc".into())),
                        millis: 12,
                    }],
                    ..TestReport::default()
                }),
            }]
        },
    );
    let screen = staged.screen();
    assert_screen_safe(&screen);
    assert!(
        screen.contains("jump 1       gw\\x1b]0;pwned\\x07 (10.0.0.1:22), 12 ms"),
        "{screen}"
    );
    assert!(
        screen.contains("ssh-ed25519\\x1b[2J SHA256:abc"),
        "{screen}"
    );
}
