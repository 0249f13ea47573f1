#!/usr/bin/env bash
# ferry against OpenSSH sftp over a long link and through a jump host, on one loopback sshd: the
# delay proxy (examples/delay_proxy.rs, the relay the tests use) adds 25 ms each way for a 50 ms
# round trip; 256 MiB upload and download through it and directly; 2,000 x 4 KiB recursive
# download; connect time direct and through one jump host (the same sshd as its own jump host;
# OpenSSH's -J would not pass -i and the known-hosts options on, so ProxyCommand with -W).
# Needs root (sshd). Results: bench/RESULTS.md, section `reach`.
BENCH_DIR=${BENCH_DIR:-/tmp/ferry-bench-reach}
source "$(dirname "$0")/common.sh"
need hyperfine sftp ssh ssh-keygen /usr/sbin/sshd python3
[ "$(id -u)" -eq 0 ] || { echo "run as root (sshd needs it)" >&2; exit 1; }

# One build for both: building them apart unifies the dependencies' features differently and
# rebuilds half the tree each time.
(cd "$REPO" && cargo build --release --quiet --bin ferry --example delay_proxy)
PROXY="$REPO/target/release/examples/delay_proxy"
on_tmpfs
rm -rf "$WORK/data" "$WORK/dst" "$WORK/down" "$WORK/small-down" "$WORK"/*.json "$WORK"/*.commands
mkdir -p "$WORK/dst" "$WORK/down" "$WORK/small-down"
start_sshd
chown "$USER_NAME" "$WORK/dst"
"$PROXY" 127.0.0.1:0 "127.0.0.1:$PORT" 50 > "$WORK/proxy.addr" &
DELAY=$!
trap 'kill $SSHD $DELAY 2>/dev/null || true' EXIT
for _ in $(seq 50); do [ -s "$WORK/proxy.addr" ] && break; sleep 0.1; done
FAR_PORT=$(sed 's/.*://' "$WORK/proxy.addr")

SSH_OPTS=(-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -i "$KEY")
export FERRY_DATA_DIR="$WORK/data"
"$FERRY" profile add near "sftp://$USER_NAME@127.0.0.1:$PORT" --key "$KEY" >/dev/null
"$FERRY" profile add far "sftp://$USER_NAME@127.0.0.1:$FAR_PORT" --key "$KEY" >/dev/null
"$FERRY" profile add inner "sftp://$USER_NAME@127.0.0.1:$PORT" --key "$KEY" --jump near >/dev/null
for p in near far inner; do "$FERRY" --host-key-policy accept-new test "$p" >/dev/null; done

make_file "$WORK/src/256m.bin" 256
chmod 0644 "$WORK/src/256m.bin"
echo "put $WORK/src/256m.bin $WORK/dst/256m.bin" > "$WORK/put.batch"
echo "get $WORK/src/256m.bin $WORK/down/256m.bin" > "$WORK/get.batch"
sftp_at() { echo "sftp -q ${SSH_OPTS[*]} -P $1 -b $2 $USER_NAME@127.0.0.1"; }

want() { [ -z "${ONLY:-}" ] || [[ ",$ONLY," == *",$1,"* ]]; }

if want far; then
echo "== 256 MiB through a 50 ms round trip"
ROUNDS=$RUNS WARMUP=0; HF_OPTS=(--prepare "rm -f $WORK/dst/256m.bin")
compare far-upload \
  "ferry put" "$FERRY put $WORK/src/256m.bin far:$WORK/dst" \
  "sftp put" "$(sftp_at "$FAR_PORT" "$WORK/put.batch")"
HF_OPTS=(--prepare "rm -f $WORK/down/256m.bin")
compare far-download \
  "ferry get" "$FERRY get far:$WORK/src/256m.bin $WORK/down" \
  "sftp get" "$(sftp_at "$FAR_PORT" "$WORK/get.batch")"
fi
if want near; then
echo "== 256 MiB on loopback"
ROUNDS=$RUNS WARMUP=1; HF_OPTS=(--prepare "rm -f $WORK/dst/256m.bin")
compare near-upload \
  "ferry put" "$FERRY put $WORK/src/256m.bin near:$WORK/dst" \
  "sftp put" "$(sftp_at "$PORT" "$WORK/put.batch")"
HF_OPTS=(--prepare "rm -f $WORK/down/256m.bin")
compare near-download \
  "ferry get" "$FERRY get near:$WORK/src/256m.bin $WORK/down" \
  "sftp get" "$(sftp_at "$PORT" "$WORK/get.batch")"
fi
if want small; then
echo "== 2,000 files of 4 KiB, recursive download"
if [ ! -d "$WORK/small" ]; then
  mkdir -p "$WORK/small"
  for d in $(seq 0 19); do
    mkdir -p "$WORK/small/d$d"
    for f in $(seq 0 99); do head -c 4096 /dev/urandom > "$WORK/small/d$d/f$f"; done
  done
fi
echo "get -r $WORK/small $WORK/small-down/" > "$WORK/getr.batch"
ROUNDS=$RUNS WARMUP=1; HF_OPTS=(--prepare "rm -rf $WORK/small-down; mkdir -p $WORK/small-down")
compare small-down \
  "ferry get -r" "$FERRY get -r near:$WORK/small $WORK/small-down" \
  "sftp get -r" "$(sftp_at "$PORT" "$WORK/getr.batch")"
fi
if want jump; then
echo "== connect through a jump host"
ROUNDS=20 WARMUP=2; HF_OPTS=()
compare jump \
  "ferry test (direct)" "$FERRY test near" \
  "ferry test (one jump host)" "$FERRY test inner" \
  "ssh true" "ssh -o BatchMode=yes ${SSH_OPTS[*]} -p $PORT $USER_NAME@127.0.0.1 true" \
  "ssh through a jump (-W)" "ssh -o BatchMode=yes ${SSH_OPTS[*]} -o ProxyCommand='ssh -o BatchMode=yes ${SSH_OPTS[*]} -p $PORT -W %h:%p $USER_NAME@127.0.0.1' -p $PORT $USER_NAME@127.0.0.1 true"
fi

python3 "$BENCH_ROOT/report.py" reach "$WORK" "$0" > "$WORK/reach-report.md"
[ -z "${ONLY:-}" ] && python3 "$BENCH_ROOT/merge.py" "$BENCH_ROOT/RESULTS.md" reach "$WORK/reach-report.md"
cat "$WORK/reach-report.md"
