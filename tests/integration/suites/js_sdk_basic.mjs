// Core S3 operations through @aws-sdk/client-s3 (pinned in ../package-lock.json).
// Run through ../run.sh, which starts ifmatch and exports IFMATCH_ENDPOINT / IFMATCH_PORT.
// Prints one line per check and a closing "N passed, M failed"; exits 1 on any failure.
import http from 'node:http';
import crypto from 'node:crypto';
import zlib from 'node:zlib';
import { Readable } from 'node:stream';

import {
    S3Client,
    CreateBucketCommand,
    HeadBucketCommand,
    ListBucketsCommand,
    PutObjectCommand,
    GetObjectCommand,
    HeadObjectCommand,
    ListObjectsV2Command,
    DeleteObjectCommand,
    DeleteObjectsCommand,
    DeleteBucketCommand,
    GetBucketLocationCommand,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { NodeHttpHandler } from '@smithy/node-http-handler';

const endpoint = process.env.IFMATCH_ENDPOINT;
const port = process.env.IFMATCH_PORT;
if (!endpoint || !port) {
    console.error('IFMATCH_ENDPOINT/IFMATCH_PORT not set: run this suite through tests/integration/run.sh');
    process.exit(2);
}

// --- tiny harness -------------------------------------------------------------------------------

let passed = 0;
let failed = 0;
const ok = (what) => { passed++; console.log(`ok   - ${what}`); };
const fail = (what, detail) => { failed++; console.log(`FAIL - ${what}${detail ? `: ${detail}` : ''}`); };
const check = (what, cond, detail = '') => { (cond ? ok : fail)(what, cond ? '' : detail); return !!cond; };
const eq = (what, expected, actual) =>
    check(what, expected === actual, `expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);

// Runs one named group of checks; an unexpected exception fails the group and the suite goes on.
async function group(name, fn) {
    console.log(`# ${name}`);
    try {
        await fn();
    } catch (e) {
        fail(`${name}: unexpected exception`, `${e?.name}: ${e?.message} (HTTP ${e?.$metadata?.httpStatusCode})`);
    }
}

// Expects `promise` to reject with an S3 error named `code` and the given HTTP status.
async function expectError(what, promise, code, status) {
    try {
        const res = await promise;
        fail(what, `expected ${code}/${status}, request succeeded (HTTP ${res?.$metadata?.httpStatusCode})`);
    } catch (e) {
        const got = `${e?.name}/${e?.$metadata?.httpStatusCode}`;
        check(what, e?.name === code && e?.$metadata?.httpStatusCode === status,
              `expected ${code}/${status}, got ${got} (${e?.message})`);
    }
}

// --- helpers ------------------------------------------------------------------------------------

const md5hex = (buf) => crypto.createHash('md5').update(buf).digest('hex');
const crc32b64 = (buf) => {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(zlib.crc32(buf) >>> 0);
    return b.toString('base64');
};
const bytesOf = async (body) => Buffer.from(await body.transformToByteArray());

// Each client records the final headers of every request it sends (after signing and checksum
// middleware), so checks can confirm which wire path a call really took.
function recordRequests(client) {
    const seen = [];
    client.middlewareStack.add(
        (next) => async (args) => {
            const req = args.request;
            const headers = {};
            for (const [k, v] of Object.entries(req.headers ?? {})) headers[k.toLowerCase()] = v;
            seen.push({ method: req.method, hostname: req.hostname, path: req.path,
                        query: req.query, headers });
            return next(args);
        },
        { step: 'deserialize', name: 'ifmatchRecordRequest', priority: 'low' });
    return seen;
}

const common = {
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1, // A retry would hide a first failure.
};
const handlerOptions = { connectionTimeout: 5000, requestTimeout: 30000 };

const s3 = new S3Client({
    ...common,
    endpoint,
    forcePathStyle: true,
    requestHandler: new NodeHttpHandler({ ...handlerOptions, httpAgent: new http.Agent({ keepAlive: true }) }),
});
const sent = recordRequests(s3);
const lastSent = () => sent[sent.length - 1];

const bucket = 'js-basic';
const listBucket = 'js-list';

// --- checks -------------------------------------------------------------------------------------

await group('buckets', async () => {
    const created = await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    eq('CreateBucket -> 200', 200, created.$metadata.httpStatusCode);
    await s3.send(new CreateBucketCommand({ Bucket: listBucket }));

    const head = await s3.send(new HeadBucketCommand({ Bucket: bucket }));
    eq('HeadBucket existing -> 200', 200, head.$metadata.httpStatusCode);
    await expectError('HeadBucket missing -> 404 NotFound',
                      s3.send(new HeadBucketCommand({ Bucket: 'js-no-such-bucket' })), 'NotFound', 404);

    // Re-creating one's own bucket: us-east-1 answers 200; elsewhere BucketAlreadyOwnedByYou.
    try {
        const again = await s3.send(new CreateBucketCommand({ Bucket: bucket }));
        eq('CreateBucket again (us-east-1) -> 200', 200, again.$metadata.httpStatusCode);
    } catch (e) {
        check('CreateBucket again -> 200 or BucketAlreadyOwnedByYou',
              e.name === 'BucketAlreadyOwnedByYou' && e.$metadata?.httpStatusCode === 409,
              `${e.name}/${e.$metadata?.httpStatusCode}`);
    }

    const list = await s3.send(new ListBucketsCommand({}));
    const names = (list.Buckets ?? []).map((b) => b.Name);
    check('ListBuckets lists both buckets', names.includes(bucket) && names.includes(listBucket),
          JSON.stringify(names));
    const mine = (list.Buckets ?? []).find((b) => b.Name === bucket);
    check('ListBuckets CreationDate is a recent date',
          mine?.CreationDate instanceof Date && Math.abs(Date.now() - mine.CreationDate) < 10 * 60e3,
          String(mine?.CreationDate));

    const loc = await s3.send(new GetBucketLocationCommand({ Bucket: bucket }));
    check('GetBucketLocation in us-east-1 -> empty LocationConstraint', !loc.LocationConstraint,
          JSON.stringify(loc.LocationConstraint));
    await expectError('GetBucketLocation missing bucket -> NoSuchBucket',
                      s3.send(new GetBucketLocationCommand({ Bucket: 'js-no-such-bucket' })), 'NoSuchBucket', 404);
});

const text = 'hello from the JS SDK\n'.repeat(50);
await group('PutObject string body + GetObject/HeadObject', async () => {
    const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'str.txt', Body: text }));
    eq('PutObject(string) -> 200', 200, put.$metadata.httpStatusCode);
    eq('PutObject ETag is the quoted MD5', `"${md5hex(Buffer.from(text))}"`, put.ETag);
    check('SDK sent a CRC32 header checksum (precondition)',
          lastSent().headers['x-amz-checksum-crc32'] === crc32b64(Buffer.from(text)),
          JSON.stringify(lastSent().headers));

    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'str.txt' }));
    const body = await bytesOf(got.Body);
    check('GetObject returns the exact bytes', body.equals(Buffer.from(text)), `${body.length} bytes`);
    eq('GetObject ETag equals PutObject ETag', put.ETag, got.ETag);
    eq('GetObject ContentLength', Buffer.byteLength(text), got.ContentLength);
    check('GetObject LastModified is recent',
          got.LastModified instanceof Date && Math.abs(Date.now() - got.LastModified) < 10 * 60e3,
          String(got.LastModified));

    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'str.txt' }));
    eq('HeadObject ContentLength', Buffer.byteLength(text), head.ContentLength);
    eq('HeadObject ETag equals PutObject ETag', put.ETag, head.ETag);
});

