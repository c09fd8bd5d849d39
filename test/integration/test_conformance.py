"""Where s3gw follows Amazon S3 to the letter, as conformance suites and real
clients check it: listing edge cases (max-keys=0, an empty
continuation-token, which fields encoding-type=url encodes), ListBuckets
pagination, re-creating one's own bucket per region, NoSuchKey against
AccessDenied for missing keys (s3:prefix), tag sets read back sorted by
key, and user metadata returned byte for byte."""

import hashlib
import json
import unittest

import botocore

from harness import S3gwTestCase, unique_name


def account_id(name):
    d = hashlib.sha256(b's3gw:' + name.encode()).digest()
    return ''.join(str(b % 10) for b in d[:12])


def strip_ns(root):
    for e in root.iter():
        if '}' in e.tag:
            e.tag = e.tag.split('}', 1)[1]
    return root


class ListingTest(S3gwTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.bucket = unique_name('conf-list')
        cls.s3.create_bucket(Bucket=cls.bucket)
        for k in ('a', 'b/1', 'b/2', 'c', '\n', '\nx/y'):
            cls.s3.put_object(Bucket=cls.bucket, Key=k, Body=b'')

    def test_max_keys_zero_v2(self):
        page = self.s3.list_objects_v2(Bucket=self.bucket, MaxKeys=0)
        self.assertFalse(page['IsTruncated'])
        self.assertEqual(page['KeyCount'], 0)
        self.assertNotIn('Contents', page)
        self.assertNotIn('NextContinuationToken', page)
        self.assertEqual(page['MaxKeys'], 0)

    def test_max_keys_zero_v1(self):
        page = self.s3.list_objects(Bucket=self.bucket, MaxKeys=0)
        self.assertFalse(page['IsTruncated'])
        self.assertNotIn('Contents', page)
        self.assertNotIn('NextMarker', page)
        # With a delimiter, too: no common prefixes either.
        page = self.s3.list_objects(Bucket=self.bucket, MaxKeys=0,
                                    Delimiter='/')
        self.assertFalse(page['IsTruncated'])
        self.assertNotIn('CommonPrefixes', page)

    def test_max_keys_zero_aws_cli(self):
        out = self.server.aws('s3api', 'list-objects-v2', '--bucket',
                              self.bucket, '--max-keys', '0',
                              '--no-paginate')
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertFalse(json.loads(out.stdout or '{}').get('IsTruncated'))

    def test_empty_continuation_token(self):
        page = self.s3.list_objects_v2(Bucket=self.bucket,
                                       ContinuationToken='')
        self.assertEqual([o['Key'] for o in page['Contents']],
                         ['\n', '\nx/y', 'a', 'b/1', 'b/2', 'c'])
        self.assertFalse(page['IsTruncated'])
        r = self.server.signed('GET', '/%s?list-type=2&continuation-token='
                               % self.bucket)
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(len(strip_ns(r.xml()).findall('Contents')), 6)

    def test_bad_continuation_token_still_refused(self):
        r = self.server.signed('GET', '/%s?list-type=2&continuation-token=%%21'
                               % self.bucket)
        self.assertRawError(r, 400, 'InvalidArgument')

    def test_v1_prefix_newline_round_trips(self):
        # boto3 asks for encoding-type=url on its own and decodes only the
        # fields S3 encodes in a V1 answer; the Prefix element is not one.
        page = self.s3.list_objects(Bucket=self.bucket, Prefix='\n')
        self.assertEqual(page['Prefix'], '\n')
        self.assertEqual([o['Key'] for o in page['Contents']], ['\n', '\nx/y'])
        page = self.s3.list_objects(Bucket=self.bucket, Prefix='\n',
                                    Delimiter='/')
        self.assertEqual(page['Prefix'], '\n')
        self.assertEqual(page['Delimiter'], '/')
        self.assertEqual([o['Key'] for o in page['Contents']], ['\n'])
        self.assertEqual([p['Prefix'] for p in page['CommonPrefixes']],
                         ['\nx/'])

    def test_v1_encoded_fields_raw(self):
        r = self.server.signed(
            'GET', '/%s?encoding-type=url&prefix=%%0A&delimiter=%%2F'
            '&marker=%%0A&max-keys=1' % self.bucket)
        self.assertEqual(r.status, 200, r.body)
        root = strip_ns(r.xml())
        self.assertEqual(root.findtext('Prefix'), '\n')
        self.assertEqual(root.findtext('Marker'), '%0A')
        # Encoded as keys are: '/' stays.
        self.assertEqual(root.findtext('Delimiter'), '/')
        self.assertEqual(root.findtext('CommonPrefixes/Prefix'), '%0Ax/')
        self.assertEqual(root.findtext('IsTruncated'), 'false')

    def test_v2_prefix_still_encoded(self):
        # V2 encodes Prefix (boto3 decodes it there).
        page = self.s3.list_objects_v2(Bucket=self.bucket, Prefix='\n')
        self.assertEqual(page['Prefix'], '\n')
        r = self.server.signed('GET', '/%s?list-type=2&encoding-type=url'
                               '&prefix=%%0A' % self.bucket)
        self.assertEqual(strip_ns(r.xml()).findtext('Prefix'), '%0A')


class ListBucketsTest(S3gwTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.names = sorted(unique_name('lbp') for _ in range(5))
        for n in cls.names:
            cls.s3.create_bucket(Bucket=n)
        cls.other = unique_name('zzother')
        cls.s3.create_bucket(Bucket=cls.other)

    def mine(self, page):
        return [b['Name'] for b in page['Buckets']]

    def test_paginates(self):
        got, token, pages = [], None, 0
        while True:
            kw = {'ContinuationToken': token} if token else {}
            page = self.s3.list_buckets(MaxBuckets=2, Prefix='lbp', **kw)
            pages += 1
            self.assertLessEqual(len(page['Buckets']), 2)
            self.assertEqual(page['Prefix'], 'lbp')
            got += self.mine(page)
            token = page.get('ContinuationToken')
            if not token:
                break
            self.assertLess(pages, 10)
        self.assertEqual(got, self.names)
        self.assertEqual(pages, 3)

    def test_exact_page_has_no_token(self):
        page = self.s3.list_buckets(MaxBuckets=5, Prefix='lbp')
        self.assertEqual(self.mine(page), self.names)
        self.assertNotIn('ContinuationToken', page)

    def test_paginator(self):
        p = self.s3.get_paginator('list_buckets')
        got = []
        for page in p.paginate(Prefix='lbp', PaginationConfig={'PageSize': 1}):
            got += self.mine(page)
        self.assertEqual(got, self.names)

    def test_prefix_and_region(self):
        page = self.s3.list_buckets(Prefix='zzother')
        self.assertEqual(self.mine(page), [self.other])
        page = self.s3.list_buckets(Prefix='lbp', BucketRegion='us-east-1')
        self.assertEqual(self.mine(page), self.names)
        page = self.s3.list_buckets(BucketRegion='eu-west-1')
        self.assertEqual(self.mine(page), [])
        # No parameters: every bucket at once, no token.
        page = self.s3.list_buckets()
        self.assertTrue(set(self.names + [self.other]) <= set(self.mine(page)))
        self.assertNotIn('ContinuationToken', page)
        self.assertNotIn('Prefix', page)

    def test_aws_cli(self):
        out = self.server.aws('s3api', 'list-buckets', '--prefix', 'lbp',
                              '--max-buckets', '2', '--no-paginate')
        self.assertEqual(out.returncode, 0, out.stderr)
        doc = json.loads(out.stdout)
        self.assertEqual([b['Name'] for b in doc['Buckets']], self.names[:2])
        self.assertTrue(doc.get('ContinuationToken'))

    def test_bad_max_buckets(self):
        for v in ('0', '10001', '-1', 'x', '', '1.5', '99999999999'):
            with self.subTest(v=v):
                r = self.server.signed('GET', '/?max-buckets=' + v)
                self.assertRawError(r, 400, 'InvalidArgument')
        r = self.server.signed('GET', '/?max-buckets=10000')
        self.assertEqual(r.status, 200)

    def test_bad_token(self):
        r = self.server.signed('GET', '/?continuation-token=%21%21')
        self.assertRawError(r, 400, 'InvalidArgument')
        # An empty one is the first page.
        r = self.server.signed('GET', '/?continuation-token=&prefix=lbp')
        self.assertEqual(r.status, 200)
        self.assertEqual(len(strip_ns(r.xml()).findall('Buckets/Bucket')), 5)

    def test_anonymous_is_denied(self):
        r = self.server.http('GET', '/')
        self.assertRawError(r, 403, 'AccessDenied')
        self.assertEqual(r.header('Content-Type'), 'application/xml')
        anon = self.server.boto3_client(signature_version=botocore.UNSIGNED)
        self.assertS3Error('AccessDenied', 403, anon.list_buckets)


class CreateAgainTest(S3gwTestCase):
    """The harness's servers serve us-east-1: re-creating one's own bucket
    is 200 there (S3's legacy answer), with the bucket untouched."""

    def test_recreate_own_bucket_us_east_1(self):
        name = self.new_bucket()
        self.s3.put_object(Bucket=name, Key='k', Body=b'v')
        acl = self.s3.get_bucket_acl(Bucket=name)['Grants']
        r = self.s3.create_bucket(Bucket=name)
        self.assertEqual(r['ResponseMetadata']['HTTPStatusCode'], 200)
        self.assertEqual(r.get('Location'), '/' + name)
        # Nothing lost or changed, whatever the second request asks for.
        r = self.s3.create_bucket(Bucket=name, ACL='public-read')
        self.assertEqual(r['ResponseMetadata']['HTTPStatusCode'], 200)
        self.assertEqual(self.s3.get_bucket_acl(Bucket=name)['Grants'], acl)
        self.assertEqual(self.s3.get_object(Bucket=name, Key='k')
                         ['Body'].read(), b'v')
        # With the matching LocationConstraint body too.
        r = self.server.signed('PUT', '/' + name, body=(
            b'<CreateBucketConfiguration><LocationConstraint>us-east-1'
            b'</LocationConstraint></CreateBucketConfiguration>'))
        self.assertEqual(r.status, 200, r.body)
        out = self.server.aws('s3api', 'create-bucket', '--bucket', name)
        self.assertEqual(out.returncode, 0, out.stderr)

    def test_other_owner_still_conflicts(self):
        name = self.new_bucket()
        bob = self.server.boto3_client('bob')
        self.assertS3Error('BucketAlreadyExists', 409, bob.create_bucket,
                           Bucket=name)

    def test_bad_body_still_refused(self):
        name = self.new_bucket()
        r = self.server.signed('PUT', '/' + name, body=b'<nope')
        self.assertRawError(r, 400, 'MalformedXML')


class CreateAgainOtherRegionTest(S3gwTestCase):
    """Outside us-east-1, one's own bucket again is 409
    BucketAlreadyOwnedByYou."""

    conf = {'region': 'eu-west-1'}

    def test_recreate_own_bucket_elsewhere(self):
        name = unique_name('eu')
        cfg = {'LocationConstraint': 'eu-west-1'}
        self.s3.create_bucket(Bucket=name, CreateBucketConfiguration=cfg)
        self.s3.put_object(Bucket=name, Key='k', Body=b'v')
        self.assertS3Error('BucketAlreadyOwnedByYou', 409,
                           self.s3.create_bucket, Bucket=name,
                           CreateBucketConfiguration=cfg)
        out = self.server.aws('s3api', 'create-bucket', '--bucket', name,
                              '--create-bucket-configuration',
                              'LocationConstraint=eu-west-1')
        self.assertNotEqual(out.returncode, 0)
        self.assertIn('BucketAlreadyOwnedByYou', out.stderr)
        self.assertEqual(self.s3.get_object(Bucket=name, Key='k')
                         ['Body'].read(), b'v')


class MissingKeyTest(S3gwTestCase):
    """A missing key is 404 NoSuchKey to whoever may list it (s3:ListBucket
    with s3:prefix set to the key), 403 AccessDenied to everyone else."""

    def put_policy(self, bucket, principal):
        self.s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({
            'Version': '2012-10-17', 'Statement': [
                {'Effect': 'Allow', 'Principal': principal,
                 'Action': 's3:GetObject',
                 'Resource': 'arn:aws:s3:::%s/*' % bucket},
                {'Effect': 'Allow', 'Principal': principal,
                 'Action': 's3:ListBucket',
                 'Resource': 'arn:aws:s3:::%s' % bucket,
                 'Condition': {'StringLike': {'s3:prefix': 'public/*'}}}]}))

    def check(self, client, bucket):
        self.assertS3Error('NoSuchKey', 404, client.get_object,
                           Bucket=bucket, Key='public/x')
        self.assertS3Error(None, 404, client.head_object,
                           Bucket=bucket, Key='public/x')
        self.assertS3Error('AccessDenied', 403, client.get_object,
                           Bucket=bucket, Key='private/x')
        self.assertS3Error(None, 403, client.head_object,
                           Bucket=bucket, Key='private/x')

    def test_user_with_prefix_condition(self):
        bucket = self.new_bucket()
        self.s3.put_object(Bucket=bucket, Key='public/here', Body=b'1')
        bob = self.server.boto3_client('bob')
        self.put_policy(bucket, {'AWS': 'arn:aws:iam::%s:user/bob'
                                        % account_id('bob')})
        self.check(bob, bucket)
        self.assertEqual(bob.get_object(Bucket=bucket, Key='public/here')
                         ['Body'].read(), b'1')
        # The condition is the key's, not a prefix parameter's.
        r = self.server.signed('GET', '/%s/private/x?prefix=public%%2Fa'
                               % bucket, user='bob')
        self.assertRawError(r, 403, 'AccessDenied')

    def test_anonymous_with_prefix_condition(self):
        bucket = self.new_bucket()
        self.put_policy(bucket, '*')
        anon = self.server.boto3_client(signature_version=botocore.UNSIGNED)
        self.check(anon, bucket)
        r = self.server.http('GET', '/%s/public/x' % bucket)
        self.assertRawError(r, 404, 'NoSuchKey')
        out = self.server.aws('s3api', 'head-object', '--bucket', bucket,
                              '--key', 'private/x', '--no-sign-request')
        self.assertIn('403', out.stderr)

    def test_without_list_permission(self):
        bucket = self.new_bucket()
        bob = self.server.boto3_client('bob')
        self.assertS3Error('AccessDenied', 403, bob.get_object,
                           Bucket=bucket, Key='public/x')
        # The owner may list: NoSuchKey.
        self.assertS3Error('NoSuchKey', 404, self.s3.get_object,
                           Bucket=bucket, Key='public/x')


class TagOrderTest(S3gwTestCase):
    """Tag sets read back sorted by key; a header tag without '=' is a key
    with an empty value."""

    def test_header_tags_sorted(self):
        bucket = self.new_bucket()
        self.s3.put_object(Bucket=bucket, Key='k', Body=b'',
                           Tagging='foo=bar&bar')
        self.assertEqual(self.s3.get_object_tagging(Bucket=bucket, Key='k')
                         ['TagSet'], [{'Key': 'bar', 'Value': ''},
                                      {'Key': 'foo', 'Value': 'bar'}])
        # Multipart uploads and copies keep the order too.
        up = self.s3.create_multipart_upload(Bucket=bucket, Key='m',
                                             Tagging='z=1&a=2&m')
        part = self.s3.upload_part(Bucket=bucket, Key='m', PartNumber=1,
                                   UploadId=up['UploadId'], Body=b'x')
        self.s3.complete_multipart_upload(
            Bucket=bucket, Key='m', UploadId=up['UploadId'],
            MultipartUpload={'Parts': [{'PartNumber': 1,
                                        'ETag': part['ETag']}]})
        self.assertEqual([t['Key'] for t in self.s3.get_object_tagging(
            Bucket=bucket, Key='m')['TagSet']], ['a', 'm', 'z'])
        self.s3.copy_object(Bucket=bucket, Key='c', CopySource={
            'Bucket': bucket, 'Key': 'k'}, TaggingDirective='REPLACE',
            Tagging='y=&b=2')
        self.assertEqual(self.s3.get_object_tagging(Bucket=bucket, Key='c')
                         ['TagSet'], [{'Key': 'b', 'Value': '2'},
                                      {'Key': 'y', 'Value': ''}])

    def test_document_tags_sorted(self):
        bucket = self.new_bucket()
        self.s3.put_object(Bucket=bucket, Key='k', Body=b'')
        tags = [{'Key': k, 'Value': v} for k, v in
                (('zeta', '1'), ('Alpha', '2'), ('alpha', '3'), ('b', ''),
                 ('\u00e9', '4'), ('a b', '5'))]
        self.s3.put_object_tagging(Bucket=bucket, Key='k',
                                   Tagging={'TagSet': tags})
        got = self.s3.get_object_tagging(Bucket=bucket, Key='k')['TagSet']
        self.assertEqual(got, sorted(tags, key=lambda t:
                                     t['Key'].encode()))
        out = self.server.aws('s3api', 'get-object-tagging', '--bucket',
                              bucket, '--key', 'k')
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(json.loads(out.stdout)['TagSet'], got)

    def test_tagging_count_and_bad_header(self):
        bucket = self.new_bucket()
        self.s3.put_object(Bucket=bucket, Key='k', Body=b'', Tagging='a&b&c')
        self.assertEqual(self.s3.get_object(Bucket=bucket, Key='k')
                         ['TagCount'], 3)
        self.assertS3Error('InvalidTag', 400, self.s3.put_object,
                           Bucket=bucket, Key='k2', Body=b'', Tagging='a&a=1')


class MetadataBytesTest(S3gwTestCase):
    """x-amz-meta-* values come back byte for byte: non-ASCII bytes are
    neither re-encoded nor RFC 2047-encoded, and RFC 2047 encoded-words
    pass through. Raw HTTP, since boto3 may encode on its own."""

    VALUES = [b'caf\xc3\xa9', b'Hello World\xe9', b'\xff\x80 x',
              b'=?UTF-8?B?w6k=?=', b'=?UTF-8?Q?caf=C3=A9?= tail']

    def meta_of(self, resp):
        raw = resp.raw_head.encode('latin-1')
        return [line.split(b':', 1)[1].strip()
                for line in raw.split(b'\r\n')
                if line.lower().startswith(b'x-amz-meta-m:')]

    def test_anonymous_put_any_bytes(self):
        bucket = self.new_bucket()
        self.s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({
            'Version': '2012-10-17', 'Statement': [{
                'Effect': 'Allow', 'Principal': '*',
                'Action': ['s3:PutObject', 's3:GetObject'],
                'Resource': 'arn:aws:s3:::%s/*' % bucket}]}))
        for i, v in enumerate(self.VALUES):
            with self.subTest(v=v):
                key = '/%s/k%d' % (bucket, i)
                r = self.server.http('PUT', key, [
                    ('x-amz-meta-m', v.decode('latin-1')),
                    ('x-amz-acl', 'bucket-owner-full-control')], b'x')
                self.assertEqual(r.status, 200, r.body)
                # The bucket owner reads it (the writer granted it).
                for method in ('GET', 'HEAD'):
                    r = self.server.signed(method, key)
                    self.assertEqual(r.status, 200)
                    self.assertEqual(self.meta_of(r), [v])

    def test_signed_utf8_and_encoded_words(self):
        bucket = self.new_bucket()
        for i, v in enumerate([b'caf\xc3\xa9', b'\xe4\xb8\xad',
                               b'=?UTF-8?B?w6k=?=']):
            with self.subTest(v=v):
                key = '/%s/s%d' % (bucket, i)
                # botocore signs the UTF-8 of the value: send those bytes.
                hdrs = self.server.sign('PUT', key, {
                    'x-amz-meta-m': v.decode('utf-8')}, b'x')
                hdrs = [(k, val.encode('utf-8').decode('latin-1'))
                        for k, val in hdrs]
                r = self.server.http('PUT', key, hdrs, b'x')
                self.assertEqual(r.status, 200, r.body)
                self.assertEqual(self.meta_of(
                    self.server.signed('GET', key)), [v])
                # A copy with the metadata (COPY directive) keeps the bytes.
                self.s3.copy_object(Bucket=bucket, Key='c%d' % i,
                                    CopySource={'Bucket': bucket,
                                                'Key': 's%d' % i})
                self.assertEqual(self.meta_of(self.server.signed(
                    'HEAD', '/%s/c%d' % (bucket, i))), [v])
        # boto3 reads an encoded-word back as it was sent.
        self.s3.put_object(Bucket=bucket, Key='b', Body=b'',
                           Metadata={'m': '=?UTF-8?B?w6k=?='})
        self.assertEqual(self.s3.head_object(Bucket=bucket, Key='b')
                         ['Metadata'], {'m': '=?UTF-8?B?w6k=?='})


if __name__ == '__main__':
    unittest.main()
