"""DeleteObjects (POST /bucket?delete): 1000 keys at once, Quiet mode, missing
keys, version ids, the Content-MD5 / checksum requirement, malformed and
oversized bodies, and the clients that use it (boto3, the aws CLI, s3cmd)."""

import base64
import hashlib
import json
import os
import re
import socket
import time
import unittest
from concurrent.futures import ThreadPoolExecutor
from xml.sax.saxutils import escape

from harness import S3gwTestCase, checksum_b64, s3_quote, sha256_hex

NS = 'http://s3.amazonaws.com/doc/2006-03-01/'


def content_md5(body):
    return base64.b64encode(hashlib.md5(body).digest()).decode()


def delete_xml(keys, quiet=None, versions=None):
    """A <Delete> document for keys (bytes, UTF-8)."""
    parts = ['<?xml version="1.0" encoding="UTF-8"?>',
             '<Delete xmlns="%s">' % NS]
    if quiet is not None:
        parts.append('<Quiet>%s</Quiet>' % ('true' if quiet else 'false'))
    for i, k in enumerate(keys):
        v = ''
        if versions and versions[i] is not None:
            v = '<VersionId>%s</VersionId>' % escape(versions[i])
        parts.append('<Object><Key>%s</Key>%s</Object>' % (escape(k), v))
    parts.append('</Delete>')
    return ''.join(parts).encode()


