"""CompleteMultipartUpload retried after it succeeded (clients retry on a
timeout): the same 200 answer while the key still holds that upload's
object, NoSuchUpload once it does not. And a part number uploaded by two
clients at once: the upload that commits last is the part, for ListParts
and for Complete alike."""

import json
import os
import tempfile
import threading

from harness import S3gwTestCase, etag_of


class CompleteRetryTest(S3gwTestCase):

    def setUp(self):
        super().setUp()
        self.b = self.new_bucket(hint='mpretry')

    def upload(self, key, parts):
        uid = self.s3.create_multipart_upload(Bucket=self.b,
                                              Key=key)['UploadId']
        done = []
        for n, data in enumerate(parts, 1):
            e = self.s3.upload_part(Bucket=self.b, Key=key, UploadId=uid,
                                    PartNumber=n, Body=data)['ETag']
            done.append({'PartNumber': n, 'ETag': e})
        return uid, done

    def complete(self, key, uid, parts):
        return self.s3.complete_multipart_upload(
            Bucket=self.b, Key=key, UploadId=uid,
            MultipartUpload={'Parts': parts})

    def test_retry_answers_the_same(self):
        uid, parts = self.upload('k', [b'a' * (5 << 20), b'tail'])
        first = self.complete('k', uid, parts)
        again = self.complete('k', uid, parts)
        for f in ('ETag', 'Bucket', 'Key', 'Location'):
            self.assertEqual(again[f], first[f], f)
        self.assertTrue(first['ETag'].endswith('-2"'))
        # A retry that lists other parts still gets the first answer: the
        # object is made; nothing changes.
        again = self.complete('k', uid, parts[:1])
        self.assertEqual(again['ETag'], first['ETag'])
        self.assertEqual(self.s3.head_object(Bucket=self.b, Key='k')['ETag'],
                         first['ETag'])
        # Once the key holds another object, the upload is simply gone.
        self.s3.put_object(Bucket=self.b, Key='k', Body=b'new')
        self.assertS3Error('NoSuchUpload', 404, self.complete, 'k', uid,
                           parts)
        # ... and after a delete; and under another key.
        uid, parts = self.upload('d', [b'x'])
        self.complete('d', uid, parts)
        self.assertS3Error('NoSuchUpload', 404, self.complete, 'd2', uid,
                           parts)
        self.s3.delete_object(Bucket=self.b, Key='d')
        self.assertS3Error('NoSuchUpload', 404, self.complete, 'd', uid,
                           parts)

    def test_retry_after_copy_onto_itself(self):
        # A copy makes a new object, which no upload completed.
        uid, parts = self.upload('c', [b'x'])
        self.complete('c', uid, parts)
        self.s3.copy_object(Bucket=self.b, Key='c',
                            CopySource={'Bucket': self.b, 'Key': 'c'},
                            MetadataDirective='REPLACE')
        self.assertS3Error('NoSuchUpload', 404, self.complete, 'c', uid,
                           parts)

    def test_retry_cli(self):
        uid, parts = self.upload('cli', [b'cli part'])
        with tempfile.NamedTemporaryFile('w', suffix='.json',
                                         delete=False) as f:
            json.dump({'Parts': parts}, f)
        try:
            outs = []
            for _ in range(2):
                p = self.server.aws('s3api', 'complete-multipart-upload',
                                    '--bucket', self.b, '--key', 'cli',
                                    '--upload-id', uid, '--multipart-upload',
                                    'file://' + f.name)
                self.assertEqual(p.returncode, 0, p.stderr)
                outs.append(json.loads(p.stdout)['ETag'])
        finally:
            os.unlink(f.name)
        self.assertEqual(outs[0], outs[1])

    def test_retry_anonymous_and_unknown(self):
        uid, parts = self.upload('an', [b'x'])
        self.complete('an', uid, parts)
        body = ('<CompleteMultipartUpload><Part><PartNumber>1</PartNumber>'
                '<ETag>%s</ETag></Part></CompleteMultipartUpload>'
                % parts[0]['ETag']).encode()
        r = self.server.http('POST', '/%s/an?uploadId=%s' % (self.b, uid),
                             {'Content-Length': str(len(body))}, body)
        self.assertRawError(r, 403, 'AccessDenied')
        self.assertS3Error('NoSuchUpload', 404, self.complete, 'an',
                           'f' * 32, parts)


class SamePartRaceTest(S3gwTestCase):

    def test_last_commit_wins(self):
        b = self.new_bucket(hint='partrace')
        uid = self.s3.create_multipart_upload(Bucket=b, Key='k')['UploadId']
        n = 8
        datas = [os.urandom(64 << 10) for _ in range(n)]
        clients = [self.server.boto3_client() for _ in range(n)]
        etags = [None] * n
        go = threading.Barrier(n)

        def run(i):
            go.wait()
            etags[i] = clients[i].upload_part(Bucket=b, Key='k', UploadId=uid,
                                              PartNumber=1,
                                              Body=datas[i])['ETag']
        ts = [threading.Thread(target=run, args=(i,)) for i in range(n)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        self.assertEqual(etags, [etag_of(d) for d in datas])
        listed = self.s3.list_parts(Bucket=b, Key='k', UploadId=uid)['Parts']
        self.assertEqual(len(listed), 1)
        winner = etags.index(listed[0]['ETag'])
        # Every other upload of part 1 was replaced: Complete refuses it.
        for i in range(n):
            if etags[i] != etags[winner]:
                self.assertS3Error(
                    'InvalidPart', 400, self.s3.complete_multipart_upload,
                    Bucket=b, Key='k', UploadId=uid,
                    MultipartUpload={'Parts': [{'PartNumber': 1,
                                                'ETag': etags[i]}]})
        self.s3.complete_multipart_upload(
            Bucket=b, Key='k', UploadId=uid, MultipartUpload={'Parts': [
                {'PartNumber': 1, 'ETag': etags[winner]}]})
        got = self.s3.get_object(Bucket=b, Key='k')['Body'].read()
        self.assertEqual(got, datas[winner])


if __name__ == '__main__':
    import unittest
    unittest.main()
