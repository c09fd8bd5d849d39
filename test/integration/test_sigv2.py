"""AWS Signature Version 2 (HmacV1, s3/auth/sigv2): boto3 with
signature_version='s3' doing buckets, objects, sub-resources and multipart;
presigned URLs from boto3 (explicitly SigV2, and by default: botocore signs
presigned S3 URLs with SigV2 when no signature version is configured and the
region is one that still takes it, such as us-east-1) and from the aws CLI v1
(`aws s3 presign`, SigV2 by default for the same reason); expiry, wrong
secrets, unknown keys, clock skew, missing dates, tampering, and the unsigned
x-amz-acl header added to a presigned PUT.

Raw requests are signed by botocore's HmacV1Auth / HmacV1QueryAuth, so the
signatures come from an independent implementation (the one boto3 uses).

These tests need the router to try SigV2 (s3_sigv2_parse_header for an
"AWS " Authorization header, s3_sigv2_parse_query for AWSAccessKeyId /
Signature); until then every signed request here is refused."""

import base64
import datetime
import hashlib
import hmac
import os
import re
import time
import unittest
from unittest import mock

import botocore.auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from harness import (MiB, REPO, S3gwTestCase, etag_of, http_date, s3_quote,
                     unique_name)


def utcnow():
    return datetime.datetime.now(datetime.timezone.utc)


def is_sigv2_url(url):
    return ('AWSAccessKeyId=' in url and 'Signature=' in url
            and 'Expires=' in url and 'X-Amz-Algorithm' not in url)


