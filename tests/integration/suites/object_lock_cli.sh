#!/usr/bin/env bash
# Object Lock as the AWS CLI user types it (run through ../run.sh; B-L1..B-L6 in
# docs/bucket-configuration.md): a bucket created with --object-lock-enabled-for-bucket, a
# GOVERNANCE upload with --content-md5 and with --checksum-algorithm CRC32, put-object-retention
# and put-object-legal-hold on a version, delete-object --version-id refused (AccessDenied), then
# allowed with --bypass-governance-retention once the legal hold is OFF, the delete marker a plain
# delete-object still writes, delete-objects reporting a locked key, get-bucket-replication
# (absent, then put) and a locked version replicated with its lock.
# Each command is written out in full, as in a terminal. A failed command must exit 255 (CLI v1)
# or 254 (CLI v2) with the S3 code in its text.
set -uo pipefail
# shellcheck source=../lib.sh
source "$IFMATCH_ITEST_DIR/lib.sh"

aws_cli_setup object_lock_cli cli
B=cli-locked
cd "$W" || exit 1

# succeeds NAME CMD...: the command must exit 0; its stdout lands in $OUT.
succeeds() {
    local name=$1; shift
    "$@" >"$W/out" 2>"$W/err"
    local rc=$?
    OUT=$(cat "$W/out")
    if [[ $rc -eq 0 ]]; then ok "$name"; return 0; fi
    fail "$name" "exit $rc: $(tail -n 3 "$W/err" | tr '\n' ' ' | cut -c1-300)"
    return 1
}

# refused NAME CODE CMD...: the command must exit 255/254 naming (CODE); the error text is in $ERR.
refused() {
    local name=$1 code=$2; shift 2
    "$@" >"$W/out" 2>"$W/err"
    local rc=$?
    ERR=$(cat "$W/err")
    if [[ ($rc -eq 255 || $rc -eq 254) && "$ERR" == *"($code)"* ]]; then
        ok "$name (exit $rc)"
    else
        fail "$name" "expected exit 255/254 naming ($code), got exit $rc: $(tr '\n' ' ' <"$W/err" | cut -c1-300)"
    fi
}

# field EXPR: a Python expression over the JSON in $OUT (`d`; {} when empty).
field() {
    python3 -c 'import json,sys; t=sys.stdin.read(); d=json.loads(t) if t.strip() else {}; print(eval(sys.argv[1]))' "$1" <<<"$OUT"
}

UNTIL=$(date -u -d '+2 days' +%Y-%m-%dT%H:%M:%SZ)
LATER=$(date -u -d '+3 days' +%Y-%m-%dT%H:%M:%SZ)
SOONER=$(date -u -d '+1 day' +%Y-%m-%dT%H:%M:%SZ)
printf 'build artifact 1.0\n' >artifact.tar
printf 'second artifact\n' >second.tar

echo "# a bucket with Object Lock (B-L1)"
succeeds "create-bucket --object-lock-enabled-for-bucket" \
    aws s3api create-bucket --bucket "$B" --object-lock-enabled-for-bucket --endpoint-url "$IFMATCH_ENDPOINT"
succeeds "get-object-lock-configuration" \
    aws s3api get-object-lock-configuration --bucket "$B" --endpoint-url "$IFMATCH_ENDPOINT"
check "B-L1 ObjectLockEnabled: Enabled" "Enabled" "$(field 'd["ObjectLockConfiguration"]["ObjectLockEnabled"]')"
succeeds "get-bucket-versioning" \
    aws s3api get-bucket-versioning --bucket "$B" --endpoint-url "$IFMATCH_ENDPOINT"
check "B-L1 versioning came with it: Enabled" "Enabled" "$(field 'd.get("Status")')"
refused "B-L1 put-bucket-versioning Suspended -> InvalidBucketState" InvalidBucketState \
    aws s3api put-bucket-versioning --bucket "$B" --versioning-configuration Status=Suspended --endpoint-url "$IFMATCH_ENDPOINT"

echo "# a GOVERNANCE upload (B-L6: Content-MD5 or a checksum)"
MD5=$(openssl md5 -binary artifact.tar | base64)
succeeds "put-object --object-lock-mode GOVERNANCE --object-lock-retain-until-date --content-md5" \
    aws s3api put-object --bucket "$B" --key artifact.tar --body artifact.tar \
    --object-lock-mode GOVERNANCE --object-lock-retain-until-date "$UNTIL" --content-md5 "$MD5" \
    --endpoint-url "$IFMATCH_ENDPOINT" --debug