class DeleteObjectsTest(S3gwTestCase):

    # The collector runs often, so reclaimed chunk files show up quickly.
    conf = {'gc_interval': '200ms'}

    def put_many(self, bucket, keys, body_of=lambda k: b'x'):
        def put(k):
            self.s3.put_object(Bucket=bucket, Key=k, Body=body_of(k))
        with ThreadPoolExecutor(12) as ex:
            list(ex.map(put, keys))

    def keys_of(self, bucket, prefix=''):
        out = []
        for page in self.s3.get_paginator('list_objects_v2').paginate(
                Bucket=bucket, Prefix=prefix):
            out.extend(o['Key'] for o in page.get('Contents', []))
        return out

    def raw_delete(self, bucket, body, headers=None, md5=True, user='admin'):
        """POST /bucket?delete, signed; Content-MD5 unless md5 is False."""
        hdrs = dict(headers or {})
        if md5:
            hdrs['Content-MD5'] = content_md5(body)
        return self.server.signed('POST', '/%s?delete' % s3_quote(bucket),
                                  hdrs, body, user=user, timeout=60)

    def result(self, resp):
        """(deleted keys, {key: code} of errors) of a raw 200 response."""
        self.assertEqual(resp.status, 200, resp)
        root = resp.xml()
        self.assertEqual(root.tag, 'DeleteResult')
        deleted = [e.findtext('Key') for e in root.findall('Deleted')]
        errors = {e.findtext('Key'): e.findtext('Code')
                  for e in root.findall('Error')}
        return deleted, errors

    def wait_chunks_gone(self, names, timeout=20):
        """Waits until no chunk file is named in names."""
        deadline = time.monotonic() + timeout
        while True:
            left = {os.path.basename(f) for f in self.server.chunk_files()} \
                & names
            if not left or time.monotonic() > deadline:
                return left
            time.sleep(0.1)

    # --- boto3 ------------------------------------------------------------------

    def test_thousand_keys(self):
        bucket = self.new_bucket()
        keys = ['k/%04d' % i for i in range(1000)]

        # One key in ten is bigger than inline_max (4k) and unique: it has a
        # chunk file of its own, which must be reclaimed after the delete.
        def body(k):
            n = int(k[2:])
            if n % 10 == 0:
                return (k.encode() * 1000)[:5000 + n]
            return k.encode()
        before = {os.path.basename(f) for f in self.server.chunk_files()}
        self.put_many(bucket, keys, body)
        chunked = {sha256_hex(body(k)) for k in keys
                   if len(body(k)) > 4096}
        self.assertEqual(len(chunked), 100)
        now = {os.path.basename(f) for f in self.server.chunk_files()}
        self.assertEqual(now - before, chunked)
        self.assertEqual(len(self.keys_of(bucket)), 1000)

        r = self.s3.delete_objects(
            Bucket=bucket,
            Delete={'Objects': [{'Key': k} for k in keys]})
        self.assertEqual(r['ResponseMetadata']['HTTPStatusCode'], 200)
        self.assertNotIn('Errors', r)
        self.assertEqual(sorted(d['Key'] for d in r['Deleted']), keys)
        self.assertEqual(self.keys_of(bucket), [])
        for k in keys[:3] + keys[-3:]:
            self.assertS3Error('NoSuchKey', 404, self.s3.get_object,
                               Bucket=bucket, Key=k)
        left = self.wait_chunks_gone(chunked)
        self.assertEqual(left, set(), '%d chunk files not reclaimed'
                         % len(left))
        # Empty now: the bucket can go.
        self.s3.delete_bucket(Bucket=bucket)

    def test_quiet(self):
        bucket = self.new_bucket()
        keys = ['q/%d' % i for i in range(20)]
        self.put_many(bucket, keys)
        r = self.s3.delete_objects(
            Bucket=bucket, Delete={'Objects': [{'Key': k} for k in keys]
                                   + [{'Key': 'q/missing'}],
                                   'Quiet': True})
        self.assertEqual(r['ResponseMetadata']['HTTPStatusCode'], 200)
        self.assertNotIn('Deleted', r)
        self.assertNotIn('Errors', r)
        self.assertEqual(self.keys_of(bucket), [])

        # Quiet still lists the errors.
        self.put_many(bucket, ['q/v'])
        body = delete_xml(['q/v', 'q/w'], quiet=True, versions=['abc', None])
        deleted, errors = self.result(self.raw_delete(bucket, body))
        self.assertEqual((deleted, errors), ([], {'q/v': 'NoSuchVersion'}))
        self.assertEqual(self.keys_of(bucket), ['q/v'])

    def test_existing_and_missing_keys(self):
        bucket = self.new_bucket()
        self.put_many(bucket, ['a', 'c', 'e'])
        keys = ['a', 'b', 'c', 'd', 'e', 'never/there']
        r = self.s3.delete_objects(
            Bucket=bucket, Delete={'Objects': [{'Key': k} for k in keys]})
        self.assertNotIn('Errors', r)
        self.assertEqual([d['Key'] for d in r['Deleted']], keys)
        self.assertEqual(self.keys_of(bucket), [])

    def test_special_keys(self):
        bucket = self.new_bucket()
        keys = ['sp ace', 'amp&er', 'lt<gt>', 'quote"\'', 'uni/\u00e9\u4e2d'
                '\U0001f600', 'tab\there', 'new\nline', 'per%cent+plus',
                ' lead', 'trail ', 'x' * 1024,
                '\u00e9' * 512]                     # 1024 bytes of UTF-8
        self.put_many(bucket, keys)
        self.put_many(bucket, ['keep'])
        r = self.s3.delete_objects(
            Bucket=bucket, Delete={'Objects': [{'Key': k} for k in keys]})
        self.assertNotIn('Errors', r)
        self.assertEqual([d['Key'] for d in r['Deleted']], keys)
        self.assertEqual(self.keys_of(bucket), ['keep'])

    def test_duplicate_keys(self):
        bucket = self.new_bucket()
        self.put_many(bucket, ['dup'])
        r = self.s3.delete_objects(
            Bucket=bucket, Delete={'Objects': [{'Key': 'dup'}] * 3})
        self.assertEqual([d['Key'] for d in r['Deleted']], ['dup'] * 3)
        self.assertEqual(self.keys_of(bucket), [])

    def test_version_ids(self):
        bucket = self.new_bucket()
        self.put_many(bucket, ['v1', 'v2', 'v3'])
        r = self.s3.delete_objects(
            Bucket=bucket, Delete={'Objects': [
                {'Key': 'v1', 'VersionId': 'null'},
                {'Key': 'v2', 'VersionId': '3sL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY'},
                {'Key': 'v3'}]})
        self.assertEqual([(d['Key'], d.get('VersionId')) for d in r['Deleted']],
                         [('v1', 'null'), ('v3', None)])
        self.assertEqual([(e['Key'], e['Code'], e.get('VersionId'))
                          for e in r['Errors']],
                         [('v2', 'NoSuchVersion',
                           '3sL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY')])
        self.assertEqual(self.keys_of(bucket), ['v2'])

    def test_conditional_delete_decided_per_key(self):
        # A condition that fails keeps its key and fails only that key
        # (test_conditional.py has the rest).
        bucket = self.new_bucket()
        self.put_many(bucket, ['c1', 'c2'])
        body = (b'<Delete><Object><Key>c1</Key><ETag>"x"</ETag></Object>'
                b'<Object><Key>c2</Key></Object></Delete>')
        deleted, errors = self.result(self.raw_delete(bucket, body))
        self.assertEqual((deleted, errors),
                         (['c2'], {'c1': 'PreconditionFailed'}))
        self.assertEqual(self.keys_of(bucket), ['c1'])

    def test_no_such_bucket_and_not_owner(self):
        self.assertS3Error('NoSuchBucket', 404, self.s3.delete_objects,
                           Bucket='no-such-bucket-delete',
                           Delete={'Objects': [{'Key': 'a'}]})
        bucket = self.new_bucket()
        self.put_many(bucket, ['mine'])
        bob = self.server.boto3_client('bob')
        # S3 decides each key on its own: 200, and AccessDenied per key.
        r = bob.delete_objects(Bucket=bucket,
                               Delete={'Objects': [{'Key': 'mine'},
                                                   {'Key': 'absent'}]})
        self.assertEqual(r.get('Deleted', []), [])
        self.assertEqual(sorted((e['Key'], e['Code']) for e in r['Errors']),
                         [('absent', 'AccessDenied'), ('mine', 'AccessDenied')])
        self.assertEqual(self.keys_of(bucket), ['mine'])

    # --- Raw requests ----------------------------------------------------------

    def test_1001_keys_is_malformed(self):
        bucket = self.new_bucket()
        keys = ['m/%04d' % i for i in range(1001)]
        self.put_many(bucket, keys[:5])
        r = self.raw_delete(bucket, delete_xml(keys))
        self.assertRawError(r, 400, 'MalformedXML')
        self.assertEqual(self.keys_of(bucket), keys[:5])
        # Exactly 1000 is fine.
        deleted, errors = self.result(self.raw_delete(bucket,
                                                      delete_xml(keys[:1000])))
        self.assertEqual((len(deleted), errors), (1000, {}))
        self.assertEqual(self.keys_of(bucket), [])

    def test_digest_required(self):
        bucket = self.new_bucket()
        self.put_many(bucket, ['d'])
        body = delete_xml(['d'])
        r = self.raw_delete(bucket, body, md5=False)
        self.assertRawError(r, 400, 'InvalidRequest')
        self.assertEqual(r.xml().findtext('Message'),
                         'Missing required header for this request: '
                         'Content-MD5')
        # x-amz-sdk-checksum-algorithm alone names no value to check.
        r = self.raw_delete(bucket, body, md5=False,
                            headers={'x-amz-sdk-checksum-algorithm': 'CRC32'})
        self.assertRawError(r, 400, 'InvalidRequest')
        self.assertEqual(self.keys_of(bucket), ['d'])

    def test_bad_content_md5(self):
        bucket = self.new_bucket()
        self.put_many(bucket, ['d'])
        body = delete_xml(['d'])
        r = self.raw_delete(bucket, body, md5=False,
                            headers={'Content-MD5': content_md5(b'other')})
        self.assertRawError(r, 400, 'BadDigest')
        r = self.raw_delete(bucket, body, md5=False,
                            headers={'Content-MD5': 'not base64!'})
        self.assertRawError(r, 400, 'InvalidDigest')
        self.assertEqual(self.keys_of(bucket), ['d'])

    def test_checksum_headers(self):
        bucket = self.new_bucket()
        for alg in ('CRC32', 'CRC32C', 'SHA256'):
            with self.subTest(algorithm=alg):
                self.put_many(bucket, ['ck'])
                body = delete_xml(['ck'])
                name = 'x-amz-checksum-' + alg.lower()
                r = self.raw_delete(bucket, body, md5=False,
                                    headers={name: checksum_b64(alg, b'no')})
                self.assertRawError(r, 400, 'BadDigest')
                self.assertEqual(self.keys_of(bucket), ['ck'])
                r = self.raw_delete(bucket, body, md5=False,
                                    headers={name: checksum_b64(alg, body)})
                self.assertEqual(self.result(r), (['ck'], {}))
                self.assertEqual(self.keys_of(bucket), [])

    def test_trailer_checksum(self):
        """An aws-chunked body with its CRC32 in a trailer, as an SDK that
        streams sends it."""
        bucket = self.new_bucket()
        for good in (True, False):
            with self.subTest(good=good):
                self.put_many(bucket, ['tr'])
                body = delete_xml(['tr'])
                value = checksum_b64('CRC32', body if good else b'x')
                stream = b'%x\r\n%s\r\n0\r\nx-amz-checksum-crc32:%s\r\n\r\n' \
                    % (len(body), body, value.encode())
                path = '/%s?delete' % bucket
                hdrs = self.server.sign(
                    'POST', path,
                    {'Content-Encoding': 'aws-chunked',
                     'x-amz-decoded-content-length': str(len(body)),
                     'x-amz-trailer': 'x-amz-checksum-crc32'},
                    payload_hash='STREAMING-UNSIGNED-PAYLOAD-TRAILER')
                r = self.server.http('POST', path, hdrs, stream)
                if good:
                    self.assertEqual(self.result(r), (['tr'], {}))
                    self.assertEqual(self.keys_of(bucket), [])
                else:
                    self.assertRawError(r, 400, 'BadDigest')
                    self.assertEqual(self.keys_of(bucket), ['tr'])
                    self.s3.delete_object(Bucket=bucket, Key='tr')

    def test_malformed_bodies(self):
        bucket = self.new_bucket()
        self.put_many(bucket, ['a', 'b'])
        bodies = {
            'empty': b'',
            'blank': b'  \n',
            'not xml': b'delete a and b please',
            'truncated': b'<Delete><Object><Key>a</Key></Object>',
            'wrong root': b'<Remove><Object><Key>a</Key></Object></Remove>',
            'no objects': b'<Delete></Delete>',
            'quiet only': b'<Delete><Quiet>true</Quiet></Delete>',
            'object without key': b'<Delete><Object></Object></Delete>',
            'object with version only':
                b'<Delete><Object><VersionId>null</VersionId></Object>'
                b'</Delete>',
            'empty key': b'<Delete><Object><Key></Key></Object></Delete>',
            'two keys': b'<Delete><Object><Key>a</Key><Key>b</Key></Object>'
                        b'</Delete>',
            'unknown element': b'<Delete><Object><Key>a</Key><Colour>red'
                               b'</Colour></Object></Delete>',
            'unknown top element': b'<Delete><Thing/><Object><Key>a</Key>'
                                   b'</Object></Delete>',
            'element in key': b'<Delete><Object><Key>a<b/></Key></Object>'
                              b'</Delete>',
            'key outside object': b'<Delete><Key>a</Key></Delete>',
            'deep': b'<Delete><Object><Key>a</Key></Object><Object><Key>'
                    b'<x><y><z>b</z></y></x></Key></Object></Delete>',
            'bad quiet': b'<Delete><Quiet>yes</Quiet><Object><Key>a</Key>'
                         b'</Object></Delete>',
            'two quiets': b'<Delete><Quiet>true</Quiet><Quiet>true</Quiet>'
                          b'<Object><Key>a</Key></Object></Delete>',
            'element in quiet': b'<Delete><Quiet><Key>a</Key></Quiet>'
                                b'<Object><Key>a</Key></Object></Delete>',
            'doctype': b'<?xml version="1.0"?><!DOCTYPE Delete [<!ENTITY k '
                       b'"a">]><Delete><Object><Key>&k;</Key></Object>'
                       b'</Delete>',
            'undefined entity': b'<Delete><Object><Key>&nope;</Key></Object>'
                                b'</Delete>',
            'two roots': b'<Delete><Object><Key>a</Key></Object></Delete>'
                         b'<Delete/>',
            'bad utf-8': b'<Delete><Object><Key>\xff\xfe</Key></Object>'
                         b'</Delete>',
            'nul': b'<Delete><Object><Key>a\x00</Key></Object></Delete>',
            'huge text': b'<Delete><Object><Key>' + b'k' * 100000
                         + b'</Key></Object></Delete>',
        }
        for name, body in bodies.items():
            with self.subTest(body=name):
                r = self.raw_delete(bucket, body)
                self.assertRawError(r, 400, 'MalformedXML')
        self.assertEqual(self.keys_of(bucket), ['a', 'b'])
        # The namespace is optional, blanks are fine, Quiet takes 0/1.
        r = self.raw_delete(bucket, b'<?xml version="1.0"?>\n<Delete>\n'
                            b'  <Quiet> 0 </Quiet>\n  <Object>\n'
                            b'    <Key>a</Key>\n  </Object>\n</Delete>\n')
        self.assertEqual(self.result(r), (['a'], {}))
        self.assertEqual(self.keys_of(bucket), ['b'])

    def test_key_too_long(self):
        """As in S3, a key over 1024 bytes fails the whole request."""
        bucket = self.new_bucket()
        self.put_many(bucket, ['short'])
        r = self.raw_delete(bucket, delete_xml(['short', 'k' * 1025]))
        self.assertRawError(r, 400, 'KeyTooLongError')
        r = self.raw_delete(bucket, delete_xml(['short', '\u00e9' * 513]))
        self.assertRawError(r, 400, 'KeyTooLongError')
        self.assertEqual(self.keys_of(bucket), ['short'])

    def test_body_too_large(self):
        bucket = self.new_bucket()
        body = b'<Delete>' + b' ' * (7 * 1024 * 1024) + b'</Delete>'
        hdrs = self.server.sign('POST', '/%s?delete' % bucket,
                                {'Content-MD5': content_md5(body)},
                                payload_hash='UNSIGNED-PAYLOAD')
        hdrs.append(('Content-Length', str(len(body))))
        # Refused from the headers alone: send nothing of the body.
        with self.server.conn() as c:
            c.send(('POST /%s?delete HTTP/1.1\r\n' % bucket).encode()
                           + b''.join(b'%s: %s\r\n' % (k.encode(), v.encode())
                                      for k, v in hdrs) + b'\r\n')
            r = c.read_response('POST')
        self.assertRawError(r, 400, 'MalformedXML')

    def test_client_gone_before_answer(self):
        """The client closes right after sending: the deletes finish, and
        nothing leaks or crashes (the ASan build checks)."""
        bucket = self.new_bucket()
        keys = ['gone/%04d' % i for i in range(300)]
        self.put_many(bucket, keys)
        body = delete_xml(keys)
        path = '/%s?delete' % bucket
        for _ in range(3):
            hdrs = self.server.sign('POST', path,
                                    {'Content-MD5': content_md5(body)}, body)
            hdrs.append(('Content-Length', str(len(body))))
            s = socket.create_connection(('127.0.0.1', self.server.port))
            s.sendall(('POST %s HTTP/1.1\r\n' % path).encode()
                      + b''.join(b'%s: %s\r\n' % (k.encode(), v.encode())
                                 for k, v in hdrs) + b'\r\n' + body)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                         b'\x01\x00\x00\x00\x00\x00\x00\x00')
            s.close()
        deadline = time.monotonic() + 20
        while self.keys_of(bucket) and time.monotonic() < deadline:
            time.sleep(0.1)
        self.assertEqual(self.keys_of(bucket), [])
        # Still serving.
        r = self.s3.delete_objects(Bucket=bucket,
                                   Delete={'Objects': [{'Key': 'x'}]})
        self.assertEqual([d['Key'] for d in r['Deleted']], ['x'])

    # --- Clients ----------------------------------------------------------------

    def ok(self, proc):
        self.assertEqual(proc.returncode, 0,
                         'exit %d\nstdout: %s\nstderr: %s'
                         % (proc.returncode, proc.stdout[-2000:],
                            proc.stderr[-2000:]))
        return proc.stdout

    def multi_deletes(self, bucket, since):
        pat = re.compile(r' POST /%s/?\?delete ' % re.escape(bucket))
        return [l for l in self.server.access_log_lines()[since:]
                if pat.search(l)]

    def test_aws_cli(self):
        bucket = self.new_bucket()
        keys = ['cli/%03d' % i for i in range(40)] + ['other']
        self.put_many(bucket, keys)

        out = self.ok(self.server.aws(
            's3api', 'delete-objects', '--bucket', bucket, '--delete',
            json.dumps({'Objects': [{'Key': 'cli/000'}, {'Key': 'cli/001'},
                                    {'Key': 'nope'}]})))
        self.assertEqual(sorted(d['Key'] for d in json.loads(out)['Deleted']),
                         ['cli/000', 'cli/001', 'nope'])
        self.assertEqual(len(self.keys_of(bucket, 'cli/')), 38)

        # aws-cli v1 removes key by key (DeleteObject); v2 may batch.
        self.ok(self.server.aws('s3', 'rm', '--recursive',
                                's3://%s/cli/' % bucket))
        self.assertEqual(self.keys_of(bucket), ['other'])

    def test_s3cmd(self):
        bucket = self.new_bucket()
        keys = ['s3cmd/%03d' % i for i in range(40)] + ['other']
        self.put_many(bucket, keys)
        since = len(self.server.access_log_lines())
        self.ok(self.server.s3cmd('del', '--recursive', '--force',
                                  's3://%s/s3cmd/' % bucket))
        self.assertEqual(self.keys_of(bucket), ['other'])
        # s3cmd deletes a listing in batches with DeleteObjects.
        self.assertTrue(self.multi_deletes(bucket, since),
                        self.server.access_log_lines()[since:])


if __name__ == '__main__':
    unittest.main()
