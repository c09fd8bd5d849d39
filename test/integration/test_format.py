"""The store format: bucket records keep user names and regions as long as
the config allows, whole, across restarts; an index marked with a newer
store format is refused with a message naming both formats, and nothing in
it changes.

The format marker is written here through liblmdb itself (harness.Lmdb),
the library s3gw links, so the test does not depend on a Python LMDB
module."""

import os
import subprocess
import unittest
import xml.etree.ElementTree as ET

from harness import (BIN, USERS, Lmdb, S3gwTestCase, clean_env, s3_quote,
                     unique_name)

# The longest user name and region core/conf.c accepts (GW_CONF_*_MAX).
NAME_MAX = 64
REGION_MAX = 64
STORE_FORMAT = 4


def meta_record(store_format):
    """The meta record (store.h): format 1, field 1 = u32 store format."""
    return (bytes([1, 1, 4, 0, 0, 0]) + store_format.to_bytes(4, 'little')
            + bytes([0]))


def set_store_format(data_dir, store_format):
    db = Lmdb(os.path.join(data_dir, 'index'))
    try:
        old = db.get('meta', b'format')
        db.put('meta', b'format', meta_record(store_format))
        return old
    finally:
        db.close()


class LongNamesTest(S3gwTestCase):
    """A bucket record must hold its owner's name and its region whole:
    format 1 cut them at 63 and 31 bytes, which locked a user with a
    64-character name out of their own buckets."""

    shared_server = False

    def test_user_name_of_64_characters(self):
        long_name = 'u' * (NAME_MAX - 10) + '.-_@=+0123'[:10]
        self.assertEqual(len(long_name), NAME_MAX)
        users = dict(USERS)
        users[long_name] = ('AKLONGNAME', 'SECRETLONGNAME')
        srv = self.start_server(users=users)
        s3 = srv.boto3_client(long_name)
        bucket = unique_name('longuser')
        s3.create_bucket(Bucket=bucket)
        for i in range(3):
            s3.put_object(Bucket=bucket, Key='k%d' % i, Body=b'v%d' % i)

        def check(s3):
            names = [b['Name'] for b in s3.list_buckets()['Buckets']]
            self.assertIn(bucket, names)
            listed = s3.list_objects_v2(Bucket=bucket)
            self.assertEqual([o['Key'] for o in listed['Contents']],
                             ['k0', 'k1', 'k2'])
            self.assertEqual(s3.get_object(Bucket=bucket, Key='k1')
                             ['Body'].read(), b'v1')
            s3.put_object(Bucket=bucket, Key='again', Body=b'x')
            s3.delete_object(Bucket=bucket, Key='again')
            # Owned, not merely readable: the owner alone reads the ACL,
            # re-creating the bucket is the owner's no-op (200 in
            # us-east-1, as S3), and for anyone else it is taken.
            acl = s3.get_bucket_acl(Bucket=bucket)
            self.assertEqual(acl['Owner']['DisplayName'], long_name)
            s3.create_bucket(Bucket=bucket)
            admin = srv.boto3_client('admin')
            self.assertS3Error('BucketAlreadyExists', 409,
                               admin.create_bucket, Bucket=bucket)
            self.assertNotIn(bucket, [b['Name'] for b in
                                      admin.list_buckets()['Buckets']])
            self.assertS3Error('AccessDenied', 403, admin.list_objects_v2,
                               Bucket=bucket)

        check(s3)
        srv.restart()
        check(srv.boto3_client(long_name))

        # No longer name needs holding: the config refuses 65 characters.
        path = os.path.join(srv.dir, 'long.conf')
        with open(path, 'w') as f:
            f.write('user %s { access_key AK1; secret_key S1; }\n'
                    % ('u' * (NAME_MAX + 1)))
        p = subprocess.run([BIN, '-t', '-c', path], capture_output=True,
                           text=True, timeout=20, env=clean_env(),
                           stdin=subprocess.DEVNULL)
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn('must be 1 to %d characters long' % NAME_MAX, p.stderr)

    def test_region_of_40_characters(self):
        region = 'region-' + 'a' * 33
        self.assertEqual(len(region), 40)
        srv = self.start_server(conf={'region': region})
        s3 = srv.boto3_client()
        bucket = unique_name('region40')
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={
            'LocationConstraint': region})
        s3.put_object(Bucket=bucket, Key='k', Body=b'v')

        def check(s3):
            self.assertEqual(s3.get_bucket_location(Bucket=bucket)
                             ['LocationConstraint'], region)
            h = s3.head_bucket(Bucket=bucket)
            self.assertEqual(h['ResponseMetadata']['HTTPHeaders']
                             ['x-amz-bucket-region'], region)
            entry = [b for b in s3.list_buckets()['Buckets']
                     if b['Name'] == bucket][0]
            self.assertEqual(entry.get('BucketRegion'), region)
            self.assertEqual([o['Key'] for o in
                              s3.list_objects_v2(Bucket=bucket)['Contents']],
                             ['k'])

        check(s3)
        srv.restart()
        check(srv.boto3_client())

    def test_region_of_64_characters(self):
        # botocore refuses region names over 63 characters, so this one
        # talks raw SigV4 (signed by botocore's signer all the same).
        region = 'r' * (REGION_MAX - 3) + '-64'
        srv = self.start_server(conf={'region': region})
        bucket = unique_name('region64')
        body = ('<CreateBucketConfiguration xmlns="http://s3.amazonaws.com/'
                'doc/2006-03-01/"><LocationConstraint>%s</LocationConstraint>'
                '</CreateBucketConfiguration>' % region).encode()
        r = srv.signed('PUT', '/' + bucket, body=body)
        self.assertEqual(r.status, 200, r)

        def check():
            r = srv.signed('GET', '/%s?location' % s3_quote(bucket))
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.xml().text, region)
            r = srv.signed('HEAD', '/' + bucket)
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.header('x-amz-bucket-region'), region)

        check()
        srv.restart()
        check()


