"""Trust: nothing unsigned steers a signed request, bad input gets S3's
error instead of being stored or ignored, and odd but legal requests do not
crash the server (the ASan+UBSan run covers them too)."""

import re
import threading
import time
import xml.etree.ElementTree as ET

import botocore.auth
from botocore.awsrequest import AWSRequest

from harness import ClientError, S3gwTestCase


class SignedHeadersTest(S3gwTestCase):
    """Every x-amz-* header and Host must be covered by the signature:
    Amazon S3 answers 403 AccessDenied with HeadersNotSigned otherwise."""

    def setUp(self):
        super().setUp()
        self.bucket = self.new_bucket()
        self.s3.put_object(Bucket=self.bucket, Key='secret', Body=b'top')
        self.s3.put_object(Bucket=self.bucket, Key='plain', Body=b'plain')

    def assertHeadersNotSigned(self, resp, *names):
        self.assertRawError(resp, 403, 'AccessDenied')
        root = ET.fromstring(resp.body)
        got = root.findtext('HeadersNotSigned') or ''
        self.assertEqual(sorted(n.strip() for n in got.split(',')),
                         sorted(names), resp.body)
        self.assertIn(b'not signed', resp.body)

    def test_presigned_put_with_unsigned_copy_source_and_acl(self):
        # The URL holder may PUT 'dest' (it is the admin's URL here), but
        # added, unsigned headers must not turn it into a public copy.
        target = self.server.presign('PUT', '/%s/dest' % self.bucket)
        resp = self.server.http('PUT', target, [
            ('Host', self.server.host), ('Content-Length', '0'),
            ('x-amz-copy-source', '/%s/secret' % self.bucket),
            ('x-amz-acl', 'public-read')])
        self.assertHeadersNotSigned(resp, 'x-amz-acl', 'x-amz-copy-source')
        self.assertS3Error('NoSuchKey', 404, self.s3.get_object,
                           Bucket=self.bucket, Key='dest')
        # The same URL without the added headers works.
        resp = self.server.http('PUT', target, [
            ('Host', self.server.host), ('Content-Length', '3')], b'new')
        self.assertEqual(resp.status, 200, resp)

    def test_header_auth_with_an_added_unsigned_header(self):
        path = '/%s/obj' % self.bucket
        hdrs = self.server.sign('PUT', path, body=b'data')
        hdrs += [('Content-Length', '4'), ('x-amz-acl', 'public-read'),
                 ('x-amz-meta-note', 'unsigned')]
        resp = self.server.http('PUT', path, hdrs, b'data')
        self.assertHeadersNotSigned(resp, 'x-amz-acl', 'x-amz-meta-note')
        self.assertS3Error(None, 404, self.s3.head_object,
                           Bucket=self.bucket, Key='obj')

    def test_signed_headers_without_host(self):
        # botocore always signs Host: sign with Host left out of the list,
        # then send the real Host unsigned.
        path = '/%s/plain' % self.bucket
        req = AWSRequest(method='GET', url=self.server.url + path,
                         headers={'X-Amz-Content-SHA256': 'UNSIGNED-PAYLOAD'})

        class NoHost(botocore.auth.S3SigV4Auth):
            def headers_to_sign(self, request):
                h = super().headers_to_sign(request)
                del h['host']
                return h
        NoHost(self.server.credentials('admin'), 's3',
               self.server.region).add_auth(req)
        hdrs = list(req.headers.items()) + [('Host', self.server.host)]
        self.assertIn('SignedHeaders=x-amz-content-sha256;x-amz-date',
                      dict(hdrs)['Authorization'])
        resp = self.server.http('GET', path, hdrs)
        self.assertHeadersNotSigned(resp, 'host')

    def test_unsigned_content_sha256_is_tolerated(self):
        # Amazon S3 accepts x-amz-content-sha256 outside SignedHeaders.
        path = '/%s/plain' % self.bucket
        req = AWSRequest(method='GET', url=self.server.url + path,
                         headers={'Host': self.server.host,
                                  'X-Amz-Content-SHA256': 'UNSIGNED-PAYLOAD'})

        class NoSha(botocore.auth.S3SigV4Auth):
            def headers_to_sign(self, request):
                h = super().headers_to_sign(request)
                del h['x-amz-content-sha256']
                return h
        NoSha(self.server.credentials('admin'), 's3',
              self.server.region).add_auth(req)
        self.assertNotIn('x-amz-content-sha256', req.headers['Authorization'])
        resp = self.server.http('GET', path, list(req.headers.items()))
        self.assertEqual((resp.status, resp.body), (200, b'plain'), resp)

    def test_presigned_get_with_an_added_header(self):
        target = self.server.presign('GET', '/%s/plain' % self.bucket)
        resp = self.server.http('GET', target, [('Host', self.server.host)])
        self.assertEqual((resp.status, resp.body), (200, b'plain'), resp)
        resp = self.server.http('GET', target, [
            ('Host', self.server.host), ('x-amz-request-payer', 'requester')])
        self.assertHeadersNotSigned(resp, 'x-amz-request-payer')


