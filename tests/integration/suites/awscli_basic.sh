#!/usr/bin/env bash
# Core flow through the AWS CLI (`aws s3` and `aws s3api`), run through ../run.sh.
# Objects stay below the multipart threshold (set to 64 MB in a private config file).
set -uo pipefail
# shellcheck source=../lib.sh
source "$IFMATCH_ITEST_DIR/lib.sh"

aws_cli_setup awscli_basic cli
aws configure set default.s3.multipart_threshold 64MB
B=cli-basic

# run_aws NAME ARGS...: runs aws, keeps stdout in $OUT and stderr in $ERR, records pass/fail on rc.
run_aws() {
    local name=$1; shift
    if aws "${ep[@]}" "$@" >"$W/out" 2>"$W/err"; then
        OUT=$(cat "$W/out"); ok "$name"; return 0
    fi
    local rc=$?
    OUT=$(cat "$W/out")
    fail "$name" "aws $* -> exit $rc: $(tail -n 3 "$W/err" | tr '\n' ' ')"
    return 1
}

# run_aws_fails NAME REGEX ARGS...: expects a non-zero exit and stderr matching REGEX.
run_aws_fails() {
    local name=$1 re=$2; shift 2
    if aws "${ep[@]}" "$@" >"$W/out" 2>"$W/err"; then
        fail "$name" "aws $* succeeded: $(head -c 300 "$W/out")"
        return
    fi
    check_match "$name" "$re" "$(cat "$W/err")"
}

echo "# buckets"
run_aws "s3 mb" s3 mb "s3://$B" && check "mb prints make_bucket" "make_bucket: $B" "$OUT"
if run_aws "s3 ls (buckets)" s3 ls; then
    grep -qE "^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:]{8} $B\$" <<<"$OUT" && ok "bucket listed" \
        || fail "bucket listed" "$OUT"
fi

echo "# s3 cp up and down"
head -c $((3 * 1024 * 1024 + 12345)) /dev/urandom >"$W/up.bin"
: >"$W/empty.bin"
run_aws "s3 cp upload (3 MiB)" s3 cp "$W/up.bin" "s3://$B/dir/up.bin"
run_aws "s3 cp upload (empty file)" s3 cp "$W/empty.bin" "s3://$B/dir/empty.bin"
run_aws "s3 cp download" s3 cp "s3://$B/dir/up.bin" "$W/down.bin"
if cmp -s "$W/up.bin" "$W/down.bin"; then ok "downloaded bytes equal uploaded"; else fail "downloaded bytes equal uploaded"; fi
run_aws "s3 cp download (empty)" s3 cp "s3://$B/dir/empty.bin" "$W/down-empty.bin"
check "empty object downloads empty" 0 "$(stat -c %s "$W/down-empty.bin" 2>/dev/null || echo missing)"
aws "${ep[@]}" s3 cp "s3://$B/dir/up.bin" - 2>/dev/null | cmp -s - "$W/up.bin" \
    && ok "s3 cp to stdout streams the same bytes" || fail "s3 cp to stdout streams the same bytes"

size=$(stat -c %s "$W/up.bin")
md5=$(md5sum "$W/up.bin" | cut -d' ' -f1)
run_aws "head-object ETag" s3api head-object --bucket "$B" --key dir/up.bin --query ETag --output text \
    && check "single-PUT ETag is the MD5 (not multipart)" "\"$md5\"" "$OUT"

echo "# s3 ls"
run_aws "s3 ls prefix" s3 ls "s3://$B/dir/"
check_match "ls shows up.bin with its size" " $size up\\.bin" "$OUT"
check_match "ls shows empty.bin with size 0" " 0 empty\\.bin" "$OUT"
run_aws "s3 ls bucket root" s3 ls "s3://$B/"
check_match "ls root shows PRE dir/" "PRE dir/" "$OUT"

