"""Bucket policies as S3 validates them, through boto3 (run through ../run.sh): a policy whose
Resource wildcards cover the bucket is valid; one whose Resource names only other buckets is
MalformedPolicy "Policy has invalid resource".
"""

import json

import lib

try:
    import boto3
    from botocore.config import Config
    from botocore.exceptions import ClientError
except ImportError as e:
    lib.skip(f"boto3 not importable ({e}); suite conform_bucket did not run")

r = lib.Reporter("conform_bucket")
s3 = boto3.client("s3", endpoint_url=lib.endpoint(), region_name="us-east-1",
                  aws_access_key_id="test", aws_secret_access_key="test",
                  config=Config(retries={"total_max_attempts": 1}))
B, B2 = "conform-bucket", "conform-bucket-2"
for b in (B, B2):
    s3.create_bucket(Bucket=b)


def error_of(fn):
    try:
        fn()
    except ClientError as e:
        return (e.response["ResponseMetadata"]["HTTPStatusCode"], e.response["Error"]["Code"],
                e.response["Error"]["Message"])
    return (200, None, None)


# --- bucket policy resources -------------------------------------------------------------------------
any_bucket = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "s3:ListBucket",
    "Resource": ["arn:aws:s3:::*", "arn:aws:s3:::*/*"]}]})
r.eq("Resource arn:aws:s3:::* and arn:aws:s3:::*/* -> accepted", (200, None, None),
     error_of(lambda: s3.put_bucket_policy(Bucket=B, Policy=any_bucket)))
stored = s3.get_bucket_policy(Bucket=B)["Policy"]
r.eq("the stored policy can be put on another bucket", (200, None, None),
     error_of(lambda: s3.put_bucket_policy(Bucket=B2, Policy=stored)))
other = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
    "Resource": "arn:aws:s3:::some-other-bucket/*"}]})
r.eq("a Resource naming only another bucket -> 400 MalformedPolicy",
     (400, "MalformedPolicy", "Policy has invalid resource"),
     error_of(lambda: s3.put_bucket_policy(Bucket=B, Policy=other)))
deny_unconditional = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Deny", "Principal": "*", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::*/*",
    "Condition": {"Null": {"s3:if-none-match": "true"}}}]})
s3.put_bucket_policy(Bucket=B, Policy=deny_unconditional)
r.eq("a wildcard Resource applies to this bucket: unconditional PUT -> 403",
     403, error_of(lambda: s3.put_object(Bucket=B, Key="k", Body=b"x"))[0])
r.eq("... a conditional PUT is allowed", (200, None, None),
     error_of(lambda: s3.put_object(Bucket=B, Key="k", Body=b"x", IfNoneMatch="*")))
s3.delete_bucket_policy(Bucket=B)

r.finish()
