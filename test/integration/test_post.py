"""POST Object (browser form uploads): boto3's generate_presigned_post
(SigV4) and hand-signed SigV2 forms posted as multipart/form-data built
here; the success answers (204, 200, 201 with PostResponse, 303 redirect);
${filename}, metadata, Content-Type, ACL, tagging and checksum fields;
every policy error; anonymous uploads allowed or refused by the bucket;
content-length-range; a large file streamed without holding it; a client
that resets mid-file."""

import base64
import datetime
import hashlib
import hmac
import http.client
import json
import os
import socket
import struct
import time
import unittest
import urllib.parse
import uuid
import xml.etree.ElementTree as ET

from botocore.exceptions import ClientError

from harness import (MiB, SANITIZE, S3gwTestCase, checksum_b64, etag_of,
                     unique_name)


def multipart(fields, content=b'', filename='f.txt',
              file_ct='application/octet-stream', after=(), boundary=None,
              file_field='file'):
    """fields: (name, value) pairs before the file; after: pairs after it.
    Returns (body, content type)."""
    b = boundary or '----s3gwForm' + uuid.uuid4().hex
    out = bytearray()
    for k, v in fields:
        out += ('--%s\r\nContent-Disposition: form-data; name="%s"\r\n\r\n'
                % (b, k)).encode()
        out += v.encode() if isinstance(v, str) else v
        out += b'\r\n'
    if file_field is not None:
        out += ('--%s\r\nContent-Disposition: form-data; name="%s"; '
                'filename="%s"\r\nContent-Type: %s\r\n\r\n'
                % (b, file_field, filename, file_ct)).encode()
        out += content
        out += b'\r\n'
    for k, v in after:
        out += ('--%s\r\nContent-Disposition: form-data; name="%s"\r\n\r\n'
                '%s\r\n' % (b, k, v)).encode()
    out += ('--%s--\r\n' % b).encode()
    return bytes(out), 'multipart/form-data; boundary=' + b


def policy_b64(doc):
    return base64.b64encode(json.dumps(doc).encode()).decode()


NOW = datetime.datetime.now(datetime.timezone.utc)


def sigv4_scope(ak, region='us-east-1', date=None, service='s3'):
    """The fields a SigV4 policy must name, as conditions."""
    now = date or NOW
    cred = '%s/%s/%s/%s/aws4_request' % (ak, now.strftime('%Y%m%d'), region,
                                         service)
    return [{'x-amz-algorithm': 'AWS4-HMAC-SHA256'},
            {'x-amz-credential': cred},
            {'x-amz-date': now.strftime('%Y%m%dT%H%M%SZ')}]


def sigv4_fields(policy, ak, sk, region='us-east-1', date=None,
                 service='s3'):
    now = date or NOW
    d = now.strftime('%Y%m%d')
    cred = '%s/%s/%s/%s/aws4_request' % (ak, d, region, service)
    k = ('AWS4' + sk).encode()
    for part in (d, region, service, 'aws4_request'):
        k = hmac.new(k, part.encode(), hashlib.sha256).digest()
    sig = hmac.new(k, policy.encode(), hashlib.sha256).hexdigest()
    return [('x-amz-algorithm', 'AWS4-HMAC-SHA256'),
            ('x-amz-credential', cred),
            ('x-amz-date', now.strftime('%Y%m%dT%H%M%SZ')),
            ('policy', policy), ('x-amz-signature', sig)]


def expiry(seconds=3600):
    t = datetime.datetime.now(datetime.timezone.utc) + \
        datetime.timedelta(seconds=seconds)
    return t.strftime('%Y-%m-%dT%H:%M:%S.000Z')