echo "# s3api put-object / head-object"
printf 'plain text body\n' >"$W/t.txt"
tmd5=$(md5sum "$W/t.txt" | cut -d' ' -f1)
run_aws "s3api put-object" s3api put-object --bucket "$B" --key t.txt --body "$W/t.txt" \
    --content-type text/plain --metadata color=green --query ETag --output text \
    && check "put-object returns the quoted MD5" "\"$tmd5\"" "$OUT"
run_aws "head-object ContentLength" s3api head-object --bucket "$B" --key t.txt --query ContentLength --output text \
    && check "ContentLength" 16 "$OUT"
run_aws "head-object ContentType" s3api head-object --bucket "$B" --key t.txt --query ContentType --output text \
    && check "ContentType" text/plain "$OUT"
run_aws "head-object Metadata" s3api head-object --bucket "$B" --key t.txt --query Metadata.color --output text \
    && check "user metadata" green "$OUT"
run_aws "get-object" s3api get-object --bucket "$B" --key t.txt "$W/t.out"
cmp -s "$W/t.txt" "$W/t.out" && ok "get-object bytes" || fail "get-object bytes"
run_aws "list-objects-v2 KeyCount" s3api list-objects-v2 --bucket "$B" --query "length(Contents)" --output text \
    && check "three objects listed" 3 "$OUT"
run_aws_fails "head-object missing -> 404" "404|Not Found" s3api head-object --bucket "$B" --key nope
run_aws_fails "get-object missing -> NoSuchKey" "NoSuchKey" s3api get-object --bucket "$B" --key nope "$W/nope"
run_aws_fails "get-object missing bucket -> NoSuchBucket" "NoSuchBucket" \
    s3api get-object --bucket cli-no-such-bucket --key nope "$W/nope"

echo "# sync"
mkdir -p "$W/tree/sub"
for i in 1 2 3; do head -c $((i * 1000)) /dev/urandom >"$W/tree/f$i"; done
head -c 5000 /dev/urandom >"$W/tree/sub/g"
# Old mtimes, so the second sync's "local newer than LastModified" test cannot trip on the
# sub-second truncation of Last-Modified.
find "$W/tree" -type f -exec touch -d '2020-01-01 00:00:00 UTC' {} +
run_aws "s3 sync up" s3 sync "$W/tree" "s3://$B/tree"
run_aws "s3 ls --recursive" s3 ls --recursive "s3://$B/tree/"
check "sync uploaded 4 files" 4 "$(grep -c 'tree/' <<<"$OUT")"
run_aws "s3 sync down" s3 sync "s3://$B/tree" "$W/tree2"
diff -r "$W/tree" "$W/tree2" >/dev/null && ok "synced tree round trips" || fail "synced tree round trips"
run_aws "s3 sync again" s3 sync --no-progress "$W/tree" "s3://$B/tree"
check "second sync uploads nothing (sizes and times match)" "" "$OUT"

echo "# rm / rb"
run_aws "s3 rm" s3 rm "s3://$B/dir/up.bin" && check "rm prints delete" "delete: s3://$B/dir/up.bin" "$OUT"
run_aws_fails "removed object is gone" "404|Not Found" s3api head-object --bucket "$B" --key dir/up.bin
run_aws_fails "s3 rb on a non-empty bucket fails with BucketNotEmpty" "BucketNotEmpty" s3 rb "s3://$B"
run_aws "s3 rm --recursive" s3 rm --recursive "s3://$B/"
check "rm --recursive deleted 6 objects" 6 "$(grep -c '^delete: ' <<<"$OUT")"
run_aws "s3 rb" s3 rb "s3://$B" && check "rb prints remove_bucket" "remove_bucket: $B" "$OUT"
run_aws "s3 ls after rb" s3 ls
if grep -q " $B\$" <<<"$OUT"; then fail "bucket gone from ls" "$OUT"; else ok "bucket gone from ls"; fi
run_aws_fails "head-bucket after rb -> 404" "404|Not Found" s3api head-bucket --bucket "$B"

finish
