#!/usr/bin/env bash
# Multipart through the AWS CLI (run through ../run.sh): `aws s3 cp` of a 50 MiB file up and down
# (the CLI switches to multipart above 8 MiB: CreateMultipartUpload / UploadPart /
# CompleteMultipartUpload, then ranged GETs), byte compare, the R-E3 ETag, `aws s3api
# list-object-versions` and list-multipart-uploads / abort.
set -uo pipefail
# shellcheck source=../lib.sh
source "$IFMATCH_ITEST_DIR/lib.sh"

if ! command -v aws >/dev/null; then
    echo "=================================================================="
    echo "SKIPPED: aws CLI not installed; suite mpu_cli did not run"
    echo "=================================================================="
    exit 0
fi

W="$IFMATCH_TMP/scratch/mpucli"
mkdir -p "$W"
export AWS_CONFIG_FILE="$W/config"
: >"$AWS_CONFIG_FILE"
aws configure set default.region us-east-1
aws configure set default.max_attempts 1
aws configure set default.retry_mode standard
ep=(--endpoint-url "$IFMATCH_ENDPOINT")
B=mpu-cli

awsq() { aws "${ep[@]}" "$@" 2>"$W/err"; }

check "mb" 0 "$(awsq s3 mb "s3://$B" >/dev/null; echo $?)"
check "put-bucket-versioning" 0 "$(awsq s3api put-bucket-versioning --bucket "$B" \
    --versioning-configuration Status=Enabled; echo $?)"
head -c $((50 * 1024 * 1024)) /dev/urandom >"$W/fifty.bin"
check "s3 cp up (multipart)" 0 "$(awsq s3 cp "$W/fifty.bin" "s3://$B/fifty.bin" >/dev/null; echo $?)"
etag=$(awsq s3api head-object --bucket "$B" --key fifty.bin --query ETag --output text)
expected=$(python3 - "$W/fifty.bin" <<'PY'
import hashlib, sys
data = open(sys.argv[1], "rb").read()
step = 8 * 1024 * 1024
parts = [data[i:i + step] for i in range(0, len(data), step)]
print('"%s-%d"' % (hashlib.md5(b"".join(hashlib.md5(p).digest() for p in parts)).hexdigest(),
                   len(parts)))
PY
)
check "ETag is the multipart form (R-E3, 8 MiB parts)" "$expected" "$etag"
check "s3 cp down" 0 "$(awsq s3 cp "s3://$B/fifty.bin" "$W/fifty.out" >/dev/null; echo $?)"
if cmp -s "$W/fifty.bin" "$W/fifty.out"; then ok "downloaded bytes equal"; else fail "downloaded bytes equal"; fi
check "s3 cp again (second version)" 0 \
    "$(awsq s3 cp "$W/fifty.bin" "s3://$B/fifty.bin" >/dev/null; echo $?)"
versions=$(awsq s3api list-object-versions --bucket "$B" \
    --query 'length(Versions[?Key==`fifty.bin`])' --output text)
check "list-object-versions: two versions" 2 "$versions"
latest=$(awsq s3api list-object-versions --bucket "$B" --query 'Versions[0].IsLatest' --output text)
check "first listed version is latest" True "$latest"
uid=$(awsq s3api create-multipart-upload --bucket "$B" --key pending --query UploadId --output text)
listed=$(awsq s3api list-multipart-uploads --bucket "$B" --query 'Uploads[0].UploadId' --output text)
check "list-multipart-uploads shows the pending upload" "$uid" "$listed"
check "abort-multipart-upload" 0 \
    "$(awsq s3api abort-multipart-upload --bucket "$B" --key pending --upload-id "$uid"; echo $?)"
left=$(awsq s3api list-multipart-uploads --bucket "$B" --query 'length(Uploads || `[]`)' --output text)
check "no uploads left" 0 "$left"
finish