await group('GetObject with ChecksumMode ENABLED', async () => {
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'str.txt', ChecksumMode: 'ENABLED' }));
    eq('GetObject returns ChecksumCRC32 of the object', crc32b64(Buffer.from(text)), got.ChecksumCRC32);
    // The SDK validates the body against the checksum while reading it.
    const body = await bytesOf(got.Body);
    check('checksum-validated body is intact', body.equals(Buffer.from(text)));
});

await group('PutObject Readable stream (aws-chunked + CRC32 trailer)', async () => {
    const parts = [crypto.randomBytes(70000), crypto.randomBytes(1), crypto.randomBytes(65536 * 3 + 17)];
    const whole = Buffer.concat(parts);
    const put = await s3.send(new PutObjectCommand({
        Bucket: bucket, Key: 'stream.bin', Body: Readable.from(parts), ContentLength: whole.length,
    }));
    const h = lastSent().headers;
    check('SDK sent STREAMING-UNSIGNED-PAYLOAD-TRAILER with aws-chunked (precondition)',
          h['x-amz-content-sha256'] === 'STREAMING-UNSIGNED-PAYLOAD-TRAILER'
              && /aws-chunked/.test(h['content-encoding'] ?? '')
              && h['x-amz-trailer'] === 'x-amz-checksum-crc32',
          JSON.stringify(h));
    eq('PutObject(stream) -> 200', 200, put.$metadata.httpStatusCode);
    eq('PutObject(stream) ETag is MD5 of the decoded bytes', `"${md5hex(whole)}"`, put.ETag);

    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'stream.bin', ChecksumMode: 'ENABLED' }));
    const body = await bytesOf(got.Body);
    check('stored bytes exclude the aws-chunked framing', body.equals(whole),
          `got ${body.length} bytes, want ${whole.length}`);
    eq('ChecksumCRC32 of the streamed object', crc32b64(whole), got.ChecksumCRC32);
    check('stored Content-Encoding has no aws-chunked', !/aws-chunked/.test(got.ContentEncoding ?? ''),
          String(got.ContentEncoding));
});

