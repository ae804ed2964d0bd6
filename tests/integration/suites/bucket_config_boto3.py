"""Stored bucket configurations through boto3 (run through ../run.sh; docs/bucket-configuration.md):
put -> get equal -> delete -> not configured for notification (B-S1), logging (B-S2), website
(B-S3), acceleration (B-S4), request payment (B-S5) and the public access block (B-S6, with
BlockPublicAcls and BlockPublicPolicy acting), policy status (B-S7); S3's validation errors; the
raw error envelopes of the not-configured 404s; CreateBucket with Object Lock (B-L1); and
the configurations surviving a restart. Prints one line per check and "N passed, M failed".
"""

import http.client
import json
import xml.etree.ElementTree as ET

import lib

try:
    import boto3
    from botocore.config import Config
    from botocore.exceptions import ClientError
except ImportError as e:
    lib.skip(f"boto3 not importable ({e}); suite bucket_config_boto3 did not run")

r = lib.Reporter("bucket_config_boto3")


def client():
    return boto3.client("s3", endpoint_url=lib.endpoint(), region_name="us-east-1",
                        aws_access_key_id="test", aws_secret_access_key="test",
                        config=Config(retries={"total_max_attempts": 1}, connect_timeout=5,
                                      read_timeout=30))


s3 = client()
sent = []


def _record(request, **_):
    sent.append({k.lower(): (v.decode() if isinstance(v, bytes) else v)
                 for k, v in request.headers.items()})


s3.meta.events.register("before-send.s3", _record)

B = "config-boto3"
LOGS = "config-boto3-logs"
s3.create_bucket(Bucket=B)
s3.create_bucket(Bucket=LOGS)


def error(fn, **kw):
    """(HTTP status, S3 code, message) of a call expected to fail; ('ok', ...) if it did not."""
    try:
        fn(**kw)
    except ClientError as e:
        return (e.response["ResponseMetadata"]["HTTPStatusCode"], e.response["Error"]["Code"],
                e.response["Error"].get("Message", ""))
    return ("ok", None, None)


def code(fn, **kw):
    return error(fn, **kw)[:2]


def strip(resp):
    return {k: v for k, v in resp.items() if k != "ResponseMetadata"}