class SigV2Test(S3gwTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.v2 = cls.server.boto3_client(signature_version='s3')
        cls.bucket = unique_name('sigv2')
        cls.s3.create_bucket(Bucket=cls.bucket)
        cls.s3.put_object(Bucket=cls.bucket, Key='hello.txt', Body=b'hello')

    def path(self, key, bucket=None):
        return '/%s/%s' % (bucket or self.bucket, s3_quote(key))

    def assertAbsent(self, key):
        self.assertS3Error(None, 404, self.s3.head_object,
                           Bucket=self.bucket, Key=key)

    # --- Raw requests signed by botocore ---------------------------------

    def sign(self, method, path, headers=None, user='admin', date=None,
             access_key=None, secret_key=None):
        """HmacV1 (header form) for a raw request; returns (header pairs,
        the StringToSign botocore signed). date: the Date header (botocore
        sets it itself; this replaces its clock)."""
        items = dict(headers or {})
        items.setdefault('Host', self.server.host)
        req = AWSRequest(method=method, url=self.server.url + path,
                         headers=items)
        if access_key is not None:
            creds = Credentials(access_key, secret_key)
        else:
            creds = self.server.credentials(user)
        auth = botocore.auth.HmacV1Auth(creds)
        if date is not None:
            auth._get_date = lambda: date
        signed = {}
        sign_string = auth.sign_string

        def capture(sts):
            signed['sts'] = sts
            return sign_string(sts)
        auth.sign_string = capture
        auth.add_auth(req)
        return list(req.headers.items()), signed['sts']

    def signed(self, method, path, headers=None, body=None, **kw):
        hdrs, _ = self.sign(method, path, headers, **kw)
        return self.server.http(method, path, hdrs, body)

    def presign(self, method, path, expires=3600, headers=None, now=None,
                user='admin'):
        """A SigV2 presigned target (path + query) from HmacV1QueryAuth;
        now: the signer's clock (unix seconds)."""
        items = dict(headers or {})
        items.setdefault('Host', self.server.host)
        req = AWSRequest(method=method, url=self.server.url + path,
                         headers=items)
        auth = botocore.auth.HmacV1QueryAuth(self.server.credentials(user),
                                             expires=expires)
        if now is None:
            now = time.time()
        with mock.patch.object(botocore.auth.time, 'time', lambda: now):
            auth.add_auth(req)
        return req.url[len(self.server.url):]

    # --- boto3 with signature_version='s3' --------------------------------

    def test_object_round_trip(self):
        data = os.urandom(100000)
        key = 'dir/a b+c%d&=?.bin'
        self.v2.put_object(Bucket=self.bucket, Key=key, Body=data,
                           ContentType='application/x-test',
                           Metadata={'colour': 'blue', 'spaced': ' a  b '})
        head = self.v2.head_object(Bucket=self.bucket, Key=key)
        self.assertEqual(head['ContentLength'], len(data))
        self.assertEqual(head['ContentType'], 'application/x-test')
        self.assertEqual(head['Metadata']['colour'], 'blue')
        got = self.v2.get_object(Bucket=self.bucket, Key=key)
        self.assertEqual(got['Body'].read(), data)
        self.assertEqual(got['ETag'], etag_of(data))
        got = self.v2.get_object(Bucket=self.bucket, Key=key,
                                 Range='bytes=10-19')
        self.assertEqual(got['Body'].read(), data[10:20])

        # response-* overrides are signed sub-resources.
        got = self.v2.get_object(Bucket=self.bucket, Key=key,
                                 ResponseContentType='text/x-override; a=b',
                                 ResponseContentDisposition='inline')
        self.assertEqual(got['ContentType'], 'text/x-override; a=b')
        self.assertEqual(got['ContentDisposition'], 'inline')

        keys = [o['Key'] for o in self.v2.list_objects_v2(
            Bucket=self.bucket, Prefix='dir/')['Contents']]
        self.assertEqual(keys, [key])
        keys = [o['Key'] for o in self.v2.list_objects(
            Bucket=self.bucket, Prefix='dir/')['Contents']]
        self.assertEqual(keys, [key])

        self.v2.copy_object(Bucket=self.bucket, Key='dir/copy',
                            CopySource={'Bucket': self.bucket, 'Key': key})
        self.assertEqual(self.s3.get_object(Bucket=self.bucket,
                                            Key='dir/copy')['Body'].read(),
                         data)
        self.v2.delete_objects(Bucket=self.bucket, Delete={
            'Objects': [{'Key': 'dir/copy'}]})
        self.v2.delete_object(Bucket=self.bucket, Key=key)
        self.assertAbsent(key)
        self.assertAbsent('dir/copy')

    def test_buckets(self):
        name = unique_name('sigv2-bucket')
        self.v2.create_bucket(Bucket=name)
        self.assertIn(name, [b['Name'] for b in
                             self.v2.list_buckets()['Buckets']])
        self.v2.head_bucket(Bucket=name)
        self.v2.get_bucket_location(Bucket=name)            # ?location
        self.v2.put_bucket_acl(Bucket=name, ACL='public-read')   # ?acl
        grants = self.v2.get_bucket_acl(Bucket=name)['Grants']
        self.assertTrue(any(g['Permission'] == 'READ' for g in grants))
        self.v2.delete_bucket(Bucket=name)
        self.assertS3Error(None, 404, self.s3.head_bucket, Bucket=name)

    def test_object_subresources(self):
        key = 'sub.txt'
        self.v2.put_object(Bucket=self.bucket, Key=key, Body=b'sub')
        self.v2.put_object_tagging(Bucket=self.bucket, Key=key, Tagging={
            'TagSet': [{'Key': 'a', 'Value': '1'}]})
        self.assertEqual(self.v2.get_object_tagging(
            Bucket=self.bucket, Key=key)['TagSet'],
            [{'Key': 'a', 'Value': '1'}])
        self.v2.put_object_acl(Bucket=self.bucket, Key=key, ACL='public-read')
        grants = self.v2.get_object_acl(Bucket=self.bucket, Key=key)['Grants']
        self.assertTrue(any(g['Permission'] == 'READ' for g in grants))
        r = self.server.http('GET', self.path(key))       # anonymous
        self.assertEqual((r.status, r.body), (200, b'sub'))

    def test_multipart(self):
        key = 'multi part.bin'
        parts = [os.urandom(5 * MiB), os.urandom(5 * MiB), b'tail']
        up = self.v2.create_multipart_upload(Bucket=self.bucket, Key=key,
                                             Metadata={'m': '1'})
        uid = up['UploadId']
        etags = []
        for n, p in enumerate(parts, 1):
            r = self.v2.upload_part(Bucket=self.bucket, Key=key,
                                    UploadId=uid, PartNumber=n, Body=p)
            etags.append(r['ETag'])
        listed = self.v2.list_parts(Bucket=self.bucket, Key=key,
                                    UploadId=uid)['Parts']
        self.assertEqual([p['PartNumber'] for p in listed], [1, 2, 3])
        uploads = self.v2.list_multipart_uploads(Bucket=self.bucket)
        self.assertIn(uid, [u['UploadId'] for u in uploads.get('Uploads',
                                                                [])])
        self.v2.complete_multipart_upload(
            Bucket=self.bucket, Key=key, UploadId=uid,
            MultipartUpload={'Parts': [{'PartNumber': n, 'ETag': e}
                                       for n, e in enumerate(etags, 1)]})
        got = self.v2.get_object(Bucket=self.bucket, Key=key)
        self.assertEqual(got['Body'].read(), b''.join(parts))
        self.assertEqual(got['Metadata'], {'m': '1'})
        self.assertEqual(self.v2.get_object(Bucket=self.bucket, Key=key,
                                            PartNumber=3)['Body'].read(),
                         b'tail')

        up = self.v2.create_multipart_upload(Bucket=self.bucket, Key='gone')
        self.v2.abort_multipart_upload(Bucket=self.bucket, Key='gone',
                                       UploadId=up['UploadId'])
        self.assertS3Error('NoSuchUpload', 404, self.v2.list_parts,
                           Bucket=self.bucket, Key='gone',
                           UploadId=up['UploadId'])

    # --- Presigned URLs -----------------------------------------------------

    def test_presigned_get_and_put(self):
        url = self.v2.generate_presigned_url(
            'get_object', Params={'Bucket': self.bucket, 'Key': 'hello.txt'},
            ExpiresIn=300)
        self.assertTrue(is_sigv2_url(url), url)
        target = url[len(self.server.url):]
        r = self.server.http('GET', target)
        self.assertEqual((r.status, r.body), (200, b'hello'))
        r = self.server.http('HEAD', target)
        self.assertEqual(r.status, 403)              # signed for GET only

        url = self.v2.generate_presigned_url(
            'put_object', Params={'Bucket': self.bucket,
                                  'Key': 'presigned put.bin'},
            ExpiresIn=300)
        self.assertTrue(is_sigv2_url(url), url)
        data = os.urandom(10000)
        r = self.server.http('PUT', url[len(self.server.url):], body=data)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.header('ETag'), etag_of(data))
        self.assertEqual(self.s3.get_object(
            Bucket=self.bucket, Key='presigned put.bin')['Body'].read(), data)

    def test_presigned_by_default(self):
        """boto3 without a configured signature version presigns S3 URLs
        with SigV2 in us-east-1: the URLs most users hand out."""
        c = self.server.boto3_client(signature_version=None)
        url = c.generate_presigned_url(
            'get_object', Params={'Bucket': self.bucket, 'Key': 'hello.txt'},
            ExpiresIn=60)
        self.assertTrue(is_sigv2_url(url), url)
        r = self.server.http('GET', url[len(self.server.url):])
        self.assertEqual((r.status, r.body), (200, b'hello'))

    def test_presigned_with_overrides(self):
        url = self.v2.generate_presigned_url(
            'get_object', Params={'Bucket': self.bucket, 'Key': 'hello.txt',
                                  'ResponseContentType': 'text/x-custom'},
            ExpiresIn=60)
        r = self.server.http('GET', url[len(self.server.url):])
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.header('Content-Type'), 'text/x-custom')
        # The override is signed.
        r = self.server.http('GET', url[len(self.server.url):].replace(
            'text%2Fx-custom', 'text%2Fhtml'))
        self.assertRawError(r, 403, 'SignatureDoesNotMatch')

    def test_presigned_put_with_acl_and_type(self):
        """botocore moves the signed x-amz-acl and content-type into the
        URL; the uploader sends the Content-Type header, and the x-amz-acl
        parameter takes effect as the header would."""
        url = self.v2.generate_presigned_url(
            'put_object', Params={'Bucket': self.bucket, 'Key': 'acl.txt',
                                  'ACL': 'public-read',
                                  'ContentType': 'text/plain'},
            ExpiresIn=300)
        self.assertIn('x-amz-acl=public-read', url)
        target = url[len(self.server.url):]
        r = self.server.http('PUT', target, [('Content-Type', 'text/plain')],
                             body=b'public')
        self.assertEqual(r.status, 200, r)
        r = self.server.http('GET', self.path('acl.txt'))     # anonymous
        self.assertEqual((r.status, r.body), (200, b'public'))
        self.assertEqual(r.header('Content-Type'), 'text/plain')
        # Without the Content-Type it was signed with, it does not match.
        r = self.server.http('PUT', target, body=b'other')
        self.assertRawError(r, 403, 'SignatureDoesNotMatch')

    def test_presigned_put_plus_unsigned_acl_header(self):
        """SigV2 signs every x-amz-* header, so one added to a presigned
        URL breaks the signature (S3's SignatureDoesNotMatch); a router
        that refuses unsigned x-amz-* headers first answers AccessDenied.
        Either way nothing is written and no ACL is granted."""
        target = self.presign('PUT', self.path('hijack.txt'), expires=300)
        r = self.server.http('PUT', target, [('x-amz-acl', 'public-read')],
                             body=b'hijack')
        self.assertEqual(r.status, 403, r)
        self.assertIn(r.code, ('AccessDenied', 'SignatureDoesNotMatch'), r)
        self.assertAbsent('hijack.txt')
        # The same URL without the header works.
        r = self.server.http('PUT', target, body=b'fine')
        self.assertEqual(r.status, 200, r)
        r = self.server.http('GET', self.path('hijack.txt'))   # anonymous
        self.assertEqual(r.status, 403, r)

    def test_presigned_expired(self):
        now = time.time()
        target = self.presign('GET', self.path('hello.txt'), expires=3600,
                              now=now - 7200)
        r = self.server.http('GET', target)
        self.assertRawError(r, 403, 'AccessDenied')
        self.assertIn('Request has expired', r.xml().findtext('Message'))
        url = self.v2.generate_presigned_url(
            'get_object', Params={'Bucket': self.bucket, 'Key': 'hello.txt'},
            ExpiresIn=1)
        time.sleep(2.1)
        r = self.server.http('GET', url[len(self.server.url):])
        self.assertRawError(r, 403, 'AccessDenied')
        # Still valid: signed an hour ago for two hours.
        target = self.presign('GET', self.path('hello.txt'), expires=7200,
                              now=now - 3600)
        r = self.server.http('GET', target)
        self.assertEqual((r.status, r.body), (200, b'hello'))

    def test_presigned_bad_signature_and_key(self):
        target = self.presign('GET', self.path('hello.txt'))
        m = re.search(r'Signature=([^&]+)', target)
        sig = base64.b64decode(m.group(1).replace('%2B', '+')
                               .replace('%2F', '/').replace('%3D', '='))
        bad = base64.b64encode(bytes([sig[0] ^ 1]) + sig[1:]).decode()
        r = self.server.http('GET', target.replace(
            m.group(1), bad.replace('+', '%2B').replace('/', '%2F')
            .replace('=', '%3D')))
        self.assertRawError(r, 403, 'SignatureDoesNotMatch')
        # An added sub-resource is signed; another parameter is not.
        r = self.server.http('GET', target + '&acl')
        self.assertRawError(r, 403, 'SignatureDoesNotMatch')
        r = self.server.http('GET', target + '&x-id=GetObject')
        self.assertEqual((r.status, r.body), (200, b'hello'))
        r = self.server.http('GET', target.replace('AKADMIN', 'AKNOBODY'))
        self.assertRawError(r, 403, 'InvalidAccessKeyId')
        # bob's own signature is good, but bob may not read admin's bucket.
        r = self.server.http('GET', self.presign('GET', self.path('hello.txt'),
                                                 user='bob'))
        self.assertRawError(r, 403, 'AccessDenied')

    def test_presigned_malformed(self):
        base = self.path('hello.txt')
        for q in ('AWSAccessKeyId=AKADMIN',
                  'AWSAccessKeyId=AKADMIN&Signature=AAAA&Expires=9999999999',
                  'AWSAccessKeyId=AKADMIN&Expires=tomorrow&Signature='
                  'NpgCjnDzrM%2BWFzoENXmpNDUsSn8%3D'):
            with self.subTest(query=q):
                r = self.server.http('GET', base + '?' + q)
                self.assertEqual(r.status, 403, r)
                self.assertEqual(r.code, 'AccessDenied', r)
                self.assertNotEqual(r.body, b'hello')

    def test_aws_cli_v1_presign(self):
        """`aws s3 presign` of the CLI v1 presigns with SigV2 unless a
        signature version is configured (the CLI v2 always uses SigV4)."""
        ver = self.server.aws('--version')
        if not (ver.stdout + ver.stderr).startswith('aws-cli/1.'):
            self.skipTest('no aws CLI v1: ' + ver.stdout + ver.stderr)
        p = self.server.aws('s3', 'presign',
                            's3://%s/hello.txt' % self.bucket,
                            '--expires-in', '300')
        self.assertEqual(p.returncode, 0, p.stderr)
        url = p.stdout.strip()
        self.assertTrue(is_sigv2_url(url), url)
        r = self.server.http('GET', url[len(self.server.url):])
        self.assertEqual((r.status, r.body), (200, b'hello'))

    # --- Header signatures ---------------------------------------------------

    def test_wrong_secret(self):
        c = self.server.boto3_client(access_key='AKADMIN',
                                     secret_key='NOTTHESECRET',
                                     signature_version='s3')
        self.assertS3Error('SignatureDoesNotMatch', 403, c.list_buckets)
        self.assertS3Error('SignatureDoesNotMatch', 403, c.put_object,
                           Bucket=self.bucket, Key='wrong-secret', Body=b'x')
        self.assertAbsent('wrong-secret')
        # The error shows the StringToSign, which is botocore's.
        hdrs, sts = self.sign('GET', self.path('hello.txt') + '?acl',
                              {'x-amz-meta-z': ' 1 '}, access_key='AKADMIN',
                              secret_key='NOTTHESECRET')
        r = self.server.http('GET', self.path('hello.txt') + '?acl', hdrs)
        self.assertRawError(r, 403, 'SignatureDoesNotMatch')
        self.assertEqual(r.xml().findtext('StringToSign'), sts)

    def test_unknown_access_key(self):
        c = self.server.boto3_client(access_key='AKNOSUCHKEY',
                                     secret_key='whatever',
                                     signature_version='s3')
        self.assertS3Error('InvalidAccessKeyId', 403, c.list_buckets)
        self.assertS3Error('InvalidAccessKeyId', 403, c.get_object,
                           Bucket=self.bucket, Key='hello.txt')

    def test_tampering(self):
        path = self.path('tamper.txt')
        hdrs, _ = self.sign('PUT', path, {'x-amz-meta-a': '1',
                                          'Content-Type': 'text/plain'})
        for name, value in (('x-amz-meta-a', '2'), ('Content-Type', 'x/y')):
            with self.subTest(header=name):
                bad = [(k, value if k == name else v) for k, v in hdrs]
                r = self.server.http('PUT', path, bad, b'body')
                self.assertRawError(r, 403, 'SignatureDoesNotMatch')
        r = self.server.http('PUT', path, hdrs + [('x-amz-meta-b', '1')],
                             b'body')
        self.assertRawError(r, 403, 'SignatureDoesNotMatch')
        r = self.server.http('PUT', self.path('tamper.txT'), hdrs, b'body')
        self.assertRawError(r, 403, 'SignatureDoesNotMatch')
        r = self.server.http('PUT', path + '?tagging', hdrs, b'body')
        self.assertRawError(r, 403, 'SignatureDoesNotMatch')
        self.assertAbsent('tamper.txt')
        # Headers outside the StringToSign may change.
        r = self.server.http('PUT', path, hdrs + [('User-Agent', 'other/1')],
                             b'body')
        self.assertEqual(r.status, 200, r)

    def test_clock_skew(self):
        for minutes in (-20, 20, -60 * 24):
            with self.subTest(minutes=minutes):
                when = utcnow() + datetime.timedelta(minutes=minutes)
                r = self.signed('GET', self.path('hello.txt'),
                                date=http_date(when))
                self.assertRawError(r, 403, 'RequestTimeTooSkewed')
        for minutes in (-10, 10):
            with self.subTest(minutes=minutes):
                when = utcnow() + datetime.timedelta(minutes=minutes)
                r = self.signed('GET', self.path('hello.txt'),
                                date=http_date(when))
                self.assertEqual((r.status, r.body), (200, b'hello'))

    def test_x_amz_date(self):
        """With x-amz-date the Date line is signed empty and x-amz-date is
        the request time (signed by hand: botocore always uses Date)."""
        path = self.path('hello.txt')
        amz_date = http_date(utcnow())

        def auth(sts, secret='SECRETADMIN'):
            mac = hmac.new(secret.encode(), sts.encode(), hashlib.sha1)
            return 'AWS AKADMIN:' + base64.b64encode(mac.digest()).decode()
        sts = 'GET\n\n\n\nx-amz-date:%s\n%s' % (amz_date, path)
        hdrs = [('Date', 'Thu, 01 Jan 2004 00:00:00 GMT'),
                ('x-amz-date', amz_date), ('Authorization', auth(sts))]
        r = self.server.http('GET', path, hdrs)
        self.assertEqual((r.status, r.body), (200, b'hello'))
        # x-amz-date is the one checked for skew.
        old = http_date(utcnow() - datetime.timedelta(hours=1))
        sts = 'GET\n\n\n\nx-amz-date:%s\n%s' % (old, path)
        r = self.server.http('GET', path, [
            ('Date', amz_date), ('x-amz-date', old),
            ('Authorization', auth(sts))])
        self.assertRawError(r, 403, 'RequestTimeTooSkewed')

    def test_missing_date(self):
        path = self.path('hello.txt')
        for hdrs in ([], [('Date', 'not a date')],
                     [('x-amz-date', 'not a date'),
                      ('Date', http_date(utcnow()))]):
            with self.subTest(headers=hdrs):
                r = self.server.http('GET', path, hdrs + [
                    ('Authorization',
                     'AWS AKADMIN:qgk2+6Sv9/oM7G3qLEjTH1a1l1g=')])
                self.assertRawError(r, 403, 'AccessDenied')
                self.assertIn('valid Date or x-amz-date',
                              r.xml().findtext('Message'))

    def test_malformed_authorization(self):
        hdrs, _ = self.sign('GET', self.path('hello.txt'))
        for value in ('AWS AKADMIN', 'AWS AKADMIN:', 'AWS :c2lnbmF0dXJl',
                      'AWS AKADMIN:!!notbase64!!', 'AWS AKADMIN:AAAA',
                      'AWS', 'AWS A K:qgk2+6Sv9/oM7G3qLEjTH1a1l1g='):
            with self.subTest(value=value):
                bad = [(k, value if k == 'Authorization' else v)
                       for k, v in hdrs]
                r = self.server.http('GET', self.path('hello.txt'), bad)
                self.assertRawError(r, 400, 'InvalidArgument')
                self.assertNotEqual(r.body, b'hello')


class SigV2SourceTest(unittest.TestCase):
    """No server: the signed sub-resources of s3/auth/sigv2.c are exactly
    botocore's HmacV1Auth.QSAOfInterest, the list boto3 signs with."""

    def test_subresources_match_botocore(self):
        with open(os.path.join(REPO, 's3', 'auth', 'sigv2.c')) as f:
            src = f.read()
        m = re.search(r'sigv2_subresources\[\]\s*=\s*\{(.*?)\};', src, re.S)
        self.assertIsNotNone(m, 'no sigv2_subresources[] in sigv2.c')
        ours = re.findall(r'"([^"]*)"', m.group(1))
        self.assertEqual(len(ours), len(set(ours)), 'a name is listed twice')
        self.assertEqual(set(ours),
                         set(botocore.auth.HmacV1Auth.QSAOfInterest))


if __name__ == '__main__':
    unittest.main()
