"""The wider S3 surface through boto3 and raw HTTP (run through ../run.sh): If-Range (R-G15),
SSE headers and bucket default encryption (R-E1/R-E2), tagging, ACLs and ownership controls,
CORS (configuration, preflight, actual responses), GetObjectAttributes, ListBuckets paging.
Prints one line per check and "N passed, M failed"; exits 1 on any failure.
"""

import hashlib
import http.client
import urllib.parse

import lib

try:
    import boto3
    from botocore.config import Config
    from botocore.exceptions import ClientError
except ImportError as e:
    lib.skip(f"boto3 not importable ({e}); suite surface_basic did not run")

r = lib.Reporter("surface_basic")
s3 = boto3.client("s3", endpoint_url=lib.endpoint(), region_name="us-east-1",
                  aws_access_key_id="test", aws_secret_access_key="test",
                  config=Config(retries={"total_max_attempts": 1}))
B = "surface"
V = "surface-versioned"
s3.create_bucket(Bucket=B)
s3.create_bucket(Bucket=V)
s3.put_bucket_versioning(Bucket=V, VersioningConfiguration={"Status": "Enabled"})


def raw(method, path, headers=None, body=None):
    conn = http.client.HTTPConnection("127.0.0.1", lib.port(), timeout=10)
    conn.request(method, path, body=body, headers=headers or {})
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data


def error_code(fn):
    try:
        fn()
    except ClientError as e:
        return e.response["Error"]["Code"]
    return "no error"


def md5q(data):
    return '"' + hashlib.md5(data).hexdigest() + '"'


# --- R-G15 If-Range -------------------------------------------------------------------------------
body = b"0123456789"
put = s3.put_object(Bucket=B, Key="range", Body=body)
etag = put["ETag"]
lm = s3.head_object(Bucket=B, Key="range")["ResponseMetadata"]["HTTPHeaders"]["last-modified"]
st, h, data = raw("GET", f"/{B}/range", {"Range": "bytes=0-1", "If-Range": etag})
r.check("R-G15 If-Range strong ETag match -> 206", st == 206 and data == b"01", f"{st} {data!r}")
st, h, data = raw("GET", f"/{B}/range", {"Range": "bytes=0-1", "If-Range": etag.strip('"')})
r.check("R-G15, R-T1 If-Range unquoted ETag match -> 206", st == 206 and data == b"01",
        f"{st} {data!r}")
st, h, data = raw("GET", f"/{B}/range", {"Range": "bytes=0-1", "If-Range": "other"})
r.check("R-G15 If-Range other unquoted value -> 200 whole", st == 200 and data == body,
        f"{st} {data!r}")
st, h, data = raw("GET", f"/{B}/range", {"Range": "bytes=0-1", "If-Range": '"other"'})
r.check("R-G15 If-Range other ETag -> 200 whole", st == 200 and data == body, f"{st} {data!r}")
st, h, data = raw("GET", f"/{B}/range", {"Range": "bytes=0-1", "If-Range": "W/" + etag})
r.check("R-G15 If-Range weak ETag -> 200 whole", st == 200 and data == body, f"{st}")
st, h, data = raw("GET", f"/{B}/range", {"Range": "bytes=2-3", "If-Range": lm})
r.check("R-G15 If-Range Last-Modified match -> 206", st == 206 and data == b"23", f"{st} {lm}")
st, h, data = raw("GET", f"/{B}/range", {"Range": "bytes=2-3",
                                         "If-Range": "Mon, 01 Jan 2001 00:00:00 GMT"})
r.check("R-G15 If-Range old date -> 200 whole", st == 200 and data == body, f"{st}")
st, h, data = raw("GET", f"/{B}/range", {"If-Range": '"other"'})
r.check("R-G15 If-Range without Range -> 200", st == 200 and data == body, f"{st}")

# --- SSE (R-E1, R-E2) ---------------------------------------------------------------------------
p = s3.put_object(Bucket=B, Key="aes", Body=b"test", ServerSideEncryption="AES256")
r.eq("SSE-S3 PUT echoes AES256", "AES256", p.get("ServerSideEncryption"))
r.eq("R-E1 SSE-S3 ETag is the MD5", md5q(b"test"), p["ETag"])
g = s3.get_object(Bucket=B, Key="aes")
r.eq("SSE-S3 GET echoes AES256", "AES256", g.get("ServerSideEncryption"))
p = s3.put_object(Bucket=B, Key="kms", Body=b"test", ServerSideEncryption="aws:kms",
                  SSEKMSKeyId="my-key")
