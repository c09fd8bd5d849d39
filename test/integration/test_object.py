"""Object operations: PutObject, GetObject (ranges, conditionals, response-*
overrides), HeadObject, DeleteObject; metadata; long keys; the on-disk
layout (inline objects, content-addressed chunk files); every error case."""

import base64
import datetime
import email.utils
import hashlib
import os
import unittest

from harness import (EMPTY_SHA256, S3gwTestCase, etag_of, http_date, md5_hex,
                     s3_quote, sha256_hex, unique_name)


def utcnow():
    return datetime.datetime.now(datetime.timezone.utc)


def parse_http_date(s):
    return email.utils.parsedate_to_datetime(s)


class ObjectTest(S3gwTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.bucket = unique_name('objects')
        cls.s3.create_bucket(Bucket=cls.bucket)

    def put(self, key, body, **kw):
        return self.s3.put_object(Bucket=self.bucket, Key=key, Body=body, **kw)

    def get(self, key, **kw):
        return self.s3.get_object(Bucket=self.bucket, Key=key, **kw)

    def path(self, key):
        return '/%s/%s' % (self.bucket, s3_quote(key))

    def assertChunkFilesAddressed(self):
        for f in self.server.chunk_files():
            name = os.path.basename(f)
            self.assertRegex(name, r'^[0-9a-f]{64}$', f)
            self.assertEqual(os.path.basename(os.path.dirname(f)), name[:2],
                             f)
            with open(f, 'rb') as fh:
                self.assertEqual(hashlib.sha256(fh.read()).hexdigest(),
                                 name, f)

    # --- Put and get ---------------------------------------------------------

    def test_roundtrip_sizes(self):
        for size in (0, 1, 100, 4095, 4096, 4097, 65536, 1024 * 1024 + 7,
                     4 * 1024 * 1024 + 1):
            with self.subTest(size=size):
                data = os.urandom(size)
                key = 'sizes/%d' % size
                r = self.put(key, data)
                self.assertEqual(r['ETag'], etag_of(data))
                g = self.get(key)
                self.assertEqual(g['ContentLength'], size)
                self.assertEqual(g['ETag'], etag_of(data))
                self.assertEqual(g['Body'].read(), data)
                self.assertTrue(g['AcceptRanges'] == 'bytes')
                h = self.s3.head_object(Bucket=self.bucket, Key=key)
                self.assertEqual(h['ContentLength'], size)
                self.assertEqual(h['ETag'], etag_of(data))
        self.assertChunkFilesAddressed()

    def test_empty_object_etag(self):
        r = self.put('empty', b'')
        self.assertEqual(r['ETag'], '"d41d8cd98f00b204e9800998ecf8427e"')
        g = self.get('empty')
        self.assertEqual((g['ContentLength'], g['Body'].read()), (0, b''))

    def test_overwrite(self):
        self.put('ow', b'first version, long enough' * 400)
        self.put('ow', b'second')
        g = self.get('ow')
        self.assertEqual(g['Body'].read(), b'second')
        self.assertEqual(g['ETag'], etag_of(b'second'))
        listed = self.s3.list_objects_v2(Bucket=self.bucket, Prefix='ow')
        self.assertEqual([(o['Key'], o['Size']) for o in listed['Contents']],
                         [('ow', 6)])

    def test_inline_objects_have_no_chunk_files(self):
        before = set(self.server.chunk_files())
        small = os.urandom(4096)                          # == inline_max
        self.put('inline/at-limit', small)
        self.assertEqual(set(self.server.chunk_files()), before)
        self.assertEqual(self.get('inline/at-limit')['Body'].read(), small)

        big = os.urandom(4097)                            # one byte over
        self.put('inline/over', big)
        added = set(self.server.chunk_files()) - before
        self.assertEqual(len(added), 1, added)
        f = added.pop()
        self.assertEqual(os.path.basename(f), sha256_hex(big))
        self.assertChunkFilesAddressed()

    def test_same_bytes_stored_once(self):
        data = os.urandom(100 * 1024)
        self.put('dedup/a', data)
        before = set(self.server.chunk_files())
        self.put('dedup/b', data)
        self.put('dedup/c', data, Metadata={'other': 'metadata'})
        # No new chunk file (the collector may meanwhile remove chunks that
        # earlier tests let go, so the count alone could drop).
        self.assertEqual(set(self.server.chunk_files()) - before, set())
        self.s3.delete_object(Bucket=self.bucket, Key='dedup/a')
        self.assertEqual(self.get('dedup/b')['Body'].read(), data)
        self.assertEqual(self.get('dedup/c')['Body'].read(), data)

    def test_special_keys(self):
        keys = ['sp ace', 'plus+sign', 'per%cent', 'q?mark', 'hash#tag',
                'amp&eq=', 'semi;colon', 'uni/\u00e9\u4e2d\U0001f600',
                'tilde~', "quote'\"", 'back\\slash', 'brack[]{}', 'dollar$@!',
                'a/../b', 'a/./c', '//double//slash', 'trailing/', ' lead',
                'x' * 200 + '/' + 'y' * 200]
        for i, key in enumerate(keys):
            with self.subTest(key=key):
                body = ('%d:%s' % (i, key)).encode()
                self.put('sk/' + key, body)
                self.assertEqual(self.get('sk/' + key)['Body'].read(), body)
        listed = self.s3.list_objects_v2(Bucket=self.bucket, Prefix='sk/')
        got = [o['Key'] for o in listed['Contents']]
        want = sorted(('sk/' + k for k in keys), key=lambda k: k.encode())
        self.assertEqual(got, want)

    # --- Metadata ------------------------------------------------------------

    def test_metadata_and_standard_headers(self):
        expires = datetime.datetime(2031, 5, 6, 7, 8, 9,
                                    tzinfo=datetime.timezone.utc)
        self.put('meta', b'<p>hi</p>',
                 Metadata={'color': 'blue', 'multi-word': 'a b  c'},
                 ContentType='text/html; charset=utf-8',
                 ContentEncoding='identity',
                 ContentDisposition='attachment; filename="hi.html"',
                 ContentLanguage='en-GB',
                 CacheControl='max-age=60, public',
                 Expires=expires)
        for h in (self.s3.head_object(Bucket=self.bucket, Key='meta'),
                  self.get('meta')):
            raw = h['ResponseMetadata']['HTTPHeaders']
            self.assertEqual(h['Metadata']['color'], 'blue')
            self.assertEqual(h['Metadata']['multi-word'], 'a b  c')
            self.assertEqual(h['ContentType'], 'text/html; charset=utf-8')
            self.assertEqual(h['ContentEncoding'], 'identity')
            self.assertEqual(h['ContentDisposition'],
                             'attachment; filename="hi.html"')
            self.assertEqual(h['ContentLanguage'], 'en-GB')
            self.assertEqual(h['CacheControl'], 'max-age=60, public')
            self.assertEqual(parse_http_date(raw['expires']), expires)
            self.assertIsNotNone(h['LastModified'])
            self.assertIn(h.get('StorageClass'), (None, 'STANDARD'))
            self.assertTrue(raw.get('x-amz-request-id'))
            self.assertTrue(raw.get('date'))
            self.assertTrue(raw.get('last-modified'))

    def test_metadata_replaced_on_overwrite(self):
        self.put('meta2', b'1', Metadata={'a': '1', 'b': '2'})
        self.put('meta2', b'2', Metadata={'c': '3'})
        h = self.s3.head_object(Bucket=self.bucket, Key='meta2')
        self.assertEqual(h['Metadata'], {'c': '3'})

    def test_default_content_type(self):
        r = self.server.signed('PUT', self.path('noctype'), body=b'x')
        self.assertEqual(r.status, 200, r)
        r = self.server.signed('GET', self.path('noctype'))
        self.assertEqual(r.header('Content-Type'), 'binary/octet-stream')

    def test_storage_class(self):
        self.put('rrs', b'r', StorageClass='REDUCED_REDUNDANCY')
        self.put('std', b's', StorageClass='STANDARD')
        h = self.s3.head_object(Bucket=self.bucket, Key='rrs')
        self.assertEqual(h['StorageClass'], 'REDUCED_REDUNDANCY')
        h = self.s3.head_object(Bucket=self.bucket, Key='std')
        self.assertIn(h.get('StorageClass'), (None, 'STANDARD'))
        listed = self.s3.list_objects_v2(Bucket=self.bucket, Prefix='rrs')
        self.assertEqual(listed['Contents'][0]['StorageClass'],
                         'REDUCED_REDUNDANCY')
        for bad in ('GLACIER', 'DEEP_ARCHIVE', 'NOPE', ''):
            with self.subTest(storage_class=bad):
                self.assertS3Error('InvalidStorageClass', 400, self.put,
                                   'badclass', b'x', StorageClass=bad)
        self.assertS3Error(None, 404, self.s3.head_object,
                           Bucket=self.bucket, Key='badclass')

    # --- Content-MD5 and write preconditions -------------------------------

    def test_content_md5(self):
        data = b'checked body' * 1000
        good = base64.b64encode(hashlib.md5(data).digest()).decode()
        self.put('md5/good', data, ContentMD5=good)
        self.assertEqual(self.get('md5/good')['Body'].read(), data)

        wrong = base64.b64encode(hashlib.md5(b'other').digest()).decode()
        self.assertS3Error('BadDigest', 400, self.put, 'md5/bad', data,
                           ContentMD5=wrong)
        self.assertS3Error(None, 404, self.s3.head_object,
                           Bucket=self.bucket, Key='md5/bad')
        # A failed overwrite leaves the old object.
        self.assertS3Error('BadDigest', 400, self.put, 'md5/good', b'new',
                           ContentMD5=wrong)
        self.assertEqual(self.get('md5/good')['Body'].read(), data)

        for malformed in ('not base64!', base64.b64encode(b'short').decode(),
                          hashlib.md5(data).hexdigest()):
            with self.subTest(md5=malformed):
                self.assertS3Error('InvalidDigest', 400, self.put,
                                   'md5/malformed', data,
                                   ContentMD5=malformed)
        self.assertS3Error(None, 404, self.s3.head_object,
                           Bucket=self.bucket, Key='md5/malformed')

    def test_if_none_match_star(self):
        r = self.put('inm', b'one', IfNoneMatch='*')
        self.assertEqual(r['ETag'], etag_of(b'one'))
        self.assertS3Error('PreconditionFailed', 412, self.put, 'inm', b'two',
                           IfNoneMatch='*')
        self.assertEqual(self.get('inm')['Body'].read(), b'one')

    def test_if_match_on_put(self):
        self.put('im', b'one')
        self.assertS3Error('PreconditionFailed', 412, self.put, 'im', b'two',
                           IfMatch=etag_of(b'nope'))
        self.assertEqual(self.get('im')['Body'].read(), b'one')
        self.put('im', b'three', IfMatch=etag_of(b'one'))
        self.assertEqual(self.get('im')['Body'].read(), b'three')
        self.assertS3Error('NoSuchKey', 404, self.put, 'im-missing', b'x',
                           IfMatch=etag_of(b'x'))
        self.assertS3Error(None, 404, self.s3.head_object,
                           Bucket=self.bucket, Key='im-missing')

    # --- Ranges -------------------------------------------------------------

    def test_ranges(self):
        data = bytes(range(256)) * 4 + b'tail'             # 1028 bytes
        n = len(data)
        self.put('range', data)
        cases = [('bytes=0-9', 0, 9), ('bytes=10-', 10, n - 1),
                 ('bytes=-5', n - 5, n - 1), ('bytes=5-5', 5, 5),
                 ('bytes=1000-5000', 1000, n - 1), ('bytes=-5000', 0, n - 1),
                 ('bytes=0-', 0, n - 1), ('bytes=%d-' % (n - 1), n - 1, n - 1)]
        for spec, a, b in cases:
            with self.subTest(range=spec):
                g = self.get('range', Range=spec)
                self.assertEqual(g['ResponseMetadata']['HTTPStatusCode'], 206)
                self.assertEqual(g['ContentRange'], 'bytes %d-%d/%d' % (a, b, n))
                self.assertEqual(g['ContentLength'], b - a + 1)
                self.assertEqual(g['Body'].read(), data[a:b + 1])
                self.assertEqual(g['ETag'], etag_of(data))
        h = self.s3.head_object(Bucket=self.bucket, Key='range',
                                Range='bytes=2-3')
        self.assertEqual(h['ResponseMetadata']['HTTPStatusCode'], 206)
        self.assertEqual(h['ContentLength'], 2)

    def test_unsatisfiable_ranges(self):
        data = b'0123456789' * 10
        self.put('range416', data)
        for spec in ('bytes=100-', 'bytes=100-200', 'bytes=5000-', 'bytes=-0'):
            with self.subTest(range=spec):
                self.assertS3Error('InvalidRange', 416, self.get, 'range416',
                                   Range=spec)
        self.put('range416-empty', b'')
        self.assertS3Error('InvalidRange', 416, self.get, 'range416-empty',
                           Range='bytes=0-')
        r = self.server.signed('GET', self.path('range416'),
                               {'Range': 'bytes=200-300'})
        self.assertRawError(r, 416, 'InvalidRange')

    def test_multi_and_malformed_ranges_return_whole_object(self):
        data = b'abcdefghij' * 50
        self.put('range-multi', data)
        for spec in ('bytes=0-1,5-6', 'bytes=0-0,-1', 'bytes=abc',
                     'bytes=5-2', 'items=0-1', 'bytes=--1'):
            with self.subTest(range=spec):
                r = self.server.signed('GET', self.path('range-multi'),
                                       {'Range': spec})
                self.assertEqual(r.status, 200, r)
                self.assertEqual(r.body, data)
                self.assertIsNone(r.header('Content-Range'))

    # --- Conditional reads (RFC 7232) -----------------------------------------

    def conditional(self, method, key, **headers):
        hdrs = {k.replace('_', '-'): v for k, v in headers.items()}
        return self.server.signed(method, self.path(key), hdrs)

    def test_conditional_get(self):
        data = b'conditional body'
        self.put('cond', data)
        h = self.s3.head_object(Bucket=self.bucket, Key='cond')
        etag, lm = h['ETag'], h['LastModified']
        before, after = http_date(lm - datetime.timedelta(hours=1)), \
            http_date(lm + datetime.timedelta(hours=1))
        other = etag_of(b'other')
        cases = [
            ({'If-Match': etag}, 200),
            ({'If-Match': '*'}, 200),
            ({'If-Match': other}, 412),
            ({'If-Match': '%s, %s' % (other, etag)}, 200),
            ({'If-None-Match': etag}, 304),
            ({'If-None-Match': '*'}, 304),
            ({'If-None-Match': other}, 200),
            ({'If-Modified-Since': after}, 304),
            ({'If-Modified-Since': http_date(lm)}, 304),
            ({'If-Modified-Since': before}, 200),
            ({'If-Unmodified-Since': before}, 412),
            ({'If-Unmodified-Since': after}, 200),
            # Precedence: If-Match decides and If-Unmodified-Since is
            # ignored; If-None-Match decides and If-Modified-Since is ignored.
            ({'If-Match': etag, 'If-Unmodified-Since': before}, 200),
            ({'If-Match': other, 'If-Unmodified-Since': after}, 412),
            ({'If-None-Match': etag, 'If-Modified-Since': before}, 304),
            ({'If-None-Match': other, 'If-Modified-Since': after}, 200),
            ({'If-Match': other, 'If-None-Match': other}, 412),
            ({'If-Unmodified-Since': before, 'If-None-Match': etag}, 412),
            # An unparsable date is ignored.
            ({'If-Modified-Since': 'not a date'}, 200),
        ]
        for hdrs, want in cases:
            for method in ('GET', 'HEAD'):
                with self.subTest(method=method, headers=hdrs):
                    r = self.server.signed(method, self.path('cond'), hdrs)
                    self.assertEqual(r.status, want, r)
                    if want == 200:
                        self.assertEqual(r.header('ETag'), etag)
                        if method == 'GET':
                            self.assertEqual(r.body, data)
                    elif want == 304:
                        self.assertEqual(r.body, b'')
                        self.assertEqual(r.header('ETag'), etag)
                    elif method == 'GET':
                        self.assertEqual(r.code, 'PreconditionFailed', r)

    def test_conditional_get_boto3(self):
        self.put('cond2', b'x')
        etag = self.s3.head_object(Bucket=self.bucket, Key='cond2')['ETag']
        self.assertS3Error('PreconditionFailed', 412, self.get, 'cond2',
                           IfMatch=etag_of(b'y'))
        self.assertS3Error(None, 304, self.get, 'cond2', IfNoneMatch=etag)
        self.assertEqual(self.get('cond2', IfMatch=etag)['Body'].read(), b'x')

    def test_conditional_with_range(self):
        data = b'0123456789'
        self.put('cond-range', data)
        etag = etag_of(data)
        r = self.server.signed('GET', self.path('cond-range'),
                               {'Range': 'bytes=2-4', 'If-Match': etag})
        self.assertEqual((r.status, r.body), (206, b'234'))
        r = self.server.signed('GET', self.path('cond-range'),
                               {'Range': 'bytes=2-4',
                                'If-None-Match': etag})
        self.assertEqual(r.status, 304)

    # --- response-* overrides -----------------------------------------------

    def test_response_overrides(self):
        self.put('override', b'data', ContentType='application/x-original',
                 CacheControl='no-store')
        expires = datetime.datetime(2030, 1, 2, 3, 4, 5,
                                    tzinfo=datetime.timezone.utc)
        g = self.get('override', ResponseContentType='text/plain',
                     ResponseContentLanguage='fr',
                     ResponseExpires=expires,
                     ResponseCacheControl='max-age=5',
                     ResponseContentDisposition='attachment; filename="d.txt"',
                     ResponseContentEncoding='identity')
        raw = g['ResponseMetadata']['HTTPHeaders']
        self.assertEqual(raw['content-type'], 'text/plain')
        self.assertEqual(raw['content-language'], 'fr')
        self.assertEqual(parse_http_date(raw['expires']), expires)
        self.assertEqual(raw['cache-control'], 'max-age=5')
        self.assertEqual(raw['content-disposition'],
                         'attachment; filename="d.txt"')
        self.assertEqual(raw['content-encoding'], 'identity')
        self.assertEqual(g['Body'].read(), b'data')
        # Stored values are not changed by an override.
        h = self.s3.head_object(Bucket=self.bucket, Key='override')
        self.assertEqual(h['ContentType'], 'application/x-original')
        self.assertEqual(h['CacheControl'], 'no-store')
        # Overrides apply to HEAD as well.
        r = self.server.signed('HEAD', self.path('override') +
                               '?response-content-type=image%2Fpng')
        self.assertEqual(r.header('Content-Type'), 'image/png')

    # --- Head and delete --------------------------------------------------

    def test_head_and_delete(self):
        self.put('hd', b'12345')
        h = self.s3.head_object(Bucket=self.bucket, Key='hd')
        self.assertEqual(h['ContentLength'], 5)
        r = self.server.signed('HEAD', self.path('hd'))
        self.assertEqual((r.status, r.body), (200, b''))
        self.assertEqual(r.header('Content-Length'), '5')

        d = self.s3.delete_object(Bucket=self.bucket, Key='hd')
        self.assertEqual(d['ResponseMetadata']['HTTPStatusCode'], 204)
        self.assertS3Error(None, 404, self.s3.head_object,
                           Bucket=self.bucket, Key='hd')
        self.assertS3Error('NoSuchKey', 404, self.get, 'hd')
        # Deleting what is not there is still 204.
        d = self.s3.delete_object(Bucket=self.bucket, Key='hd')
        self.assertEqual(d['ResponseMetadata']['HTTPStatusCode'], 204)
        d = self.s3.delete_object(Bucket=self.bucket, Key='never-existed')
        self.assertEqual(d['ResponseMetadata']['HTTPStatusCode'], 204)

    def test_no_such_key_error_body(self):
        r = self.server.signed('GET', self.path('nope/key'))
        self.assertRawError(r, 404, 'NoSuchKey')
        root = r.xml()
        self.assertEqual(root.tag, 'Error')
        self.assertTrue(root.findtext('Message'))
        self.assertIn('nope/key', root.findtext('Resource') or '')
        self.assertEqual(root.findtext('RequestId'),
                         r.header('x-amz-request-id'))
        self.assertIn('xml', r.header('Content-Type') or '')
        r = self.server.signed('HEAD', self.path('nope/key'))
        self.assertEqual((r.status, r.body), (404, b''))
        self.assertTrue(r.header('x-amz-request-id'))

    # --- Key length and order -----------------------------------------------

    def test_key_length_limit(self):
        for key in ('k' * 1024, '\u00e9' * 512, 'd/' * 511 + 'kk'):
            with self.subTest(length=len(key.encode())):
                self.assertEqual(len(key.encode()), 1024)
                self.put(key, key.encode()[:10])
                self.assertEqual(self.get(key)['Body'].read(),
                                 key.encode()[:10])
                self.s3.delete_object(Bucket=self.bucket, Key=key)
        for key in ('k' * 1025, '\u00e9' * 513, 'x' * 2000):
            with self.subTest(length=len(key.encode())):
                self.assertS3Error('KeyTooLongError', 400, self.put, key, b'x')

    def test_long_keys_list_in_order(self):
        prefix = 'long/'
        base = prefix + 'm' * 1100
        keys = {
            prefix + 'm',
            prefix + 'ma',
            prefix + 'n',
            prefix + 'm' * 100,
            base[:511],                # just under the 511-byte mark
            base[:512],
            base[:511] + 'a',
            base[:511] + 'n',
            base[:511] + 'l' + 'z' * 300,
            base[:600],
            base[:600] + 'a',
            base[:700] + '0',
            base[:1000],
            base[:1024],
            base[:1023] + 'a',
            base[:1023] + 'z',
            base[:1022] + '\u00e9',
            base[:900] + '/' + 'x' * 100,
            base[:1020] + '/sub',
            prefix + 'z' * 1019,
        }
        keys = [k for k in keys if len(k.encode()) <= 1024]
        for k in keys:
            self.put(k, sha256_hex(k.encode()).encode())
        want = sorted(keys, key=lambda k: k.encode())

        got = [o['Key'] for o in self.s3.list_objects_v2(
            Bucket=self.bucket, Prefix=prefix)['Contents']]
        self.assertEqual(len(got), len(want))
        self.assertEqual(got, want)

        # Page through them two at a time, V2 and V1.
        got, token = [], None
        for _ in range(len(want) + 2):
            kw = {'ContinuationToken': token} if token else {}
            page = self.s3.list_objects_v2(Bucket=self.bucket, Prefix=prefix,
                                           MaxKeys=2, **kw)
            got += [o['Key'] for o in page.get('Contents', [])]
            if not page['IsTruncated']:
                break
            token = page['NextContinuationToken']
        self.assertEqual(got, want)
        got, marker = [], ''
        for _ in range(len(want) + 2):
            page = self.s3.list_objects(Bucket=self.bucket, Prefix=prefix,
                                        MaxKeys=3, Marker=marker)
            batch = [o['Key'] for o in page.get('Contents', [])]
            got += batch
            if not page['IsTruncated']:
                break
            marker = batch[-1]
        self.assertEqual(got, want)

        # start-after inside the long keys.
        page = self.s3.list_objects_v2(Bucket=self.bucket, Prefix=prefix,
                                       StartAfter=base[:600])
        self.assertEqual([o['Key'] for o in page['Contents']],
                         [k for k in want if k.encode() > base[:600].encode()])

        # A delimiter past the 511-byte mark groups correctly.
        p = base[:900]
        page = self.s3.list_objects_v2(Bucket=self.bucket, Prefix=p,
                                       Delimiter='/')
        cps = sorted({p + k[len(p):].split('/', 1)[0] + '/' for k in want
                      if k.startswith(p) and '/' in k[len(p):]},
                     key=lambda c: c.encode())
        self.assertEqual(cps, [p + '/', base[:1020] + '/'])
        self.assertEqual([c['Prefix'] for c in page['CommonPrefixes']], cps)
        self.assertEqual([o['Key'] for o in page['Contents']],
                         [k for k in want if k.startswith(p) and
                          '/' not in k[len(p):]])

        # Each one reads back its own body, and deletes only itself.
        for k in keys:
            self.assertEqual(self.get(k)['Body'].read(),
                             sha256_hex(k.encode()).encode())
        self.s3.delete_object(Bucket=self.bucket, Key=base[:1000])
        left = [o['Key'] for o in self.s3.list_objects_v2(
            Bucket=self.bucket, Prefix=prefix)['Contents']]
        self.assertEqual(left, [k for k in want if k != base[:1000]])

    # --- Errors ---------------------------------------------------------------

    def test_errors(self):
        missing = unique_name('nobucket')
        self.assertS3Error('NoSuchBucket', 404, self.s3.put_object,
                           Bucket=missing, Key='k', Body=b'x')
        self.assertS3Error('NoSuchBucket', 404, self.s3.get_object,
                           Bucket=missing, Key='k')
        self.assertS3Error(None, 404, self.s3.head_object,
                           Bucket=missing, Key='k')
        self.assertS3Error('NoSuchBucket', 404, self.s3.delete_object,
                           Bucket=missing, Key='k')
        self.assertS3Error('NoSuchKey', 404, self.get, 'no/such/key')

    def test_content_length_mismatch_is_rejected(self):
        # The body is shorter than the signed Content-Length and the client
        # closes: nothing is stored.
        body = b'x' * 100
        hdrs = self.server.sign('PUT', self.path('short'), body=body)
        with self.server.conn(timeout=10) as c:
            c.send(('PUT %s HTTP/1.1\r\n' % self.path('short')).encode() +
                   ''.join('%s: %s\r\n' % kv for kv in hdrs).encode() +
                   b'Content-Length: 1000\r\n\r\n' + body)
            c.sock.shutdown(1)
            c.closed_by_peer(5)
        self.assertS3Error(None, 404, self.s3.head_object,
                           Bucket=self.bucket, Key='short')

    def test_put_with_unsigned_payload(self):
        r = self.server.signed('PUT', self.path('unsigned'), body=b'u' * 10,
                               payload_hash='UNSIGNED-PAYLOAD')
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.header('ETag'), etag_of(b'u' * 10))
        self.assertEqual(self.get('unsigned')['Body'].read(), b'u' * 10)

    def test_get_on_bucket_without_slash_key(self):
        # "/bucket/" is the bucket (a listing), not an empty key.
        r = self.server.signed('GET', '/%s/' % self.bucket)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.xml().tag, 'ListBucketResult')

    def test_empty_sha_for_bodyless_requests(self):
        r = self.server.signed('GET', self.path('absent'),
                               payload_hash=EMPTY_SHA256)
        self.assertRawError(r, 404, 'NoSuchKey')


