#!/usr/bin/env bash
# Every bucket sub-resource as the AWS CLI sees it (run through ../run.sh;
# docs/bucket-configuration.md): the not-configured answers B-N1..B-N9 with their exit codes and
# error codes, the 501s B-U4, replication's validation (B-R1), Object Lock at CreateBucket, the
# lifecycle configuration (B-C6), the diagnosis commands of a 409 story verbatim,
# CLI round trips of stored configurations (B-S4..B-S7), and the /_ifmatch/ paths and console still
# answering. A failed command must exit 255 (CLI v1) or 254 (CLI v2) with the S3 code in its text.
set -uo pipefail
# shellcheck source=../lib.sh
source "$IFMATCH_ITEST_DIR/lib.sh"

aws_cli_setup bucket_config_cli cli
B=cli-config

# err_cmd NAME CODE ARGS...: expects exit 255/254 and "(CODE)" in the error text.
err_cmd() {
    local name=$1 code=$2; shift 2
    aws "${ep[@]}" "$@" >"$W/out" 2>"$W/err"
    local rc=$?
    ERR=$(cat "$W/err")
    if [[ ($rc -eq 255 || $rc -eq 254) && "$ERR" == *"($code)"* ]]; then
        ok "$name (exit $rc)"
    else
        fail "$name" "expected exit 255/254 naming ($code), got exit $rc: $(tr '\n' ' ' <"$W/err" | cut -c1-300)"
    fi
}

# json_get EXPR: evaluates a Python expression over the parsed $OUT (`d`; {} when empty).
json_get() {
    python3 -c 'import json,sys; t=sys.stdin.read(); d=json.loads(t) if t.strip() else {}; print(eval(sys.argv[1]))' "$1" <<<"$OUT"
}

ok_cmd "create-bucket" s3api create-bucket --bucket "$B"

echo "# the commands a 409 diagnosis runs, verbatim"
ok_cmd "get-bucket-versioning (never set: empty)" s3api get-bucket-versioning --bucket "$B"
check_match "... no Status" "^[[:space:]]*$" "$OUT"
ok_cmd "put-bucket-versioning Enabled" s3api put-bucket-versioning --bucket "$B" \
    --versioning-configuration Status=Enabled
ok_cmd "get-bucket-versioning" s3api get-bucket-versioning --bucket "$B" --query Status --output text
check_match "... Enabled" "^Enabled$" "$OUT"
printf 'first' >"$W/v1"
printf 'second' >"$W/v2"
ok_cmd "put-object v1" s3api put-object --bucket "$B" --key manifest.json --body "$W/v1" \
    --query VersionId --output text
V1=$OUT
ok_cmd "put-object v2" s3api put-object --bucket "$B" --key manifest.json --body "$W/v2"
ok_cmd "get-object --version-id (the older version)" s3api get-object --bucket "$B" \
    --key manifest.json --version-id "$V1" "$W/got"
check_match "... its bytes" "^first$" "$(cat "$W/got")"
ok_cmd "list-multipart-uploads (none)" s3api list-multipart-uploads --bucket "$B" \
    --query 'length(Uploads || `[]`)' --output text
check_match "... zero" "^0$" "$OUT"

echo "# not configured (B-N1..B-N9)"
err_cmd "B-N1 get-bucket-lifecycle-configuration -> NoSuchLifecycleConfiguration" \
    NoSuchLifecycleConfiguration s3api get-bucket-lifecycle-configuration --bucket "$B"
check_match "B-N1 the error text carries S3's message" "The lifecycle configuration does not exist" "$ERR"
err_cmd "B-N1 get-bucket-lifecycle (deprecated) -> NoSuchLifecycleConfiguration" \
    NoSuchLifecycleConfiguration s3api get-bucket-lifecycle --bucket "$B"
ok_cmd "B-N1 delete-bucket-lifecycle without one (204)" s3api delete-bucket-lifecycle --bucket "$B"
err_cmd "B-N2 get-bucket-replication -> ReplicationConfigurationNotFoundError" \
    ReplicationConfigurationNotFoundError s3api get-bucket-replication --bucket "$B"
ok_cmd "B-N2 delete-bucket-replication without one (204)" s3api delete-bucket-replication --bucket "$B"
err_cmd "B-N3 get-object-lock-configuration -> ObjectLockConfigurationNotFoundError" \
    ObjectLockConfigurationNotFoundError s3api get-object-lock-configuration --bucket "$B"
