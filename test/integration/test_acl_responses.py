"""ACL responses as Amazon S3 writes them: every canned ACL on
CreateBucket, PutObject and Put*Acl reads back with S3's grants in S3's
order (the owner's FULL_CONTROL first, then the group or bucket-owner
grants), every CanonicalUser grantee with ID and DisplayName and an
xsi:type, and grants by email address resolved through the users'
`email` directive (UnresolvableGrantByEmailAddress otherwise)."""

import hashlib
import subprocess
import json
import unittest

from harness import S3gwTestCase, clean_env, s3_quote, unique_name

ALL_USERS = 'http://acs.amazonaws.com/groups/global/AllUsers'
AUTH_USERS = 'http://acs.amazonaws.com/groups/global/AuthenticatedUsers'
LOG_DELIVERY = 'http://acs.amazonaws.com/groups/s3/LogDelivery'
XSI = '{http://www.w3.org/2001/XMLSchema-instance}type'

USERS = {
    'admin': ('AKADMIN', 'SECRETADMIN', {'email': 'admin@example.com'}),
    'bob': ('AKBOB', 'SECRETBOB', {'email': 'Bob@Example.com',
                                   'display_name': '"Bob B"'}),
}


def cid(name):
    return hashlib.sha256(b's3gw:' + name.encode()).hexdigest()


def listed(acl):
    """The grants of a boto3 Get*Acl answer, in order, as tuples."""
    out = []
    for g in acl['Grants']:
        ge = g['Grantee']
        if ge['Type'] == 'CanonicalUser':
            out.append(('user', ge['ID'], ge.get('DisplayName'),
                        g['Permission']))
        else:
            out.append((ge['Type'], ge['URI'], g['Permission']))
    return out


def user(name, perm, display=None):
    return ('user', cid(name), display or name, perm)


# What S3's "Canned ACL" table grants, in the order S3 lists them, for a
# resource of `admin` (bucket owner `admin` for a bucket, `bob` writing an
# object into admin's bucket).
BUCKET_CANNED = {
    'private': [user('admin', 'FULL_CONTROL')],
    'public-read': [user('admin', 'FULL_CONTROL'),
                    ('Group', ALL_USERS, 'READ')],
    'public-read-write': [user('admin', 'FULL_CONTROL'),
                          ('Group', ALL_USERS, 'READ'),
                          ('Group', ALL_USERS, 'WRITE')],
    'authenticated-read': [user('admin', 'FULL_CONTROL'),
                           ('Group', AUTH_USERS, 'READ')],
    'log-delivery-write': [user('admin', 'FULL_CONTROL'),
                           ('Group', LOG_DELIVERY, 'WRITE'),
                           ('Group', LOG_DELIVERY, 'READ_ACP')],
    # The bucket-owner forms mean nothing on a bucket: private.
    'bucket-owner-read': [user('admin', 'FULL_CONTROL')],
    'bucket-owner-full-control': [user('admin', 'FULL_CONTROL')],
}

OBJECT_CANNED = {
    'private': [user('bob', 'FULL_CONTROL', 'Bob B')],
    'public-read': [user('bob', 'FULL_CONTROL', 'Bob B'),
                    ('Group', ALL_USERS, 'READ')],
    'public-read-write': [user('bob', 'FULL_CONTROL', 'Bob B'),
                          ('Group', ALL_USERS, 'READ'),
                          ('Group', ALL_USERS, 'WRITE')],
    'authenticated-read': [user('bob', 'FULL_CONTROL', 'Bob B'),
                           ('Group', AUTH_USERS, 'READ')],
    'bucket-owner-read': [user('bob', 'FULL_CONTROL', 'Bob B'),
                          user('admin', 'READ')],
    'bucket-owner-full-control': [user('bob', 'FULL_CONTROL', 'Bob B'),
                                  user('admin', 'FULL_CONTROL')],
}