await group('PutObject stream with its own Content-Encoding (aws-chunked added by the SDK)', async () => {
    const data = crypto.randomBytes(100000);
    await s3.send(new PutObjectCommand({
        Bucket: bucket, Key: 'encoded.bin', Body: Readable.from([data]), ContentLength: data.length,
        ContentEncoding: 'deflate, gzip',
    }));
    const sent = lastSent().headers['content-encoding'] ?? '';
    check('SDK sent aws-chunked next to the caller\'s codings (precondition)',
          /aws-chunked/.test(sent) && /deflate, gzip/.test(sent), sent);
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'encoded.bin' }));
    eq('stored Content-Encoding is the caller\'s, as written', 'deflate, gzip', head.ContentEncoding);
});

await group('metadata and content headers', async () => {
    await s3.send(new PutObjectCommand({
        Bucket: bucket, Key: 'meta.txt', Body: 'meta',
        ContentType: 'text/plain; charset=utf-8',
        CacheControl: 'max-age=60',
        ContentDisposition: 'attachment; filename="m.txt"',
        ContentLanguage: 'en',
        Metadata: { color: 'blue', 'Mixed-Case': 'Some Value' },
    }));
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'meta.txt' }));
    eq('ContentType round trip', 'text/plain; charset=utf-8', head.ContentType);
    eq('CacheControl round trip', 'max-age=60', head.CacheControl);
    eq('ContentDisposition round trip', 'attachment; filename="m.txt"', head.ContentDisposition);
    eq('ContentLanguage round trip', 'en', head.ContentLanguage);
    eq('user metadata round trip (keys lower-cased)', JSON.stringify({ color: 'blue', 'mixed-case': 'Some Value' }),
       JSON.stringify(Object.fromEntries(Object.entries(head.Metadata ?? {}).sort())));
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'meta.txt' }));
    eq('GetObject returns the same ContentType', 'text/plain; charset=utf-8', got.ContentType);
    eq('GetObject returns the same metadata', 'blue', got.Metadata?.color);
    await got.Body.transformToByteArray();

    // The SDK adds application/octet-stream to Buffer bodies; strip it before signing so that the
    // request carries no Content-Type at all and the server's default shows.
    const untypedPut = new PutObjectCommand({ Bucket: bucket, Key: 'untyped', Body: Buffer.from([1, 2, 3]) });
    untypedPut.middlewareStack.add((next) => async (args) => {
        for (const k of Object.keys(args.request.headers)) {
            if (k.toLowerCase() === 'content-type') delete args.request.headers[k];
        }
        return next(args);
    }, { step: 'build', name: 'ifmatchDropContentType', priority: 'low' });
    await s3.send(untypedPut);
    check('SDK sent no Content-Type (precondition)', lastSent().headers['content-type'] === undefined,
          String(lastSent().headers['content-type']));
    const untyped = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'untyped' }));
    eq('default ContentType is binary/octet-stream', 'binary/octet-stream', untyped.ContentType);
});