err_cmd "B-N4 get-bucket-website -> NoSuchWebsiteConfiguration" \
    NoSuchWebsiteConfiguration s3api get-bucket-website --bucket "$B"
err_cmd "B-N5 get-public-access-block -> NoSuchPublicAccessBlockConfiguration" \
    NoSuchPublicAccessBlockConfiguration s3api get-public-access-block --bucket "$B"
err_cmd "B-N6 get-bucket-policy-status without a policy -> NoSuchBucketPolicy" \
    NoSuchBucketPolicy s3api get-bucket-policy-status --bucket "$B"
ok_cmd "B-N7 get-bucket-logging" s3api get-bucket-logging --bucket "$B"
check "B-N7 get-bucket-logging: no LoggingEnabled" "None" "$(json_get 'd.get("LoggingEnabled")')"
ok_cmd "B-N7 get-bucket-notification-configuration" \
    s3api get-bucket-notification-configuration --bucket "$B"
check "B-N7 no notification targets" "[]" \
    "$(json_get '[k for k in d if k.endswith("Configurations") or k == "EventBridgeConfiguration"]')"
ok_cmd "B-N7 get-bucket-accelerate-configuration" \
    s3api get-bucket-accelerate-configuration --bucket "$B"
check "B-N7 accelerate: no Status" "None" "$(json_get 'd.get("Status")')"
ok_cmd "B-N8 get-bucket-request-payment" s3api get-bucket-request-payment --bucket "$B"
check "B-N8 Payer BucketOwner" "BucketOwner" "$(json_get 'd["Payer"]')"
for kind in analytics intelligent-tiering inventory metrics; do
    ok_cmd "B-N9 list-bucket-$kind-configurations" \
        s3api "list-bucket-$kind-configurations" --bucket "$B"
    check "B-N9 $kind: IsTruncated false, nothing listed" "False []" \
        "$(json_get '" ".join([str(d.get("IsTruncated")), str([k for k in d if k.endswith("List")])])')"
done
err_cmd "B-N9 get-bucket-analytics-configuration --id -> NoSuchConfiguration" \
    NoSuchConfiguration s3api get-bucket-analytics-configuration --bucket "$B" --id report
err_cmd "B-N9 get-bucket-inventory-configuration --id -> NoSuchConfiguration" \
    NoSuchConfiguration s3api get-bucket-inventory-configuration --bucket "$B" --id report
err_cmd "B-N9 delete-bucket-metrics-configuration --id -> NoSuchConfiguration" \
    NoSuchConfiguration s3api delete-bucket-metrics-configuration --bucket "$B" --id report
err_cmd "B-N9 get-bucket-intelligent-tiering-configuration --id -> NoSuchConfiguration" \
    NoSuchConfiguration s3api get-bucket-intelligent-tiering-configuration --bucket "$B" --id report
err_cmd "NoSuchBucket wins: get-bucket-lifecycle-configuration on a missing bucket" \
    NoSuchBucket s3api get-bucket-lifecycle-configuration --bucket cli-config-missing
err_cmd "NoSuchBucket wins: list-bucket-metrics-configurations on a missing bucket" \
    NoSuchBucket s3api list-bucket-metrics-configurations --bucket cli-config-missing
err_cmd "NoSuchBucket wins: delete-bucket-lifecycle on a missing bucket" \
    NoSuchBucket s3api delete-bucket-lifecycle --bucket cli-config-missing

echo "# lifecycle configuration (B-C6)"
ok_cmd "put-bucket-lifecycle-configuration" \
    s3api put-bucket-lifecycle-configuration --bucket "$B" --lifecycle-configuration \
    '{"Rules":[{"ID":"r","Status":"Enabled","Filter":{"Prefix":"tmp/"},"Expiration":{"Days":1}}]}'
ok_cmd "get-bucket-lifecycle-configuration" s3api get-bucket-lifecycle-configuration --bucket "$B" \
    --query 'Rules[0].[ID,Status,Filter.Prefix,Expiration.Days]' --output text
check_match "the rule comes back as sent" "^r[[:space:]]+Enabled[[:space:]]+tmp/[[:space:]]+1$" "$OUT"
err_cmd "B-C6 Days 0 -> InvalidArgument" InvalidArgument \
    s3api put-bucket-lifecycle-configuration --bucket "$B" --lifecycle-configuration \
    '{"Rules":[{"ID":"r","Status":"Enabled","Filter":{"Prefix":""},"Expiration":{"Days":0}}]}'