r.eq("SSE-KMS PUT echoes aws:kms", "aws:kms", p.get("ServerSideEncryption"))
r.eq("SSE-KMS PUT echoes the key id", "my-key", p.get("SSEKMSKeyId"))
r.check("R-E2 SSE-KMS ETag is not the MD5", p["ETag"] != md5q(b"test"), p["ETag"])
kms_etag = p["ETag"]
hd = s3.head_object(Bucket=B, Key="kms")
r.eq("SSE-KMS HEAD echoes key id", "my-key", hd.get("SSEKMSKeyId"))
r.eq("SSE-KMS HEAD ETag = PUT ETag", kms_etag, hd["ETag"])
p2 = s3.put_object(Bucket=B, Key="kms2", Body=b"test", ServerSideEncryption="aws:kms",
                   SSEKMSKeyId="my-key")
r.eq("R-E2 KMS ETag deterministic for same content and key", kms_etag, p2["ETag"])
c = s3.copy_object(Bucket=B, Key="kms-copy", CopySource={"Bucket": B, "Key": "kms"})
r.eq("copy of a KMS object without SSE headers gets the MD5 ETag", md5q(b"test"),
     c["CopyObjectResult"]["ETag"])
c = s3.copy_object(Bucket=B, Key="aes-to-kms", CopySource={"Bucket": B, "Key": "aes"},
                   ServerSideEncryption="aws:kms", SSEKMSKeyId="my-key")
r.eq("copy with SSE-KMS echoes aws:kms", "aws:kms", c.get("ServerSideEncryption"))
r.eq("copy with SSE-KMS gets the KMS ETag", kms_etag, c["CopyObjectResult"]["ETag"])
r.eq("invalid SSE algorithm -> InvalidArgument", "InvalidArgument",
     error_code(lambda: s3.put_object(Bucket=B, Key="bad", Body=b"x",
                                      ServerSideEncryption="DES")))

# Bucket default encryption.
r.eq("GetBucketEncryption without config", "ServerSideEncryptionConfigurationNotFoundError",
     error_code(lambda: s3.get_bucket_encryption(Bucket=B)))
s3.put_bucket_encryption(Bucket=B, ServerSideEncryptionConfiguration={"Rules": [{
    "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms",
                                           "KMSMasterKeyID": "bucket-key"},
    "BucketKeyEnabled": True}]})
enc = s3.get_bucket_encryption(Bucket=B)["ServerSideEncryptionConfiguration"]["Rules"][0]
r.eq("GetBucketEncryption returns the algorithm", "aws:kms",
     enc["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"])
r.eq("GetBucketEncryption returns the key", "bucket-key",
     enc["ApplyServerSideEncryptionByDefault"].get("KMSMasterKeyID"))
p = s3.put_object(Bucket=B, Key="default-enc", Body=b"test")
r.eq("bucket default encryption applied to new objects", "bucket-key", p.get("SSEKMSKeyId"))
r.check("default KMS gives a non-MD5 ETag", p["ETag"] != md5q(b"test"), p["ETag"])
p = s3.put_object(Bucket=B, Key="override", Body=b"test", ServerSideEncryption="AES256")
r.eq("request SSE header overrides the bucket default", "AES256", p.get("ServerSideEncryption"))
s3.delete_bucket_encryption(Bucket=B)
r.eq("DeleteBucketEncryption removes it", "ServerSideEncryptionConfigurationNotFoundError",
     error_code(lambda: s3.get_bucket_encryption(Bucket=B)))
p = s3.put_object(Bucket=B, Key="plain", Body=b"test")
r.check("no default after delete", "ServerSideEncryption" not in p, str(p.get("ServerSideEncryption")))

# --- tagging --------------------------------------------------------------------------------------
s3.put_object(Bucket=B, Key="tagged", Body=b"x", Tagging="a=1&b%20c=x%2By")
hd = s3.head_object(Bucket=B, Key="tagged")
r.eq("x-amz-tagging-count on HEAD", "2",
     hd["ResponseMetadata"]["HTTPHeaders"].get("x-amz-tagging-count"))
g = s3.get_object(Bucket=B, Key="tagged")
r.eq("TagCount on GET", 2, g.get("TagCount"))
tags = s3.get_object_tagging(Bucket=B, Key="tagged")["TagSet"]
r.eq("GetObjectTagging decodes the header", [{"Key": "a", "Value": "1"},
                                               {"Key": "b c", "Value": "x+y"}], tags)
