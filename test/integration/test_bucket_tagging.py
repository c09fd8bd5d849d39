"""Bucket tagging: PutBucketTagging, GetBucketTagging, DeleteBucketTagging
through boto3, the aws CLI and raw requests: NoSuchTagSet, S3's limits (50
tags, key and value lengths in characters, duplicate keys, the aws: prefix),
Content-MD5 and x-amz-checksum-* checked, the tag set read back sorted by
key, the policy actions s3:GetBucketTagging / s3:PutBucketTagging (which
also deletes), anonymous callers, object tags kept apart, and tags across a
restart and a bucket's deletion."""

import base64
import hashlib
import json

from harness import S3gwTestCase, unique_name


def account_id(name):
    d = hashlib.sha256(b's3gw:' + name.encode()).digest()
    return ''.join(str(b % 10) for b in d[:12])


def tagset(pairs):
    return {'TagSet': [{'Key': k, 'Value': v} for k, v in pairs]}


def doc(pairs):
    tags = ''.join('<Tag><Key>%s</Key><Value>%s</Value></Tag>' % kv
                   for kv in pairs)
    return ('<Tagging xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
            '<TagSet>%s</TagSet></Tagging>' % tags).encode()


def md5_b64(body):
    return base64.b64encode(hashlib.md5(body).digest()).decode()