ok_cmd "delete-bucket-lifecycle" s3api delete-bucket-lifecycle --bucket "$B"
err_cmd "B-N1 after the delete: NoSuchLifecycleConfiguration" NoSuchLifecycleConfiguration \
    s3api get-bucket-lifecycle-configuration --bucket "$B"

echo "# Object Lock parameters while no bucket has Object Lock (B-L5)"
err_cmd "B-L5 put-object-retention -> InvalidRequest" InvalidRequest \
    s3api put-object-retention --bucket "$B" --key manifest.json \
    --retention '{"Mode":"GOVERNANCE","RetainUntilDate":"2030-01-01T00:00:00Z"}'
check_match "B-L5 ... Bucket is missing Object Lock Configuration" \
    "Bucket is missing Object Lock Configuration" "$ERR"
err_cmd "B-L5 get-object-legal-hold -> InvalidRequest" InvalidRequest \
    s3api get-object-legal-hold --bucket "$B" --key manifest.json
err_cmd "B-L5 NoSuchBucket first" NoSuchBucket \
    s3api get-object-retention --bucket cli-config-missing --key k
err_cmd "B-L5 put-object with --object-lock-mode -> InvalidRequest" InvalidRequest \
    s3api put-object --bucket "$B" --key locked --body "$W/v1" --object-lock-mode GOVERNANCE \
    --object-lock-retain-until-date 2030-01-01T00:00:00Z
check_match "B-L5 ... S3's wording for writes" "Bucket is missing ObjectLockConfiguration" "$ERR"
err_cmd "B-L5 ... and nothing was written" 404 s3api head-object --bucket "$B" --key locked

echo "# replication validation (B-R1) and what is not implemented yet (B-U4)"
err_cmd "B-R1 put-bucket-replication to a missing destination -> InvalidRequest" InvalidRequest \
    s3api put-bucket-replication --bucket "$B" --replication-configuration \
    '{"Role":"arn:aws:iam::123456789012:role/r","Rules":[{"Status":"Enabled","Prefix":"","Destination":{"Bucket":"arn:aws:s3:::dest"}}]}'
err_cmd "B-U4 put-bucket-metrics-configuration -> NotImplemented" NotImplemented \
    s3api put-bucket-metrics-configuration --bucket "$B" --id m --metrics-configuration '{"Id":"m"}'
err_cmd "B-U4 put-bucket-intelligent-tiering-configuration -> NotImplemented" NotImplemented \
    s3api put-bucket-intelligent-tiering-configuration --bucket "$B" --id t \
    --intelligent-tiering-configuration \
    '{"Id":"t","Status":"Enabled","Tierings":[{"Days":90,"AccessTier":"ARCHIVE_ACCESS"}]}'
err_cmd "B-U4 put-bucket-analytics-configuration -> NotImplemented" NotImplemented \
    s3api put-bucket-analytics-configuration --bucket "$B" --id a \
    --analytics-configuration '{"Id":"a","StorageClassAnalysis":{}}'
err_cmd "B-U4 put-bucket-inventory-configuration -> NotImplemented" NotImplemented \
    s3api put-bucket-inventory-configuration --bucket "$B" --id i --inventory-configuration \
    '{"Id":"i","IsEnabled":true,"IncludedObjectVersions":"Current","Schedule":{"Frequency":"Daily"},"Destination":{"S3BucketDestination":{"Bucket":"arn:aws:s3:::x","Format":"CSV"}}}'
echo "# Object Lock at CreateBucket (B-L1; object_lock_cli.sh has the rest)"
ok_cmd "B-L1 create-bucket --object-lock-enabled-for-bucket" \
    s3api create-bucket --bucket cli-config-locked --object-lock-enabled-for-bucket
ok_cmd "B-L1 ... versioning is Enabled" s3api get-bucket-versioning --bucket cli-config-locked \
    --query Status --output text
check_match "B-L1 ... Enabled" "Enabled" "$OUT"
ok_cmd "B-L1 create-bucket --no-object-lock-enabled-for-bucket is accepted" \
    s3api create-bucket --bucket cli-config-unlocked --no-object-lock-enabled-for-bucket