def raw(method, path, body=None, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", lib.port(), timeout=10)
    conn.request(method, path, body=body, headers=headers or {})
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data


def xml_field(data, name):
    root = ET.fromstring(data)
    el = root.find(name)
    return None if el is None else (el.text or "")


# --- B-S1 notification ---------------------------------------------------------------------------
notification = {
    "TopicConfigurations": [{"Id": "topic", "TopicArn": "arn:aws:sns:us-east-1:123456789012:t",
                             "Events": ["s3:ObjectRemoved:*"]}],
    "QueueConfigurations": [{
        "Id": "queue", "QueueArn": "arn:aws:sqs:us-east-1:123456789012:q",
        "Events": ["s3:ObjectCreated:Put", "s3:ObjectCreated:CompleteMultipartUpload"],
        "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "images/"},
                                           {"Name": "suffix", "Value": ".jpg"}]}}}],
    "LambdaFunctionConfigurations": [{
        "Id": "fn", "LambdaFunctionArn": "arn:aws:lambda:us-east-1:123456789012:function:f",
        "Events": ["s3:ObjectCreated:*"],
        "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "docs/"}]}}}],
    "EventBridgeConfiguration": {},
}
r.run("B-S1 put-bucket-notification-configuration",
      lambda: s3.put_bucket_notification_configuration(Bucket=B,
                                                       NotificationConfiguration=notification))
got = strip(s3.get_bucket_notification_configuration(Bucket=B))
# S3 returns the rule names capitalised ([AWS-SDK-389]); everything else comes back as sent.
expected = json.loads(json.dumps(notification).replace('"prefix"', '"Prefix"')
                      .replace('"suffix"', '"Suffix"'))
r.eq("B-S1 get returns the configuration", expected, got)
noid = {"QueueConfigurations": [{"QueueArn": "arn:aws:sqs:us-east-1:123456789012:q",
                                 "Events": ["s3:ObjectCreated:*"]}]}
s3.put_bucket_notification_configuration(Bucket=B, NotificationConfiguration=noid)
ids = [c.get("Id") for c in s3.get_bucket_notification_configuration(Bucket=B)
       .get("QueueConfigurations", [])]
r.check("B-S1 a target without Id gets one", len(ids) == 1 and bool(ids[0]), ids)
r.eq("B-S1 bad event -> InvalidArgument", (400, "InvalidArgument"), code(
    s3.put_bucket_notification_configuration, Bucket=B, NotificationConfiguration={
        "QueueConfigurations": [{"QueueArn": "arn:aws:sqs:us-east-1:1:q",
                                 "Events": ["s3:ObjectCreated:Sideways"]}]}))
overlap = error(s3.put_bucket_notification_configuration, Bucket=B, NotificationConfiguration={
    "QueueConfigurations": [
        {"QueueArn": "arn:aws:sqs:us-east-1:1:a", "Events": ["s3:ObjectCreated:*"]},
        {"QueueArn": "arn:aws:sqs:us-east-1:1:b", "Events": ["s3:ObjectCreated:Put"]}]})
r.check("B-S1 two targets sharing an event type -> InvalidArgument 'Configurations overlap'",
        overlap[:2] == (400, "InvalidArgument") and overlap[2].startswith("Configurations overlap"),
        overlap)
r.eq("B-S1 filter rule name other than prefix/suffix -> InvalidArgument", (400, "InvalidArgument"),
     code(s3.put_bucket_notification_configuration, Bucket=B, NotificationConfiguration={
         "QueueConfigurations": [{"QueueArn": "arn:aws:sqs:us-east-1:1:q",
                                  "Events": ["s3:ObjectCreated:*"],
                                  "Filter": {"Key": {"FilterRules": [
                                      {"Name": "middle", "Value": "x"}]}}}]}))
r.eq("B-S1 a topic ARN that is not SNS -> InvalidArgument", (400, "InvalidArgument"), code(
    s3.put_bucket_notification_configuration, Bucket=B, NotificationConfiguration={
        "TopicConfigurations": [{"TopicArn": "arn:aws:sqs:us-east-1:1:q",
                                 "Events": ["s3:ObjectCreated:*"]}]}))
r.eq("B-S1 refused configurations left the stored one", ids, [
    c.get("Id") for c in s3.get_bucket_notification_configuration(Bucket=B)
    .get("QueueConfigurations", [])])
s3.put_bucket_notification_configuration(Bucket=B, NotificationConfiguration={})
r.eq("B-S1 an empty configuration removes it (B-N7 again)", {},
     strip(s3.get_bucket_notification_configuration(Bucket=B)))

# --- B-S2 logging --------------------------------------------------------------------------------
logging_on = {"LoggingEnabled": {
    "TargetBucket": LOGS, "TargetPrefix": "access/",
    "TargetGrants": [{"Grantee": {
        "Type": "Group", "URI": "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"},
        "Permission": "READ"}],
    "TargetObjectKeyFormat": {"PartitionedPrefix": {"PartitionDateSource": "EventTime"}}}}
s3.put_bucket_logging(Bucket=B, BucketLoggingStatus=logging_on)
r.eq("B-S2 get-bucket-logging returns the status", logging_on,
     strip(s3.get_bucket_logging(Bucket=B)))
r.eq("B-S2 a missing target bucket -> InvalidTargetBucketForLogging",
     (400, "InvalidTargetBucketForLogging"),
     code(s3.put_bucket_logging, Bucket=B, BucketLoggingStatus={"LoggingEnabled": {
         "TargetBucket": "config-boto3-no-such-logs", "TargetPrefix": ""}}))
s3.create_bucket(Bucket="config-boto3-eu", CreateBucketConfiguration={
    "LocationConstraint": "eu-west-1"})
r.eq("B-S2 a target in another region -> 403 CrossLocationLoggingProhibitted",
     (403, "CrossLocationLoggingProhibitted"),
     code(s3.put_bucket_logging, Bucket=B, BucketLoggingStatus={"LoggingEnabled": {
         "TargetBucket": "config-boto3-eu", "TargetPrefix": ""}}))
st, _, body = raw("PUT", f"/{B}?logging", b"<BucketLoggingStatus><LoggingEnabled><TargetBucket>"
                  + LOGS.encode() + b"</TargetBucket></LoggingEnabled></BucketLoggingStatus>")
r.eq("B-S2 LoggingEnabled without TargetPrefix -> MalformedXML", (400, "MalformedXML"),
     (st, xml_field(body, "Code")))
r.eq("B-S2 refused statuses left the stored one", logging_on,
     strip(s3.get_bucket_logging(Bucket=B)))
s3.put_bucket_logging(Bucket=B, BucketLoggingStatus={})
r.eq("B-S2 an empty status turns logging off (B-N7 again)", {},
     strip(s3.get_bucket_logging(Bucket=B)))

# --- B-S3 website --------------------------------------------------------------------------------
website = {
    "IndexDocument": {"Suffix": "index.html"},
    "ErrorDocument": {"Key": "error.html"},
    "RoutingRules": [
        {"Condition": {"KeyPrefixEquals": "docs/"},
         "Redirect": {"ReplaceKeyPrefixWith": "documents/"}},
        {"Condition": {"HttpErrorCodeReturnedEquals": "404"},
         "Redirect": {"HostName": "example.com", "Protocol": "https", "HttpRedirectCode": "301"}}],
}
s3.put_bucket_website(Bucket=B, WebsiteConfiguration=website)
r.eq("B-S3 get-bucket-website returns the configuration", website,
     strip(s3.get_bucket_website(Bucket=B)))
no_index = error(s3.put_bucket_website, Bucket=B,
                 WebsiteConfiguration={"ErrorDocument": {"Key": "e.html"}})
r.eq("B-S3 no IndexDocument -> InvalidArgument with S3's message",
     (400, "InvalidArgument",
      "A value for IndexDocument Suffix must be provided if RedirectAllRequestsTo is empty"),
     no_index)
r.eq("B-S3 IndexDocument Suffix with a slash -> InvalidArgument", (400, "InvalidArgument"),
     code(s3.put_bucket_website, Bucket=B,
          WebsiteConfiguration={"IndexDocument": {"Suffix": "a/index.html"}}))
r.eq("B-S3 RedirectAllRequestsTo with an IndexDocument -> InvalidArgument",
     (400, "InvalidArgument"),
     code(s3.put_bucket_website, Bucket=B, WebsiteConfiguration={
         "RedirectAllRequestsTo": {"HostName": "example.com"},
         "IndexDocument": {"Suffix": "index.html"}}))
r.eq("B-S3 ReplaceKeyPrefixWith with ReplaceKeyWith -> InvalidRequest", (400, "InvalidRequest"),
     code(s3.put_bucket_website, Bucket=B, WebsiteConfiguration={
         "IndexDocument": {"Suffix": "index.html"},
         "RoutingRules": [{"Redirect": {"ReplaceKeyPrefixWith": "a", "ReplaceKeyWith": "b"}}]}))
r.eq("B-S3 refused configurations left the stored one", website,
     strip(s3.get_bucket_website(Bucket=B)))
redirect = {"RedirectAllRequestsTo": {"HostName": "example.org", "Protocol": "https"}}
s3.put_bucket_website(Bucket=B, WebsiteConfiguration=redirect)
r.eq("B-S3 RedirectAllRequestsTo round trip", redirect, strip(s3.get_bucket_website(Bucket=B)))
resp = s3.delete_bucket_website(Bucket=B)
r.eq("B-S3 delete-bucket-website -> 204", 204, resp["ResponseMetadata"]["HTTPStatusCode"])
r.eq("B-S3 deleted -> NoSuchWebsiteConfiguration (B-N4)", (404, "NoSuchWebsiteConfiguration"),
     code(s3.get_bucket_website, Bucket=B))

# --- B-S4 acceleration, B-S5 request payment -----------------------------------------------------
for status in ("Enabled", "Suspended"):
    s3.put_bucket_accelerate_configuration(Bucket=B,
                                           AccelerateConfiguration={"Status": status})
    r.eq(f"B-S4 accelerate {status} round trip", {"Status": status},
         strip(s3.get_bucket_accelerate_configuration(Bucket=B)))
r.eq("B-S4 another Status -> MalformedXML", (400, "MalformedXML"),
     code(s3.put_bucket_accelerate_configuration, Bucket=B,
          AccelerateConfiguration={"Status": "Fast"}))
s3.create_bucket(Bucket="config.dotted")
r.eq("B-S4 a bucket with a period -> InvalidRequest", (400, "InvalidRequest"),
     code(s3.put_bucket_accelerate_configuration, Bucket="config.dotted",
          AccelerateConfiguration={"Status": "Enabled"}))
r.eq("B-N7 the dotted bucket has no acceleration", {},
     strip(s3.get_bucket_accelerate_configuration(Bucket="config.dotted")))
s3.put_bucket_request_payment(Bucket=B, RequestPaymentConfiguration={"Payer": "Requester"})
r.eq("B-S5 request payment Requester round trip", {"Payer": "Requester"},
     strip(s3.get_bucket_request_payment(Bucket=B)))
r.eq("B-S5 another Payer -> MalformedXML", (400, "MalformedXML"),
     code(s3.put_bucket_request_payment, Bucket=B,
          RequestPaymentConfiguration={"Payer": "Somebody"}))
s3.put_bucket_request_payment(Bucket=B, RequestPaymentConfiguration={"Payer": "BucketOwner"})
r.eq("B-S5 back to BucketOwner (B-N8)", {"Payer": "BucketOwner"},
     strip(s3.get_bucket_request_payment(Bucket=B)))

# --- B-S6 public access block, B-S7 policy status ------------------------------------------------
block_all = {"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
             "RestrictPublicBuckets": True}
s3.put_public_access_block(Bucket=B, PublicAccessBlockConfiguration=block_all)
r.eq("B-S6 public access block round trip", {"PublicAccessBlockConfiguration": block_all},
     strip(s3.get_public_access_block(Bucket=B)))
st, _, body = raw("PUT", f"/{B}?publicAccessBlock",
                  b"<PublicAccessBlockConfiguration><BlockPublicAcls>maybe</BlockPublicAcls>"
                  b"</PublicAccessBlockConfiguration>")
r.eq("B-S6 a value other than true/false -> MalformedXML", (400, "MalformedXML"),
     (st, xml_field(body, "Code")))
r.eq("B-S6 BlockPublicAcls: put-bucket-acl public-read -> AccessDenied", (403, "AccessDenied"),
     code(s3.put_bucket_acl, Bucket=B, ACL="public-read"))
r.eq("B-S6 BlockPublicAcls: put-object with ACL public-read -> AccessDenied",
     (403, "AccessDenied"), code(s3.put_object, Bucket=B, Key="pub", Body=b"x", ACL="public-read"))
r.eq("B-S6 the refused object was not written", (404, "404"),
     code(s3.head_object, Bucket=B, Key="pub"))
s3.put_object(Bucket=B, Key="priv", Body=b"x", ACL="private")
r.ok("B-S6 a private ACL is still accepted")
r.eq("B-S6 BlockPublicAcls: put-object-acl authenticated-read -> AccessDenied",
     (403, "AccessDenied"), code(s3.put_object_acl, Bucket=B, Key="priv", ACL="authenticated-read"))
public_policy = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
    "Resource": f"arn:aws:s3:::{B}/*"}]})
