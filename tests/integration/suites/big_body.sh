#!/usr/bin/env bash
# A 1 GiB PUT and GET streamed with curl (run through ../run.sh), checking the bytes by MD5 and the
# server's peak RSS (VmHWM) against a 100 MiB ceiling. The RSS check is skipped for sanitizer
# builds (ASan's shadow memory makes the figure meaningless) or with IFMATCH_SKIP_RSS=1.
set -uo pipefail
# shellcheck source=../lib.sh
source "$IFMATCH_ITEST_DIR/lib.sh"

W="$IFMATCH_TMP/scratch/big"
mkdir -p "$W"
E="$IFMATCH_ENDPOINT"
B=big-bucket
SIZE=${IFMATCH_BIG_BYTES:-$((1024 * 1024 * 1024))} # override only to try the suite out
LIMIT_KIB=$((100 * 1024))
PID=$(cat "$IFMATCH_PIDFILE")

vmhwm_kib() { awk '/^VmHWM:/ { print $2 }' "/proc/$PID/status" 2>/dev/null; }

echo "# setup"
check "CreateBucket" 200 "$(curl -s -o /dev/null -w '%{http_code}' -X PUT "$E/$B")"
truncate -s "$SIZE" "$W/big.bin"
expected_md5=$(md5sum "$W/big.bin" | cut -d' ' -f1)
before=$(vmhwm_kib)
echo "server VmHWM before the transfers: ${before:-?} KiB"

echo "# 1 GiB PUT"
t0=$(date +%s.%N)
# -T streams the file (curl reads it as it sends; --data-binary would load 1 GiB into curl).
status=$(curl -s -S --max-time 600 -T "$W/big.bin" -D "$W/put.h" -o "$W/put.b" -w '%{http_code}' \
              "$E/$B/big.bin") || status="curl failed"
t1=$(date +%s.%N)
check "1 GiB PUT -> 200" 200 "$status"
put_etag=$(grep -i '^etag:' "$W/put.h" | cut -d: -f2- | tr -d ' \r')
check "PUT ETag is the MD5 of 1 GiB" "\"$expected_md5\"" "$put_etag"
echo "PUT took $(awk "BEGIN { printf \"%.1f\", $t1 - $t0 }") s"
rm -f "$W/big.bin"

echo "# 1 GiB GET"
head_len=$(curl -s -I "$E/$B/big.bin" | grep -i '^content-length:' | tr -d ' \r' | cut -d: -f2)
check "HEAD Content-Length" "$SIZE" "$head_len"
t0=$(date +%s.%N)
read -r got_md5 got_len < <(curl -s -S --max-time 600 -D "$W/get.h" "$E/$B/big.bin" | python3 -c '
import hashlib, sys
h, n = hashlib.md5(), 0
while chunk := sys.stdin.buffer.read(1 << 20):
    h.update(chunk)
    n += len(chunk)
print(h.hexdigest(), n)')
t1=$(date +%s.%N)
check "GET body MD5" "$expected_md5" "${got_md5:-}"
check "GET byte count" "$SIZE" "${got_len:-}"
check_match "GET -> 200" '^HTTP/1\.1 200' "$(head -n 1 "$W/get.h")"
echo "GET took $(awk "BEGIN { printf \"%.1f\", $t1 - $t0 }") s"

check "ranged GET of the last 4 bytes -> 206" 206 \
    "$(curl -s -o "$W/tail" -w '%{http_code}' -H "Range: bytes=$((SIZE - 4))-" "$E/$B/big.bin")"
cmp -s "$W/tail" <(head -c 4 /dev/zero) && ok "last 4 bytes are zeros" || fail "last 4 bytes are zeros"

echo "# memory"
peak=$(vmhwm_kib)
echo "server peak RSS (VmHWM) after 1 GiB in and out: ${peak:-?} KiB ($(( ${peak:-0} / 1024 )) MiB), limit $LIMIT_KIB KiB"
if [[ "${IFMATCH_SKIP_RSS:-0}" == 1 ]]; then
    echo "RSS ceiling not checked: IFMATCH_SKIP_RSS=1"
elif grep -a -q -m1 -E '__asan_init|__tsan_init' "$IFMATCH_BIN"; then
    echo "RSS ceiling not checked: sanitizer build"
elif [[ -z "$peak" ]]; then
    fail "read VmHWM from /proc/$PID/status" "server process gone?"
else
    (( peak < LIMIT_KIB )) && ok "peak RSS ${peak} KiB < 100 MiB" \
        || fail "peak RSS below 100 MiB" "${peak} KiB"
fi

echo "# cleanup"
check "DELETE the big object" 204 "$(curl -s -o /dev/null -w '%{http_code}' -X DELETE "$E/$B/big.bin")"
check "server healthy after the big transfers" 200 \
    "$(curl -s -o /dev/null -w '%{http_code}' "$E/_ifmatch/health")"

finish
