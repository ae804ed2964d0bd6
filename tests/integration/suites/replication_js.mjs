// Replication with @aws-sdk/client-s3 (B-R1..B-R2, docs/bucket-configuration.md); run via
// ../run.sh. The SDK configures replication between two versioned buckets (and meets the 400 for
// an unversioned source), uploads, and waits as a reader would for ReplicationStatus COMPLETED
// on the source; the destination's copy reads back as REPLICA with the same VersionId, ETag and
// metadata. Every wait is bounded.
import {
    S3Client, CreateBucketCommand, PutBucketVersioningCommand, PutBucketReplicationCommand,
    GetBucketReplicationCommand, PutObjectCommand, HeadObjectCommand, GetObjectCommand,
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
const failure = async (p) => {
    try { await p; return null; } catch (e) {
        return { name: e.name, status: e.$metadata?.httpStatusCode, message: e.message ?? '' };
    }
};
const sleep = (ms) => new Promise((res) => setTimeout(res, ms));

const SRC = 'repl-js-src', DST = 'repl-js-dst';
const replication = {
    Role: 'arn:aws:iam::123456789012:role/replication',
    Rules: [{ ID: 'all', Priority: 1, Status: 'Enabled', Filter: { Prefix: '' },
        DeleteMarkerReplication: { Status: 'Disabled' },
        Destination: { Bucket: `arn:aws:s3:::${DST}` } }],
};
await s3.send(new CreateBucketCommand({ Bucket: SRC }));
await s3.send(new CreateBucketCommand({ Bucket: DST }));
const unversioned = await failure(s3.send(new PutBucketReplicationCommand({
    Bucket: SRC, ReplicationConfiguration: replication })));
check('B-R1 replication on an unversioned source -> 400 InvalidRequest',
    unversioned?.status === 400 && unversioned?.name === 'InvalidRequest', JSON.stringify(unversioned));
for (const b of [SRC, DST]) {
    await s3.send(new PutBucketVersioningCommand({ Bucket: b,
        VersioningConfiguration: { Status: 'Enabled' } }));
}
await s3.send(new PutBucketReplicationCommand({ Bucket: SRC, ReplicationConfiguration: replication }));
const got = await s3.send(new GetBucketReplicationCommand({ Bucket: SRC }));
check('GetBucketReplication returns the rule',
    got.ReplicationConfiguration?.Rules?.[0]?.Destination?.Bucket === `arn:aws:s3:::${DST}`,
    JSON.stringify(got.ReplicationConfiguration));

const put = await s3.send(new PutObjectCommand({ Bucket: SRC, Key: 'manifest.json',
    Body: '{"version": 7}', ContentType: 'application/json', Metadata: { build: '42' } }));
let status = '';
const deadline = Date.now() + 8000;
while (Date.now() < deadline) {
    const h = await s3.send(new HeadObjectCommand({ Bucket: SRC, Key: 'manifest.json',
        VersionId: put.VersionId }));
    status = h.ReplicationStatus;
    if (status === 'COMPLETED' || status === 'FAILED') break;
    await sleep(100);
}
check('B-R2 a reader waiting on the source sees COMPLETED', status === 'COMPLETED', status);
const rep = await failure(s3.send(new HeadObjectCommand({ Bucket: DST, Key: 'manifest.json',
    VersionId: put.VersionId })));
check('B-R2 the replica exists under the source version id', rep === null, JSON.stringify(rep));
const head = await s3.send(new HeadObjectCommand({ Bucket: DST, Key: 'manifest.json' }));
check('B-R2 ... is REPLICA', head.ReplicationStatus === 'REPLICA', head.ReplicationStatus);
check('B-R2 ... with the same VersionId', head.VersionId === put.VersionId, head.VersionId);
check('B-R2 ... the same ETag', head.ETag === put.ETag, `${head.ETag} vs ${put.ETag}`);
check('B-R2 ... the same metadata', head.Metadata?.build === '42', JSON.stringify(head.Metadata));
const body = await (await s3.send(new GetObjectCommand({ Bucket: DST, Key: 'manifest.json' })))
    .Body.transformToString();
check('B-R2 ... the same bytes', body === '{"version": 7}', body);

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
