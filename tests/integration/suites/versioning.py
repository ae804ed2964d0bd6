"""Versioned buckets through boto3: ListObjectVersions (order, IsLatest, paging through 1,000
versions of a few keys, delimiter, encoding-type), delete markers, version-specific
GET/HEAD/DELETE (R-G0b), x-amz-version-id on every write, suspended buckets, CopyObject from a
source version, and the Terraform lock cycle in a versioned bucket (R-P16).
"""

import lib

try:
    import boto3
    from botocore.config import Config
    from botocore.exceptions import ClientError
except ImportError as e:
    lib.skip(f"boto3 not importable ({e}); suite versioning did not run")

r = lib.Reporter("versioning")
s3 = boto3.client("s3", endpoint_url=lib.endpoint(), region_name="us-east-1",
                  aws_access_key_id="test", aws_secret_access_key="test",
                  config=Config(retries={"total_max_attempts": 1}))
B = "versions"
s3.create_bucket(Bucket=B)
s3.put_bucket_versioning(Bucket=B, VersioningConfiguration={"Status": "Enabled"})
r.eq("GetBucketVersioning Enabled", "Enabled", s3.get_bucket_versioning(Bucket=B).get("Status"))


def err(fn):
    try:
        resp = fn()
    except ClientError as e:
        return (e.response["ResponseMetadata"]["HTTPStatusCode"], e.response["Error"]["Code"],
                e.response["ResponseMetadata"]["HTTPHeaders"])
    return (200, None, resp["ResponseMetadata"]["HTTPHeaders"])


# --- 1,000 versions of a few keys, paged ----------------------------------------------------------
keys = ["a", "b/x", "b/y", "c"]
written = {k: [] for k in keys}
for i in range(250):
    for k in keys:
        resp = s3.put_object(Bucket=B, Key=k, Body=f"{k}-{i}".encode())
        written[k].append(resp["VersionId"])
r.check("x-amz-version-id on every PutObject", all(len(set(v)) == 250 for v in written.values()))
seen = []
kw = {}
pages = 0
while True:
    page = s3.list_object_versions(Bucket=B, MaxKeys=300, **kw)
    pages += 1
    seen += [(v["Key"], v["VersionId"], v["IsLatest"]) for v in page.get("Versions", [])]
    if not page["IsTruncated"]:
        break
    kw = {"KeyMarker": page["NextKeyMarker"], "VersionIdMarker": page["NextVersionIdMarker"]}
r.eq("1,000 versions in 4 pages of 300", (1000, 4), (len(seen), pages))
expected = [(k, vid, i == 0) for k in keys for i, vid in enumerate(reversed(written[k]))]
r.check("order: keys ascending, versions newest first, IsLatest on the first", seen == expected,
        f"first mismatch at {next((i for i, (a, b) in enumerate(zip(seen, expected)) if a != b), None)}")
page = s3.list_object_versions(Bucket=B, KeyMarker="b/x", VersionIdMarker=written["b/x"][10])
r.eq("VersionIdMarker echoed", written["b/x"][10], page.get("VersionIdMarker"))
r.eq("resumes after the marker version", (("b/x", written["b/x"][9])),
     (page["Versions"][0]["Key"], page["Versions"][0]["VersionId"]))
page = s3.list_object_versions(Bucket=B, KeyMarker="b/x")
r.eq("KeyMarker alone starts after the key", "b/y", page["Versions"][0]["Key"])
page = s3.list_object_versions(Bucket=B, Delimiter="/", MaxKeys=1000)
r.eq("delimiter: common prefix", ["b/"], [c["Prefix"] for c in page.get("CommonPrefixes", [])])
r.eq("delimiter: versions of a and c", {"a", "c"}, {v["Key"] for v in page["Versions"]})
page = s3.list_object_versions(Bucket=B, Prefix="b/y", MaxKeys=5)
r.check("prefix + max-keys", len(page["Versions"]) == 5 and page["IsTruncated"] and
        all(v["Key"] == "b/y" for v in page["Versions"]))
r.eq("version-id-marker without key-marker -> 400", 400,
     err(lambda: s3.list_object_versions(Bucket=B, VersionIdMarker=written["a"][0]))[0])

# --- delete markers, version-specific reads and deletes (R-G0b) ----------------------------------
d = s3.delete_object(Bucket=B, Key="a")
r.check("DeleteObject creates a marker with a version id",
        d.get("DeleteMarker") is True and bool(d.get("VersionId")))
st, code, h = err(lambda: s3.get_object(Bucket=B, Key="a"))
r.eq("GET current marker -> 404 NoSuchKey", (404, "NoSuchKey"), (st, code))
r.eq("404 carries x-amz-delete-marker", "true", h.get("x-amz-delete-marker"))
st, code, h = err(lambda: s3.head_object(Bucket=B, Key="a"))
r.eq("HEAD current marker -> 404 + marker header", (404, "true"),
     (st, h.get("x-amz-delete-marker")))
st, code, h = err(lambda: s3.get_object(Bucket=B, Key="a", VersionId=d["VersionId"]))
r.eq("GET marker by id -> 405 MethodNotAllowed", (405, "MethodNotAllowed"), (st, code))
r.check("405 carries Last-Modified", "last-modified" in h)
r.eq("GET unknown version -> 404 NoSuchVersion", (404, "NoSuchVersion"),
     err(lambda: s3.get_object(Bucket=B, Key="a", VersionId="nope"))[:2])
