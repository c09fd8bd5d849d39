"""CopyObject (PUT with x-amz-copy-source): a metadata operation that adds
chunk references. Within and across buckets, multi-chunk and inline objects,
the metadata and tagging directives, copying onto itself, the
x-amz-copy-source-if-* conditions, encoded source keys, storage classes, the
error cases, the chunks' life after the source goes, and the aws CLI and
s3cmd doing copies."""

import datetime
import hashlib
import os
import time
import unittest

from harness import (MiB, S3gwTestCase, build_request, checksum_b64, etag_of,
                     s3_quote, unique_name)


def utcnow():
    return datetime.datetime.now(datetime.timezone.utc)


class CopyTest(S3gwTestCase):

    # Small chunks so a few MiB make a multi-chunk object; a fast collector
    # so reclaiming can be watched.
    conf = {'chunk_size': '1m', 'gc_interval': '100ms'}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.bucket = unique_name('copy')
        cls.s3.create_bucket(Bucket=cls.bucket)

    def put(self, key, body, bucket=None, **kw):
        return self.s3.put_object(Bucket=bucket or self.bucket, Key=key,
                                  Body=body, **kw)

    def get(self, key, bucket=None, **kw):
        return self.s3.get_object(Bucket=bucket or self.bucket, Key=key, **kw)

    def copy(self, src_key, dst_key, src_bucket=None, dst_bucket=None, **kw):
        return self.s3.copy_object(
            Bucket=dst_bucket or self.bucket, Key=dst_key,
            CopySource={'Bucket': src_bucket or self.bucket, 'Key': src_key},
            **kw)

    def chunk_names(self):
        return {os.path.basename(f) for f in self.server.chunk_files()}

    def raw_copy(self, dst_key, source, headers=None):
        """A signed raw PUT with x-amz-copy-source exactly as given."""
        h = {'x-amz-copy-source': source}
        h.update(headers or {})
        return self.server.signed('PUT', '/%s/%s' % (self.bucket,
                                                     s3_quote(dst_key)),
                                  headers=h, body=b'')

    # --- Content ---------------------------------------------------------

    def test_multi_chunk_copy_adds_no_chunk(self):
        data = os.urandom(3 * MiB + 12345)
        src = self.put('big/src', data)
        want = {hashlib.sha256(data[i:i + MiB]).hexdigest()
                for i in range(0, len(data), MiB)}
        self.assertTrue(want <= self.chunk_names())
        before = self.server.chunk_files()

        r = self.copy('big/src', 'big/dst')
        self.assertEqual(r['CopyObjectResult']['ETag'], etag_of(data))
        self.assertEqual(r['CopyObjectResult']['ETag'], src['ETag'])
        self.assertEqual(self.server.chunk_files(), before)

        other = self.new_bucket(hint='copy-other')
        self.copy('big/src', 'elsewhere', dst_bucket=other)
        self.assertEqual(self.server.chunk_files(), before)

        for b, k in ((self.bucket, 'big/dst'), (other, 'elsewhere')):
            g = self.get(k, bucket=b)
            self.assertEqual(g['ContentLength'], len(data))
            self.assertEqual(g['ETag'], etag_of(data))
            self.assertEqual(g['Body'].read(), data)
        g = self.get('big/dst', Range='bytes=%d-%d' % (MiB - 5, 2 * MiB + 5))
        self.assertEqual(g['Body'].read(), data[MiB - 5:2 * MiB + 6])

    def test_inline_and_empty_objects(self):
        for size in (0, 1, 100, 4096):
            with self.subTest(size=size):
                data = os.urandom(size)
                self.put('inline/%d' % size, data)
                before = self.server.chunk_files()
                r = self.copy('inline/%d' % size, 'inline/%d.copy' % size)
                self.assertEqual(r['CopyObjectResult']['ETag'], etag_of(data))
                self.assertEqual(self.server.chunk_files(), before)
                g = self.get('inline/%d.copy' % size)
                self.assertEqual(g['Body'].read(), data)
                self.assertEqual(g['ETag'], etag_of(data))

    def test_result_body(self):
        data = b'result body' * 1000
        self.put('res/src', data)
        t0 = utcnow().replace(microsecond=0)
        r = self.copy('res/src', 'res/dst')
        res = r['CopyObjectResult']
        self.assertEqual(res['ETag'], etag_of(data))
        self.assertGreaterEqual(res['LastModified'],
                                t0 - datetime.timedelta(seconds=1))
        self.assertLessEqual(res['LastModified'],
                             utcnow() + datetime.timedelta(seconds=1))
        # boto3 sends a CRC32 of its own; the copy carries the source's.
        self.assertEqual(res.get('ChecksumCRC32'), checksum_b64('CRC32', data))
        self.assertEqual(res.get('ChecksumType'), 'FULL_OBJECT')
        h = self.s3.head_object(Bucket=self.bucket, Key='res/dst')
        self.assertEqual(h['LastModified'].replace(microsecond=0),
                         res['LastModified'].replace(microsecond=0))

        # No checksum from the client: S3 (and we) add CRC64NVME.
        r = self.server.signed('PUT', '/%s/res/plain' % self.bucket,
                               body=data)
        self.assertEqual(r.status, 200, r)
        res = self.copy('res/plain', 'res/plain.copy')['CopyObjectResult']
        self.assertEqual(res.get('ChecksumCRC64NVME'),
                         checksum_b64('CRC64NVME', data))
        self.assertNotIn('ChecksumCRC32', res)

        self.put('res/sha', data, ChecksumAlgorithm='SHA256')
        res = self.copy('res/sha', 'res/sha.copy')['CopyObjectResult']
        self.assertEqual(res.get('ChecksumSHA256'),
                         checksum_b64('SHA256', data))
        self.assertNotIn('ChecksumCRC64NVME', res)
        g = self.get('res/sha.copy', ChecksumMode='ENABLED')
        self.assertEqual(g.get('ChecksumSHA256'), checksum_b64('SHA256', data))

        # Asking for the algorithm the source has is fine; another one would
        # mean reading the bytes, which a copy here never does.
        res = self.copy('res/sha', 'res/sha.again',
                        ChecksumAlgorithm='SHA256')['CopyObjectResult']
        self.assertEqual(res.get('ChecksumSHA256'),
                         checksum_b64('SHA256', data))
        self.assertS3Error('NotImplemented', 501, self.copy, 'res/sha',
                           'res/crc', ChecksumAlgorithm='CRC32')
        r = self.raw_copy('res/crc', '%s/res/sha' % self.bucket,
                          {'x-amz-checksum-algorithm': 'MD4'})
        self.assertRawError(r, 400, 'InvalidRequest')

    def test_raw_result_xml(self):
        self.put('xml/src', b'x' * 10)
        r = self.raw_copy('xml/dst', '/%s/xml/src' % self.bucket)
        self.assertEqual(r.status, 200, r)
        root = r.xml()
        self.assertEqual(root.tag, 'CopyObjectResult')
        self.assertEqual([e.tag for e in root][:2], ['ETag', 'LastModified'])
        self.assertEqual(root.findtext('ETag'), etag_of(b'x' * 10))
        self.assertRegex(root.findtext('LastModified'),
                         r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$')

    # --- Metadata --------------------------------------------------------

    SRC_META = dict(ContentType='text/x-source', CacheControl='max-age=60',
                    ContentDisposition='attachment; filename="s.txt"',
                    ContentLanguage='en', ContentEncoding='identity',
                    Expires=datetime.datetime(2030, 1, 2, 3, 4, 5,
                                              tzinfo=datetime.timezone.utc),
                    Metadata={'colour': 'blue', 'size': 'large'})

    def test_metadata_directive_copy(self):
        self.put('meta/src', b'metadata', **self.SRC_META)
        # COPY (the default): whatever the request says is ignored.
        for extra in ({}, {'MetadataDirective': 'COPY'}):
            with self.subTest(extra=extra):
                self.copy('meta/src', 'meta/copy', ContentType='text/x-new',
                          Metadata={'colour': 'red'}, **extra)
                h = self.s3.head_object(Bucket=self.bucket, Key='meta/copy')
                self.assertEqual(h['ContentType'], 'text/x-source')
                self.assertEqual(h['CacheControl'], 'max-age=60')
                self.assertEqual(h['ContentDisposition'],
                                 'attachment; filename="s.txt"')
                self.assertEqual(h['ContentLanguage'], 'en')
                self.assertEqual(h['ContentEncoding'], 'identity')
                self.assertEqual(h['Expires'], self.SRC_META['Expires'])
                self.assertEqual(h['Metadata'],
                                 {'colour': 'blue', 'size': 'large'})

    def test_metadata_directive_replace(self):
        self.put('meta/src2', b'metadata', **self.SRC_META)
        self.copy('meta/src2', 'meta/replaced', MetadataDirective='REPLACE',
                  ContentType='text/x-new', Metadata={'colour': 'red'})
        h = self.s3.head_object(Bucket=self.bucket, Key='meta/replaced')
        self.assertEqual(h['ContentType'], 'text/x-new')
        self.assertEqual(h['Metadata'], {'colour': 'red'})
        for k in ('CacheControl', 'ContentDisposition', 'ContentLanguage',
                  'ContentEncoding', 'Expires'):
            self.assertNotIn(k, h)
        self.assertEqual(self.get('meta/replaced')['Body'].read(), b'metadata')
        # The source is untouched.
        h = self.s3.head_object(Bucket=self.bucket, Key='meta/src2')
        self.assertEqual(h['Metadata'], {'colour': 'blue', 'size': 'large'})

    def test_metadata_errors(self):
        self.put('meta/src3', b'm')
        self.assertS3Error('InvalidArgument', 400, self.copy, 'meta/src3',
                           'meta/bad', MetadataDirective='MERGE')
        self.assertS3Error('InvalidArgument', 400, self.copy, 'meta/src3',
                           'meta/bad', TaggingDirective='MERGE')
        self.assertS3Error('MetadataTooLarge', 400, self.copy, 'meta/src3',
                           'meta/bad', MetadataDirective='REPLACE',
                           Metadata={'big': 'v' * 2100})
        self.assertS3Error('NoSuchKey', 404, self.get, 'meta/bad')

    # --- Onto itself -----------------------------------------------------

    MESSAGE = ("This copy request is illegal because it is trying to copy an "
               "object to itself without changing the object's metadata, "
               "storage class, website redirect location or encryption "
               "attributes.")

    def test_copy_onto_itself(self):
        data = os.urandom(2 * MiB + 1)
        self.put('self/obj', data, Metadata={'v': '1'})
        before = self.server.chunk_files()
        for extra in ({}, {'MetadataDirective': 'COPY'},
                      {'StorageClass': 'STANDARD'}):
            with self.subTest(extra=extra):
                resp = self.assertS3Error('InvalidRequest', 400, self.copy,
                                          'self/obj', 'self/obj', **extra)
                self.assertEqual(resp['Error']['Message'], self.MESSAGE)

        r = self.copy('self/obj', 'self/obj', MetadataDirective='REPLACE',
                      Metadata={'v': '2'}, ContentType='text/plain')
        self.assertEqual(r['CopyObjectResult']['ETag'], etag_of(data))
        h = self.s3.head_object(Bucket=self.bucket, Key='self/obj')
        self.assertEqual((h['Metadata'], h['ContentType']),
                         ({'v': '2'}, 'text/plain'))

        # A new storage class, or new tags, are a change too.
        self.copy('self/obj', 'self/obj', StorageClass='REDUCED_REDUNDANCY')
        h = self.s3.head_object(Bucket=self.bucket, Key='self/obj')
        self.assertEqual(h.get('StorageClass'), 'REDUCED_REDUNDANCY')
        self.assertEqual(h['Metadata'], {'v': '2'})
        self.copy('self/obj', 'self/obj', TaggingDirective='REPLACE',
                  Tagging='a=b')

        self.assertEqual(self.get('self/obj')['Body'].read(), data)
        self.assertEqual(self.server.chunk_files(), before)
        time.sleep(0.5)     # several collector rounds
        self.assertEqual(self.server.chunk_files(), before)
        self.assertEqual(self.get('self/obj')['Body'].read(), data)

    # --- Conditions ------------------------------------------------------

    def test_conditions(self):
        data = b'conditional source'
        self.put('cond/src', data)
        mtime = self.s3.head_object(Bucket=self.bucket,
                                    Key='cond/src')['LastModified']
        time.sleep(2.1)     # so that "after mtime" is also "not after now"
        etag, other = etag_of(data), etag_of(b'something else')
        before = mtime - datetime.timedelta(days=1)
        after = mtime + datetime.timedelta(seconds=1)
        cases = [
            ({'CopySourceIfMatch': etag}, True),
            ({'CopySourceIfMatch': etag.strip('"')}, True),
            ({'CopySourceIfMatch': '*'}, True),
            ({'CopySourceIfMatch': other}, False),
            ({'CopySourceIfMatch': '%s, %s' % (other, etag)}, True),
            ({'CopySourceIfNoneMatch': other}, True),
            ({'CopySourceIfNoneMatch': etag}, False),
            ({'CopySourceIfNoneMatch': '*'}, False),
            ({'CopySourceIfModifiedSince': before}, True),
            ({'CopySourceIfModifiedSince': after}, False),
            ({'CopySourceIfUnmodifiedSince': after}, True),
            ({'CopySourceIfUnmodifiedSince': before}, False),
            # S3's combined rules: a matching If-Match beats a failing
            # If-Unmodified-Since; a failing If-None-Match beats a passing
            # If-Modified-Since.
            ({'CopySourceIfMatch': etag,
              'CopySourceIfUnmodifiedSince': before}, True),
            ({'CopySourceIfNoneMatch': etag,
              'CopySourceIfModifiedSince': before}, False),
            ({'CopySourceIfNoneMatch': other,
              'CopySourceIfModifiedSince': after}, True),
            ({'CopySourceIfMatch': other,
              'CopySourceIfUnmodifiedSince': after}, False),
        ]
        for i, (cond, ok) in enumerate(cases):
            with self.subTest(cond=cond):
                key = 'cond/dst%d' % i
                if ok:
                    r = self.copy('cond/src', key, **cond)
                    self.assertEqual(r['CopyObjectResult']['ETag'], etag)
                    self.assertEqual(self.get(key)['Body'].read(), data)
                else:
                    self.assertS3Error('PreconditionFailed', 412, self.copy,
                                       'cond/src', key, **cond)
                    self.assertS3Error('NoSuchKey', 404, self.get, key)

    def test_condition_date_in_future_is_ignored(self):
        self.put('cond/future', b'f')
        future = utcnow() + datetime.timedelta(days=1)
        self.copy('cond/future', 'cond/future.copy',
                  CopySourceIfModifiedSince=future)
        self.assertEqual(self.get('cond/future.copy')['Body'].read(), b'f')

    # --- The source header ---------------------------------------------

    def test_encoded_source_keys(self):
        keys = ['with space.txt', 'plus+sign.txt', 'ünïcödé/日本語.bin',
                'q?uestion&amp=1.txt', '%41 percent', 'tab\tand~tilde',
                'a/../b', 'x' * 1000]
        for i, key in enumerate(keys):
            with self.subTest(key=key[:40]):
                data = ('data of %r' % key).encode()
                self.put(key, data)
                self.copy(key, 'enc/%d' % i)
                self.assertEqual(self.get('enc/%d' % i)['Body'].read(), data)
                # And the other way round: an awkward destination key.
                self.copy('enc/%d' % i, key + '.copy')
                self.assertEqual(self.get(key + '.copy')['Body'].read(), data)

    def test_raw_source_forms(self):
        self.put('raw dir/a+b ü', b'raw forms')
        enc = s3_quote('raw dir/a+b ü').replace('+', '%2B')
        for i, source in enumerate([
                '%s/%s' % (self.bucket, enc),
                '/%s/%s' % (self.bucket, enc),
                '/%s/%s?versionId=null' % (self.bucket, enc)]):
            with self.subTest(source=source):
                r = self.raw_copy('raw/%d' % i, source)
                self.assertEqual(r.status, 200, r)
                self.assertEqual(self.get('raw/%d' % i)['Body'].read(),
                                 b'raw forms')
        # A literal '+' is a plus, not a space (as in the request path).
        self.put('lit+plus', b'plus')
        r = self.raw_copy('raw/plus', '/%s/lit+plus' % self.bucket)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(self.get('raw/plus')['Body'].read(), b'plus')

        for source in ('', '/', self.bucket, '/%s' % self.bucket,
                       '/%s/' % self.bucket, '//key', '%s/bad%%zzenc' %
                       self.bucket):
            with self.subTest(source=source):
                self.assertRawError(self.raw_copy('raw/bad', source), 400,
                                    'InvalidArgument')

    def test_version_id(self):
        self.put('ver/src', b'versions')
        # "null" is the version of an object in an unversioned bucket.
        r = self.s3.copy_object(
            Bucket=self.bucket, Key='ver/null',
            CopySource={'Bucket': self.bucket, 'Key': 'ver/src',
                        'VersionId': 'null'})
        self.assertEqual(r['CopyObjectResult']['ETag'], etag_of(b'versions'))
        resp = self.assertS3Error(
            'InvalidArgument', 400, self.s3.copy_object, Bucket=self.bucket,
            Key='ver/dst', CopySource={'Bucket': self.bucket,
                                       'Key': 'ver/src',
                                       'VersionId': '3HL4kqtJlcpXroDTDmJ'})
        self.assertIn('version', resp['Error']['Message'])
        self.assertS3Error('NoSuchKey', 404, self.get, 'ver/dst')

    def test_missing_source(self):
        self.assertS3Error('NoSuchKey', 404, self.copy, 'no/such/key', 'x')
        self.assertS3Error('NoSuchBucket', 404, self.copy, 'k', 'x',
                           src_bucket=unique_name('nosuchbucket'))
        self.assertS3Error('NoSuchKey', 404, self.get, 'x')

    def test_other_users_buckets(self):
        bob = self.server.boto3_client('bob')
        theirs = self.new_bucket(client=bob, hint='bobs')
        bob.put_object(Bucket=theirs, Key='secret', Body=b'bob only')
        self.put('mine', b'admin')
        # Reading from someone else's bucket...
        self.assertS3Error('AccessDenied', 403, self.copy, 'secret', 'stolen',
                           src_bucket=theirs)
        self.assertS3Error('NoSuchKey', 404, self.get, 'stolen')
        # ...and writing into it.
        self.assertS3Error('AccessDenied', 403, self.copy, 'mine', 'planted',
                           dst_bucket=theirs)
        self.assertS3Error('NoSuchBucket', 404, self.copy, 'mine', 'x',
                           dst_bucket=unique_name('nosuchdst'))

    # --- Storage class ---------------------------------------------------

    def test_storage_class(self):
        self.put('sc/src', b'classy')
        self.copy('sc/src', 'sc/rr', StorageClass='REDUCED_REDUNDANCY')
        h = self.s3.head_object(Bucket=self.bucket, Key='sc/rr')
        self.assertEqual(h.get('StorageClass'), 'REDUCED_REDUNDANCY')
        # A copy is STANDARD unless it says otherwise, whatever its source.
        self.copy('sc/rr', 'sc/std')
        h = self.s3.head_object(Bucket=self.bucket, Key='sc/std')
        self.assertNotIn('StorageClass', h)
        self.copy('sc/rr', 'sc/std2', StorageClass='STANDARD')
        h = self.s3.head_object(Bucket=self.bucket, Key='sc/std2')
        self.assertNotIn('StorageClass', h)
        self.assertS3Error('InvalidStorageClass', 400, self.copy, 'sc/src',
                           'sc/bad', StorageClass='GLACIER_NOPE')

    # --- Chunk lifetimes -------------------------------------------------

    def wait_for(self, pred, timeout=15.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if pred():
                return True
            time.sleep(0.05)
        return pred()

    def test_source_deleted_then_copy_deleted(self):
        data = os.urandom(2 * MiB + 777)
        mine = {hashlib.sha256(data[i:i + MiB]).hexdigest()
                for i in range(0, len(data), MiB)}
        self.put('life/src', data)
        self.copy('life/src', 'life/copy')
        self.copy('life/src', 'life/copy2', MetadataDirective='REPLACE')
        self.s3.delete_object(Bucket=self.bucket, Key='life/src')
        time.sleep(0.5)     # several collector rounds
        self.assertTrue(mine <= self.chunk_names())
        self.assertEqual(self.get('life/copy')['Body'].read(), data)
        self.s3.delete_object(Bucket=self.bucket, Key='life/copy')
        time.sleep(0.5)
        self.assertTrue(mine <= self.chunk_names())
        self.assertEqual(self.get('life/copy2')['Body'].read(), data)
        self.s3.delete_object(Bucket=self.bucket, Key='life/copy2')
        self.assertTrue(self.wait_for(lambda: not mine & self.chunk_names()),
                        'chunks of deleted copies were not reclaimed')

    def test_copy_survives_restart(self):
        data = os.urandom(MiB + 3)
        self.put('restart/src', data, Metadata={'k': 'v'})
        self.copy('restart/src', 'restart/copy')
        self.s3.delete_object(Bucket=self.bucket, Key='restart/src')
        self.server.restart()
        g = self.get('restart/copy')
        self.assertEqual(g['Body'].read(), data)
        self.assertEqual(g['Metadata'], {'k': 'v'})

    def test_client_gone_before_the_answer(self):
        data = os.urandom(MiB + 1)
        self.put('gone/src', data)
        for i in range(20):
            path = '/%s/gone/dst%d' % (self.bucket, i)
            hdrs = self.server.sign('PUT', path, {
                'x-amz-copy-source': '%s/gone/src' % self.bucket})
            c = self.server.conn()
            c.send(build_request('PUT', path, hdrs, b''))
            c.close()
        # The commits go on without anyone to answer.
        keys = {'gone/dst%d' % i for i in range(20)}
        listed = lambda: {o['Key'] for o in self.s3.list_objects_v2(
            Bucket=self.bucket, Prefix='gone/dst').get('Contents', [])}
        self.assertTrue(self.wait_for(lambda: listed() == keys), listed())
        self.assertEqual(self.get('gone/dst19')['Body'].read(), data)

    # --- Clients ---------------------------------------------------------

    def ok(self, proc):
        self.assertEqual(proc.returncode, 0,
                         'exit %d\nstdout: %s\nstderr: %s'
                         % (proc.returncode, proc.stdout[-2000:],
                            proc.stderr[-2000:]))
        return proc.stdout

    def test_aws_cli_cp(self):
        a = self.new_bucket(hint='cli-a')
        b = self.new_bucket(hint='cli-b')
        data = os.urandom(3 * MiB + 5)
        self.put('x y', data, bucket=a, Metadata={'m': '1'})
        before = self.server.chunk_files()
        self.ok(self.server.aws('s3', 'cp', 's3://%s/x y' % a,
                                's3://%s/copied/y' % b))
        self.assertEqual(self.server.chunk_files(), before)
        g = self.get('copied/y', bucket=b)
        self.assertEqual(g['Body'].read(), data)
        self.assertEqual(g['Metadata'], {'m': '1'})
        out = self.ok(self.server.aws('s3api', 'copy-object', '--bucket', b,
                                      '--key', 'api', '--copy-source',
                                      '%s/x y' % a))
        self.assertIn(etag_of(data).strip('"'), out)
        self.assertEqual(self.get('api', bucket=b)['Body'].read(), data)

    def test_s3cmd_cp(self):
        a = self.new_bucket(hint='s3cmd-a')
        b = self.new_bucket(hint='s3cmd-b')
        data = os.urandom(MiB + 5)
        self.put('src.bin', data, bucket=a)
        before = self.server.chunk_files()
        self.ok(self.server.s3cmd('cp', 's3://%s/src.bin' % a,
                                  's3://%s/dst.bin' % b))
        self.assertEqual(self.server.chunk_files(), before)
        self.assertEqual(self.get('dst.bin', bucket=b)['Body'].read(), data)
        self.ok(self.server.s3cmd('cp', 's3://%s/src.bin' % a,
                                  's3://%s/again.bin' % a))
        self.assertEqual(self.get('again.bin', bucket=a)['Body'].read(), data)


if __name__ == '__main__':
    unittest.main()
