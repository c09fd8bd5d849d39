// test/js/clients.mjs: drives a running s3gw with the AWS SDK for
// JavaScript v3 and with minio-js, each with its default settings (the SDK
// sends CRC32 checksums in aws-chunked bodies with trailers; minio-js signs
// its payloads). test/integration/test_js.py starts the server and runs
//
//     node test/js/clients.mjs sdk|minio
//
// with S3GW_URL, S3GW_REGION, S3GW_AK, S3GW_SK and S3GW_PREFIX set. Every
// check prints "ok NAME"; the first failure prints "FAIL NAME: why" and
// exits 1.
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';

const url = process.env.S3GW_URL;
const region = process.env.S3GW_REGION || 'us-east-1';
const accessKeyId = process.env.S3GW_AK;
const secretAccessKey = process.env.S3GW_SK;
const prefix = process.env.S3GW_PREFIX || 'js';

function sha256(buf) {
    return createHash('sha256').update(buf).digest('hex');
}

function md5(buf) {
    return createHash('md5').update(buf).digest('hex');
}

async function bytesOf(stream) {
    const parts = [];
    for await (const part of stream) {
        parts.push(Buffer.from(part));
    }
    return Buffer.concat(parts);
}

function expect(cond, why) {
    if (!cond) {
        throw new Error(why);
    }
}

async function check(name, fn) {
    try {
        await fn();
        console.log('ok ' + name);
    } catch (e) {
        console.log('FAIL ' + name + ': ' + (e && (e.stack || e.message) || e));
        process.exit(1);
    }
}

async function expectError(code, fn) {
    try {
        await fn();
    } catch (e) {
        const got = e.Code || e.code || e.name;
        expect(got === code, 'expected ' + code + ', got ' + got + ': ' + e.message);
        return;
    }
    throw new Error('expected ' + code + ', got success');
}

