"""Block Public Access per bucket: Put/Get/DeletePublicAccessBlock, through
boto3 and the aws CLI, each of the four flags enforced (BlockPublicAcls
refuses public ACLs on every write that takes one, IgnorePublicAcls makes
public grants count for nothing, BlockPublicPolicy refuses a public bucket
policy, RestrictPublicBuckets keeps a public policy to the owner's
account), and GetBucketPolicyStatus with S3's meaning of a public policy.
Anonymous callers are raw HTTP requests without a signature."""

import hashlib
import json
import subprocess
import unittest

from harness import S3gwTestCase, clean_env, unique_name

ALL_USERS = 'http://acs.amazonaws.com/groups/global/AllUsers'
AUTH_USERS = 'http://acs.amazonaws.com/groups/global/AuthenticatedUsers'
FLAGS = ('BlockPublicAcls', 'IgnorePublicAcls', 'BlockPublicPolicy',
         'RestrictPublicBuckets')


def account(name):
    d = hashlib.sha256(b's3gw:' + name.encode()).digest()
    return ''.join(str(b % 10) for b in d[:12])


def pab(*on):
    return {f: f in on for f in FLAGS}


def stmt(bucket, principal='*', condition=None, action='s3:GetObject'):
    s = {'Effect': 'Allow', 'Principal': principal, 'Action': action,
         'Resource': 'arn:aws:s3:::%s/*' % bucket}
    if condition:
        s['Condition'] = condition
    return s


def policy(*statements):
    return json.dumps({'Version': '2012-10-17', 'Statement': list(statements)})


