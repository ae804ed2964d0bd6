"""Shared mode with --blob-dir: bodies above the inline limit are files in a directory both
replicas mount (storage/postgres/blob_dir.hpp).

* An 8 MiB PUT through a is one file in the directory, read whole and by range through b.
* A small body stays in the database (no file).
* A multipart upload created on a, parts through b, completed on a: read through b.
* A slow GET through b keeps the old file while a overwrites and deletes the object: the reader
  gets every byte; once it is done, the released files are unlinked (within a few seconds) and
  the directory holds exactly the files of live bodies.
* A refused conditional PUT (412) leaves no file behind.
* `ifmatch check --data URI --blob-dir DIR` is clean at the end, and reports a body file removed
  behind the store's back.
Every wait is bounded.
"""

import atexit
import os
import shutil
import tempfile
import time

import lib
import replicas
import sharedmode

MiB = 1024 * 1024
r = lib.Reporter("shared_blobdir")
started = time.monotonic()
blob_dir = tempfile.mkdtemp(prefix="ifmatch-blobs-")
atexit.register(shutil.rmtree, blob_dir, True)
env = sharedmode.setup(r, flags=["--blob-dir", blob_dir])
a, b = env.clients
B = "shared-blobs"


def files():
    return sorted(n for n in os.listdir(blob_dir) if n.endswith(".body"))


def wait_files(count, timeout=8.0):
    lib.wait_for(lambda: len(files()) == count, timeout)
    return files()


r.eq("CreateBucket through a", 200, a.create_bucket(B).status)
big = os.urandom(8 * MiB + 4321)
put = a.put(B, "big.bin", big, timeout=60)
r.eq("PUT 8 MiB through a", (200, sharedmode.etag_of(big)), (put.status, put.header("etag")))
r.eq("... is one file in the blob directory", 1, len(files()))
got = b.get(B, "big.bin", timeout=60)
r.check("GET through b: the same bytes", got.status == 200 and got.body == big,
        f"{got.status} {len(got.body)} bytes")
lo, hi = 3 * MiB - 5, 5 * MiB + 5
part = b.get(B, "big.bin", {"Range": f"bytes={lo}-{hi}"}, timeout=60)
r.eq("ranged GET through b", (206, big[lo:hi + 1]), (part.status, part.body))
r.eq("a small PUT stays in the database", (200, 1),
     (a.put(B, "small.txt", b"tiny").status, len(files())))

# Multipart across replicas: each part is a file.
resp, upload = a.create_upload(B, "multi.bin")
r.eq("CreateMultipartUpload through a", 200, resp.status)
parts_data = [os.urandom(5 * MiB), os.urandom(1 * MiB + 7)]
etags = []
for n, data in enumerate(parts_data, start=1):
    up = b.upload_part(B, "multi.bin", upload, n, data)
    etags.append((n, up.header("etag")))
r.eq("UploadPart x2 through b", [200, 200], [200 if e else 0 for _, e in etags])
done = a.complete_upload(B, "multi.bin", upload, etags)
r.eq("CompleteMultipartUpload through a", 200, done.status)
whole = b.get(B, "multi.bin", timeout=60)
r.check("GET of the multipart object through b: the parts' bytes in order",
        whole.status == 200 and whole.body == b"".join(parts_data), f"{len(whole.body)} bytes")
live = len(files())
r.eq("files: the 8 MiB body and the two parts", 3, live)

# A slow reader on b while a overwrites and deletes the object.
sock, head, body = sharedmode.slow_get_start(b, B, "big.bin")
try:
    r.check("slow GET through b: 200 head", head.startswith(b"HTTP/1.1 200"), head[:100])
    over = a.put(B, "big.bin", os.urandom(2 * MiB))
    gone = a.delete(B, "big.bin")
    r.eq("overwrite and DELETE through a while b streams", (200, 204), (over.status, gone.status))
    time.sleep(2.5)  # several janitor passes
    r.check("the file b is reading is still there", len(files()) >= live, f"{files()}")
finally:
    body = sharedmode.slow_get_finish(sock, body, len(big))
r.check("slow GET through b: the old body, whole", body == big,
        f"{len(body)} bytes of {len(big)}, equal prefix: {body == big[:len(body)]}")
r.eq("once the reader is done, the released files are unlinked (the two parts stay)", 2,
     len(wait_files(2)))

refused = a.put(B, "multi.bin", os.urandom(1 * MiB), {"If-None-Match": "*"})
r.eq("a conditional PUT refused with 412", 412, refused.status)
r.eq("... leaves no file behind", 2, len(wait_files(2)))

status, out = sharedmode.run_check(replicas.binary(), env.uri)
r.eq("ifmatch check --data URI is clean", 0, status)
r.check("... and says the file bodies need --blob-dir to be checked", "--blob-dir" in out, out)
status, out = sharedmode.run_check(replicas.binary(), env.uri, extra=["--blob-dir", blob_dir])
r.eq("ifmatch check --data URI --blob-dir DIR is clean", 0, status)
if status != 0:
    print(out, flush=True)
os.remove(os.path.join(blob_dir, files()[0]))
status, out = sharedmode.run_check(replicas.binary(), env.uri, extra=["--blob-dir", blob_dir])
r.check("a body file removed behind the store's back: check exits 1 naming it",
        status == 1 and "file is missing" in out, f"{status} {out}")
env.finish(started)
