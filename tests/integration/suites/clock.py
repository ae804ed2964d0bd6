"""The store's clock, which tests move forward (run through ../run.sh).

GET /_ifmatch/clock reports it; POST {"advance_seconds": N} moves it forward only with
--controllable-clock (or --enable-test-hooks), never backward. New writes take their Last-Modified
from it, If-Modified-Since's future-date rule is judged on it, and its offset survives a restart
(Last-Modified stays monotonic per key).
"""

import datetime
import email.utils
import http.client
import json
import os

import lib

try:
    import boto3
    from botocore.config import Config
    from botocore.exceptions import ClientError
except ImportError as e:
    lib.skip(f"boto3 not importable ({e}); suite clock did not run")

r = lib.Reporter("clock")
DAY = 86400


def call(method, body=None):
    conn = http.client.HTTPConnection("127.0.0.1", lib.port(), timeout=10)
    conn.request(method, "/_ifmatch/clock", body=None if body is None else json.dumps(body))
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    return resp.status, data


def s3():
    return boto3.client("s3", endpoint_url=lib.endpoint(), region_name="us-east-1",
                        aws_access_key_id="test", aws_secret_access_key="test",
                        config=Config(retries={"total_max_attempts": 1}))


def last_modified(client, key):
    return client.head_object(Bucket="clk", Key=key)["LastModified"]


status, body = call("GET")
r.eq("GET /_ifmatch/clock answers", 200, status)
state = json.loads(body)
r.eq("without the flag the clock is not controllable", False, state["controllable"])
r.eq("and has no offset", 0, state["offset_seconds"])
real = datetime.datetime.now(datetime.timezone.utc).timestamp()
r.check("it reports real time", abs(state["now_ms"] / 1000 - real) < 60, state)
status, body = call("POST", {"advance_seconds": DAY})
r.eq("POST without --controllable-clock: 403", 403, status)
r.eq("... AccessDenied", "AccessDenied", lib.xml_code(body))

lib.stop_server()
os.environ["IFMATCH_CONTROLLABLE_CLOCK"] = "1"
lib.start_server()
c = s3()
c.create_bucket(Bucket="clk")
c.put_object(Bucket="clk", Key="before", Body=b"1")
lm_before = last_modified(c, "before")
for bad in ({"advance_seconds": -5}, {"advance_seconds": 0}, {"advance_seconds": "x"}, {}):
    status, body = call("POST", bad)
    r.eq(f"{bad} is refused with 400 InvalidArgument", (400, "InvalidArgument"),
         (status, lib.xml_code(body)))
status, body = call("POST", {"advance_seconds": 3 * DAY})
r.eq("advance three days", 200, status)
moved = json.loads(body)
r.eq("offset reported", 3 * DAY, moved["offset_seconds"])
r.check("now moved three days ahead",
        abs(moved["now_ms"] / 1000 - 3 * DAY - datetime.datetime.now().timestamp()) < 60, moved)
c.put_object(Bucket="clk", Key="after", Body=b"2")
lm_after = last_modified(c, "after")
gap = (lm_after - lm_before).total_seconds()
r.check("a new write's Last-Modified comes from the moved clock", 3 * DAY - 60 < gap < 3 * DAY + 60,
        gap)
c.put_object(Bucket="clk", Key="before", Body=b"1b")
r.check("an overwrite's Last-Modified moves forward too",
        (last_modified(c, "before") - lm_before).total_seconds() > 3 * DAY - 60)

# If-Modified-Since one day ahead of the machine's clock is in the past of the store's clock:
# it is a real condition now (S3 ignores only dates in its own future).
tomorrow = email.utils.formatdate(datetime.datetime.now().timestamp() + DAY, usegmt=True)
try:
    got = c.get_object(Bucket="clk", Key="before", IfModifiedSince=tomorrow)
    r.eq("If-Modified-Since before the object's Last-Modified: 200", 200,
         got["ResponseMetadata"]["HTTPStatusCode"])
except ClientError as e:
    r.fail("If-Modified-Since before the object's Last-Modified: 200", e.response["Error"]["Code"])
status, body = call("POST", {"advance_seconds": DAY})
r.eq("advance one more day", 4 * DAY, json.loads(body)["offset_seconds"])
# After "after" was written (store time machine+3d) and before the store's now (machine+4d), but
# in the machine's future: only a server judging on the store's clock answers 304.
between = email.utils.formatdate(datetime.datetime.now().timestamp() + 3.5 * DAY, usegmt=True)
try:
    c.get_object(Bucket="clk", Key="after", IfModifiedSince=between)
    r.fail("If-Modified-Since past the object but ahead of the machine's clock: 304", "got 200")
except ClientError as e:
    r.eq("a date the machine calls future but the store does not is honoured: 304", "304",
         e.response["Error"]["Code"])
far = email.utils.formatdate(datetime.datetime.now().timestamp() + 10 * DAY, usegmt=True)
r.eq("a date in the store's future is ignored (200)", 200,
     c.get_object(Bucket="clk", Key="after", IfModifiedSince=far)["ResponseMetadata"]
     ["HTTPStatusCode"])

lib.stop_server()
lib.start_server()
status, body = call("GET")
r.eq("the offset survives a restart", 4 * DAY, json.loads(body)["offset_seconds"])
c = s3()
c.put_object(Bucket="clk", Key="after", Body=b"3")
r.check("Last-Modified stays monotonic per key across the restart",
        last_modified(c, "after") >= lm_after)
r.finish()