grep -o "'Content-MD5': b\?'[^']*'" "$W/err" >"$W/sent" || true
check_match "(precondition) the CLI sent our Content-MD5" "^[1-9][0-9]*$" "$(grep -c -F "$MD5" "$W/sent")"
V=$(field 'd.get("VersionId", "")')
check_match "... a VersionId" "^.+$" "$V"
succeeds "head-object --version-id" \
    aws s3api head-object --bucket "$B" --key artifact.tar --version-id "$V" --endpoint-url "$IFMATCH_ENDPOINT"
check "HEAD: ObjectLockMode GOVERNANCE" "GOVERNANCE" "$(field 'd.get("ObjectLockMode")')"
check_match "HEAD: ObjectLockRetainUntilDate is the date sent" "^${UNTIL%Z}(\.000)?(Z|\+00:00)$" \
    "$(field 'd.get("ObjectLockRetainUntilDate")')"
succeeds "put-object --checksum-algorithm CRC32 with the lock options" \
    aws s3api put-object --bucket "$B" --key second.tar --body second.tar \
    --object-lock-mode GOVERNANCE --object-lock-retain-until-date "$UNTIL" --checksum-algorithm CRC32 \
    --endpoint-url "$IFMATCH_ENDPOINT"
V2=$(field 'd.get("VersionId", "")')
check_match "... a VersionId and a ChecksumCRC32" "^.+ .+$" "$V2 $(field 'd.get("ChecksumCRC32", "")')"

echo "# retention and legal hold on the version (B-L4)"
succeeds "get-object-retention --version-id" \
    aws s3api get-object-retention --bucket "$B" --key artifact.tar --version-id "$V" --endpoint-url "$IFMATCH_ENDPOINT"
check "... Mode GOVERNANCE" "GOVERNANCE" "$(field 'd["Retention"]["Mode"]')"
succeeds "put-object-retention --retention (extend)" \
    aws s3api put-object-retention --bucket "$B" --key artifact.tar --version-id "$V" \
    --retention "{\"Mode\":\"GOVERNANCE\",\"RetainUntilDate\":\"$LATER\"}" --endpoint-url "$IFMATCH_ENDPOINT"
succeeds "get-object-retention (extended)" \
    aws s3api get-object-retention --bucket "$B" --key artifact.tar --version-id "$V" --endpoint-url "$IFMATCH_ENDPOINT"
check_match "... RetainUntilDate is the later date" "^${LATER%Z}(\.000)?(Z|\+00:00)$" "$(field 'd["Retention"]["RetainUntilDate"]')"
refused "B-L4 put-object-retention shortening without the bypass -> AccessDenied" AccessDenied \
    aws s3api put-object-retention --bucket "$B" --key artifact.tar --version-id "$V" \
    --retention "{\"Mode\":\"GOVERNANCE\",\"RetainUntilDate\":\"$SOONER\"}" --endpoint-url "$IFMATCH_ENDPOINT"
succeeds "B-L4 put-object-retention shortening with --bypass-governance-retention" \
    aws s3api put-object-retention --bucket "$B" --key artifact.tar --version-id "$V" \
    --retention "{\"Mode\":\"GOVERNANCE\",\"RetainUntilDate\":\"$UNTIL\"}" --bypass-governance-retention \
    --endpoint-url "$IFMATCH_ENDPOINT"
refused "get-object-legal-hold before any -> NoSuchObjectLockConfiguration" NoSuchObjectLockConfiguration \
    aws s3api get-object-legal-hold --bucket "$B" --key artifact.tar --version-id "$V" --endpoint-url "$IFMATCH_ENDPOINT"
succeeds "put-object-legal-hold --legal-hold Status=ON" \
    aws s3api put-object-legal-hold --bucket "$B" --key artifact.tar --version-id "$V" --legal-hold Status=ON \
    --endpoint-url "$IFMATCH_ENDPOINT"
succeeds "get-object-legal-hold" \
    aws s3api get-object-legal-hold --bucket "$B" --key artifact.tar --version-id "$V" --endpoint-url "$IFMATCH_ENDPOINT"
check "... Status ON" "ON" "$(field 'd["LegalHold"]["Status"]')"

