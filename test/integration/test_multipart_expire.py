"""multipart_expire: uploads left neither completed nor aborted are aborted
by the collector once they are older than the configured age, and their
parts' chunk files are reclaimed; younger uploads and finished objects are
left alone."""

import os
import time

from harness import MiB, S3gwTestCase, unique_name


class MultipartExpireTest(S3gwTestCase):

    conf = {'chunk_size': '1m', 'gc_interval': '100ms',
            'multipart_expire': '2s'}

    def test_stale_uploads_are_aborted_and_reclaimed(self):
        bucket = unique_name('expire')
        self.s3.create_bucket(Bucket=bucket)
        base = set(self.server.chunk_files())

        stale = self.s3.create_multipart_upload(Bucket=bucket, Key='stale')
        self.s3.upload_part(Bucket=bucket, Key='stale', PartNumber=1,
                            UploadId=stale['UploadId'],
                            Body=os.urandom(3 * MiB))
        # A finished object made the same way must survive the sweep.
        done = self.s3.create_multipart_upload(Bucket=bucket, Key='done')
        p = self.s3.upload_part(Bucket=bucket, Key='done', PartNumber=1,
                                UploadId=done['UploadId'],
                                Body=b'kept' * 1000)
        self.s3.complete_multipart_upload(
            Bucket=bucket, Key='done', UploadId=done['UploadId'],
            MultipartUpload={'Parts': [{'PartNumber': 1, 'ETag': p['ETag']}]})
        self.assertGreater(len(set(self.server.chunk_files()) - base), 3)

        # Started later: still young when the first one expires.
        time.sleep(1.2)
        young = self.s3.create_multipart_upload(Bucket=bucket, Key='young')

        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            ids = [u['UploadId'] for u in self.s3.list_multipart_uploads(
                Bucket=bucket).get('Uploads', [])]
            if stale['UploadId'] not in ids:
                break
            time.sleep(0.1)
        self.assertNotIn(stale['UploadId'], ids)
        self.assertIn(young['UploadId'], ids)
        with self.assertRaises(self.s3.exceptions.NoSuchUpload):
            self.s3.list_parts(Bucket=bucket, Key='stale',
                               UploadId=stale['UploadId'])

        # The stale part's chunks go; the finished object's one stays.
        while time.monotonic() < deadline:
            if len(set(self.server.chunk_files()) - base) == 1:
                break
            time.sleep(0.1)
        self.assertEqual(len(set(self.server.chunk_files()) - base), 1)
        self.assertEqual(self.s3.get_object(Bucket=bucket, Key='done')
                         ['Body'].read(), b'kept' * 1000)
        self.s3.abort_multipart_upload(Bucket=bucket, Key='young',
                                       UploadId=young['UploadId'])
