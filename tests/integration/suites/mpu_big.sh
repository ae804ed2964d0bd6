#!/usr/bin/env bash
# A 1 GiB multipart upload (`aws s3 cp` of a sparse file: 8 MiB parts, CRC32 checksums) and its
# download (run through ../run.sh): bytes checked by MD5, and the server's peak RSS (VmHWM of the
# server) must stay under 100 MiB. The RSS check is skipped for sanitizer builds or with
# IFMATCH_SKIP_RSS=1.
set -uo pipefail
# shellcheck source=../lib.sh
source "$IFMATCH_ITEST_DIR/lib.sh"

if ! command -v aws >/dev/null; then
    echo "=================================================================="
    echo "SKIPPED: aws CLI not installed; suite mpu_big did not run"
    echo "=================================================================="
    exit 0
fi

W="$IFMATCH_TMP/scratch/mpubig"
mkdir -p "$W"
export AWS_CONFIG_FILE="$W/config"
: >"$AWS_CONFIG_FILE"
aws configure set default.region us-east-1
aws configure set default.max_attempts 1
ep=(--endpoint-url "$IFMATCH_ENDPOINT")
B=mpu-big
SIZE=${IFMATCH_BIG_BYTES:-$((1024 * 1024 * 1024))}
LIMIT_KIB=$((100 * 1024))
PID=$(cat "$IFMATCH_PIDFILE")
vmhwm_kib() { awk '/^VmHWM:/ { print $2 }' "/proc/$PID/status" 2>/dev/null; }

check "mb" 0 "$(aws "${ep[@]}" s3 mb "s3://$B" >/dev/null 2>"$W/err"; echo $?)"
truncate -s "$SIZE" "$W/big.bin"
echo 'not only zeros' | dd of="$W/big.bin" bs=1 seek=$((SIZE / 2)) conv=notrunc status=none
expected_md5=$(md5sum "$W/big.bin" | cut -d' ' -f1)
echo "server VmHWM before: $(vmhwm_kib) KiB"
t0=$(date +%s)
check "s3 cp 1 GiB up (multipart)" 0 \
    "$(aws "${ep[@]}" s3 cp "$W/big.bin" "s3://$B/big.bin" >/dev/null 2>"$W/err"; echo $?)"
echo "upload took $(( $(date +%s) - t0 )) s"
rm -f "$W/big.bin"
parts=$(aws "${ep[@]}" s3api head-object --bucket "$B" --key big.bin --query ETag --output text \
        2>/dev/null | sed -E 's/.*-([0-9]+)"?$/\1/')
check "multipart ETag with 128 parts" 128 "$parts"
t0=$(date +%s)
got_md5=$(aws "${ep[@]}" s3 cp "s3://$B/big.bin" - 2>"$W/err" | md5sum | cut -d' ' -f1)
echo "download took $(( $(date +%s) - t0 )) s"
check "downloaded MD5" "$expected_md5" "$got_md5"

peak=$(vmhwm_kib)
echo "server peak RSS (VmHWM) after a 1 GiB multipart upload and download: ${peak:-?} KiB ($(( ${peak:-0} / 1024 )) MiB), limit $LIMIT_KIB KiB"
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
check "rm" 0 "$(aws "${ep[@]}" s3 rm "s3://$B/big.bin" >/dev/null 2>&1; echo $?)"
check "server healthy" 200 "$(curl -s -o /dev/null -w '%{http_code}' "$IFMATCH_ENDPOINT/_ifmatch/health")"
finish
