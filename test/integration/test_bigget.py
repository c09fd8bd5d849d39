"""Big GETs: the body goes out with sendfile on pool threads, in bounded
slices (http/conn.c). Multi-chunk objects with a small chunk_size, ranges
across chunk boundaries, a client that reads slowly, clients that reset
mid-download (no descriptor kept) and many downloads at once."""

import concurrent.futures
import hashlib
import os
import socket
import struct
import time
import unittest

from harness import (MiB, S3gwTestCase, SANITIZE, build_request, scaled)


def pattern(size, seed):
    """Bytes that differ at every offset, so a misplaced slice shows."""
    block = hashlib.sha256(b'%d' % seed).digest() * (MiB // 32)
    out = bytearray()
    i = 0
    while len(out) < size:
        out += bytes((b + i) & 0xff for b in block[:64]) + block[64:]
        i += 1
    return bytes(out[:size])


class BigGetTest(S3gwTestCase):
    # Chunks of 256 KiB: a few MiB cross many chunk files, and every
    # chunk file is several sendfile slices' worth only at the largest.
    conf = {'chunk_size': '256k', 'idle_timeout': '5s'}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.bucket = 'bigget'
        cls.s3.create_bucket(Bucket=cls.bucket)
        cls.size = scaled(24, 8) * MiB + 12345
        cls.body = pattern(cls.size, 1)
        cls.s3.put_object(Bucket=cls.bucket, Key='big', Body=cls.body)

    def get(self, headers=None):
        path = '/%s/big' % self.bucket
        return self.server.signed('GET', path, headers=headers, timeout=60)

    def open_fds(self):
        return len(os.listdir('/proc/%d/fd' % self.server.pid))

    def test_whole_object(self):
        r = self.get()
        self.assertEqual(r.status, 200)
        self.assertEqual(len(r.body), self.size)
        self.assertTrue(r.body == self.body, 'bytes differ')

    def test_ranges_across_chunks(self):
        K = 256 * 1024
        cases = [(K - 1, K), (K - 100, 3 * K + 100), (0, 5 * K - 1),
                 (7 * K + 3, self.size - 1), (self.size - 10, self.size - 1),
                 (3 * MiB - 1, 5 * MiB + 1)]
        for a, b in cases:
            r = self.get({'Range': 'bytes=%d-%d' % (a, b)})
            self.assertEqual(r.status, 206, (a, b))
            self.assertTrue(r.body == self.body[a:b + 1], (a, b))

    def test_slow_reader(self):
        # A tiny receive buffer and pauses: the socket buffer is full for
        # most of the download, so slices keep ending in EAGAIN.
        path = '/%s/big' % self.bucket
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
        s.settimeout(30)
        s.connect(('127.0.0.1', self.server.port))
        try:
            s.sendall(build_request('GET', path, self.server.sign('GET', path)))
            got = bytearray()
            want = None
            n = 0
            while want is None or len(got) < want:
                d = s.recv(65536)
                self.assertTrue(d, 'closed early')
                got += d
                if want is None and b'\r\n\r\n' in got:
                    head, _, rest = bytes(got).partition(b'\r\n\r\n')
                    self.assertIn(b' 200 ', head.split(b'\r\n')[0])
                    want = int([l for l in head.split(b'\r\n')
                                if l.lower().startswith(b'content-length')]
                               [0].split(b':')[1])
                    got = bytearray(rest)
                n += 1
                if n % 40 == 0 and len(got) < 2 * MiB:
                    time.sleep(0.2)
            self.assertTrue(bytes(got) == self.body, 'bytes differ')
        finally:
            s.close()

    def test_resets_mid_download_keep_no_descriptor(self):
        path = '/%s/big' % self.bucket
        req = build_request('GET', path, self.server.sign('GET', path))
        self.get({'Range': 'bytes=0-0'})
        before = self.open_fds()
        for i in range(scaled(40, 15)):
            c = self.server.conn(timeout=30)
            try:
                c.send(req)
                # Read a varying amount, then reset.
                left = (i % 5) * 300000 + 1
                while left > 0:
                    d = c.sock.recv(min(left, 65536))
                    if not d:
                        break
                    left -= len(d)
                c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                  struct.pack('ii', 1, 0))
            finally:
                c.close()
        # The server notices each reset at its next slice; then every
        # socket dup and chunk file it opened for them is closed.
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            r = self.get({'Range': 'bytes=0-0'})
            self.assertEqual(r.status, 206)
            if self.open_fds() <= before:
                break
            time.sleep(0.2)
        self.assertLessEqual(self.open_fds(), before, 'descriptors kept')
        r = self.get()
        self.assertTrue(r.body == self.body, 'bytes differ after resets')

    def test_many_concurrent_downloads(self):
        n = scaled(16, 6)

        def one(i):
            if i % 2:
                a = (i * 77777) % (self.size // 2)
                r = self.get({'Range': 'bytes=%d-' % a})
                return r.status == 206 and r.body == self.body[a:]
            r = self.get()
            return r.status == 200 and r.body == self.body
        with concurrent.futures.ThreadPoolExecutor(n) as ex:
            ok = list(ex.map(one, range(n)))
        self.assertEqual(ok, [True] * n)


if __name__ == '__main__':
    unittest.main()