class FormatMarkerTest(S3gwTestCase):

    shared_server = False

    def test_newer_format_is_refused(self):
        srv = self.start_server()
        s3 = srv.boto3_client()
        bucket = unique_name('marker')
        s3.create_bucket(Bucket=bucket)
        s3.put_object(Bucket=bucket, Key='k', Body=b'kept')
        srv.stop()

        mark = srv.log_size()
        old = set_store_format(srv.data_dir, STORE_FORMAT + 1)
        self.assertEqual(old, meta_record(STORE_FORMAT))
        with self.assertRaises(AssertionError):
            srv.start()
        log = srv.stderr_text()[mark:]
        # The refusal is expected: it must not fail the log check later.
        srv._log_reported = srv.log_size()
        self.assertEqual(srv.exit_codes[-1], 1)
        self.assertIn('is in store format %d, newer than store format %d '
                      'that this s3gw reads'
                      % (STORE_FORMAT + 1, STORE_FORMAT), log)
        self.assertIn('unsupported data format', log)
        self.assertIn(srv.data_dir, log)

        # Nothing was changed: put the marker back and everything is there.
        self.assertEqual(set_store_format(srv.data_dir, STORE_FORMAT),
                         meta_record(STORE_FORMAT + 1))
        srv.start()
        s3 = srv.boto3_client()
        self.assertEqual(s3.get_object(Bucket=bucket, Key='k')['Body'].read(),
                         b'kept')

    def test_format_2_upgraded(self):
        """A format-2 index (before versions) opens as format 4: its objects
        are the null versions of their keys, and versioning works on it."""
        srv = self.start_server()
        s3 = srv.boto3_client()
        bucket = unique_name('v2')
        s3.create_bucket(Bucket=bucket)
        s3.put_object(Bucket=bucket, Key='k', Body=b'from format 2')
        srv.stop()
        set_store_format(srv.data_dir, 2)
        mark = srv.log_size()
        srv.start()
        self.assertIn('from store format 2 to 4', srv.stderr_text()[mark:])
        s3 = srv.boto3_client()
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={
            'Status': 'Enabled'})
        v = s3.put_object(Bucket=bucket, Key='k', Body=b'new')['VersionId']
        self.assertEqual(s3.get_object(Bucket=bucket, Key='k',
                                       VersionId='null')['Body'].read(),
                         b'from format 2')
        self.assertEqual(s3.get_object(Bucket=bucket, Key='k')['VersionId'], v)
        srv.stop()
        self.assertEqual(set_store_format(srv.data_dir, STORE_FORMAT),
                         meta_record(STORE_FORMAT))
        srv.start()


if __name__ == '__main__':
    unittest.main()
