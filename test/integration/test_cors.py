"""Bucket CORS: Put, Get and DeleteBucketCors through boto3 and the AWS CLI,
with every element and each validation error S3 gives; the digest S3
requires on the body; who may read and change a configuration (the owner,
or whom a bucket policy grants s3:GetBucketCORS / s3:PutBucketCORS).
Enforcement over raw sockets: OPTIONS preflights answered without
credentials (match, no match, no configuration, no bucket, missing
headers, the wildcard origin, the header list); the Access-Control-*
headers of a request with Origin on success and on errors (404 NoSuchKey,
403 AccessDenied to an anonymous caller, signature errors), on a presigned
PUT and on a streamed GET; none without Origin; and the server-wide
cors_default block, which a bucket's own configuration overrides."""

import base64
import hashlib
import json
import os

from harness import S3gwTestCase, unique_name

NOT_ALLOWED = ("CORSResponse: This CORS request is not allowed. This is "
               "usually because the evalution of Origin, request method / "
               "Access-Control-Request-Method or Access-Control-Request-"
               "Headers are not whitelisted by the resource's CORS spec.")
VARY = 'Origin, Access-Control-Request-Headers, Access-Control-Request-Method'
ACL = ('access-control-allow-origin', 'access-control-allow-methods',
       'access-control-allow-headers', 'access-control-expose-headers',
       'access-control-max-age', 'access-control-allow-credentials')

DEFAULT = '''
cors_default {
    allowed_origin https://default.test;
    allowed_method GET HEAD;
    expose_header ETag;
}
'''

FULL = {'ID': 'site', 'AllowedOrigins': ['https://app.test',
                                         'http://*.example.com'],
        'AllowedMethods': ['GET', 'PUT', 'POST', 'DELETE', 'HEAD'],
        'AllowedHeaders': ['Content-Type', 'x-amz-*'],
        'ExposeHeaders': ['ETag', 'x-amz-request-id'],
        'MaxAgeSeconds': 3000}
PUBLIC = {'AllowedOrigins': ['*'], 'AllowedMethods': ['GET']}


def account_id(name):
    d = hashlib.sha256(b's3gw:' + name.encode()).digest()
    return ''.join(str(b % 10) for b in d[:12])