echo "# deleting the locked version (B-L3, B-L4)"
refused "B-L3 delete-object --version-id -> AccessDenied" AccessDenied \
    aws s3api delete-object --bucket "$B" --key artifact.tar --version-id "$V" --endpoint-url "$IFMATCH_ENDPOINT"
check_match "B-L3 ... the error text names the object lock" "object lock" "$ERR"
refused "B-L3 ... --bypass-governance-retention does not lift a legal hold -> AccessDenied" AccessDenied \
    aws s3api delete-object --bucket "$B" --key artifact.tar --version-id "$V" --bypass-governance-retention \
    --endpoint-url "$IFMATCH_ENDPOINT"
succeeds "get-object --version-id (still there)" \
    aws s3api get-object --bucket "$B" --key artifact.tar --version-id "$V" got.tar --endpoint-url "$IFMATCH_ENDPOINT"
check "... its bytes" "build artifact 1.0" "$(cat got.tar)"
succeeds "put-object-legal-hold --legal-hold Status=OFF" \
    aws s3api put-object-legal-hold --bucket "$B" --key artifact.tar --version-id "$V" --legal-hold Status=OFF \
    --endpoint-url "$IFMATCH_ENDPOINT"
refused "B-L3 legal hold OFF, GOVERNANCE still in force: delete-object --version-id -> AccessDenied" AccessDenied \
    aws s3api delete-object --bucket "$B" --key artifact.tar --version-id "$V" --endpoint-url "$IFMATCH_ENDPOINT"
succeeds "B-L4 delete-object --version-id --bypass-governance-retention" \
    aws s3api delete-object --bucket "$B" --key artifact.tar --version-id "$V" --bypass-governance-retention \
    --endpoint-url "$IFMATCH_ENDPOINT"
refused "... the version is gone" 404 \
    aws s3api head-object --bucket "$B" --key artifact.tar --version-id "$V" --endpoint-url "$IFMATCH_ENDPOINT"

echo "# a delete without a version id (B-L2) and delete-objects (B-L3)"
succeeds "B-L2 delete-object of the locked second.tar without --version-id" \
    aws s3api delete-object --bucket "$B" --key second.tar --endpoint-url "$IFMATCH_ENDPOINT"
check "B-L2 ... a delete marker" "True" "$(field 'd.get("DeleteMarker")')"
succeeds "B-L2 ... the locked version stays (head-object --version-id)" \
    aws s3api head-object --bucket "$B" --key second.tar --version-id "$V2" --endpoint-url "$IFMATCH_ENDPOINT"
succeeds "delete-objects with the locked version" \
    aws s3api delete-objects --bucket "$B" \
    --delete "{\"Objects\":[{\"Key\":\"second.tar\",\"VersionId\":\"$V2\"}]}" --endpoint-url "$IFMATCH_ENDPOINT"
check "B-L3 ... reported as an AccessDenied error for the key" "second.tar AccessDenied" \
    "$(field '" ".join(e["Key"] + " " + e["Code"] for e in d.get("Errors", []))')"

echo "# default retention (B-L1, B-L6)"
succeeds "put-object-lock-configuration with a default retention" \
    aws s3api put-object-lock-configuration --bucket "$B" \
    --object-lock-configuration '{"ObjectLockEnabled":"Enabled","Rule":{"DefaultRetention":{"Mode":"GOVERNANCE","Days":1}}}' \
    --endpoint-url "$IFMATCH_ENDPOINT"
succeeds "get-object-lock-configuration" \
    aws s3api get-object-lock-configuration --bucket "$B" --endpoint-url "$IFMATCH_ENDPOINT"
check "... the rule reads back" "GOVERNANCE 1" \
    "$(field 'd["ObjectLockConfiguration"]["Rule"]["DefaultRetention"]["Mode"] + " " + str(d["ObjectLockConfiguration"]["Rule"]["DefaultRetention"]["Days"])')"
succeeds "put-object without lock options" \
    aws s3api put-object --bucket "$B" --key defaulted.txt --body second.tar --endpoint-url "$IFMATCH_ENDPOINT"
succeeds "head-object" \
    aws s3api head-object --bucket "$B" --key defaulted.txt --endpoint-url "$IFMATCH_ENDPOINT"
check "B-L6 ... the new version got the default mode" "GOVERNANCE" "$(field 'd.get("ObjectLockMode")')"

