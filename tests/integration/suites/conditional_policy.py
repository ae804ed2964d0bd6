"""Bucket policies, the AWS-exact way to require conditional writes (R-B1..R-B3), through boto3:
PutBucketPolicy / GetBucketPolicy / DeleteBucketPolicy (NoSuchBucketPolicy, MalformedPolicy), and
Deny statements on the condition keys s3:if-none-match, s3:if-match, s3:ObjectCreationOperation
enforced on PutObject, CopyObject, DeleteObject and DeleteObjects with 403 AccessDenied. The policy
shapes follow AWS's "Enforce conditional writes" / "conditional deletes" examples. Open mode:
principals are not distinguished, and Allow statements never deny (their absence cannot either).
"""

import json

import lib

try:
    import boto3
    from botocore.config import Config
    from botocore.exceptions import ClientError
except ImportError as e:
    lib.skip(f"boto3 not importable ({e}); suite conditional_policy did not run")

r = lib.Reporter("conditional_policy")
s3 = boto3.client("s3", endpoint_url=lib.endpoint(), region_name="us-east-1",
                  aws_access_key_id="test", aws_secret_access_key="test",
                  config=Config(retries={"total_max_attempts": 1}))
B = "policy-bucket"
PRINCIPAL = {"AWS": "arn:aws:iam::111122223333:user/Alice"}


def error_of(fn, **kw):
    try:
        resp = fn(**kw)
        return resp["ResponseMetadata"]["HTTPStatusCode"], ""
    except ClientError as e:
        return e.response["ResponseMetadata"]["HTTPStatusCode"], e.response["Error"]["Code"]


def ok_status(fn, **kw):
    return error_of(fn, **kw)[0]


# Deny object creation that carries neither header; multipart part uploads are exempt through
# s3:ObjectCreationOperation (AWS's enforcement example 3, as a Deny).
DENY_UNCONDITIONAL_WRITES = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "BlockNonConditionalObjectCreation",
            "Effect": "Deny",
            "Principal": PRINCIPAL,
            "Action": "s3:PutObject",
            "Resource": f"arn:aws:s3:::{B}/*",
            "Condition": {
                "Null": {"s3:if-none-match": "true", "s3:if-match": "true"},
                "Bool": {"s3:ObjectCreationOperation": "true"},
            },
        },
        {
            "Sid": "AllowObjectCreation",
            "Effect": "Allow",
            "Principal": PRINCIPAL,
            "Action": "s3:PutObject",
            "Resource": f"arn:aws:s3:::{B}/*",
        },
    ],
}

# Deny deletes without If-Match (conditional deletes enforcement).
DENY_UNCONDITIONAL_DELETES = {
    "Version": "2012-10-17",
    "Statement": [{
        "Sid": "RequireIfMatchOnDelete",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:DeleteObject",
        "Resource": f"arn:aws:s3:::{B}/*",
        "Condition": {"Null": {"s3:if-match": "true"}},
    }],
}

# AWS's example 1 (Allow-only: If-None-Match writes, plus multipart part uploads).
ALLOW_ONLY_IF_NONE_MATCH = {
    "Version": "2012-10-17",
    "Statement": [
        {"Sid": "AllowConditionalPut", "Effect": "Allow", "Principal": PRINCIPAL,
         "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{B}/*",
         "Condition": {"Null": {"s3:if-none-match": "false"}}},
        {"Sid": "AllowConditionalPutwithMPUs", "Effect": "Allow", "Principal": PRINCIPAL,
         "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{B}/*",
         "Condition": {"Null": {"s3:if-none-match": "true"},
                       "Bool": {"s3:ObjectCreationOperation": "false"}}},
    ],
}


def management():
    r.eq("CreateBucket", 200, ok_status(s3.create_bucket, Bucket=B))
    r.eq("GetBucketPolicy without one -> 404 NoSuchBucketPolicy", (404, "NoSuchBucketPolicy"),
         error_of(s3.get_bucket_policy, Bucket=B))
    r.eq("PutBucketPolicy not JSON -> 400 MalformedPolicy", (400, "MalformedPolicy"),
         error_of(s3.put_bucket_policy, Bucket=B, Policy="{not json"))
    other = json.loads(json.dumps(DENY_UNCONDITIONAL_WRITES))
    other["Statement"][0]["Resource"] = "arn:aws:s3:::another-bucket/*"
    r.eq("PutBucketPolicy naming another bucket -> 400 MalformedPolicy", (400, "MalformedPolicy"),
         error_of(s3.put_bucket_policy, Bucket=B, Policy=json.dumps(other)))
    bad_effect = json.loads(json.dumps(DENY_UNCONDITIONAL_DELETES))
    bad_effect["Statement"][0]["Effect"] = "Maybe"
    r.eq("PutBucketPolicy bad Effect -> 400 MalformedPolicy", (400, "MalformedPolicy"),
         error_of(s3.put_bucket_policy, Bucket=B, Policy=json.dumps(bad_effect)))
    r.eq("PutBucketPolicy on a missing bucket -> 404 NoSuchBucket", (404, "NoSuchBucket"),
         error_of(s3.put_bucket_policy, Bucket="no-such-bucket-here",
                  Policy=json.dumps(DENY_UNCONDITIONAL_DELETES).replace(B, "no-such-bucket-here")))
    text = json.dumps(DENY_UNCONDITIONAL_WRITES)
    r.eq("PutBucketPolicy -> 204", 204, ok_status(s3.put_bucket_policy, Bucket=B, Policy=text))
    got = s3.get_bucket_policy(Bucket=B)["Policy"]
    r.eq("GetBucketPolicy returns the document", DENY_UNCONDITIONAL_WRITES, json.loads(got))
    r.eq("DeleteBucketPolicy -> 204", 204, ok_status(s3.delete_bucket_policy, Bucket=B))
    r.eq("GetBucketPolicy after delete -> 404", (404, "NoSuchBucketPolicy"),
         error_of(s3.get_bucket_policy, Bucket=B))


