#!/usr/bin/env bash
# ferry against curl (and lftp where installed) on one loopback vsftpd, in one run: 1 GiB
# upload and download over plain FTP. Needs root (vsftpd and a local login account).
# Results: bench/RESULTS.md.
source "$(dirname "$0")/common.sh"
need hyperfine curl /usr/sbin/vsftpd /usr/bin/time python3
[ "$(id -u)" -eq 0 ] || { echo "run as root (vsftpd needs it)" >&2; exit 1; }

build_ferry
on_tmpfs
USER_NAME=ferrybench
if ! id "$USER_NAME" >/dev/null 2>&1; then
  useradd -m "$USER_NAME"
fi
PASS=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
REDACT=$PASS
echo "$USER_NAME:$PASS" | chpasswd

rm -rf "$WORK/vsftpd" "$WORK/data" "$WORK/ftp-root" "$WORK/rss.tsv" "$WORK"/*.json "$WORK"/*.commands
mkdir -p "$WORK/vsftpd/empty" "$WORK/ftp-root" "$WORK/down"
chown "$USER_NAME" "$WORK/ftp-root"
PORT=$(free_port)
cat > "$WORK/vsftpd/vsftpd.conf" <<CONF
listen=YES
listen_ipv6=NO
listen_address=127.0.0.1
listen_port=$PORT
background=NO
anonymous_enable=NO
local_enable=YES
write_enable=YES
local_umask=022
local_root=$WORK/ftp-root
chroot_local_user=NO
pam_service_name=vsftpd
secure_chroot_dir=$WORK/vsftpd/empty
seccomp_sandbox=NO
pasv_enable=YES
pasv_address=127.0.0.1
pasv_min_port=40000
pasv_max_port=40100
ssl_enable=NO
CONF
/usr/sbin/vsftpd "$WORK/vsftpd/vsftpd.conf" &
VSFTPD=$!
trap 'kill $VSFTPD 2>/dev/null || true' EXIT
for _ in $(seq 50); do curl -s "ftp://127.0.0.1:$PORT/" -u "$USER_NAME:$PASS" >/dev/null && break; sleep 0.1; done

export FERRY_DATA_DIR="$WORK/data"
PASSFILE="$WORK/vsftpd/passphrase"
echo "bench-passphrase" > "$PASSFILE"
export FERRY_PASSPHRASE_FILE="$PASSFILE"
CONFIG="$WORK/vsftpd/ferry.toml"
printf '[vault]\nargon2_memory = "8MiB"\nargon2_passes = 1\n' > "$CONFIG"
"$FERRY" --config "$CONFIG" vault init >/dev/null
echo "$PASS" | "$FERRY" --config "$CONFIG" profile add bench "ftp://$USER_NAME@127.0.0.1:$PORT" --password-stdin >/dev/null 2>&1
NOVERIFY="$WORK/vsftpd/noverify.toml"
printf '[vault]\nargon2_memory = "8MiB"\nargon2_passes = 1\n[transfer]\nverify_checksum = false\n' > "$NOVERIFY"

make_file "$WORK/src/1g.bin" 1024
cp "$WORK/src/1g.bin" "$WORK/ftp-root/source.bin"
chown "$USER_NAME" "$WORK/ftp-root/source.bin"
# FTP URL paths are relative to the login directory, which is $ROOT.
URL="ftp://$USER_NAME:$PASS@127.0.0.1:$PORT"
ROOT="$WORK/ftp-root"

echo "== 1 GiB upload"
ROUNDS=$RUNS WARMUP=1; HF_OPTS=(--prepare "rm -f $ROOT/1g.bin")
UP=("ferry put" "$FERRY --config $CONFIG put $WORK/src/1g.bin bench:$ROOT"
    "curl -T" "curl -s -T $WORK/src/1g.bin $URL/1g.bin")
command -v lftp >/dev/null && UP+=("lftp put" "lftp -e 'put -O $ROOT $WORK/src/1g.bin; quit' $URL")
compare upload "${UP[@]}"

echo "== 1 GiB download"
ROUNDS=$RUNS WARMUP=1; HF_OPTS=(--prepare "rm -f $WORK/down/source.bin")
DOWN=("ferry get" "$FERRY --config $CONFIG get bench:$ROOT/source.bin $WORK/down"
      "ferry get (no hash check: vsftpd has no HASH)" "$FERRY --config $NOVERIFY get bench:$ROOT/source.bin $WORK/down"
      "curl -o" "curl -s -o $WORK/down/source.bin $URL/source.bin")
command -v lftp >/dev/null && DOWN+=("lftp get" "lftp -e 'get $ROOT/source.bin -o $WORK/down/source.bin; quit' $URL")
compare download "${DOWN[@]}"

echo "== peak memory"
rm -f "$ROOT/1g.bin" "$WORK/down/source.bin"
peak_rss "ferry put 1 GiB" "$FERRY" --config "$CONFIG" put "$WORK/src/1g.bin" "bench:$ROOT"
peak_rss "curl -T 1 GiB" curl -s -T "$WORK/src/1g.bin" "$URL/1g.bin"
peak_rss "ferry get 1 GiB" "$FERRY" --config "$CONFIG" get "bench:$ROOT/source.bin" "$WORK/down"
rm -f "$WORK/down/source.bin"
peak_rss "curl -o 1 GiB" curl -s -o "$WORK/down/source.bin" "$URL/source.bin"

python3 "$BENCH_ROOT/report.py" ftp "$WORK" "$0" > "$WORK/ftp-report.md"
python3 "$BENCH_ROOT/merge.py" "$BENCH_ROOT/RESULTS.md" ftp "$WORK/ftp-report.md"
cat "$WORK/ftp-report.md"
