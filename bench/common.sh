# Shared helpers for the benchmark scripts: a release build of ferry, a scratch directory, free
# ports, peak RSS with /usr/bin/time -v, and hyperfine runs exported as JSON for report.py.
set -euo pipefail

BENCH_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$BENCH_ROOT/.." && pwd)
WORK=${BENCH_DIR:-/tmp/ferry-bench}
RUNS=${RUNS:-3}
FERRY="$REPO/target/release/ferry"

# on_tmpfs: the scratch directory on a tmpfs (as root, unless BENCH_TMPFS=0), so that the
# tools are compared rather than the disk: on ext4, creating thousands of files right after
# deleting the previous run's made inode allocation the bottleneck for every tool alike, and
# the kernel evicting cached sources turned some runs into disk reads.
on_tmpfs() {
  mkdir -p "$WORK"
  [ "${BENCH_TMPFS:-1}" = 0 ] && return
  mountpoint -q "$WORK" || mount -t tmpfs -o size=10g,mode=0755 ferry-bench "$WORK"
}

need() {
  for tool in "$@"; do
    command -v "$tool" >/dev/null || { echo "missing: $tool (apt-get install it)" >&2; exit 1; }
  done
}

build_ferry() {
  (cd "$REPO" && cargo build --release --quiet)
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# make_file PATH MIB: random content (incompressible), written once and reused.
make_file() {
  [ -f "$1" ] && [ "$(stat -c %s "$1")" -eq $(( $2 * 1048576 )) ] && return
  mkdir -p "$(dirname "$1")"
  head -c "$(( $2 * 1048576 ))" /dev/urandom > "$1"
}

# peak_rss LABEL COMMAND...: runs the command once under /usr/bin/time -v and records the
# maximum resident set size (KiB) in $WORK/rss.tsv.
peak_rss() {
  local label=$1; shift
  local log; log=$(mktemp)
  /usr/bin/time -v "$@" >/dev/null 2>"$log" || { cat "$log" >&2; rm -f "$log"; return 1; }
  local kib; kib=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$log")
  printf '%s\t%s\n' "$label" "$kib" >> "$WORK/rss.tsv"
  rm -f "$log"
}

# compare NAME LABEL COMMAND [LABEL COMMAND]...: the commands in ROUNDS interleaved rounds
# (each command once per round, after WARMUP discarded rounds; HF_OPTS adds hyperfine options
# such as --prepare), merged into $WORK/NAME.json; labels and command lines go to
# $WORK/NAME.commands for the report. Interleaving spreads a shared machine's slow spells over
# every command instead of letting them land on whichever ran at the time.
compare() {
  local name=$1; shift
  local args=()
  : > "$WORK/$name.commands"
  while [ $# -gt 0 ]; do
    args+=(-n "$1" "$2")
    # A throwaway password in a command line still does not belong in the results.
    local shown=$2
    [ -n "${REDACT:-}" ] && shown=${shown//$REDACT/PASSWORD}
    printf '%s\t%s\n' "$1" "$shown" >> "$WORK/$name.commands"
    shift 2
  done
  local round rounds=()
  for round in $(seq "${WARMUP:-0}"); do
    hyperfine --runs 1 --style none "${HF_OPTS[@]}" "${args[@]}" >/dev/null
  done
  for round in $(seq "${ROUNDS:-$RUNS}"); do
    hyperfine --runs 1 --style none "${HF_OPTS[@]}" --export-json "$WORK/$name.round$round.json" "${args[@]}" >/dev/null
    rounds+=("$WORK/$name.round$round.json")
  done
  python3 "$BENCH_ROOT/rounds.py" "$WORK/$name.json" "${rounds[@]}"
  rm -f "${rounds[@]}"
}

# start_sshd: a throwaway sshd on a free loopback port for the plain account ferrybench (sshd
# runs as root; every tool logs in as that account, as on a real server: root's .bashrc on a
# development machine once cost every tool ~0.15 s a session). Sets USER_NAME, PORT, KEY
# (the client key) and SSHD (its pid, killed on exit).
start_sshd() {
  USER_NAME=ferrybench
  id "$USER_NAME" >/dev/null 2>&1 || useradd -m -s /bin/bash "$USER_NAME"
  # sshd refuses a locked account (no PAM here); '*' unlocks it for keys without a password.
  [ "$(passwd -S "$USER_NAME" | awk '{print $2}')" = L ] && usermod -p '*' "$USER_NAME"
  rm -rf "$WORK/sshd"
  mkdir -p "$WORK/sshd"
  PORT=$(free_port)
  KEY="$WORK/sshd/client_key"
  ssh-keygen -q -t ed25519 -N '' -f "$WORK/sshd/host_key"
  ssh-keygen -q -t ed25519 -N '' -f "$KEY"
  chmod 0755 "$WORK/sshd"
  chmod 0644 "$KEY.pub"
  cat > "$WORK/sshd/config" <<CONF
ListenAddress 127.0.0.1:$PORT
HostKey $WORK/sshd/host_key
PidFile $WORK/sshd/pid
AuthorizedKeysFile $KEY.pub
PasswordAuthentication no
StrictModes no
UsePAM no
Subsystem sftp /usr/lib/openssh/sftp-server
CONF
  mkdir -p /run/sshd
  /usr/sbin/sshd -f "$WORK/sshd/config" -D -e 2>"$WORK/sshd/log" &
  SSHD=$!
  trap 'kill $SSHD 2>/dev/null || true' EXIT
  for _ in $(seq 50); do ssh-keyscan -p "$PORT" 127.0.0.1 >/dev/null 2>&1 && break; sleep 0.1; done
}
