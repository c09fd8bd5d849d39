"""HTTP/1.1 over raw sockets: keep-alive and pipelining, Expect:
100-continue, chunked request bodies, header and URL limits, slow and
malformed clients. After any abuse the server must go on serving."""

import hashlib
import os
import socket
import struct
import time
import unittest

from harness import (MiB, S3gwTestCase, SANITIZE, build_request, etag_of,
                     figure, s3_quote, scaled, sha256_hex, unique_name)


class HttpTest(S3gwTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.bucket = unique_name('http')
        cls.s3.create_bucket(Bucket=cls.bucket)
        cls.s3.put_object(Bucket=cls.bucket, Key='one', Body=b'first object')
        cls.s3.put_object(Bucket=cls.bucket, Key='two', Body=b'second' * 5000)

    def path(self, key):
        return '/%s/%s' % (self.bucket, s3_quote(key))

    def signed_bytes(self, method, key, body=None, headers=None, **kw):
        """A whole signed request as bytes (path-style, this bucket)."""
        path = self.path(key) if key is not None else '/' + self.bucket
        hdrs = self.server.sign(method, path, headers, body or b'', **kw)
        return build_request(method, path, hdrs, body)

    def assertServing(self):
        """A fresh connection still gets a correct answer."""
        r = self.server.signed('GET', self.path('one'))
        self.assertEqual((r.status, r.body), (200, b'first object'))

    # --- Keep-alive and pipelining ---------------------------------------

    def test_keep_alive(self):
        with self.server.conn() as c:
            for i in range(5):
                c.send(self.signed_bytes('PUT', 'ka%d' % i, b'v%d' % i))
                r = c.read_response('PUT')
                self.assertEqual(r.status, 200, r)
                c.send(self.signed_bytes('GET', 'ka%d' % i))
                r = c.read_response()
                self.assertEqual((r.status, r.body), (200, b'v%d' % i))
                self.assertNotEqual((r.header('Connection') or '').lower(),
                                    'close')
            # An error answer does not end the connection either.
            c.send(self.signed_bytes('GET', 'missing'))
            self.assertEqual(c.read_response().code, 'NoSuchKey')
            c.send(self.signed_bytes('HEAD', 'one'))
            r = c.read_response('HEAD')
            self.assertEqual((r.status, r.header('Content-Length')),
                             (200, '12'))
            c.send(self.signed_bytes('GET', 'one'))
            self.assertEqual(c.read_response().body, b'first object')

    def test_pipelining(self):
        new = os.urandom(20000)
        batch = (self.signed_bytes('GET', 'one') +
                 self.signed_bytes('HEAD', 'two') +
                 self.signed_bytes('GET', 'two') +
                 self.signed_bytes('PUT', 'piped', new) +
                 self.signed_bytes('GET', 'piped') +
                 self.signed_bytes('GET', 'missing') +
                 self.signed_bytes('HEAD', 'missing') +      # no body
                 self.signed_bytes('HEAD', 'one', headers={
                     'If-None-Match': etag_of(b'first object')}) +
                 self.signed_bytes('DELETE', 'piped') +
                 self.signed_bytes('GET', 'piped'))
        with self.server.conn() as c:
            c.send(batch)
            r = c.read_response()
            self.assertEqual((r.status, r.body), (200, b'first object'))
            r = c.read_response('HEAD')
            self.assertEqual((r.status, r.body, r.header('Content-Length')),
                             (200, b'', '30000'))
            r = c.read_response()
            self.assertEqual((r.status, r.body), (200, b'second' * 5000))
            r = c.read_response('PUT')
            self.assertEqual((r.status, r.header('ETag')), (200, etag_of(new)))
            r = c.read_response()
            self.assertEqual((r.status, r.body), (200, new))
            self.assertEqual(c.read_response().code, 'NoSuchKey')
            self.assertEqual(c.read_response('HEAD').status, 404)
            self.assertEqual(c.read_response('HEAD').status, 304)
            self.assertEqual(c.read_response('DELETE').status, 204)
            self.assertEqual(c.read_response().code, 'NoSuchKey')

    def test_two_requests_in_one_send(self):
        with self.server.conn() as c:
            c.send(self.signed_bytes('GET', 'one') +
                   self.signed_bytes('GET', 'one'))
            for _ in range(2):
                r = c.read_response()
                self.assertEqual((r.status, r.body), (200, b'first object'))

    def test_request_in_tiny_pieces(self):
        data = self.signed_bytes('PUT', 'tiny-pieces', b'x' * 300)
        with self.server.conn() as c:
            for i in range(len(data)):
                c.send(data[i:i + 1])
            r = c.read_response('PUT')
            self.assertEqual(r.status, 200, r)
        self.assertEqual(self.s3.get_object(Bucket=self.bucket,
                                            Key='tiny-pieces')['Body'].read(),
                         b'x' * 300)

    def test_connection_close(self):
        with self.server.conn() as c:
            c.send(self.signed_bytes('GET', 'one',
                                     headers={'Connection': 'close'}))
            r = c.read_response()
            self.assertEqual((r.status, r.body), (200, b'first object'))
            self.assertTrue(c.closed_by_peer(5))

    def test_http_1_0(self):
        path = self.path('one')
        hdrs = self.server.sign('GET', path)
        with self.server.conn() as c:
            c.send(build_request('GET', path, hdrs, version='HTTP/1.0'))
            r = c.read_response()
            self.assertEqual((r.status, r.body), (200, b'first object'))
            self.assertTrue(c.closed_by_peer(5))

    # --- Expect: 100-continue ----------------------------------------------

    def test_expect_continue(self):
        body = os.urandom(100000)
        path = self.path('expect')
        hdrs = self.server.sign('PUT', path, {'Expect': '100-continue'}, body)
        hdrs.append(('Content-Length', str(len(body))))
        with self.server.conn() as c:
            c.send(build_request('PUT', path, hdrs))
            r = c.read_response()
            self.assertEqual(r.status, 100, r)
            c.send(body)
            r = c.read_response('PUT')
            self.assertEqual((r.status, r.header('ETag')),
                             (200, etag_of(body)))
            # The connection stays usable.
            c.send(self.signed_bytes('GET', 'expect'))
            self.assertEqual(c.read_response().body, body)

    def test_expect_continue_bad_auth(self):
        body = os.urandom(100000)
        path = self.path('expect-denied')
        hdrs = self.server.sign('PUT', path, {'Expect': '100-continue'}, body,
                                access_key='AKADMIN', secret_key='WRONG')
        hdrs.append(('Content-Length', str(len(body))))
        with self.server.conn(timeout=5) as c:
            c.send(build_request('PUT', path, hdrs))
            r = c.read_response()
            self.assertRawError(r, 403, 'SignatureDoesNotMatch')
        # Unknown key and anonymous: no 100 either.
        for extra in ({'access_key': 'AKNOBODY', 'secret_key': 'x'}, None):
            with self.server.conn(timeout=5) as c:
                if extra:
                    hdrs = self.server.sign('PUT', path,
                                            {'Expect': '100-continue'}, body,
                                            **extra)
                else:
                    hdrs = [('Expect', '100-continue')]
                hdrs.append(('Content-Length', str(len(body))))
                c.send(build_request('PUT', path, hdrs, host=c.host))
                r = c.read_response()
                self.assertEqual(r.status, 403, r)
        self.assertServing()
        r = self.server.signed('HEAD', path)
        self.assertEqual(r.status, 404)

    def expect_then_final(self, c):
        """Reads the answer to an Expect: 100-continue request whose body
        was sent with its headers, as botocore sends a bytes body.

        botocore takes a final status that comes before any 100 as an early
        answer and keeps using that status line for later responses on the
        same connection (awsrequest.AWSConnection.response_class), so a
        server must either send 100 first or close the connection after
        such an answer. Returns the final response and whether the
        connection stays open."""
        r = c.read_response('PUT')
        if r.status == 100:
            return c.read_response('PUT'), True
        self.assertTrue(c.closed_by_peer(5),
                        'final answer to Expect: 100-continue without a 100 '
                        'on a kept-alive connection breaks botocore')
        return r, False

    def test_expect_continue_body_sent_anyway(self):
        # botocore (and curl after a second) send the body without waiting
        # for the 100; the server must cope with the body arriving unasked.
        body = b'eager body' * 100
        path = self.path('expect-eager')
        hdrs = self.server.sign('PUT', path, {'Expect': '100-continue'}, body)
        with self.server.conn() as c:
            c.send(build_request('PUT', path, hdrs, body))
            r, open_ = self.expect_then_final(c)
            self.assertEqual(r.status, 200, r)
            if open_:
                c.send(self.signed_bytes('GET', 'expect-eager'))
                self.assertEqual(c.read_response().body, body)
        self.assertEqual(self.s3.get_object(Bucket=self.bucket,
                                            Key='expect-eager')
                         ['Body'].read(), body)

    def test_expect_continue_empty_body(self):
        # boto3 sends Expect: 100-continue even for an empty body.
        path = self.path('expect-empty')
        hdrs = self.server.sign('PUT', path, {'Expect': '100-continue'}, b'')
        with self.server.conn() as c:
            c.send(build_request('PUT', path, hdrs, b''))
            r, open_ = self.expect_then_final(c)
            self.assertEqual((r.status, r.header('ETag')),
                             (200, etag_of(b'')), r)
            if open_:
                c.send(self.signed_bytes('GET', 'expect-empty'))
                r = c.read_response()
                self.assertEqual((r.status, r.body), (200, b''))

    def test_boto3_put_after_put_on_one_connection(self):
        # The end-to-end form of the two tests above: sizes that make the
        # server answer at once (empty) or later, one pooled connection.
        # PUTs back to back: a request without Expect in between would hide
        # the problem (it resets botocore's response class).
        # A short read timeout: the broken case otherwise waits for the
        # server's idle timeout (botocore reads a body of unknown length).
        s3 = self.server.boto3_client(max_pool_connections=1, read_timeout=10)
        datas = (b'', b'x' * 10, b'', b'', os.urandom(5000), b'y')
        for i, data in enumerate(datas):
            with self.subTest(i=i, size=len(data)):
                r = s3.put_object(Bucket=self.bucket, Key='seq/%d' % i,
                                  Body=data)
                self.assertEqual(r.get('ETag'), etag_of(data),
                                 r['ResponseMetadata'])
        for i, data in enumerate(datas):
            g = s3.get_object(Bucket=self.bucket, Key='seq/%d' % i)
            self.assertEqual(g['Body'].read(), data)

    # --- Chunked request bodies ------------------------------------------------

    def chunked(self, data, sizes):
        out, i, n = b'', 0, 0
        while i < len(data):
            step = sizes[n % len(sizes)]
            piece = data[i:i + step]
            ext = b';ext=1' if n == 1 else b''
            out += b'%x%s\r\n%s\r\n' % (len(piece), ext, piece)
            i += step
            n += 1
        return out + b'0\r\n\r\n'

    def test_chunked_upload(self):
        for size, payload_hash in ((0, None), (1, None), (70000, None),
                                   (5 * 1024 * 1024 + 3, None),
                                   (12345, 'UNSIGNED-PAYLOAD')):
            with self.subTest(size=size, payload_hash=payload_hash):
                data = os.urandom(size)
                key = 'chunked/%d' % size
                path = self.path(key)
                hdrs = self.server.sign('PUT', path, body=data,
                                        payload_hash=payload_hash)
                hdrs.append(('Transfer-Encoding', 'chunked'))
                body = self.chunked(data, [1000, 1, 65536, 333])
                with self.server.conn(timeout=60) as c:
                    c.send(build_request('PUT', path, hdrs, body))
                    r = c.read_response('PUT')
                    self.assertEqual((r.status, r.header('ETag')),
                                     (200, etag_of(data)), r)
                    c.send(self.signed_bytes('GET', key))
                    g = c.read_response()
                    self.assertEqual(hashlib.sha256(g.body).hexdigest(),
                                     sha256_hex(data))

    def test_chunked_upload_with_trailer_and_bad_hash(self):
        data = b'z' * 5000
        path = self.path('chunked-bad')
        hdrs = self.server.sign('PUT', path, body=data,
                                payload_hash=sha256_hex(b'other'))
        hdrs.append(('Transfer-Encoding', 'chunked'))
        r = self.server.http('PUT', path, hdrs, self.chunked(data, [4096]))
        self.assertRawError(r, 400, 'XAmzContentSHA256Mismatch')
        self.assertEqual(self.server.signed('HEAD', path).status, 404)

    def test_malformed_chunked_body(self):
        path = self.path('chunked-malformed')
        for body in (b'zz\r\nabc\r\n0\r\n\r\n', b'5\r\nabc\r\n0\r\n\r\n',
                     b'3\r\nabcXY0\r\n\r\n', b'-1\r\n\r\n'):
            with self.subTest(body=body):
                hdrs = self.server.sign('PUT', path,
                                        payload_hash='UNSIGNED-PAYLOAD')
                hdrs.append(('Transfer-Encoding', 'chunked'))
                with self.server.conn(timeout=5) as c:
                    c.send(build_request('PUT', path, hdrs, body))
                    c.sock.shutdown(1)
                    try:
                        r = c.read_response('PUT')
                        self.assertEqual(r.status, 400, r)
                    except ConnectionError:
                        pass        # closing without an answer is fine too
        self.assertEqual(self.server.signed('HEAD', path).status, 404)
        self.assertServing()

    def test_transfer_coding_other_than_chunked(self):
        # Only chunked is decoded: any other coding, or a list that ends in
        # chunked, is NotImplemented, never a body read as plain chunked.
        path = self.path('coded')
        body = self.chunked(b'hello world', [5])
        for te in (['gzip, chunked'], ['deflate,chunked'], ['identity'],
                   ['gzip'], ['chunked, gzip'], ['chunked, chunked'],
                   ['chunked;q=1'], ['gzip', 'chunked'], ['']):
            with self.subTest(te=te):
                hdrs = self.server.sign('PUT', path,
                                        payload_hash='UNSIGNED-PAYLOAD')
                hdrs += [('Transfer-Encoding', v) for v in te]
                with self.server.conn(timeout=10) as c:
                    c.send(build_request('PUT', path, hdrs, body))
                    r = c.read_response('PUT')
                    self.assertRawError(r, 501, 'NotImplemented')
                    self.assertEqual(r.xml().findtext('Message'),
                                     'A header you provided implies '
                                     'functionality that is not '
                                     'implemented.')
                    self.assertTrue(c.closed_by_peer(5))
        self.assertEqual(self.server.signed('HEAD', path).status, 404)
        # Exactly chunked, in any case, still works.
        hdrs = self.server.sign('PUT', path, body=b'hello world',
                                payload_hash='UNSIGNED-PAYLOAD')
        hdrs.append(('Transfer-Encoding', 'Chunked'))
        r = self.server.http('PUT', path, hdrs, body)
        self.assertEqual((r.status, r.header('ETag')),
                         (200, etag_of(b'hello world')), r)
        self.assertServing()

    # --- Limits ------------------------------------------------------------

    def test_too_many_headers(self):
        hdrs = [('X-Filler-%d' % i, 'v') for i in range(150)]
        r = self.server.http('GET', self.path('one'), hdrs)
        self.assertEqual(r.status, 400, r)
        self.assertTrue(r.code, r)
        self.assertServing()
        # Just under the limit is fine (the request then fails auth only).
        hdrs = self.server.sign('GET', self.path('one'),
                                [('X-Filler-%d' % i, 'v') for i in range(80)])
        r = self.server.http('GET', self.path('one'), hdrs)
        self.assertEqual((r.status, r.body), (200, b'first object'))

    def test_header_too_big(self):
        for hdrs in ([('X-Big', 'a' * 20000)],
                     [('X-Part-%d' % i, 'b' * 500) for i in range(40)],
                     [('X-' + 'n' * 17000, 'v')]):
            with self.subTest(shape=(len(hdrs), len(hdrs[0][1]))):
                r = self.server.http('GET', self.path('one'), hdrs)
                self.assertEqual(r.status, 400, r)
                self.assertTrue(r.code, r)
        self.assertServing()

    def test_url_too_long(self):
        for target in ('/%s/%s' % (self.bucket, 'a' * 9000),
                       '/%s?prefix=%s' % (self.bucket, 'p' * 9000)):
            with self.subTest(length=len(target)):
                with self.server.conn() as c:
                    c.send(build_request('GET', target, host=c.host))
                    r = c.read_response()
                    self.assertIn(r.status, (400, 414), r)
        self.assertServing()

    # --- Malformed requests -------------------------------------------------

    GARBAGE = [
        b'GARBAGE\r\n\r\n',
        b'GET\r\n\r\n',
        b'\x00\x01\x02\x03\x04\r\n\r\n',
        b'\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03' + b'\x00' * 40,
        b'G\xffT / HTTP/1.1\r\nHost: x\r\n\r\n',
        b'GET / FOO/1.1\r\nHost: x\r\n\r\n',
        b'GET /\x01\x02 HTTP/1.1\r\nHost: x\r\n\r\n',
        b'GET / HTTP/1.1\r\nHost x\r\n\r\n',
        b'GET / HTTP/1.1\r\nHo st: x\r\n\r\n',
        b'GET / HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n',
        b'GET / HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n',
        b'PUT /b/k HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n'
        b'Content-Length: 2\r\n\r\nab',
        b'PUT /b/k HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n'
        b'Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
        b'GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999'
        b'\r\n\r\n',
    ]

    def test_garbage_requests(self):
        for data in self.GARBAGE:
            with self.subTest(data=data[:40]):
                with self.server.conn(timeout=5) as c:
                    c.send(data)
                    r = c.read_response()
                    self.assertEqual(r.status, 400, r)
                    if r.body:
                        self.assertTrue(r.code, r)
                        self.assertTrue(r.header('x-amz-request-id'),
                                        r.raw_head)
                    # A parse error ends the connection.
                    self.assertTrue(c.closed_by_peer(5))
                self.assertServing()

    def test_unsupported_http_version(self):
        with self.server.conn(timeout=5) as c:
            c.send(b'GET / HTTP/9.9\r\nHost: x\r\n\r\n')
            r = c.read_response()
            self.assertIn(r.status, (400, 505), r)
        self.assertServing()

    def test_garbage_after_good_request(self):
        with self.server.conn(timeout=5) as c:
            c.send(self.signed_bytes('GET', 'one') + b'NOT HTTP AT ALL\r\n\r\n')
            r = c.read_response()
            self.assertEqual((r.status, r.body), (200, b'first object'))
            r = c.read_response()
            self.assertEqual(r.status, 400, r)
            self.assertTrue(c.closed_by_peer(5))
        self.assertServing()

    def test_client_disconnects_mid_body(self):
        body = os.urandom(3 * 1024 * 1024)
        path = self.path('half')
        hdrs = self.server.sign('PUT', path, body=body)
        req = build_request('PUT', path, hdrs, body)
        head_len = len(req) - len(body)
        for cut in (0, 1000, len(body) // 2, len(body) - 1):
            with self.subTest(cut=cut):
                c = self.server.conn()
                c.send(req[:head_len + cut])
                c.close()
        # Give the server a moment to notice, then check all is well.
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            r = self.server.signed('HEAD', path)
            self.assertEqual(r.status, 404, r)
            if not self.server.tmp_files():
                break
            time.sleep(0.1)
        self.assertEqual(self.server.tmp_files(), [])
        self.assertServing()

    def test_many_idle_connections(self):
        conns = [self.server.conn() for _ in range(200)]
        try:
            for c in conns[::20]:
                c.send(b'GET /')        # a request started but not finished
            self.assertServing()
        finally:
            for c in conns:
                c.close()
        self.assertServing()


class LingerTest(S3gwTestCase):

    def test_early_answer_reaches_a_client_still_sending(self):
        """An upload refused before its body is in (anonymous PUT: 403)
        gets its answer even though the client goes on sending 64 MiB:
        the server reads and drops the rest (a lingering close, as nginx)
        instead of hanging up with bytes unread, which makes the kernel
        reset the connection and the client never sees the 403."""
        size = 64 * MiB
        bucket = self.new_bucket()
        with socket.create_connection(('127.0.0.1', self.server.port),
                                      timeout=30) as s:
            s.sendall(('PUT /%s/big HTTP/1.1\r\nHost: %s\r\n'
                       'Content-Length: %d\r\n\r\n'
                       % (bucket, self.server.host, size)).encode())
            block = b'x' * MiB
            for _ in range(size // MiB):
                s.sendall(block)          # raises on a reset
            reply = b''
            while b'\r\n\r\n' not in reply:
                got = s.recv(65536)
                self.assertTrue(got, reply)
                reply += got
        self.assertTrue(reply.startswith(b'HTTP/1.1 403 '), reply[:200])
        self.assertIn(b'Connection: close', reply)


class TimeoutTest(S3gwTestCase):
    """header_timeout 2s, idle_timeout 3s: slow and silent clients are
    disconnected, and nobody else waits for them."""

    conf = {'header_timeout': '2s', 'idle_timeout': '3s'}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.bucket = unique_name('timeout')
        cls.s3.create_bucket(Bucket=cls.bucket)
        cls.s3.put_object(Bucket=cls.bucket, Key='k', Body=b'ok')

    def quick_get(self):
        t0 = time.monotonic()
        r = self.server.signed('GET', '/%s/k' % self.bucket)
        self.assertEqual((r.status, r.body), (200, b'ok'))
        return time.monotonic() - t0

    def test_slowloris(self):
        t0 = time.monotonic()
        with self.server.conn(timeout=10) as c:
            c.send(b'GET /%s/k HTTP/1.1\r\n' % self.bucket.encode())
            closed_at = None
            for i in range(40):                  # 10 s at most
                try:
                    c.send(b'X-Slow-%d: 1\r\n' % i)
                except (BrokenPipeError, ConnectionResetError):
                    closed_at = time.monotonic() - t0
                    break
                if i == 2:
                    # Others are served while this client dribbles.
                    self.assertLess(self.quick_get(), 1.0)
                if c.closed_by_peer(0.25):
                    closed_at = time.monotonic() - t0
                    break
            self.assertIsNotNone(closed_at, 'slow client never disconnected')
            self.assertGreater(closed_at, 1.5)
            self.assertLess(closed_at, 5.0)
            if c.buf:
                # A 408 (or 400) before closing is allowed, nothing else.
                self.assertRegex(bytes(c.buf[:13]), rb'^HTTP/1\.1 40[08]')
        self.quick_get()

    def test_slow_body_is_not_cut_by_header_timeout(self):
        # header_timeout is for headers: a body that keeps flowing is fine.
        body = b'b' * 40
        path = '/%s/slowbody' % self.bucket
        hdrs = self.server.sign('PUT', path, body=body)
        hdrs.append(('Content-Length', str(len(body))))
        with self.server.conn(timeout=15) as c:
            c.send(build_request('PUT', path, hdrs))
            for i in range(0, len(body), 4):     # 10 pieces over ~3 s
                time.sleep(0.3)
                c.send(body[i:i + 4])
            r = c.read_response('PUT')
            self.assertEqual(r.status, 200, r)

    def test_silent_connection_closed(self):
        t0 = time.monotonic()
        with self.server.conn(timeout=10) as c:
            self.assertTrue(c.closed_by_peer(8), 'silent client kept')
            self.assertLess(time.monotonic() - t0, 6.5)

    def test_idle_keep_alive_closed(self):
        with self.server.conn(timeout=10) as c:
            path = '/%s/k' % self.bucket
            c.send(build_request('GET', path, self.server.sign('GET', path)))
            self.assertEqual(c.read_response().body, b'ok')
            t0 = time.monotonic()
            self.assertTrue(c.closed_by_peer(8), 'idle connection kept')
            self.assertGreater(time.monotonic() - t0, 1.5)
            self.assertLess(time.monotonic() - t0, 6.5)
        self.quick_get()

    def test_many_slow_clients(self):
        conns = []
        try:
            for i in range(50):
                c = self.server.conn(timeout=10)
                c.send(b'GET / HTTP/1.1\r\nX-a: ')
                conns.append(c)
            self.assertLess(self.quick_get(), 1.0)
            deadline = time.monotonic() + 8
            for c in conns:
                self.assertTrue(c.closed_by_peer(
                    max(0.1, deadline - time.monotonic())))
        finally:
            for c in conns:
                c.close()
        self.quick_get()


class ResetTest(S3gwTestCase):
    """Clients that reset (RST) the connection while a GET body is going
    out with sendfile: the server lets go of the request every time."""

    shared_server = False

    def reset_during_get(self, srv, req, ping):
        c = srv.conn()
        try:
            c.send(req)
            self.assertEqual(c.read_response('HEAD').status, 200)
            # The client reads no further, so the server sends what the
            # socket buffers take and then waits for writability. The
            # server runs one loop: once two requests on another
            # connection have been answered, it is waiting.
            for _ in range(2):
                ping.request('GET', '/')
                self.assertEqual(ping.read_response().status, 403)
            c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                              struct.pack('ii', 1, 0))
        finally:
            c.close()

    def test_resets_during_sendfile_release_the_request(self):
        # Each reset used to keep the request (its pool, about 20 KB)
        # for good: the hold taken for sendfile was never released when
        # the wait for writability ended in an error. On the ASan build
        # LeakSanitizer reports it when the server stops.
        srv = self.start_server()
        s3 = srv.boto3_client()
        s3.create_bucket(Bucket='resets')
        size = 8 * MiB
        s3.put_object(Bucket='resets', Key='big', Body=os.urandom(size))
        path = '/resets/big'
        req = build_request('GET', path, srv.sign('GET', path))
        ping = srv.conn()
        self.addCleanup(ping.close)
        for _ in range(50):             # warm up the allocator
            self.reset_during_get(srv, req, ping)
        before = srv.rss_kib()['VmRSS']
        n = scaled(1000, 100)
        for _ in range(n):
            self.reset_during_get(srv, req, ping)
        # The server is still serving, and notices the last resets.
        r = srv.signed('GET', '/resets/big', timeout=30)
        self.assertEqual((r.status, len(r.body)), (200, size))
        grown = srv.rss_kib()['VmRSS'] - before
        figure('RSS growth over %d resets of an 8 MiB GET: %d KiB'
               % (n, grown))
        if not SANITIZE:
            self.assertLess(grown, n * 20 // 4,
                            'the server keeps about %d bytes per reset'
                            % (grown * 1024 // n))
        # A reset is a reset: the wait for writability used to report it
        # as EBADF, libuv's word for any poll error.
        self.assertFalse('bad file descriptor' in srv.stderr_text(),
                         'a reset was logged as "bad file descriptor"')

    def test_stalled_download_timed_out_lets_go(self):
        # A client that stops reading a GET is cut off by idle_timeout
        # while sendfile waits for writability; that wait used to be
        # forgotten with the poll handle, keeping the request, its object
        # record and the open chunk file.
        srv = self.start_server(conf={'idle_timeout': '1s'})
        s3 = srv.boto3_client()
        s3.create_bucket(Bucket='stalled')
        s3.put_object(Bucket='stalled', Key='big', Body=os.urandom(8 * MiB))
        path = '/stalled/big'
        req = build_request('GET', path, srv.sign('GET', path))
        conns = []
        try:
            for _ in range(10):
                c = srv.conn(timeout=30)
                c.send(req)
                self.assertEqual(c.read_response('HEAD').status, 200)
                conns.append(c)
            for c in conns:
                self.assertTrue(c.closed_by_peer(30), 'stalled GET kept')
        finally:
            for c in conns:
                c.close()
        r = srv.signed('GET', '/')          # the closes are all done
        self.assertEqual(r.status, 200)
        self.assertEqual(self.open_chunk_files(srv), [],
                         'chunk files left open')

    @staticmethod
    def open_chunk_files(srv):
        """The chunk files (not the chunk directories) the server has open."""
        fd_dir = '/proc/%d/fd' % srv.pid
        chunks = os.path.join(os.path.realpath(srv.data_dir), 'chunks')
        out = []
        for fd in os.listdir(fd_dir):
            try:
                target = os.readlink(os.path.join(fd_dir, fd))
            except OSError:
                continue                # closed meanwhile
            if target.startswith(chunks + '/') and os.path.isfile(target):
                out.append(target)
        return out


if __name__ == '__main__':
    unittest.main()