async function sdk() {
    const s3 = await import('@aws-sdk/client-s3');
    const { Upload } = await import('@aws-sdk/lib-storage');
    const { getSignedUrl } = await import('@aws-sdk/s3-request-presigner');
    const client = new s3.S3Client({
        endpoint: url, region, forcePathStyle: true,
        credentials: { accessKeyId, secretAccessKey },
    });
    const bucket = prefix + '-sdk';
    const small = randomBytes(100 * 1024);
    const big = randomBytes(12 * 1024 * 1024 + 123);

    await check('create bucket', async () => {
        await client.send(new s3.CreateBucketCommand({ Bucket: bucket }));
        await client.send(new s3.HeadBucketCommand({ Bucket: bucket }));
        const r = await client.send(new s3.ListBucketsCommand({}));
        expect(r.Buckets.some((b) => b.Name === bucket), 'not listed');
    });
    await check('put and get (default checksums)', async () => {
        const put = await client.send(new s3.PutObjectCommand({
            Bucket: bucket, Key: 'dir/small.bin', Body: small,
            ContentType: 'application/x-test', Metadata: { color: 'blue' },
        }));
        expect(put.ETag === '"' + md5(small) + '"', 'ETag ' + put.ETag);
        const get = await client.send(new s3.GetObjectCommand({
            Bucket: bucket, Key: 'dir/small.bin', ChecksumMode: 'ENABLED',
        }));
        const body = await bytesOf(get.Body);
        expect(sha256(body) === sha256(small), 'different bytes');
        expect(get.ContentType === 'application/x-test', 'content type');
        expect(get.Metadata.color === 'blue', 'metadata');
        expect(get.ChecksumCRC32 || get.ChecksumCRC64NVME, 'no checksum');
    });
    await check('streamed body of unknown length', async () => {
        const body = Readable.from([small.subarray(0, 1000), small.subarray(1000)]);
        const up = new Upload({
            client, params: { Bucket: bucket, Key: 'stream.bin', Body: body },
        });
        await up.done();
        const get = await client.send(new s3.GetObjectCommand({
            Bucket: bucket, Key: 'stream.bin' }));
        expect(sha256(await bytesOf(get.Body)) === sha256(small), 'bytes');
    });
    await check('multipart upload (lib-storage)', async () => {
        const up = new Upload({
            client, partSize: 5 * 1024 * 1024, queueSize: 3,
            params: { Bucket: bucket, Key: 'big.bin', Body: big },
        });
        const r = await up.done();
        expect(/-3"$/.test(r.ETag), 'multipart ETag ' + r.ETag);
        const get = await client.send(new s3.GetObjectCommand({
            Bucket: bucket, Key: 'big.bin' }));
        expect(sha256(await bytesOf(get.Body)) === sha256(big), 'bytes');
        const head = await client.send(new s3.HeadObjectCommand({
            Bucket: bucket, Key: 'big.bin', PartNumber: 2 }));
        expect(head.ContentLength === 5 * 1024 * 1024, 'part 2 length');
    });
    await check('range get', async () => {
        const get = await client.send(new s3.GetObjectCommand({
            Bucket: bucket, Key: 'big.bin', Range: 'bytes=5242870-5242889' }));
        const body = await bytesOf(get.Body);
        expect(body.equals(big.subarray(5242870, 5242890)), 'range bytes');
        expect(get.ContentRange === 'bytes 5242870-5242889/' + big.length,
               'Content-Range ' + get.ContentRange);
    });
    await check('list v2 with delimiter and pages', async () => {
        const r = await client.send(new s3.ListObjectsV2Command({
            Bucket: bucket, Delimiter: '/' }));
        expect(r.CommonPrefixes.map((p) => p.Prefix).join() === 'dir/',
               'prefixes');
        expect(r.Contents.map((c) => c.Key).join() === 'big.bin,stream.bin',
               'keys ' + r.Contents.map((c) => c.Key).join());
        const keys = [];
        for await (const page of s3.paginateListObjectsV2(
            { client, pageSize: 1 }, { Bucket: bucket })) {
            keys.push(...(page.Contents || []).map((c) => c.Key));
        }
        expect(keys.join() === 'big.bin,dir/small.bin,stream.bin', 'pages');
    });
    await check('copy object', async () => {
        await client.send(new s3.CopyObjectCommand({
            Bucket: bucket, Key: 'copy.bin',
            CopySource: bucket + '/dir/small.bin' }));
        const get = await client.send(new s3.GetObjectCommand({
            Bucket: bucket, Key: 'copy.bin' }));
        expect(sha256(await bytesOf(get.Body)) === sha256(small), 'bytes');
    });
    await check('presigned get', async () => {
        const signed = await getSignedUrl(client, new s3.GetObjectCommand({
            Bucket: bucket, Key: 'dir/small.bin' }), { expiresIn: 60 });
        const res = await fetch(signed);
        expect(res.status === 200, 'status ' + res.status);
        const body = Buffer.from(await res.arrayBuffer());
        expect(sha256(body) === sha256(small), 'bytes');
    });
    await check('errors', async () => {
        await expectError('NoSuchKey', () => client.send(new s3.GetObjectCommand({
            Bucket: bucket, Key: 'nope' })));
        await expectError('NoSuchBucket', () => client.send(
            new s3.ListObjectsV2Command({ Bucket: bucket + '-nope' })));
        await expectError('BucketNotEmpty', () => client.send(
            new s3.DeleteBucketCommand({ Bucket: bucket })));
    });
    await check('bucket policy and ACL', async () => {
        const policy = JSON.stringify({
            Version: '2012-10-17',
            Statement: [{ Effect: 'Allow', Principal: '*',
                          Action: 's3:GetObject',
                          Resource: 'arn:aws:s3:::' + bucket + '/dir/*' }],
        });
        await client.send(new s3.PutBucketPolicyCommand({
            Bucket: bucket, Policy: policy }));
        const got = await client.send(new s3.GetBucketPolicyCommand({
            Bucket: bucket }));
        expect(JSON.parse(got.Policy).Statement.length === 1, 'policy');
        const res = await fetch(url + '/' + bucket + '/dir/small.bin');
        expect(res.status === 200, 'anonymous status ' + res.status);
        const denied = await fetch(url + '/' + bucket + '/big.bin');
        expect(denied.status === 403, 'anonymous status ' + denied.status);
        await client.send(new s3.PutObjectAclCommand({
            Bucket: bucket, Key: 'big.bin', ACL: 'public-read' }));
        const acl = await client.send(new s3.GetObjectAclCommand({
            Bucket: bucket, Key: 'big.bin' }));
        expect(acl.Grants.some((g) => g.Grantee.URI
            === 'http://acs.amazonaws.com/groups/global/AllUsers'), 'grant');
        await client.send(new s3.DeleteBucketPolicyCommand({ Bucket: bucket }));
    });
    await check('delete objects and bucket', async () => {
        const list = await client.send(new s3.ListObjectsV2Command({
            Bucket: bucket }));
        const r = await client.send(new s3.DeleteObjectsCommand({
            Bucket: bucket,
            Delete: { Objects: list.Contents.map((c) => ({ Key: c.Key })) },
        }));
        expect(r.Deleted.length === list.Contents.length, 'deleted');
        await client.send(new s3.DeleteBucketCommand({ Bucket: bucket }));
    });
}

async function minio() {
    const Minio = await import('minio');
    const u = new URL(url);
    const client = new Minio.Client({
        endPoint: u.hostname, port: Number(u.port), useSSL: false,
        accessKey: accessKeyId, secretKey: secretAccessKey, region,
        pathStyle: true,
    });
    const bucket = prefix + '-minio';
    const small = randomBytes(64 * 1024);
    const big = randomBytes(70 * 1024 * 1024);   /* past the 64 MiB part */

    await check('make bucket', async () => {
        await client.makeBucket(bucket, region);
        expect(await client.bucketExists(bucket), 'exists');
        expect(!(await client.bucketExists(bucket + '-nope')), 'not exists');
    });
    await check('put and get', async () => {
        await client.putObject(bucket, 'a/small.bin', small, small.length,
                               { 'Content-Type': 'application/x-test' });
        const body = await bytesOf(await client.getObject(bucket, 'a/small.bin'));
        expect(body.equals(small), 'bytes');
        const st = await client.statObject(bucket, 'a/small.bin');
        expect(st.size === small.length, 'size');
        expect(st.etag === md5(small), 'etag ' + st.etag);
    });
    await check('multipart put of a stream', async () => {
        await client.putObject(bucket, 'big.bin', Readable.from([big]));
        const st = await client.statObject(bucket, 'big.bin');
        expect(st.size === big.length, 'size ' + st.size);
        expect(/-[0-9]+$/.test(st.etag), 'multipart etag ' + st.etag);
        const body = await bytesOf(await client.getObject(bucket, 'big.bin'));
        expect(sha256(body) === sha256(big), 'bytes');
    });
    await check('partial get', async () => {
        const body = await bytesOf(await client.getPartialObject(
            bucket, 'big.bin', 1000, 50));
        expect(body.equals(big.subarray(1000, 1050)), 'bytes');
    });
    await check('list objects v2', async () => {
        const keys = [];
        await new Promise((resolve, reject) => {
            const s = client.listObjectsV2(bucket, '', true);
            s.on('data', (o) => keys.push(o.name));
            s.on('error', reject);
            s.on('end', resolve);
        });
        expect(keys.join() === 'a/small.bin,big.bin', 'keys ' + keys.join());
    });
    await check('copy object', async () => {
        await client.copyObject(bucket, 'copy.bin', '/' + bucket + '/a/small.bin',
                                new Minio.CopyConditions());
        const body = await bytesOf(await client.getObject(bucket, 'copy.bin'));
        expect(body.equals(small), 'bytes');
    });
    await check('presigned get', async () => {
        const signed = await client.presignedGetObject(bucket, 'a/small.bin', 60);
        const res = await fetch(signed);
        expect(res.status === 200, 'status ' + res.status);
        expect(Buffer.from(await res.arrayBuffer()).equals(small), 'bytes');
    });
    await check('bucket policy', async () => {
        const policy = JSON.stringify({
            Version: '2012-10-17',
            Statement: [{ Effect: 'Allow', Principal: { AWS: ['*'] },
                          Action: ['s3:GetObject'],
                          Resource: ['arn:aws:s3:::' + bucket + '/a/*'] }],
        });
        await client.setBucketPolicy(bucket, policy);
        const got = JSON.parse(await client.getBucketPolicy(bucket));
        expect(got.Statement[0].Action[0] === 's3:GetObject', 'policy');
        const res = await fetch(url + '/' + bucket + '/a/small.bin');
        expect(res.status === 200, 'anonymous status ' + res.status);
        await client.setBucketPolicy(bucket, '');
        const gone = await fetch(url + '/' + bucket + '/a/small.bin');
        expect(gone.status === 403, 'anonymous status ' + gone.status);
    });
    await check('errors', async () => {
        await expectError('NoSuchKey', () => client.statObject(bucket, 'nope')
            .catch((e) => { throw { code: e.code === 'NotFound' ? 'NoSuchKey' : e.code }; }));
        await expectError('NoSuchBucket', () => client.getObject(bucket + '-nope', 'k'));
    });
    await check('remove objects and bucket', async () => {
        await client.removeObjects(bucket, ['a/small.bin', 'big.bin', 'copy.bin']);
        await client.removeBucket(bucket);
        expect(!(await client.bucketExists(bucket)), 'still there');
    });
}

const which = process.argv[2];
if (which === 'sdk') {
    await sdk();
} else if (which === 'minio') {
    await minio();
} else {
    console.log('usage: node clients.mjs sdk|minio');
    process.exit(2);
}
console.log('done ' + which);