r.eq("B-S6 BlockPublicPolicy: a public policy -> AccessDenied", (403, "AccessDenied"),
     code(s3.put_bucket_policy, Bucket=B, Policy=public_policy))
fixed_policy = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
    "Resource": f"arn:aws:s3:::{B}/*",
    "Condition": {"StringEquals": {"aws:SourceAccount": "123456789012"}}}]})
s3.put_bucket_policy(Bucket=B, Policy=fixed_policy)
r.ok("B-S6 a policy that is not public is accepted despite BlockPublicPolicy")
r.eq("B-S7 Principal * limited to a fixed aws:SourceAccount -> IsPublic false", False,
     s3.get_bucket_policy_status(Bucket=B)["PolicyStatus"]["IsPublic"])
resp = s3.delete_public_access_block(Bucket=B)
r.eq("B-S6 delete-public-access-block -> 204", 204, resp["ResponseMetadata"]["HTTPStatusCode"])
r.eq("B-S6 deleted -> NoSuchPublicAccessBlockConfiguration (B-N5)",
     (404, "NoSuchPublicAccessBlockConfiguration"), code(s3.get_public_access_block, Bucket=B))
s3.put_bucket_acl(Bucket=B, ACL="public-read")
r.ok("B-S6 without the block a public bucket ACL is accepted")
s3.put_bucket_policy(Bucket=B, Policy=public_policy)
r.eq("B-S7 Principal * without conditions -> IsPublic true", True,
     s3.get_bucket_policy_status(Bucket=B)["PolicyStatus"]["IsPublic"])