await group('Range GET', async () => {
    const data = Buffer.from('0123456789abcdefghij'); // 20 bytes
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'range.txt', Body: data }));
    const cases = [
        ['bytes=2-5', 2, 5],
        ['bytes=15-', 15, 19],
        ['bytes=-4', 16, 19],
        ['bytes=10-1000', 10, 19], // end past EOF is clamped
    ];
    for (const [range, first, last] of cases) {
        const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'range.txt', Range: range, ChecksumMode: 'ENABLED' }));
        eq(`${range} -> 206`, 206, got.$metadata.httpStatusCode);
        eq(`${range} Content-Range`, `bytes ${first}-${last}/20`, got.ContentRange);
        eq(`${range} ContentLength`, last - first + 1, got.ContentLength);
        const body = await bytesOf(got.Body);
        eq(`${range} body`, data.subarray(first, last + 1).toString(), body.toString());
        check(`${range} carries no whole-object checksum`, got.ChecksumCRC32 === undefined, String(got.ChecksumCRC32));
    }
    await expectError('unsatisfiable range -> 416 InvalidRange',
                      s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'range.txt', Range: 'bytes=20-30' })),
                      'InvalidRange', 416);
});

await group('ListObjectsV2', async () => {
    const keys = ['a.txt', 'dir/a.txt', 'dir/b.txt', 'dir/sub/c.txt', 'dir/sub/d.txt', 'e.txt', 'z/1'];
    for (const k of keys) await s3.send(new PutObjectCommand({ Bucket: listBucket, Key: k, Body: k }));

    const all = await s3.send(new ListObjectsV2Command({ Bucket: listBucket }));
    eq('all keys in byte order', JSON.stringify(keys), JSON.stringify((all.Contents ?? []).map((o) => o.Key)));
    eq('KeyCount', keys.length, all.KeyCount);
    eq('IsTruncated false', false, all.IsTruncated);
    const dirA = (all.Contents ?? []).find((o) => o.Key === 'dir/a.txt');
    eq('listed Size', 'dir/a.txt'.length, dirA?.Size);
    eq('listed ETag equals MD5', `"${md5hex(Buffer.from('dir/a.txt'))}"`, dirA?.ETag);

    const delim = await s3.send(new ListObjectsV2Command({ Bucket: listBucket, Prefix: 'dir/', Delimiter: '/' }));
    eq('prefix+delimiter Contents', JSON.stringify(['dir/a.txt', 'dir/b.txt']),
       JSON.stringify((delim.Contents ?? []).map((o) => o.Key)));
    eq('prefix+delimiter CommonPrefixes', JSON.stringify(['dir/sub/']),
       JSON.stringify((delim.CommonPrefixes ?? []).map((p) => p.Prefix)));
    eq('Prefix echoed', 'dir/', delim.Prefix);
    eq('Delimiter echoed', '/', delim.Delimiter);

    const top = await s3.send(new ListObjectsV2Command({ Bucket: listBucket, Delimiter: '/' }));
    eq('top-level Contents', JSON.stringify(['a.txt', 'e.txt']), JSON.stringify((top.Contents ?? []).map((o) => o.Key)));
    eq('top-level CommonPrefixes', JSON.stringify(['dir/', 'z/']),
       JSON.stringify((top.CommonPrefixes ?? []).map((p) => p.Prefix)));

    // Pagination with max-keys and continuation tokens.
    const pages = [];
    let token;
    for (let i = 0; i < 10; i++) {
        const page = await s3.send(new ListObjectsV2Command({ Bucket: listBucket, MaxKeys: 3, ContinuationToken: token }));
        pages.push(page);
        if (!page.IsTruncated) break;
        token = page.NextContinuationToken;
        if (!check(`page ${i + 1} truncated -> has NextContinuationToken`, !!token)) break;
    }
    eq('max-keys=3 gives 3 pages', 3, pages.length);
    eq('first page MaxKeys echoed', 3, pages[0]?.MaxKeys);
    eq('first page KeyCount', 3, pages[0]?.KeyCount);
    eq('paged keys equal full listing', JSON.stringify(keys),
       JSON.stringify(pages.flatMap((p) => (p.Contents ?? []).map((o) => o.Key))));
    check('last page has no NextContinuationToken', pages.length > 0 && !pages[pages.length - 1].NextContinuationToken);

    const after = await s3.send(new ListObjectsV2Command({ Bucket: listBucket, StartAfter: 'dir/sub/c.txt' }));
    eq('start-after', JSON.stringify(['dir/sub/d.txt', 'e.txt', 'z/1']),
       JSON.stringify((after.Contents ?? []).map((o) => o.Key)));
    eq('StartAfter echoed', 'dir/sub/c.txt', after.StartAfter);

    const pfx = await s3.send(new ListObjectsV2Command({ Bucket: listBucket, Prefix: 'dir/sub/', MaxKeys: 1 }));
    eq('prefix + max-keys=1 first key', 'dir/sub/c.txt', pfx.Contents?.[0]?.Key);
    eq('prefix + max-keys=1 truncated', true, pfx.IsTruncated);

    const none = await s3.send(new ListObjectsV2Command({ Bucket: listBucket, Prefix: 'nothing/' }));
    eq('empty listing KeyCount 0', 0, none.KeyCount);
    check('empty listing has no Contents', (none.Contents ?? []).length === 0);
    await expectError('ListObjectsV2 missing bucket -> NoSuchBucket',
                      s3.send(new ListObjectsV2Command({ Bucket: 'js-no-such-bucket' })), 'NoSuchBucket', 404);
});