s3.put_object_tagging(Bucket=B, Key="tagged", Tagging={"TagSet": [{"Key": "k", "Value": "v"}]})
r.eq("PutObjectTagging replaces", [{"Key": "k", "Value": "v"}],
     s3.get_object_tagging(Bucket=B, Key="tagged")["TagSet"])
c = s3.copy_object(Bucket=B, Key="tag-copy", CopySource={"Bucket": B, "Key": "tagged"})
r.eq("CopyObject tagging directive COPY keeps tags", [{"Key": "k", "Value": "v"}],
     s3.get_object_tagging(Bucket=B, Key="tag-copy")["TagSet"])
s3.copy_object(Bucket=B, Key="tag-copy2", CopySource={"Bucket": B, "Key": "tagged"},
               TaggingDirective="REPLACE", Tagging="n=2")
r.eq("CopyObject tagging directive REPLACE", [{"Key": "n", "Value": "2"}],
     s3.get_object_tagging(Bucket=B, Key="tag-copy2")["TagSet"])
s3.delete_object_tagging(Bucket=B, Key="tagged")
r.eq("DeleteObjectTagging empties the set", [],
     s3.get_object_tagging(Bucket=B, Key="tagged")["TagSet"])
r.check("no tagging-count after delete", "x-amz-tagging-count" not in
        s3.head_object(Bucket=B, Key="tagged")["ResponseMetadata"]["HTTPHeaders"])
many = "&".join(f"k{i}=v" for i in range(11))
r.eq("11 tags -> InvalidTag", "InvalidTag",
     error_code(lambda: s3.put_object(Bucket=B, Key="many", Body=b"x", Tagging=many)))
r.eq("129-char key -> InvalidTag", "InvalidTag",
     error_code(lambda: s3.put_object_tagging(Bucket=B, Key="tagged", Tagging={
         "TagSet": [{"Key": "k" * 129, "Value": "v"}]})))
r.eq("257-char value -> InvalidTag", "InvalidTag",
     error_code(lambda: s3.put_object_tagging(Bucket=B, Key="tagged", Tagging={
         "TagSet": [{"Key": "k", "Value": "v" * 257}]})))
r.eq("tagging a missing key -> NoSuchKey", "NoSuchKey",
     error_code(lambda: s3.get_object_tagging(Bucket=B, Key="missing")))
v1 = s3.put_object(Bucket=V, Key="vt", Body=b"1", Tagging="gen=1")["VersionId"]
v2 = s3.put_object(Bucket=V, Key="vt", Body=b"2", Tagging="gen=2")["VersionId"]
r.eq("tags per version (old)", [{"Key": "gen", "Value": "1"}],
     s3.get_object_tagging(Bucket=V, Key="vt", VersionId=v1)["TagSet"])
s3.put_object_tagging(Bucket=V, Key="vt", VersionId=v1,
                      Tagging={"TagSet": [{"Key": "gen", "Value": "one"}]})
r.eq("PutObjectTagging ?versionId changes only that version", [{"Key": "gen", "Value": "2"}],
     s3.get_object_tagging(Bucket=V, Key="vt")["TagSet"])
r.eq("... and the old one changed", [{"Key": "gen", "Value": "one"}],
     s3.get_object_tagging(Bucket=V, Key="vt", VersionId=v1)["TagSet"])
r.eq("PutObjectTagging creates no version (current is still v2)", v2,
     s3.head_object(Bucket=V, Key="vt")["VersionId"])
r.eq("GetBucketTagging without tags -> NoSuchTagSet", "NoSuchTagSet",
     error_code(lambda: s3.get_bucket_tagging(Bucket=B)))
s3.put_bucket_tagging(Bucket=B, Tagging={"TagSet": [{"Key": "team", "Value": "core"}]})
r.eq("GetBucketTagging", [{"Key": "team", "Value": "core"}],
     s3.get_bucket_tagging(Bucket=B)["TagSet"])
s3.delete_bucket_tagging(Bucket=B)
r.eq("DeleteBucketTagging", "NoSuchTagSet", error_code(lambda: s3.get_bucket_tagging(Bucket=B)))

# --- ACLs and ownership ---------------------------------------------------------------------------
acl = s3.get_object_acl(Bucket=B, Key="plain")
r.eq("default object ACL: owner FULL_CONTROL only", ["FULL_CONTROL"],
     [g["Permission"] for g in acl["Grants"]])
