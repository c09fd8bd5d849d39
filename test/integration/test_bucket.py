"""Bucket operations: ListBuckets, CreateBucket, HeadBucket, DeleteBucket,
name rules, ownership between users, virtual-hosted-style addressing."""

import unittest

from harness import ClientError, S3gwTestCase, unique_name, s3_quote


class BucketTest(S3gwTestCase):

    def test_create_list_head_delete(self):
        name = unique_name('life')
        r = self.s3.create_bucket(Bucket=name)
        self.assertEqual(r['ResponseMetadata']['HTTPStatusCode'], 200)
        self.assertTrue(r['ResponseMetadata']['RequestId'])
        self.assertEqual(r.get('Location'), '/' + name)

        listed = self.s3.list_buckets()
        names = [b['Name'] for b in listed['Buckets']]
        self.assertIn(name, names)
        self.assertEqual(names, sorted(names))
        entry = [b for b in listed['Buckets'] if b['Name'] == name][0]
        self.assertIsNotNone(entry['CreationDate'])
        self.assertTrue(listed['Owner']['ID'])

        self.assertEqual(self.s3.head_bucket(Bucket=name)
                         ['ResponseMetadata']['HTTPStatusCode'], 200)
        r = self.s3.delete_bucket(Bucket=name)
        self.assertEqual(r['ResponseMetadata']['HTTPStatusCode'], 204)
        self.assertS3Error(None, 404, self.s3.head_bucket, Bucket=name)
        names = [b['Name'] for b in self.s3.list_buckets()['Buckets']]
        self.assertNotIn(name, names)

    def test_valid_name_edges(self):
        for name in ('abc', 'a' * 63, 'a.b.c', 'a-b-' + unique_name('x'),
                     '0123456789'):
            with self.subTest(name=name):
                self.s3.create_bucket(Bucket=name)
                self.s3.head_bucket(Bucket=name)
                self.s3.delete_bucket(Bucket=name)

    def test_invalid_names(self):
        # Raw requests: boto3 checks some names itself before sending.
        bad = ['ab', 'a' * 64, 'UpperCase', 'under_score', '-lead', 'trail-',
               '192.168.1.1', 'two..dots', '.leaddot', 'trail.', 'dot.-dash',
               'dash-.dot', 'sp%20ace', 'b%C3%A9b']
        for name in bad:
            with self.subTest(name=name):
                r = self.server.signed('PUT', '/' + name)
                self.assertRawError(r, 400, 'InvalidBucketName')
        listed = [b['Name'] for b in self.s3.list_buckets()['Buckets']]
        self.assertFalse(set(listed) & set(bad))

    def test_create_again_same_owner(self):
        # us-east-1 (the harness's region) keeps S3's legacy 200; other
        # regions answer 409 (test_conformance.py).
        name = self.new_bucket()
        self.s3.create_bucket(Bucket=name)
        # The bucket and its content are untouched.
        self.s3.put_object(Bucket=name, Key='k', Body=b'v')
        self.s3.create_bucket(Bucket=name)
        self.assertEqual(self.s3.get_object(Bucket=name, Key='k')
                         ['Body'].read(), b'v')

    def test_create_owned_by_other_user(self):
        name = self.new_bucket()
        bob = self.server.boto3_client('bob')
        self.assertS3Error('BucketAlreadyExists', 409,
                           bob.create_bucket, Bucket=name)
        # ListBuckets shows each user only their own buckets.
        self.assertNotIn(name, [b['Name'] for b in
                                bob.list_buckets()['Buckets']])
        bobs = self.new_bucket(client=bob, hint='bobs')
        self.assertIn(bobs, [b['Name'] for b in
                             bob.list_buckets()['Buckets']])
        self.assertNotIn(bobs, [b['Name'] for b in
                                self.s3.list_buckets()['Buckets']])

    def test_other_user_is_denied(self):
        name = self.new_bucket()
        self.s3.put_object(Bucket=name, Key='secret', Body=b'x')
        bob = self.server.boto3_client('bob')
        self.assertS3Error('AccessDenied', 403, bob.put_object,
                           Bucket=name, Key='k', Body=b'y')
        self.assertS3Error('AccessDenied', 403, bob.get_object,
                           Bucket=name, Key='secret')
        self.assertS3Error('AccessDenied', 403, bob.list_objects_v2,
                           Bucket=name)
        self.assertS3Error('AccessDenied', 403, bob.delete_object,
                           Bucket=name, Key='secret')
        self.assertS3Error('AccessDenied', 403, bob.delete_bucket,
                           Bucket=name)
        self.assertS3Error(None, 403, bob.head_bucket, Bucket=name)
        self.s3.head_object(Bucket=name, Key='secret')
        self.s3.head_bucket(Bucket=name)

    def test_delete_not_empty(self):
        name = self.new_bucket()
        self.s3.put_object(Bucket=name, Key='a/b', Body=b'1')
        self.assertS3Error('BucketNotEmpty', 409,
                           self.s3.delete_bucket, Bucket=name)
        self.s3.head_bucket(Bucket=name)
        self.s3.delete_object(Bucket=name, Key='a/b')
        self.s3.delete_bucket(Bucket=name)
        self.assertS3Error(None, 404, self.s3.head_bucket, Bucket=name)

    def test_missing_bucket(self):
        name = unique_name('missing')
        self.assertS3Error('NoSuchBucket', 404,
                           self.s3.delete_bucket, Bucket=name)
        self.assertS3Error(None, 404, self.s3.head_bucket, Bucket=name)
        self.assertS3Error('NoSuchBucket', 404,
                           self.s3.list_objects_v2, Bucket=name)
        self.assertS3Error('NoSuchBucket', 404, self.s3.put_object,
                           Bucket=name, Key='k', Body=b'x')
        self.assertS3Error('NoSuchBucket', 404, self.s3.get_object,
                           Bucket=name, Key='k')
        r = self.server.signed('GET', '/' + name + '/k')
        self.assertRawError(r, 404, 'NoSuchBucket')
        root = r.xml()
        self.assertEqual(root.tag, 'Error')
        self.assertTrue(root.findtext('Message'))
        self.assertIn(name, root.findtext('Resource') or '')
        self.assertEqual(root.findtext('RequestId'),
                         r.header('x-amz-request-id'))

    def test_recreate_after_delete(self):
        name = self.new_bucket()
        self.s3.put_object(Bucket=name, Key='old', Body=b'old')
        self.s3.delete_object(Bucket=name, Key='old')
        self.s3.delete_bucket(Bucket=name)
        self.s3.create_bucket(Bucket=name)
        self.assertEqual(self.s3.list_objects_v2(Bucket=name)['KeyCount'], 0)
        # And another user may take a name once it is free.
        self.s3.delete_bucket(Bucket=name)
        bob = self.server.boto3_client('bob')
        bob.create_bucket(Bucket=name)
        self.assertS3Error('BucketAlreadyExists', 409,
                           self.s3.create_bucket, Bucket=name)
        bob.delete_bucket(Bucket=name)

    def test_location_constraint_us_east_1(self):
        # The default region takes no constraint, or an empty one.
        name = unique_name('loc')
        body = (b'<CreateBucketConfiguration xmlns="http://s3.amazonaws.com/'
                b'doc/2006-03-01/"></CreateBucketConfiguration>')
        r = self.server.signed('PUT', '/' + name, body=body)
        self.assertEqual(r.status, 200, r)
        self.s3.head_bucket(Bucket=name)

    def test_malformed_create_body(self):
        name = unique_name('malformed')
        r = self.server.signed('PUT', '/' + name, body=b'<Create')
        self.assertRawError(r, 400, 'MalformedXML')
        self.assertS3Error(None, 404, self.s3.head_bucket, Bucket=name)

    def test_request_id_on_every_response(self):
        name = self.new_bucket()
        for method, path in (('GET', '/'), ('HEAD', '/' + name),
                             ('GET', '/' + name + '?list-type=2'),
                             ('GET', '/' + name + '/missing'),
                             ('HEAD', '/' + name + '/missing'),
                             ('DELETE', '/' + name + '/missing')):
            with self.subTest(method=method, path=path):
                r = self.server.signed(method, path)
                self.assertTrue(r.header('x-amz-request-id'), r.raw_head)
        r = self.server.http('GET', '/')
        self.assertTrue(r.header('x-amz-request-id'), r.raw_head)