class SmallChunkTest(S3gwTestCase):
    """chunk_size 64k: objects span many chunk files, and reads cross chunk
    boundaries."""

    conf = {'chunk_size': '64k', 'inline_max': '1k'}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.bucket = unique_name('chunks')
        cls.s3.create_bucket(Bucket=cls.bucket)

    def test_multi_chunk_object(self):
        C = 64 * 1024
        data = os.urandom(5 * C + 123)
        before = set(self.server.chunk_files())
        self.s3.put_object(Bucket=self.bucket, Key='multi', Body=data)
        added = set(self.server.chunk_files()) - before
        want = {sha256_hex(data[i:i + C]) for i in range(0, len(data), C)}
        self.assertEqual({os.path.basename(f) for f in added}, want)
        for f in added:
            self.assertLessEqual(os.path.getsize(f), C)

        g = self.s3.get_object(Bucket=self.bucket, Key='multi')
        self.assertEqual(g['Body'].read(), data)
        for a, b in ((C - 10, C + 10), (0, C - 1), (C, 2 * C - 1),
                     (C - 1, 4 * C + 1), (5 * C, 5 * C + 122), (3, 5 * C + 5)):
            with self.subTest(range=(a, b)):
                g = self.s3.get_object(Bucket=self.bucket, Key='multi',
                                       Range='bytes=%d-%d' % (a, b))
                self.assertEqual(g['Body'].read(), data[a:b + 1])
        g = self.s3.get_object(Bucket=self.bucket, Key='multi',
                               Range='bytes=-%d' % (C + 5))
        self.assertEqual(g['Body'].read(), data[-(C + 5):])

    def test_repeated_chunks_inside_one_object(self):
        C = 64 * 1024
        block = os.urandom(C)
        data = block * 6 + b'end'
        before = set(self.server.chunk_files())
        self.s3.put_object(Bucket=self.bucket, Key='repeat', Body=data)
        added = {os.path.basename(f) for f in
                 set(self.server.chunk_files()) - before}
        self.assertEqual(added, {sha256_hex(block), sha256_hex(b'end')}
                         - {os.path.basename(f) for f in before})
        g = self.s3.get_object(Bucket=self.bucket, Key='repeat')
        self.assertEqual(g['Body'].read(), data)
        self.assertEqual(g['ETag'], '"%s"' % md5_hex(data))


if __name__ == '__main__':
    unittest.main()
