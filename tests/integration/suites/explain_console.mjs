// The console /_ifmatch/ui in a real browser (Debian's chromium through playwright-core), run via
// ../run.sh: causes a 412 through the JS SDK, opens the console on the key and checks what a user
// sees: the key's conflict timeline shows the refused If-Match with both ETags, and a new refusal
// appears in the live stream. Saves a screenshot (path printed; copied to ../artifacts/).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { S3Client, CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';

const endpoint = process.env.IFMATCH_ENDPOINT;
if (!endpoint) { console.error('run through tests/integration/run.sh'); process.exit(2); }
const chromiumPath = '/usr/bin/chromium';
let chromium;
try {
    ({ chromium } = await import('playwright-core'));
} catch (e) {
    console.log(`SKIPPED: playwright-core not installed (${e.message}); suite explain_console did not run`);
    process.exit(0);
}
if (!fs.existsSync(chromiumPath)) {
    console.log('********************************************************************');
    console.log('SKIPPED: /usr/bin/chromium missing (apt-get install chromium); explain_console did not run');
    console.log('********************************************************************');
    process.exit(0);
}
let passed = 0, failed = 0;
const check = (what, cond, detail = '') => {
    if (cond) { passed++; console.log(`ok   - ${what}`); } else { failed++; console.log(`FAIL - ${what}: ${detail}`); }
};
const s3 = new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, maxAttempts: 1,
    credentials: { accessKeyId: 'console-user', secretAccessKey: 'test' } });
const B = 'explain-console', K = 'report.txt';
await s3.send(new CreateBucketCommand({ Bucket: B }));
const etagA = (await s3.send(new PutObjectCommand({ Bucket: B, Key: K, Body: 'A' }))).ETag;
const etagB = (await s3.send(new PutObjectCommand({ Bucket: B, Key: K, Body: 'B' }))).ETag;
let status = 0;
try { await s3.send(new PutObjectCommand({ Bucket: B, Key: K, Body: 'C', IfMatch: etagA })); }
catch (e) { status = e.$metadata?.httpStatusCode; }
check('the JS SDK got 412 for the stale If-Match', status === 412, status);

const tmp = process.env.IFMATCH_TMP || os.tmpdir();
const profile = fs.mkdtempSync(path.join(tmp, 'chromium-'));
// A fresh profile directory: playwright passes it to chromium as --user-data-dir.
const browser = await chromium.launchPersistentContext(profile, { executablePath: chromiumPath,
    headless: true, viewport: { width: 1400, height: 1000 }, args: ['--headless', '--no-sandbox',
        '--disable-gpu', '--disable-background-networking', '--disable-component-update',
        '--disable-sync', '--no-first-run'] });
try {
    const page = await browser.newPage();
    await page.goto(`${endpoint}/_ifmatch/ui?bucket=${B}&key=${encodeURIComponent(K)}`);
    await page.waitForSelector('#timeline li.refused', { timeout: 10000 });
    const lines = await page.$$eval('#timeline li', (els) => els.map((e) => e.textContent));
    // The refused entry by its class and its "-> 412": a request id (random hex) can hold "412".
    const refusedLines = await page.$$eval('#timeline li.refused',
        (els) => els.map((e) => e.textContent));
    const refused = refusedLines.find((l) => l.includes('-> 412'));
    check('timeline shows the refused If-Match', refused && refused.includes('If-Match'), JSON.stringify(lines));
    check('the refused line names the stale ETag A and the current ETag B',
        refused && refused.includes(etagA) && refused.includes(etagB), refused);
    check('timeline shows both writes by console-user',
        lines.filter((l) => l.includes('wrote ETag') && l.includes('console-user')).length >= 1, JSON.stringify(lines));
    check('the bucket list shows the bucket', (await page.textContent('#buckets')).includes(B));
    check('the objects table shows the key', (await page.textContent('#objects')).includes(K));
    await page.waitForFunction(() => document.querySelector('#status').textContent === 'live', null, { timeout: 10000 });
    try { await s3.send(new PutObjectCommand({ Bucket: B, Key: K, Body: 'D', IfNoneMatch: '*' })); } catch { /* 412 expected */ }
    await page.waitForSelector('#live li', { timeout: 10000 });
    const live = await page.textContent('#live');
    check('the new refusal appears in the live stream', live.includes('If-None-Match') && live.includes('412'), live);
    const shot = path.join(tmp, 'explain_console.png');
    await page.screenshot({ path: shot, fullPage: true });
    const artifacts = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'artifacts');
    fs.mkdirSync(artifacts, { recursive: true });
    fs.copyFileSync(shot, path.join(artifacts, 'explain_console.png'));
    console.log(`screenshot: ${shot} (copied to ${path.join(artifacts, 'explain_console.png')})`);
} catch (e) {
    check('console run', false, e.message);
} finally {
    await browser.close();
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
