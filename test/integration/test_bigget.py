"""Big GETs: the body goes out with sendfile in bounded slices (http/conn.c),
on the loop when the slice's pages are in the page cache, else on pool
threads. Multi-chunk objects with a small chunk_size, ranges across chunk
boundaries, a client that reads slowly, a cached and a cold download on the
same connection (which thread sent what: s3gw_sendfile_bytes_total on the
status listener), a stalled reader of a cached object (the loop waits for
writability, it does not spin), clients that reset mid-download (no
descriptor kept) and many downloads at once."""

import concurrent.futures
import hashlib
import os
import re
import socket
import struct
import subprocess
import time
import unittest

import urllib.request

from harness import (MiB, S3gwTestCase, SANITIZE, build_request, free_port,
                     scaled)


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
    status_port = free_port()
    conf = {'chunk_size': '256k', 'idle_timeout': '5s',
            'status_listen': '127.0.0.1:%d' % status_port}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.bucket = 'bigget'
        cls.s3.create_bucket(Bucket=cls.bucket)
        cls.size = scaled(24, 8) * MiB + 12345
        cls.body = pattern(cls.size, 1)
        cls.s3.put_object(Bucket=cls.bucket, Key='big', Body=cls.body)
        # No two chunks alike (pattern's repeat within each MiB, so its
        # chunk files are shared): each chunk file is read once per GET.
        cls.rand = os.urandom(scaled(6, 3) * MiB + 4321)
        cls.s3.put_object(Bucket=cls.bucket, Key='rand', Body=cls.rand)

    def get(self, headers=None):
        path = '/%s/big' % self.bucket
        return self.server.signed('GET', path, headers=headers, timeout=60)

    def open_fds(self):
        return len(os.listdir('/proc/%d/fd' % self.server.pid))

    def sent_by(self):
        """{'loop': bytes, 'pool': bytes} sent with sendfile so far."""
        url = 'http://127.0.0.1:%d/metrics' % self.status_port
        text = urllib.request.urlopen(url, timeout=10).read().decode()
        return {m.group(1): int(m.group(2)) for m in re.finditer(
            r'^s3gw_sendfile_bytes_total\{thread="(\w+)"\} (\d+)$', text,
            re.M)}

    def moved(self, before, want=None):
        """What the counters moved by since before; with want, waits (up to
        10 s) for that: a pool slice's bytes can reach the client, which
        then scrapes, before its completion has run on the loop."""
        deadline = time.monotonic() + 10
        while True:
            after = self.sent_by()
            got = {k: after[k] - before[k] for k in after}
            if want is None or got == want or time.monotonic() > deadline:
                return got
            time.sleep(0.05)

    def quiet(self):
        """Waits (up to 10 s) until no download of an earlier test is still
        being sent: one running beside the next would send that one's
        cached slices on the pool (two at once), not on the loop."""
        deadline = time.monotonic() + 10
        last = self.sent_by()
        while time.monotonic() < deadline:
            time.sleep(0.3)
            now = self.sent_by()
            if now == last:
                return
            last = now

    def make_cold(self):
        """Evicts every chunk file from the page cache. Pages a socket
        still holds (sendfile lends them until the peer's ACK frees the
        data) are not dropped at once: evicts again until fincore(1) finds
        none resident, for up to 10 s."""
        paths = self.server.chunk_files()
        deadline = time.monotonic() + 10
        while True:
            for path in paths:
                fd = os.open(path, os.O_RDONLY)
                try:
                    os.fdatasync(fd)
                    os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
                finally:
                    os.close(fd)
            out = subprocess.run(['fincore', '-b', '-n', '-r', '-o', 'RES']
                                 + paths, capture_output=True, text=True)
            if out.returncode != 0 or time.monotonic() > deadline or not any(
                    int(x) for x in out.stdout.split()):
                return
            time.sleep(0.1)

    def cpu_seconds(self):
        """User + system time of the server process, all its threads."""
        with open('/proc/%d/stat' % self.server.pid) as f:
            fields = f.read().rsplit(')', 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')

    def test_whole_object(self):
        r = self.get()
        self.assertEqual(r.status, 200)
        self.assertEqual(len(r.body), self.size)
        self.assertTrue(r.body == self.body, 'bytes differ')

    def test_cached_from_the_loop_cold_from_the_pool(self):
        # One connection: the object just read is in the page cache, so
        # every slice goes out on the loop; evicted, every slice is read on
        # a pool thread (a range whose first slice was cold stays there).
        path = '/%s/rand' % self.bucket
        self.server.signed('GET', path, timeout=60)
        self.quiet()
        c = self.server.conn(timeout=60)
        try:
            for cold, where in ((False, 'loop'), (True, 'pool')):
                if cold:
                    self.make_cold()
                before = self.sent_by()
                c.request('GET', path, self.server.sign('GET', path))
                r = c.read_response()
                self.assertEqual(r.status, 200)
                self.assertTrue(r.body == self.rand, 'bytes differ')
                want = {'loop': 0, 'pool': 0}
                want[where] = len(self.rand)
                self.assertEqual(self.moved(before, want), want, where)
        finally:
            c.close()

    def test_stalled_reader_of_a_cached_object_does_not_spin(self):
        # The socket buffer fills at once; the loop must then wait for
        # writability (uv_poll), not retry sendfile: over a 2 s stall the
        # server uses next to no CPU.
        path = '/%s/big' % self.bucket
        self.get()
        self.quiet()
        before = self.sent_by()
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
        s.settimeout(30)
        s.connect(('127.0.0.1', self.server.port))
        try:
            s.sendall(build_request('GET', path, self.server.sign('GET', path)))
            got = bytearray(s.recv(65536))
            time.sleep(0.3)
            cpu0 = self.cpu_seconds()
            time.sleep(2)
            self.assertLess(self.cpu_seconds() - cpu0, 0.5,
                            'the server spins while the client stalls')
            while b'\r\n\r\n' not in got:
                got += s.recv(65536)
            head, _, rest = bytes(got).partition(b'\r\n\r\n')
            self.assertIn(b' 200 ', head.split(b'\r\n')[0])
            rest = bytearray(rest)
            while len(rest) < self.size:
                d = s.recv(1 << 20)
                self.assertTrue(d, 'closed early')
                rest += d
            self.assertTrue(bytes(rest) == self.body, 'bytes differ')
        finally:
            s.close()
        want = {'loop': self.size, 'pool': 0}
        self.assertEqual(self.moved(before, want), want)

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
        self.get()          # cached: the resets happen on the loop path
        before = self.open_fds()
        sent0 = self.sent_by()
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
        # Resets reached the loop path (a download that starts while a
        # reset one has not yet noticed its reset goes to the pool, as two
        # downloads at once do: so some may have been sent there too).
        self.assertGreater(self.moved(sent0)['loop'], 0)
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
        self.get()
        before = self.sent_by()
        with concurrent.futures.ThreadPoolExecutor(n) as ex:
            ok = list(ex.map(one, range(n)))
        self.assertEqual(ok, [True] * n)
        # Cached, but several at once: the pool sends them on every core.
        self.assertGreater(self.moved(before)['pool'], 0)


class ColdBigChunkTest(S3gwTestCase):
    # Chunk files of several slices: the readahead of a cold slice makes
    # the next pages resident while the disk still works; the rest of that
    # chunk file must stay on the pool all the same, and the pool threads
    # that sent it run at a lower priority than the loop.
    shared_server = False

    def test_cold_chunk_file_stays_on_the_pool(self):
        port = free_port()
        srv = self.start_server(conf={
            'chunk_size': '8m', 'status_listen': '127.0.0.1:%d' % port})
        body = os.urandom(scaled(24, 16) * MiB)
        self.assertEqual(srv.signed('PUT', '/cold').status, 200)
        self.assertEqual(srv.signed('PUT', '/cold/o', body=body,
                                    timeout=60).status, 200)
        t = BigGetTest('sent_by')
        t.status_port, t.server = port, srv
        t.make_cold()
        before = t.sent_by()
        r = srv.signed('GET', '/cold/o', timeout=60)
        self.assertEqual(r.status, 200)
        self.assertTrue(r.body == body, 'bytes differ')
        want = {'loop': 0, 'pool': len(body)}
        self.assertEqual(t.moved(before, want), want)
        # The threads that sent cold slices (named s3gw-cold-io) yield to
        # the loop (nice 10); every other thread keeps its priority: the
        # loop, and libuv's pool, which also hashes and writes uploads (a
        # 24 MiB PUT now must run on threads at nice 0).
        def threads():
            out = {}
            for tid in os.listdir('/proc/%d/task' % srv.pid):
                with open('/proc/%d/task/%s/stat' % (srv.pid, tid)) as f:
                    stat = f.read()
                name = stat[stat.index('(') + 1:stat.rindex(')')]
                f = stat.rsplit(')', 1)[1].split()
                out[(int(tid), name)] = (int(f[16]), int(f[11]) + int(f[12]))
            return out
        t0 = threads()
        for i in range(3):
            self.assertEqual(srv.signed('PUT', '/cold/p%d' % i,
                                        body=body[i * MiB:],
                                        timeout=60).status, 200)
        t1 = threads()
        nice = {k: v[0] for k, v in t1.items()}
        busy = {k: v[0] for k, v in t1.items()
                if v[1] > t0.get(k, (0, 0))[1]}
        # Whatever worked for the uploads worked at nice 0.
        self.assertEqual(set(busy.values()), {0}, (busy, nice))
        cold = {k: v for k, v in nice.items() if k[1] == 's3gw-cold-io'}
        rest = {k: v for k, v in nice.items() if k[1] != 's3gw-cold-io'}
        self.assertTrue(cold, nice)
        self.assertEqual(set(cold.values()), {10}, nice)
        self.assertEqual(set(rest.values()), {0}, nice)
        self.assertGreater(len(rest), 2, nice)


if __name__ == '__main__':
    unittest.main()
