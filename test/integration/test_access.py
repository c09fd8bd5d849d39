"""Access control: accounts, bucket policies and ACLs, decided on every
request. Two users (admin, bob) and anonymous callers (raw HTTP without a
signature, and curl), through boto3, the aws CLI and s3cmd: public-read
buckets, a write-only CI key, deny by IP (and through a trusted proxy),
cross-account grants, object ACL against bucket ACL, presigned URLs of a
user without rights, policy variables and conditions, malformed documents,
and reloading the users with SIGHUP."""

import datetime
import hashlib
import io
import json
import os
import signal
import subprocess
import time
import unittest

from botocore.exceptions import ClientError

from harness import S3gwTestCase, clean_env, s3_quote, unique_name

ALL_USERS = 'http://acs.amazonaws.com/groups/global/AllUsers'
AUTH_USERS = 'http://acs.amazonaws.com/groups/global/AuthenticatedUsers'


def canonical_id(name):
    return hashlib.sha256(b's3gw:' + name.encode()).hexdigest()


def account_id(name):
    d = hashlib.sha256(b's3gw:' + name.encode()).digest()
    return ''.join(str(b % 10) for b in d[:12])


def policy(*statements):
    return json.dumps({'Version': '2012-10-17', 'Statement': list(statements)})


def grants_of(acl):
    """{(grantee, permission)} of a boto3 Get*Acl answer."""
    out = set()
    for g in acl['Grants']:
        who = g['Grantee'].get('ID') or g['Grantee'].get('URI')
        out.add((who, g['Permission']))
    return out


