#!/usr/bin/env bash
# The app's targets, measured by bench/app_bench.rs against one loopback sshd: a remote
# directory of 100,000 entries (first rows, frame times while loading, scrolling, sorting,
# filtering and marking, peak RSS); start to first frame of the release binary with 10,000
# history rows in the store; CPU used over a minute by the idle app with a remote pane open.
# Needs root (it starts sshd with a throwaway config). Results: bench/RESULTS.md.
source "$(dirname "$0")/common.sh"
need ssh-keygen ssh-keyscan /usr/sbin/sshd python3
[ "$(id -u)" -eq 0 ] || { echo "run as root (sshd needs it)" >&2; exit 1; }

ENTRIES=${ENTRIES:-100000}
HISTORY=${HISTORY:-10000}
IDLE_SECONDS=${IDLE_SECONDS:-60}
START_RUNS=${START_RUNS:-10}

(cd "$REPO" && cargo build --release --quiet --bin ferry --example app_bench)
BENCH_BIN="$REPO/target/release/examples/app_bench"
on_tmpfs
start_sshd
APP="$WORK/app"
rm -rf "$APP"
mkdir -p "$APP/big" "$APP/home"
echo hello > "$APP/home/hello.txt"
# 100,000 names of mixed length, sizes and times, as in a busy spool directory.
python3 - "$APP/big" "$ENTRIES" <<'PY'
import os, sys
root, count = sys.argv[1], int(sys.argv[2])
for n in range(count):
    path = os.path.join(root, f"f{n:06d}-{'report' if n % 3 else 'x'}.{('csv', 'log', 'gz')[n % 3]}")
    with open(path, "wb") as f:
        f.write(b"x" * (n % 997))
    os.utime(path, (1_700_000_000 + n * 37 % 100_000, 1_700_000_000 + n * 37 % 100_000))
PY
chown -R "$USER_NAME" "$APP/big" "$APP/home"

export FERRY_DATA_DIR="$APP/data" FERRY_CONFIG="$APP/config.toml" HOME="$APP/home"
printf 'correct horse battery staple\n' > "$APP/pass"
export FERRY_PASSPHRASE_FILE="$APP/pass"
: > "$FERRY_CONFIG"
"$FERRY" vault init >/dev/null
"$FERRY" profile add big "sftp://$USER_NAME@127.0.0.1:$PORT$APP/big" --key "$KEY" >/dev/null
"$FERRY" profile add home "sftp://$USER_NAME@127.0.0.1:$PORT$APP/home" --key "$KEY" >/dev/null
"$FERRY" --host-key-policy accept-new test big >/dev/null
"$BENCH_BIN" history "$HISTORY" >/dev/null

cd "$APP/home"
echo "== listing of $ENTRIES entries"
"$BENCH_BIN" listing big > "$WORK/app-listing.json"
echo "== start to first frame, $HISTORY history rows"
"$BENCH_BIN" start "$FERRY" "$START_RUNS" > "$WORK/app-start.json"
echo "== idle for $IDLE_SECONDS s"
"$BENCH_BIN" idle "$FERRY" home "$IDLE_SECONDS" > "$WORK/app-idle.json"

python3 "$BENCH_ROOT/app_report.py" "$WORK" "$ENTRIES" "$HISTORY" > "$WORK/app-report.md"
python3 "$BENCH_ROOT/merge.py" "$BENCH_ROOT/RESULTS.md" app "$WORK/app-report.md"
cat "$WORK/app-report.md"