await group('errors for missing things', async () => {
    await expectError('GetObject missing key -> NoSuchKey',
                      s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'no/such/key' })), 'NoSuchKey', 404);
    await expectError('GetObject missing bucket -> NoSuchBucket',
                      s3.send(new GetObjectCommand({ Bucket: 'js-no-such-bucket', Key: 'k' })), 'NoSuchBucket', 404);
    await expectError('HeadObject missing key -> 404 NotFound',
                      s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'no/such/key' })), 'NotFound', 404);
    await expectError('PutObject into missing bucket -> NoSuchBucket',
                      s3.send(new PutObjectCommand({ Bucket: 'js-no-such-bucket', Key: 'k', Body: 'x' })), 'NoSuchBucket', 404);
});

await group('presigned GET', async () => {
    const url = await getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key: 'str.txt' }), { expiresIn: 300 });
    const res = await fetch(url);
    eq('presigned GET -> 200', 200, res.status);
    const body = Buffer.from(await res.arrayBuffer());
    check('presigned GET bytes', body.equals(Buffer.from(text)));
});

await group('DeleteObject / DeleteObjects / DeleteBucket', async () => {
    await expectError('DeleteBucket with objects -> BucketNotEmpty',
                      s3.send(new DeleteBucketCommand({ Bucket: listBucket })), 'BucketNotEmpty', 409);

    const del = await s3.send(new DeleteObjectCommand({ Bucket: listBucket, Key: 'a.txt' }));
    eq('DeleteObject -> 204', 204, del.$metadata.httpStatusCode);
    await expectError('deleted object is gone', s3.send(new HeadObjectCommand({ Bucket: listBucket, Key: 'a.txt' })),
                      'NotFound', 404);
    const delMissing = await s3.send(new DeleteObjectCommand({ Bucket: listBucket, Key: 'never-existed' }));
    eq('DeleteObject of a missing key -> 204', 204, delMissing.$metadata.httpStatusCode);

    const rest = ['dir/a.txt', 'dir/b.txt', 'dir/sub/c.txt', 'dir/sub/d.txt', 'e.txt', 'z/1', 'never-existed-2'];
    const multi = await s3.send(new DeleteObjectsCommand({
        Bucket: listBucket, Delete: { Objects: rest.map((Key) => ({ Key })) },
    }));
    const h = lastSent().headers;
    check('SDK sent DeleteObjects with a CRC32 checksum and no Content-MD5 (precondition)',
          !!h['x-amz-checksum-crc32'] && h['content-md5'] === undefined, JSON.stringify(h));
    eq('DeleteObjects -> 200', 200, multi.$metadata.httpStatusCode);
    eq('DeleteObjects reports every key deleted (missing ones too)', JSON.stringify([...rest].sort()),
       JSON.stringify((multi.Deleted ?? []).map((d) => d.Key).sort()));
    eq('DeleteObjects reports no errors', 0, (multi.Errors ?? []).length);
    const after = await s3.send(new ListObjectsV2Command({ Bucket: listBucket }));
    eq('bucket is empty after DeleteObjects', 0, after.KeyCount);

    const quiet = await s3.send(new DeleteObjectsCommand({
        Bucket: bucket, Delete: { Quiet: true, Objects: [{ Key: 'untyped' }] },
    }));
    eq('quiet DeleteObjects lists nothing', 0, (quiet.Deleted ?? []).length);
    await expectError('quietly deleted object is gone',
                      s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'untyped' })), 'NotFound', 404);

    const rb = await s3.send(new DeleteBucketCommand({ Bucket: listBucket }));
    eq('DeleteBucket empty -> 204', 204, rb.$metadata.httpStatusCode);
    await expectError('deleted bucket is gone', s3.send(new HeadBucketCommand({ Bucket: listBucket })), 'NotFound', 404);
    await expectError('DeleteBucket missing -> NoSuchBucket',
                      s3.send(new DeleteBucketCommand({ Bucket: listBucket })), 'NoSuchBucket', 404);
});

