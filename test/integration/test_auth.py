"""Authentication and integrity: SigV4 headers and presigned URLs, expiry,
unknown keys, bad signatures, clock skew, anonymous requests, payload hashes,
STREAMING-AWS4-HMAC-SHA256-PAYLOAD (chunk signatures), aws-chunked trailers,
and the x-amz-checksum-* algorithms."""

import base64
import datetime
import hashlib
import os
import unittest

from harness import (CHECKSUM_ALGORITHMS, EMPTY_SHA256, S3gwTestCase,
                     checksum_b64, etag_of, hmac_hex, s3_quote, sha256_hex,
                     signing_key, unique_name)


def utcnow():
    """Naive UTC, as botocore's signer wants it."""
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)


class AuthTest(S3gwTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.bucket = unique_name('auth')
        cls.s3.create_bucket(Bucket=cls.bucket)
        cls.s3.put_object(Bucket=cls.bucket, Key='hello.txt', Body=b'hello')

    def path(self, key):
        return '/%s/%s' % (self.bucket, s3_quote(key))

    def assertAbsent(self, key):
        self.assertS3Error(None, 404, self.s3.head_object,
                           Bucket=self.bucket, Key=key)

    # --- Header signatures ------------------------------------------------

    def test_signed_request_works(self):
        r = self.server.signed('GET', self.path('hello.txt'))
        self.assertEqual((r.status, r.body), (200, b'hello'))

    def test_unknown_access_key(self):
        c = self.server.boto3_client(access_key='AKNOSUCHKEY',
                                     secret_key='whatever')
        self.assertS3Error('InvalidAccessKeyId', 403, c.list_buckets)
        self.assertS3Error('InvalidAccessKeyId', 403, c.get_object,
                           Bucket=self.bucket, Key='hello.txt')

    def test_wrong_secret(self):
        c = self.server.boto3_client(access_key='AKADMIN',
                                     secret_key='NOTTHESECRET')
        self.assertS3Error('SignatureDoesNotMatch', 403, c.list_buckets)
        self.assertS3Error('SignatureDoesNotMatch', 403, c.put_object,
                           Bucket=self.bucket, Key='wrong-secret', Body=b'x')
        self.assertAbsent('wrong-secret')

    def test_header_changed_after_signing(self):
        hdrs = self.server.sign('PUT', self.path('changed'),
                                {'x-amz-meta-a': '1'}, b'body')
        hdrs = [(k, '2' if k.lower() == 'x-amz-meta-a' else v)
                for k, v in hdrs]
        r = self.server.http('PUT', self.path('changed'), hdrs, b'body')
        self.assertRawError(r, 403, 'SignatureDoesNotMatch')
        self.assertAbsent('changed')

    def test_path_and_query_are_signed(self):
        hdrs = self.server.sign('GET', self.path('hello.txt'))
        r = self.server.http('GET', self.path('hello.txT'), hdrs)
        self.assertRawError(r, 403, 'SignatureDoesNotMatch')
        r = self.server.http('GET', self.path('hello.txt') +
                             '?response-content-type=x%2Fy', hdrs)
        self.assertRawError(r, 403, 'SignatureDoesNotMatch')

    def test_unsigned_plain_header_is_allowed(self):
        hdrs = self.server.sign('GET', self.path('hello.txt'))
        hdrs.append(('User-Agent', 'not-signed/1.0'))
        r = self.server.http('GET', self.path('hello.txt'), hdrs)
        self.assertEqual((r.status, r.body), (200, b'hello'))

    def test_clock_skew(self):
        for minutes in (-20, 20, -60 * 24):
            with self.subTest(minutes=minutes):
                when = utcnow() + datetime.timedelta(minutes=minutes)
                r = self.server.signed('GET', self.path('hello.txt'),
                                       now=when)
                self.assertRawError(r, 403, 'RequestTimeTooSkewed')
        for minutes in (-10, 10):
            with self.subTest(minutes=minutes):
                when = utcnow() + datetime.timedelta(minutes=minutes)
                r = self.server.signed('GET', self.path('hello.txt'),
                                       now=when)
                self.assertEqual(r.status, 200, r)

    def test_wrong_region_in_scope(self):
        r = self.server.signed('GET', self.path('hello.txt'),
                               region='eu-central-1')
        self.assertRawError(r, 400, 'AuthorizationHeaderMalformed')

    def test_malformed_authorization(self):
        for value in ('AWS4-HMAC-SHA256 garbage',
                      'AWS4-HMAC-SHA256 Credential=AKADMIN/2020/x, '
                      'SignedHeaders=host, Signature=zz',
                      'Bearer abc', 'AWS4-HMAC-SHA256', ''):
            with self.subTest(value=value):
                hdrs = self.server.sign('GET', self.path('hello.txt'))
                hdrs = [(k, value if k == 'Authorization' else v)
                        for k, v in hdrs]
                r = self.server.http('GET', self.path('hello.txt'), hdrs)
                self.assertIn(r.status, (400, 403), r)
                self.assertTrue(r.code, r)
                self.assertNotEqual(r.body, b'hello')

    # --- Anonymous ---------------------------------------------------------

    def test_anonymous_is_denied(self):
        name = unique_name('anon')
        for method, path, body in (
                ('GET', '/', None),
                ('GET', '/' + self.bucket, None),
                ('GET', '/' + self.bucket + '?list-type=2', None),
                ('GET', self.path('hello.txt'), None),
                ('HEAD', self.path('hello.txt'), None),
                ('PUT', self.path('anon-put'), b'data'),
                ('DELETE', self.path('hello.txt'), None),
                ('PUT', '/' + name, None),
                ('DELETE', '/' + self.bucket, None)):
            with self.subTest(method=method, path=path):
                r = self.server.http(method, path, body=body)
                self.assertEqual(r.status, 403, r)
                self.assertTrue(r.header('x-amz-request-id'))
                if method != 'HEAD':
                    self.assertEqual(r.code, 'AccessDenied', r)
        self.assertAbsent('anon-put')
        self.s3.head_object(Bucket=self.bucket, Key='hello.txt')
        self.assertS3Error(None, 404, self.s3.head_bucket, Bucket=name)

    # --- Payload hash ----------------------------------------------------------

    def test_content_sha256_mismatch(self):
        r = self.server.signed('PUT', self.path('sha-mismatch'),
                               body=b'the real body',
                               payload_hash=sha256_hex(b'another body'))
        self.assertRawError(r, 400, 'XAmzContentSHA256Mismatch')
        self.assertAbsent('sha-mismatch')
        # Bigger than one chunk and than the socket buffers.
        big = os.urandom(6 * 1024 * 1024)
        r = self.server.signed('PUT', self.path('sha-mismatch'), body=big,
                               payload_hash=sha256_hex(big[:-1] + b'\0'),
                               timeout=60)
        self.assertRawError(r, 400, 'XAmzContentSHA256Mismatch')
        self.assertAbsent('sha-mismatch')

    def test_unsigned_payload(self):
        r = self.server.signed('PUT', self.path('unsigned'), body=b'abc',
                               payload_hash='UNSIGNED-PAYLOAD')
        self.assertEqual(r.status, 200, r)
        self.assertEqual(self.s3.get_object(Bucket=self.bucket, Key='unsigned')
                         ['Body'].read(), b'abc')

    # --- Presigned URLs -----------------------------------------------------

    def test_presigned_get_and_put(self):
        url = self.s3.generate_presigned_url(
            'get_object', Params={'Bucket': self.bucket, 'Key': 'hello.txt'},
            ExpiresIn=300)
        target = url[len(self.server.url):]
        r = self.server.http('GET', target)
        self.assertEqual((r.status, r.body), (200, b'hello'))
        r = self.server.http('HEAD', target)
        self.assertEqual(r.status, 403)        # signed for GET, not HEAD

        url = self.s3.generate_presigned_url(
            'put_object', Params={'Bucket': self.bucket,
                                  'Key': 'presigned put.bin'},
            ExpiresIn=300)
        data = os.urandom(10000)
        r = self.server.http('PUT', url[len(self.server.url):], body=data)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.header('ETag'), etag_of(data))
        self.assertEqual(self.s3.get_object(
            Bucket=self.bucket, Key='presigned put.bin')['Body'].read(), data)

    def test_presigned_with_overrides(self):
        url = self.s3.generate_presigned_url(
            'get_object', Params={'Bucket': self.bucket, 'Key': 'hello.txt',
                                  'ResponseContentType': 'text/x-custom'},
            ExpiresIn=60)
        r = self.server.http('GET', url[len(self.server.url):])
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.header('Content-Type'), 'text/x-custom')

    def test_presigned_expired(self):
        target = self.server.presign(
            'GET', self.path('hello.txt'), expires=3600,
            now=utcnow() - datetime.timedelta(hours=2))
        r = self.server.http('GET', target)
        self.assertRawError(r, 403, 'AccessDenied')
        self.assertIn('Request has expired', r.xml().findtext('Message'))
        # Still valid: signed an hour ago for two hours.
        target = self.server.presign(
            'GET', self.path('hello.txt'), expires=7200,
            now=utcnow() - datetime.timedelta(hours=1))
        r = self.server.http('GET', target)
        self.assertEqual((r.status, r.body), (200, b'hello'))

    def test_presigned_bad_signature(self):
        target = self.server.presign('GET', self.path('hello.txt'))
        sig = target[-64:]
        bad = target[:-64] + ('0' if sig[0] != '0' else '1') + sig[1:]
        r = self.server.http('GET', bad)
        self.assertRawError(r, 403, 'SignatureDoesNotMatch')
        # Any parameter added after signing breaks it too.
        r = self.server.http('GET', target + '&response-content-type=a%2Fb')
        self.assertRawError(r, 403, 'SignatureDoesNotMatch')
        other = self.server.presign('GET', self.path('hello.txt'), user='bob')
        r = self.server.http('GET', other)
        self.assertRawError(r, 403, 'AccessDenied')

    def test_presigned_unknown_key(self):
        target = self.server.presign('GET', self.path('hello.txt'))
        r = self.server.http('GET', target.replace('AKADMIN', 'AKNOBODY'))
        self.assertRawError(r, 403, 'InvalidAccessKeyId')

    # --- STREAMING-AWS4-HMAC-SHA256-PAYLOAD ----------------------------------

    def streaming_put(self, key, data, chunk=8192, tamper_chunk=None,
                      bad_final=False):
        """PUT data as a signed aws-chunked stream, by hand. tamper_chunk:
        index of a chunk whose bytes are changed after signing."""
        now = utcnow()
        amz_date = now.strftime('%Y%m%dT%H%M%SZ')
        pieces = [data[i:i + chunk] for i in range(0, len(data), chunk)]
        pieces.append(b'')
        encoded_len = sum(len('%x' % len(p)) + len(';chunk-signature=') +
                          64 + 2 + len(p) + 2 for p in pieces)
        path = self.path(key)
        hdrs = self.server.sign(
            'PUT', path,
            {'Content-Encoding': 'aws-chunked',
             'x-amz-decoded-content-length': str(len(data)),
             'Content-Length': str(encoded_len)},
            payload_hash='STREAMING-AWS4-HMAC-SHA256-PAYLOAD', now=now)
        seed = dict(hdrs)['Authorization'].rsplit('Signature=', 1)[1]
        region = self.server.region
        scope = '%s/%s/s3/aws4_request' % (amz_date[:8], region)
        key_ = signing_key(self.server.users['admin'][1], amz_date[:8],
                           region)
        prev, body = seed, b''
        for i, p in enumerate(pieces):
            sig = hmac_hex(key_, '\n'.join([
                'AWS4-HMAC-SHA256-PAYLOAD', amz_date, scope, prev,
                EMPTY_SHA256, sha256_hex(p)]))
            if i == tamper_chunk:
                p = bytes([p[0] ^ 1]) + p[1:]
            if bad_final and not p:
                sig = '0' * 64
            body += ('%x;chunk-signature=%s\r\n' % (len(p), sig)).encode()
            body += p + b'\r\n'
            prev = sig
        self.assertEqual(len(body), encoded_len)
        return self.server.http('PUT', path, hdrs, body, timeout=30)

    def test_streaming_signed_upload(self):
        for size, chunk in ((0, 8192), (100, 8192), (3 * 8192, 8192),
                            (70000, 8192), (300000, 65536)):
            with self.subTest(size=size, chunk=chunk):
                data = os.urandom(size)
                key = 'streaming/%d' % size
                r = self.streaming_put(key, data, chunk)
                self.assertEqual(r.status, 200, r)
                self.assertEqual(r.header('ETag'), etag_of(data))
                g = self.s3.get_object(Bucket=self.bucket, Key=key)
                self.assertEqual(g['ContentLength'], size)
                self.assertEqual(g['Body'].read(), data)
                # The framing is not part of the stored object.
                self.assertNotIn('aws-chunked',
                                 g.get('ContentEncoding') or '')

    def test_streaming_tampered_chunk(self):
        data = os.urandom(3 * 8192 + 10)
        r = self.streaming_put('streaming/tampered', data, tamper_chunk=1)
        self.assertRawError(r, 403, 'SignatureDoesNotMatch')
        self.assertAbsent('streaming/tampered')
        r = self.streaming_put('streaming/tampered', data, tamper_chunk=3)
        self.assertRawError(r, 403, 'SignatureDoesNotMatch')
        self.assertAbsent('streaming/tampered')
        r = self.streaming_put('streaming/tampered', data, bad_final=True)
        self.assertRawError(r, 403, 'SignatureDoesNotMatch')
        self.assertAbsent('streaming/tampered')

    def test_streaming_wrong_decoded_length(self):
        data = os.urandom(10000)
        now = utcnow()
        # Declares 9999 decoded bytes but carries 10000.
        path = self.path('streaming/badlen')
        hdrs = self.server.sign(
            'PUT', path, {'Content-Encoding': 'aws-chunked',
                          'x-amz-decoded-content-length': '9999'},
            payload_hash='STREAMING-AWS4-HMAC-SHA256-PAYLOAD', now=now)
        seed = dict(hdrs)['Authorization'].rsplit('Signature=', 1)[1]
        amz_date = now.strftime('%Y%m%dT%H%M%SZ')
        scope = '%s/%s/s3/aws4_request' % (amz_date[:8], self.server.region)
        k = signing_key('SECRETADMIN', amz_date[:8], self.server.region)
        body, prev = b'', seed
        for p in (data, b''):
            sig = hmac_hex(k, '\n'.join(['AWS4-HMAC-SHA256-PAYLOAD', amz_date,
                                         scope, prev, EMPTY_SHA256,
                                         sha256_hex(p)]))
            body += ('%x;chunk-signature=%s\r\n' % (len(p), sig)).encode() \
                + p + b'\r\n'
            prev = sig
        r = self.server.http('PUT', path, hdrs, body)
        self.assertEqual(r.status, 400, r)
        self.assertTrue(r.code, r)
        self.assertAbsent('streaming/badlen')

    # --- Unsigned payload with trailing checksum (boto3 over TLS) -------------

    def trailer_put(self, key, data, algorithm='CRC32', value=None,
                    transfer_chunked=False, chunk=65536):
        name = 'x-amz-checksum-%s' % algorithm.lower()
        if value is None:
            value = checksum_b64(algorithm, data)
        stream = b''
        for i in range(0, len(data), chunk):
            p = data[i:i + chunk]
            stream += b'%x\r\n%s\r\n' % (len(p), p)
        stream += b'0\r\n%s:%s\r\n\r\n' % (name.encode(), value.encode())
        path = self.path(key)
        hdrs = self.server.sign(
            'PUT', path,
            {'Content-Encoding': 'aws-chunked',
             'x-amz-decoded-content-length': str(len(data)),
             'x-amz-trailer': name},
            payload_hash='STREAMING-UNSIGNED-PAYLOAD-TRAILER')
        if transfer_chunked:
            # What boto3 sends over https: the aws-chunked stream inside an
            # HTTP chunked body.
            hdrs.append(('Transfer-Encoding', 'chunked'))
            body, step = b'', 10000
            for i in range(0, len(stream), step):
                p = stream[i:i + step]
                body += b'%x\r\n%s\r\n' % (len(p), p)
            body += b'0\r\n\r\n'
        else:
            body = stream
        return self.server.http('PUT', path, hdrs, body, timeout=30)

    def test_trailer_checksum(self):
        data = os.urandom(150000)
        for te in (False, True):
            for algorithm in CHECKSUM_ALGORITHMS:
                with self.subTest(algorithm=algorithm, transfer_chunked=te):
                    key = 'trailer/%s-%s' % (algorithm, te)
                    r = self.trailer_put(key, data, algorithm,
                                         transfer_chunked=te)
                    self.assertEqual(r.status, 200, r)
                    self.assertEqual(r.header('ETag'), etag_of(data))
                    g = self.s3.get_object(Bucket=self.bucket, Key=key,
                                           ChecksumMode='ENABLED')
                    self.assertEqual(g['Body'].read(), data)
                    self.assertEqual(g['Checksum' + algorithm],
                                     checksum_b64(algorithm, data))

    def test_trailer_checksum_wrong(self):
        data = os.urandom(100000)
        for te in (False, True):
            for algorithm in CHECKSUM_ALGORITHMS:
                with self.subTest(algorithm=algorithm, transfer_chunked=te):
                    r = self.trailer_put('trailer/wrong', data, algorithm,
                                         value=checksum_b64(algorithm, b'x'),
                                         transfer_chunked=te)
                    self.assertRawError(r, 400, 'BadDigest')
                    self.assertAbsent('trailer/wrong')

    # --- x-amz-checksum-* headers ---------------------------------------------

    def test_checksum_headers_every_algorithm(self):
        data = os.urandom(70000)
        for algorithm in CHECKSUM_ALGORITHMS:
            with self.subTest(algorithm=algorithm):
                key = 'checksum/' + algorithm
                value = checksum_b64(algorithm, data)
                self.s3.put_object(Bucket=self.bucket, Key=key, Body=data,
                                   **{'Checksum' + algorithm: value})
                for call in (self.s3.get_object, self.s3.head_object):
                    r = call(Bucket=self.bucket, Key=key,
                             ChecksumMode='ENABLED')
                    self.assertEqual(r.get('Checksum' + algorithm), value)
                    raw = r['ResponseMetadata']['HTTPHeaders']
                    self.assertEqual(raw.get('x-amz-checksum-' +
                                             algorithm.lower()), value)
                g = self.s3.get_object(Bucket=self.bucket, Key=key)
                self.assertEqual(g['Body'].read(), data)

    def test_checksum_computed_by_boto3(self):
        data = os.urandom(50000)
        for algorithm in ('CRC32', 'SHA1', 'SHA256'):
            with self.subTest(algorithm=algorithm):
                key = 'checksum-boto/' + algorithm
                self.s3.put_object(Bucket=self.bucket, Key=key, Body=data,
                                   ChecksumAlgorithm=algorithm)
                g = self.s3.get_object(Bucket=self.bucket, Key=key,
                                       ChecksumMode='ENABLED')
                self.assertEqual(g['Checksum' + algorithm],
                                 checksum_b64(algorithm, data))
                self.assertEqual(g['Body'].read(), data)

    def test_checksum_wrong_value(self):
        data = os.urandom(30000)
        for algorithm in CHECKSUM_ALGORITHMS:
            with self.subTest(algorithm=algorithm):
                wrong = checksum_b64(algorithm, data + b'!')
                self.assertS3Error('BadDigest', 400, self.s3.put_object,
                                   Bucket=self.bucket, Key='checksum/wrong',
                                   Body=data,
                                   **{'Checksum' + algorithm: wrong})
                self.assertAbsent('checksum/wrong')

    def test_checksum_malformed_value(self):
        for algorithm in CHECKSUM_ALGORITHMS:
            with self.subTest(algorithm=algorithm):
                r = self.server.signed(
                    'PUT', self.path('checksum/malformed'), body=b'abc',
                    headers={'x-amz-checksum-' + algorithm.lower():
                             'not*base64'})
                self.assertEqual(r.status, 400, r)
                self.assertTrue(r.code, r)
                self.assertAbsent('checksum/malformed')

    def test_default_checksum_is_crc64nvme(self):
        plain = self.server.boto3_client(
            request_checksum_calculation='when_required')
        for size in (0, 100, 5000, 200000):
            with self.subTest(size=size):
                data = os.urandom(size)
                key = 'checksum-default/%d' % size
                r = self.server.signed('PUT', self.path(key), body=data)
                self.assertEqual(r.status, 200, r)
                want = checksum_b64('CRC64NVME', data)
                for call in (plain.head_object, plain.get_object):
                    g = call(Bucket=self.bucket, Key=key,
                             ChecksumMode='ENABLED')
                    self.assertEqual(g.get('ChecksumCRC64NVME'), want)
        # boto3's own default (CRC32, in a header) is what comes back.
        data = b'boto3 default checksum'
        self.s3.put_object(Bucket=self.bucket, Key='checksum-default/boto',
                           Body=data)
        g = self.s3.head_object(Bucket=self.bucket,
                                Key='checksum-default/boto',
                                ChecksumMode='ENABLED')
        self.assertEqual(g.get('ChecksumCRC32'), checksum_b64('CRC32', data))

    def test_checksum_with_content_md5(self):
        data = b'both digests'
        md5 = base64.b64encode(hashlib.md5(data).digest()).decode()
        r = self.s3.put_object(Bucket=self.bucket, Key='checksum/md5',
                               Body=data, ContentMD5=md5,
                               ChecksumSHA256=checksum_b64('SHA256', data))
        self.assertEqual(r['ETag'], etag_of(data))


if __name__ == '__main__':
    unittest.main()
