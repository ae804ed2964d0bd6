// ifmatch-flags: --controllable-clock --lifecycle-interval 0
// Lifecycle with @aws-sdk/client-s3 on the clock the test moves (B-C1..B-C5, docs/bucket-
// configuration.md); run via ../run.sh. The SDK puts and reads a configuration, parses
// x-amz-expiration into `Expiration`, and sees objects, noncurrent versions and uploads go once
// POST /_ifmatch/clock has moved past their due midnight.
import {
    S3Client, CreateBucketCommand, PutBucketVersioningCommand, PutObjectCommand, HeadObjectCommand,
    PutBucketLifecycleConfigurationCommand, GetBucketLifecycleConfigurationCommand,
    ListObjectVersionsCommand, CreateMultipartUploadCommand, ListMultipartUploadsCommand,
} from '@aws-sdk/client-s3';

const endpoint = process.env.IFMATCH_ENDPOINT;
if (!endpoint) { console.error('run through tests/integration/run.sh'); process.exit(2); }
let passed = 0, failed = 0;
const check = (what, cond, detail = '') => {
    if (cond) { passed++; console.log(`ok   - ${what}`); } else { failed++; console.log(`FAIL - ${what}: ${detail}`); }
};
const s3 = new S3Client({
    endpoint, region: 'us-east-1', forcePathStyle: true, maxAttempts: 1,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
});
const DAY = 86400;
const advance = async (days) => {
    const r = await fetch(`${endpoint}/_ifmatch/clock`, {
        method: 'POST', body: JSON.stringify({ advance_seconds: Math.round(days * DAY) }) });
    const j = await r.json();
    return j.lifecycle;
};
const errorName = async (p) => { try { await p; return null; } catch (e) { return e.name; } };

const B = 'lifecycle-js';
await s3.send(new CreateBucketCommand({ Bucket: B }));
await s3.send(new PutBucketVersioningCommand({ Bucket: B, VersioningConfiguration: { Status: 'Enabled' } }));
check('B-N1 no configuration yet: NoSuchLifecycleConfiguration',
    await errorName(s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: B }))) === 'NoSuchLifecycleConfiguration');
const Rules = [
    { ID: 'logs', Status: 'Enabled', Filter: { Prefix: 'logs/' }, Expiration: { Days: 2 },
      NoncurrentVersionExpiration: { NoncurrentDays: 1, NewerNoncurrentVersions: 1 } },
    { ID: 'big-only', Status: 'Enabled', Filter: { ObjectSizeGreaterThan: 10 }, Expiration: { Days: 1 } },
    { ID: 'mpu', Status: 'Enabled', Filter: { Prefix: '' }, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } },
];
await s3.send(new PutBucketLifecycleConfigurationCommand({ Bucket: B, LifecycleConfiguration: { Rules } }));
const got = await s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: B }));
check('the SDK reads the rules back', JSON.stringify(got.Rules.map((r) => r.ID)) === '["logs","big-only","mpu"]',
    JSON.stringify(got.Rules));
check('... NewerNoncurrentVersions included',
    got.Rules[0].NoncurrentVersionExpiration?.NewerNoncurrentVersions === 1, JSON.stringify(got.Rules[0]));

// B-C5: the SDK parses x-amz-expiration into Expiration.
const put = await s3.send(new PutObjectCommand({ Bucket: B, Key: 'logs/a', Body: 'v1' }));
check('PutObject output carries Expiration with rule-id "logs"', /rule-id="logs"/.test(put.Expiration ?? ''), put.Expiration);
const small = await s3.send(new PutObjectCommand({ Bucket: B, Key: 'small', Body: 'tiny' }));
check('a 4-byte object is outside ObjectSizeGreaterThan 10: no Expiration', small.Expiration === undefined, small.Expiration);
const big = await s3.send(new PutObjectCommand({ Bucket: B, Key: 'big', Body: 'x'.repeat(100) }));
check('a 100-byte one is inside it', /rule-id="big-only"/.test(big.Expiration ?? ''), big.Expiration);

// Three versions of logs/a: NewerNoncurrentVersions 1 keeps the newest noncurrent one.
await advance(0.1);
await s3.send(new PutObjectCommand({ Bucket: B, Key: 'logs/a', Body: 'v2' }));
await advance(0.1);
await s3.send(new PutObjectCommand({ Bucket: B, Key: 'logs/a', Body: 'v3' }));
await s3.send(new CreateMultipartUploadCommand({ Bucket: B, Key: 'up' }));
const pass1 = await advance(1.01 + 1);
check('B-C2 one noncurrent version expires, the newest noncurrent one is kept', pass1.expired_noncurrent === 1,
    JSON.stringify(pass1));
check('B-C1 big expired (a delete marker: the bucket is versioned)', pass1.expired_current >= 1, JSON.stringify(pass1));
check('B-C4 the upload is aborted', pass1.aborted_uploads === 1, JSON.stringify(pass1));
const vs = await s3.send(new ListObjectVersionsCommand({ Bucket: B, Prefix: 'logs/a' }));
check('logs/a keeps v3 (current) and v2', (vs.Versions ?? []).length === 2, JSON.stringify(vs.Versions));
const bigHead = await errorName(s3.send(new HeadObjectCommand({ Bucket: B, Key: 'big' })));
check('HEAD big: 404 now', bigHead === 'NotFound', bigHead);
check('small stays', (await errorName(s3.send(new HeadObjectCommand({ Bucket: B, Key: 'small' })))) === null);
const ups = await s3.send(new ListMultipartUploadsCommand({ Bucket: B }));
check('no uploads left', (ups.Uploads ?? []).length === 0, JSON.stringify(ups.Uploads));

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