await group('virtual-hosted style', async () => {
    // *.localhost does not resolve here: resolve every name to 127.0.0.1 ourselves.
    const looked = [];
    const lookup = (hostname, options, cb) => {
        looked.push(hostname);
        if (options?.all) cb(null, [{ address: '127.0.0.1', family: 4 }]);
        else cb(null, '127.0.0.1', 4);
    };
    const vs3 = new S3Client({
        ...common,
        endpoint: `http://localhost:${port}`,
        forcePathStyle: false,
        requestHandler: new NodeHttpHandler({ ...handlerOptions, httpAgent: new http.Agent({ lookup }) }),
    });
    const vsent = recordRequests(vs3);
    const vb = 'js-vhost';
    await vs3.send(new CreateBucketCommand({ Bucket: vb }));
    const put = await vs3.send(new PutObjectCommand({ Bucket: vb, Key: 'v/key.txt', Body: 'virtual' }));
    const h = vsent[vsent.length - 1];
    eq('request went to bucket.localhost (precondition)', `${vb}.localhost`, h.hostname);
    eq('virtual-hosted path is the key alone (precondition)', '/v/key.txt', h.path);
    check('resolver was asked for the bucket host', looked.includes(`${vb}.localhost`), JSON.stringify(looked));
    eq('vhost PutObject ETag', `"${md5hex(Buffer.from('virtual'))}"`, put.ETag);

    const got = await vs3.send(new GetObjectCommand({ Bucket: vb, Key: 'v/key.txt' }));
    eq('vhost GetObject bytes', 'virtual', (await bytesOf(got.Body)).toString());
    const list = await vs3.send(new ListObjectsV2Command({ Bucket: vb }));
    eq('vhost ListObjectsV2', JSON.stringify(['v/key.txt']), JSON.stringify((list.Contents ?? []).map((o) => o.Key)));

    // The same bucket seen path-style: the server routed the vhost requests to the right bucket.
    const viaPath = await s3.send(new GetObjectCommand({ Bucket: vb, Key: 'v/key.txt' }));
    eq('object written vhost-style is readable path-style', 'virtual', (await bytesOf(viaPath.Body)).toString());
    await expectError('no bucket named "localhost" was created',
                      s3.send(new HeadBucketCommand({ Bucket: 'localhost' })), 'NotFound', 404);

    await vs3.send(new DeleteObjectCommand({ Bucket: vb, Key: 'v/key.txt' }));
    await vs3.send(new DeleteBucketCommand({ Bucket: vb }));
    await expectError('vhost DeleteBucket removed it', s3.send(new HeadBucketCommand({ Bucket: vb })), 'NotFound', 404);
    vs3.destroy();
});

s3.destroy();
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
