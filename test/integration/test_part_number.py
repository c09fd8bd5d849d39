"""GetObject and HeadObject with ?partNumber=N, as S3 answers them: a
single-part object is one part (part 1 is the whole object, as a 206 with
Content-Range, and no x-amz-mp-parts-count); a multipart object's part N is
its bytes with the whole object's ETag and x-amz-mp-parts-count; a part past
the last is 416 InvalidPartNumber (test_multipart.py has the rest)."""

from harness import MiB, S3gwTestCase, etag_of


class PartNumberTest(S3gwTestCase):

    def test_single_part_object(self):
        b = self.new_bucket(hint='partno')
        for key, data in (('small', b'0123456789'),
                          ('chunked', b'z' * (2 * MiB + 3))):
            with self.subTest(key=key):
                self.s3.put_object(Bucket=b, Key=key, Body=data)
                g = self.s3.get_object(Bucket=b, Key=key, PartNumber=1)
                self.assertEqual(g['ResponseMetadata']['HTTPStatusCode'], 206)
                self.assertEqual(g['ContentRange'],
                                 'bytes 0-%d/%d' % (len(data) - 1, len(data)))
                self.assertEqual(g['ETag'], etag_of(data))
                self.assertNotIn('PartsCount', g)
                self.assertEqual(g['Body'].read(), data)
                h = self.s3.head_object(Bucket=b, Key=key, PartNumber=1)
                self.assertEqual(h['ResponseMetadata']['HTTPStatusCode'], 206)
                self.assertEqual(h['ContentLength'], len(data))
                self.assertNotIn('PartsCount', h)
                self.assertS3Error('InvalidPartNumber', 416,
                                   self.s3.get_object, Bucket=b, Key=key,
                                   PartNumber=2)
                self.assertS3Error(None, 416, self.s3.head_object, Bucket=b,
                                   Key=key, PartNumber=2)

    def test_multipart_object_raw(self):
        b = self.new_bucket(hint='partno')
        uid = self.s3.create_multipart_upload(Bucket=b, Key='mp')['UploadId']
        datas = [b'a' * (5 * MiB), b'tail']
        parts = [{'PartNumber': n, 'ETag': self.s3.upload_part(
            Bucket=b, Key='mp', UploadId=uid, PartNumber=n,
            Body=d)['ETag']} for n, d in enumerate(datas, 1)]
        etag = self.s3.complete_multipart_upload(
            Bucket=b, Key='mp', UploadId=uid,
            MultipartUpload={'Parts': parts})['ETag']
        r = self.server.signed('HEAD', '/%s/mp?partNumber=2' % b)
        self.assertEqual(r.status, 206)
        self.assertEqual(r.header('x-amz-mp-parts-count'), '2')
        self.assertEqual(r.header('ETag'), etag)
        self.assertEqual(r.header('Content-Range'),
                         'bytes %d-%d/%d' % (5 * MiB, 5 * MiB + 3, 5 * MiB + 4))
        self.assertEqual(r.header('Content-Length'), '4')
        # Anonymous: denied as a plain GET is.
        r = self.server.http('GET', '/%s/mp?partNumber=1' % b)
        self.assertRawError(r, 403, 'AccessDenied')
