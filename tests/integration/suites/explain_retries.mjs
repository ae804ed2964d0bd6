// Retry behaviour of @aws-sdk/client-s3 against arranged faults (spec D10), run via ../run.sh:
// 503 SlowDown is retried (the call succeeds after N faults), 412 is not; an injected write makes
// the SDK's If-Match PUT fail with the evaluator's real 412; an injected delete gives 409.
import { S3Client, CreateBucketCommand, PutObjectCommand, GetObjectCommand } from '@aws-sdk/client-s3';

const endpoint = process.env.IFMATCH_ENDPOINT;
if (!endpoint) { console.error('run through tests/integration/run.sh'); process.exit(2); }
let passed = 0, failed = 0;
const check = (what, cond, detail = '') => {
    if (cond) { passed++; console.log(`ok   - ${what}`); } else { failed++; console.log(`FAIL - ${what}: ${detail}`); }
};
const client = (maxAttempts) => new S3Client({
    endpoint, region: 'us-east-1', forcePathStyle: true, maxAttempts,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
});
const s3 = client(1);
const s3Retry = client(4);
const arrange = async (rule) => {
    const r = await fetch(`${endpoint}/_ifmatch/faults`, { method: 'POST', body: JSON.stringify(rule) });
    check(`arrange ${JSON.stringify(rule)}`, r.status === 201, r.status);
};
const outcome = async (p) => {
    try { const r = await p; return { status: r.$metadata.httpStatusCode, attempts: r.$metadata.attempts }; }
    catch (e) { return { status: e.$metadata?.httpStatusCode, code: e.name, attempts: e.$metadata?.attempts }; }
};
const B = 'explain-retries';
await s3.send(new CreateBucketCommand({ Bucket: B }));
const etagA = (await s3.send(new PutObjectCommand({ Bucket: B, Key: 'k', Body: 'A' }))).ETag;

await arrange({ bucket: B, key: 'k', operation: 'GetObject', count: 2, status: 503 });
let o = await outcome(s3Retry.send(new GetObjectCommand({ Bucket: B, Key: 'k' })));
check('GetObject succeeds after 2 x 503 SlowDown with retries', o.status === 200, JSON.stringify(o));
check('the SDK made 3 attempts', o.attempts === 3, JSON.stringify(o));

await arrange({ bucket: B, key: 'k', operation: 'PutObject', count: 1, status: 503 });
o = await outcome(s3.send(new PutObjectCommand({ Bucket: B, Key: 'k', Body: 'x', IfMatch: etagA })));
check('without retries the 503 surfaces as SlowDown', o.status === 503 && o.code === 'SlowDown', JSON.stringify(o));

await arrange({ bucket: B, key: 'k', operation: 'PutObject', count: 1, status: 412 });
o = await outcome(s3Retry.send(new PutObjectCommand({ Bucket: B, Key: 'k', Body: 'x', IfMatch: etagA })));
check('an arranged 412 is not retried', o.status === 412 && o.attempts === 1, JSON.stringify(o));

await arrange({ bucket: B, key: 'k', operation: 'PutObject', count: 1, inject: 'write' });
o = await outcome(s3Retry.send(new PutObjectCommand({ Bucket: B, Key: 'k', Body: 'mine', IfMatch: etagA })));
check('injected write: If-Match gets the real 412, not retried', o.status === 412 && o.code === 'PreconditionFailed' && o.attempts === 1, JSON.stringify(o));

await arrange({ bucket: B, key: 'k', operation: 'PutObject', count: 1, inject: 'delete' });
o = await outcome(s3.send(new PutObjectCommand({ Bucket: B, Key: 'k', Body: 'mine', IfNoneMatch: '*' })));
check('injected delete: If-None-Match * gets 409 ConditionalRequestConflict', o.status === 409 && o.code === 'ConditionalRequestConflict', JSON.stringify(o));

const evs = await (await fetch(`${endpoint}/_ifmatch/events?bucket=${B}&key=k`)).json();
check('events recorded 412 and 409 for the key', evs.some((e) => e.status === 412) && evs.some((e) => e.status === 409), JSON.stringify(evs.map((e) => e.status)));
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