class AclResponsesTest(S3gwTestCase):

    shared_server = False

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        from harness import Server
        cls.server = Server(users=USERS, start=False)
        cls.addClassCleanup(cls.server.close)
        cls.server.start()
        cls.s3 = cls.server.boto3_client('admin')
        cls.bob = cls.server.boto3_client('bob')

    def open_bucket(self):
        """A bucket of admin's that bob may write into."""
        b = self.new_bucket()
        self.s3.put_bucket_acl(Bucket=b, GrantWrite='id="%s"' % cid('bob'),
                               GrantFullControl='id="%s"' % cid('admin'))
        return b

    def test_canned_acls_on_create_bucket(self):
        for canned, want in BUCKET_CANNED.items():
            with self.subTest(canned=canned):
                b = unique_name('canned')
                self.s3.create_bucket(Bucket=b, ACL=canned)
                self.assertEqual(listed(self.s3.get_bucket_acl(Bucket=b)),
                                 want)

    def test_canned_acls_on_put_bucket_acl(self):
        b = self.new_bucket()
        for canned, want in BUCKET_CANNED.items():
            with self.subTest(canned=canned):
                self.s3.put_bucket_acl(Bucket=b, ACL=canned)
                acl = self.s3.get_bucket_acl(Bucket=b)
                self.assertEqual(listed(acl), want)
                self.assertEqual(acl['Owner'], {'ID': cid('admin'),
                                                'DisplayName': 'admin'})

    def test_canned_acls_on_put_object(self):
        b = self.open_bucket()
        for canned, want in OBJECT_CANNED.items():
            with self.subTest(canned=canned):
                self.bob.put_object(Bucket=b, Key=canned, Body=b'x',
                                    ACL=canned)
                acl = self.bob.get_object_acl(Bucket=b, Key=canned)
                self.assertEqual(listed(acl), want)
                self.assertEqual(acl['Owner'], {'ID': cid('bob'),
                                                'DisplayName': 'Bob B'})

    def test_canned_acls_on_put_object_acl(self):
        b = self.open_bucket()
        self.bob.put_object(Bucket=b, Key='k', Body=b'x')
        for canned, want in OBJECT_CANNED.items():
            with self.subTest(canned=canned):
                self.bob.put_object_acl(Bucket=b, Key='k', ACL=canned)
                self.assertEqual(
                    listed(self.bob.get_object_acl(Bucket=b, Key='k')), want)

    def test_grantee_xml(self):
        """Raw XML: xsi:type on every Grantee, ID and DisplayName on every
        CanonicalUser; header grants in S3's header order (FULL_CONTROL
        first) whatever order the request lists the headers in."""
        b = self.new_bucket()
        self.s3.put_bucket_acl(
            Bucket=b, GrantFullControl='id="%s"' % cid('admin'),
            GrantRead='id="%s", uri="%s"' % (cid('bob'), ALL_USERS))
        r = self.server.http('GET', '/%s?acl' % b, headers=dict(
            self.server.sign('GET', '/%s?acl' % b)))
        self.assertEqual(r.status, 200, r.body)
        import xml.etree.ElementTree as ET
        root = ET.fromstring(r.body)
        ns = '{http://s3.amazonaws.com/doc/2006-03-01/}'
        grantees = root.findall('.//%sGrantee' % ns)
        self.assertEqual(len(grantees), 3)
        types = [g.get(XSI) for g in grantees]
        self.assertEqual(types, ['CanonicalUser', 'CanonicalUser', 'Group'])
        for g in grantees[:2]:
            self.assertIsNotNone(g.find(ns + 'ID'))
            self.assertTrue(g.find(ns + 'DisplayName').text)

    def test_grants_by_email(self):
        b = self.open_bucket()
        self.bob.put_object(Bucket=b, Key='k', Body=b'x')
        # Email addresses compare without case, as S3 compares them.
        self.bob.put_object_acl(
            Bucket=b, Key='k', GrantFullControl='id="%s"' % cid('bob'),
            GrantRead='emailAddress="admin@EXAMPLE.com"')
        self.assertEqual(listed(self.bob.get_object_acl(Bucket=b, Key='k')),
                         [user('bob', 'FULL_CONTROL', 'Bob B'),
                          user('admin', 'READ')])
        # The document form: AmazonCustomerByEmail reads back as the user.
        self.s3.put_bucket_acl(Bucket=b, AccessControlPolicy={
            'Owner': {'ID': cid('admin')},
            'Grants': [
                {'Grantee': {'Type': 'CanonicalUser', 'ID': cid('admin')},
                 'Permission': 'FULL_CONTROL'},
                {'Grantee': {'Type': 'AmazonCustomerByEmail',
                             'EmailAddress': 'bob@example.com'},
                 'Permission': 'WRITE'}]})
        self.assertEqual(listed(self.s3.get_bucket_acl(Bucket=b)),
                         [user('admin', 'FULL_CONTROL'),
                          user('bob', 'WRITE', 'Bob B')])
        # On creation too.
        c = unique_name('email')
        self.s3.create_bucket(Bucket=c,
                              GrantRead='emailAddress="bob@example.com"',
                              GrantFullControl='id="%s"' % cid('admin'))
        self.assertIn(user('bob', 'READ', 'Bob B'),
                      listed(self.s3.get_bucket_acl(Bucket=c)))
        # Nobody has this address: 400, and nothing changed.
        for fn, kw in ((self.bob.put_object_acl,
                        {'Bucket': b, 'Key': 'k',
                         'GrantRead': 'emailAddress="nobody@example.com"'}),
                       (self.bob.put_object,
                        {'Bucket': b, 'Key': 'k2', 'Body': b'',
                         'GrantRead': 'emailAddress="nobody@example.com"'}),
                       (self.s3.put_bucket_acl,
                        {'Bucket': b, 'AccessControlPolicy': {
                            'Owner': {'ID': cid('admin')},
                            'Grants': [{'Grantee': {
                                'Type': 'AmazonCustomerByEmail',
                                'EmailAddress': 'nobody@example.com'},
                                'Permission': 'READ'}]}})):
            with self.subTest(fn=fn.__name__):
                self.assertS3Error('UnresolvableGrantByEmailAddress', 400,
                                   fn, **kw)
        self.assertEqual(len(listed(self.s3.get_bucket_acl(Bucket=b))), 2)

    def test_aws_cli_canned_acl(self):
        b = self.new_bucket()
        env = clean_env(AWS_ACCESS_KEY_ID='AKADMIN',
                        AWS_SECRET_ACCESS_KEY='SECRETADMIN',
                        AWS_DEFAULT_REGION=self.server.region)
        subprocess.run(['aws', '--endpoint-url', self.server.url, 's3api',
                        'put-bucket-acl', '--bucket', b, '--acl',
                        'public-read'], env=env, check=True,
                       capture_output=True)
        out = subprocess.run(['aws', '--endpoint-url', self.server.url,
                              's3api', 'get-bucket-acl', '--bucket', b],
                             env=env, check=True, capture_output=True)
        self.assertEqual(listed(json.loads(out.stdout)),
                         BUCKET_CANNED['public-read'])


if __name__ == '__main__':
    unittest.main()
