"""UploadPartCopy: parts taken from another object's bytes by range. Whole
chunks inside a range are referenced as they are; only the partial chunks
at its ends are read and written again, so the number of new chunk files
is known exactly. Plus the range and source errors. A part's ETag is the MD5 of its bytes
(the completed object's ETag is made of them), whatever the source: chunk
files or a small object kept inline in its record."""

import base64
import hashlib
import json
import os
import zlib

from harness import MiB, S3gwTestCase, etag_of, unique_name


def mp_etag(parts):
    h = hashlib.md5(b''.join(hashlib.md5(p).digest() for p in parts))
    return '"%s-%d"' % (h.hexdigest(), len(parts))


class PartCopyTest(S3gwTestCase):

    conf = {'chunk_size': '1m'}

    def setUp(self):
        super().setUp()
        self.bucket = unique_name('partcopy')
        self.s3.create_bucket(Bucket=self.bucket)
        self.data = os.urandom(5 * MiB + MiB // 2)      # 6 chunks of 1 MiB
        self.s3.put_object(Bucket=self.bucket, Key='src', Body=self.data)

    def part_copy(self, uid, n, rng=None, key='dst', **kw):
        extra = {'CopySourceRange': rng} if rng else {}
        extra.update(kw)
        return self.s3.upload_part_copy(
            Bucket=self.bucket, Key=key, UploadId=uid, PartNumber=n,
            CopySource={'Bucket': self.bucket, 'Key': 'src'}, **extra)

    def assemble(self, key, ranges):
        """Copies ranges of src as the parts of key; returns the chunk files
        the parts added and the completion's ETag."""
        before = set(self.server.chunk_files())
        uid = self.s3.create_multipart_upload(Bucket=self.bucket,
                                              Key=key)['UploadId']
        parts = []
        for n, (a, b) in enumerate(ranges, 1):
            r = self.s3.upload_part_copy(
                Bucket=self.bucket, Key=key, UploadId=uid, PartNumber=n,
                CopySource={'Bucket': self.bucket, 'Key': 'src'},
                CopySourceRange='bytes=%d-%d' % (a, b))
            parts.append({'PartNumber': n,
                          'ETag': r['CopyPartResult']['ETag']})
        added = len(set(self.server.chunk_files()) - before)
        r = self.s3.complete_multipart_upload(
            Bucket=self.bucket, Key=key, UploadId=uid,
            MultipartUpload={'Parts': parts})
        want = b''.join(self.data[a:b + 1] for a, b in ranges)
        got = self.s3.get_object(Bucket=self.bucket, Key=key)['Body'].read()
        self.assertEqual(hashlib.sha256(got).digest(),
                         hashlib.sha256(want).digest())
        return added, r['ETag']

    def test_ranges_inside_chunks(self):
        # Part 1 starts and ends inside chunks: both ends are re-chunked.
        # Part 2 is exactly chunk 1: referenced, nothing new.
        added, etag = self.assemble('a', [(100, 100 + 5 * MiB - 1),
                                          (MiB, 2 * MiB - 1)])
        self.assertEqual(added, 2)
        self.assertTrue(etag.endswith('-2"'), etag)
        g = self.s3.get_object(Bucket=self.bucket, Key='a', PartNumber=2)
        self.assertEqual(g['Body'].read(), self.data[MiB:2 * MiB])
        # A few bytes inside one chunk: one new chunk.
        added, _ = self.assemble('b', [(7, 9)])
        self.assertEqual(added, 1)

    def test_whole_object_without_range(self):
        uid = self.s3.create_multipart_upload(Bucket=self.bucket,
                                              Key='dst')['UploadId']
        before = set(self.server.chunk_files())
        r = self.part_copy(uid, 1)
        self.assertEqual(set(self.server.chunk_files()), before)
        self.s3.complete_multipart_upload(
            Bucket=self.bucket, Key='dst', UploadId=uid,
            MultipartUpload={'Parts': [
                {'PartNumber': 1, 'ETag': r['CopyPartResult']['ETag']}]})
        got = self.s3.get_object(Bucket=self.bucket, Key='dst')['Body'].read()
        self.assertEqual(got, self.data)

    def test_etags_are_md5_of_bytes(self):
        # Ranges that cut chunks, whole chunks and a few bytes: each part's
        # ETag is the MD5 of its bytes, the object's the multipart ETag of
        # the parts it is made of.
        ranges = [(100, 100 + 5 * MiB - 1), (MiB, 2 * MiB - 1), (7, 9)]
        uid = self.s3.create_multipart_upload(Bucket=self.bucket,
                                              Key='md5')['UploadId']
        parts = []
        for n, (a, b) in enumerate(ranges, 1):
            r = self.part_copy(uid, n, 'bytes=%d-%d' % (a, b), key='md5')
            self.assertEqual(r['CopyPartResult']['ETag'],
                             etag_of(self.data[a:b + 1]))
            parts.append({'PartNumber': n,
                          'ETag': r['CopyPartResult']['ETag']})
        r = self.s3.complete_multipart_upload(
            Bucket=self.bucket, Key='md5', UploadId=uid,
            MultipartUpload={'Parts': [parts[0], parts[2]]})
        want = mp_etag([self.data[a:b + 1] for a, b in (ranges[0],
                                                        ranges[2])])
        self.assertEqual(r['ETag'], want)
        self.assertEqual(self.s3.head_object(Bucket=self.bucket,
                                             Key='md5')['ETag'], want)

    def copy_from(self, key, uid, n, src, rng=None):
        extra = {'CopySourceRange': rng} if rng else {}
        return self.s3.upload_part_copy(
            Bucket=self.bucket, Key=key, UploadId=uid, PartNumber=n,
            CopySource={'Bucket': self.bucket, 'Key': src},
            **extra)['CopyPartResult']['ETag']

    def complete(self, key, uid, etags):
        return self.s3.complete_multipart_upload(
            Bucket=self.bucket, Key=key, UploadId=uid,
            MultipartUpload={'Parts': [{'PartNumber': n, 'ETag': e}
                                       for n, e in enumerate(etags, 1)]})

    def test_inline_source(self):
        # A source of a few bytes lives in its record: it is copied too.
        small = b'0123456789' * 100
        self.s3.put_object(Bucket=self.bucket, Key='small', Body=small)
        self.s3.put_object(Bucket=self.bucket, Key='empty', Body=b'')
        new = self.s3.create_multipart_upload
        uid = new(Bucket=self.bucket, Key='mix')['UploadId']
        e1 = self.copy_from('mix', uid, 1, 'src', 'bytes=0-%d' % (5 * MiB - 1))
        e2 = self.copy_from('mix', uid, 2, 'small')
        self.assertEqual(e2, etag_of(small))
        listed = self.s3.list_parts(Bucket=self.bucket, Key='mix',
                                    UploadId=uid)['Parts']
        self.assertEqual([(p['PartNumber'], p['Size']) for p in listed],
                         [(1, 5 * MiB), (2, 1000)])
        r = self.complete('mix', uid, [e1, e2])
        datas = [self.data[:5 * MiB], small]
        self.assertEqual(r['ETag'], mp_etag(datas))
        got = self.s3.get_object(Bucket=self.bucket, Key='mix')['Body'].read()
        self.assertEqual(got, b''.join(datas))
        g = self.s3.get_object(Bucket=self.bucket, Key='mix', PartNumber=2)
        self.assertEqual(g['Body'].read(), small)
        # A range of it, and an empty source.
        uid = new(Bucket=self.bucket, Key='mix2')['UploadId']
        e = self.copy_from('mix2', uid, 1, 'small', 'bytes=10-29')
        self.assertEqual(e, etag_of(small[10:30]))
        self.assertEqual(self.complete('mix2', uid, [e])['ETag'],
                         mp_etag([small[10:30]]))
        self.assertEqual(self.s3.get_object(Bucket=self.bucket, Key='mix2')
                         ['Body'].read(), small[10:30])
        uid = new(Bucket=self.bucket, Key='mix3')['UploadId']
        e = self.copy_from('mix3', uid, 1, 'empty')
        self.assertEqual(e, etag_of(b''))
        self.assertEqual(self.complete('mix3', uid, [e])['ETag'],
                         mp_etag([b'']))

    def test_upload_with_checksum(self):
        # The part carries the upload's checksum, so completion combines it.
        uid = self.s3.create_multipart_upload(
            Bucket=self.bucket, Key='ck', ChecksumAlgorithm='CRC32')['UploadId']
        r = self.part_copy(uid, 1, 'bytes=5-1048580', key='ck')
        want = base64.b64encode(
            zlib.crc32(self.data[5:1048581]).to_bytes(4, 'big')).decode()
        self.assertEqual(r['CopyPartResult']['ChecksumCRC32'], want)
        self.s3.complete_multipart_upload(
            Bucket=self.bucket, Key='ck', UploadId=uid,
            MultipartUpload={'Parts': [
                {'PartNumber': 1, 'ETag': r['CopyPartResult']['ETag'],
                 'ChecksumCRC32': want}]})
        got = self.s3.get_object(Bucket=self.bucket, Key='ck')['Body'].read()
        self.assertEqual(got, self.data[5:1048581])

    def test_cli(self):
        self.s3.put_object(Bucket=self.bucket, Key='tiny', Body=b'tiny bytes')
        uid = self.s3.create_multipart_upload(Bucket=self.bucket,
                                              Key='dst')['UploadId']
        p = self.server.aws('s3api', 'upload-part-copy', '--bucket',
                            self.bucket, '--key', 'dst', '--upload-id', uid,
                            '--part-number', '1', '--copy-source',
                            '%s/tiny' % self.bucket)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(json.loads(p.stdout)['CopyPartResult']['ETag'],
                         etag_of(b'tiny bytes'))
        p = self.server.aws('s3api', 'upload-part-copy', '--bucket',
                            self.bucket, '--key', 'dst', '--upload-id', uid,
                            '--part-number', '2', '--copy-source',
                            '%s/tiny' % self.bucket, '--copy-source-range',
                            'bytes=20-30')
        self.assertNotEqual(p.returncode, 0)
        self.assertIn('InvalidRange', p.stderr)

    def test_range_beyond_the_source(self):
        uid = self.s3.create_multipart_upload(Bucket=self.bucket,
                                              Key='dst')['UploadId']
        n = len(self.data)
        # The first byte past the end: nothing to copy, 416.
        for rng in ('bytes=%d-%d' % (n, n + 10), 'bytes=%d-%d' % (n + 5,
                                                                  n + 5)):
            with self.subTest(rng=rng):
                with self.assertRaises(self.s3.exceptions.ClientError) as cm:
                    self.part_copy(uid, 1, rng)
                e = cm.exception.response
                self.assertEqual((e['ResponseMetadata']['HTTPStatusCode'],
                                  e['Error']['Code']), (416, 'InvalidRange'))
        # The last byte past the end: 400 InvalidArgument naming the size.
        with self.assertRaises(self.s3.exceptions.ClientError) as cm:
            self.part_copy(uid, 1, 'bytes=0-%d' % n)
        e = cm.exception.response
        self.assertEqual(e['Error']['Code'], 'InvalidArgument')
        self.assertIn(str(n), e['Error']['Message'])
        self.s3.abort_multipart_upload(Bucket=self.bucket, Key='dst',
                                       UploadId=uid)

    def test_errors(self):
        uid = self.s3.create_multipart_upload(Bucket=self.bucket,
                                              Key='dst')['UploadId']
        for rng in ('bytes=0-%d' % len(self.data), 'bytes=5-4', 'bytes=-5',
                    'bytes=5-', 'items=0-1'):
            with self.subTest(rng=rng):
                with self.assertRaises(self.s3.exceptions.ClientError) as cm:
                    self.part_copy(uid, 1, rng)
                self.assertEqual(cm.exception.response['Error']['Code'],
                                 'InvalidArgument')
        with self.assertRaises(self.s3.exceptions.ClientError) as cm:
            self.s3.upload_part_copy(
                Bucket=self.bucket, Key='dst', UploadId=uid, PartNumber=1,
                CopySource={'Bucket': self.bucket, 'Key': 'missing'})
        self.assertEqual(cm.exception.response['Error']['Code'], 'NoSuchKey')
        with self.assertRaises(self.s3.exceptions.ClientError) as cm:
            self.part_copy(uid, 1, 'bytes=0-9',
                           CopySourceIfMatch='"%s"' % ('0' * 32))
        self.assertEqual(
            cm.exception.response['ResponseMetadata']['HTTPStatusCode'], 412)
        self.s3.abort_multipart_upload(Bucket=self.bucket, Key='dst',
                                       UploadId=uid)