s3.put_bucket_policy(Bucket=B, Policy=json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Deny", "Principal": "*", "Action": "s3:PutObject",
    "Resource": f"arn:aws:s3:::{B}/*",
    "Condition": {"Null": {"s3:if-none-match": "true"}}}]}))
r.eq("B-S7 a Deny to everyone -> IsPublic false", False,
     s3.get_bucket_policy_status(Bucket=B)["PolicyStatus"]["IsPublic"])
s3.delete_bucket_policy(Bucket=B)
r.eq("B-N6 no policy -> NoSuchBucketPolicy", (404, "NoSuchBucketPolicy"),
     code(s3.get_bucket_policy_status, Bucket=B))

# --- B-N1..B-N5 error envelopes on the wire ------------------------------------------------------
for sub, status, want in [("lifecycle", 404, "NoSuchLifecycleConfiguration"),
                          ("replication", 404, "ReplicationConfigurationNotFoundError"),
                          ("object-lock", 404, "ObjectLockConfigurationNotFoundError"),
                          ("website", 404, "NoSuchWebsiteConfiguration"),
                          ("publicAccessBlock", 404, "NoSuchPublicAccessBlockConfiguration")]:
    st, h, body = raw("GET", f"/{LOGS}?{sub}")
    fields = (st, h.get("content-type"), xml_field(body, "Code"), xml_field(body, "BucketName"),
              bool(xml_field(body, "RequestId")), bool(xml_field(body, "Message")))
    r.eq(f"GET ?{sub}: {status} {want} with BucketName, RequestId, Message",
         (status, "application/xml", want, LOGS, True, True), fields)
