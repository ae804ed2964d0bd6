// S3's 200 whose body is an error, arranged with a fault rule (README, "Seeing and steering
// conflicts"; spec D10, R-M10), and what @aws-sdk/client-s3 does with it; run via ../run.sh.
// The rule answers HTTP 200 with the error XML and writes nothing. The SDK's
// throw200Exceptions middleware turns a 200 body ending in </Error> into a 503, so its standard
// retry strategy retries InternalError and PreconditionFailed alike and, once out of attempts,
// throws the error named by <Code> with httpStatusCode 503.
import {
    S3Client, CreateBucketCommand, PutObjectCommand, CopyObjectCommand, HeadObjectCommand,
    CreateMultipartUploadCommand, UploadPartCommand, CompleteMultipartUploadCommand,
    ListPartsCommand,
} from '@aws-sdk/client-s3';

const endpoint = process.env.IFMATCH_ENDPOINT;
if (!endpoint) { console.error('run through tests/integration/run.sh'); process.exit(2); }
let passed = 0, failed = 0;
const check = (what, cond, detail = '') => {
    if (cond) { passed++; console.log(`ok   - ${what}`); } else { failed++; console.log(`FAIL - ${what}: ${detail}`); }
};
const s3 = new S3Client({
    endpoint, region: 'us-east-1', forcePathStyle: true, maxAttempts: 3,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
});
const arrange = async (rule) => {
    const r = await fetch(`${endpoint}/_ifmatch/faults`, { method: 'POST', body: JSON.stringify(rule) });
    check(`arrange ${JSON.stringify(rule)}`, r.status === 201, `${r.status} ${await r.text()}`);
};
const rulesLeft = async () => (await (await fetch(`${endpoint}/_ifmatch/faults`)).json());
const outcome = async (p) => {
    try {
        const r = await p;
        return { status: r.$metadata.httpStatusCode, attempts: r.$metadata.attempts, result: r };
    } catch (e) {
        return { status: e.$metadata?.httpStatusCode, code: e.name, attempts: e.$metadata?.attempts };
    }
};
const exists = async (key) => (await outcome(s3.send(new HeadObjectCommand({ Bucket: B, Key: key })))).status === 200;
const short = (o) => JSON.stringify({ ...o, result: undefined });

const B = 'faults-200-js';
await s3.send(new CreateBucketCommand({ Bucket: B }));
await s3.send(new PutObjectCommand({ Bucket: B, Key: 'src', Body: 'source bytes' }));

// --- the wire: HTTP 200, the error XML as the body, no write --------------------------------------
const bad = await fetch(`${endpoint}/_ifmatch/faults`, {
    method: 'POST', body: JSON.stringify({ bucket: B, operation: 'PutObject', status: 200, error: 'InternalError' }) });
check('a 200 rule for an operation S3 never answers that way is refused (400)', bad.status === 400, bad.status);
await arrange({ bucket: B, key: 'raw', operation: 'CopyObject', status: 200, error: 'InternalError' });
const raw = await fetch(`${endpoint}/${B}/raw`, { method: 'PUT', headers: { 'x-amz-copy-source': `/${B}/src` } });
const body = await raw.text();
check('raw CopyObject -> HTTP 200', raw.status === 200, raw.status);
check('... whose body is the S3 error XML, ending in </Error>',
      body.startsWith('<?xml') && body.includes('<Code>InternalError</Code>') && body.includes('<RequestId>')
      && body.endsWith('</Error>'), body);
check('... the copy was not made', !(await exists('raw')));
check('... the rule was used up', (await rulesLeft()).length === 0, JSON.stringify(await rulesLeft()));

// --- CopyObject ---------------------------------------------------------------------------------------
await arrange({ bucket: B, key: 'copy-retried', operation: 'CopyObject', status: 200, error: 'InternalError', count: 1 });
let o = await outcome(s3.send(new CopyObjectCommand({ Bucket: B, Key: 'copy-retried', CopySource: `${B}/src` })));
check('CopyObject: InternalError in a 200 is retried; the second attempt copies',
      o.status === 200 && o.attempts === 2, short(o));
check('... the copy exists', await exists('copy-retried'));

await arrange({ bucket: B, key: 'copy-failed', operation: 'CopyObject', status: 200, error: 'PreconditionFailed', count: 3 });
o = await outcome(s3.send(new CopyObjectCommand({ Bucket: B, Key: 'copy-failed', CopySource: `${B}/src` })));
check('CopyObject: PreconditionFailed in a 200 is retried too, then thrown as PreconditionFailed (503)',
      o.code === 'PreconditionFailed' && o.status === 503 && o.attempts === 3, short(o));
check('... each attempt reached the server (3 uses of the rule)', (await rulesLeft()).length === 0,
      JSON.stringify(await rulesLeft()));
check('... nothing was copied', !(await exists('copy-failed')));

// --- CompleteMultipartUpload ------------------------------------------------------------------------
const upload = async (key) => {
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: B, Key: key }));
    const { ETag } = await s3.send(new UploadPartCommand({ Bucket: B, Key: key, UploadId, PartNumber: 1, Body: 'one part' }));
    return { UploadId, Parts: [{ PartNumber: 1, ETag }] };
};
const complete = (key, u) => s3.send(new CompleteMultipartUploadCommand({
    Bucket: B, Key: key, UploadId: u.UploadId, MultipartUpload: { Parts: u.Parts } }));

let u = await upload('mpu-retried');
await arrange({ bucket: B, key: 'mpu-retried', operation: 'CompleteMultipartUpload', status: 200, error: 'InternalError' });
o = await outcome(complete('mpu-retried', u));
check('Complete: InternalError in a 200 is retried; the second attempt completes',
      o.status === 200 && o.attempts === 2 && /-1"$/.test(o.result?.ETag ?? ''), short(o));
check('... the object exists', await exists('mpu-retried'));

u = await upload('mpu-failed');
await arrange({ bucket: B, key: 'mpu-failed', operation: 'CompleteMultipartUpload', status: 200, error: 'PreconditionFailed', count: 3 });
o = await outcome(complete('mpu-failed', u));
check('Complete: PreconditionFailed in a 200 is retried, then thrown as PreconditionFailed (503)',
      o.code === 'PreconditionFailed' && o.status === 503 && o.attempts === 3, short(o));
check('... no object was written', !(await exists('mpu-failed')));
const parts = await outcome(s3.send(new ListPartsCommand({ Bucket: B, Key: 'mpu-failed', UploadId: u.UploadId })));
check('... the upload is still open', parts.status === 200, short(parts));
o = await outcome(complete('mpu-failed', u));
check('... and completes once the rule is used up', o.status === 200 && o.attempts === 1, short(o));

const evs = await (await fetch(`${endpoint}/_ifmatch/events?bucket=${B}&key=mpu-failed`)).json();
check('events record the PreconditionFailed answered in a 200',
      evs.filter((e) => e.status === 200 && e.code === 'PreconditionFailed').length === 3,
      JSON.stringify(evs.map((e) => [e.status, e.code])));

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