s3.put_object(Bucket=B, Key="public", Body=b"x", ACL="public-read")
perms = [(g["Grantee"].get("URI", g["Grantee"].get("ID")), g["Permission"])
         for g in s3.get_object_acl(Bucket=B, Key="public")["Grants"]]
r.check("canned public-read on PUT -> AllUsers READ",
        ("http://acs.amazonaws.com/groups/global/AllUsers", "READ") in perms, str(perms))
s3.put_object_acl(Bucket=B, Key="public", ACL="private")
r.eq("PutObjectAcl private", 1, len(s3.get_object_acl(Bucket=B, Key="public")["Grants"]))
s3.put_object(Bucket=B, Key="granted", Body=b"x", GrantRead='id="reader-id"')
perms = [(g["Grantee"].get("ID"), g["Permission"])
         for g in s3.get_object_acl(Bucket=B, Key="granted")["Grants"]]
r.check("x-amz-grant-read stored", ("reader-id", "READ") in perms, str(perms))
s3.copy_object(Bucket=B, Key="copy-acl", CopySource={"Bucket": B, "Key": "plain"},
               ACL="authenticated-read")
r.eq("canned ACL on copy", 2, len(s3.get_object_acl(Bucket=B, Key="copy-acl")["Grants"]))
owner = s3.get_object_acl(Bucket=B, Key="plain")["Owner"]
s3.put_object_acl(Bucket=B, Key="plain", AccessControlPolicy={"Owner": owner, "Grants": [
    {"Grantee": {"Type": "Group", "URI": "http://acs.amazonaws.com/groups/global/AllUsers"},
     "Permission": "READ"}]})
r.eq("PutObjectAcl with a policy body", 2,
     len(s3.get_object_acl(Bucket=B, Key="plain")["Grants"]))
r.eq("unknown canned ACL -> InvalidArgument", "InvalidArgument",
     error_code(lambda: s3.put_object(Bucket=B, Key="x", Body=b"x", ACL="bogus")))
