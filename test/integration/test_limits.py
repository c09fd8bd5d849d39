"""Limits that keep one client from starving the others: connections per
client address, how long a request body may stall, and the memory that
slow uploads hold. Each class runs a server with limits of its own."""

import os
import re
import resource
import signal
import time
import unittest

from harness import (MiB, SANITIZE, S3gwTestCase, build_request, etag_of,
                     figure, unique_name)
from test_workers import server_pid_of, worker_pids


class ConnLimitTest(S3gwTestCase):
    """limit_conn_per_ip 4 under max_connections 24: one address holding
    more idle connections than the whole server allows does not lock out
    another address."""

    LIMIT = 4
    GRACE = 8               # HTTP_LIMIT_GRACE: over the limit, answered 503
    conf = {'max_connections': '24', 'limit_conn_per_ip': str(LIMIT)}

    def get_root(self, c):
        c.send(build_request('GET', '/', self.server.sign('GET', '/'),
                             host=self.server.host))
        return c.read_response()

    def wait_for_log(self, pattern, timeout=10):
        """The server's stderr once pattern is in it (a wait, not a timing
        check: the server logs when it has seen the connections close)."""
        deadline = time.monotonic() + timeout
        while True:
            text = self.server.stderr_text()
            if re.search(pattern, text) or time.monotonic() > deadline:
                return text
            time.sleep(0.05)

    def test_one_address_cannot_take_every_connection(self):
        hog = []
        try:
            # More than max_connections, all idle, from 127.0.0.2.
            for _ in range(30):
                hog.append(self.server.conn(timeout=10, source='127.0.0.2'))
            # Another address is served; the server accepts in order, so
            # every hog connection has been counted by now.
            with self.server.conn(source='127.0.0.3') as c:
                self.assertEqual(self.get_root(c).status, 200)
                self.assertEqual(self.get_root(c).status, 200)
            # The hog's first LIMIT connections are served as usual.
            self.assertEqual(self.get_root(hog[0]).status, 200)
            # The next ones get S3's SlowDown, and are then closed.
            r = self.get_root(hog[self.LIMIT])
            self.assertRawError(r, 503, 'SlowDown')
            self.assertTrue(hog[self.LIMIT].closed_by_peer(10))
            # Past those, connections are closed as soon as accepted.
            for c in hog[self.LIMIT + self.GRACE:]:
                self.assertTrue(c.closed_by_peer(10), 'kept over the limit')
        finally:
            for c in hog:
                c.close()
        # One warning for the whole episode, and one notice at its end.
        text = self.wait_for_log(r'127\.0\.0\.2: no connections left')
        self.assertEqual(len(re.findall(r'\[warn\] 127\.0\.0\.2: .*'
                                        r'limit_conn_per_ip reached', text)),
                         1, text)
        self.assertRegex(text, r'\[notice\] 127\.0\.0\.2: no connections left'
                               r' open; 26 were refused')
        # The address is welcome again once its connections are gone.
        with self.server.conn(source='127.0.0.2') as c:
            self.assertEqual(self.get_root(c).status, 200)

    def test_limit_is_per_address(self):
        conns = []
        try:
            for src in ('127.0.0.4', '127.0.0.5', '127.0.0.6'):
                for _ in range(self.LIMIT):
                    conns.append(self.server.conn(source=src))
            for c in conns:
                self.assertEqual(self.get_root(c).status, 200)
        finally:
            for c in conns:
                c.close()