class PostObjectTest(S3gwTestCase):

    conf = {'chunk_size': '1m', 'server_name': 's3.localtest'}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.bucket = unique_name('post')
        cls.s3.create_bucket(Bucket=cls.bucket)
        cls.ak, cls.sk = cls.server.users['admin'][:2]

    # -- helpers -----------------------------------------------------------

    def post(self, body, ctype, path=None, headers=None):
        conn = http.client.HTTPConnection('127.0.0.1', self.server.port,
                                          timeout=60)
        h = {'Content-Type': ctype} if ctype else {}
        h.update(headers or {})
        conn.request('POST', path or '/' + self.bucket, body=body, headers=h)
        r = conn.getresponse()
        data = r.read()
        conn.close()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, data

    def error(self, body, ctype, status, code, message=None, path=None):
        st, _, data = self.post(body, ctype, path=path)
        self.assertEqual(st, status, data)
        root = ET.fromstring(data)
        self.assertEqual(root.findtext('Code'), code, data)
        if message is not None:
            self.assertEqual(root.findtext('Message'), message, data)
        return root

    def presigned(self, key, fields=None, conditions=None, expires=3600):
        p = self.s3.generate_presigned_post(
            Bucket=self.bucket, Key=key, Fields=fields,
            Conditions=conditions, ExpiresIn=expires)
        return list(p['fields'].items())

    def signed(self, conds, extra=(), exp=None, sk=None):
        """Hand-made SigV4 form: extra fields, then the signature fields."""
        pol = policy_b64({'expiration': exp or expiry(),
                          'conditions': [{'bucket': self.bucket}] + conds
                          + sigv4_scope(self.ak)})
        return list(extra) + sigv4_fields(pol, self.ak, sk or self.sk)

    def get(self, key):
        return self.s3.get_object(Bucket=self.bucket, Key=key)

    def absent(self, key):
        with self.assertRaises(ClientError) as cm:
            self.s3.head_object(Bucket=self.bucket, Key=key)
        self.assertEqual(cm.exception.response['Error']['Code'], '404')

    # -- success ---------------------------------------------------------

    def test_presigned_post_204(self):
        fields = self.presigned('k204')
        body, ct = multipart(fields, b'hello world')
        st, h, data = self.post(body, ct)
        self.assertEqual(st, 204, data)
        self.assertEqual(h['etag'], etag_of(b'hello world'))
        self.assertTrue(h['location'].endswith('/%s/k204' % self.bucket))
        self.assertEqual(self.get('k204')['Body'].read(), b'hello world')

    def test_status_200_and_201(self):
        fields = self.presigned('k200', {'success_action_status': '200'},
                                [{'success_action_status': '200'}])
        st, _, data = self.post(*multipart(fields, b'x'))
        self.assertEqual((st, data), (200, b''))
        fields = self.presigned('a b/k201', {'success_action_status': '201'},
                                [{'success_action_status': '201'}])
        st, h, data = self.post(*multipart(fields, b'y'))
        self.assertEqual(st, 201, data)
        root = ET.fromstring(data)
        ns = {'s': 'http://s3.amazonaws.com/doc/2006-03-01/'}
        self.assertEqual(root.tag.split('}')[-1], 'PostResponse')
        self.assertEqual(root.findtext('s:Bucket', namespaces=ns), self.bucket)
        self.assertEqual(root.findtext('s:Key', namespaces=ns), 'a b/k201')
        self.assertEqual(root.findtext('s:ETag', namespaces=ns), etag_of(b'y'))
        self.assertTrue(root.findtext('s:Location', namespaces=ns).endswith(
            '/%s/a%%20b/k201' % self.bucket))
        # any other status is 204
        fields = self.presigned('k500', {'success_action_status': '500'},
                                [{'success_action_status': '500'}])
        self.assertEqual(self.post(*multipart(fields, b'z'))[0], 204)

    def test_redirect_303(self):
        url = 'https://example.com/done?x=1'
        fields = self.presigned('kr', {'success_action_redirect': url},
                                [{'success_action_redirect': url}])
        st, h, _ = self.post(*multipart(fields, b'r'))
        self.assertEqual(st, 303)
        loc = urllib.parse.urlsplit(h['location'])
        q = urllib.parse.parse_qs(loc.query)
        self.assertEqual(loc.netloc, 'example.com')
        self.assertEqual(q['x'], ['1'])
        self.assertEqual(q['bucket'], [self.bucket])
        self.assertEqual(q['key'], ['kr'])
        self.assertEqual(q['etag'], [etag_of(b'r')])
        # the legacy name
        fields = self.presigned('kr2', {'redirect': 'http://a.test/'},
                                [{'redirect': 'http://a.test/'}])
        st, h, _ = self.post(*multipart(fields, b'r'))
        self.assertEqual(st, 303)
        self.assertTrue(h['location'].startswith('http://a.test/?bucket='))

    def test_filename_metadata_content_type(self):
        fields = self.presigned(
            'up/${filename}',
            {'Content-Type': 'image/png', 'x-amz-meta-color': 'blue',
             'Cache-Control': 'max-age=60',
             'Content-Disposition': 'inline', 'x-ignore-me': 'whatever'},
            [{'Content-Type': 'image/png'}, {'x-amz-meta-color': 'blue'},
             ['starts-with', '$Cache-Control', 'max-age'],
             {'Content-Disposition': 'inline'}])
        body, ct = multipart(fields, b'\x89PNG', filename='pic.png',
                             after=[('x-amz-meta-late', 'ignored')])
        st, _, data = self.post(body, ct)
        self.assertEqual(st, 204, data)
        o = self.get('up/pic.png')
        self.assertEqual(o['Body'].read(), b'\x89PNG')
        self.assertEqual(o['ContentType'], 'image/png')
        self.assertEqual(o['Metadata'], {'color': 'blue'})
        self.assertEqual(o['CacheControl'], 'max-age=60')
        self.assertEqual(o['ContentDisposition'], 'inline')

    def test_acl_and_tagging(self):
        tagging = ('<Tagging><TagSet><Tag><Key>a</Key><Value>1 2</Value></Tag>'
                   '</TagSet></Tagging>')
        fields = self.presigned('kacl', {'acl': 'public-read',
                                         'tagging': tagging},
                                [{'acl': 'public-read'},
                                 {'tagging': tagging}])
        st, _, data = self.post(*multipart(fields, b'tagged'))
        self.assertEqual(st, 204, data)
        tags = self.s3.get_object_tagging(Bucket=self.bucket, Key='kacl')
        self.assertEqual(tags['TagSet'], [{'Key': 'a', 'Value': '1 2'}])
        grants = self.s3.get_object_acl(Bucket=self.bucket, Key='kacl')
        self.assertIn('READ', [g['Permission'] for g in grants['Grants']
                               if g['Grantee'].get('URI', '').endswith(
                                   'AllUsers')])
        # a bad Tagging document
        fields = self.presigned('kbad', {'tagging': '<Tagging>'},
                                [{'tagging': '<Tagging>'}])
        self.error(*multipart(fields, b'x'), 400, 'MalformedXML')
        self.absent('kbad')

    def test_checksum(self):
        data = b'checksummed'
        good = checksum_b64('CRC32', data)
        fields = self.presigned('kck', {'x-amz-checksum-crc32': good},
                                [{'x-amz-checksum-crc32': good}])
        st, _, resp = self.post(*multipart(fields, data))
        self.assertEqual(st, 204, resp)
        h = self.s3.head_object(Bucket=self.bucket, Key='kck',
                                ChecksumMode='ENABLED')
        self.assertEqual(h['ChecksumCRC32'], good)
        bad = checksum_b64('CRC32', b'other')
        fields = self.presigned('kck2', {'x-amz-checksum-crc32': bad},
                                [{'x-amz-checksum-crc32': bad}])
        self.error(*multipart(fields, data), 400, 'BadDigest',
                   'The CRC32 you specified did not match the calculated '
                   'checksum.')
        self.absent('kck2')
        fields = self.presigned('kck3', {'x-amz-checksum-algorithm': 'SHA256'},
                                [{'x-amz-checksum-algorithm': 'SHA256'}])
        self.assertEqual(self.post(*multipart(fields, data))[0], 204)
        h = self.s3.head_object(Bucket=self.bucket, Key='kck3',
                                ChecksumMode='ENABLED')
        self.assertEqual(h['ChecksumSHA256'], checksum_b64('SHA256', data))

    def test_sigv2_form(self):
        pol = policy_b64({'expiration': expiry(), 'conditions': [
            {'bucket': self.bucket}, ['starts-with', '$key', 'v2/']]})
        sig = base64.b64encode(hmac.new(self.sk.encode(), pol.encode(),
                                        hashlib.sha1).digest()).decode()
        fields = [('key', 'v2/obj'), ('AWSAccessKeyId', self.ak),
                  ('policy', pol), ('signature', sig)]
        st, _, data = self.post(*multipart(fields, b'v2'))
        self.assertEqual(st, 204, data)
        self.assertEqual(self.get('v2/obj')['Body'].read(), b'v2')
        fields[3] = ('signature', base64.b64encode(b'\0' * 20).decode())
        self.error(*multipart(fields, b'v2'), 403, 'SignatureDoesNotMatch')

    def test_virtual_hosted(self):
        fields = self.presigned('vh')
        body, ct = multipart(fields, b'vh')
        st, h, data = self.post(body, ct, path='/', headers={
            'Host': '%s.s3.localtest:%d' % (self.bucket, self.server.port)})
        self.assertEqual(st, 204, data)
        self.assertEqual(h['location'], 'http://%s.s3.localtest:%d/vh'
                         % (self.bucket, self.server.port))
        self.assertEqual(self.get('vh')['Body'].read(), b'vh')

    # -- policy errors ---------------------------------------------------

    def test_policy_condition_failed(self):
        fields = self.signed([['eq', '$key', 'x']], [('key', 'y')])
        self.error(*multipart(fields, b'.'), 403, 'AccessDenied',
                   'Invalid according to Policy: Policy Condition failed: '
                   '["eq", "$key", "x"]')
        fields = self.signed([['starts-with', '$key', 'user/']],
                             [('key', 'other/k')])
        self.error(*multipart(fields, b'.'), 403, 'AccessDenied',
                   'Invalid according to Policy: Policy Condition failed: '
                   '["starts-with", "$key", "user/"]')
        fields = self.signed([['starts-with', '$key', ''], {'acl': 'private'}],
                             [('key', 'any'), ('acl', 'public-read')])
        self.error(*multipart(fields, b'.'), 403, 'AccessDenied',
                   'Invalid according to Policy: Policy Condition failed: '
                   '["eq", "$acl", "private"]')
        # the bucket condition
        pol = policy_b64({'expiration': expiry(), 'conditions': [
            {'bucket': 'another'}, ['starts-with', '$key', '']]})
        fields = [('key', 'k')] + sigv4_fields(pol, self.ak, self.sk)
        self.error(*multipart(fields, b'.'), 403, 'AccessDenied')
        self.absent('y')
        self.absent('other/k')

    def test_empty_prefix_matches_any(self):
        fields = self.signed([['starts-with', '$key', '']],
                             [('key', 'whatever/it/is')])
        self.assertEqual(self.post(*multipart(fields, b'.'))[0], 204)

    def test_extra_fields(self):
        fields = self.signed([['starts-with', '$key', '']],
                             [('key', 'k'), ('foo', 'bar')])
        self.error(*multipart(fields, b'.'), 403, 'AccessDenied',
                   'Invalid according to Policy: Extra input fields: foo')

    def test_expired(self):
        fields = self.signed([['starts-with', '$key', '']], [('key', 'k')],
                             exp='2001-01-01T00:00:00Z')
        self.error(*multipart(fields, b'.'), 403, 'AccessDenied',
                   'Invalid according to Policy: Policy expired.')

    def test_invalid_policy_documents(self):
        for doc in (b'not json', json.dumps({'conditions': []}).encode(),
                    json.dumps({'expiration': expiry()}).encode(),
                    json.dumps({'expiration': 'tomorrow',
                                'conditions': []}).encode(),
                    json.dumps({'expiration': expiry(),
                                'conditions': [['bogus', '$key', 'x']]})
                    .encode()):
            pol = base64.b64encode(doc).decode()
            fields = [('key', 'k')] + sigv4_fields(pol, self.ak, self.sk)
            self.error(*multipart(fields, b'.'), 400, 'InvalidPolicyDocument')
        fields = [('key', 'k')] + sigv4_fields('!!notbase64', self.ak, self.sk)
        self.error(*multipart(fields, b'.'), 400, 'InvalidPolicyDocument')

    def test_wrong_secret(self):
        fields = self.signed([['starts-with', '$key', '']], [('key', 'k')],
                             sk='not-the-secret')
        self.error(*multipart(fields, b'.'), 403, 'SignatureDoesNotMatch')

    def test_unknown_access_key(self):
        pol = policy_b64({'expiration': expiry(), 'conditions': []})
        fields = [('key', 'k')] + sigv4_fields(pol, 'AKNOBODY', 'x')
        self.error(*multipart(fields, b'.'), 403, 'InvalidAccessKeyId')

    def test_bad_credential_scope(self):
        pol = policy_b64({'expiration': expiry(), 'conditions': []})
        for kw in ({'region': 'eu-west-9'}, {'service': 'ec2'}):
            fields = [('key', 'k')] + sigv4_fields(pol, self.ak, self.sk, **kw)
            self.error(*multipart(fields, b'.'), 400,
                       'AuthorizationQueryParametersError')
        fields = [('key', 'k')] + sigv4_fields(pol, self.ak, self.sk)
        fields[2] = ('x-amz-credential', 'garbage')
        self.error(*multipart(fields, b'.'), 400,
                   'AuthorizationQueryParametersError')

    def test_missing_key_and_file(self):
        fields = self.presigned('k')
        no_key = [f for f in fields if f[0] != 'key']
        self.error(*multipart(no_key, b'.'), 400, 'InvalidArgument',
                   "Bucket POST must contain a field named 'key'.  If it is "
                   "specified, please check the order of the fields.")
        # key after the file is as good as none
        body, ct = multipart(no_key, b'.', after=[('key', 'k')])
        self.error(body, ct, 400, 'InvalidArgument')
        body, ct = multipart(fields, file_field=None)
        self.error(body, ct, 400, 'InvalidArgument',
                   'POST requires exactly one file upload per request.')

    def test_malformed_bodies(self):
        fields = self.presigned('mal')
        body, ct = multipart(fields, b'data')
        # truncated inside the file part
        self.error(body[:-30], ct, 400, 'MalformedPOSTRequest',
                   'The body of your POST request is not well-formed '
                   'multipart/form-data.')
        # the wrong boundary, and a bad boundary parameter
        self.error(body, 'multipart/form-data; boundary=nothere', 400,
                   'MalformedPOSTRequest')
        self.error(body, 'multipart/form-data', 400, 'MalformedPOSTRequest')
        # junk after a delimiter
        b = ct.split('boundary=')[1]
        self.error(('--%s junk\r\n' % b).encode() + body, ct, 400,
                   'MalformedPOSTRequest')
        self.absent('mal')
        # not a form at all
        root = self.error(b'<x/>', 'application/xml', 412,
                          'PreconditionFailed')
        self.assertEqual(root.findtext('Condition'), 'Bucket POST must be '
                         'of the enclosure-type multipart/form-data')

    def test_fields_before_file_limit(self):
        fields = self.presigned('big', {'x-ignore-pad': 'a' * 21000})
        self.error(*multipart(fields, b'.'), 400,
                   'MaxPostPreDataLengthExceeded')

    def test_content_length_range(self):
        def conds():       # boto3 adds the key condition to the list
            return [['content-length-range', 10, 100]]
        fields = self.presigned('r-ok', conditions=conds())
        self.assertEqual(self.post(*multipart(fields, b'x' * 50))[0], 204)
        fields = self.presigned('r-big', conditions=conds())
        root = self.error(*multipart(fields, b'x' * 101), 400,
                          'EntityTooLarge')
        self.assertEqual(root.findtext('MaxSizeAllowed'), '100')
        self.absent('r-big')
        fields = self.presigned('r-small', conditions=conds())
        root = self.error(*multipart(fields, b'x' * 9), 400, 'EntityTooSmall')
        self.assertEqual(root.findtext('MinSizeAllowed'), '10')
        self.assertEqual(root.findtext('ProposedSize'), '9')
        self.absent('r-small')
        # too large, with chunks already written: nothing is kept
        fields = self.presigned('r-huge', conditions=[
            ['content-length-range', 0, 3 * MiB]])
        self.error(*multipart(fields, os.urandom(5 * MiB)), 400,
                   'EntityTooLarge')
        self.absent('r-huge')

    # -- anonymous ---------------------------------------------------------

    def test_anonymous(self):
        bucket = self.new_bucket()
        body, ct = multipart([('key', 'anon')], b'anonymous')
        self.error(body, ct, 403, 'AccessDenied', path='/' + bucket)
        self.s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({
            'Version': '2012-10-17', 'Statement': [{
                'Effect': 'Allow', 'Principal': '*',
                'Action': 's3:PutObject',
                'Resource': 'arn:aws:s3:::%s/*' % bucket}]}))
        st, h, data = self.post(body, ct, path='/' + bucket)
        self.assertEqual(st, 204, data)
        self.assertEqual(h['etag'], etag_of(b'anonymous'))
        # the anonymous writer owns it (ACLs enabled), so the bucket owner
        # sees it listed but may not read it
        listed = self.s3.list_objects_v2(Bucket=bucket)['Contents']
        self.assertEqual([(o['Key'], o['Size']) for o in listed],
                         [('anon', 9)])
        # a bucket that does not exist
        self.error(body, ct, 404, 'NoSuchBucket', path='/nosuchbucket-post')

    # -- streaming -----------------------------------------------------------

    def test_large_file_streams(self):
        size = 20 * MiB
        fields = self.presigned('large')
        head, ct = multipart(fields, b'', file_field='file')
        # head ends with: <file part headers>\r\n\r\n\r\n--b--\r\n
        b = ct.split('boundary=')[1]
        tail = ('\r\n--%s--\r\n' % b).encode()
        prefix = head[:-len(tail)]
        block = os.urandom(MiB)
        md5 = hashlib.md5()
        for _ in range(size // MiB):
            md5.update(block)

        def gen():
            yield prefix
            for _ in range(size // MiB):
                yield block
            yield tail

        before = self.server.rss_kib()['VmHWM']
        conn = http.client.HTTPConnection('127.0.0.1', self.server.port,
                                          timeout=120)
        conn.request('POST', '/' + self.bucket, body=gen(), headers={
            'Content-Type': ct,
            'Content-Length': str(len(prefix) + size + len(tail))})
        r = conn.getresponse()
        self.assertEqual(r.status, 204, r.read())
        conn.close()
        o = self.get('large')
        got = hashlib.md5()
        for piece in o['Body'].iter_chunks(MiB):
            got.update(piece)
        self.assertEqual(got.hexdigest(), md5.hexdigest())
        self.assertEqual(o['ContentLength'], size)
        if not SANITIZE:
            grew = self.server.rss_kib()['VmHWM'] - before
            self.assertLess(grew * 1024, size // 2,
                            'the server held the file: HWM grew %d KiB' % grew)

    def test_reset_mid_file(self):
        fields = self.presigned('reset')
        body, ct = multipart(fields, os.urandom(4 * MiB))
        s = socket.create_connection(('127.0.0.1', self.server.port))
        head = ('POST /%s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: %s\r\n'
                'Content-Length: %d\r\n\r\n' % (self.bucket, ct, len(body)))
        s.sendall(head.encode() + body[:len(body) // 2])
        time.sleep(0.3)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                     struct.pack('ii', 1, 0))
        s.close()                                    # RST
        time.sleep(0.5)
        self.absent('reset')
        # the server is fine
        fields = self.presigned('after-reset')
        self.assertEqual(self.post(*multipart(fields, b'ok'))[0], 204)
        deadline = time.time() + 10
        while self.server.tmp_files() and time.time() < deadline:
            time.sleep(0.2)
        self.assertEqual(self.server.tmp_files(), [])


if __name__ == '__main__':
    unittest.main()