class AnonymousWriterTest(S3gwTestCase):
    """Objects written anonymously into a public-read-write bucket have no
    owner name: listing them with their owner must not crash (UBSan)."""

    def test_list_fetch_owner_of_anonymous_object(self):
        bucket = self.new_bucket()
        self.s3.put_bucket_acl(Bucket=bucket, ACL='public-read-write')
        resp = self.server.http('PUT', '/%s/anon' % bucket, [
            ('Host', self.server.host), ('Content-Length', '2')], b'hi')
        self.assertEqual(resp.status, 200, resp)
        out = self.s3.list_objects_v2(Bucket=bucket, FetchOwner=True)
        self.assertEqual([o['Key'] for o in out['Contents']], ['anon'])
        self.assertIn('ID', out['Contents'][0]['Owner'])
        out = self.s3.list_objects(Bucket=bucket)
        self.assertEqual([o['Key'] for o in out['Contents']], ['anon'])
        self.assertEqual(self.server.running(), True)


class InputTest(S3gwTestCase):
    """Input S3 refuses is refused with S3's error, and stores nothing."""

    def test_key_that_is_not_utf8(self):
        bucket = self.new_bucket()
        for key in ('%FF', 'a%C0%AFb', '%ED%A0%80', '%F4%90%80%80', 'x%E2%82'):
            path = '/%s/%s' % (bucket, key)
            resp = self.server.signed('PUT', path, body=b'x',
                                      headers={'Content-Length': '1'})
            self.assertRawError(resp, 400, 'InvalidURI')
            self.assertEqual(ET.fromstring(resp.body).findtext('Message'),
                             "Couldn't parse the specified URI.")
            resp = self.server.signed('GET', path)
            self.assertRawError(resp, 400, 'InvalidURI')
        self.assertEqual(self.s3.list_objects_v2(Bucket=bucket)['KeyCount'],
                         0)
        # Well-formed UTF-8 of every length is fine.
        key = 'é€😀'
        self.s3.put_object(Bucket=bucket, Key=key, Body=b'ok')
        self.assertEqual(self.s3.get_object(Bucket=bucket,
                                            Key=key)['Body'].read(), b'ok')

    def test_bucket_name_with_a_forbidden_byte(self):
        bucket = self.new_bucket()
        self.s3.put_object(Bucket=bucket, Key='k', Body=b'v')
        for name in (bucket + '%00', bucket + '%00junk', 'a%20b',
                     bucket + '%0A', bucket + '%FF'):
            for path in ('/%s' % name, '/%s/k' % name):
                resp = self.server.signed('GET', path)
                self.assertRawError(resp, 400, 'InvalidBucketName')
            resp = self.server.signed('PUT', '/%s' % name)
            self.assertRawError(resp, 400, 'InvalidBucketName')
        names = [b['Name'] for b in self.s3.list_buckets()['Buckets']]
        self.assertEqual([n for n in names if n.startswith(bucket)], [bucket])

    def test_server_side_encryption_is_not_implemented(self):
        bucket = self.new_bucket()
        self.assertS3Error('NotImplemented', 501, self.s3.put_object,
                           Bucket=bucket, Key='k', Body=b'v',
                           ServerSideEncryption='AES256')
        self.assertS3Error('NotImplemented', 501, self.s3.put_object,
                           Bucket=bucket, Key='k', Body=b'v',
                           ServerSideEncryption='aws:kms',
                           SSEKMSKeyId='key')
        self.assertS3Error('NotImplemented', 501, self.s3.put_object,
                           Bucket=bucket, Key='k', Body=b'v',
                           SSECustomerAlgorithm='AES256',
                           SSECustomerKey='k' * 32)
        self.assertEqual(self.s3.list_objects_v2(Bucket=bucket)['KeyCount'],
                         0)
        self.s3.put_object(Bucket=bucket, Key='k', Body=b'v')
        with self.assertRaises(ClientError) as cm:
            self.s3.head_object(Bucket=bucket, Key='k',
                                SSECustomerAlgorithm='AES256',
                                SSECustomerKey='k' * 32)
        self.assertEqual(
            cm.exception.response['ResponseMetadata']['HTTPStatusCode'], 501)
        self.assertS3Error('NotImplemented', 501, self.s3.copy_object,
                           Bucket=bucket, Key='c',
                           CopySource={'Bucket': bucket, 'Key': 'k'},
                           ServerSideEncryption='AES256')
        self.assertS3Error('NotImplemented', 501,
                           self.s3.create_multipart_upload, Bucket=bucket,
                           Key='m', ServerSideEncryption='AES256')

    def test_control_characters_in_keys_round_trip(self):
        bucket = self.new_bucket()
        keys = ['a\x01b', 'line\nbreak', 'tab\tand\rcr', '\x7fdel', '%0A']
        for k in keys:
            self.s3.put_object(Bucket=bucket, Key=k, Body=k.encode())
        # boto3 asks for encoding-type=url and decodes the answer.
        got = [o['Key'] for o in
               self.s3.list_objects_v2(Bucket=bucket)['Contents']]
        self.assertEqual(sorted(got), sorted(keys))
        got = [o['Key'] for o in
               self.s3.list_objects(Bucket=bucket)['Contents']]
        self.assertEqual(sorted(got), sorted(keys))
        for k in keys:
            self.assertEqual(self.s3.get_object(Bucket=bucket,
                                                Key=k)['Body'].read(),
                             k.encode())


