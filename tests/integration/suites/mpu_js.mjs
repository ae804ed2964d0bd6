// Multipart through @aws-sdk/lib-storage (run through ../run.sh): an Upload of a ~12 MiB stream
// (5 MiB parts, the SDK's default CRC32 part checksums), then GET and compare, the R-E3 ETag, GET
// by partNumber, and ListParts / Abort via the client. Prints "N passed, M failed".
import crypto from 'node:crypto';
import { Readable } from 'node:stream';

import {
    S3Client,
    CreateBucketCommand,
    GetObjectCommand,
    HeadObjectCommand,
    CreateMultipartUploadCommand,
    UploadPartCommand,
    ListPartsCommand,
    AbortMultipartUploadCommand,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';

const endpoint = process.env.IFMATCH_ENDPOINT;
if (!endpoint) {
    console.error('IFMATCH_ENDPOINT not set: run this suite through tests/integration/run.sh');
    process.exit(2);
}
let passed = 0;
let failed = 0;
const ok = (what) => { passed++; console.log(`ok   - ${what}`); };
const fail = (what, detail) => { failed++; console.log(`FAIL - ${what}${detail ? `: ${detail}` : ''}`); };
const eq = (what, expected, actual) =>
    (expected === actual ? ok(what) : fail(what, `expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`));

const s3 = new S3Client({
    endpoint, region: 'us-east-1', forcePathStyle: true, maxAttempts: 1,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
});
const B = 'mpu-js';
const MiB = 1024 * 1024;
const md5 = (b) => crypto.createHash('md5').update(b).digest();

async function main() {
    await s3.send(new CreateBucketCommand({ Bucket: B }));
    const data = crypto.randomBytes(12 * MiB + 777);
    // A stream of unknown length: lib-storage buffers 5 MiB parts and goes multipart.
    const stream = Readable.from((function* () {
        for (let i = 0; i < data.length; i += 64 * 1024) yield data.subarray(i, i + 64 * 1024);
    })());
    const up = new Upload({ client: s3, params: { Bucket: B, Key: 'stream.bin', Body: stream } });
    const res = await up.done();
    const parts = [];
    for (let i = 0; i < data.length; i += 5 * MiB) parts.push(data.subarray(i, i + 5 * MiB));
    const etag = `"${md5(Buffer.concat(parts.map(md5))).toString('hex')}-${parts.length}"`;
    eq('Upload.done ETag is the multipart form (R-E3)', etag, res.ETag);
    const head = await s3.send(new HeadObjectCommand({ Bucket: B, Key: 'stream.bin' }));
    eq('HEAD size', data.length, head.ContentLength);
    const got = await s3.send(new GetObjectCommand({ Bucket: B, Key: 'stream.bin' }));
    const body = Buffer.from(await got.Body.transformToByteArray());
    eq('GET bytes equal', true, body.equals(data));
    const p3 = await s3.send(new GetObjectCommand({ Bucket: B, Key: 'stream.bin', PartNumber: 3 }));
    const p3b = Buffer.from(await p3.Body.transformToByteArray());
    eq('partNumber=3 bytes', true, p3b.equals(parts[2]));
    eq('partNumber=3 PartsCount', 3, p3.PartsCount);

    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: B, Key: 'low' }));
    const part = await s3.send(new UploadPartCommand({
        Bucket: B, Key: 'low', UploadId, PartNumber: 1, Body: Buffer.from('hello'),
    }));
    eq('UploadPart ETag', `"${md5(Buffer.from('hello')).toString('hex')}"`, part.ETag);
    const lp = await s3.send(new ListPartsCommand({ Bucket: B, Key: 'low', UploadId }));
    eq('ListParts one part of 5 bytes', '1:5', `${lp.Parts.length}:${lp.Parts[0].Size}`);
    await s3.send(new AbortMultipartUploadCommand({ Bucket: B, Key: 'low', UploadId }));
    try {
        await s3.send(new ListPartsCommand({ Bucket: B, Key: 'low', UploadId }));
        fail('ListParts after Abort -> NoSuchUpload');
    } catch (e) {
        eq('ListParts after Abort -> NoSuchUpload', 'NoSuchUpload', e.name);
    }
}

try {
    await main();
} catch (e) {
    fail('unexpected exception', `${e.name}: ${e.message}`);
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
