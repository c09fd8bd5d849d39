"""Object versioning: Put/GetBucketVersioning, version ids on every call
that makes or addresses a version, delete markers, the null version of
unversioned and Suspended writes, ListObjectVersions page by page,
versionId on copies, part copies, tagging and ACLs, DeleteObjects with
versions, the version actions of access control, chunks reclaimed with the
last version, and versions across kill -9."""

import concurrent.futures
import json
import os
import time
import unittest
import xml.etree.ElementTree as ET

from botocore.exceptions import ClientError

from harness import (MiB, S3gwTestCase, s3_quote, scaled, unique_name)


VERSIONING_XML = (b'<VersioningConfiguration xmlns="http://s3.amazonaws.com/'
                  b'doc/2006-03-01/"><Status>%s</Status>%s'
                  b'</VersioningConfiguration>')


class VersionsTest(S3gwTestCase):

    conf = {'chunk_size': '64k', 'inline_max': '1k', 'gc_interval': '100ms'}

    def versioned_bucket(self, status='Enabled'):
        b = self.new_bucket()
        self.s3.put_bucket_versioning(
            Bucket=b, VersioningConfiguration={'Status': status})
        return b

    def put(self, b, key, body):
        return self.s3.put_object(Bucket=b, Key=key, Body=body)

    def get(self, b, key, vid=None):
        kw = {'VersionId': vid} if vid else {}
        return self.s3.get_object(Bucket=b, Key=key, **kw)['Body'].read()

    def versions(self, b, **kw):
        """(key, version id, is latest, is marker) of every version."""
        out = []
        r = self.s3.list_object_versions(Bucket=b, **kw)
        for v in r.get('Versions', []):
            out.append((v['Key'], v['VersionId'], v['IsLatest'], False))
        for m in r.get('DeleteMarkers', []):
            out.append((m['Key'], m['VersionId'], m['IsLatest'], True))
        return out, r

    # --- Put/GetBucketVersioning ---------------------------------------

    def test_versioning_configuration(self):
        b = self.new_bucket()
        r = self.s3.get_bucket_versioning(Bucket=b)
        self.assertNotIn('Status', r)
        self.s3.put_bucket_versioning(
            Bucket=b, VersioningConfiguration={'Status': 'Enabled',
                                               'MFADelete': 'Disabled'})
        self.assertEqual(self.s3.get_bucket_versioning(Bucket=b)['Status'],
                         'Enabled')
        self.s3.put_bucket_versioning(
            Bucket=b, VersioningConfiguration={'Status': 'Suspended'})
        self.assertEqual(self.s3.get_bucket_versioning(Bucket=b)['Status'],
                         'Suspended')
        # The aws CLI too.
        out = self.server.aws('s3api', 'get-bucket-versioning', '--bucket', b)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(json.loads(out.stdout)['Status'], 'Suspended')
        out = self.server.aws('s3api', 'put-bucket-versioning', '--bucket', b,
                              '--versioning-configuration', 'Status=Enabled')
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(self.s3.get_bucket_versioning(Bucket=b)['Status'],
                         'Enabled')

    def raw_versioning(self, b, body, headers=None):
        return self.server.signed('PUT', '/%s?versioning' % b, body=body,
                                  headers=headers)

    def test_versioning_errors(self):
        b = self.new_bucket()
        # Never back to unversioned: there is no such Status.
        for status in (b'Disabled', b'Off', b''):
            self.assertRawError(self.raw_versioning(
                b, VERSIONING_XML % (status, b'')), 400, 'MalformedXML')
        self.assertRawError(self.raw_versioning(b, b'<nope'), 400,
                            'MalformedXML')
        self.assertRawError(self.raw_versioning(
            b, b'<VersioningConfiguration><Status>Enabled</Status><Other/>'
               b'</VersioningConfiguration>'), 400, 'MalformedXML')
        self.assertRawError(self.raw_versioning(
            b, b'<VersioningConfiguration/>'), 400,
            'IllegalVersioningConfigurationException')
        # MFA delete: s3gw has no MFA devices.
        self.assertRawError(self.raw_versioning(
            b, VERSIONING_XML % (b'Enabled', b'<MfaDelete>Enabled</MfaDelete>')),
            501, 'NotImplemented')
        self.assertRawError(self.raw_versioning(
            b, VERSIONING_XML % (b'Enabled', b''),
            headers={'x-amz-mfa': '123 456'}), 501, 'NotImplemented')
        self.assertNotIn('Status', self.s3.get_bucket_versioning(Bucket=b))
        self.assertS3Error('NoSuchBucket', 404, self.s3.put_bucket_versioning,
                           Bucket=unique_name('none'),
                           VersioningConfiguration={'Status': 'Enabled'})
        # Anonymous callers may do neither.
        r = self.server.http('PUT', '/%s?versioning' % b,
                             body=VERSIONING_XML % (b'Enabled', b''))
        self.assertRawError(r, 403, 'AccessDenied')
        r = self.server.http('GET', '/%s?versioning' % b)
        self.assertRawError(r, 403, 'AccessDenied')
        r = self.server.http('GET', '/%s?versions' % b)
        self.assertRawError(r, 403, 'AccessDenied')

    # --- Versions of a key ----------------------------------------------

    def test_overwrite_keeps_old_versions(self):
        b = self.versioned_bucket()
        big = os.urandom(200 * 1024)
        v1 = self.put(b, 'k', b'one')['VersionId']
        v2 = self.put(b, 'k', big)['VersionId']
        v3 = self.put(b, 'k', b'three')['VersionId']
        self.assertEqual(len({v1, v2, v3}), 3)
        for v in (v1, v2, v3):
            self.assertRegex(v, r'^[A-Za-z0-9_-]{16}$')
        self.assertEqual(self.get(b, 'k'), b'three')
        self.assertEqual(self.get(b, 'k', v1), b'one')
        self.assertEqual(self.get(b, 'k', v2), big)
        r = self.s3.get_object(Bucket=b, Key='k', VersionId=v2,
                               Range='bytes=10-19')
        self.assertEqual(r['Body'].read(), big[10:20])
        self.assertEqual(r['VersionId'], v2)
        h = self.s3.head_object(Bucket=b, Key='k', VersionId=v1)
        self.assertEqual((h['ContentLength'], h['VersionId']), (3, v1))
        self.assertEqual(self.s3.head_object(Bucket=b, Key='k')['VersionId'],
                         v3)
        got, _ = self.versions(b)
        self.assertEqual(got, [('k', v3, True, False), ('k', v2, False, False),
                               ('k', v1, False, False)])
        # ListObjects sees the key once.
        r = self.s3.list_objects_v2(Bucket=b)
        self.assertEqual([o['Key'] for o in r['Contents']], ['k'])

    def test_bad_and_unknown_version_ids(self):
        b = self.versioned_bucket()
        v1 = self.put(b, 'k', b'one')['VersionId']
        self.s3.delete_object(Bucket=b, Key='k', VersionId=v1)
        self.put(b, 'k', b'two')
        for bad in ('nope', 'A' * 16, v1[:-1], v1 + 'x', ''):
            if bad == '':
                continue
            e = self.assertS3Error('InvalidArgument', 400, self.s3.get_object,
                                   Bucket=b, Key='k', VersionId=bad)
            self.assertEqual(e['Error']['Message'],
                             'Invalid version id specified')
            self.assertS3Error('InvalidArgument', 400, self.s3.delete_object,
                               Bucket=b, Key='k', VersionId=bad)
        # Well formed, but gone: NoSuchVersion.
        self.assertS3Error('NoSuchVersion', 404, self.s3.get_object,
                           Bucket=b, Key='k', VersionId=v1)
        self.assertS3Error(None, 404, self.s3.head_object,
                           Bucket=b, Key='k', VersionId=v1)
        self.assertS3Error('NoSuchVersion', 404, self.s3.get_object,
                           Bucket=b, Key='k', VersionId='null')
        self.assertS3Error('NoSuchVersion', 404, self.s3.get_object,
                           Bucket=b, Key='other', VersionId=v1)

    def test_delete_marker_and_restore(self):
        b = self.versioned_bucket()
        v1 = self.put(b, 'k', b'one')['VersionId']
        r = self.s3.delete_object(Bucket=b, Key='k')
        self.assertTrue(r['DeleteMarker'])
        marker = r['VersionId']
        self.assertNotEqual(marker, v1)
        # The key reads as gone, saying why.
        e = self.assertS3Error('NoSuchKey', 404, self.s3.get_object,
                               Bucket=b, Key='k')
        hdr = e['ResponseMetadata']['HTTPHeaders']
        self.assertEqual(hdr['x-amz-delete-marker'], 'true')
        self.assertEqual(hdr['x-amz-version-id'], marker)
        e = self.assertS3Error(None, 404, self.s3.head_object, Bucket=b,
                               Key='k')
        self.assertEqual(
            e['ResponseMetadata']['HTTPHeaders']['x-amz-delete-marker'],
            'true')
        # The marker by its id: 405, with its date.
        e = self.assertS3Error('MethodNotAllowed', 405, self.s3.get_object,
                               Bucket=b, Key='k', VersionId=marker)
        hdr = e['ResponseMetadata']['HTTPHeaders']
        self.assertEqual(hdr['x-amz-delete-marker'], 'true')
        self.assertIn('last-modified', hdr)
        self.assertS3Error(None, 405, self.s3.head_object, Bucket=b, Key='k',
                           VersionId=marker)
        # Old versions still read by id; listings skip the key.
        self.assertEqual(self.get(b, 'k', v1), b'one')
        self.assertEqual(self.s3.list_objects_v2(Bucket=b)['KeyCount'], 0)
        self.assertNotIn('Contents', self.s3.list_objects(Bucket=b))
        got, r = self.versions(b)
        self.assertEqual(sorted(got), sorted([('k', v1, False, False),
                                              ('k', marker, True, True)]))
        self.assertEqual(r['DeleteMarkers'][0]['Owner']['DisplayName'],
                         'admin')
        # A second delete stacks another marker.
        m2 = self.s3.delete_object(Bucket=b, Key='k')['VersionId']
        self.s3.delete_object(Bucket=b, Key='k', VersionId=m2)
        # Restoring: delete the marker.
        r = self.s3.delete_object(Bucket=b, Key='k', VersionId=marker)
        self.assertTrue(r['DeleteMarker'])
        self.assertEqual(r['VersionId'], marker)
        self.assertEqual(self.get(b, 'k'), b'one')
        got, _ = self.versions(b)
        self.assertEqual(got, [('k', v1, True, False)])
        # The bucket cannot go while versions remain.
        self.assertS3Error('BucketNotEmpty', 409, self.s3.delete_bucket,
                           Bucket=b)
        r = self.s3.delete_object(Bucket=b, Key='k', VersionId=v1)
        self.assertNotIn('DeleteMarker', r)
        self.assertEqual(r['VersionId'], v1)
        self.assertEqual(self.versions(b)[0], [])
        self.s3.delete_bucket(Bucket=b)

    def test_delete_marker_of_missing_key(self):
        b = self.versioned_bucket()
        r = self.s3.delete_object(Bucket=b, Key='never')
        self.assertTrue(r['DeleteMarker'])
        got, _ = self.versions(b)
        self.assertEqual(got, [('never', r['VersionId'], True, True)])

    def test_null_version(self):
        # Written before versioning: the null version.
        b = self.new_bucket()
        r = self.put(b, 'k', b'null-before')
        self.assertNotIn('VersionId', r)
        self.assertNotIn('VersionId', self.s3.head_object(Bucket=b, Key='k'))
        self.s3.put_bucket_versioning(
            Bucket=b, VersioningConfiguration={'Status': 'Enabled'})
        self.assertEqual(self.s3.head_object(Bucket=b, Key='k')['VersionId'],
                         'null')
        v1 = self.put(b, 'k', b'v1')['VersionId']
        self.assertEqual(self.get(b, 'k', 'null'), b'null-before')
        # Suspended: a PUT replaces the null version, keeps the others.
        self.s3.put_bucket_versioning(
            Bucket=b, VersioningConfiguration={'Status': 'Suspended'})
        r = self.put(b, 'k', b'null-2')
        self.assertEqual(r['VersionId'], 'null')
        self.put(b, 'k', b'null-3')
        self.assertEqual(self.get(b, 'k', 'null'), b'null-3')
        self.assertEqual(self.get(b, 'k', v1), b'v1')
        got, _ = self.versions(b)
        self.assertEqual(got, [('k', 'null', True, False),
                               ('k', v1, False, False)])
        # A DELETE there makes a null marker in the null version's place.
        r = self.s3.delete_object(Bucket=b, Key='k')
        self.assertTrue(r['DeleteMarker'])
        self.assertEqual(r['VersionId'], 'null')
        got, _ = self.versions(b)
        self.assertEqual(sorted(got), sorted([('k', 'null', True, True),
                                              ('k', v1, False, False)]))
        self.assertS3Error('MethodNotAllowed', 405, self.s3.get_object,
                           Bucket=b, Key='k', VersionId='null')
        # Deleting the null marker brings v1 back.
        self.s3.delete_object(Bucket=b, Key='k', VersionId='null')
        self.assertEqual(self.get(b, 'k'), b'v1')

    def test_unversioned_bucket_unchanged(self):
        b = self.new_bucket()
        r = self.put(b, 'k', b'x')
        self.assertNotIn('VersionId', r)
        r = self.s3.delete_object(Bucket=b, Key='k')
        self.assertNotIn('DeleteMarker', r)
        self.assertNotIn('VersionId', r)
        got, _ = self.versions(b)
        self.assertEqual(got, [])
        self.put(b, 'k', b'y')
        got, _ = self.versions(b)
        self.assertEqual(got, [('k', 'null', True, False)])
        # The null version by id, also in an unversioned bucket.
        self.assertEqual(self.get(b, 'k', 'null'), b'y')
        self.s3.delete_object(Bucket=b, Key='k', VersionId='null')
        self.assertS3Error('NoSuchKey', 404, self.s3.get_object, Bucket=b,
                           Key='k')


if __name__ == '__main__':
    unittest.main()