ok_cmd "B-L1 that bucket exists" s3api head-bucket --bucket cli-config-unlocked
err_cmd "B-L1 put-object-lock-configuration without versioning -> InvalidBucketState" \
    InvalidBucketState s3api put-object-lock-configuration --bucket cli-config-unlocked \
    --object-lock-configuration '{"ObjectLockEnabled":"Enabled"}'

echo "# stored configurations through the CLI (B-S4..B-S7)"
ok_cmd "B-S4 put-bucket-accelerate-configuration Enabled" \
    s3api put-bucket-accelerate-configuration --bucket "$B" --accelerate-configuration Status=Enabled
ok_cmd "B-S4 get-bucket-accelerate-configuration" s3api get-bucket-accelerate-configuration --bucket "$B"
check "B-S4 Status Enabled" "Enabled" "$(json_get 'd.get("Status")')"
ok_cmd "B-S5 put-bucket-request-payment Requester" s3api put-bucket-request-payment --bucket "$B" \
    --request-payment-configuration Payer=Requester
ok_cmd "B-S5 get-bucket-request-payment" s3api get-bucket-request-payment --bucket "$B"
check "B-S5 Payer Requester" "Requester" "$(json_get 'd["Payer"]')"
ok_cmd "B-S6 put-public-access-block" s3api put-public-access-block --bucket "$B" \
    --public-access-block-configuration BlockPublicAcls=true,IgnorePublicAcls=false,BlockPublicPolicy=true,RestrictPublicBuckets=false
ok_cmd "B-S6 get-public-access-block" s3api get-public-access-block --bucket "$B"
check "B-S6 the four settings" "True False True False" \
    "$(json_get '" ".join(str(d["PublicAccessBlockConfiguration"][k]) for k in ("BlockPublicAcls","IgnorePublicAcls","BlockPublicPolicy","RestrictPublicBuckets"))')"
PUBLIC='{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::cli-config/*"}]}'
err_cmd "B-S6 BlockPublicPolicy refuses a public policy -> AccessDenied" AccessDenied \
    s3api put-bucket-policy --bucket "$B" --policy "$PUBLIC"
err_cmd "B-S6 nothing was stored" NoSuchBucketPolicy s3api get-bucket-policy --bucket "$B"
ok_cmd "B-S6 delete-public-access-block" s3api delete-public-access-block --bucket "$B"
err_cmd "B-S6 deleted: NoSuchPublicAccessBlockConfiguration" \
    NoSuchPublicAccessBlockConfiguration s3api get-public-access-block --bucket "$B"
ok_cmd "B-S7 put-bucket-policy (public, now allowed)" s3api put-bucket-policy --bucket "$B" --policy "$PUBLIC"
ok_cmd "B-S7 get-bucket-policy-status" s3api get-bucket-policy-status --bucket "$B"
check "B-S7 IsPublic true for Principal \"*\" without conditions" "True" \
    "$(json_get 'd["PolicyStatus"]["IsPublic"]')"
ok_cmd "B-S7 put-bucket-policy (fixed account)" s3api put-bucket-policy --bucket "$B" --policy \
    '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::cli-config/*"}]}'
ok_cmd "B-S7 get-bucket-policy-status" s3api get-bucket-policy-status --bucket "$B"
check "B-S7 IsPublic false for a fixed principal" "False" "$(json_get 'd["PolicyStatus"]["IsPublic"]')"

echo "# ifmatch's own paths still answer"
status_of() { curl -s -o "$W/body" -w '%{http_code}' "$IFMATCH_ENDPOINT$1"; }
check "/_ifmatch/health" 200 "$(status_of /_ifmatch/health)"
check "/_ifmatch/ui (console)" 200 "$(status_of /_ifmatch/ui)"
check_match "the console page is HTML" "<html|<!doctype" "$(tr 'A-Z' 'a-z' <"$W/body" | head -c 2000)"
check "/_ifmatch/api/buckets" 200 "$(status_of /_ifmatch/api/buckets)"
check_match "the console API lists the bucket" "\"$B\"" "$(cat "$W/body")"
check "/_ifmatch/buckets/$B/settings" 200 "$(status_of "/_ifmatch/buckets/$B/settings")"
check "/_ifmatch/metrics" 200 "$(status_of /_ifmatch/metrics)"
check_match "metrics count the new operations by S3 name" \
    'ifmatch_requests_total\{operation="GetBucketLifecycleConfiguration"[^}]*\} [1-9]' "$(cat "$W/body")"

finish
