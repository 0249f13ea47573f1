//! A long link on loopback for the bench: `delay_proxy LISTEN TARGET RTT_MS` forwards every
//! connection to LISTEN on to TARGET, holding each byte back half the round trip in each
//! direction, until interrupted. It prints the address it listens on (LISTEN's port may be 0).
//! The relay itself is the one the tests use (`tests/support/relay.rs`).

// The tests use more of the relay than this binary does.
#[allow(dead_code)]
#[path = "../tests/support/relay.rs"]
mod relay;

use std::net::SocketAddr;
use std::time::Duration;

fn usage() -> ! {
    eprintln!(
        "usage: delay_proxy LISTEN_ADDR TARGET_ADDR RTT_MS   (e.g. 127.0.0.1:0 127.0.0.1:22 50)"
    );
    std::process::exit(2);
}

fn parse<T: std::str::FromStr>(value: Option<String>) -> T {
    value
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| usage())
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let listen: SocketAddr = parse(args.next());
    let target: SocketAddr = parse(args.next());
    let rtt_ms: u64 = parse(args.next());
    let one_way = Duration::from_millis(rtt_ms) / 2;
    let relay = match relay::Relay::start_on(listen, target, one_way).await {
        Ok(relay) => relay,
        Err(err) => {
            eprintln!("delay_proxy: cannot listen on {listen}: {err}");
            std::process::exit(1);
        }
    };
    println!("{}", relay.addr());
    let _ = tokio::signal::ctrl_c().await;
}