class RewriteRaceTest(S3gwTestCase):
    """PutObjectTagging and PutObjectAcl rewrite the object record. An
    overwrite (same bytes, other metadata and ACL) that commits between
    their read and their write must not be undone: each round, the
    overwrite's metadata survives, and the record is what the last of the
    two acknowledged writes left."""

    ROUNDS = 40

    def answer_order(self, since, bucket):
        """Which of the round's two writes the server answered last. The
        access log has a line per answer, written once the answer has left,
        and answers leave in commit order. (The clients' own clocks cannot
        tell: a thread may notice its answer many milliseconds late on a
        busy machine.) since: the log's length before the round's first
        PUT, whose line comes first; a line may be written just after its
        client saw the answer, hence the short wait."""
        pat = re.compile(r' PUT /%s/k(\?(?:tagging|acl))?(?:&\S*)? '
                         % re.escape(bucket))
        deadline = time.monotonic() + 5
        while True:
            order = [('rewrite' if m.group(1) else 'overwrite')
                     for m in map(pat.search,
                                  self.server.access_log_lines()[since:])
                     if m]
            if len(order) >= 3 or time.monotonic() > deadline:
                break
            time.sleep(0.01)
        self.assertEqual(len(order), 3, order)
        self.assertEqual(sorted(order[1:]), ['overwrite', 'rewrite'], order)
        return order[-1]

    def race(self, rewrite, check_rewrite):
        """check_rewrite(bucket, round) tells whether the record shows the
        rewrite (True) or only the overwrite (False)."""
        bucket = self.new_bucket()
        s3b = self.server.boto3_client()     # a second connection pool
        body = b'same bytes every time'
        reverted = 0
        for i in range(self.ROUNDS):
            since = len(self.server.access_log_lines())
            self.s3.put_object(Bucket=bucket, Key='k', Body=body)
            barrier = threading.Barrier(2)

            def overwrite():
                barrier.wait()
                self.s3.put_object(Bucket=bucket, Key='k', Body=body,
                                   Metadata={'round': str(i)},
                                   ACL='public-read')

            def edit():
                barrier.wait()
                rewrite(s3b, bucket, i)
            threads = [threading.Thread(target=overwrite),
                       threading.Thread(target=edit)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            head = self.s3.head_object(Bucket=bucket, Key='k')
            if head['Metadata'].get('round') != str(i):
                reverted += 1
                continue
            last = self.answer_order(since, bucket)
            self.assertEqual(check_rewrite(bucket, i), last == 'rewrite',
                             'round %d: the state is not that of the last '
                             'acknowledged write (%s)' % (i, last))
        self.assertEqual(reverted, 0, '%d of %d rounds undid an acknowledged '
                         'overwrite' % (reverted, self.ROUNDS))

    def test_overwrite_vs_tagging(self):
        def rewrite(s3, bucket, i):
            s3.put_object_tagging(Bucket=bucket, Key='k', Tagging={
                'TagSet': [{'Key': 't', 'Value': str(i)}]})

        def applied(bucket, i):
            tags = self.s3.get_object_tagging(Bucket=bucket,
                                              Key='k')['TagSet']
            self.assertIn(tags, ([], [{'Key': 't', 'Value': str(i)}]))
            return tags != []
        self.race(rewrite, applied)

    def test_overwrite_vs_acl(self):
        def rewrite(s3, bucket, i):
            s3.put_object_acl(Bucket=bucket, Key='k', ACL='private')

        def applied(bucket, i):
            grants = self.s3.get_object_acl(Bucket=bucket, Key='k')['Grants']
            return not any(g['Grantee'].get('URI', '').endswith('AllUsers')
                           for g in grants)
        self.race(rewrite, applied)

    def test_overwrite_vs_copy_onto_itself(self):
        """A copy onto itself with new metadata reads the record and writes
        it back: it must never write back what an overwrite replaced. The
        overwrite sets a tag, the copy keeps the tags it read: the tag is
        there at the end of every round, whichever came last. A copy that
        loses the race may answer 409 OperationAborted, as S3 does."""
        bucket = self.new_bucket()
        s3b = self.server.boto3_client()
        body = b'same bytes every time'
        lost = aborted = 0
        rounds = self.ROUNDS * 3        # its window is narrower: more tries
        for i in range(rounds):
            self.s3.put_object(Bucket=bucket, Key='k', Body=body)
            barrier = threading.Barrier(2)

            def overwrite():
                barrier.wait()
                self.s3.put_object(Bucket=bucket, Key='k', Body=body,
                                   Tagging='o=%d' % i)

            def copy():
                nonlocal aborted
                barrier.wait()
                try:
                    s3b.copy_object(Bucket=bucket, Key='k',
                                    CopySource={'Bucket': bucket, 'Key': 'k'},
                                    MetadataDirective='REPLACE',
                                    Metadata={'copy': str(i)})
                except ClientError as e:
                    self.assertEqual(e.response['Error']['Code'],
                                     'OperationAborted')
                    aborted += 1
            threads = [threading.Thread(target=overwrite),
                       threading.Thread(target=copy)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            tags = self.s3.get_object_tagging(Bucket=bucket,
                                              Key='k')['TagSet']
            lost += tags != [{'Key': 'o', 'Value': str(i)}]
        self.assertEqual(lost, 0, '%d of %d rounds undid an acknowledged '
                         'overwrite (%d copies aborted)'
                         % (lost, rounds, aborted))