st, _, body = raw("PUT", f"/{LOGS}?replication", b"<ReplicationConfiguration/>")
r.eq("B-R1 raw PUT ?replication on a bucket without versioning -> 400 InvalidRequest",
     (400, "InvalidRequest",
      "Versioning must be 'Enabled' on the bucket to apply a replication configuration"),
     (st, xml_field(body, "Code"), xml_field(body, "Message")))

# --- B-L1 CreateBucket with Object Lock ----------------------------------------------------------
sent.clear()
refused = error(s3.create_bucket, Bucket="config-boto3-locked", ObjectLockEnabledForBucket=True)
r.eq("boto3 sent x-amz-bucket-object-lock-enabled: true (precondition)", "true",
     sent[-1].get("x-amz-bucket-object-lock-enabled") if sent else None)
r.eq("B-L1 create_bucket(ObjectLockEnabledForBucket=True) succeeds", ("ok", None, None), refused)
r.eq("B-L1 ... with versioning Enabled", "Enabled",
     s3.get_bucket_versioning(Bucket="config-boto3-locked").get("Status"))
st, _, body = raw("PUT", "/config-boto3-locked2", headers={
    "x-amz-bucket-object-lock-enabled": "maybe"})
r.eq("B-L1 another header value -> InvalidArgument", (400, "InvalidArgument"),
     (st, xml_field(body, "Code")))

# --- the configurations are stored: they survive a restart --------------------------------------
s3.put_bucket_website(Bucket=B, WebsiteConfiguration=website)
s3.put_public_access_block(Bucket=B, PublicAccessBlockConfiguration=block_all)
s3.put_bucket_notification_configuration(Bucket=B, NotificationConfiguration=notification)
lib.stop_server()
lib.start_server()
s3 = client()
r.eq("website after a restart", website, strip(s3.get_bucket_website(Bucket=B)))
r.eq("public access block after a restart", {"PublicAccessBlockConfiguration": block_all},
     strip(s3.get_public_access_block(Bucket=B)))
r.eq("notification after a restart", expected,
     strip(s3.get_bucket_notification_configuration(Bucket=B)))
r.eq("request payment after a restart", {"Payer": "BucketOwner"},
     strip(s3.get_bucket_request_payment(Bucket=B)))
r.eq("accelerate after a restart", {"Status": "Suspended"},
     strip(s3.get_bucket_accelerate_configuration(Bucket=B)))

r.finish()