class ConnLimitWorkersTest(S3gwTestCase):
    """worker_processes 2: limit_conn_per_ip counts an address's
    connections in every worker (nginx's limit_conn zone is shared
    memory), not per worker, which let an address have twice its limit
    open; and a worker killed with connections open gives them back."""

    shared_server = False
    LIMIT = 4
    GRACE = 8               # HTTP_LIMIT_GRACE

    def workers_server(self):
        srv = self.start_server(conf={
            'worker_processes': '2', 'max_connections': '24',
            'limit_conn_per_ip': str(self.LIMIT)})
        deadline = time.monotonic() + 20
        while (len(worker_pids(srv)) < 2
               or len(re.findall(r'worker \d+ ready', srv.stderr_text())) < 2):
            self.assertLess(time.monotonic(), deadline, srv.log_tail())
            time.sleep(0.05)
        return srv

    def get_root(self, srv, c):
        c.send(build_request('GET', '/', srv.sign('GET', '/'),
                             host=srv.host))
        return c.read_response()

    def wait_log(self, srv, pattern, timeout=10):
        deadline = time.monotonic() + timeout
        while True:
            text = srv.stderr_text()
            if re.search(pattern, text) or time.monotonic() > deadline:
                return text
            time.sleep(0.05)

    def test_limit_counts_every_worker(self):
        srv = self.workers_server()
        src = '127.0.0.7'
        served, grace, past = [], [], []
        pids = set()
        try:
            # LIMIT served, one after the other, wherever they land.
            for _ in range(self.LIMIT):
                c = srv.conn(timeout=10, source=src)
                served.append(c)
                self.assertEqual(self.get_root(srv, c).status, 200)
                pids.add(server_pid_of(srv, c.sock))
            # The next GRACE are kept, to be answered 503 (each is counted
            # once its worker has accepted it: ss names its pid then).
            for _ in range(self.GRACE):
                c = srv.conn(timeout=10, source=src)
                grace.append(c)
                pids.add(server_pid_of(srv, c.sock))
            time.sleep(0.2)
            # Past those, closed at once by either worker. Counted per
            # worker, a worker holding fewer than LIMIT + GRACE of them
            # would keep these open (and serve the GRACE ones).
            for _ in range(6):
                c = srv.conn(timeout=10, source=src)
                past.append(c)
                self.assertTrue(c.closed_by_peer(10), 'kept over the limit')
            for c in grace:
                self.assertRawError(self.get_root(srv, c), 503, 'SlowDown')
            # The kernel spread the open ones over both workers.
            self.assertEqual(pids, set(worker_pids(srv).values()))
        finally:
            for c in served + grace + past:
                c.close()
        # One warning for the whole server, and one notice when the
        # address's last connection, in whichever worker, is closed.
        text = self.wait_log(srv, r'127\.0\.0\.7: no connections left')
        self.assertEqual(len(re.findall(r'\[warn\] 127\.0\.0\.7: .*'
                                        r'limit_conn_per_ip reached', text)),
                         1, text)
        self.assertEqual(len(re.findall(r'127\.0\.0\.7: no connections '
                                        r'left open; 14 were refused', text)),
                         1, text)

    def test_killed_worker_gives_its_connections_back(self):
        srv = self.workers_server()
        conns = []
        try:
            # LIMIT served connections, kept open, from an address whose
            # connections landed on both workers (the kernel's choice: the
            # next address if one worker holds all).
            for attempt in range(1, 20):
                src = '127.0.1.%d' % attempt
                conns += [srv.conn(timeout=10, source=src)
                          for _ in range(self.LIMIT)]
                held = {}
                for c in conns[-self.LIMIT:]:
                    self.assertEqual(self.get_root(srv, c).status, 200)
                    held.setdefault(server_pid_of(srv, c.sock), []).append(c)
                if len(held) == 2:
                    break
            self.assertEqual(len(held), 2, 'all landed on one worker')
            victim = max(held, key=lambda p: len(held[p]))
            lost = len(held[victim])
            os.kill(victim, signal.SIGKILL)
            deadline = time.monotonic() + 20
            while (len(worker_pids(srv)) < 2
                   or victim in worker_pids(srv).values()
                   or len(re.findall(r'worker \d+ ready',
                                     srv.stderr_text())) < 3):
                self.assertLess(time.monotonic(), deadline, srv.log_tail())
                time.sleep(0.05)
            srv._log_reported = srv.log_size()     # that [alert] is ours
            # The dead worker's connections count no more: as many new
            # ones are served, and then the limit holds again.
            more = [srv.conn(timeout=10, source=src)
                    for _ in range(lost + 1)]
            conns += more
            statuses = sorted(self.get_root(srv, c).status for c in more)
            self.assertEqual(statuses, [200] * lost + [503])
        finally:
            for c in conns:
                c.close()