s3.create_bucket(Bucket="surface-acl", ACL="public-read", ObjectOwnership="ObjectWriter")
perms = [g["Permission"] for g in s3.get_bucket_acl(Bucket="surface-acl")["Grants"]]
r.eq("CreateBucket canned ACL -> GetBucketAcl", ["FULL_CONTROL", "READ"], perms)
own = s3.get_bucket_ownership_controls(Bucket="surface-acl")["OwnershipControls"]
r.eq("CreateBucket x-amz-object-ownership", "ObjectWriter", own["Rules"][0]["ObjectOwnership"])
s3.put_bucket_acl(Bucket="surface-acl", ACL="private")
r.eq("PutBucketAcl private", 1, len(s3.get_bucket_acl(Bucket="surface-acl")["Grants"]))
s3.put_bucket_ownership_controls(Bucket="surface-acl", OwnershipControls={
    "Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]})
r.eq("PutBucketOwnershipControls", "BucketOwnerEnforced",
     s3.get_bucket_ownership_controls(Bucket="surface-acl")["OwnershipControls"]["Rules"][0]
     ["ObjectOwnership"])
r.eq("BucketOwnerEnforced refuses ACLs", "AccessControlListNotSupported",
     error_code(lambda: s3.put_object(Bucket="surface-acl", Key="k", Body=b"x",
                                      ACL="public-read")))
s3.delete_bucket_ownership_controls(Bucket="surface-acl")
r.eq("DeleteBucketOwnershipControls", "OwnershipControlsNotFoundError",
     error_code(lambda: s3.get_bucket_ownership_controls(Bucket="surface-acl")))

# --- CORS -----------------------------------------------------------------------------------------
r.eq("GetBucketCors without config", "NoSuchCORSConfiguration",
     error_code(lambda: s3.get_bucket_cors(Bucket=B)))
st, h, data = raw("OPTIONS", f"/{B}/obj", {"Origin": "https://a.example.com",
                                           "Access-Control-Request-Method": "GET"})
r.check("preflight without CORS config -> 403", st == 403 and b"AccessForbidden" in data, f"{st}")
s3.put_bucket_cors(Bucket=B, CORSConfiguration={"CORSRules": [
    {"AllowedOrigins": ["https://*.example.com"], "AllowedMethods": ["GET", "PUT"],
     "AllowedHeaders": ["x-amz-*", "content-type"], "ExposeHeaders": ["ETag"],
     "MaxAgeSeconds": 600}]})
rules = s3.get_bucket_cors(Bucket=B)["CORSRules"]
r.eq("GetBucketCors", ["https://*.example.com"], rules[0]["AllowedOrigins"])
st, h, data = raw("OPTIONS", f"/{B}/obj", {"Origin": "https://a.example.com",
                                           "Access-Control-Request-Method": "PUT",
                                           "Access-Control-Request-Headers": "content-type, x-amz-date"})
r.eq("preflight allowed -> 200", 200, st)
r.eq("preflight Allow-Origin", "https://a.example.com", h.get("access-control-allow-origin"))
r.eq("preflight Allow-Methods", "GET, PUT", h.get("access-control-allow-methods"))
r.eq("preflight Allow-Headers", "content-type, x-amz-date", h.get("access-control-allow-headers"))
r.eq("preflight Max-Age", "600", h.get("access-control-max-age"))
st, h, data = raw("OPTIONS", f"/{B}/obj", {"Origin": "https://evil.com",
                                           "Access-Control-Request-Method": "GET"})
r.check("preflight from another origin -> 403 CORSResponse",
        st == 403 and b"CORSResponse: This CORS request is not allowed" in data, f"{st} {data[:200]!r}")
st, h, data = raw("OPTIONS", f"/{B}/obj", {"Origin": "https://a.example.com",
                                           "Access-Control-Request-Method": "DELETE"})
r.eq("preflight with a method not allowed -> 403", 403, st)
st, h, data = raw("GET", f"/{B}/range", {"Origin": "https://b.example.com"})
r.eq("actual GET gets Allow-Origin", "https://b.example.com", h.get("access-control-allow-origin"))
r.eq("actual GET gets Expose-Headers", "ETag", h.get("access-control-expose-headers"))
st, h, data = raw("GET", f"/{B}/range", {"Origin": "https://evil.com"})
r.check("actual GET from an unmatched origin has no CORS headers",
        "access-control-allow-origin" not in h, str(h))
s3.delete_bucket_cors(Bucket=B)
r.eq("DeleteBucketCors", "NoSuchCORSConfiguration", error_code(lambda: s3.get_bucket_cors(Bucket=B)))

# --- GetObjectAttributes --------------------------------------------------------------------------
s3.put_object(Bucket=B, Key="attrs", Body=b"hello", ChecksumAlgorithm="CRC32")
a = s3.get_object_attributes(Bucket=B, Key="attrs",
                             ObjectAttributes=["ETag", "Checksum", "ObjectSize", "StorageClass",
                                               "ObjectParts"])
r.eq("attributes ETag (unquoted)", hashlib.md5(b"hello").hexdigest(), a.get("ETag"))
r.eq("attributes ObjectSize", 5, a.get("ObjectSize"))
r.eq("attributes StorageClass", "STANDARD", a.get("StorageClass"))
r.check("attributes Checksum CRC32", "ChecksumCRC32" in a.get("Checksum", {}), str(a))
r.check("attributes LastModified", "LastModified" in a, str(a))
a = s3.get_object_attributes(Bucket=B, Key="attrs", ObjectAttributes=["ObjectSize"])
r.check("only the requested attributes", "ETag" not in a and a.get("ObjectSize") == 5, str(a))
r.eq("attributes of a missing key", "NoSuchKey", error_code(
    lambda: s3.get_object_attributes(Bucket=B, Key="nope", ObjectAttributes=["ETag"])))

s3.put_object(Bucket=V, Key="gone", Body=b"x")
s3.delete_object(Bucket=V, Key="gone")
st, h, _ = raw("GET", f"/{V}/gone?attributes", {"x-amz-object-attributes": "ETag"})
r.check("attributes of a delete marker -> 404 with x-amz-delete-marker",
        st == 404 and h.get("x-amz-delete-marker") == "true", f"{st} {h}")
st, h, _ = raw("GET", f"/{B}/absent?attributes", {"x-amz-object-attributes": "ETag"})
r.check("attributes of an absent key -> 404 without x-amz-delete-marker",
        st == 404 and "x-amz-delete-marker" not in h, f"{st} {h}")

# --- ListBuckets paging ---------------------------------------------------------------------------
for n in ("page-a", "page-b", "page-c"):
    s3.create_bucket(Bucket=n)
lb = s3.list_buckets(MaxBuckets=2, Prefix="page-")
r.eq("ListBuckets max-buckets + prefix", ["page-a", "page-b"], [b["Name"] for b in lb["Buckets"]])
r.check("ListBuckets ContinuationToken when truncated", bool(lb.get("ContinuationToken")), str(lb))
lb2 = s3.list_buckets(MaxBuckets=2, Prefix="page-", ContinuationToken=lb["ContinuationToken"])
r.eq("ListBuckets second page", ["page-c"], [b["Name"] for b in lb2["Buckets"]])
r.check("no token on the last page", not lb2.get("ContinuationToken"), str(lb2))
r.eq("GetBucketLocation us-east-1 is empty (null)", None,
     s3.get_bucket_location(Bucket=B).get("LocationConstraint"))
r.check("GetBucketVersioning never enabled has no Status",
        "Status" not in s3.get_bucket_versioning(Bucket=B), "")
# --- multipart uploads carry SSE, ACL and tags to the completed object -------------------------
up = s3.create_multipart_upload(Bucket=B, Key="mpu-surface", ServerSideEncryption="aws:kms",
                                SSEKMSKeyId="my-key", Tagging="team=storage&tier=hot",
                                ACL="public-read")
r.eq("CreateMultipartUpload echoes nothing it cannot know yet; upload id returned", True,
     bool(up["UploadId"]))
pe = s3.upload_part(Bucket=B, Key="mpu-surface", UploadId=up["UploadId"], PartNumber=1,
                    Body=b"multipart surface")["ETag"]
s3.complete_multipart_upload(Bucket=B, Key="mpu-surface", UploadId=up["UploadId"],
                             MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": pe}]})
h = s3.head_object(Bucket=B, Key="mpu-surface")
r.eq("multipart object: SSE from the upload", "aws:kms", h.get("ServerSideEncryption"))
r.eq("multipart object: KMS key id from the upload", "my-key", h.get("SSEKMSKeyId"))
r.eq("multipart object: tag count from the upload", 2, h.get("TagCount"))
tags = s3.get_object_tagging(Bucket=B, Key="mpu-surface")["TagSet"]
r.eq("multipart object: tags from the upload", {"team": "storage", "tier": "hot"},
     {t["Key"]: t["Value"] for t in tags})
grants = s3.get_object_acl(Bucket=B, Key="mpu-surface")["Grants"]
r.check("multipart object: ACL from the upload (AllUsers READ)",
        any(g["Grantee"].get("URI", "").endswith("AllUsers") and g["Permission"] == "READ"
            for g in grants), grants)

# --- GetObjectAttributes ObjectParts of a multipart object, paged ---------------------------------
MiB = 1024 * 1024
up = s3.create_multipart_upload(Bucket=B, Key="mpu-attrs")
p1 = s3.upload_part(Bucket=B, Key="mpu-attrs", UploadId=up["UploadId"], PartNumber=1,
                    Body=b"x" * (5 * MiB))["ETag"]
p2 = s3.upload_part(Bucket=B, Key="mpu-attrs", UploadId=up["UploadId"], PartNumber=2,
                    Body=b"tail")["ETag"]
s3.complete_multipart_upload(Bucket=B, Key="mpu-attrs", UploadId=up["UploadId"],
                             MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": p1},
                                                        {"PartNumber": 2, "ETag": p2}]})
a = s3.get_object_attributes(Bucket=B, Key="mpu-attrs", ObjectAttributes=["ObjectParts", "ObjectSize"],
                             MaxParts=1)
op = a.get("ObjectParts", {})
r.eq("ObjectParts: total parts", 2, op.get("TotalPartsCount"))
r.eq("ObjectParts page 1: part 1 with its size", [(1, 5 * MiB)],
     [(p["PartNumber"], p["Size"]) for p in op.get("Parts", [])])
r.eq("ObjectParts page 1: truncated, next marker 1", (True, 1),
     (op.get("IsTruncated"), op.get("NextPartNumberMarker")))
a = s3.get_object_attributes(Bucket=B, Key="mpu-attrs", ObjectAttributes=["ObjectParts"],
                             MaxParts=1, PartNumberMarker=1)
r.eq("ObjectParts page 2: part 2", [(2, 4)],
     [(p["PartNumber"], p["Size"]) for p in a.get("ObjectParts", {}).get("Parts", [])])
r.eq("ObjectSize of the multipart object", 5 * MiB + 4,
     s3.get_object_attributes(Bucket=B, Key="mpu-attrs", ObjectAttributes=["ObjectSize"])["ObjectSize"])

r.finish()
