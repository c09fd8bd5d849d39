"""Conditional writes and deletes, as S3 has them since 2024: PutObject and
CompleteMultipartUpload with If-Match (an ETag or "*") and If-None-Match
("*" only), DeleteObject with If-Match, x-amz-if-match-size and
x-amz-if-match-last-modified-time, DeleteObjects with <ETag>, <Size> and
<LastModifiedTime> per object. Every condition is decided inside the
commit, so of N concurrent writers on one condition exactly one wins."""

import base64
import hashlib
import threading

from harness import S3gwTestCase, etag_of




class ConditionalTest(S3gwTestCase):

    def setUp(self):
        super().setUp()
        self.b = self.new_bucket(hint='cond')

    def status(self, fn, **kw):
        """The HTTP status of a call that may fail, and its error code."""
        try:
            r = fn(**kw)
            return r['ResponseMetadata']['HTTPStatusCode'], None
        except self.s3.exceptions.ClientError as e:
            return (e.response['ResponseMetadata']['HTTPStatusCode'],
                    e.response['Error']['Code'])

    # --- PutObject -----------------------------------------------------------

    def test_put_if_match(self):
        b = self.b
        put = self.s3.put_object
        # An absent key: If-Match, with an ETag or "*", is 404 NoSuchKey.
        self.assertS3Error('NoSuchKey', 404, put, Bucket=b, Key='k',
                           Body=b'x', IfMatch=etag_of(b'x'))
        self.assertS3Error('NoSuchKey', 404, put, Bucket=b, Key='k',
                           Body=b'x', IfMatch='*')
        self.assertS3Error('NoSuchKey', 404, put, Bucket=b, Key='k',
                           Body=b'x', IfMatch='not-an-etag')
        put(Bucket=b, Key='k', Body=b'one')
        # A mismatch (or an ETag that cannot be one) is 412; the object stays.
        self.assertS3Error('PreconditionFailed', 412, put, Bucket=b, Key='k',
                           Body=b'two', IfMatch=etag_of(b'other'))
        self.assertS3Error('PreconditionFailed', 412, put, Bucket=b, Key='k',
                           Body=b'two', IfMatch='not-an-etag')
        self.assertEqual(self.s3.get_object(Bucket=b, Key='k')['Body'].read(),
                         b'one')
        # A match and "*" write.
        r = put(Bucket=b, Key='k', Body=b'two', IfMatch=etag_of(b'one'))
        self.assertEqual(r['ETag'], etag_of(b'two'))
        put(Bucket=b, Key='k', Body=b'three', IfMatch='*')
        self.assertEqual(self.s3.get_object(Bucket=b, Key='k')['Body'].read(),
                         b'three')

    def test_put_if_none_match(self):
        b = self.b
        put = self.s3.put_object
        put(Bucket=b, Key='k', Body=b'one', IfNoneMatch='*')
        self.assertS3Error('PreconditionFailed', 412, put, Bucket=b, Key='k',
                           Body=b'two', IfNoneMatch='*')
        # S3 takes only "*" here: an ETag is 501 NotImplemented.
        self.assertS3Error('NotImplemented', 501, put, Bucket=b, Key='k2',
                           Body=b'two', IfNoneMatch=etag_of(b'one'))

    def test_put_cli(self):
        b = self.b
        self.s3.put_object(Bucket=b, Key='c', Body=b'one')
        p = self.server.aws('s3api', 'put-object', '--bucket', b, '--key',
                            'c', '--if-match', '"%s"' % ('0' * 32))
        self.assertNotEqual(p.returncode, 0)
        self.assertIn('PreconditionFailed', p.stderr)
        p = self.server.aws('s3api', 'put-object', '--bucket', b, '--key',
                            'c', '--if-match', etag_of(b'one'))
        self.assertEqual(p.returncode, 0, p.stderr)

    def race(self, n, fn):
        """Runs fn(i) in n threads started together; returns the results."""
        out = [None] * n
        go = threading.Barrier(n)

        def run(i):
            go.wait()
            out[i] = fn(i)
        ts = [threading.Thread(target=run, args=(i,)) for i in range(n)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        return out

    def test_concurrent_if_none_match(self):
        n = 16
        clients = [self.server.boto3_client() for _ in range(n)]
        res = self.race(n, lambda i: self.status(
            clients[i].put_object, Bucket=self.b, Key='race',
            Body=b'writer %d' % i, IfNoneMatch='*'))
        wins = [i for i, (s, _) in enumerate(res) if s == 200]
        self.assertEqual(len(wins), 1, res)
        self.assertEqual(sorted(set(res) - {(200, None)}),
                         [(412, 'PreconditionFailed')])
        body = self.s3.get_object(Bucket=self.b, Key='race')['Body'].read()
        self.assertEqual(body, b'writer %d' % wins[0])

    def test_concurrent_if_match(self):
        n = 16
        self.s3.put_object(Bucket=self.b, Key='race', Body=b'base')
        clients = [self.server.boto3_client() for _ in range(n)]
        res = self.race(n, lambda i: self.status(
            clients[i].put_object, Bucket=self.b, Key='race',
            Body=b'writer %d' % i, IfMatch=etag_of(b'base')))
        wins = [i for i, (s, _) in enumerate(res) if s == 200]
        self.assertEqual(len(wins), 1, res)
        self.assertEqual(sorted(set(res) - {(200, None)}),
                         [(412, 'PreconditionFailed')])
        body = self.s3.get_object(Bucket=self.b, Key='race')['Body'].read()
        self.assertEqual(body, b'writer %d' % wins[0])

    # --- CompleteMultipartUpload ---------------------------------------------

    def complete(self, key, data, **cond):
        uid = self.s3.create_multipart_upload(Bucket=self.b,
                                              Key=key)['UploadId']
        e = self.s3.upload_part(Bucket=self.b, Key=key, UploadId=uid,
                                PartNumber=1, Body=data)['ETag']
        return uid, lambda: self.s3.complete_multipart_upload(
            Bucket=self.b, Key=key, UploadId=uid,
            MultipartUpload={'Parts': [{'PartNumber': 1, 'ETag': e}]}, **cond)

    def test_complete_if_match(self):
        _, done = self.complete('m', b'part', IfMatch='*')
        self.assertS3Error('NoSuchKey', 404, done)
        self.s3.put_object(Bucket=self.b, Key='m', Body=b'old')
        _, done = self.complete('m', b'part', IfMatch=etag_of(b'nope'))
        self.assertS3Error('PreconditionFailed', 412, done)
        _, done = self.complete('m', b'part', IfMatch='*')
        done()
        self.assertEqual(self.s3.get_object(Bucket=self.b,
                                            Key='m')['Body'].read(), b'part')
        etag = self.s3.head_object(Bucket=self.b, Key='m')['ETag']
        _, done = self.complete('m', b'part 2', IfMatch=etag)
        done()
        _, done = self.complete('m', b'part 3', IfNoneMatch='*')
        self.assertS3Error('PreconditionFailed', 412, done)

    # --- DeleteObject ----------------------------------------------------------

    def test_delete_if_match(self):
        b, d = self.b, self.s3.delete_object
        # A missing key: If-Match is 404; size and time alone delete nothing
        # and succeed, as S3 says.
        self.assertS3Error('NoSuchKey', 404, d, Bucket=b, Key='gone',
                           IfMatch='*')
        self.assertS3Error('NoSuchKey', 404, d, Bucket=b, Key='gone',
                           IfMatch=etag_of(b'x'))
        d(Bucket=b, Key='gone', IfMatchSize=3)
        self.s3.put_object(Bucket=b, Key='k', Body=b'abc')
        self.assertS3Error('PreconditionFailed', 412, d, Bucket=b, Key='k',
                           IfMatch=etag_of(b'abd'))
        self.s3.head_object(Bucket=b, Key='k')
        r = d(Bucket=b, Key='k', IfMatch=etag_of(b'abc'))
        self.assertEqual(r['ResponseMetadata']['HTTPStatusCode'], 204)
        self.assertS3Error(None, 404, self.s3.head_object, Bucket=b, Key='k')
        self.s3.put_object(Bucket=b, Key='k', Body=b'abc')
        d(Bucket=b, Key='k', IfMatch='*')
        self.assertS3Error(None, 404, self.s3.head_object, Bucket=b, Key='k')

    def test_delete_size_and_time(self):
        b, d = self.b, self.s3.delete_object
        self.s3.put_object(Bucket=b, Key='k', Body=b'abc')
        lm = self.s3.head_object(Bucket=b, Key='k')['LastModified']
        self.assertS3Error('PreconditionFailed', 412, d, Bucket=b, Key='k',
                           IfMatchSize=4)
        self.assertS3Error('PreconditionFailed', 412, d, Bucket=b, Key='k',
                           IfMatchLastModifiedTime=lm.replace(year=2001))
        self.assertS3Error('PreconditionFailed', 412, d, Bucket=b, Key='k',
                           IfMatchSize=3, IfMatch=etag_of(b'xyz'))
        self.s3.head_object(Bucket=b, Key='k')
        d(Bucket=b, Key='k', IfMatchSize=3, IfMatchLastModifiedTime=lm,
          IfMatch=etag_of(b'abc'))
        self.assertS3Error(None, 404, self.s3.head_object, Bucket=b, Key='k')
        # Values that are not a size or a time: 400 InvalidArgument.
        for h in ({'x-amz-if-match-size': 'ten'},
                  {'x-amz-if-match-last-modified-time': 'yesterday'}):
            with self.subTest(h=h):
                r = self.server.signed('DELETE', '/%s/k' % b, h)
                self.assertRawError(r, 400, 'InvalidArgument')

    def test_delete_cli_and_anonymous(self):
        b = self.b
        self.s3.put_object(Bucket=b, Key='c', Body=b'abc')
        p = self.server.aws('s3api', 'delete-object', '--bucket', b, '--key',
                            'c', '--if-match', etag_of(b'zzz'))
        self.assertNotEqual(p.returncode, 0)
        self.assertIn('PreconditionFailed', p.stderr)
        p = self.server.aws('s3api', 'delete-object', '--bucket', b, '--key',
                            'c', '--if-match', etag_of(b'abc'))
        self.assertEqual(p.returncode, 0, p.stderr)
        # Anonymous: denied before any condition is looked at.
        self.s3.put_object(Bucket=b, Key='c', Body=b'abc')
        r = self.server.http('DELETE', '/%s/c' % b,
                             {'If-Match': etag_of(b'abc')})
        self.assertRawError(r, 403, 'AccessDenied')

    def test_concurrent_delete_if_match(self):
        n = 12
        self.s3.put_object(Bucket=self.b, Key='k', Body=b'abc')
        clients = [self.server.boto3_client() for _ in range(n)]
        res = self.race(n, lambda i: self.status(
            clients[i].delete_object, Bucket=self.b, Key='k',
            IfMatch=etag_of(b'abc')))
        self.assertEqual([s for s, _ in res].count(204), 1, res)
        self.assertEqual(set(res) - {(204, None)}, {(404, 'NoSuchKey')})

    # --- DeleteObjects ---------------------------------------------------------

    def test_delete_objects_conditions(self):
        b = self.b
        for k in ('a', 'b', 'c', 'd', 'e'):
            self.s3.put_object(Bucket=b, Key=k, Body=b'data-' + k.encode())
        lm = self.s3.head_object(Bucket=b, Key='d')['LastModified']
        r = self.s3.delete_objects(Bucket=b, Delete={'Objects': [
            {'Key': 'a', 'ETag': etag_of(b'data-a')},
            {'Key': 'b', 'ETag': etag_of(b'wrong')},
            {'Key': 'c', 'Size': 6},
            {'Key': 'd', 'Size': 99, 'LastModifiedTime': lm},
            {'Key': 'e', 'LastModifiedTime': lm.replace(year=2001)},
            {'Key': 'missing', 'ETag': '*'},
        ]})
        deleted = sorted(x['Key'] for x in r.get('Deleted', []))
        errors = {x['Key']: x['Code'] for x in r.get('Errors', [])}
        self.assertEqual(deleted, ['a', 'c'])
        self.assertEqual(errors, {'b': 'PreconditionFailed',
                                  'd': 'PreconditionFailed',
                                  'e': 'PreconditionFailed',
                                  'missing': 'NoSuchKey'})
        left = sorted(o['Key'] for o in self.s3.list_objects_v2(
            Bucket=b).get('Contents', []))
        self.assertEqual(left, ['b', 'd', 'e'])

    def test_delete_objects_bad_condition(self):
        b = self.b
        self.s3.put_object(Bucket=b, Key='a', Body=b'x')
        body = (b'<Delete><Object><Key>a</Key><Size>big</Size></Object>'
                b'</Delete>')
        md5 = base64.b64encode(hashlib.md5(body).digest()).decode()
        r = self.server.signed('POST', '/%s?delete' % b,
                               {'Content-MD5': md5}, body)
        self.assertEqual(r.status, 200, r.body)
        self.assertIn(b'<Code>InvalidArgument</Code>', r.body)
        self.s3.head_object(Bucket=b, Key='a')


if __name__ == '__main__':
    import unittest
    unittest.main()