class BucketTaggingTest(S3gwTestCase):

    def tags(self, bucket, client=None):
        r = (client or self.s3).get_bucket_tagging(Bucket=bucket)
        return [(t['Key'], t['Value']) for t in r['TagSet']]

    def test_put_get_delete(self):
        bucket = self.new_bucket()
        self.assertS3Error('NoSuchTagSet', 404, self.s3.get_bucket_tagging,
                           Bucket=bucket)
        pairs = [('project', 'blue'), ('cost centre', '12 34'),
                 ('sym+bols=&<>"\'', 'a&b<c>d"e\'f'), ('ünï', '日本語'),
                 ('empty', '')]
        r = self.s3.put_bucket_tagging(Bucket=bucket, Tagging=tagset(pairs))
        self.assertEqual(r['ResponseMetadata']['HTTPStatusCode'], 204)
        # Read back sorted by key (bytewise, as S3 lists them).
        self.assertEqual(self.tags(bucket),
                         sorted(pairs, key=lambda kv: kv[0].encode()))
        # Replaced whole, not merged.
        self.s3.put_bucket_tagging(Bucket=bucket,
                                   Tagging=tagset([('only', 'one')]))
        self.assertEqual(self.tags(bucket), [('only', 'one')])
        r = self.s3.delete_bucket_tagging(Bucket=bucket)
        self.assertEqual(r['ResponseMetadata']['HTTPStatusCode'], 204)
        self.assertS3Error('NoSuchTagSet', 404, self.s3.get_bucket_tagging,
                           Bucket=bucket)
        # Deleting what is not there succeeds.
        self.s3.delete_bucket_tagging(Bucket=bucket)
        # An empty TagSet leaves no tags.
        self.s3.put_bucket_tagging(Bucket=bucket, Tagging=tagset([('a', '1')]))
        self.s3.put_bucket_tagging(Bucket=bucket, Tagging=tagset([]))
        self.assertS3Error('NoSuchTagSet', 404, self.s3.get_bucket_tagging,
                           Bucket=bucket)

    def test_aws_cli_round_trip(self):
        bucket = self.new_bucket()
        r = self.server.aws('s3api', 'put-bucket-tagging', '--bucket', bucket,
                            '--tagging', 'TagSet=[{Key=a,Value=b},'
                            '{Key=Env,Value=prod}]')
        self.assertEqual(r.returncode, 0, r.stderr)
        r = self.server.aws('s3api', 'get-bucket-tagging', '--bucket', bucket)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(json.loads(r.stdout)['TagSet'],
                         [{'Key': 'Env', 'Value': 'prod'},
                          {'Key': 'a', 'Value': 'b'}])
        r = self.server.aws('s3api', 'delete-bucket-tagging', '--bucket',
                            bucket)
        self.assertEqual(r.returncode, 0, r.stderr)
        r = self.server.aws('s3api', 'get-bucket-tagging', '--bucket', bucket)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn('NoSuchTagSet', r.stderr)

    def test_limits(self):
        bucket = self.new_bucket()
        fifty = [('k%02d' % i, 'v') for i in range(50)]
        self.s3.put_bucket_tagging(Bucket=bucket, Tagging=tagset(fifty))
        self.assertEqual(len(self.tags(bucket)), 50)
        # Keys and values are counted in characters, not bytes.
        longest = [('é' * 128, 'ü' * 256)]
        self.s3.put_bucket_tagging(Bucket=bucket, Tagging=tagset(longest))
        self.assertEqual(self.tags(bucket), longest)
        bad = [
            (fifty + [('k50', 'v')], 'Bucket tag count cannot be greater '
             'than 50'),
            ([('k' * 129, 'v')], 'The TagKey you have provided is too long, '
             'max 128'),
            ([('k', 'v' * 257)], 'The TagValue you have provided is too '
             'long, max 256'),
            ([('a', '1'), ('b', '2'), ('a', '3')], 'Cannot provide multiple '
             'Tags with the same key'),
            ([('aws:cloudformation', 'x')], 'Your TagKey cannot be prefixed '
             'with aws:'),
        ]
        for pairs, msg in bad:
            with self.subTest(msg=msg):
                r = self.assertS3Error('InvalidTag', 400,
                                       self.s3.put_bucket_tagging,
                                       Bucket=bucket, Tagging=tagset(pairs))
                self.assertEqual(r['Error']['Message'], msg)
        # boto3 will not send an empty key; S3 refuses it too.
        r = self.server.signed('PUT', '/%s?tagging' % bucket,
                               body=doc([('', 'x')]))
        self.assertRawError(r, 400, 'InvalidTag')
        # Nothing refused changed the tags.
        self.assertEqual(self.tags(bucket), longest)
        # 'AWS:' is another prefix (tag keys are case-sensitive).
        self.s3.put_bucket_tagging(Bucket=bucket,
                                   Tagging=tagset([('AWS:x', 'y')]))

    def test_malformed_documents_and_digests(self):
        bucket = self.new_bucket()
        path = '/%s?tagging' % bucket
        for body in (b'', b'not xml', b'<Tagging/>',
                     b'<Tagging><TagSet><Tag><Key>a</Key></Tag></TagSet>'
                     b'</Tagging>',
                     b'<Tagging><TagSet><Tag><Key>a</Key><Value>b</Value>'
                     b'<Other/></Tag></TagSet></Tagging>',
                     b'<Other><TagSet/></Other>'):
            with self.subTest(body=body):
                r = self.server.signed('PUT', path, body=body)
                self.assertRawError(r, 400, 'MalformedXML')
        body = doc([('a', 'b')])
        r = self.server.signed('PUT', path, body=body,
                               headers={'Content-MD5': md5_b64(b'other')})
        self.assertRawError(r, 400, 'BadDigest')
        r = self.server.signed('PUT', path, body=body,
                               headers={'Content-MD5': 'nope'})
        self.assertRawError(r, 400, 'InvalidDigest')
        crc = base64.b64encode(b'\0\0\0\0').decode()
        r = self.server.signed('PUT', path, body=body,
                               headers={'x-amz-checksum-crc32': crc})
        self.assertEqual(r.status, 400, r)
        self.assertS3Error('NoSuchTagSet', 404, self.s3.get_bucket_tagging,
                           Bucket=bucket)
        r = self.server.signed('PUT', path, body=body,
                               headers={'Content-MD5': md5_b64(body)})
        self.assertEqual(r.status, 204, r)
        # Without a digest the document is taken too.
        r = self.server.signed('PUT', path, body=doc([('c', 'd')]))
        self.assertEqual(r.status, 204, r)
        self.assertEqual(self.tags(bucket), [('c', 'd')])

    def test_access(self):
        bob = self.server.boto3_client('bob')
        bucket = self.new_bucket()
        self.s3.put_bucket_tagging(Bucket=bucket, Tagging=tagset([('a', '1')]))
        # Another account and anonymous callers: denied.
        self.assertS3Error('AccessDenied', 403, bob.get_bucket_tagging,
                           Bucket=bucket)
        self.assertS3Error('AccessDenied', 403, bob.put_bucket_tagging,
                           Bucket=bucket, Tagging=tagset([('b', '2')]))
        self.assertS3Error('AccessDenied', 403, bob.delete_bucket_tagging,
                           Bucket=bucket)
        for method, body in (('GET', None), ('PUT', doc([('x', 'y')])),
                             ('DELETE', None)):
            with self.subTest(method=method):
                r = self.server.http(method, '/%s?tagging' % bucket, body=body)
                self.assertRawError(r, 403, 'AccessDenied')
        r = self.server.http('GET', '/%s?tagging' % unique_name('absent'))
        self.assertEqual(r.status, 404, r)
        self.assertS3Error('NoSuchBucket', 404, self.s3.get_bucket_tagging,
                           Bucket=unique_name('absent'))
        # A policy grants them; s3:PutBucketTagging also deletes.
        bob_arn = 'arn:aws:iam::%s:user/bob' % account_id('bob')
        self.s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({
            'Version': '2012-10-17', 'Statement': [
                {'Effect': 'Allow', 'Principal': {'AWS': bob_arn},
                 'Action': 's3:GetBucketTagging',
                 'Resource': 'arn:aws:s3:::' + bucket}]}))
        self.assertEqual(self.tags(bucket, bob), [('a', '1')])
        self.assertS3Error('AccessDenied', 403, bob.delete_bucket_tagging,
                           Bucket=bucket)
        self.s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({
            'Version': '2012-10-17', 'Statement': [
                {'Effect': 'Allow', 'Principal': {'AWS': bob_arn},
                 'Action': ['s3:GetBucketTagging', 's3:PutBucketTagging'],
                 'Resource': 'arn:aws:s3:::' + bucket},
                {'Effect': 'Deny', 'Principal': '*',
                 'Action': 's3:GetBucketTagging',
                 'Resource': 'arn:aws:s3:::' + bucket,
                 'Condition': {'Bool': {'aws:SecureTransport': 'false'},
                               'StringEquals': {'aws:username': 'nobody'}}}]}))
        bob.put_bucket_tagging(Bucket=bucket, Tagging=tagset([('b', '2')]))
        self.assertEqual(self.tags(bucket), [('b', '2')])
        bob.delete_bucket_tagging(Bucket=bucket)
        self.assertS3Error('NoSuchTagSet', 404, bob.get_bucket_tagging,
                           Bucket=bucket)
        # The policy actions name the bucket: on an object ARN they apply
        # to nothing.
        r = self.assertS3Error('MalformedPolicy', 400,
                               self.s3.put_bucket_policy, Bucket=bucket,
                               Policy=json.dumps({'Statement': [{
                                   'Effect': 'Allow', 'Principal': '*',
                                   'Action': 's3:PutBucketTagging',
                                   'Resource': 'arn:aws:s3:::%s/*' % bucket}]}))
        self.assertEqual(r['Error']['Message'],
                         'Action does not apply to any resource(s) in '
                         'statement')

    def test_object_tags_are_apart(self):
        bucket = self.new_bucket()
        self.s3.put_object(Bucket=bucket, Key='k', Body=b'x',
                           Tagging='o=1')
        self.s3.put_bucket_tagging(Bucket=bucket, Tagging=tagset([('b', '2')]))
        got = self.s3.get_object_tagging(Bucket=bucket, Key='k')['TagSet']
        self.assertEqual(got, [{'Key': 'o', 'Value': '1'}])
        self.s3.delete_object_tagging(Bucket=bucket, Key='k')
        self.assertEqual(self.tags(bucket), [('b', '2')])
        # Objects keep their limit of 10.
        self.assertS3Error('InvalidTag', 400, self.s3.put_object_tagging,
                           Bucket=bucket, Key='k', Tagging=tagset(
                               [('k%d' % i, 'v') for i in range(11)]))

    def test_unsupported_methods(self):
        bucket = self.new_bucket()
        r = self.server.signed('POST', '/%s?tagging' % bucket, body=b'')
        self.assertEqual(r.status, 405, r)


class BucketTaggingRestartTest(S3gwTestCase):

    shared_server = False

    def test_survive_restart_and_go_with_the_bucket(self):
        srv = self.start_server()
        s3 = srv.boto3_client()
        bucket = unique_name('kept')
        s3.create_bucket(Bucket=bucket)
        s3.put_bucket_tagging(Bucket=bucket,
                              Tagging=tagset([('z', '26'), ('a', '1')]))
        srv.restart()
        s3 = srv.boto3_client()
        self.assertEqual(s3.get_bucket_tagging(Bucket=bucket)['TagSet'],
                         [{'Key': 'a', 'Value': '1'},
                          {'Key': 'z', 'Value': '26'}])
        s3.delete_bucket(Bucket=bucket)
        s3.create_bucket(Bucket=bucket)
        self.assertS3Error('NoSuchTagSet', 404, s3.get_bucket_tagging,
                           Bucket=bucket)
