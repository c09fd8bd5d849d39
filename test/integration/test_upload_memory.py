"""upload_memory: the request-body bytes one worker holds in memory at once,
over all uploads (core/hashpipe.c). Many clients upload at full loopback
speed at once, faster than two cores hash and write: without the limit each
upload fills its own windows and the server's memory grows with the number
of uploads; with it, uploads past the limit stop reading their sockets
until freed segments make room, and all of them still complete, byte for
byte. Clients that reset while they wait leave the queue (ASan sees any
pipe freed while still queued), and the s3gw_upload_memory_bytes gauge
comes back to 0 once the uploads are done."""

import concurrent.futures
import hashlib
import os
import re
import socket
import time
import unittest
import urllib.request

from harness import (MiB, S3gwTestCase, SANITIZE, Server, free_port,
                     scaled)

UPLOADS = 24
SIZE = scaled(24, 12) * MiB + 4321


def body_for(i):
    """SIZE bytes of their own per upload (no chunk shared with another)."""
    seed = hashlib.sha256(b'upload %d' % i).digest()
    block = os.urandom(MiB - 32) + seed
    return (block * (SIZE // MiB + 1))[:SIZE]


class UploadMemoryTest(S3gwTestCase):
    shared_server = False

    def start(self, limit):
        port = free_port()
        srv = Server(conf={'upload_memory': limit,
                           'status_listen': '127.0.0.1:%d' % port},
                     start=False)
        self.addCleanup(srv.close)
        srv.start()
        srv.status_port = port
        srv.boto3_client().create_bucket(Bucket='mem')
        return srv

    def metrics(self, srv):
        url = 'http://127.0.0.1:%d/metrics' % srv.status_port
        text = urllib.request.urlopen(url, timeout=10).read().decode()
        return {m.group(1): int(m.group(2)) for m in re.finditer(
            r'^(s3gw_upload_memory_\w+) (\d+)$', text, re.M)}

    def put(self, srv, key, body, reset_after=None):
        """One PUT of body over a raw socket, sent as fast as the socket
        takes it (UNSIGNED-PAYLOAD: no client-side hashing to slow it).
        Returns the response's ETag; with reset_after, sends that many
        bytes, then resets the connection (returns None)."""
        path = '/mem/%s' % key
        hdrs = srv.sign('PUT', path, {'Content-Length': str(len(body))},
                        payload_hash='UNSIGNED-PAYLOAD')
        head = 'PUT %s HTTP/1.1\r\n' % path + ''.join(
            '%s: %s\r\n' % kv for kv in hdrs) + '\r\n'
        s = socket.create_connection(('127.0.0.1', srv.port), timeout=120)
        try:
            s.sendall(head.encode())
            if reset_after is not None:
                s.sendall(memoryview(body)[:reset_after])
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                             b'\x01\x00\x00\x00\x00\x00\x00\x00')
                return None
            s.sendall(body)
            resp = b''
            while b'\r\n\r\n' not in resp:
                got = s.recv(65536)
                if not got:
                    break
                resp += got
        finally:
            s.close()
        status = resp.split(b' ', 2)[1] if resp else b''
        self.assertEqual(status, b'200', resp[:300])
        m = re.search(rb'(?i)\r\netag: *"([0-9a-f]+)"', resp)
        return m.group(1).decode()

    def upload_all(self, srv, bodies, resets=()):
        with concurrent.futures.ThreadPoolExecutor(len(bodies)) as ex:
            futs = [ex.submit(self.put, srv, 'k%d' % i, b,
                              SIZE // 3 if i in resets else None)
                    for i, b in enumerate(bodies)]
            return [f.result() for f in futs]

    def settled(self, srv):
        """The gauge, once every segment is back (a reset upload's jobs
        may still be finishing when its client is gone)."""
        for _ in range(100):
            m = self.metrics(srv)
            if m['s3gw_upload_memory_bytes'] == 0:
                return m
            time.sleep(0.1)
        return m

    def test_uploads_past_the_limit_wait_and_complete(self):
        bodies = [body_for(i) for i in range(UPLOADS)]
        srv = self.start('8m')
        before = srv.rss_kib()
        etags = self.upload_all(srv, bodies)
        mem = srv.rss_kib()
        for i, (etag, body) in enumerate(zip(etags, bodies)):
            self.assertEqual(etag, hashlib.md5(body).hexdigest(), i)
        s3 = srv.boto3_client()
        for i in (0, UPLOADS // 2, UPLOADS - 1):
            got = s3.get_object(Bucket='mem', Key='k%d' % i)['Body'].read()
            self.assertEqual(got, bodies[i], i)
        m = self.settled(srv)
        self.assertEqual(m['s3gw_upload_memory_bytes'], 0)
        self.assertGreater(m['s3gw_upload_memory_waits_total'], 0,
                           'no upload ever waited for the limit')
        grown = (mem['VmHWM'] - before['VmRSS']) // 1024
        print('\n  %d uploads of %d MiB at once, upload_memory 8m: peak '
              'RSS +%d MiB, %d waits' % (UPLOADS, SIZE // MiB, grown,
                                         m['s3gw_upload_memory_waits_total']))
        if not SANITIZE:
            # The limit, plus at most one segment per waiting upload that
            # its chunk writer still holds (and malloc's slack); without
            # the limit this run grew by 100+ MiB.
            self.assertLess(grown, 8 + UPLOADS + 16,
                            'memory grew with the number of uploads')

    @unittest.skipIf(SANITIZE, 'RSS under ASan is its shadow memory')
    def test_without_the_limit_memory_grows_with_uploads(self):
        """The comparison that shows the case above is one the limit
        decides: the same uploads with a limit too large to matter."""
        bodies = [body_for(i) for i in range(UPLOADS)]
        srv = self.start('64g')
        before = srv.rss_kib()
        self.upload_all(srv, bodies)
        mem = srv.rss_kib()
        grown = (mem['VmHWM'] - before['VmRSS']) // 1024
        m = self.settled(srv)
        print('\n  %d uploads of %d MiB at once, no limit: peak RSS +%d MiB'
              % (UPLOADS, SIZE // MiB, grown))
        self.assertEqual(m['s3gw_upload_memory_waits_total'], 0)
        self.assertGreater(grown, 8 + UPLOADS + 16)

    def test_resets_while_waiting_leave_the_queue(self):
        bodies = [body_for(i) for i in range(UPLOADS)]
        srv = self.start('4m')
        resets = set(range(0, UPLOADS, 3))
        etags = self.upload_all(srv, bodies, resets)
        for i, etag in enumerate(etags):
            if i not in resets:
                self.assertEqual(etag, hashlib.md5(bodies[i]).hexdigest(), i)
        m = self.settled(srv)
        self.assertEqual(m['s3gw_upload_memory_bytes'], 0)
        self.assertGreater(m['s3gw_upload_memory_waits_total'], 0)
        # Still serving, and nothing of the reset uploads was kept.
        s3 = srv.boto3_client()
        keys = {o['Key'] for o in
                s3.list_objects_v2(Bucket='mem').get('Contents', [])}
        self.assertEqual(keys, {'k%d' % i for i in range(UPLOADS)
                                if i not in resets})


if __name__ == '__main__':
    unittest.main()
