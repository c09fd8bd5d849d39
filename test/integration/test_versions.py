"""Object versioning: Put/GetBucketVersioning, version ids on every call
that makes or addresses a version, delete markers, the null version of
unversioned and Suspended writes, ListObjectVersions page by page,
versionId on copies, part copies, tagging and ACLs, DeleteObjects with
versions, the version actions of access control, chunks reclaimed with the
last version, and versions across kill -9."""

import concurrent.futures
import http.client
import json
import os
import time
import unittest
import xml.etree.ElementTree as ET

from botocore.exceptions import ClientError

from harness import (MiB, S3gwTestCase, etag_of, s3_quote, scaled,
                     unique_name)
from test_replication import ROLE, rule, target, wait_for


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
        # A marker is its deleter's.
        bob = self.server.boto3_client('bob')
        self.s3.put_bucket_policy(Bucket=b, Policy=json.dumps({
            'Version': '2012-10-17', 'Statement': [{
                'Effect': 'Allow', 'Principal': {'AWS': ['*']},
                'Action': ['s3:DeleteObject', 's3:DeleteObjectVersion'],
                'Resource': 'arn:aws:s3:::%s/*' % b}]}))
        mb = bob.delete_object(Bucket=b, Key='bobs')['VersionId']
        r = self.s3.list_object_versions(Bucket=b, Prefix='bobs')
        self.assertEqual(r['DeleteMarkers'][0]['Owner']['DisplayName'], 'bob')
        bob.delete_object(Bucket=b, Key='bobs', VersionId=mb)
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


    def test_post_object_version(self):
        from test_post import multipart
        b = self.versioned_bucket()
        v1 = self.put(b, 'form', b'one')['VersionId']
        p = self.s3.generate_presigned_post(Bucket=b, Key='form')
        body, ct = multipart(list(p['fields'].items()), b'two')
        conn = http.client.HTTPConnection('127.0.0.1', self.server.port,
                                          timeout=60)
        conn.request('POST', '/' + b, body=body,
                     headers={'Content-Type': ct})
        r = conn.getresponse()
        r.read()
        conn.close()
        self.assertEqual(r.status, 204)
        v2 = r.getheader('x-amz-version-id')
        self.assertNotIn(v2, (None, v1))
        self.assertEqual(self.get(b, 'form', v2), b'two')
        self.assertEqual(self.get(b, 'form', v1), b'one')

    # --- ListObjectVersions -----------------------------------------------

    def test_list_versions_parameters(self):
        b = self.versioned_bucket()
        ids = {}
        for key in ('a', 'dir/x', 'dir/y', 'z&<key>'):
            ids[key] = [self.put(b, key, key.encode() + bytes([i]))['VersionId']
                        for i in range(3)]
        m = self.s3.delete_object(Bucket=b, Key='a')['VersionId']
        got, r = self.versions(b, Prefix='dir/')
        self.assertEqual(len(got), 6)
        self.assertEqual(r['Prefix'], 'dir/')
        # Delimiter: one common prefix for every version under dir/.
        got, r = self.versions(b, Delimiter='/')
        self.assertEqual([p['Prefix'] for p in r['CommonPrefixes']], ['dir/'])
        self.assertEqual(len(got), 7)
        # Page by page: key and version markers.
        seen, kw = [], {}
        while True:
            r = self.s3.list_object_versions(Bucket=b, MaxKeys=2, **kw)
            page = ([(v['Key'], v['VersionId']) for v in r.get('Versions', [])]
                    + [(v['Key'], v['VersionId'])
                       for v in r.get('DeleteMarkers', [])])
            self.assertLessEqual(len(page), 2)
            seen += page
            if not r['IsTruncated']:
                break
            kw = {'KeyMarker': r['NextKeyMarker'],
                  'VersionIdMarker': r['NextVersionIdMarker']}
        want = [('a', m)] + [('a', v) for v in reversed(ids['a'])]
        for key in ('dir/x', 'dir/y', 'z&<key>'):
            want += [(key, v) for v in reversed(ids[key])]
        self.assertEqual(sorted(seen), sorted(want))
        self.assertEqual(len(seen), len(want))
        # Key marker alone: after every version of that key.
        got, _ = self.versions(b, KeyMarker='dir/y')
        self.assertEqual({k for k, *_ in got}, {'z&<key>'})
        # Version marker of the current version: its older ones follow.
        got, _ = self.versions(b, KeyMarker='dir/x',
                               VersionIdMarker=ids['dir/x'][2])
        self.assertEqual([v for k, v, *_ in got if k == 'dir/x'],
                         [ids['dir/x'][1], ids['dir/x'][0]])
        # encoding-type=url
        r = self.server.signed('GET', '/%s?versions&encoding-type=url&'
                               'prefix=z' % b)
        self.assertEqual(r.status, 200, r.body)
        keys = [e.text for e in r.xml().iter('Key')]
        self.assertEqual(keys, ['z%26%3Ckey%3E'] * 3)
        # Errors.
        self.assertS3Error('InvalidArgument', 400,
                           self.s3.list_object_versions, Bucket=b,
                           VersionIdMarker=ids['a'][0])
        self.assertS3Error('InvalidArgument', 400,
                           self.s3.list_object_versions, Bucket=b,
                           KeyMarker='a', VersionIdMarker='bogus')
        r = self.server.signed('GET', '/%s?versions&max-keys=x' % b)
        self.assertRawError(r, 400, 'InvalidArgument')
        r = self.server.signed('GET', '/%s?versions&encoding-type=zip' % b)
        self.assertRawError(r, 400, 'InvalidArgument')
        self.assertS3Error('NoSuchBucket', 404, self.s3.list_object_versions,
                           Bucket=unique_name('none'))
        # The aws CLI reads the same listing.
        out = self.server.aws('s3api', 'list-object-versions', '--bucket', b,
                              '--prefix', 'dir/x')
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual([v['VersionId'] for v in
                          json.loads(out.stdout)['Versions']],
                         list(reversed(ids['dir/x'])))

    def test_many_versions_paged(self):
        b = self.versioned_bucket()
        n = scaled(10000, 2000)
        url = '/%s/hot' % b

        def put(i):
            r = self.server.signed('PUT', url, body=b'%d' % i)
            self.assertEqual(r.status, 200, r.body)
            return r.header('x-amz-version-id')

        with concurrent.futures.ThreadPoolExecutor(16) as ex:
            ids = list(ex.map(put, range(n)))
        self.assertEqual(len(set(ids)), n)
        listed, kw, pages = [], {}, 0
        while True:
            r = self.s3.list_object_versions(Bucket=b, MaxKeys=1000, **kw)
            listed += [v['VersionId'] for v in r['Versions']]
            self.assertEqual(sum(v['IsLatest'] for v in r['Versions']),
                             1 if pages == 0 else 0)
            pages += 1
            if not r['IsTruncated']:
                break
            kw = {'KeyMarker': r['NextKeyMarker'],
                  'VersionIdMarker': r['NextVersionIdMarker']}
        self.assertEqual(pages, (n + 999) // 1000)
        self.assertEqual(sorted(listed), sorted(ids))
        self.assertEqual(len(listed), n)
        # Newest first: the current version leads, and each version's body
        # is older than the one before it in commit order.
        head = self.s3.head_object(Bucket=b, Key='hot')['VersionId']
        self.assertEqual(listed[0], head)
        for vid in (listed[1], listed[n // 2], listed[-1]):
            self.get(b, 'hot', vid)

    # --- Copies -------------------------------------------------------------

    def test_copy_from_version(self):
        b = self.versioned_bucket()
        v1 = self.put(b, 'src', b'old bytes')['VersionId']
        self.put(b, 'src', b'new bytes')
        r = self.s3.copy_object(Bucket=b, Key='dst',
                                CopySource={'Bucket': b, 'Key': 'src',
                                            'VersionId': v1})
        self.assertEqual(r['CopySourceVersionId'], v1)
        self.assertTrue(r['VersionId'])
        self.assertEqual(self.get(b, 'dst'), b'old bytes')
        self.assertEqual(self.get(b, 'dst', r['VersionId']), b'old bytes')
        # Restoring an old version onto its own key.
        r = self.s3.copy_object(Bucket=b, Key='src',
                                CopySource={'Bucket': b, 'Key': 'src',
                                            'VersionId': v1})
        self.assertEqual(self.get(b, 'src'), b'old bytes')
        got, _ = self.versions(b, Prefix='src')
        self.assertEqual(len(got), 3)
        # Without a version id: the current one, named in the answer.
        r = self.s3.copy_object(Bucket=b, Key='dst2',
                                CopySource={'Bucket': b, 'Key': 'src'})
        self.assertEqual(r['CopySourceVersionId'], got[0][1])
        # A marker by id, a gone version, a bad id.
        m = self.s3.delete_object(Bucket=b, Key='src')['VersionId']
        self.assertS3Error('InvalidRequest', 400, self.s3.copy_object,
                           Bucket=b, Key='d3',
                           CopySource={'Bucket': b, 'Key': 'src',
                                       'VersionId': m})
        self.assertS3Error('NoSuchKey', 404, self.s3.copy_object, Bucket=b,
                           Key='d3', CopySource={'Bucket': b, 'Key': 'src'})
        self.s3.delete_object(Bucket=b, Key='dst', VersionId=r['VersionId'])
        self.assertS3Error('InvalidArgument', 400, self.s3.copy_object,
                           Bucket=b, Key='d3',
                           CopySource='%s/src?versionId=nope' % b)

    def test_part_copy_from_version(self):
        b = self.versioned_bucket()
        data = os.urandom(5 * MiB + 100)
        v1 = self.put(b, 'src', data)['VersionId']
        self.put(b, 'src', b'replaced')
        up = self.s3.create_multipart_upload(Bucket=b, Key='mp')
        r = self.s3.upload_part_copy(
            Bucket=b, Key='mp', UploadId=up['UploadId'], PartNumber=1,
            CopySource={'Bucket': b, 'Key': 'src', 'VersionId': v1})
        self.assertEqual(r['CopySourceVersionId'], v1)
        # The part is that version's bytes: its ETag is their MD5.
        self.assertEqual(r['CopyPartResult']['ETag'], etag_of(data))
        done = self.s3.complete_multipart_upload(
            Bucket=b, Key='mp', UploadId=up['UploadId'],
            MultipartUpload={'Parts': [{'PartNumber': 1, 'ETag':
                                        r['CopyPartResult']['ETag']}]})
        self.assertTrue(done['VersionId'])
        self.assertEqual(self.get(b, 'mp', done['VersionId']), data)
        up = self.s3.create_multipart_upload(Bucket=b, Key='mp2')
        self.assertS3Error('InvalidArgument', 400, self.s3.upload_part_copy,
                           Bucket=b, Key='mp2', UploadId=up['UploadId'],
                           PartNumber=1,
                           CopySource='%s/src?versionId=%s' % (b, 'x' * 16))

    # --- Tags and ACLs per version --------------------------------------

    def test_tagging_per_version(self):
        b = self.versioned_bucket()
        v1 = self.put(b, 'k', b'1')['VersionId']
        v2 = self.put(b, 'k', b'2')['VersionId']
        r = self.s3.put_object_tagging(
            Bucket=b, Key='k', VersionId=v1,
            Tagging={'TagSet': [{'Key': 'old', 'Value': 'yes'}]})
        self.assertEqual(r['VersionId'], v1)
        self.s3.put_object_tagging(
            Bucket=b, Key='k', Tagging={'TagSet': [{'Key': 'cur',
                                                     'Value': '1'}]})
        r = self.s3.get_object_tagging(Bucket=b, Key='k', VersionId=v1)
        self.assertEqual(r['TagSet'], [{'Key': 'old', 'Value': 'yes'}])
        self.assertEqual(r['VersionId'], v1)
        r = self.s3.get_object_tagging(Bucket=b, Key='k')
        self.assertEqual(r['TagSet'], [{'Key': 'cur', 'Value': '1'}])
        self.assertEqual(r['VersionId'], v2)
        # The versions keep their ids and places.
        got, _ = self.versions(b)
        self.assertEqual([v for _, v, *_ in got], [v2, v1])
        self.assertEqual(self.get(b, 'k', v1), b'1')
        self.s3.delete_object_tagging(Bucket=b, Key='k', VersionId=v1)
        self.assertEqual(self.s3.get_object_tagging(
            Bucket=b, Key='k', VersionId=v1)['TagSet'], [])
        self.assertEqual(len(self.s3.get_object_tagging(
            Bucket=b, Key='k')['TagSet']), 1)
        m = self.s3.delete_object(Bucket=b, Key='k')['VersionId']
        self.assertS3Error('MethodNotAllowed', 405,
                           self.s3.get_object_tagging, Bucket=b, Key='k',
                           VersionId=m)
        self.assertS3Error('NoSuchKey', 404, self.s3.get_object_tagging,
                           Bucket=b, Key='k')
        self.assertS3Error('InvalidArgument', 400, self.s3.put_object_tagging,
                           Bucket=b, Key='k', VersionId='zz',
                           Tagging={'TagSet': []})
        self.s3.delete_object(Bucket=b, Key='k', VersionId=v2)
        self.assertS3Error('NoSuchVersion', 404, self.s3.get_object_tagging,
                           Bucket=b, Key='k', VersionId=v2)

    def test_acl_per_version(self):
        b = self.versioned_bucket()
        v1 = self.put(b, 'k', b'1')['VersionId']
        v2 = self.put(b, 'k', b'2')['VersionId']
        r = self.s3.put_object_acl(Bucket=b, Key='k', VersionId=v1,
                                   ACL='public-read')
        self.assertEqual(r['ResponseMetadata']['HTTPHeaders']
                         ['x-amz-version-id'], v1)
        grants = self.s3.get_object_acl(Bucket=b, Key='k',
                                        VersionId=v1)['Grants']
        self.assertEqual(len(grants), 2)
        self.assertEqual(len(self.s3.get_object_acl(Bucket=b,
                                                    Key='k')['Grants']), 1)
        # Anonymous reads: the public version only.
        r = self.server.http('GET', '/%s/k?versionId=%s' % (b, v1))
        self.assertEqual((r.status, r.body), (200, b'1'))
        r = self.server.http('GET', '/%s/k?versionId=%s' % (b, v2))
        self.assertRawError(r, 403, 'AccessDenied')
        r = self.server.http('GET', '/%s/k' % b)
        self.assertRawError(r, 403, 'AccessDenied')
        self.assertS3Error('InvalidArgument', 400, self.s3.get_object_acl,
                           Bucket=b, Key='k', VersionId='bad')

    # --- DeleteObjects --------------------------------------------------

    def test_delete_objects_with_versions(self):
        b = self.versioned_bucket()
        v1 = self.put(b, 'a', b'1')['VersionId']
        v2 = self.put(b, 'a', b'2')['VersionId']
        self.put(b, 'b', b'b')
        mc = self.s3.delete_object(Bucket=b, Key='c')['VersionId']
        r = self.s3.delete_objects(Bucket=b, Delete={'Objects': [
            {'Key': 'a', 'VersionId': v1},
            {'Key': 'b'},
            {'Key': 'c', 'VersionId': mc},
            {'Key': 'a', 'VersionId': 'bad id'},
        ]})
        deleted = {(d['Key'], d.get('VersionId')): d for d in r['Deleted']}
        self.assertNotIn('DeleteMarker', deleted[('a', v1)])
        marker_b = deleted[('b', None)]
        self.assertTrue(marker_b['DeleteMarker'])
        self.assertTrue(marker_b['DeleteMarkerVersionId'])
        self.assertTrue(deleted[('c', mc)]['DeleteMarker'])
        self.assertEqual(deleted[('c', mc)]['DeleteMarkerVersionId'], mc)
        self.assertEqual([(e['Key'], e['Code']) for e in r['Errors']],
                         [('a', 'NoSuchVersion')])
        got, _ = self.versions(b)
        self.assertEqual(len(got), 3)
        self.assertIn(('a', v2, True, False), got)
        self.assertIn(('b', marker_b['DeleteMarkerVersionId'], True, True),
                      got)
        self.assertEqual([g[0] for g in got if not g[2]], ['b'])

    # --- Access control ---------------------------------------------------

    def test_version_actions(self):
        b = self.versioned_bucket()
        v1 = self.put(b, 'k', b'1')['VersionId']
        self.put(b, 'k', b'2')
        arn = 'arn:aws:s3:::%s' % b
        policy = {'Version': '2012-10-17', 'Statement': [
            {'Effect': 'Allow', 'Principal': {'AWS': ['*']},
             'Action': ['s3:GetObject', 's3:DeleteObject',
                        's3:GetObjectTagging', 's3:ListBucket'],
             'Resource': [arn + '/*', arn]}]}
        self.s3.put_bucket_policy(Bucket=b, Policy=json.dumps(policy))
        bob = self.server.boto3_client('bob')
        self.assertEqual(bob.get_object(Bucket=b, Key='k')['Body'].read(),
                         b'2')
        self.assertS3Error('AccessDenied', 403, bob.get_object, Bucket=b,
                           Key='k', VersionId=v1)
        self.assertS3Error(None, 403, bob.head_object, Bucket=b, Key='k',
                           VersionId=v1)
        self.assertS3Error('AccessDenied', 403, bob.delete_object, Bucket=b,
                           Key='k', VersionId=v1)
        self.assertS3Error('AccessDenied', 403, bob.get_object_tagging,
                           Bucket=b, Key='k', VersionId=v1)
        self.assertS3Error('AccessDenied', 403, bob.list_object_versions,
                           Bucket=b)
        self.assertS3Error('AccessDenied', 403, bob.put_bucket_versioning,
                           Bucket=b,
                           VersioningConfiguration={'Status': 'Suspended'})
        r = bob.delete_objects(Bucket=b, Delete={'Objects': [
            {'Key': 'k', 'VersionId': v1}]})
        self.assertEqual(r['Errors'][0]['Code'], 'AccessDenied')
        # Granted, they work.
        policy['Statement'][0]['Action'] += [
            's3:GetObjectVersion', 's3:DeleteObjectVersion',
            's3:GetObjectVersionTagging', 's3:ListBucketVersions',
            's3:PutBucketVersioning']
        self.s3.put_bucket_policy(Bucket=b, Policy=json.dumps(policy))
        self.assertEqual(bob.get_object(Bucket=b, Key='k', VersionId=v1)
                         ['Body'].read(), b'1')
        self.assertEqual(bob.get_object_tagging(Bucket=b, Key='k',
                                                VersionId=v1)['TagSet'], [])
        self.assertEqual(len(bob.list_object_versions(Bucket=b)['Versions']),
                         2)
        # s3:VersionId in a condition.
        policy['Statement'].append({
            'Effect': 'Deny', 'Principal': {'AWS': ['*']},
            'Action': 's3:GetObjectVersion', 'Resource': arn + '/*',
            'Condition': {'StringEquals': {'s3:VersionId': v1}}})
        self.s3.put_bucket_policy(Bucket=b, Policy=json.dumps(policy))
        self.assertS3Error('AccessDenied', 403, bob.get_object, Bucket=b,
                           Key='k', VersionId=v1)
        self.assertEqual(bob.get_object(Bucket=b, Key='k')['Body'].read(),
                         b'2')
        bob.delete_object(Bucket=b, Key='k', VersionId=v1)
        self.assertEqual(len(self.versions(b)[0]), 1)
        # PutBucketVersioning is the bucket owner's account's unless a
        # policy grants it.
        bob.put_bucket_versioning(
            Bucket=b, VersioningConfiguration={'Status': 'Suspended'})

    # --- Conditional writes, Complete retries, attributes --------------

    def test_conditional_writes_on_current_version(self):
        b = self.versioned_bucket()
        v1 = self.put(b, 'k', b'one')['VersionId']
        self.s3.delete_object(Bucket=b, Key='k')
        # A current delete marker counts as no object, as in S3.
        r = self.s3.put_object(Bucket=b, Key='k', Body=b'two',
                               IfNoneMatch='*')
        v2 = r['VersionId']
        self.assertNotEqual(v2, v1)
        self.assertEqual(self.get(b, 'k'), b'two')
        self.assertS3Error('PreconditionFailed', 412, self.s3.put_object,
                           Bucket=b, Key='k', Body=b'x', IfNoneMatch='*')
        # If-Match decides against the current version, not an older one.
        self.assertS3Error('PreconditionFailed', 412, self.s3.put_object,
                           Bucket=b, Key='k', Body=b'x',
                           IfMatch=etag_of(b'one'))
        v3 = self.s3.put_object(Bucket=b, Key='k', Body=b'three',
                                IfMatch=etag_of(b'two'))['VersionId']
        self.assertEqual(self.get(b, 'k', v2), b'two')
        self.assertEqual(self.get(b, 'k', v1), b'one')
        # A conditional delete writes a marker only when the current
        # version matches; If-Match on a marker is NoSuchKey.
        self.assertS3Error('PreconditionFailed', 412, self.s3.delete_object,
                           Bucket=b, Key='k', IfMatch=etag_of(b'two'))
        r = self.s3.delete_object(Bucket=b, Key='k', IfMatch=etag_of(b'three'))
        self.assertTrue(r['DeleteMarker'])
        self.assertS3Error('NoSuchKey', 404, self.s3.delete_object,
                           Bucket=b, Key='k', IfMatch='*')
        self.assertS3Error('NoSuchKey', 404, self.s3.put_object, Bucket=b,
                           Key='k', Body=b'x', IfMatch='*')
        self.assertEqual(self.get(b, 'k', v3), b'three')
        # one, a marker, two, three and the last marker.
        self.assertEqual(len(self.versions(b)[0]), 5)

    def test_complete_retry_versioned(self):
        b = self.versioned_bucket()
        v0 = self.put(b, 'mp', b'before')['VersionId']
        uid = self.s3.create_multipart_upload(
            Bucket=b, Key='mp', ChecksumAlgorithm='CRC32')['UploadId']
        e = self.s3.upload_part(Bucket=b, Key='mp', UploadId=uid,
                                PartNumber=1, Body=b'part',
                                ChecksumAlgorithm='CRC32')
        parts = {'Parts': [{'PartNumber': 1, 'ETag': e['ETag'],
                            'ChecksumCRC32': e['ChecksumCRC32']}]}
        first = self.s3.complete_multipart_upload(
            Bucket=b, Key='mp', UploadId=uid, MultipartUpload=parts)
        again = self.s3.complete_multipart_upload(
            Bucket=b, Key='mp', UploadId=uid, MultipartUpload=parts)
        self.assertEqual(again['ETag'], first['ETag'])
        self.assertEqual(again['VersionId'], first['VersionId'])
        self.assertNotEqual(first['VersionId'], v0)
        # The object becomes noncurrent: it keeps its part checksums, and
        # a retry no longer finds the upload's object current.
        self.put(b, 'mp', b'after')
        a = self.s3.get_object_attributes(
            Bucket=b, Key='mp', VersionId=first['VersionId'],
            ObjectAttributes=['ETag', 'ObjectParts', 'ObjectSize'])
        self.assertEqual(a['VersionId'], first['VersionId'])
        self.assertEqual(a['ObjectSize'], 4)
        self.assertEqual(a['ObjectParts']['Parts'][0]['ChecksumCRC32'],
                         e['ChecksumCRC32'])
        a = self.s3.get_object_attributes(Bucket=b, Key='mp',
                                          ObjectAttributes=['ObjectSize'])
        self.assertEqual(a['ObjectSize'], 5)
        self.assertS3Error('NoSuchUpload', 404,
                           self.s3.complete_multipart_upload, Bucket=b,
                           Key='mp', UploadId=uid, MultipartUpload=parts)
        # A deleted version of it answers as S3 does.
        self.s3.delete_object(Bucket=b, Key='mp',
                              VersionId=first['VersionId'])
        self.assertS3Error('NoSuchVersion', 404,
                           self.s3.get_object_attributes, Bucket=b, Key='mp',
                           VersionId=first['VersionId'],
                           ObjectAttributes=['ObjectSize'])

    # --- Chunks and durability ------------------------------------------

    def wait_chunks(self, want, deadline=20):
        end = time.time() + deadline
        while time.time() < end:
            if set(self.server.chunk_files()) & want == set():
                return
            time.sleep(0.1)
        self.fail('chunk files not reclaimed: %r'
                  % (set(self.server.chunk_files()) & want))

    def test_chunks_reclaimed_with_last_version(self):
        b = self.versioned_bucket()
        before = set(self.server.chunk_files())
        data = os.urandom(300 * 1024)
        v1 = self.put(b, 'k', data)['VersionId']
        mine = set(self.server.chunk_files()) - before
        self.assertEqual(len(mine), 5)
        # A version of mostly the same bytes shares their chunks.
        v2 = self.put(b, 'k', data[:-10] + b'0123456789')['VersionId']
        mine2 = set(self.server.chunk_files()) - before
        self.assertEqual(len(mine2 - mine), 1)
        m = self.s3.delete_object(Bucket=b, Key='k')['VersionId']
        self.s3.delete_object(Bucket=b, Key='k', VersionId=v1)
        time.sleep(0.5)
        # v2 still holds all but v1's last chunk.
        self.assertEqual(len(set(self.server.chunk_files()) & mine2), 5)
        self.s3.delete_object(Bucket=b, Key='k', VersionId=v2)
        self.wait_chunks(mine2)
        self.s3.delete_object(Bucket=b, Key='k', VersionId=m)
        self.assertEqual(self.versions(b)[0], [])


class VersionsDurabilityTest(S3gwTestCase):

    shared_server = False

    def test_kill9_after_versioned_writes(self):
        srv = self.start_server(conf={'chunk_size': '64k',
                                      'inline_max': '1k'})
        s3 = srv.boto3_client()
        b = unique_name('v-kill')
        s3.create_bucket(Bucket=b)
        s3.put_bucket_versioning(Bucket=b,
                                 VersioningConfiguration={'Status': 'Enabled'})
        acked = {}

        def write(i):
            key = 'k%d' % (i % 7)
            body = os.urandom(200 if i % 3 else 100 * 1024)
            if i % 5 == 4:
                vid = s3.delete_object(Bucket=b, Key=key)['VersionId']
                return key, vid, None
            vid = s3.put_object(Bucket=b, Key=key, Body=body)['VersionId']
            return key, vid, body

        with concurrent.futures.ThreadPoolExecutor(8) as ex:
            for key, vid, body in ex.map(write, range(scaled(200, 60))):
                acked[(key, vid)] = body
        srv.kill9()
        srv.start()
        s3 = srv.boto3_client()
        listed = set()
        kw = {}
        while True:
            r = s3.list_object_versions(Bucket=b, **kw)
            listed |= {(v['Key'], v['VersionId'])
                       for v in r.get('Versions', []) + r.get('DeleteMarkers',
                                                              [])}
            if not r['IsTruncated']:
                break
            kw = {'KeyMarker': r['NextKeyMarker'],
                  'VersionIdMarker': r['NextVersionIdMarker']}
        self.assertEqual(listed, set(acked))
        for (key, vid), body in acked.items():
            if body is not None:
                got = s3.get_object(Bucket=b, Key=key, VersionId=vid)
                self.assertEqual(got['Body'].read(), body)



class VersionsReplicationTest(S3gwTestCase):
    """Versions and delete markers reach a versioned destination s3gw in
    order; a version deleted for good is not replicated; a marker is sent
    only under DeleteMarkerReplication Enabled."""

    shared_server = False

    def setUp(self):
        super().setUp()
        self.dst = self.start_server()
        self.d3 = self.dst.boto3_client()
        for b in ('dst', 'dst-nodel'):
            self.d3.create_bucket(Bucket=b)
            self.d3.put_bucket_versioning(
                Bucket=b, VersioningConfiguration={'Status': 'Enabled'})
        self.src = self.start_server(
            extra=target('dst', self.dst.url, 'dst')
            + target('nodel', self.dst.url, 'dst-nodel'))
        self.s3 = self.src.boto3_client()

    def source(self, name, dest, deletes):
        self.s3.create_bucket(Bucket=name)
        self.s3.put_bucket_versioning(
            Bucket=name, VersioningConfiguration={'Status': 'Enabled'})
        self.s3.put_bucket_replication(Bucket=name, ReplicationConfiguration={
            'Role': ROLE, 'Rules': [rule(dest, deletes=deletes)]})

    def dest_versions(self, bucket):
        r = self.d3.list_object_versions(Bucket=bucket)
        out = []
        for v in r.get('Versions', []):
            body = self.d3.get_object(Bucket=bucket, Key=v['Key'],
                                      VersionId=v['VersionId'])['Body'].read()
            out.append((v['Key'], body))
        return out, [m['Key'] for m in r.get('DeleteMarkers', [])]

    def test_versions_and_markers_in_order(self):
        self.source('src', 'dst', True)
        for i in range(5):
            self.s3.put_object(Bucket='src', Key='k', Body=b'v%d' % i)
        self.s3.delete_object(Bucket='src', Key='k')
        want = [('k', b'v%d' % i) for i in reversed(range(5))]
        wait_for(lambda: self.dest_versions('dst') == (want, ['k']),
                 timeout=60, what='5 versions and a marker', server=self.src)
        # A version deleted for good at the source stays at the destination.
        v = self.s3.list_object_versions(Bucket='src')['Versions'][-1]
        self.s3.delete_object(Bucket='src', Key='k',
                              VersionId=v['VersionId'])
        self.s3.put_object(Bucket='src', Key='after', Body=b'x')
        wait_for(lambda: ('after', b'x') in self.dest_versions('dst')[0],
                 timeout=60, what='a later change')
        self.assertEqual(self.dest_versions('dst')[0][1:],
                         want)

    def test_markers_not_sent_without_delete_marker_replication(self):
        self.source('src2', 'dst-nodel', False)
        self.s3.put_object(Bucket='src2', Key='k', Body=b'one')
        self.s3.delete_object(Bucket='src2', Key='k')
        self.s3.put_object(Bucket='src2', Key='later', Body=b'two')
        wait_for(lambda: len(self.dest_versions('dst-nodel')[0]) == 2,
                 timeout=60, what='two objects')
        self.assertEqual(self.dest_versions('dst-nodel')[1], [])
        self.assertEqual(self.d3.get_object(Bucket='dst-nodel', Key='k')
                         ['Body'].read(), b'one')

    def test_gone_version_settles_as_nothing(self):
        self.source('src3', 'dst', True)
        self.dst.stop()
        v1 = self.s3.put_object(Bucket='src3', Key='k', Body=b'1')['VersionId']
        self.s3.put_object(Bucket='src3', Key='k', Body=b'2')
        self.s3.delete_object(Bucket='src3', Key='k', VersionId=v1)
        self.dst.start()
        self.d3 = self.dst.boto3_client()
        wait_for(lambda: self.dest_versions('dst')[0] == [('k', b'2')],
                 timeout=90, what='the remaining version', server=self.src)
        wait_for(lambda: self.s3.head_object(Bucket='src3', Key='k')
                 .get('ReplicationStatus') == 'COMPLETED', timeout=30,
                 what='COMPLETED')


if __name__ == '__main__':
    unittest.main()
