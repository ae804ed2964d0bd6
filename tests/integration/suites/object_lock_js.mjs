// Object Lock with @aws-sdk/client-s3 (B-L1..B-L5, docs/bucket-configuration.md); run via
// ../run.sh. The SDK creates a bucket with ObjectLockEnabledForBucket, uploads with a retention
// (adding its own checksum, which B-L6 requires), reads ObjectLockMode / ObjectLockRetainUntilDate
// back as a Date, sees DeleteObject of the version refused (AccessDenied) until
// BypassGovernanceRetention, and turns a legal hold ON and OFF.
import {
    S3Client, CreateBucketCommand, GetBucketVersioningCommand, GetObjectLockConfigurationCommand,
    PutObjectCommand, HeadObjectCommand, GetObjectRetentionCommand, PutObjectRetentionCommand,
    DeleteObjectCommand, PutObjectLegalHoldCommand, GetObjectLegalHoldCommand,
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
// The headers of every request the SDK sends, by command, for the (precondition) checks.
const sent = {};
s3.middlewareStack.add((next, context) => async (args) => {
    sent[context.commandName] = { ...args.request.headers };
    return next(args);
}, { step: 'finalizeRequest', priority: 'low', name: 'recordHeaders' });
const lower = (h) => Object.fromEntries(Object.entries(h ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
const failure = async (p) => {
    try { await p; return null; } catch (e) {
        return { name: e.name, status: e.$metadata?.httpStatusCode, message: e.message ?? '' };
    }
};
const wholeSeconds = (ms) => new Date(Math.floor(ms / 1000) * 1000);
const DAY = 86400 * 1000;

const B = 'lock-js';
await s3.send(new CreateBucketCommand({ Bucket: B, ObjectLockEnabledForBucket: true }));
check('(precondition) CreateBucket sent x-amz-bucket-object-lock-enabled: true',
    lower(sent.CreateBucketCommand)['x-amz-bucket-object-lock-enabled'] === 'true',
    JSON.stringify(sent.CreateBucketCommand));
const ver = await s3.send(new GetBucketVersioningCommand({ Bucket: B }));
check('B-L1 versioning is Enabled', ver.Status === 'Enabled', ver.Status);
const cfg = await s3.send(new GetObjectLockConfigurationCommand({ Bucket: B }));
check('B-L1 GetObjectLockConfiguration: Enabled',
    cfg.ObjectLockConfiguration?.ObjectLockEnabled === 'Enabled', JSON.stringify(cfg.ObjectLockConfiguration));

// A GOVERNANCE upload; the SDK adds a checksum (B-L6).
const until = wholeSeconds(Date.now() + 2 * DAY);
const put = await s3.send(new PutObjectCommand({
    Bucket: B, Key: 'report.pdf', Body: 'quarterly report',
    ObjectLockMode: 'GOVERNANCE', ObjectLockRetainUntilDate: until }));
const putHeaders = lower(sent.PutObjectCommand);
check('(precondition) the SDK sent a checksum or Content-MD5',
    Object.keys(putHeaders).some((k) => k.startsWith('x-amz-checksum-') || k === 'content-md5' ||
        k === 'x-amz-sdk-checksum-algorithm' || k === 'x-amz-trailer'), JSON.stringify(Object.keys(putHeaders)));
check('(precondition) ... and the lock headers', putHeaders['x-amz-object-lock-mode'] === 'GOVERNANCE' &&
    !!putHeaders['x-amz-object-lock-retain-until-date'], JSON.stringify(putHeaders));
const V = put.VersionId;
check('PutObject returns a VersionId', !!V, JSON.stringify(put));
const head = await s3.send(new HeadObjectCommand({ Bucket: B, Key: 'report.pdf', VersionId: V }));
check('HeadObject: ObjectLockMode GOVERNANCE', head.ObjectLockMode === 'GOVERNANCE', head.ObjectLockMode);
check('HeadObject: ObjectLockRetainUntilDate is the date sent (a Date)',
    head.ObjectLockRetainUntilDate instanceof Date && head.ObjectLockRetainUntilDate.getTime() === until.getTime(),
    `${head.ObjectLockRetainUntilDate} vs ${until.toISOString()}`);
const ret = await s3.send(new GetObjectRetentionCommand({ Bucket: B, Key: 'report.pdf', VersionId: V }));
check('GetObjectRetention', ret.Retention?.Mode === 'GOVERNANCE' &&
    ret.Retention?.RetainUntilDate?.getTime() === until.getTime(), JSON.stringify(ret.Retention));

// B-L3 / B-L4: the version is protected until the bypass.
let f = await failure(s3.send(new DeleteObjectCommand({ Bucket: B, Key: 'report.pdf', VersionId: V })));
check('B-L3 DeleteObject VersionId: AccessDenied (403)', f?.name === 'AccessDenied' && f?.status === 403,
    JSON.stringify(f));
check('B-L3 ... the message names the object lock', /object lock/i.test(f?.message ?? ''), f?.message);
f = await failure(s3.send(new PutObjectRetentionCommand({ Bucket: B, Key: 'report.pdf', VersionId: V,
    Retention: { Mode: 'GOVERNANCE', RetainUntilDate: wholeSeconds(Date.now() + DAY) } })));
check('B-L4 PutObjectRetention shortening without the bypass: AccessDenied', f?.name === 'AccessDenied',
    JSON.stringify(f));
const still = await s3.send(new HeadObjectCommand({ Bucket: B, Key: 'report.pdf', VersionId: V }));
check('... the version is still there', still.VersionId === V, JSON.stringify(still.VersionId));

// Legal hold ON / OFF.
f = await failure(s3.send(new GetObjectLegalHoldCommand({ Bucket: B, Key: 'report.pdf', VersionId: V })));
check('B-L5 GetObjectLegalHold before any: NoSuchObjectLockConfiguration',
    f?.name === 'NoSuchObjectLockConfiguration' && f?.status === 404, JSON.stringify(f));
await s3.send(new PutObjectLegalHoldCommand({ Bucket: B, Key: 'report.pdf', VersionId: V,
    LegalHold: { Status: 'ON' } }));
let hold = await s3.send(new GetObjectLegalHoldCommand({ Bucket: B, Key: 'report.pdf', VersionId: V }));
check('PutObjectLegalHold ON, GetObjectLegalHold reads ON', hold.LegalHold?.Status === 'ON', JSON.stringify(hold));
const headHeld = await s3.send(new HeadObjectCommand({ Bucket: B, Key: 'report.pdf', VersionId: V }));
check('HeadObject: ObjectLockLegalHoldStatus ON', headHeld.ObjectLockLegalHoldStatus === 'ON',
    headHeld.ObjectLockLegalHoldStatus);
f = await failure(s3.send(new DeleteObjectCommand({ Bucket: B, Key: 'report.pdf', VersionId: V,
    BypassGovernanceRetention: true })));
check('B-L3 legal hold ON: DeleteObject with BypassGovernanceRetention is still AccessDenied',
    f?.name === 'AccessDenied', JSON.stringify(f));
check('(precondition) the SDK sent x-amz-bypass-governance-retention: true',
    lower(sent.DeleteObjectCommand)['x-amz-bypass-governance-retention'] === 'true',
    JSON.stringify(sent.DeleteObjectCommand));
await s3.send(new PutObjectLegalHoldCommand({ Bucket: B, Key: 'report.pdf', VersionId: V,
    LegalHold: { Status: 'OFF' } }));
hold = await s3.send(new GetObjectLegalHoldCommand({ Bucket: B, Key: 'report.pdf', VersionId: V }));
check('PutObjectLegalHold OFF, GetObjectLegalHold reads OFF', hold.LegalHold?.Status === 'OFF', JSON.stringify(hold));
f = await failure(s3.send(new DeleteObjectCommand({ Bucket: B, Key: 'report.pdf', VersionId: V })));
check('B-L3 hold OFF, GOVERNANCE in force: DeleteObject without the bypass is AccessDenied',
    f?.name === 'AccessDenied', JSON.stringify(f));
const del = await s3.send(new DeleteObjectCommand({ Bucket: B, Key: 'report.pdf', VersionId: V,
    BypassGovernanceRetention: true }));
check('B-L4 DeleteObject VersionId with BypassGovernanceRetention: 204',
    del.$metadata.httpStatusCode === 204 && del.VersionId === V, JSON.stringify(del));
f = await failure(s3.send(new HeadObjectCommand({ Bucket: B, Key: 'report.pdf', VersionId: V })));
check('... the version is gone', f?.status === 404, JSON.stringify(f));

// B-L2: a delete without a version id only writes a delete marker.
const v2 = (await s3.send(new PutObjectCommand({ Bucket: B, Key: 'ledger.csv', Body: 'a,b',
    ObjectLockMode: 'COMPLIANCE', ObjectLockRetainUntilDate: until }))).VersionId;
const marker = await s3.send(new DeleteObjectCommand({ Bucket: B, Key: 'ledger.csv' }));
check('B-L2 DeleteObject without a version id on a COMPLIANCE object: a delete marker',
    marker.DeleteMarker === true, JSON.stringify(marker));
const kept = await s3.send(new HeadObjectCommand({ Bucket: B, Key: 'ledger.csv', VersionId: v2 }));
check('B-L2 ... the COMPLIANCE version stays', kept.ObjectLockMode === 'COMPLIANCE', kept.ObjectLockMode);
f = await failure(s3.send(new DeleteObjectCommand({ Bucket: B, Key: 'ledger.csv', VersionId: v2,
    BypassGovernanceRetention: true })));
check('B-L4 COMPLIANCE: DeleteObject VersionId with the bypass is AccessDenied', f?.name === 'AccessDenied',
    JSON.stringify(f));

// B-L5: a bucket without Object Lock.
await s3.send(new CreateBucketCommand({ Bucket: 'lock-js-plain' }));
f = await failure(s3.send(new GetObjectLockConfigurationCommand({ Bucket: 'lock-js-plain' })));
check('B-N3 GetObjectLockConfiguration without one: ObjectLockConfigurationNotFoundError',
    f?.name === 'ObjectLockConfigurationNotFoundError', JSON.stringify(f));
f = await failure(s3.send(new PutObjectCommand({ Bucket: 'lock-js-plain', Key: 'k', Body: 'x',
    ObjectLockMode: 'GOVERNANCE', ObjectLockRetainUntilDate: until })));
check('B-L5 PutObject with lock parameters there: InvalidRequest', f?.name === 'InvalidRequest' && f?.status === 400,
    JSON.stringify(f));

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