old = s3.get_object(Bucket=B, Key="a", VersionId=written["a"][3])
r.eq("GET an old version by id", b"a-3", old["Body"].read())
r.eq("... with its x-amz-version-id", written["a"][3], old["VersionId"])
r.eq("HEAD an old version by id", written["a"][3],
     s3.head_object(Bucket=B, Key="a", VersionId=written["a"][3])["VersionId"])
lv = s3.list_object_versions(Bucket=B, Prefix="a", MaxKeys=2)
r.eq("marker listed first as DeleteMarker, IsLatest",
     [(d["VersionId"], True)], [(m["VersionId"], m["IsLatest"]) for m in lv["DeleteMarkers"]])
r.eq("ListObjects skips a key whose current version is a marker", ["b/x", "b/y", "c"],
     [o["Key"] for o in s3.list_objects_v2(Bucket=B).get("Contents", [])])
dv = s3.delete_object(Bucket=B, Key="a", VersionId=d["VersionId"])
r.eq("DELETE the marker by id", (True, d["VersionId"]), (dv.get("DeleteMarker"), dv["VersionId"]))
r.eq("the previous version is current again", b"a-249",
     s3.get_object(Bucket=B, Key="a")["Body"].read())
s3.delete_object(Bucket=B, Key="a", VersionId=written["a"][249])
r.eq("deleting the current version by id promotes the next", b"a-248",
     s3.get_object(Bucket=B, Key="a")["Body"].read())
r.eq("DELETE a missing version id -> 204", 204,
     s3.delete_object(Bucket=B, Key="a", VersionId="00nope")["ResponseMetadata"]["HTTPStatusCode"])

# --- CopyObject from a source version ------------------------------------------------------------
cp = s3.copy_object(Bucket=B, Key="copy", CopySource={"Bucket": B, "Key": "c",
                                                      "VersionId": written["c"][7]})
r.eq("CopyObject x-amz-copy-source-version-id", written["c"][7], cp.get("CopySourceVersionId"))
r.check("CopyObject answers the new version id", bool(cp.get("VersionId")))
r.eq("copied bytes are the source version's", b"c-7",
     s3.get_object(Bucket=B, Key="copy")["Body"].read())

# --- suspended buckets ---------------------------------------------------------------------------
S = "suspended"
s3.create_bucket(Bucket=S)
s3.put_bucket_versioning(Bucket=S, VersioningConfiguration={"Status": "Enabled"})
v1 = s3.put_object(Bucket=S, Key="k", Body=b"v1")["VersionId"]
s3.put_bucket_versioning(Bucket=S, VersioningConfiguration={"Status": "Suspended"})
r.eq("GetBucketVersioning Suspended", "Suspended", s3.get_bucket_versioning(Bucket=S)["Status"])
p1 = s3.put_object(Bucket=S, Key="k", Body=b"n1")
p2 = s3.put_object(Bucket=S, Key="k", Body=b"n2")
r.eq("suspended PUT has no x-amz-version-id", (None, None),
     (p1.get("VersionId"), p2.get("VersionId")))
vs = s3.list_object_versions(Bucket=S)["Versions"]
r.eq("null version replaced, the older version kept", [("null", True), (v1, False)],
     [(v["VersionId"], v["IsLatest"]) for v in vs])
r.eq("GET null version by id", b"n2", s3.get_object(Bucket=S, Key="k", VersionId="null")["Body"].read())
dm = s3.delete_object(Bucket=S, Key="k")
r.eq("suspended DELETE: a null delete marker", (True, "null"), (dm.get("DeleteMarker"),
                                                                 dm.get("VersionId")))
vs = s3.list_object_versions(Bucket=S)
r.eq("the marker replaced the null version", ([v1], ["null"]),
     ([v["VersionId"] for v in vs.get("Versions", [])],
      [m["VersionId"] for m in vs.get("DeleteMarkers", [])]))

# --- Terraform lock cycle in a versioned bucket (R-P16) -------------------------------------------
lock = "state/terraform.tfstate.tflock"
r.eq("lock: PutObject If-None-Match * on an absent key", 200,
     s3.put_object(Bucket=B, Key=lock, Body=b"{}", IfNoneMatch="*")["ResponseMetadata"][
         "HTTPStatusCode"])
r.eq("second locker -> 412", 412,
     err(lambda: s3.put_object(Bucket=B, Key=lock, Body=b"{}", IfNoneMatch="*"))[0])
s3.delete_object(Bucket=B, Key=lock)
r.eq("R-P16 after the unlock (delete marker) the lock can be taken again", 200,
     s3.put_object(Bucket=B, Key=lock, Body=b"{}", IfNoneMatch="*")["ResponseMetadata"][
         "HTTPStatusCode"])

# --- versioning configuration errors --------------------------------------------------------------
st, code, _ = err(lambda: s3.put_bucket_versioning(
    Bucket=S, VersioningConfiguration={"Status": "Enabled", "MFADelete": "Enabled"}))
r.eq("MFA delete without x-amz-mfa -> 403 AccessDenied", (403, "AccessDenied"), (st, code))
r.finish()