echo "# replication is not configured (B-N2)"
refused "get-bucket-replication -> ReplicationConfigurationNotFoundError" ReplicationConfigurationNotFoundError \
    aws s3api get-bucket-replication --bucket "$B" --endpoint-url "$IFMATCH_ENDPOINT"

echo "# replication of a locked bucket (B-R1, B-R2): the replica keeps the lock"
succeeds "create-bucket cli-replica --object-lock-enabled-for-bucket" \
    aws s3api create-bucket --bucket cli-replica --object-lock-enabled-for-bucket --endpoint-url "$IFMATCH_ENDPOINT"
succeeds "put-bucket-replication" \
    aws s3api put-bucket-replication --bucket "$B" --replication-configuration \
    '{"Role":"arn:aws:iam::123456789012:role/r","Rules":[{"ID":"to-replica","Priority":1,"Status":"Enabled","Filter":{"Prefix":"rep/"},"DeleteMarkerReplication":{"Status":"Disabled"},"Destination":{"Bucket":"arn:aws:s3:::cli-replica"}}]}' \
    --endpoint-url "$IFMATCH_ENDPOINT"
succeeds "get-bucket-replication" \
    aws s3api get-bucket-replication --bucket "$B" --endpoint-url "$IFMATCH_ENDPOINT"
check "... the rule reads back" "to-replica arn:aws:s3:::cli-replica rep/" \
    "$(field 'd["ReplicationConfiguration"]["Rules"][0]["ID"] + " " + d["ReplicationConfiguration"]["Rules"][0]["Destination"]["Bucket"] + " " + d["ReplicationConfiguration"]["Rules"][0]["Filter"]["Prefix"]')"
succeeds "put-object rep/artifact.tar" \
    aws s3api put-object --bucket "$B" --key rep/artifact.tar --body artifact.tar --endpoint-url "$IFMATCH_ENDPOINT"
REP_VID=$(field 'd["VersionId"]')
status=""
for _ in $(seq 1 80); do
    aws s3api head-object --bucket "$B" --key rep/artifact.tar --version-id "$REP_VID" \
        --endpoint-url "$IFMATCH_ENDPOINT" >"$W/out" 2>"$W/err" && OUT=$(cat "$W/out")
    status=$(field 'd.get("ReplicationStatus")')
    [[ "$status" == COMPLETED ]] && break
    sleep 0.1
done
check "B-R2 head-object shows COMPLETED" "COMPLETED" "$status"
succeeds "head-object on the replica" \
    aws s3api head-object --bucket cli-replica --key rep/artifact.tar --version-id "$REP_VID" \
    --endpoint-url "$IFMATCH_ENDPOINT"
check "B-R2 ... REPLICA, with the source's lock mode" "REPLICA GOVERNANCE" \
    "$(field 'str(d.get("ReplicationStatus")) + " " + str(d.get("ObjectLockMode"))')"
refused "B-L3 delete-object --version-id on the locked replica -> AccessDenied" AccessDenied \
    aws s3api delete-object --bucket cli-replica --key rep/artifact.tar --version-id "$REP_VID" \
    --endpoint-url "$IFMATCH_ENDPOINT"

echo "# a bucket without Object Lock (B-N3, B-L5)"
succeeds "create-bucket (no lock)" aws s3api create-bucket --bucket cli-unlocked --endpoint-url "$IFMATCH_ENDPOINT"
refused "get-object-lock-configuration -> ObjectLockConfigurationNotFoundError" ObjectLockConfigurationNotFoundError \
    aws s3api get-object-lock-configuration --bucket cli-unlocked --endpoint-url "$IFMATCH_ENDPOINT"
refused "put-object-lock-configuration without versioning -> InvalidBucketState" InvalidBucketState \
    aws s3api put-object-lock-configuration --bucket cli-unlocked \
    --object-lock-configuration '{"ObjectLockEnabled":"Enabled"}' --endpoint-url "$IFMATCH_ENDPOINT"
refused "put-object with --object-lock-mode -> InvalidRequest" InvalidRequest \
    aws s3api put-object --bucket cli-unlocked --key k --body second.tar --object-lock-mode GOVERNANCE \
    --object-lock-retain-until-date "$UNTIL" --endpoint-url "$IFMATCH_ENDPOINT"
finish