class PublicAccessTest(S3gwTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.bob = cls.server.boto3_client('bob')

    def anon_get(self, bucket, key=None):
        return self.server.http('GET', '/%s%s' % (
            bucket, '/' + key if key else '')).status

    def block(self, bucket, *on):
        self.s3.put_public_access_block(
            Bucket=bucket, PublicAccessBlockConfiguration=pab(*on))

    def test_put_get_delete(self):
        b = self.new_bucket()
        self.assertS3Error('NoSuchPublicAccessBlockConfiguration', 404,
                           self.s3.get_public_access_block, Bucket=b)
        # Flags left out are false.
        self.s3.put_public_access_block(
            Bucket=b, PublicAccessBlockConfiguration={
                'IgnorePublicAcls': True, 'RestrictPublicBuckets': True})
        self.assertEqual(self.s3.get_public_access_block(Bucket=b)
                         ['PublicAccessBlockConfiguration'],
                         pab('IgnorePublicAcls', 'RestrictPublicBuckets'))
        self.block(b, *FLAGS)
        self.assertEqual(self.s3.get_public_access_block(Bucket=b)
                         ['PublicAccessBlockConfiguration'], pab(*FLAGS))
        for fn, kw in ((self.bob.get_public_access_block, {}),
                       (self.bob.put_public_access_block,
                        {'PublicAccessBlockConfiguration': pab()}),
                       (self.bob.delete_public_access_block, {})):
            with self.subTest(fn=fn.__name__):
                self.assertS3Error('AccessDenied', 403, fn, Bucket=b, **kw)
        self.s3.delete_public_access_block(Bucket=b)
        self.assertS3Error('NoSuchPublicAccessBlockConfiguration', 404,
                           self.s3.get_public_access_block, Bucket=b)

    def test_malformed(self):
        b = self.new_bucket()
        for body in (b'', b'<x', b'<Other/>',
                     b'<PublicAccessBlockConfiguration><BlockPublicAcls>yes'
                     b'</BlockPublicAcls></PublicAccessBlockConfiguration>',
                     b'<PublicAccessBlockConfiguration><BlockPublicAcls>true'
                     b'</BlockPublicAcls><BlockPublicAcls>true'
                     b'</BlockPublicAcls></PublicAccessBlockConfiguration>',
                     b'<PublicAccessBlockConfiguration><BlockAll>true'
                     b'</BlockAll></PublicAccessBlockConfiguration>'):
            with self.subTest(body=body):
                path = '/%s?publicAccessBlock' % b
                r = self.server.http('PUT', path, body=body, headers=dict(
                    self.server.sign('PUT', path, body=body)) | {
                        'Content-Length': str(len(body))})
                self.assertEqual((r.status, r.code), (400, 'MalformedXML'),
                                 r.body)

    def test_block_public_acls(self):
        b = self.new_bucket()
        self.s3.put_object(Bucket=b, Key='src', Body=b'x')
        self.block(b, 'BlockPublicAcls')
        refused = [
            (self.s3.put_bucket_acl, dict(ACL='public-read')),
            (self.s3.put_bucket_acl, dict(
                GrantRead='uri="%s"' % AUTH_USERS)),
            (self.s3.put_bucket_acl, dict(AccessControlPolicy={
                'Owner': {'ID': hashlib.sha256(b's3gw:admin').hexdigest()},
                'Grants': [{'Grantee': {'Type': 'Group', 'URI': ALL_USERS},
                            'Permission': 'READ'}]})),
            (self.s3.put_object, dict(Key='k', Body=b'x',
                                      ACL='public-read-write')),
            (self.s3.put_object, dict(Key='k', Body=b'x',
                                      GrantRead='uri="%s"' % ALL_USERS)),
            (self.s3.put_object_acl, dict(Key='src', ACL='public-read')),
            (self.s3.copy_object, dict(Key='copy', ACL='public-read',
                                       CopySource={'Bucket': b,
                                                   'Key': 'src'})),
            (self.s3.create_multipart_upload, dict(
                Key='mp', ACL='authenticated-read')),
        ]
        for fn, kw in refused:
            with self.subTest(fn=fn.__name__, kw=kw):
                self.assertS3Error('AccessDenied', 403, fn, Bucket=b, **kw)
        # Private ACLs still go through.
        self.s3.put_object(Bucket=b, Key='k', Body=b'x', ACL='private')
        self.s3.put_bucket_acl(Bucket=b, ACL='private')
        self.assertEqual(self.anon_get(b, 'src'), 403)

    def test_ignore_public_acls(self):
        b = self.new_bucket()
        self.s3.put_bucket_acl(Bucket=b, ACL='public-read')
        self.s3.put_object(Bucket=b, Key='pub', Body=b'x', ACL='public-read')
        self.s3.put_object(Bucket=b, Key='auth', Body=b'x',
                           ACL='authenticated-read')
        self.assertEqual(self.anon_get(b, 'pub'), 200)
        self.assertEqual(self.anon_get(b), 200)
        self.assertEqual(self.bob.get_object(Bucket=b, Key='auth')['Body']
                         .read(), b'x')
        self.block(b, 'IgnorePublicAcls')
        self.assertEqual(self.anon_get(b, 'pub'), 403)
        self.assertEqual(self.anon_get(b), 403)
        self.assertS3Error('AccessDenied', 403, self.bob.get_object,
                           Bucket=b, Key='auth')
        # The grants are still there to read, and count again without it.
        self.assertIn(ALL_USERS, [g['Grantee'].get('URI') for g in
                                  self.s3.get_object_acl(
                                      Bucket=b, Key='pub')['Grants']])
        self.s3.delete_public_access_block(Bucket=b)
        self.assertEqual(self.anon_get(b, 'pub'), 200)

    def test_block_public_policy(self):
        b = self.new_bucket()
        self.s3.put_object(Bucket=b, Key='k', Body=b'x')
        self.block(b, 'BlockPublicPolicy')
        self.assertS3Error('AccessDenied', 403, self.s3.put_bucket_policy,
                           Bucket=b, Policy=policy(stmt(b)))
        self.assertS3Error('NoSuchBucketPolicy', 404,
                           self.s3.get_bucket_policy, Bucket=b)
        # Not public: a fixed principal, a fixed source range.
        self.s3.put_bucket_policy(Bucket=b, Policy=policy(stmt(
            b, {'AWS': 'arn:aws:iam::%s:root' % account('bob')})))
        self.s3.put_bucket_policy(Bucket=b, Policy=policy(stmt(
            b, condition={'IpAddress': {'aws:SourceIp': '10.1.0.0/16'}})))
        # The bucket keeps working without the flag.
        self.s3.delete_public_access_block(Bucket=b)
        self.s3.put_bucket_policy(Bucket=b, Policy=policy(stmt(b)))
        self.assertEqual(self.anon_get(b, 'k'), 200)

    def test_restrict_public_buckets(self):
        b = self.new_bucket()
        self.s3.put_object(Bucket=b, Key='k', Body=b'x')
        self.s3.put_bucket_policy(Bucket=b, Policy=policy(stmt(b)))
        self.assertEqual(self.anon_get(b, 'k'), 200)
        self.bob.get_object(Bucket=b, Key='k')
        self.block(b, 'RestrictPublicBuckets')
        self.assertEqual(self.anon_get(b, 'k'), 403)
        self.assertS3Error('AccessDenied', 403, self.bob.get_object,
                           Bucket=b, Key='k')
        self.assertEqual(self.s3.get_object(Bucket=b, Key='k')['Body']
                         .read(), b'x')
        # A policy that is not public keeps its cross-account grants.
        self.s3.put_bucket_policy(Bucket=b, Policy=policy(stmt(
            b, {'AWS': 'arn:aws:iam::%s:root' % account('bob')})))
        self.assertEqual(self.bob.get_object(Bucket=b, Key='k')['Body']
                         .read(), b'x')
        # ... but one public statement makes the whole policy public.
        self.s3.put_bucket_policy(Bucket=b, Policy=policy(
            stmt(b, {'AWS': 'arn:aws:iam::%s:root' % account('bob')}),
            stmt(b, action='s3:ListBucket') | {
                'Resource': 'arn:aws:s3:::%s' % b}))
        self.assertS3Error('AccessDenied', 403, self.bob.get_object,
                           Bucket=b, Key='k')
        self.s3.delete_public_access_block(Bucket=b)
        self.assertEqual(self.bob.get_object(Bucket=b, Key='k')['Body']
                         .read(), b'x')

    def test_policy_status(self):
        b = self.new_bucket()
        self.assertS3Error('NoSuchBucketPolicy', 404,
                           self.s3.get_bucket_policy_status, Bucket=b)
        bob_root = {'AWS': 'arn:aws:iam::%s:root' % account('bob')}
        cases = [
            (policy(stmt(b)), True),
            (policy(stmt(b, {'AWS': '*'})), True),
            (policy(stmt(b, bob_root)), False),
            (policy(stmt(b, condition={
                'IpAddress': {'aws:SourceIp': ['10.0.0.0/8',
                                               '192.168.1.1']}})), False),
            (policy(stmt(b, condition={
                'IpAddress': {'aws:SourceIp': '0.0.0.0/0'}})), True),
            (policy(stmt(b, condition={
                'NotIpAddress': {'aws:SourceIp': '10.0.0.0/8'}})), True),
            (policy(stmt(b, condition={
                'StringEquals': {'aws:SourceAccount': '123456789012'}})),
             False),
            (policy(stmt(b, condition={
                'ArnLike': {'aws:SourceArn': 'arn:aws:s3:::*'}})), True),
            (policy(stmt(b, condition={
                'StringEquals': {'aws:Referer': 'https://example.com/'}})),
             True),
            (policy(stmt(b) | {'Effect': 'Deny'}), False),
            (policy(stmt(b, bob_root), stmt(b)), True),
        ]
        for text, public in cases:
            with self.subTest(policy=text):
                self.s3.put_bucket_policy(Bucket=b, Policy=text)
                got = self.s3.get_bucket_policy_status(Bucket=b)
                self.assertEqual(got['PolicyStatus']['IsPublic'], public)
        self.assertS3Error('AccessDenied', 403,
                           self.bob.get_bucket_policy_status, Bucket=b)

    def test_aws_cli(self):
        b = self.new_bucket()
        env = clean_env(AWS_ACCESS_KEY_ID='AKADMIN',
                        AWS_SECRET_ACCESS_KEY='SECRETADMIN',
                        AWS_DEFAULT_REGION=self.server.region)

        def aws(*args):
            return subprocess.run(['aws', '--endpoint-url', self.server.url,
                                   's3api'] + list(args), env=env,
                                  check=True, capture_output=True).stdout
        aws('put-public-access-block', '--bucket', b,
            '--public-access-block-configuration',
            'BlockPublicAcls=true,IgnorePublicAcls=true,'
            'BlockPublicPolicy=true,RestrictPublicBuckets=true')
        out = json.loads(aws('get-public-access-block', '--bucket', b))
        self.assertEqual(out['PublicAccessBlockConfiguration'], pab(*FLAGS))
        r = subprocess.run(['aws', '--endpoint-url', self.server.url,
                            's3api', 'put-bucket-acl', '--bucket', b,
                            '--acl', 'public-read'], env=env,
                           capture_output=True)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn(b'AccessDenied', r.stderr)
        aws('delete-public-access-block', '--bucket', b)
        aws('put-bucket-policy', '--bucket', b, '--policy', policy(stmt(b)))
        out = json.loads(aws('get-bucket-policy-status', '--bucket', b))
        self.assertEqual(out['PolicyStatus'], {'IsPublic': True})


if __name__ == '__main__':
    unittest.main()
