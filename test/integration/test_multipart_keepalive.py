"""complete_keepalive: a CompleteMultipartUpload still working when it runs
out answers 200 at once, sends spaces, then its result document (or an
error document inside the 200, as S3 does). With complete_keepalive 0 every
completion takes that path, so clients must read both forms correctly."""

import hashlib
import os
import socket

from harness import MiB, S3gwTestCase, unique_name


class CompleteKeepaliveTest(S3gwTestCase):

    conf = {'complete_keepalive': '0'}

    def upload(self, bucket, key, sizes):
        up = self.s3.create_multipart_upload(Bucket=bucket, Key=key)
        parts, data = [], b''
        for n, size in enumerate(sizes, 1):
            body = os.urandom(size)
            r = self.s3.upload_part(Bucket=bucket, Key=key, PartNumber=n,
                                    UploadId=up['UploadId'], Body=body)
            parts.append({'PartNumber': n, 'ETag': r['ETag']})
            data += body
        return up['UploadId'], parts, data

    def test_boto3_reads_the_streamed_result(self):
        bucket = unique_name('keepalive')
        self.s3.create_bucket(Bucket=bucket)
        uid, parts, data = self.upload(bucket, 'k', [5 * MiB, 1234])
        r = self.s3.complete_multipart_upload(
            Bucket=bucket, Key='k', UploadId=uid,
            MultipartUpload={'Parts': parts})
        md5s = b''.join(bytes.fromhex(p['ETag'].strip('"')) for p in parts)
        self.assertEqual(r['ETag'],
                         '"%s-2"' % hashlib.md5(md5s).hexdigest())
        self.assertEqual(r['Key'], 'k')
        got = self.s3.get_object(Bucket=bucket, Key='k')['Body'].read()
        self.assertEqual(hashlib.sha256(got).digest(),
                         hashlib.sha256(data).digest())

    def test_error_found_by_the_commit_arrives_inside_a_200(self):
        bucket = unique_name('keepalive')
        self.s3.create_bucket(Bucket=bucket)
        uid, parts, _ = self.upload(bucket, 'small', [1000, 1000])
        # Raw, so that the 200-with-error form itself is asserted.
        body = ('<CompleteMultipartUpload>%s</CompleteMultipartUpload>' % ''.join(
            '<Part><PartNumber>%d</PartNumber><ETag>%s</ETag></Part>'
            % (p['PartNumber'], p['ETag']) for p in parts)).encode()
        r = self.server.signed('POST', '/%s/small?uploadId=%s' % (bucket, uid),
                               body=body)
        self.assertEqual(r.status, 200, r)
        self.assertIn(b'<Error><Code>EntityTooSmall</Code>', r.body)
        self.assertTrue(r.body.startswith(b'<?xml'), r.body[:60])
        # boto3 turns it into an error too.
        with self.assertRaises(self.s3.exceptions.ClientError) as cm:
            self.s3.complete_multipart_upload(
                Bucket=bucket, Key='small', UploadId=uid,
                MultipartUpload={'Parts': parts})
        self.assertEqual(cm.exception.response['Error']['Code'],
                         'EntityTooSmall')
        self.s3.abort_multipart_upload(Bucket=bucket, Key='small',
                                       UploadId=uid)
