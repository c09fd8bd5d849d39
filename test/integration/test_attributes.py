"""GetObjectAttributes: ETag, Checksum, ObjectParts (paged with
x-amz-part-number-marker and x-amz-max-parts), StorageClass and ObjectSize
of single-part and multipart objects, with and without checksums; bad
attribute names; and who may call it (s3:GetObjectAttributes and
s3:GetObject, anonymous through a policy)."""

import base64
import json
import zlib

from harness import MiB, S3gwTestCase, etag_of

ALL = ['ETag', 'Checksum', 'ObjectParts', 'StorageClass', 'ObjectSize']


def crc32_b64(data):
    return base64.b64encode(zlib.crc32(data).to_bytes(4, 'big')).decode()


class AttributesTest(S3gwTestCase):

    def setUp(self):
        super().setUp()
        self.b = self.new_bucket(hint='attrs')

    def attrs(self, key, names=ALL, **kw):
        return self.s3.get_object_attributes(Bucket=self.b, Key=key,
                                             ObjectAttributes=names, **kw)

    def test_single_part(self):
        self.s3.put_object(Bucket=self.b, Key='k', Body=b'hello',
                           StorageClass='REDUCED_REDUNDANCY',
                           ChecksumAlgorithm='CRC32')
        r = self.attrs('k')
        self.assertEqual(r['ETag'], etag_of(b'hello').strip('"'))
        self.assertEqual(r['ObjectSize'], 5)
        self.assertEqual(r['StorageClass'], 'REDUCED_REDUNDANCY')
        self.assertEqual(r['Checksum']['ChecksumCRC32'], crc32_b64(b'hello'))
        self.assertEqual(r['Checksum']['ChecksumType'], 'FULL_OBJECT')
        self.assertNotIn('ObjectParts', r)
        head = self.s3.head_object(Bucket=self.b, Key='k')
        self.assertEqual(r['LastModified'], head['LastModified'])
        # Only what is asked for.
        r = self.attrs('k', ['ObjectSize'])
        self.assertEqual(r['ObjectSize'], 5)
        for f in ('ETag', 'Checksum', 'StorageClass', 'ObjectParts'):
            self.assertNotIn(f, r)

    def multipart(self, key, parts, **create):
        uid = self.s3.create_multipart_upload(Bucket=self.b, Key=key,
                                              **create)['UploadId']
        done = []
        for n, data in enumerate(parts, 1):
            kw = {'ChecksumAlgorithm': 'CRC32'} if create else {}
            r = self.s3.upload_part(Bucket=self.b, Key=key, UploadId=uid,
                                    PartNumber=n, Body=data, **kw)
            p = {'PartNumber': n, 'ETag': r['ETag']}
            if create:
                p['ChecksumCRC32'] = r['ChecksumCRC32']
            done.append(p)
        return self.s3.complete_multipart_upload(
            Bucket=self.b, Key=key, UploadId=uid,
            MultipartUpload={'Parts': done})

    def test_multipart_with_checksums(self):
        datas = [bytes([65 + i]) * (5 * MiB) for i in range(3)] + [b'end']
        c = self.multipart('mp', datas, ChecksumAlgorithm='CRC32')
        r = self.attrs('mp')
        self.assertEqual('"%s"' % r['ETag'], c['ETag'])
        self.assertEqual(r['ObjectSize'], 15 * MiB + 3)
        self.assertEqual(r['Checksum']['ChecksumType'], 'COMPOSITE')
        self.assertEqual(r['Checksum']['ChecksumCRC32'], c['ChecksumCRC32'])
        op = r['ObjectParts']
        self.assertEqual(op['TotalPartsCount'], 4)
        self.assertFalse(op['IsTruncated'])
        self.assertEqual([(p['PartNumber'], p['Size'], p['ChecksumCRC32'])
                          for p in op['Parts']],
                         [(i + 1, len(d), crc32_b64(d))
                          for i, d in enumerate(datas)])
        # Paging.
        r = self.attrs('mp', ['ObjectParts'], MaxParts=2)
        op = r['ObjectParts']
        self.assertTrue(op['IsTruncated'])
        self.assertEqual([p['PartNumber'] for p in op['Parts']], [1, 2])
        self.assertEqual(op['NextPartNumberMarker'], 2)
        self.assertEqual(op['MaxParts'], 2)
        r = self.attrs('mp', ['ObjectParts'], MaxParts=2,
                       PartNumberMarker=op['NextPartNumberMarker'])
        op = r['ObjectParts']
        self.assertFalse(op['IsTruncated'])
        self.assertEqual([p['PartNumber'] for p in op['Parts']], [3, 4])
        self.assertEqual(op['PartNumberMarker'], 2)

    def test_multipart_without_checksums(self):
        # As S3: only the count, no Part elements, when parts have no
        # checksum of the object's kind.
        c = self.multipart('plain', [b'x' * (5 * MiB), b'y'])
        r = self.attrs('plain', ['ETag', 'ObjectParts'])
        self.assertEqual('"%s"' % r['ETag'], c['ETag'])
        self.assertEqual(r['ObjectParts']['TotalPartsCount'], 2)
        self.assertNotIn('Parts', r['ObjectParts'])

    def test_errors(self):
        self.s3.put_object(Bucket=self.b, Key='k', Body=b'x')
        self.assertS3Error('NoSuchKey', 404, self.attrs, 'missing')
        for hdr in ('ETag,Bogus', 'etag', '', 'ETag,,Checksum'):
            with self.subTest(hdr=hdr):
                r = self.server.signed(
                    'GET', '/%s/k?attributes' % self.b,
                    {'x-amz-object-attributes': hdr})
                self.assertRawError(r, 400, 'InvalidArgument')
        r = self.server.signed('GET', '/%s/k?attributes' % self.b)
        self.assertRawError(r, 400, 'InvalidArgument')
        r = self.server.signed('GET', '/%s/k?attributes' % self.b,
                               {'x-amz-object-attributes': 'ETag',
                                'x-amz-max-parts': 'many'})
        self.assertRawError(r, 400, 'InvalidArgument')
        # Numbers past what the header can hold are refused, not capped.
        for name, value in (('x-amz-part-number-marker', '10001'),
                            ('x-amz-max-parts', '4294967296')):
            with self.subTest(header=name):
                r = self.server.signed('GET', '/%s/k?attributes' % self.b,
                                       {'x-amz-object-attributes': 'ETag',
                                        name: value})
                self.assertRawError(r, 400, 'InvalidArgument')
        # Spaces around names are fine, as SDKs join with ", ".
        r = self.server.signed('GET', '/%s/k?attributes' % self.b,
                               {'x-amz-object-attributes': 'ETag, ObjectSize'})
        self.assertEqual(r.status, 200, r.body)
        self.assertIn(b'<ObjectSize>1</ObjectSize>', r.body)

    def test_access(self):
        self.s3.put_object(Bucket=self.b, Key='k', Body=b'x')
        path = '/%s/k?attributes' % self.b
        hdr = {'x-amz-object-attributes': 'ObjectSize'}
        # Anonymous: denied, until a policy grants both actions.
        self.assertRawError(self.server.http('GET', path, hdr), 403,
                            'AccessDenied')

        def policy(actions):
            self.s3.put_bucket_policy(Bucket=self.b, Policy=json.dumps({
                'Version': '2012-10-17', 'Statement': [{
                    'Effect': 'Allow', 'Principal': '*',
                    'Action': actions,
                    'Resource': 'arn:aws:s3:::%s/*' % self.b}]}))
        policy(['s3:GetObjectAttributes'])
        self.assertRawError(self.server.http('GET', path, hdr), 403,
                            'AccessDenied')
        policy(['s3:GetObject'])
        self.assertRawError(self.server.http('GET', path, hdr), 403,
                            'AccessDenied')
        policy(['s3:GetObject', 's3:GetObjectAttributes'])
        r = self.server.http('GET', path, hdr)
        self.assertEqual(r.status, 200, r.body)
        self.assertIn(b'<ObjectSize>1</ObjectSize>', r.body)

    def test_cli(self):
        self.s3.put_object(Bucket=self.b, Key='c', Body=b'cli')
        p = self.server.aws('s3api', 'get-object-attributes', '--bucket',
                            self.b, '--key', 'c', '--object-attributes',
                            'ETag', 'ObjectSize')
        self.assertEqual(p.returncode, 0, p.stderr)
        out = json.loads(p.stdout)
        self.assertEqual((out['ETag'], out['ObjectSize']),
                         (etag_of(b'cli').strip('"'), 3))


if __name__ == '__main__':
    import unittest
    unittest.main()
