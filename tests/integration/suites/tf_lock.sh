#!/usr/bin/env bash
# Terraform's S3 backend with native state locking (use_lockfile) against ifmatch, in a VERSIONED
# bucket (R-P16): `init`, two applies in a row (the second lock lands on the delete marker left by
# the first unlock: R-P6, a marker counts as absent), and an apply while another holder's
# `.tflock` exists fails with Terraform's lock error. Run through ../run.sh.
set -uo pipefail
# shellcheck source=../lib.sh
source "$IFMATCH_ITEST_DIR/lib.sh"

for tool in terraform aws; do
    if ! command -v "$tool" >/dev/null; then
        echo "=================================================================="
        echo "SKIPPED: $tool not installed; suite tf_lock did not run"
        echo "=================================================================="
        exit 0
    fi
done

W="$IFMATCH_TMP/scratch/tf"
mkdir -p "$W"
export TF_CLI_CONFIG_FILE=/dev/null TF_IN_AUTOMATION=1 TF_INPUT=0 CHECKPOINT_DISABLE=1
export TF_DATA_DIR="$W/.terraform"
ep=(--endpoint-url "$IFMATCH_ENDPOINT")
B=tf-state
KEY=envs/dev/terraform.tfstate

aws "${ep[@]}" s3api create-bucket --bucket "$B" >/dev/null 2>&1
aws "${ep[@]}" s3api put-bucket-versioning --bucket "$B" \
    --versioning-configuration Status=Enabled >/dev/null 2>&1
check "bucket is versioned" Enabled \
    "$(aws "${ep[@]}" s3api get-bucket-versioning --bucket "$B" --query Status --output text)"

# The backend block documented in docs/terraform.md, with the endpoint filled in.
cat >"$W/main.tf" <<TF
terraform {
  backend "s3" {
    bucket                      = "$B"
    key                         = "$KEY"
    region                      = "us-east-1"
    endpoints                   = { s3 = "$IFMATCH_ENDPOINT" }
    use_path_style              = true
    access_key                  = "test"
    secret_key                  = "test"
    skip_credentials_validation = true
    skip_requesting_account_id  = true
    skip_region_validation      = true
    skip_metadata_api_check     = true
    use_lockfile                = true
  }
}

variable "stamp" {
  type    = string
  default = "one"
}

resource "terraform_data" "marker" {
  input = var.stamp
}

output "stamp" {
  value = terraform_data.marker.output
}
TF

tf() { (cd "$W" && terraform "$@") >"$W/out" 2>&1; }

if tf init -no-color; then ok "terraform init"; else fail "terraform init" "$(tail -n 20 "$W/out")"; fi
if tf apply -auto-approve -no-color -var stamp=one; then
    ok "first apply"
else
    fail "first apply" "$(tail -n 20 "$W/out")"
fi
if tf apply -auto-approve -no-color -var stamp=two; then
    ok "second apply: lock lands on the delete marker (R-P16)"
else
    fail "second apply: lock lands on the delete marker (R-P16)" "$(tail -n 20 "$W/out")"
fi
check "state holds the second value" two "$(cd "$W" && terraform output -raw stamp 2>/dev/null)"

# After the unlock the .tflock key's current version is a delete marker (R-P16).
lockhead=$(curl -s -o /dev/null -D - "$IFMATCH_ENDPOINT/$B/$KEY.tflock" | tr -d '\r')
check_match "unlock left a delete marker on the .tflock key" 'x-amz-delete-marker: true' "$lockhead"

# Another holder takes the lock the way Terraform does: a create-only PUT.
printf '{"ID":"other-holder","Operation":"OperationTypeApply","Who":"someone@elsewhere"}' \
    >"$W/lock.json"
if aws "${ep[@]}" s3api put-object --bucket "$B" --key "$KEY.tflock" --body "$W/lock.json" \
    --if-none-match '*' >/dev/null 2>"$W/err"; then
    ok "foreign lock taken with If-None-Match: *"
else
    fail "foreign lock taken with If-None-Match: *" "$(cat "$W/err")"
fi
if tf apply -auto-approve -no-color -var stamp=three; then
    fail "apply while another holder's lock exists fails" "apply succeeded"
else
    check_match "apply while another holder's lock exists fails with the lock error" \
        'Error acquiring the state lock' "$(cat "$W/out")"
    check_match "the lock error names the other holder" 'other-holder' "$(cat "$W/out")"
fi
check "state untouched by the refused apply" two \
    "$(cd "$W" && terraform output -raw stamp 2>/dev/null)"

# Releasing the foreign lock lets Terraform in again.
aws "${ep[@]}" s3api delete-object --bucket "$B" --key "$KEY.tflock" >/dev/null 2>&1
if tf apply -auto-approve -no-color -var stamp=four; then
    ok "apply after the foreign lock is released"
else
    fail "apply after the foreign lock is released" "$(tail -n 20 "$W/out")"
fi
finish
