"""S3 Object Ownership: Put/Get/DeleteBucketOwnershipControls and
x-amz-object-ownership on CreateBucket, through boto3 and the aws CLI.
BucketOwnerEnforced disables ACLs (AccessControlListNotSupported for any
ACL but the bucket owner's full control on every write that takes one;
GetObjectAcl answers the bucket owner's full control; no ACL grants
anything) and makes the bucket owner own every object;
BucketOwnerPreferred gives the bucket owner what is written with
bucket-owner-full-control; ObjectWriter keeps the writer as owner. The
default for new buckets is the default_object_ownership directive."""

import hashlib
import json
import subprocess
import unittest

from harness import S3gwTestCase, clean_env, unique_name

ALL_USERS = 'http://acs.amazonaws.com/groups/global/AllUsers'


def cid(name):
    return hashlib.sha256(b's3gw:' + name.encode()).hexdigest()


def account(name):
    d = hashlib.sha256(b's3gw:' + name.encode()).digest()
    return ''.join(str(b % 10) for b in d[:12])


def rules(setting):
    return {'Rules': [{'ObjectOwnership': setting}]}


class OwnershipTest(S3gwTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.bob = cls.server.boto3_client('bob')

    def anon_get(self, bucket, key):
        return self.server.http('GET', '/%s/%s' % (bucket, key)).status

    def bucket_for_bob(self, setting=None):
        """A bucket of admin's whose policy lets bob write and read."""
        kw = {'ObjectOwnership': setting} if setting else {}
        b = unique_name('own')
        self.s3.create_bucket(Bucket=b, **kw)
        self.s3.put_bucket_policy(Bucket=b, Policy=json.dumps({
            'Version': '2012-10-17', 'Statement': [{
                'Effect': 'Allow',
                'Principal': {'AWS': 'arn:aws:iam::%s:root' % account('bob')},
                'Action': ['s3:PutObject', 's3:GetObject',
                           's3:PutObjectAcl', 's3:GetObjectAcl'],
                'Resource': 'arn:aws:s3:::%s/*' % b}]}))
        return b

    def owner_of(self, bucket, key):
        return self.s3.get_object_acl(Bucket=bucket, Key=key)['Owner']['ID']

    def test_put_get_delete(self):
        b = self.new_bucket()
        # A new bucket has the server's default (ObjectWriter here).
        got = self.s3.get_bucket_ownership_controls(Bucket=b)
        self.assertEqual(got['OwnershipControls'], rules('ObjectWriter'))
        for setting in ('BucketOwnerPreferred', 'BucketOwnerEnforced',
                        'ObjectWriter'):
            self.s3.put_bucket_ownership_controls(
                Bucket=b, OwnershipControls=rules(setting))
            self.assertEqual(self.s3.get_bucket_ownership_controls(
                Bucket=b)['OwnershipControls'], rules(setting))
        self.s3.delete_bucket_ownership_controls(Bucket=b)
        self.assertS3Error('OwnershipControlsNotFoundError', 404,
                           self.s3.get_bucket_ownership_controls, Bucket=b)
        # Only the owner, or whom a policy allows.
        self.assertS3Error('AccessDenied', 403,
                           self.bob.get_bucket_ownership_controls, Bucket=b)
        self.assertS3Error('AccessDenied', 403,
                           self.bob.put_bucket_ownership_controls, Bucket=b,
                           OwnershipControls=rules('ObjectWriter'))
        self.assertS3Error('AccessDenied', 403,
                           self.bob.delete_bucket_ownership_controls,
                           Bucket=b)
        self.assertS3Error('NoSuchBucket', 404,
                           self.s3.get_bucket_ownership_controls,
                           Bucket=unique_name('absent'))

    def test_malformed(self):
        b = self.new_bucket()
        for body in (b'', b'not xml',
                     b'<OwnershipControls><Rule><ObjectOwnership>Nobody'
                     b'</ObjectOwnership></Rule></OwnershipControls>',
                     b'<OwnershipControls></OwnershipControls>',
                     b'<OwnershipControls><Rule><ObjectOwnership>'
                     b'ObjectWriter</ObjectOwnership></Rule><Rule>'
                     b'<ObjectOwnership>ObjectWriter</ObjectOwnership>'
                     b'</Rule></OwnershipControls>',
                     b'<Other><Rule><ObjectOwnership>ObjectWriter'
                     b'</ObjectOwnership></Rule></Other>'):
            with self.subTest(body=body):
                path = '/%s?ownershipControls' % b
                r = self.server.http('PUT', path, body=body, headers=dict(
                    self.server.sign('PUT', path, body=body)) | {
                        'Content-Length': str(len(body))})
                self.assertEqual((r.status, r.code),
                                 (400, 'MalformedXML'), r.body)
        self.assertEqual(self.s3.get_bucket_ownership_controls(
            Bucket=b)['OwnershipControls'], rules('ObjectWriter'))

    def test_create_bucket_header(self):
        b = unique_name('create')
        self.s3.create_bucket(Bucket=b, ObjectOwnership='BucketOwnerEnforced')
        self.assertEqual(self.s3.get_bucket_ownership_controls(
            Bucket=b)['OwnershipControls'], rules('BucketOwnerEnforced'))
        # An ACL beyond the owner's with ACLs disabled.
        self.assertS3Error('InvalidBucketAclWithObjectOwnership', 400,
                           self.s3.create_bucket, Bucket=unique_name('c'),
                           ACL='public-read',
                           ObjectOwnership='BucketOwnerEnforced')
        c = unique_name('c')
        self.s3.create_bucket(Bucket=c, ACL='private',
                              ObjectOwnership='BucketOwnerEnforced')
        self.assertS3Error('InvalidArgument', 400, self.s3.create_bucket,
                           Bucket=unique_name('c'),
                           ObjectOwnership='bucketownerenforced')

    def test_enforced_refuses_acls(self):
        b = self.bucket_for_bob('BucketOwnerEnforced')
        self.bob.put_object(Bucket=b, Key='src', Body=b'x')
        refused = [
            (self.bob.put_object, dict(Key='k', Body=b'x',
                                       ACL='public-read')),
            (self.bob.put_object, dict(Key='k', Body=b'x',
                                       GrantRead='uri="%s"' % ALL_USERS)),
            (self.bob.put_object, dict(Key='k', Body=b'x',
                                       ACL='bucket-owner-read')),
            (self.bob.put_object_acl, dict(Key='src', ACL='public-read')),
            (self.s3.put_bucket_acl, dict(ACL='public-read')),
            (self.s3.put_bucket_acl, dict(AccessControlPolicy={
                'Owner': {'ID': cid('admin')},
                'Grants': [{'Grantee': {'Type': 'CanonicalUser',
                                        'ID': cid('bob')},
                            'Permission': 'READ'}]})),
            (self.s3.copy_object, dict(Key='copy', ACL='public-read',
                                       CopySource={'Bucket': b,
                                                   'Key': 'src'})),
            (self.s3.create_multipart_upload, dict(Key='mp',
                                                   ACL='public-read')),
        ]
        for fn, kw in refused:
            with self.subTest(fn=fn.__name__, kw=kw):
                self.assertS3Error('AccessControlListNotSupported', 400, fn,
                                   Bucket=b, **kw)
        # The bucket owner's full control, in any form, is no ACL at all.
        self.bob.put_object(Bucket=b, Key='k1', Body=b'x',
                            ACL='bucket-owner-full-control')
        self.bob.put_object(Bucket=b, Key='k2', Body=b'x',
                            GrantFullControl='id="%s"' % cid('admin'))
        self.s3.put_bucket_acl(Bucket=b, ACL='private')
        self.s3.copy_object(Bucket=b, Key='copy', CopySource={
            'Bucket': b, 'Key': 'src'}, ACL='bucket-owner-full-control')

    def test_enforced_bucket_owner_owns_everything(self):
        b = self.bucket_for_bob()
        # Written while ACLs counted: bob's, public.
        self.bob.put_object(Bucket=b, Key='old', Body=b'o',
                            ACL='public-read')
        self.assertEqual(self.bob.get_object_acl(Bucket=b, Key='old')
                         ['Owner']['ID'], cid('bob'))
        self.assertEqual(self.anon_get(b, 'old'), 200)
        self.s3.put_bucket_ownership_controls(
            Bucket=b, OwnershipControls=rules('BucketOwnerEnforced'))
        # Now no ACL counts and the bucket owner owns it.
        self.assertEqual(self.anon_get(b, 'old'), 403)
        acl = self.bob.get_object_acl(Bucket=b, Key='old')
        self.assertEqual(acl['Owner']['ID'], cid('admin'))
        self.assertEqual([(g['Grantee']['ID'], g['Permission'])
                          for g in acl['Grants']],
                         [(cid('admin'), 'FULL_CONTROL')])
        self.bob.put_object(Bucket=b, Key='new', Body=b'n')
        self.assertEqual(self.owner_of(b, 'new'), cid('admin'))
        # The bucket owner reads it, though no policy names admin.
        self.assertEqual(self.s3.get_object(Bucket=b, Key='new')['Body']
                         .read(), b'n')
        # A multipart upload's object too.
        up = self.bob.create_multipart_upload(Bucket=b, Key='mp')
        part = self.bob.upload_part(Bucket=b, Key='mp', PartNumber=1,
                                    UploadId=up['UploadId'], Body=b'p')
        self.bob.complete_multipart_upload(
            Bucket=b, Key='mp', UploadId=up['UploadId'],
            MultipartUpload={'Parts': [{'PartNumber': 1,
                                        'ETag': part['ETag']}]})
        self.assertEqual(self.owner_of(b, 'mp'), cid('admin'))
        # Back to ObjectWriter: ownership does not go back, ACLs count.
        self.s3.put_bucket_ownership_controls(
            Bucket=b, OwnershipControls=rules('ObjectWriter'))
        self.assertEqual(self.owner_of(b, 'new'), cid('admin'))
        self.assertEqual(self.anon_get(b, 'old'), 200)

    def test_enforced_needs_a_private_bucket_acl(self):
        b = self.new_bucket()
        self.s3.put_bucket_acl(Bucket=b, ACL='public-read')
        self.assertS3Error('InvalidBucketAclWithObjectOwnership', 400,
                           self.s3.put_bucket_ownership_controls, Bucket=b,
                           OwnershipControls=rules('BucketOwnerEnforced'))
        self.s3.put_bucket_acl(Bucket=b, ACL='private')
        self.s3.put_bucket_ownership_controls(
            Bucket=b, OwnershipControls=rules('BucketOwnerEnforced'))

    def test_preferred_and_writer(self):
        pref = self.bucket_for_bob('BucketOwnerPreferred')
        self.bob.put_object(Bucket=pref, Key='given', Body=b'x',
                            ACL='bucket-owner-full-control')
        self.bob.put_object(Bucket=pref, Key='kept', Body=b'x')
        self.assertEqual(self.owner_of(pref, 'given'), cid('admin'))
        self.assertEqual(self.bob.get_object_acl(Bucket=pref, Key='kept')
                         ['Owner']['ID'], cid('bob'))
        # ACLs still count under BucketOwnerPreferred.
        self.bob.put_object(Bucket=pref, Key='pub', Body=b'x',
                            ACL='public-read')
        self.assertEqual(self.anon_get(pref, 'pub'), 200)
        writer = self.bucket_for_bob('ObjectWriter')
        self.bob.put_object(Bucket=writer, Key='given', Body=b'x',
                            ACL='bucket-owner-full-control')
        acl = self.s3.get_object_acl(Bucket=writer, Key='given')
        self.assertEqual(acl['Owner']['ID'], cid('bob'))
        self.assertEqual([(g['Grantee']['ID'], g['Permission'])
                          for g in acl['Grants']],
                         [(cid('bob'), 'FULL_CONTROL'),
                          (cid('admin'), 'FULL_CONTROL')])

    def test_default_directive(self):
        srv = self.start_server(conf={
            'default_object_ownership': 'BucketOwnerEnforced'})
        s3 = srv.boto3_client('admin')
        b = unique_name('dflt')
        s3.create_bucket(Bucket=b)
        self.assertEqual(s3.get_bucket_ownership_controls(
            Bucket=b)['OwnershipControls'], rules('BucketOwnerEnforced'))
        self.assertS3Error('AccessControlListNotSupported', 400,
                           s3.put_object, Bucket=b, Key='k', Body=b'',
                           ACL='public-read')
        c = unique_name('dflt')
        s3.create_bucket(Bucket=c, ObjectOwnership='ObjectWriter',
                         ACL='public-read')
        s3.put_object(Bucket=c, Key='k', Body=b'', ACL='public-read')

    def test_aws_cli(self):
        b = self.new_bucket()
        env = clean_env(AWS_ACCESS_KEY_ID='AKADMIN',
                        AWS_SECRET_ACCESS_KEY='SECRETADMIN',
                        AWS_DEFAULT_REGION=self.server.region)

        def aws(*args):
            return subprocess.run(['aws', '--endpoint-url', self.server.url,
                                   's3api'] + list(args), env=env,
                                  check=True, capture_output=True).stdout
        aws('put-bucket-ownership-controls', '--bucket', b,
            '--ownership-controls',
            'Rules=[{ObjectOwnership=BucketOwnerEnforced}]')
        out = json.loads(aws('get-bucket-ownership-controls', '--bucket', b))
        self.assertEqual(out['OwnershipControls'],
                         rules('BucketOwnerEnforced'))
        aws('delete-bucket-ownership-controls', '--bucket', b)


if __name__ == '__main__':
    unittest.main()