def enforce_writes():
    s3.put_object(Bucket=B, Key="src", Body=b"source")  # before the policy
    s3.put_bucket_policy(Bucket=B, Policy=json.dumps(DENY_UNCONDITIONAL_WRITES))
    r.eq("R-B2 unconditional PutObject -> 403 AccessDenied", (403, "AccessDenied"),
         error_of(s3.put_object, Bucket=B, Key="k", Body=b"x"))
    r.eq("R-B1 PutObject IfNoneMatch * -> 200", (200, ""),
         error_of(s3.put_object, Bucket=B, Key="k", Body=b"x", IfNoneMatch="*"))
    etag = s3.head_object(Bucket=B, Key="k")["ETag"]
    r.eq("R-B1 PutObject IfMatch -> 200", (200, ""),
         error_of(s3.put_object, Bucket=B, Key="k", Body=b"y", IfMatch=etag))
    r.eq("R-B1 conditions still decide: IfNoneMatch * on existing -> 412",
         (412, "PreconditionFailed"),
         error_of(s3.put_object, Bucket=B, Key="k", Body=b"z", IfNoneMatch="*"))
    r.eq("R-B3 unconditional CopyObject -> 403 AccessDenied", (403, "AccessDenied"),
         error_of(s3.copy_object, Bucket=B, Key="c", CopySource=f"{B}/src"))
    r.eq("R-B3 CopyObject IfNoneMatch * -> 200", (200, ""),
         error_of(s3.copy_object, Bucket=B, Key="c", CopySource=f"{B}/src", IfNoneMatch="*"))
    r.eq("R-B2 unconditional DeleteObject is not covered by an s3:PutObject Deny", 204,
         ok_status(s3.delete_object, Bucket=B, Key="c"))
    before = s3.head_object(Bucket=B, Key="k")["ETag"]
    error_of(s3.put_object, Bucket=B, Key="k", Body=b"w")
    r.eq("R-B2 the denied PUT wrote nothing", before, s3.head_object(Bucket=B, Key="k")["ETag"])


def enforce_deletes():
    s3.put_bucket_policy(Bucket=B, Policy=json.dumps(DENY_UNCONDITIONAL_DELETES))
    r.eq("unconditional PutObject allowed again under a delete-only policy", 200,
         ok_status(s3.put_object, Bucket=B, Key="d1", Body=b"d"))
    s3.put_object(Bucket=B, Key="d2", Body=b"d")
    etag = s3.head_object(Bucket=B, Key="d1")["ETag"]
    r.eq("R-B2 unconditional DeleteObject -> 403 AccessDenied", (403, "AccessDenied"),
         error_of(s3.delete_object, Bucket=B, Key="d1"))
    r.eq("R-B2 DeleteObject IfMatch -> 204", (204, ""),
         error_of(s3.delete_object, Bucket=B, Key="d1", IfMatch=etag))
    resp = s3.delete_objects(Bucket=B, Delete={"Objects": [{"Key": "d2"},
                                                           {"Key": "k", "ETag": "*"}]})
    r.eq("R-B2 DeleteObjects: key without ETag -> per-key AccessDenied",
         [("d2", "AccessDenied")], [(e["Key"], e["Code"]) for e in resp.get("Errors", [])])
    r.eq("R-B2 DeleteObjects: key with ETag deleted", ["k"],
         [d["Key"] for d in resp.get("Deleted", [])])


def allow_only():
    s3.put_bucket_policy(Bucket=B, Policy=json.dumps(ALLOW_ONLY_IF_NONE_MATCH))
    r.eq("AWS example 1 (Allow-only) is accepted and stored",
         ALLOW_ONLY_IF_NONE_MATCH, json.loads(s3.get_bucket_policy(Bucket=B)["Policy"]))
    r.eq("open mode: Allow-only policy denies nothing", 200,
         ok_status(s3.put_object, Bucket=B, Key="free", Body=b"x"))
    s3.delete_bucket_policy(Bucket=B)
    r.eq("no policy: unconditional DeleteObject -> 204", 204,
         ok_status(s3.delete_object, Bucket=B, Key="free"))


r.run("policy management", management)
r.run("enforce conditional writes", enforce_writes)
r.run("enforce conditional deletes", enforce_deletes)
r.run("allow-only policy", allow_only)
r.finish()
