#!/usr/bin/env bash
# ferry against OpenSSH sftp/scp (and lftp, rclone where installed) on one loopback sshd, in one
# run: 1 GiB upload and download, connect+auth, 2,000 small files, 5 concurrent uploads.
# Needs root (it starts sshd as root with a throwaway config). Every tool logs in as a plain
# account, ferrybench, as on a real server: root's .bashrc on a development machine (pyenv,
# cargo) runs for each session's sftp-server and once cost every tool ~0.15 s a session.
# Results: bench/RESULTS.md.
source "$(dirname "$0")/common.sh"
need hyperfine sftp scp ssh ssh-keygen /usr/sbin/sshd /usr/bin/time python3
[ "$(id -u)" -eq 0 ] || { echo "run as root (sshd needs it)" >&2; exit 1; }

build_ferry
on_tmpfs
rm -rf "$WORK/data" "$WORK/dst" "$WORK/small-dst" "$WORK/rss.tsv" "$WORK"/*.json "$WORK"/*.commands
mkdir -p "$WORK/dst" "$WORK/down"
start_sshd
chown "$USER_NAME" "$WORK/dst"

SSH_OPTS=(-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -i "$KEY")
export FERRY_DATA_DIR="$WORK/data"
"$FERRY" profile add bench "sftp://$USER_NAME@127.0.0.1:$PORT" --key "$KEY" --max-connections 5 >/dev/null
"$FERRY" --host-key-policy accept-new test bench >/dev/null

make_file "$WORK/src/1g.bin" 1024
echo "put $WORK/src/1g.bin $WORK/dst/1g.bin" > "$WORK/put.batch"
echo "get $WORK/src/1g.bin $WORK/down/1g.bin" > "$WORK/get.batch"
NOVERIFY="$WORK/noverify.toml"
printf '[transfer]\nverify_checksum = false\n' > "$NOVERIFY"

# ONLY=upload,small (a comma list of sections) runs part of the suite.
want() { [ -z "${ONLY:-}" ] || [[ ",$ONLY," == *",$1,"* ]]; }

if want upload; then
echo "== 1 GiB upload"
ROUNDS=$RUNS WARMUP=1; HF_OPTS=(--prepare "rm -f $WORK/dst/1g.bin")
compare upload \
  "ferry put" "$FERRY put $WORK/src/1g.bin bench:$WORK/dst" \
  "ferry put (no sha256 check)" "$FERRY --config $NOVERIFY put $WORK/src/1g.bin bench:$WORK/dst" \
  "sftp put" "sftp -q ${SSH_OPTS[*]} -P $PORT -b $WORK/put.batch $USER_NAME@127.0.0.1" \
  "scp" "scp -q ${SSH_OPTS[*]} -P $PORT $WORK/src/1g.bin $USER_NAME@127.0.0.1:$WORK/dst/1g.bin"

fi
if want download; then
echo "== 1 GiB download"
ROUNDS=$RUNS WARMUP=1; HF_OPTS=(--prepare "rm -f $WORK/down/1g.bin")
compare download \
  "ferry get" "$FERRY get bench:$WORK/src/1g.bin $WORK/down" \
  "ferry get (no sha256 check)" "$FERRY --config $NOVERIFY get bench:$WORK/src/1g.bin $WORK/down" \
  "sftp get" "sftp -q ${SSH_OPTS[*]} -P $PORT -b $WORK/get.batch $USER_NAME@127.0.0.1" \
  "scp" "scp -q ${SSH_OPTS[*]} -P $PORT $USER_NAME@127.0.0.1:$WORK/src/1g.bin $WORK/down/1g.bin"

fi
if want memory; then
echo "== peak memory"
rm -f "$WORK/dst/1g.bin" "$WORK/down/1g.bin"
peak_rss "ferry put 1 GiB" "$FERRY" put "$WORK/src/1g.bin" "bench:$WORK/dst"
peak_rss "sftp put 1 GiB" sftp -q "${SSH_OPTS[@]}" -P "$PORT" -b "$WORK/put.batch" $USER_NAME@127.0.0.1
peak_rss "ferry get 1 GiB" "$FERRY" get "bench:$WORK/src/1g.bin" "$WORK/down"
rm -f "$WORK/down/1g.bin"
peak_rss "sftp get 1 GiB" sftp -q "${SSH_OPTS[@]}" -P "$PORT" -b "$WORK/get.batch" $USER_NAME@127.0.0.1

fi
if want connect; then
echo "== connect + authenticate"
ROUNDS=20 WARMUP=2; HF_OPTS=()
compare connect \
  "ferry test" "$FERRY test bench" \
  "ssh true" "ssh -o BatchMode=yes ${SSH_OPTS[*]} -p $PORT $USER_NAME@127.0.0.1 true"

fi
if want small; then
echo "== 2,000 files of 4 KiB, recursive upload"
if [ ! -d "$WORK/small" ]; then
  mkdir -p "$WORK/small"
  for d in $(seq 0 19); do
    mkdir -p "$WORK/small/d$d"
    for f in $(seq 0 99); do head -c 4096 /dev/urandom > "$WORK/small/d$d/f$f"; done
  done
fi
echo "put -r $WORK/small $WORK/small-dst/" > "$WORK/putr.batch"
SMALL=("ferry put -r" "$FERRY put -r $WORK/small bench:$WORK/small-dst"
       "sftp put -r" "sftp -q ${SSH_OPTS[*]} -P $PORT -b $WORK/putr.batch $USER_NAME@127.0.0.1")
if command -v lftp >/dev/null; then
  SMALL+=("lftp mirror -R -P 5" "lftp -e 'set sftp:connect-program \"ssh -a -x ${SSH_OPTS[*]}\"; mirror -R -P 5 $WORK/small $WORK/small-dst/small; quit' sftp://$USER_NAME:x@127.0.0.1:$PORT")
fi
ROUNDS=$RUNS WARMUP=0; HF_OPTS=(--prepare "rm -rf $WORK/small-dst; mkdir -p $WORK/small-dst; chown $USER_NAME $WORK/small-dst")
compare small "${SMALL[@]}"
# rclone runs md5sum on the server for every file and takes minutes: one run is enough.
rm -f "$WORK/small-slow.json"
if command -v rclone >/dev/null && [ -z "${SKIP_RCLONE:-}" ]; then
  ROUNDS=1 WARMUP=0; HF_OPTS=(--prepare "rm -rf $WORK/small-dst; mkdir -p $WORK/small-dst; chown $USER_NAME $WORK/small-dst")
  compare small-slow "rclone copy --transfers 5" "rclone copy --transfers 5 --sftp-host 127.0.0.1 --sftp-port $PORT --sftp-user $USER_NAME --sftp-key-file $KEY $WORK/small :sftp:$WORK/small-dst/small"
fi

fi
if want concurrent; then
echo "== 5 concurrent 200 MiB uploads"
for i in 1 2 3 4 5; do make_file "$WORK/src/200m-$i.bin" 200; done
ROUNDS=$RUNS WARMUP=0; HF_OPTS=(--prepare "rm -rf $WORK/dst/*")
compare concurrent \
  "ferry put, 1 x 200 MiB" "$FERRY put $WORK/src/200m-1.bin bench:$WORK/dst" \
  "ferry put, 5 x 200 MiB" "$FERRY put $WORK/src/200m-1.bin $WORK/src/200m-2.bin $WORK/src/200m-3.bin $WORK/src/200m-4.bin $WORK/src/200m-5.bin bench:$WORK/dst"

fi

python3 "$BENCH_ROOT/report.py" sftp "$WORK" "$0" > "$WORK/sftp-report.md"
# A partial run (ONLY=…) only prints: RESULTS.md holds complete runs.
[ -z "${ONLY:-}" ] && python3 "$BENCH_ROOT/merge.py" "$BENCH_ROOT/RESULTS.md" sftp "$WORK/sftp-report.md"
cat "$WORK/sftp-report.md"
