"""Plain http.client requests against the server under test, for suites that send arbitrary
headers (the conditional truth table, races, D5, policies). Requests are unsigned, which ifmatch
accepts in its open mode. Import from suites run through run.sh (this directory is on PYTHONPATH).
"""

import hashlib
import base64
import http.client
import re
import threading
import urllib.parse

import lib


class Resp:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = {k.lower(): v for k, v in headers}
        self.body = body

    def header(self, name, default=None):
        return self.headers.get(name.lower(), default)

    def xml(self, element):
        """Text of the first <element> of the body, or '' when there is none."""
        m = re.search(rb"<" + element.encode() + rb">(.*?)</" + element.encode() + rb">",
                      self.body, re.S)
        return m.group(1).decode() if m else ""

    @property
    def code(self):
        return self.xml("Code")

    def __repr__(self):
        return f"<Resp {self.status} {self.body[:300]!r}>"


def quote_key(key):
    return urllib.parse.quote(key, safe="/~")


def path_of(bucket, key="", query=None):
    """`/bucket/key?query`; query is a list of (name, value) pairs, value None for a bare name."""
    path = "/" + bucket + ("/" + quote_key(key) if key else "")
    if query:
        parts = []
        for name, value in query:
            n = urllib.parse.quote(name, safe="")
            parts.append(n if value is None else n + "=" + urllib.parse.quote(value, safe=""))
        path += "?" + "&".join(parts)
    return path


_local = threading.local()


def use_port(port):
    """Sends this thread's later requests without an explicit port to `port` (None: the suite's
    server again). Lets one suite drive several servers, e.g. the replicas of shared mode."""
    _local.port = port


def current_port():
    """The port this thread's requests go to by default."""
    return getattr(_local, "port", None) or lib.port()


def request(method, path, headers=None, body=b"", timeout=30, port=None):
    """Sends one request on a fresh connection (to the suite's server, or `port`); a Resp."""
    if isinstance(body, str):
        body = body.encode()
    conn = http.client.HTTPConnection("127.0.0.1", port or current_port(), timeout=timeout)
    try:
        hdrs = dict(headers or {})
        if method in ("PUT", "POST") or body:
            hdrs.setdefault("Content-Length", str(len(body)))
        conn.request(method, path, body=body, headers=hdrs)
        r = conn.getresponse()
        data = r.read()
        return Resp(r.status, r.getheaders(), data)
    finally:
        conn.close()


def create_bucket(bucket):
    return request("PUT", path_of(bucket))


def enable_versioning(bucket):
    body = ('<VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
            "<Status>Enabled</Status></VersioningConfiguration>")
    return request("PUT", path_of(bucket, query=[("versioning", None)]), body=body)


def put(bucket, key, body, headers=None):
    return request("PUT", path_of(bucket, key), headers, body)


def get(bucket, key, headers=None, query=None):
    return request("GET", path_of(bucket, key, query), headers)


def head(bucket, key, headers=None, query=None):
    return request("HEAD", path_of(bucket, key, query), headers)


def delete(bucket, key, headers=None, query=None):
    return request("DELETE", path_of(bucket, key, query), headers)


def delete_objects(bucket, objects, quiet=False):
    """objects: list of dicts with Key and optionally ETag / VersionId / Size."""
    xml = "<Delete>" + ("<Quiet>true</Quiet>" if quiet else "")
    for o in objects:
        xml += "<Object>" + "".join(f"<{k}>{v}</{k}>" for k, v in o.items()) + "</Object>"
    xml += "</Delete>"
    md5 = base64.b64encode(hashlib.md5(xml.encode()).digest()).decode()
    return request("POST", path_of(bucket, query=[("delete", None)]),
                   {"Content-MD5": md5, "Content-Type": "application/xml"}, xml)


def set_require_conditions(bucket, on=True):
    body = '{"require_conditional_writes": %s}' % ("true" if on else "false")
    return request("PUT", f"/_ifmatch/buckets/{bucket}/settings", {}, body)


# --- multipart (standard S3 API) -----------------------------------------------------------------

def create_upload(bucket, key):
    r = request("POST", path_of(bucket, key, [("uploads", None)]))
    return r, (r.xml("UploadId") if r.status == 200 else None)


def upload_part(bucket, key, upload_id, number, body):
    return request("PUT", path_of(bucket, key, [("partNumber", str(number)),
                                                ("uploadId", upload_id)]), {}, body)


def abort_upload(bucket, key, upload_id):
    return request("DELETE", path_of(bucket, key, [("uploadId", upload_id)]))


def complete_upload(bucket, key, upload_id, parts, headers=None):
    """parts: list of (number, etag)."""
    xml = "<CompleteMultipartUpload>" + "".join(
        f"<Part><PartNumber>{n}</PartNumber><ETag>{e}</ETag></Part>" for n, e in parts)
    xml += "</CompleteMultipartUpload>"
    return request("POST", path_of(bucket, key, [("uploadId", upload_id)]), headers, xml)


def md5_etag(body):
    if isinstance(body, str):
        body = body.encode()
    return '"' + hashlib.md5(body).hexdigest() + '"'