class AccessTest(S3gwTestCase):

    conf = {'log_level': 'debug'}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.bob = cls.server.boto3_client('bob')

    def anon(self, method, bucket, key=None, body=None, headers=None):
        path = '/' + bucket + ('/' + s3_quote(key) if key else '')
        return self.server.http(method, path, headers=headers, body=body)

    def put_policy(self, bucket, *statements, client=None):
        (client or self.s3).put_bucket_policy(Bucket=bucket,
                                              Policy=policy(*statements))

    # --- Accounts ---------------------------------------------------------

    def test_buckets_are_private_to_their_owner(self):
        mine = self.new_bucket()
        theirs = self.new_bucket(client=self.bob)
        self.s3.put_object(Bucket=mine, Key='k', Body=b'mine')
        names = [b['Name'] for b in self.s3.list_buckets()['Buckets']]
        self.assertIn(mine, names)
        self.assertNotIn(theirs, names)
        names = [b['Name'] for b in self.bob.list_buckets()['Buckets']]
        self.assertEqual((mine in names, theirs in names), (False, True))
        # HeadBucket: 403 for a bucket that exists, 404 for one that does not.
        self.assertS3Error(None, 403, self.bob.head_bucket, Bucket=mine)
        self.assertS3Error(None, 404, self.bob.head_bucket,
                           Bucket=unique_name('absent'))
        for fn, kw in ((self.bob.get_object, {'Key': 'k'}),
                       (self.bob.put_object, {'Key': 'x', 'Body': b'x'}),
                       (self.bob.delete_object, {'Key': 'k'}),
                       (self.bob.list_objects_v2, {}),
                       (self.bob.get_bucket_acl, {}),
                       (self.bob.delete_bucket, {})):
            with self.subTest(fn=fn.__name__):
                self.assertS3Error('AccessDenied', 403, fn, Bucket=mine, **kw)
        self.assertEqual(self.s3.get_object(Bucket=mine, Key='k')['Body']
                         .read(), b'mine')
        # Anonymous ListBuckets is refused, as S3.
        r = self.server.http('GET', '/')
        self.assertRawError(r, 403, 'AccessDenied')

    def test_expected_bucket_owner(self):
        bucket = self.new_bucket()
        self.s3.put_object(Bucket=bucket, Key='k', Body=b'v',
                           ExpectedBucketOwner=account_id('admin'))
        self.assertS3Error('AccessDenied', 403, self.s3.put_object,
                           Bucket=bucket, Key='k2', Body=b'v',
                           ExpectedBucketOwner=account_id('bob'))
        self.assertS3Error('AccessDenied', 403, self.s3.list_objects_v2,
                           Bucket=bucket, ExpectedBucketOwner='12')
        self.assertEqual(self.s3.list_objects_v2(
            Bucket=bucket, ExpectedBucketOwner=account_id('admin'))
            ['KeyCount'], 1)

    def test_deleted_bucket_takes_its_acl_and_policy_along(self):
        bucket = unique_name('reborn')
        self.s3.create_bucket(Bucket=bucket, ACL='public-read-write')
        self.put_policy(bucket, {'Effect': 'Allow', 'Principal': '*',
                                 'Action': 's3:GetObject',
                                 'Resource': 'arn:aws:s3:::%s/*' % bucket})
        self.s3.delete_bucket(Bucket=bucket)
        # Whoever creates the name next starts private, with no policy.
        self.bob.create_bucket(Bucket=bucket)
        self.assertS3Error('NoSuchBucketPolicy', 404,
                           self.bob.get_bucket_policy, Bucket=bucket)
        self.assertEqual(grants_of(self.bob.get_bucket_acl(Bucket=bucket)),
                         {(canonical_id('bob'), 'FULL_CONTROL')})
        self.bob.put_object(Bucket=bucket, Key='k', Body=b'v')
        self.assertRawError(self.anon('GET', bucket, 'k'), 403, 'AccessDenied')
        self.assertRawError(self.anon('PUT', bucket, 'x', b'x'), 403,
                            'AccessDenied')
        self.assertS3Error('AccessDenied', 403, self.s3.list_objects_v2,
                           Bucket=bucket)

    def test_owner_of_acl_is_the_creator(self):
        bucket = self.new_bucket()
        acl = self.s3.get_bucket_acl(Bucket=bucket)
        self.assertEqual(acl['Owner']['ID'], canonical_id('admin'))
        self.assertEqual(acl['Owner']['DisplayName'], 'admin')
        self.assertEqual(grants_of(acl),
                         {(canonical_id('admin'), 'FULL_CONTROL')})

    # --- Canned ACLs and the public ----------------------------------------

    def test_public_read_bucket(self):
        bucket = unique_name('public')
        self.s3.create_bucket(Bucket=bucket, ACL='public-read')
        self.s3.put_object(Bucket=bucket, Key='index.html', Body=b'<h1>hi</h1>',
                           ACL='public-read')
        self.s3.put_object(Bucket=bucket, Key='private.txt', Body=b'secret')
        acl = self.s3.get_bucket_acl(Bucket=bucket)
        self.assertIn((ALL_USERS, 'READ'), grants_of(acl))

        # The bucket ACL lets anyone list; each object's ACL decides reads.
        r = self.anon('GET', bucket)
        self.assertEqual(r.status, 200, r)
        keys = [e.text for e in r.xml().iter('Key')]
        self.assertEqual(keys, ['index.html', 'private.txt'])
        r = self.anon('GET', bucket, 'index.html')
        self.assertEqual((r.status, r.body), (200, b'<h1>hi</h1>'))
        self.assertRawError(self.anon('GET', bucket, 'private.txt'), 403,
                            'AccessDenied')
        # Listing is allowed, so a missing key is a 404.
        self.assertRawError(self.anon('GET', bucket, 'nope'), 404, 'NoSuchKey')
        # Writing needs WRITE, which public-read does not grant.
        self.assertRawError(self.anon('PUT', bucket, 'vandal', b'x'), 403,
                            'AccessDenied')
        self.assertRawError(self.anon('DELETE', bucket, 'index.html'), 403,
                            'AccessDenied')
        # And curl, the way a browser or a download script fetches it.
        out = subprocess.run(
            ['curl', '-sS', '-o', '-', '-w', '\n%{http_code}',
             '%s/%s/index.html' % (self.server.url, bucket)],
            capture_output=True, env=clean_env(), timeout=30)
        self.assertEqual(out.stdout, b'<h1>hi</h1>\n200', out.stderr)

    def test_object_acl_against_bucket_acl(self):
        # A private bucket with a public object: readable, not listable.
        bucket = self.new_bucket()
        self.s3.put_object(Bucket=bucket, Key='pub', Body=b'p')
        self.s3.put_object_acl(Bucket=bucket, Key='pub', ACL='public-read')
        r = self.anon('GET', bucket, 'pub')
        self.assertEqual((r.status, r.body), (200, b'p'))
        self.assertRawError(self.anon('GET', bucket), 403, 'AccessDenied')
        # Not listable, so a missing key is a 403, not a 404.
        self.assertRawError(self.anon('GET', bucket, 'nope'), 403,
                            'AccessDenied')
        self.assertIn((ALL_USERS, 'READ'),
                      grants_of(self.s3.get_object_acl(Bucket=bucket,
                                                       Key='pub')))
        # Back to private.
        self.s3.put_object_acl(Bucket=bucket, Key='pub', ACL='private')
        self.assertRawError(self.anon('GET', bucket, 'pub'), 403,
                            'AccessDenied')
        # An overwrite without x-amz-acl is private again, as S3.
        self.s3.put_object(Bucket=bucket, Key='pub2', Body=b'1',
                           ACL='public-read')
        self.assertEqual(self.anon('GET', bucket, 'pub2').status, 200)
        self.s3.put_object(Bucket=bucket, Key='pub2', Body=b'2')
        self.assertEqual(self.anon('GET', bucket, 'pub2').status, 403)

    def test_public_read_write_and_authenticated_read(self):
        bucket = self.new_bucket()
        self.s3.put_bucket_acl(Bucket=bucket, ACL='public-read-write')
        r = self.anon('PUT', bucket, 'drop', b'anonymous bytes',
                      headers={'x-amz-acl': 'bucket-owner-full-control'})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(self.s3.get_object(Bucket=bucket, Key='drop')['Body']
                         .read(), b'anonymous bytes')
        # Without that ACL the writer owns it, and the bucket owner may
        # delete but not read it (S3 with ACLs enabled: ObjectWriter).
        r = self.anon('PUT', bucket, 'drop2', b'mine now')
        self.assertEqual(r.status, 200, r)
        self.assertS3Error('AccessDenied', 403, self.s3.get_object,
                           Bucket=bucket, Key='drop2')
        self.s3.delete_object(Bucket=bucket, Key='drop2')

        bucket2 = self.new_bucket()
        self.s3.put_bucket_acl(Bucket=bucket2, ACL='authenticated-read')
        self.assertEqual(self.bob.list_objects_v2(Bucket=bucket2)['KeyCount'],
                         0)
        self.assertRawError(self.anon('GET', bucket2), 403, 'AccessDenied')

    def test_unknown_canned_acl(self):
        bucket = self.new_bucket()
        r = self.server.signed('PUT', '/%s?acl' % bucket,
                               headers={'x-amz-acl': 'world-writable'})
        self.assertRawError(r, 400, 'InvalidArgument')
        r = self.server.signed('PUT', '/%s/k' % bucket, body=b'x',
                               headers={'x-amz-acl': 'public-read',
                                        'x-amz-grant-read': 'uri="%s"'
                                        % ALL_USERS})
        self.assertRawError(r, 400, 'InvalidRequest')

    # --- Cross-account grants ----------------------------------------------

    def test_cross_account_grants(self):
        bucket = self.new_bucket()
        self.s3.put_object(Bucket=bucket, Key='shared', Body=b'for bob')
        self.s3.put_object(Bucket=bucket, Key='unshared', Body=b'not for bob')
        # Bucket READ lets bob list, but reading needs the object's grant.
        self.s3.put_bucket_acl(Bucket=bucket,
                               GrantRead='id="%s"' % canonical_id('bob'),
                               GrantFullControl='id="%s"'
                               % canonical_id('admin'))
        keys = [o['Key'] for o in
                self.bob.list_objects_v2(Bucket=bucket)['Contents']]
        self.assertEqual(keys, ['shared', 'unshared'])
        self.assertS3Error('AccessDenied', 403, self.bob.get_object,
                           Bucket=bucket, Key='shared')
        self.s3.put_object_acl(Bucket=bucket, Key='shared',
                               GrantRead='id=%s' % canonical_id('bob'))
        self.assertEqual(self.bob.get_object(Bucket=bucket, Key='shared')
                         ['Body'].read(), b'for bob')
        self.assertS3Error('AccessDenied', 403, self.bob.get_object,
                           Bucket=bucket, Key='unshared')
        # READ on the bucket is not WRITE.
        self.assertS3Error('AccessDenied', 403, self.bob.put_object,
                           Bucket=bucket, Key='new', Body=b'x')
        # READ_ACP on the object lets bob see its ACL, not change it.
        self.assertS3Error('AccessDenied', 403, self.bob.get_object_acl,
                           Bucket=bucket, Key='shared')
        self.assertS3Error('AccessDenied', 403, self.bob.put_object_acl,
                           Bucket=bucket, Key='shared', ACL='public-read')

    def test_writer_owns_what_it_writes(self):
        bucket = self.new_bucket()
        self.s3.put_bucket_acl(Bucket=bucket,
                               GrantWrite='id="%s"' % canonical_id('bob'),
                               GrantFullControl='id="%s"'
                               % canonical_id('admin'))
        self.bob.put_object(Bucket=bucket, Key='bobs', Body=b'b')
        self.bob.put_object(Bucket=bucket, Key='shared', Body=b's',
                            ACL='bucket-owner-full-control')
        # bob owns his objects; the bucket owner reads only what he shares.
        acl = self.bob.get_object_acl(Bucket=bucket, Key='bobs')
        self.assertEqual(acl['Owner']['ID'], canonical_id('bob'))
        self.assertS3Error('AccessDenied', 403, self.s3.get_object,
                           Bucket=bucket, Key='bobs')
        self.assertEqual(self.s3.get_object(Bucket=bucket, Key='shared')
                         ['Body'].read(), b's')
        self.assertIn((canonical_id('admin'), 'FULL_CONTROL'),
                      grants_of(self.bob.get_object_acl(Bucket=bucket,
                                                        Key='shared')))
        # ... but may always delete from his bucket.
        self.s3.delete_object(Bucket=bucket, Key='bobs')
        self.assertNotIn('Contents', self.s3.list_objects_v2(Bucket=bucket,
                                                             Prefix='bobs'))

    def test_acl_document_and_email_grantee(self):
        srv = self.start_server(users={
            'admin': ('AKADMIN', 'SECRETADMIN'),
            'carol': ('AKCAROL', 'SECRETCAROL',
                      {'email': 'carol@example.com',
                       'display_name': '"Carol Example"'})})
        s3 = srv.boto3_client('admin')
        carol = srv.boto3_client('carol')
        bucket = unique_name('acldoc')
        s3.create_bucket(Bucket=bucket)
        s3.put_object(Bucket=bucket, Key='k', Body=b'v')
        owner = {'ID': canonical_id('admin'), 'DisplayName': 'admin'}
        s3.put_object_acl(Bucket=bucket, Key='k', AccessControlPolicy={
            'Owner': owner,
            'Grants': [
                {'Grantee': {'Type': 'CanonicalUser',
                             'ID': canonical_id('admin')},
                 'Permission': 'FULL_CONTROL'},
                {'Grantee': {'Type': 'AmazonCustomerByEmail',
                             'EmailAddress': 'carol@example.com'},
                 'Permission': 'READ'}]})
        acl = s3.get_object_acl(Bucket=bucket, Key='k')
        self.assertEqual(grants_of(acl),
                         {(canonical_id('admin'), 'FULL_CONTROL'),
                          (canonical_id('carol'), 'READ')})
        names = {g['Grantee'].get('DisplayName') for g in acl['Grants']}
        self.assertIn('Carol Example', names)
        self.assertEqual(carol.get_object(Bucket=bucket, Key='k')['Body']
                         .read(), b'v')
        with self.assertRaises(ClientError) as cm:
            s3.put_object_acl(Bucket=bucket, Key='k',
                              GrantRead='emailAddress="nobody@example.com"')
        self.assertEqual(cm.exception.response['Error']['Code'],
                         'UnresolvableGrantByEmailAddress')

    def test_malformed_acl_documents(self):
        bucket = self.new_bucket()
        owner = ('<Owner><ID>%s</ID></Owner>' % canonical_id('admin')).encode()
        before = grants_of(self.s3.get_bucket_acl(Bucket=bucket))
        for body in (b'<AccessControlPolicy>', b'not xml at all',
                     b'<Other/>',
                     b'<AccessControlPolicy>' + owner +
                     b'<AccessControlList><Grant><Permission>READ'
                     b'</Permission></Grant></AccessControlList>'
                     b'</AccessControlPolicy>',
                     b'<AccessControlPolicy>' + owner +
                     b'<AccessControlList><Grant><Grantee><URI>' +
                     ALL_USERS.encode() + b'</URI></Grantee><Permission>'
                     b'EVERYTHING</Permission></Grant></AccessControlList>'
                     b'</AccessControlPolicy>',
                     b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY e "x">]>'
                     b'<AccessControlPolicy/>'):
            with self.subTest(body=body[:40]):
                r = self.server.signed('PUT', '/%s?acl' % bucket, body=body)
                self.assertRawError(r, 400, 'MalformedACLError')
        self.assertEqual(grants_of(self.s3.get_bucket_acl(Bucket=bucket)),
                         before)

    # --- Bucket policies ---------------------------------------------------

    def test_policy_round_trip_and_delete(self):
        bucket = self.new_bucket()
        self.assertS3Error('NoSuchBucketPolicy', 404,
                           self.s3.get_bucket_policy, Bucket=bucket)
        text = policy({'Sid': 'PublicRead', 'Effect': 'Allow',
                       'Principal': '*', 'Action': 's3:GetObject',
                       'Resource': 'arn:aws:s3:::%s/*' % bucket})
        r = self.s3.put_bucket_policy(Bucket=bucket, Policy=text)
        self.assertEqual(r['ResponseMetadata']['HTTPStatusCode'], 204)
        self.assertEqual(json.loads(self.s3.get_bucket_policy(Bucket=bucket)
                                    ['Policy']), json.loads(text))
        self.s3.put_object(Bucket=bucket, Key='a', Body=b'A')
        self.assertEqual(self.anon('GET', bucket, 'a').body, b'A')
        # GetObject without ListBucket: a missing key is a 403.
        self.assertRawError(self.anon('GET', bucket, 'zz'), 403,
                            'AccessDenied')
        r = self.s3.delete_bucket_policy(Bucket=bucket)
        self.assertEqual(r['ResponseMetadata']['HTTPStatusCode'], 204)
        self.assertRawError(self.anon('GET', bucket, 'a'), 403, 'AccessDenied')
        self.assertS3Error('NoSuchBucketPolicy', 404,
                           self.s3.get_bucket_policy, Bucket=bucket)

    def test_write_only_ci_key(self):
        # The textbook CI policy: bob may put under artifacts/, handing the
        # bucket owner full control of what he writes.
        bucket = self.new_bucket()
        self.put_policy(bucket, {
            'Sid': 'CiUploads', 'Effect': 'Allow',
            'Principal': {'AWS': 'arn:aws:iam::%s:user/bob'
                                 % account_id('bob')},
            'Action': 's3:PutObject',
            'Resource': 'arn:aws:s3:::%s/artifacts/*' % bucket,
            'Condition': {'StringEquals': {
                's3:x-amz-acl': 'bucket-owner-full-control'}}})
        self.bob.put_object(Bucket=bucket, Key='artifacts/build-1.tar',
                            Body=b'tarball', ACL='bucket-owner-full-control')
        self.s3.put_object(Bucket=bucket, Key='artifacts/admins', Body=b'a')
        self.assertEqual(self.s3.get_object(Bucket=bucket,
                                            Key='artifacts/build-1.tar')
                         ['Body'].read(), b'tarball')
        for fn, kw in ((self.bob.put_object, {'Key': 'artifacts/no-acl',
                                              'Body': b'x'}),
                       (self.bob.put_object, {
                           'Key': 'elsewhere', 'Body': b'x',
                           'ACL': 'bucket-owner-full-control'}),
                       (self.bob.get_object, {'Key': 'artifacts/admins'}),
                       (self.bob.delete_object,
                        {'Key': 'artifacts/build-1.tar'}),
                       (self.bob.list_objects_v2, {})):
            with self.subTest(fn=fn.__name__, kw=kw):
                self.assertS3Error('AccessDenied', 403, fn, Bucket=bucket,
                                   **kw)
        # Multipart uploads are PutObject too.
        data = os.urandom(100)
        self.bob.upload_fileobj(io.BytesIO(data), bucket, 'artifacts/mp.bin',
                                ExtraArgs={'ACL': 'bucket-owner-full-control'})
        self.assertEqual(self.s3.get_object(Bucket=bucket,
                                            Key='artifacts/mp.bin')
                         ['Body'].read(), data)
        # And the aws CLI, as a CI job would run it.
        src = os.path.join(self.server.dir, 'artifact.txt')
        with open(src, 'wb') as f:
            f.write(b'from the cli')
        out = self.server.aws('s3', 'cp', '--acl', 'bucket-owner-full-control',
                              src, 's3://%s/artifacts/cli.txt' % bucket,
                              user='bob')
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(self.s3.get_object(Bucket=bucket,
                                            Key='artifacts/cli.txt')
                         ['Body'].read(), b'from the cli')
        out = self.server.aws('s3', 'cp', src, 's3://%s/other.txt' % bucket,
                              user='bob')
        self.assertNotEqual(out.returncode, 0)
        self.assertIn('AccessDenied', out.stderr)

    def test_explicit_deny_wins(self):
        bucket = self.new_bucket()
        self.s3.put_object(Bucket=bucket, Key='keep', Body=b'k')
        self.s3.put_bucket_acl(Bucket=bucket, ACL='public-read-write')
        self.put_policy(
            bucket,
            {'Sid': 'NoDeletes', 'Effect': 'Deny', 'Principal': '*',
             'Action': 's3:DeleteObject',
             'Resource': 'arn:aws:s3:::%s/*' % bucket},
            {'Sid': 'Everything', 'Effect': 'Allow', 'Principal': '*',
             'Action': 's3:*', 'Resource': ['arn:aws:s3:::%s' % bucket,
                                             'arn:aws:s3:::%s/*' % bucket]})
        # Not even the owner deletes; the ACL's WRITE does not help either.
        self.assertS3Error('AccessDenied', 403, self.s3.delete_object,
                           Bucket=bucket, Key='keep')
        self.assertRawError(self.anon('DELETE', bucket, 'keep'), 403,
                            'AccessDenied')
        r = self.s3.delete_objects(Bucket=bucket,
                                   Delete={'Objects': [{'Key': 'keep'}]})
        self.assertEqual([e['Code'] for e in r['Errors']], ['AccessDenied'])
        self.assertEqual(self.bob.get_object(Bucket=bucket, Key='keep')
                         ['Body'].read(), b'k')
        # The owner can always take the policy away again.
        self.s3.delete_bucket_policy(Bucket=bucket)
        self.s3.delete_object(Bucket=bucket, Key='keep')

    def test_policy_is_the_owners_to_manage(self):
        bucket = self.new_bucket()
        text = policy({'Effect': 'Allow', 'Principal': '*',
                       'Action': 's3:GetObject',
                       'Resource': 'arn:aws:s3:::%s/*' % bucket})
        self.assertS3Error('AccessDenied', 403, self.bob.put_bucket_policy,
                           Bucket=bucket, Policy=text)
        self.assertS3Error('AccessDenied', 403, self.bob.get_bucket_policy,
                           Bucket=bucket)
        # Another account that a policy allows gets 405, as S3.
        self.put_policy(bucket, {
            'Effect': 'Allow', 'Principal': {'AWS': account_id('bob')},
            'Action': 's3:GetBucketPolicy',
            'Resource': 'arn:aws:s3:::%s' % bucket})
        self.assertS3Error('MethodNotAllowed', 405, self.bob.get_bucket_policy,
                           Bucket=bucket)

    def test_deny_by_ip(self):
        bucket = self.new_bucket()
        self.s3.put_object(Bucket=bucket, Key='k', Body=b'v')
        self.put_policy(bucket, {
            'Sid': 'OfficeOnly', 'Effect': 'Deny', 'Principal': '*',
            'Action': 's3:*', 'Resource': 'arn:aws:s3:::%s/*' % bucket,
            'Condition': {'NotIpAddress': {'aws:SourceIp': '10.1.0.0/16'}}})
        self.assertS3Error('AccessDenied', 403, self.s3.get_object,
                           Bucket=bucket, Key='k')
        self.put_policy(bucket, {
            'Sid': 'LoopbackReads', 'Effect': 'Allow', 'Principal': '*',
            'Action': 's3:GetObject',
            'Resource': 'arn:aws:s3:::%s/*' % bucket,
            'Condition': {'IpAddress': {'aws:SourceIp': ['127.0.0.0/8',
                                                         '::1/128']}}})
        self.assertEqual(self.anon('GET', bucket, 'k').body, b'v')
        # X-Forwarded-For is not believed from an untrusted peer.
        r = self.anon('GET', bucket, 'k',
                      headers={'X-Forwarded-For': '203.0.113.9'})
        self.assertEqual(r.status, 200, r)

    def test_source_ip_through_a_trusted_proxy(self):
        srv = self.start_server(conf={'trusted_proxy': '127.0.0.1'})
        s3 = srv.boto3_client()
        bucket = unique_name('proxy')
        s3.create_bucket(Bucket=bucket)
        s3.put_object(Bucket=bucket, Key='k', Body=b'v')
        s3.put_bucket_policy(Bucket=bucket, Policy=policy(
            {'Effect': 'Allow', 'Principal': '*', 'Action': 's3:GetObject',
             'Resource': 'arn:aws:s3:::%s/*' % bucket,
             'Condition': {'IpAddress': {'aws:SourceIp': '198.51.100.0/24'},
                           'Bool': {'aws:SecureTransport': 'true'}}}))
        path = '/%s/k' % bucket
        r = srv.http('GET', path, headers={
            'X-Forwarded-For': '198.51.100.7', 'X-Forwarded-Proto': 'https'})
        self.assertEqual((r.status, r.body), (200, b'v'))
        # The client is the rightmost hop that is not a trusted proxy.
        r = srv.http('GET', path, headers={
            'X-Forwarded-For': '198.51.100.7, 203.0.113.1',
            'X-Forwarded-Proto': 'https'})
        self.assertEqual(r.status, 403, r)
        r = srv.http('GET', path, headers={
            'X-Forwarded-For': '198.51.100.7', 'X-Forwarded-Proto': 'http'})
        self.assertEqual(r.status, 403, r)
        self.assertEqual(srv.http('GET', path).status, 403)

    def test_policy_variables_and_conditions(self):
        bucket = self.new_bucket()
        self.put_policy(
            bucket,
            {'Sid': 'Home', 'Effect': 'Allow',
             'Principal': {'AWS': ['arn:aws:iam::%s:root' % account_id('bob')]},
             'Action': ['s3:GetObject', 's3:PutObject'],
             'Resource': 'arn:aws:s3:::%s/home/${aws:username}/*' % bucket},
            {'Sid': 'ListHome', 'Effect': 'Allow',
             'Principal': {'AWS': account_id('bob')},
             'Action': 's3:ListBucket', 'Resource': 'arn:aws:s3:::%s' % bucket,
             'Condition': {'StringLike': {'s3:prefix': 'home/${aws:username}/*'
                                          }}},
            {'Sid': 'Tagged', 'Effect': 'Allow', 'Principal': '*',
             'Action': 's3:GetObject',
             'Resource': 'arn:aws:s3:::%s/*' % bucket,
             'Condition': {'StringEquals': {
                 's3:ExistingObjectTag/public': 'yes'}}})
        self.bob.put_object(Bucket=bucket, Key='home/bob/notes', Body=b'n')
        self.assertEqual(self.bob.get_object(Bucket=bucket,
                                             Key='home/bob/notes')['Body']
                         .read(), b'n')
        self.assertS3Error('AccessDenied', 403, self.bob.put_object,
                           Bucket=bucket, Key='home/alice/notes', Body=b'x')
        self.assertEqual(self.bob.list_objects_v2(
            Bucket=bucket, Prefix='home/bob/')['KeyCount'], 1)
        self.assertS3Error('AccessDenied', 403, self.bob.list_objects_v2,
                           Bucket=bucket, Prefix='home/')
        self.assertS3Error('AccessDenied', 403, self.bob.list_objects_v2,
                           Bucket=bucket)
        self.s3.put_object(Bucket=bucket, Key='flyer', Body=b'f',
                           Tagging='public=yes')
        self.s3.put_object(Bucket=bucket, Key='memo', Body=b'm',
                           Tagging='public=no')
        self.assertEqual(self.anon('GET', bucket, 'flyer').body, b'f')
        self.assertEqual(self.anon('GET', bucket, 'memo').status, 403)

    def test_malformed_policies(self):
        bucket = self.new_bucket()
        res = 'arn:aws:s3:::%s/*' % bucket
        cases = [
            ('not json', None),
            ('{"Statement": []}', None),
            (policy({'Effect': 'Allow', 'Action': 's3:GetObject',
                     'Resource': res}), 'Missing required field Principal'),
            (policy({'Effect': 'Allow', 'Principal': '*',
                     'Action': 's3:FlyToTheMoon', 'Resource': res}),
             'Policy has invalid action'),
            (policy({'Effect': 'Allow', 'Principal': '*',
                     'Action': 's3:GetObject',
                     'Resource': 'arn:aws:s3:::another-bucket/*'}),
             'Policy has invalid resource'),
            (policy({'Effect': 'Allow', 'Principal': {
                'AWS': 'arn:aws:iam::999999999999:root'},
                'Action': 's3:GetObject', 'Resource': res}),
             'Invalid principal in policy'),
            (policy({'Effect': 'Allow', 'Principal': '*',
                     'Action': 's3:GetObject',
                     'Resource': 'arn:aws:s3:::%s' % bucket}),
             'Action does not apply to any resource(s) in statement'),
            (policy({'Effect': 'Maybe', 'Principal': '*',
                     'Action': 's3:GetObject', 'Resource': res}), None),
            (policy({'Effect': 'Allow', 'Principal': '*',
                     'Action': 's3:GetObject', 'Resource': res,
                     'Condition': {'IpAddress': {'aws:SourceIp': 'nope'}}}),
             None),
            (policy({'Effect': 'Allow', 'Principal': '*',
                     'Action': 's3:GetObject', 'Resource': res,
                     'Condition': {'StringEquals': {'aws:NoSuchKey': 'x'}}}),
             'Policy has an invalid condition key'),
            ('{' * 5000, None),
            ('{"Version": "2012-10-17", "Statement": [' + ','.join(
                ['{"Effect": "Allow", "Principal": "*", "Action": '
                 '"s3:GetObject", "Resource": "%s"}' % res] * 400) + ']}',
             'Policy exceeds the maximum allowed document size.'),
        ]
        for text, why in cases:
            with self.subTest(text=text[:60]):
                with self.assertRaises(ClientError) as cm:
                    self.s3.put_bucket_policy(Bucket=bucket, Policy=text)
                err = cm.exception.response['Error']
                self.assertEqual(err['Code'], 'MalformedPolicy', err)
                if why:
                    self.assertEqual(err['Message'], why)
        self.assertS3Error('NoSuchBucketPolicy', 404,
                           self.s3.get_bucket_policy, Bucket=bucket)

    # --- Presigned URLs ----------------------------------------------------

    def test_presigned_urls_carry_the_signers_rights(self):
        bucket = self.new_bucket()
        self.s3.put_object(Bucket=bucket, Key='report.pdf', Body=b'%PDF')
        mine = self.server.presign('GET', '/%s/report.pdf' % bucket)
        r = self.server.http('GET', mine)
        self.assertEqual((r.status, r.body), (200, b'%PDF'))
        bobs = self.server.presign('GET', '/%s/report.pdf' % bucket,
                                   user='bob')
        self.assertRawError(self.server.http('GET', bobs), 403, 'AccessDenied')
        self.s3.put_object_acl(Bucket=bucket, Key='report.pdf',
                               GrantRead='id="%s"' % canonical_id('bob'))
        r = self.server.http('GET', bobs)
        self.assertEqual((r.status, r.body), (200, b'%PDF'))

    def test_signature_age_and_principal_arn(self):
        bucket = self.new_bucket()
        self.s3.put_object(Bucket=bucket, Key='k', Body=b'v')
        self.put_policy(
            bucket,
            {'Sid': 'FreshLinksOnly', 'Effect': 'Deny', 'Principal': '*',
             'Action': 's3:GetObject', 'Resource': 'arn:aws:s3:::%s/*' % bucket,
             'Condition': {'NumericGreaterThan': {'s3:signatureAge': 600000}}},
            {'Sid': 'Bob', 'Effect': 'Allow', 'Principal': '*',
             'Action': 's3:GetObject', 'Resource': 'arn:aws:s3:::%s/*' % bucket,
             'Condition': {'ArnLike': {'aws:PrincipalArn':
                                       'arn:aws:iam::*:user/bob'}}})
        path = '/%s/k' % bucket
        fresh = self.server.presign('GET', path, user='bob')
        self.assertEqual(self.server.http('GET', fresh).body, b'v')
        old = self.server.presign('GET', path, user='bob', now=(
            datetime.datetime.now(datetime.timezone.utc)
            - datetime.timedelta(minutes=11)).replace(tzinfo=None))
        self.assertRawError(self.server.http('GET', old), 403, 'AccessDenied')
        # The owner needs no policy; anonymous has no ARN to match.
        mine = self.server.presign('GET', path, user='admin')
        self.assertEqual(self.server.http('GET', mine).status, 200)
        self.assertRawError(self.anon('GET', bucket, 'k'), 403, 'AccessDenied')

    # --- s3cmd and the decision log -------------------------------------------

    def test_s3cmd_setacl_and_setpolicy(self):
        bucket = self.new_bucket()
        self.s3.put_object(Bucket=bucket, Key='file.txt', Body=b'hello')
        out = self.server.s3cmd('setacl', '--acl-public',
                                's3://%s/file.txt' % bucket)
        self.assertEqual(out.returncode, 0, out.stderr + out.stdout)
        self.assertEqual(self.anon('GET', bucket, 'file.txt').body, b'hello')
        out = self.server.s3cmd('setacl', '--acl-private',
                                's3://%s/file.txt' % bucket)
        self.assertEqual(out.returncode, 0, out.stderr + out.stdout)
        self.assertEqual(self.anon('GET', bucket, 'file.txt').status, 403)

        path = os.path.join(self.server.dir, 'policy.json')
        with open(path, 'w') as f:
            f.write(policy({'Effect': 'Allow', 'Principal': '*',
                            'Action': ['s3:GetObject', 's3:ListBucket'],
                            'Resource': ['arn:aws:s3:::%s' % bucket,
                                         'arn:aws:s3:::%s/*' % bucket]}))
        out = self.server.s3cmd('setpolicy', path, 's3://%s' % bucket)
        self.assertEqual(out.returncode, 0, out.stderr + out.stdout)
        self.assertEqual(self.anon('GET', bucket, 'file.txt').body, b'hello')
        self.assertEqual(self.anon('GET', bucket).status, 200)
        out = self.server.s3cmd('info', 's3://%s' % bucket)
        self.assertEqual(out.returncode, 0, out.stderr + out.stdout)
        self.assertIn('s3:ListBucket', out.stdout)
        out = self.server.s3cmd('delpolicy', 's3://%s' % bucket)
        self.assertEqual(out.returncode, 0, out.stderr + out.stdout)
        self.assertEqual(self.anon('GET', bucket, 'file.txt').status, 403)

    def test_decision_is_logged_at_debug(self):
        bucket = self.new_bucket()
        self.put_policy(bucket, {'Sid': 'ReadersOfTheWorld', 'Effect': 'Allow',
                                 'Principal': '*', 'Action': 's3:GetObject',
                                 'Resource': 'arn:aws:s3:::%s/*' % bucket})
        self.s3.put_object(Bucket=bucket, Key='x', Body=b'x')
        mark = self.server.log_size()
        self.assertEqual(self.anon('GET', bucket, 'x').status, 200)
        self.assertEqual(self.anon('PUT', bucket, 'y', b'y').status, 403)
        time.sleep(0.2)
        log = self.server.stderr_text()[mark:]
        self.assertIn('access s3:GetObject arn:aws:s3:::%s/x by anonymous: '
                      'allowed (policy statement ReadersOfTheWorld allows)'
                      % bucket, log)
        self.assertIn('access s3:PutObject arn:aws:s3:::%s/y by anonymous: '
                      'denied (nothing allows it)' % bucket, log)
        self.assertNotIn('SECRETADMIN', log)