class CorsTest(S3gwTestCase):

    extra_conf = DEFAULT

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.bob = cls.server.boto3_client('bob')
        cls.raw = cls.server.boto3_client(parameter_validation=False)

    def put(self, bucket, *rules, client=None):
        return (client or self.s3).put_bucket_cors(
            Bucket=bucket, CORSConfiguration={'CORSRules': list(rules)})

    def get(self, bucket, client=None):
        return (client or self.s3).get_bucket_cors(Bucket=bucket)['CORSRules']

    def assertNoConfig(self, bucket):
        resp = self.assertS3Error('NoSuchCORSConfiguration', 404,
                                  self.s3.get_bucket_cors, Bucket=bucket)
        self.assertEqual(resp['Error']['Message'],
                         'The CORS configuration does not exist')

    def preflight(self, path, origin=None, method=None, headers=None):
        h = {}
        if origin is not None:
            h['Origin'] = origin
        if method is not None:
            h['Access-Control-Request-Method'] = method
        if headers is not None:
            h['Access-Control-Request-Headers'] = headers
        return self.server.http('OPTIONS', path, h)

    def assertNoCors(self, resp):
        for name in ACL + ('vary',):
            self.assertIsNone(resp.header(name), (name, resp.raw_head))

    def assertForbidden(self, resp, message, method, resource_type):
        self.assertRawError(resp, 403, 'AccessForbidden')
        x = resp.xml()
        self.assertEqual(x.findtext('Message'), message)
        self.assertEqual(x.findtext('Method'), method)
        self.assertEqual(x.findtext('ResourceType'), resource_type)
        self.assertNoCors(resp)

    # --- Put, Get, Delete -----------------------------------------------

    def test_round_trip(self):
        bucket = self.new_bucket()
        self.assertNoConfig(bucket)
        self.put(bucket, FULL, PUBLIC)
        self.assertEqual(self.get(bucket), [FULL, PUBLIC])
        # A second put replaces the whole configuration.
        self.put(bucket, PUBLIC)
        self.assertEqual(self.get(bucket), [PUBLIC])
        resp = self.s3.delete_bucket_cors(Bucket=bucket)
        self.assertEqual(resp['ResponseMetadata']['HTTPStatusCode'], 204)
        self.assertNoConfig(bucket)
        # Deleting what is not there succeeds, as in S3.
        self.s3.delete_bucket_cors(Bucket=bucket)
        self.assertS3Error('NoSuchBucket', 404, self.s3.get_bucket_cors,
                           Bucket=unique_name('missing'))
        # Dropped with its bucket.
        self.put(bucket, PUBLIC)
        self.s3.delete_bucket(Bucket=bucket)
        self.s3.create_bucket(Bucket=bucket)
        self.assertNoConfig(bucket)

    def test_validation_errors(self):
        bucket = self.new_bucket()

        def invalid(rule, message):
            resp = self.assertS3Error('InvalidRequest', 400, self.put,
                                      bucket, rule)
            self.assertEqual(resp['Error']['Message'], message)

        for m in ('PATCH', 'OPTIONS', 'get'):
            invalid({'AllowedOrigins': ['*'], 'AllowedMethods': ['GET', m]},
                    'Found unsupported HTTP method in CORS config. '
                    'Unsupported method is ' + m)
        invalid({'AllowedOrigins': ['http://*.*'], 'AllowedMethods': ['GET']},
                'AllowedOrigin "http://*.*" can not have more than one '
                'wildcard.')
        invalid({'AllowedOrigins': ['*'], 'AllowedMethods': ['GET'],
                 'AllowedHeaders': ['x-*-*']},
                'AllowedHeader "x-*-*" can not have more than one wildcard.')
        invalid({'AllowedOrigins': ['*'], 'AllowedMethods': ['GET'],
                 'ExposeHeaders': ['x-amz-*']},
                'ExposeHeader "x-amz-*" contains wildcard. We currently do '
                'not support wildcard for ExposeHeader.')
        # Shapes S3 calls MalformedXML: no rule, 101 rules, a rule without
        # origins or methods, a bad MaxAgeSeconds, an ID over 255 bytes.
        for rules in ([], [PUBLIC] * 101, [{'AllowedMethods': ['GET']}],
                      [{'AllowedOrigins': ['*']}],
                      [dict(PUBLIC, MaxAgeSeconds=-1)],
                      [dict(PUBLIC, ID='a' * 256)]):
            self.assertS3Error('MalformedXML', 400, self.raw.put_bucket_cors,
                               Bucket=bucket,
                               CORSConfiguration={'CORSRules': rules})
        self.put(bucket, *([PUBLIC] * 100))
        self.assertEqual(len(self.get(bucket)), 100)
        self.put(bucket, dict(PUBLIC, ID='a' * 255))

    def test_body_digest(self):
        bucket = self.new_bucket()
        path = '/%s?cors' % bucket
        body = (b'<CORSConfiguration><CORSRule><AllowedOrigin>*'
                b'</AllowedOrigin><AllowedMethod>GET</AllowedMethod>'
                b'</CORSRule></CORSConfiguration>')
        resp = self.server.signed('PUT', path, body=body)
        self.assertRawError(resp, 400, 'InvalidRequest')
        self.assertEqual(resp.xml().findtext('Message'),
                         'Missing required header for this request: '
                         'Content-MD5')
        resp = self.server.signed(
            'PUT', path, body=body,
            headers={'Content-MD5': base64.b64encode(b'x' * 16).decode()})
        self.assertRawError(resp, 400, 'BadDigest')
        self.assertNoConfig(bucket)
        md5 = base64.b64encode(hashlib.md5(body).digest()).decode()
        resp = self.server.signed('PUT', path, body=body,
                                  headers={'Content-MD5': md5})
        self.assertEqual(resp.status, 200, resp)
        self.assertEqual(self.get(bucket), [PUBLIC])
        bad = b'<CORSConfiguration>'
        resp = self.server.signed(
            'PUT', path, body=bad,
            headers={'Content-MD5':
                     base64.b64encode(hashlib.md5(bad).digest()).decode()})
        self.assertRawError(resp, 400, 'MalformedXML')

    def test_permissions(self):
        bucket = self.new_bucket()
        self.put(bucket, FULL)
        for fn, kw in ((self.bob.get_bucket_cors, {}),
                       (self.bob.delete_bucket_cors, {}),
                       (self.bob.put_bucket_cors,
                        {'CORSConfiguration': {'CORSRules': [PUBLIC]}})):
            self.assertS3Error('AccessDenied', 403, fn, Bucket=bucket, **kw)
        bob = 'arn:aws:iam::%s:user/bob' % account_id('bob')

        def grant(action):
            self.s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({
                'Version': '2012-10-17',
                'Statement': [{'Effect': 'Allow', 'Principal': {'AWS': bob},
                               'Action': action,
                               'Resource': 'arn:aws:s3:::' + bucket}]}))

        grant('s3:GetBucketCORS')
        self.assertEqual(self.get(bucket, client=self.bob), [FULL])
        self.assertS3Error('AccessDenied', 403, self.bob.delete_bucket_cors,
                           Bucket=bucket)
        # s3:PutBucketCORS puts and deletes, as in S3.
        grant('s3:PutBucketCORS')
        self.put(bucket, PUBLIC, client=self.bob)
        self.assertS3Error('AccessDenied', 403, self.bob.get_bucket_cors,
                           Bucket=bucket)
        self.bob.delete_bucket_cors(Bucket=bucket)
        self.assertNoConfig(bucket)

    def test_aws_cli(self):
        bucket = self.new_bucket()
        path = os.path.join(self.server.dir, 'cors.json')
        with open(path, 'w') as f:
            json.dump({'CORSRules': [FULL]}, f)
        proc = self.server.aws('s3api', 'put-bucket-cors', '--bucket',
                               bucket, '--cors-configuration',
                               'file://' + path)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        proc = self.server.aws('s3api', 'get-bucket-cors', '--bucket', bucket)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(json.loads(proc.stdout)['CORSRules'], [FULL])
        proc = self.server.aws('s3api', 'delete-bucket-cors', '--bucket',
                               bucket)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        proc = self.server.aws('s3api', 'get-bucket-cors', '--bucket', bucket)
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn('NoSuchCORSConfiguration', proc.stderr)

    # --- Preflight --------------------------------------------------------

    def test_preflight(self):
        bucket = self.new_bucket()
        self.put(bucket, FULL, {'AllowedOrigins': ['https://pub.test', '*'],
                                'AllowedMethods': ['GET', 'HEAD']})
        obj = '/%s/some/key' % bucket
        resp = self.preflight(obj, 'http://www.example.com', 'PUT',
                              'Content-Type, X-Amz-Date,x-amz-meta-Name')
        self.assertEqual(resp.status, 200, resp)
        self.assertEqual(resp.body, b'')
        self.assertEqual(resp.header('Access-Control-Allow-Origin'),
                         'http://www.example.com')
        self.assertEqual(resp.header('Access-Control-Allow-Methods'),
                         'GET, PUT, POST, DELETE, HEAD')
        self.assertEqual(resp.header('Access-Control-Allow-Headers'),
                         'content-type, x-amz-date, x-amz-meta-name')
        self.assertEqual(resp.header('Access-Control-Expose-Headers'),
                         'ETag, x-amz-request-id')
        self.assertEqual(resp.header('Access-Control-Max-Age'), '3000')
        self.assertEqual(resp.header('Access-Control-Allow-Credentials'),
                         'true')
        self.assertEqual(resp.header('Vary'), VARY)
        # On the bucket URL too; no request headers: no Allow-Headers.
        resp = self.preflight('/' + bucket, 'https://app.test', 'DELETE')
        self.assertEqual(resp.status, 200, resp)
        self.assertIsNone(resp.header('Access-Control-Allow-Headers'))
        # A rule listing "*" answers "*" and no credentials, even for an
        # origin it names; it is the first rule that allows GET from there.
        resp = self.preflight(obj, 'https://pub.test', 'GET')
        self.assertEqual(resp.status, 200, resp)
        self.assertEqual(resp.header('Access-Control-Allow-Origin'), '*')
        self.assertEqual(resp.header('Access-Control-Allow-Methods'),
                         'GET, HEAD')
        self.assertIsNone(resp.header('Access-Control-Allow-Credentials'))
        self.assertIsNone(resp.header('Access-Control-Max-Age'))
        # No rule allows it: the method, a header, the origin's case.
        for args in (('https://elsewhere.test', 'PUT', None),
                     ('http://www.example.com', 'PUT', 'authorization'),
                     ('HTTPS://app.test', 'PUT', None),
                     ('https://pub.test', 'GET', 'x-amz-date')):
            resp = self.preflight(obj, *args)
            self.assertForbidden(resp, NOT_ALLOWED, args[1], 'OBJECT')
        resp = self.preflight('/' + bucket, 'https://x.test', 'POST')
        self.assertForbidden(resp, NOT_ALLOWED, 'POST', 'BUCKET')

    def test_preflight_refusals(self):
        bucket = self.new_bucket()
        obj = '/%s/k' % bucket
        # No configuration (this class's cors_default allows GET and HEAD
        # from https://default.test only).
        resp = self.preflight(obj, 'https://other.test', 'PUT')
        self.assertForbidden(resp, NOT_ALLOWED, 'PUT', 'OBJECT')
        resp = self.preflight('/%s/k' % unique_name('nobucket'),
                              'https://app.test', 'GET')
        self.assertForbidden(resp, 'CORSResponse: Bucket not found', 'GET',
                             'OBJECT')
        resp = self.preflight('/', 'https://app.test', 'GET')
        self.assertRawError(resp, 403, 'AccessForbidden')
        # The two headers a preflight needs.
        for origin, method, msg in (
                (None, 'GET', 'Insufficient information. Origin request '
                 'header needed.'),
                ('', 'GET', 'Insufficient information. Origin request '
                 'header needed.'),
                ('https://app.test', None,
                 'Invalid Access-Control-Request-Method: null'),
                ('https://app.test', 'PATCH',
                 'Invalid Access-Control-Request-Method: PATCH')):
            resp = self.preflight(obj, origin, method)
            self.assertRawError(resp, 400, 'BadRequest')
            self.assertEqual(resp.xml().findtext('Message'), msg)
            self.assertNoCors(resp)
        # A signed OPTIONS is a preflight all the same.
        resp = self.server.signed('OPTIONS', obj,
                                  headers={'Origin': 'https://x.test',
                                           'Access-Control-Request-Method':
                                           'GET'})
        self.assertForbidden(resp, NOT_ALLOWED, 'GET', 'OBJECT')

    # --- Actual requests ----------------------------------------------------

    def assertCors(self, resp, origin, methods):
        self.assertEqual(resp.header('Access-Control-Allow-Origin'), origin,
                         resp.raw_head)
        self.assertEqual(resp.header('Access-Control-Allow-Methods'),
                         methods)
        self.assertEqual(resp.header('Vary'), VARY)
        self.assertIsNone(resp.header('Access-Control-Allow-Headers'))

    def test_actual_requests(self):
        bucket = self.new_bucket()
        self.put(bucket, FULL)
        self.s3.put_object(Bucket=bucket, Key='k', Body=b'hello')
        origin = {'Origin': 'https://app.test'}
        methods = 'GET, PUT, POST, DELETE, HEAD'

        resp = self.server.signed('GET', '/%s/k' % bucket, headers=origin)
        self.assertEqual((resp.status, resp.body), (200, b'hello'))
        self.assertCors(resp, 'https://app.test', methods)
        self.assertEqual(resp.header('Access-Control-Expose-Headers'),
                         'ETag, x-amz-request-id')
        self.assertEqual(resp.header('Access-Control-Max-Age'), '3000')
        self.assertEqual(resp.header('Access-Control-Allow-Credentials'),
                         'true')
        resp = self.server.signed('HEAD', '/%s/k' % bucket, headers=origin)
        self.assertEqual(resp.status, 200)
        self.assertCors(resp, 'https://app.test', methods)
        # Errors carry them: NoSuchKey, AccessDenied to an anonymous
        # caller, a bad signature.
        resp = self.server.signed('GET', '/%s/nokey' % bucket, headers=origin)
        self.assertRawError(resp, 404, 'NoSuchKey')
        self.assertCors(resp, 'https://app.test', methods)
        resp = self.server.http('GET', '/%s/k' % bucket, origin)
        self.assertRawError(resp, 403, 'AccessDenied')
        self.assertCors(resp, 'https://app.test', methods)
        resp = self.server.http('PUT', '/%s/k' % bucket, origin, b'x')
        self.assertRawError(resp, 403, 'AccessDenied')
        self.assertCors(resp, 'https://app.test', methods)
        resp = self.server.signed(
            'GET', '/%s/k' % bucket, headers=origin,
            access_key=self.server.credentials('admin').access_key,
            secret_key='not-the-secret')
        self.assertRawError(resp, 403, 'SignatureDoesNotMatch')
        self.assertCors(resp, 'https://app.test', methods)
        # A wildcard origin of the rule is echoed.
        resp = self.server.signed('GET', '/%s/k' % bucket,
                                  headers={'Origin': 'http://a.example.com'})
        self.assertCors(resp, 'http://a.example.com', methods)
        # An origin no rule allows, and no Origin at all: no headers.
        resp = self.server.signed('GET', '/%s/k' % bucket,
                                  headers={'Origin': 'https://evil.test'})
        self.assertEqual(resp.status, 200)
        self.assertNoCors(resp)
        resp = self.server.signed('GET', '/%s/k' % bucket)
        self.assertEqual(resp.status, 200)
        self.assertNoCors(resp)
        resp = self.server.http('GET', '/%s/k' % bucket)
        self.assertRawError(resp, 403, 'AccessDenied')
        self.assertNoCors(resp)

    def test_changed_configuration_applies_at_once(self):
        # Each process caches the parsed document per bucket, keyed by its
        # text (s3/cors.c): a change made through another connection must
        # rule the very next request of a connection that used the old
        # one, also when the new text has the old one's length.
        bucket, other = self.new_bucket(), self.new_bucket()
        one = {'AllowedOrigins': ['https://one.test'],
               'AllowedMethods': ['GET']}
        two = {'AllowedOrigins': ['https://two.test'],
               'AllowedMethods': ['GET']}
        for b in (bucket, other):
            self.put(b, one)
            self.s3.put_object(Bucket=b, Key='k', Body=b'hi')
        path = '/%s/k' % bucket

        def get(c, origin, p=path):
            c.request('GET', p, self.server.sign('GET', p,
                                                 headers={'Origin': origin}))
            r = c.read_response()
            self.assertEqual(r.status, 200, r)
            return r.header('Access-Control-Allow-Origin')

        with self.server.conn() as c:
            self.assertEqual(get(c, 'https://one.test'), 'https://one.test')
            self.assertIsNone(get(c, 'https://two.test'))
            self.put(bucket, two)
            self.assertIsNone(get(c, 'https://one.test'))
            self.assertEqual(get(c, 'https://two.test'), 'https://two.test')
            resp = self.preflight(path, 'https://two.test', 'GET')
            self.assertEqual(resp.status, 200, resp)
            # The other bucket keeps its own.
            p2 = '/%s/k' % other
            self.assertEqual(get(c, 'https://one.test', p2),
                             'https://one.test')
            self.assertIsNone(get(c, 'https://two.test', p2))
            # Gone: cors_default applies again.
            self.s3.delete_bucket_cors(Bucket=bucket)
            self.assertIsNone(get(c, 'https://two.test'))
            self.assertEqual(get(c, 'https://default.test'),
                             'https://default.test')
            self.put(bucket, one)
            self.assertEqual(get(c, 'https://one.test'), 'https://one.test')

    def test_presigned_put_and_big_get(self):
        bucket = self.new_bucket()
        self.put(bucket, {'AllowedOrigins': ['*'],
                          'AllowedMethods': ['PUT', 'GET'],
                          'AllowedHeaders': ['*']})
        origin = {'Origin': 'https://uploader.test'}
        target = self.server.presign('PUT', '/%s/up' % bucket)
        resp = self.server.http('PUT', target, origin, b'from a browser')
        self.assertEqual(resp.status, 200, resp)
        self.assertCors(resp, '*', 'PUT, GET')
        self.assertIsNone(resp.header('Access-Control-Allow-Credentials'))
        self.assertEqual(self.s3.get_object(Bucket=bucket, Key='up')
                         ['Body'].read(), b'from a browser')
        # A streamed GET of chunk files carries them too.
        body = os.urandom(3 * 1024 * 1024)
        self.s3.put_object(Bucket=bucket, Key='big', Body=body)
        target = self.server.presign('GET', '/%s/big' % bucket)
        resp = self.server.http('GET', target, origin, timeout=30)
        self.assertEqual(resp.status, 200)
        self.assertEqual(resp.body, body)
        self.assertCors(resp, '*', 'PUT, GET')

    # --- cors_default -------------------------------------------------------

    def test_cors_default(self):
        bucket = self.new_bucket()
        self.s3.put_object(Bucket=bucket, Key='k', Body=b'x')
        d = {'Origin': 'https://default.test'}
        resp = self.server.signed('GET', '/%s/k' % bucket, headers=d)
        self.assertCors(resp, 'https://default.test', 'GET, HEAD')
        self.assertEqual(resp.header('Access-Control-Expose-Headers'), 'ETag')
        self.assertIsNone(resp.header('Access-Control-Max-Age'))
        resp = self.server.signed('PUT', '/%s/k2' % bucket, headers=d,
                                  body=b'y')
        self.assertEqual(resp.status, 200)
        self.assertNoCors(resp)
        resp = self.preflight('/%s/k' % bucket, 'https://default.test', 'HEAD')
        self.assertEqual(resp.status, 200, resp)
        self.assertEqual(resp.header('Access-Control-Allow-Origin'),
                         'https://default.test')
        # GetBucketCors still says the bucket has none of its own.
        self.assertNoConfig(bucket)
        # The bucket's own configuration wins over the default.
        self.put(bucket, {'AllowedOrigins': ['https://own.test'],
                          'AllowedMethods': ['GET']})
        resp = self.server.signed('GET', '/%s/k' % bucket, headers=d)
        self.assertNoCors(resp)
        resp = self.preflight('/%s/k' % bucket, 'https://default.test', 'GET')
        self.assertForbidden(resp, NOT_ALLOWED, 'GET', 'OBJECT')
        resp = self.server.signed('GET', '/%s/k' % bucket,
                                  headers={'Origin': 'https://own.test'})
        self.assertCors(resp, 'https://own.test', 'GET')


class CorsNoDefaultTest(S3gwTestCase):
    """Without cors_default, a bucket without a configuration allows no
    cross-origin request."""

    def test_no_configuration(self):
        bucket = self.new_bucket()
        self.s3.put_object(Bucket=bucket, Key='k', Body=b'x')
        resp = self.server.http('OPTIONS', '/%s/k' % bucket,
                                {'Origin': 'https://app.test',
                                 'Access-Control-Request-Method': 'GET'})
        self.assertRawError(resp, 403, 'AccessForbidden')
        self.assertEqual(resp.xml().findtext('Message'),
                         'CORSResponse: CORS is not enabled for this bucket.')
        resp = self.server.signed('GET', '/%s/k' % bucket,
                                  headers={'Origin': 'https://app.test'})
        self.assertEqual(resp.status, 200)
        self.assertIsNone(resp.header('Access-Control-Allow-Origin'))