class RegionTest(S3gwTestCase):
    """A server in another region: CreateBucket's LocationConstraint must
    name it."""

    conf = {'region': 'eu-west-1'}

    def test_matching_constraint(self):
        name = unique_name('eu')
        self.s3.create_bucket(Bucket=name, CreateBucketConfiguration={
            'LocationConstraint': 'eu-west-1'})
        self.s3.head_bucket(Bucket=name)

    def test_other_constraint_rejected(self):
        name = unique_name('ap')
        with self.assertRaises(ClientError) as cm:
            self.s3.create_bucket(Bucket=name, CreateBucketConfiguration={
                'LocationConstraint': 'ap-south-1'})
        resp = cm.exception.response
        self.assertEqual(resp['ResponseMetadata']['HTTPStatusCode'], 400)
        self.assertIn(resp['Error']['Code'],
                      ('IllegalLocationConstraintException',
                       'InvalidLocationConstraint'))
        self.assertS3Error(None, 404, self.s3.head_bucket, Bucket=name)


class VirtualHostTest(S3gwTestCase):
    """With server_name set, Host: BUCKET.server_name:PORT addresses a
    bucket; path-style keeps working beside it."""

    conf = {'server_name': 's3.localtest'}

    def vhost(self, bucket):
        return '%s.s3.localtest:%d' % (bucket, self.server.port)

    def vsigned(self, method, bucket, path, body=None, headers=None):
        hdrs = dict(headers or {})
        hdrs['Host'] = self.vhost(bucket)
        return self.server.signed(method, path, hdrs, body)

    def test_bucket_and_object_by_host(self):
        name = unique_name('vhost')
        r = self.vsigned('PUT', name, '/')
        self.assertEqual(r.status, 200, r)
        self.s3.head_bucket(Bucket=name)           # path-style sees it

        key = 'dir/a key+1.txt'
        r = self.vsigned('PUT', name, '/' + s3_quote(key), b'hello vhost')
        self.assertEqual(r.status, 200, r)
        self.assertEqual(self.s3.get_object(Bucket=name, Key=key)
                         ['Body'].read(), b'hello vhost')

        r = self.vsigned('GET', name, '/' + s3_quote(key))
        self.assertEqual((r.status, r.body), (200, b'hello vhost'))

        r = self.vsigned('GET', name, '/?list-type=2&prefix=dir%2F')
        self.assertEqual(r.status, 200, r)
        root = r.xml()
        self.assertEqual(root.findtext('Name'), name)
        self.assertEqual([c.findtext('Key') for c in
                          root.findall('Contents')], [key])

        r = self.vsigned('HEAD', name, '/')
        self.assertEqual(r.status, 200)
        r = self.vsigned('DELETE', name, '/' + s3_quote(key))
        self.assertEqual(r.status, 204)
        r = self.vsigned('DELETE', name, '/')
        self.assertEqual(r.status, 204)
        self.assertS3Error(None, 404, self.s3.head_bucket, Bucket=name)

    def test_missing_bucket_by_host(self):
        r = self.vsigned('GET', unique_name('nohost'), '/k')
        self.assertRawError(r, 404, 'NoSuchBucket')

    def test_plain_server_name_is_the_service(self):
        name = self.new_bucket()
        r = self.server.signed('GET', '/', {'Host': 's3.localtest:%d'
                                            % self.server.port})
        self.assertEqual(r.status, 200, r)
        names = [b.findtext('Name') for b in r.xml().iter('Bucket')]
        self.assertIn(name, names)


if __name__ == '__main__':
    unittest.main()