class ReloadTest(S3gwTestCase):
    """SIGHUP re-reads the users without dropping connections; ACLs and
    policies outlive a restart."""

    shared_server = False

    def test_acls_and_policies_survive_a_restart(self):
        srv = self.start_server()
        s3 = srv.boto3_client()
        bucket = unique_name('durable-acl')
        s3.create_bucket(Bucket=bucket, ACL='public-read')
        s3.put_object(Bucket=bucket, Key='pub', Body=b'p', ACL='public-read')
        s3.put_object(Bucket=bucket, Key='priv', Body=b'q')
        s3.put_bucket_policy(Bucket=bucket, Policy=policy(
            {'Sid': 'NoDeletes', 'Effect': 'Deny', 'Principal': '*',
             'Action': 's3:DeleteObject',
             'Resource': 'arn:aws:s3:::%s/*' % bucket}))
        srv.restart()
        s3 = srv.boto3_client()
        self.assertIn((ALL_USERS, 'READ'),
                      grants_of(s3.get_bucket_acl(Bucket=bucket)))
        self.assertEqual(srv.http('GET', '/%s/pub' % bucket).body, b'p')
        self.assertEqual(srv.http('GET', '/%s/priv' % bucket).status, 403)
        self.assertEqual(srv.http('GET', '/' + bucket).status, 200)
        self.assertS3Error('AccessDenied', 403, s3.delete_object,
                           Bucket=bucket, Key='pub')

    def test_sighup_adds_and_removes_keys(self):
        srv = self.start_server()
        s3 = srv.boto3_client()
        bucket = unique_name('reload')
        s3.create_bucket(Bucket=bucket)
        conn = srv.conn()
        hdrs = srv.sign('HEAD', '/' + bucket)
        conn.request('HEAD', '/' + bucket, hdrs)
        self.assertEqual(conn.read_response('HEAD').status, 200)

        srv.users['dave'] = ('AKDAVE', 'SECRETDAVE')
        del srv.users['bob']
        srv.write_conf()
        srv.send_signal(signal.SIGHUP)
        deadline = time.time() + 10
        while 'reloaded' not in srv.stderr_text() and time.time() < deadline:
            time.sleep(0.05)
        self.assertIn('reloaded 2 users', srv.stderr_text())

        dave = srv.boto3_client('dave')
        dave.create_bucket(Bucket=bucket + '-dave')
        self.assertIn(bucket + '-dave',
                      [b['Name'] for b in dave.list_buckets()['Buckets']])
        self.assertS3Error('InvalidAccessKeyId', 403,
                           srv.boto3_client(access_key='AKBOB',
                                            secret_key='SECRETBOB')
                           .list_buckets)
        # The connection opened before the reload still serves requests.
        conn.request('HEAD', '/' + bucket, srv.sign('HEAD', '/' + bucket))
        self.assertEqual(conn.read_response('HEAD').status, 200)
        conn.close()

        # A broken file is refused whole; the running users stay.
        with open(srv.conf_path, 'a') as f:
            f.write('user broken { access_key ; }\n')
        srv.send_signal(signal.SIGHUP)
        deadline = time.time() + 10
        while 'not reloaded' not in srv.stderr_text() \
                and time.time() < deadline:
            time.sleep(0.05)
        self.assertIn('not reloaded', srv.stderr_text())
        self.assertEqual(dave.head_bucket(Bucket=bucket + '-dave')
                         ['ResponseMetadata']['HTTPStatusCode'], 200)


if __name__ == '__main__':
    unittest.main()
