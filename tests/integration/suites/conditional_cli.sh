#!/usr/bin/env bash
# The conditional-request seeds of the spec issue as real AWS CLI commands (run through ../run.sh):
# put-object --if-none-match "*" / --if-match (R-P4, R-P5, R-P7, R-P8, R-P9), head-object with a
# --query projection, copy-object --copy-source-if-match / --copy-source-if-none-match (R-C1) and
# destination --if-match / --if-none-match (R-C9, R-C10), delete-object --if-match (R-D1, R-D2, R-D4).
# Failures must exit non-zero (CLI v2: 254, v1: 255) with the S3 error code in the error text.
set -uo pipefail
# shellcheck source=../lib.sh
source "$IFMATCH_ITEST_DIR/lib.sh"

aws_cli_setup conditional_cli cli
B=cli-cond
K=lock.json
F="$W/body1"; G="$W/body2"
printf 'first body' >"$F"
printf 'second body' >"$G"

# err_cmd NAME CODE ARGS...: expects a non-zero exit whose error text names CODE.
err_cmd() {
    local name=$1 code=$2; shift 2
    aws "${ep[@]}" "$@" >"$W/out" 2>"$W/err"
    local rc=$?
    ERR=$(cat "$W/err")
    if [[ $rc -ne 0 && "$ERR" == *"$code"* ]]; then
        ok "$name (exit $rc)"
    else
        fail "$name" "expected non-zero exit mentioning $code, got exit $rc: $(tr '\n' ' ' <"$W/err" | cut -c1-300)"
    fi
}

etag_of() { python3 -c 'import json,sys; print(json.load(sys.stdin)["ETag"])' <<<"$1"; }

ok_cmd "create-bucket" s3api create-bucket --bucket "$B"

# PutObject If-None-Match (R-P4, R-P5): first wins, second 412.
ok_cmd "R-P4 put-object --if-none-match '*' on absent key" \
    s3api put-object --bucket "$B" --key "$K" --body "$F" --if-none-match "*"
E1=$(etag_of "$OUT")
check "R-P4 returned ETag is the MD5" "\"$(md5sum "$F" | cut -d' ' -f1)\"" "$E1"
err_cmd "R-P5 second put-object --if-none-match '*' -> PreconditionFailed" PreconditionFailed \
    s3api put-object --bucket "$B" --key "$K" --body "$G" --if-none-match "*"
check_match "R-P5 error text names the 412" "412|PreconditionFailed" "$ERR"

# head-object projection.
ok_cmd "head-object --query" s3api head-object --bucket "$B" --key "$K" \
    --query '{ETag:ETag,LastModified:LastModified,VersionId:VersionId,ContentLength:ContentLength}'
HEAD_ETAG=$(python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["ETag"], d["ContentLength"], d["LastModified"] is not None)' <<<"$OUT")
check "head-object: ETag, ContentLength, LastModified" "$E1 10 True" "$HEAD_ETAG"

# PutObject If-Match (R-P7, R-P8, R-P9).
ok_cmd "R-P7 put-object --if-match current ETag" \
    s3api put-object --bucket "$B" --key "$K" --body "$G" --if-match "$E1"
E2=$(etag_of "$OUT")
if [[ "$E2" != "$E1" && -n "$E2" ]]; then ok "R-P7 new ETag differs"; else fail "R-P7 new ETag differs" "$E1 -> $E2"; fi
err_cmd "R-P8 put-object --if-match stale ETag -> PreconditionFailed" PreconditionFailed \
    s3api put-object --bucket "$B" --key "$K" --body "$F" --if-match "$E1"
err_cmd "R-P9 put-object --if-match on absent key -> NoSuchKey" NoSuchKey \
    s3api put-object --bucket "$B" --key absent --body "$F" --if-match "$E1"

# CopyObject source conditions (R-C1) and destination conditions (R-C9, R-C10).
ok_cmd "R-C1 copy-object --copy-source-if-match current" \
    s3api copy-object --bucket "$B" --key copy1 --copy-source "$B/$K" --copy-source-if-match "$E2"
err_cmd "R-C1 copy-object --copy-source-if-match stale -> PreconditionFailed" PreconditionFailed \
    s3api copy-object --bucket "$B" --key copy2 --copy-source "$B/$K" --copy-source-if-match "$E1"
err_cmd "R-C1 copy-object --copy-source-if-none-match current -> PreconditionFailed (never 304)" \
    PreconditionFailed \
    s3api copy-object --bucket "$B" --key copy2 --copy-source "$B/$K" --copy-source-if-none-match "$E2"
ok_cmd "R-C1 copy-object --copy-source-if-none-match other" \
    s3api copy-object --bucket "$B" --key copy2 --copy-source "$B/$K" --copy-source-if-none-match "$E1"
err_cmd "R-C9 copy-object --if-none-match '*' onto existing -> PreconditionFailed" PreconditionFailed \
    s3api copy-object --bucket "$B" --key copy1 --copy-source "$B/$K" --if-none-match "*"
ok_cmd "R-C9 copy-object --if-none-match '*' onto absent" \
    s3api copy-object --bucket "$B" --key copy3 --copy-source "$B/$K" --if-none-match "*"
ok_cmd "R-C10 copy-object --if-match destination ETag" \
    s3api copy-object --bucket "$B" --key copy1 --copy-source "$B/$K" --if-match "$E2"
err_cmd "R-C10 copy-object --if-match on absent destination -> NoSuchKey" NoSuchKey \
    s3api copy-object --bucket "$B" --key copy9 --copy-source "$B/$K" --if-match "$E2"

# DeleteObject If-Match (R-D1, R-D2, R-D4).
err_cmd "R-D2 delete-object --if-match mismatch -> PreconditionFailed" PreconditionFailed \
    s3api delete-object --bucket "$B" --key "$K" --if-match "$E1"
ok_cmd "R-D1 delete-object --if-match match (204)" \
    s3api delete-object --bucket "$B" --key "$K" --if-match "$E2"
err_cmd "R-D4 delete-object --if-match on absent key -> NoSuchKey" NoSuchKey \
    s3api delete-object --bucket "$B" --key "$K" --if-match "$E2"
err_cmd "R-D4 object is gone" "404" s3api head-object --bucket "$B" --key "$K"

finish
