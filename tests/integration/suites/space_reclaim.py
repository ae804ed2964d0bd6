"""Space comes back: bodies no version refers to any more are unlinked while the server runs
(reference counts in storage/sqlite/rows.cpp release_body + the grace unlink of storage/sqlite/store.cpp) and at
start-up. Overwrites and deletes of large (file-backed) objects must shrink <data>/blobs back to
what the live versions need; a restart reclaims nothing that is still referenced.
Run through ../run.sh.
"""

import os
import time

import lib

try:
    import boto3
    from botocore.config import Config
except ImportError as e:
    lib.skip(f"boto3 not importable ({e}); suite space_reclaim did not run")

r = lib.Reporter("space_reclaim")
BLOBS = os.path.join(lib.data_dir(), "blobs")
MB = 1024 * 1024


def client():
    return boto3.client("s3", endpoint_url=lib.endpoint(), region_name="us-east-1",
                        aws_access_key_id="test", aws_secret_access_key="test",
                        config=Config(retries={"total_max_attempts": 1}))


def blob_usage():
    files, size = 0, 0
    for root, _, names in os.walk(BLOBS):
        for n in names:
            try:
                size += os.path.getsize(os.path.join(root, n))
                files += 1
            except FileNotFoundError:
                pass
    return files, size


def wait_for(pred, timeout=15.0):
    """Polls blob_usage() until pred(files, size) holds; returns the last usage."""
    deadline = time.monotonic() + timeout
    while True:
        usage = blob_usage()
        if pred(*usage) or time.monotonic() > deadline:
            return usage
        time.sleep(0.25)


s3 = client()
s3.create_bucket(Bucket="space")
body = lambda i: bytes([i]) * (2 * MB)  # noqa: E731 - well above the 64 KiB inline limit

# Overwrites in an unversioned bucket: only the last body stays.
for i in range(5):
    s3.put_object(Bucket="space", Key="over", Body=body(i))
files, size = wait_for(lambda f, s: f == 1)
r.eq("overwrites: one blob file left", 1, files)
r.eq("overwrites: blob bytes = one body", 2 * MB, size)
r.eq("overwrites: the last body is served", body(4),
     s3.get_object(Bucket="space", Key="over")["Body"].read())

# A copy shares the body: deleting the source keeps the bytes for the copy.
s3.copy_object(Bucket="space", Key="copy", CopySource={"Bucket": "space", "Key": "over"})
s3.delete_object(Bucket="space", Key="over")
time.sleep(6)  # longer than the grace period: the shared body must survive
files, size = blob_usage()
r.eq("shared body survives the source's delete", 1, files)
r.eq("copy still readable", body(4), s3.get_object(Bucket="space", Key="copy")["Body"].read())
s3.delete_object(Bucket="space", Key="copy")
files, size = wait_for(lambda f, s: f == 0)
r.eq("last reference deleted: no blob file left", 0, files)

# Versioned bucket: versions keep their bodies until the versions themselves are deleted.
s3.create_bucket(Bucket="space-v")
s3.put_bucket_versioning(Bucket="space-v", VersioningConfiguration={"Status": "Enabled"})
vids = [s3.put_object(Bucket="space-v", Key="k", Body=body(10 + i))["VersionId"]
        for i in range(3)]
s3.delete_object(Bucket="space-v", Key="k")  # a delete marker frees nothing
time.sleep(6)
files, _ = blob_usage()
r.eq("versioned: all three bodies kept behind a delete marker", 3, files)
for v in vids[:2]:
    s3.delete_object(Bucket="space-v", Key="k", VersionId=v)
files, size = wait_for(lambda f, s: f == 1)
r.eq("versioned: deleting two versions frees two bodies", 1, files)
r.eq("versioned: remaining version readable", body(12),
     s3.get_object(Bucket="space-v", Key="k", VersionId=vids[2])["Body"].read())

# A stray blob that no row references (a crash between staging and commit) goes at start-up.
stray = os.path.join(BLOBS, "ab", "ab" + "0" * 30)
with open(stray, "wb") as f:
    f.write(b"x" * MB)
lib.stop_server()
lib.start_server()
s3 = client()
files, size = wait_for(lambda f, s: f == 1)
r.check("start-up reclaims an unreferenced blob", not os.path.exists(stray), stray)
r.eq("start-up keeps the referenced blob", 1, files)
r.eq("referenced body intact after restart", body(12),
     s3.get_object(Bucket="space-v", Key="k", VersionId=vids[2])["Body"].read())
r.finish()
