"""UploadPartCopy: parts taken from another object's bytes by range. Whole
chunks inside a range are referenced as they are; only the partial chunks
at its ends are read and written again, so the number of new chunk files
is known exactly. Plus the range and source errors."""

import hashlib
import os

from harness import MiB, S3gwTestCase, unique_name


class PartCopyTest(S3gwTestCase):

    conf = {'chunk_size': '1m'}

    def setUp(self):
        super().setUp()
        self.bucket = unique_name('partcopy')
        self.s3.create_bucket(Bucket=self.bucket)
        self.data = os.urandom(5 * MiB + MiB // 2)      # 6 chunks of 1 MiB
        self.s3.put_object(Bucket=self.bucket, Key='src', Body=self.data)

    def part_copy(self, uid, n, rng=None, **kw):
        extra = {'CopySourceRange': rng} if rng else {}
        extra.update(kw)
        return self.s3.upload_part_copy(
            Bucket=self.bucket, Key='dst', UploadId=uid, PartNumber=n,
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
