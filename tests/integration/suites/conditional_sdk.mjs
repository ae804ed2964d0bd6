// Conditional requests through @aws-sdk/client-s3 (pinned in ../package-lock.json), run through
// ../run.sh: Get/Head IfMatch / IfNoneMatch / dates (R-G1..R-G7: 304 surfaces as an error with
// $metadata.httpStatusCode 304, 412 as PreconditionFailed), PutObject IfNoneMatch / IfMatch
// (R-P4..R-P9), CopyObject source conditions (R-C1..R-C6) and destination IfMatch / IfNoneMatch
// (R-C9, R-C10), DeleteObject IfMatch (R-D1..R-D4), DeleteObjects per-object ETag (R-D11: 200 with a
// per-key <Error> PreconditionFailed), presigned GET with If-None-Match as a query parameter (R-G16).
import {
    S3Client, CreateBucketCommand, PutObjectCommand, GetObjectCommand, HeadObjectCommand,
    CopyObjectCommand, DeleteObjectCommand, DeleteObjectsCommand,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';

const endpoint = process.env.IFMATCH_ENDPOINT;
if (!endpoint) {
    console.error('IFMATCH_ENDPOINT not set: run this suite through tests/integration/run.sh');
    process.exit(2);
}

let passed = 0;
let failed = 0;
const ok = (what) => { passed++; console.log(`ok   - ${what}`); };
const fail = (what, detail) => { failed++; console.log(`FAIL - ${what}${detail ? `: ${detail}` : ''}`); };
const check = (what, cond, detail = '') => { (cond ? ok : fail)(what, cond ? '' : detail); return !!cond; };
const eq = (what, expected, actual) =>
    check(what, expected === actual, `expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);

async function group(name, fn) {
    console.log(`# ${name}`);
    try {
        await fn();
    } catch (e) {
        fail(`${name}: unexpected exception`, `${e?.name}: ${e?.message} (HTTP ${e?.$metadata?.httpStatusCode})`);
    }
}

// Expects a rejection with HTTP `status` (and error name `code` unless null).
async function expectError(what, promise, status, code = null) {
    try {
        const res = await promise;
        fail(what, `expected ${status} ${code ?? ''}, request succeeded (HTTP ${res?.$metadata?.httpStatusCode})`);
        return null;
    } catch (e) {
        const s = e?.$metadata?.httpStatusCode;
        check(what, s === status && (code === null || e?.name === code || e?.Code === code),
              `expected ${status} ${code ?? ''}, got ${s} ${e?.name} (${e?.message})`);
        return e;
    }
}

async function expectOk(what, promise, status = 200) {
    const res = await promise;
    eq(what, status, res?.$metadata?.httpStatusCode);
    return res;
}

const s3 = new S3Client({
    region: 'us-east-1', endpoint, forcePathStyle: true, maxAttempts: 1,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
});
const Bucket = 'js-cond';
const send = (cmd) => s3.send(cmd);
const day = 24 * 3600 * 1000;

await group('setup', async () => {
    await expectOk('CreateBucket', send(new CreateBucketCommand({ Bucket })));
});

let etag1;
let lastModified;
await group('PutObject IfNoneMatch / IfMatch', async () => {
    const r1 = await expectOk('R-P4 IfNoneMatch * on absent key -> 200',
        send(new PutObjectCommand({ Bucket, Key: 'k', Body: 'one', IfNoneMatch: '*' })));
    etag1 = r1.ETag;
    await expectError('R-P5 IfNoneMatch * on existing key -> 412',
        send(new PutObjectCommand({ Bucket, Key: 'k', Body: 'two', IfNoneMatch: '*' })), 412, 'PreconditionFailed');
    await expectError('R-P8 IfMatch stale -> 412',
        send(new PutObjectCommand({ Bucket, Key: 'k', Body: 'two', IfMatch: '"00000000000000000000000000000000"' })),
        412, 'PreconditionFailed');
    await expectError('R-P9 IfMatch on absent key -> 404 NoSuchKey',
        send(new PutObjectCommand({ Bucket, Key: 'absent', Body: 'x', IfMatch: etag1 })), 404, 'NoSuchKey');
    await expectError('R-P1 IfNoneMatch <etag> -> 501 NotImplemented',
        send(new PutObjectCommand({ Bucket, Key: 'k', Body: 'x', IfNoneMatch: etag1 })), 501, 'NotImplemented');
    const r2 = await expectOk('R-P7 IfMatch current -> 200',
        send(new PutObjectCommand({ Bucket, Key: 'k', Body: 'two', IfMatch: etag1 })));
    check('R-P7 new ETag', r2.ETag && r2.ETag !== etag1, r2.ETag);
    etag1 = r2.ETag;
    const h = await send(new HeadObjectCommand({ Bucket, Key: 'k' }));
    lastModified = h.LastModified;
});

await group('GetObject / HeadObject conditions', async () => {
    await expectOk('R-G2 Get IfMatch current -> 200', send(new GetObjectCommand({ Bucket, Key: 'k', IfMatch: etag1 })));
    await expectError('R-G1 Get IfMatch other -> 412 PreconditionFailed',
        send(new GetObjectCommand({ Bucket, Key: 'k', IfMatch: '"abc"' })), 412, 'PreconditionFailed');
    const e = await expectError('R-G4 Get IfNoneMatch current -> 304',
        send(new GetObjectCommand({ Bucket, Key: 'k', IfNoneMatch: etag1 })), 304);
    eq('R-G12 304 surfaces with httpStatusCode 304', 304, e?.$metadata?.httpStatusCode);
    await expectOk('R-G4 Get IfNoneMatch other -> 200', send(new GetObjectCommand({ Bucket, Key: 'k', IfNoneMatch: '"abc"' })));
    await expectError('R-G7 Get IfModifiedSince = LastModified -> 304',
        send(new GetObjectCommand({ Bucket, Key: 'k', IfModifiedSince: lastModified })), 304);
    await expectError('R-G3 Get IfUnmodifiedSince yesterday -> 412',
        send(new GetObjectCommand({ Bucket, Key: 'k', IfUnmodifiedSince: new Date(lastModified - day) })),
        412, 'PreconditionFailed');
    await expectOk('R-G2 Head IfMatch current -> 200', send(new HeadObjectCommand({ Bucket, Key: 'k', IfMatch: etag1 })));
    await expectError('R-G1 Head IfMatch other -> 412',
        send(new HeadObjectCommand({ Bucket, Key: 'k', IfMatch: '"abc"' })), 412);
    await expectError('R-G4 Head IfNoneMatch current -> 304',
        send(new HeadObjectCommand({ Bucket, Key: 'k', IfNoneMatch: etag1 })), 304);
    await expectError('R-G0b Get IfMatch on absent -> 404 NoSuchKey',
        send(new GetObjectCommand({ Bucket, Key: 'absent', IfMatch: etag1 })), 404, 'NoSuchKey');
});

await group('CopyObject source and destination conditions', async () => {
    const src = `${Bucket}/k`;
    await expectOk('R-C1 CopySourceIfMatch current -> 200',
        send(new CopyObjectCommand({ Bucket, Key: 'c1', CopySource: src, CopySourceIfMatch: etag1 })));
    await expectError('R-C1 CopySourceIfMatch other -> 412',
        send(new CopyObjectCommand({ Bucket, Key: 'c2', CopySource: src, CopySourceIfMatch: '"abc"' })),
        412, 'PreconditionFailed');
    await expectError('R-C1 CopySourceIfNoneMatch current -> 412 (never 304)',
        send(new CopyObjectCommand({ Bucket, Key: 'c2', CopySource: src, CopySourceIfNoneMatch: etag1 })),
        412, 'PreconditionFailed');
    await expectOk('R-C1 CopySourceIfModifiedSince yesterday -> 200',
        send(new CopyObjectCommand({ Bucket, Key: 'c2', CopySource: src,
                                     CopySourceIfModifiedSince: new Date(lastModified - day) })));
    await expectError('R-C6 CopySourceIfModifiedSince = LastModified -> 412',
        send(new CopyObjectCommand({ Bucket, Key: 'c3', CopySource: src, CopySourceIfModifiedSince: lastModified })),
        412, 'PreconditionFailed');
    await expectError('R-C1 CopySourceIfUnmodifiedSince yesterday -> 412',
        send(new CopyObjectCommand({ Bucket, Key: 'c3', CopySource: src,
                                     CopySourceIfUnmodifiedSince: new Date(lastModified - day) })),
        412, 'PreconditionFailed');
    await expectOk('R-C1 CopySourceIfUnmodifiedSince = LastModified -> 200',
        send(new CopyObjectCommand({ Bucket, Key: 'c3', CopySource: src, CopySourceIfUnmodifiedSince: lastModified })));
    await expectError('R-C9 destination IfNoneMatch * onto existing -> 412',
        send(new CopyObjectCommand({ Bucket, Key: 'c1', CopySource: src, IfNoneMatch: '*' })), 412, 'PreconditionFailed');
    await expectOk('R-C9 destination IfNoneMatch * onto absent -> 200',
        send(new CopyObjectCommand({ Bucket, Key: 'c4', CopySource: src, IfNoneMatch: '*' })));
    await expectOk('R-C10 destination IfMatch current -> 200',
        send(new CopyObjectCommand({ Bucket, Key: 'c1', CopySource: src, IfMatch: etag1 })));
    await expectError('R-C10 destination IfMatch other -> 412',
        send(new CopyObjectCommand({ Bucket, Key: 'c1', CopySource: src, IfMatch: '"abc"' })), 412, 'PreconditionFailed');
    await expectError('R-C10 destination IfMatch on absent -> 404 NoSuchKey',
        send(new CopyObjectCommand({ Bucket, Key: 'c9', CopySource: src, IfMatch: etag1 })), 404, 'NoSuchKey');
});

await group('DeleteObject IfMatch / DeleteObjects ETag', async () => {
    await expectError('R-D2 DeleteObject IfMatch other -> 412',
        send(new DeleteObjectCommand({ Bucket, Key: 'c2', IfMatch: '"abc"' })), 412, 'PreconditionFailed');
    await expectOk('R-D1 DeleteObject IfMatch current -> 204',
        send(new DeleteObjectCommand({ Bucket, Key: 'c2', IfMatch: etag1 })), 204);
    await expectError('R-D4 DeleteObject IfMatch on absent -> 404 NoSuchKey',
        send(new DeleteObjectCommand({ Bucket, Key: 'c2', IfMatch: '*' })), 404, 'NoSuchKey');
    const res = await expectOk('R-D11 DeleteObjects -> 200',
        send(new DeleteObjectsCommand({ Bucket, Delete: { Objects: [
            { Key: 'c3', ETag: '"abc"' }, { Key: 'c4', ETag: etag1 }, { Key: 'c1', ETag: '*' }] } })));
    const errs = res.Errors ?? [];
    const deleted = (res.Deleted ?? []).map((d) => d.Key).sort();
    eq('R-D11 c3 (wrong ETag) -> per-key PreconditionFailed', 'c3:PreconditionFailed',
       errs.map((x) => `${x.Key}:${x.Code}`).join(','));
    eq('R-D11 c4 (ETag) and c1 (*) deleted', 'c1,c4', deleted.join(','));
    await expectOk('R-D11 c3 still exists', send(new HeadObjectCommand({ Bucket, Key: 'c3' })));
});

// Moves a conditional header into the query string before the presigner signs the request, so the
// URL itself carries it as a signed parameter (R-G16); the fetch then sends no such header.
function hoistToQuery(cmd, header) {
    cmd.middlewareStack.add((next) => async (args) => {
        const req = args.request;
        for (const name of Object.keys(req.headers ?? {})) {
            if (name.toLowerCase() === header) {
                req.query = { ...(req.query ?? {}), [header]: req.headers[name] };
                delete req.headers[name];
            }
        }
        return next(args);
    }, { step: 'build', name: `ifmatchHoist-${header}` });
    return cmd;
}

await group('presigned GET with If-None-Match as a query parameter (R-G16)', async () => {
    const cmd = hoistToQuery(new GetObjectCommand({ Bucket, Key: 'k', IfNoneMatch: etag1 }), 'if-none-match');
    const url = await getSignedUrl(s3, cmd, { expiresIn: 300 });
    check('R-G16 the URL carries If-None-Match as a signed query parameter',
          /[?&]if-none-match=/i.test(url) && /X-Amz-SignedHeaders=host(&|$)/.test(url), url);
    const res = await fetch(url);
    eq('R-G16 presigned GET with matching If-None-Match -> 304', 304, res.status);
    const miss = hoistToQuery(new GetObjectCommand({ Bucket, Key: 'k', IfNoneMatch: '"abc"' }), 'if-none-match');
    const res1 = await fetch(await getSignedUrl(s3, miss, { expiresIn: 300 }));
    eq('R-G16 presigned GET with other If-None-Match -> 200', 200, res1.status);
    const other = hoistToQuery(new GetObjectCommand({ Bucket, Key: 'k', IfMatch: '"abc"' }), 'if-match');
    const res2 = await fetch(await getSignedUrl(s3, other, { expiresIn: 300 }));
    eq('R-G16 presigned GET with failing If-Match -> 412', 412, res2.status);
    const body = await res2.text();
    check('R-G16 412 body names If-Match', body.includes('<Condition>If-Match</Condition>'), body);
});

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