class BodyTimeoutTest(S3gwTestCase):
    """client_body_timeout 2s (and idle_timeout 60s): a body that stops is
    answered RequestTimeout; one that trickles on is not cut."""

    conf = {'client_body_timeout': '2s', 'idle_timeout': '60s'}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.bucket = unique_name('bodytimeout')
        cls.s3.create_bucket(Bucket=cls.bucket)

    def put_head(self, key, length, **kw):
        path = '/%s/%s' % (self.bucket, key)
        hdrs = self.server.sign('PUT', path, payload_hash='UNSIGNED-PAYLOAD',
                                **kw)
        hdrs.append(('Content-Length', str(length)))
        return build_request('PUT', path, hdrs)

    def test_stalled_body_is_answered_request_timeout(self):
        for sent in (0, 10):
            with self.subTest(sent=sent):
                with self.server.conn(timeout=30) as c:
                    c.send(self.put_head('stalled', 1000) + b'x' * sent)
                    # Nothing more: well before idle_timeout, the server
                    # gives up on the body.
                    r = c.read_response('PUT')
                    self.assertRawError(r, 400, 'RequestTimeout')
                    self.assertTrue(r.xml().findtext('Message').startswith(
                        'Your socket connection to the server was not read '
                        'from or written to within the timeout period.'), r)
                    self.assertEqual(r.header('Connection'), 'close')
                    self.assertTrue(c.closed_by_peer(10))
        self.assertEqual(self.server.signed(
            'HEAD', '/%s/stalled' % self.bucket).status, 404)
        self.assertEqual(self.server.tmp_files(), [])

    def test_trickling_body_is_not_cut(self):
        # 12 pieces half a second apart: three times client_body_timeout
        # in all, but never a silence that long.
        body = b'0123456789ab' * 2
        with self.server.conn(timeout=30) as c:
            c.send(self.put_head('trickle', len(body)))
            for i in range(0, len(body), 2):
                time.sleep(0.5)
                c.send(body[i:i + 2])
            r = c.read_response('PUT')
            self.assertEqual((r.status, r.header('ETag')),
                             (200, etag_of(body)), r)
            # An idle keep-alive connection is idle_timeout's business.
            self.assertFalse(c.closed_by_peer(3), 'idle connection cut')
            path = '/%s/trickle' % self.bucket
            c.send(build_request('GET', path, self.server.sign('GET', path)))
            self.assertEqual(c.read_response().body, body)


class SlowUploadMemoryTest(S3gwTestCase):
    """1000 uploads that have each sent a few KiB of body hold little
    server memory: buffers start small and grow with the bytes that
    arrive, instead of a 64 KiB read buffer per connection and a 256 KiB
    chunk segment per upload (about 357 MB for 1000 of them)."""

    shared_server = False
    N = 1000
    SENT = 8 * 1024                 # past inline_max: a chunk file begins
    RSS_LIMIT_KIB = 200 * 1024

    def raise_nofile(self, want):
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if hard != resource.RLIM_INFINITY and hard < want:
            self.skipTest('RLIMIT_NOFILE hard limit %d < %d' % (hard, want))
        if soft != resource.RLIM_INFINITY and soft < want:
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
            self.addCleanup(resource.setrlimit, resource.RLIMIT_NOFILE,
                            (soft, hard))

    def test_thousand_slow_uploads_hold_little_memory(self):
        # The test's connections and the server's (which inherits the
        # limit), plus the server's 256 chunk directories.
        self.raise_nofile(2 * self.N + 1024)
        # A new process's heap pages are untouched, so a buffer that is
        # allocated but barely written costs almost no RSS; on a server
        # that has run for a while malloc hands out recycled pages, which
        # are resident. MALLOC_PERTURB_ makes glibc write every byte it
        # hands out, so RSS counts what is allocated, as on such a server.
        srv = self.start_server(
            conf={'max_connections': str(2 * self.N),
                  'limit_conn_per_ip': str(2 * self.N)},
            env={'MALLOC_PERTURB_': '165'})
        s3 = srv.boto3_client()
        s3.create_bucket(Bucket='slow')
        start = srv.rss_kib()['VmRSS']
        conns = []
        try:
            for i in range(self.N):
                path = '/slow/upload-%d' % i
                hdrs = srv.sign('PUT', path, payload_hash='UNSIGNED-PAYLOAD')
                hdrs.append(('Content-Length', str(1024 * MiB)))
                c = srv.conn(timeout=30)
                conns.append(c)
                c.send(build_request('PUT', path, hdrs) + b'b' * self.SENT)
            # Requests on another connection are answered once the server
            # has been through the uploads' bytes.
            for _ in range(2):
                self.assertEqual(srv.signed('GET', '/slow').status, 200)
            rss = srv.rss_kib()['VmRSS']
            figure('server VmRSS with %d uploads that sent %d bytes each: '
                   '%d KiB (%d KiB at start, %d bytes per upload)'
                   % (self.N, self.SENT, rss, start,
                      (rss - start) * 1024 // self.N))
            if not SANITIZE:
                self.assertLess(rss, self.RSS_LIMIT_KIB)
        finally:
            for c in conns:
                c.close()
        # The uploads are all dropped, and nothing of them is left.
        deadline = time.monotonic() + 30
        while srv.signed('GET', '/slow').body.count(b'<Key>') != 0 \
                or srv.tmp_files():
            self.assertLess(time.monotonic(), deadline, srv.tmp_files())
            time.sleep(0.1)
        r = srv.signed('PUT', '/slow/after', body=b'still serving')
        self.assertEqual(r.status, 200, r)


if __name__ == '__main__':
    unittest.main()
