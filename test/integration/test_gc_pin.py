"""The collector unlinks chunk files outside the index's write transaction
(store/index.c), so each one is checked again right before its unlink,
under the pin locks and in a read transaction begun after them: a chunk
pinned by a download that is still being read, or referred to again by a
write of the same bytes that committed in between, keeps its file.

The pin case is deterministic with slow readers: each GET has read
only its first bytes (a tiny receive buffer, then no more reads) when the
object is deleted, so its later chunk files are still unopened; a second
object deleted at the same time is the signal that a collection which saw
the first object's chunks has run its unlinks.

The race of re-written bytes against the collector is not controlled: it
is driven hard (several workers, several writers of the same bytes, a
queue kept long by a filler) and every acknowledged object is read back."""

import hashlib
import os
import threading
import socket
import time

from harness import (MiB, S3gwTestCase, build_request, figure, scaled)


class GcPinTest(S3gwTestCase):

    shared_server = False
    CHUNK = 64 * 1024

    def start(self):
        return self.start_server(conf={'chunk_size': '64k',
                                       'inline_max': '4k',
                                       'gc_interval': '50ms',
                                       'idle_timeout': '120s'})

    def chunk_names(self, srv):
        return {os.path.basename(p) for p in srv.chunk_files()}

    def wait_for(self, cond, what, timeout=60):
        end = time.monotonic() + timeout
        while not cond():
            self.assertLess(time.monotonic(), end, 'timed out: ' + what)
            time.sleep(0.05)

    def slow_get(self, srv, path):
        """A GET that has read its head and a few bytes, then stops."""
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.settimeout(60)
        s.connect(('127.0.0.1', srv.port))
        s.sendall(build_request('GET', path, srv.sign('GET', path)))
        got = b''
        while b'\r\n\r\n' not in got:
            d = s.recv(4096)
            self.assertTrue(d, 'closed before the head')
            got += d
        head, _, rest = got.partition(b'\r\n\r\n')
        self.assertIn(b' 200 ', head.split(b'\r\n')[0])
        return s, bytearray(rest)

    def read_rest(self, s, got, want):
        while len(got) < want:
            d = s.recv(65536)
            if not d:
                break
            got += d
        s.close()
        return bytes(got)

    def test_download_keeps_its_chunks_against_the_collector(self):
        srv = self.start()
        s3 = srv.boto3_client()
        bucket = self.new_bucket(client=s3)
        # Past what the server's socket send buffer takes (tcp_wmem's
        # maximum, 4 MiB here): a smaller body leaves the server whole, the
        # GET ends and unpins while the client has read nothing.
        size = 8 * MiB
        body = os.urandom(size)
        other = os.urandom(size)
        s3.put_object(Bucket=bucket, Key='obj', Body=body)
        before = self.chunk_names(srv)
        s3.put_object(Bucket=bucket, Key='other', Body=other)
        other_chunks = self.chunk_names(srv) - before
        self.assertGreater(len(before), 8)
        self.assertGreater(len(other_chunks), 8)

        readers = [self.slow_get(srv, '/%s/obj' % bucket) for _ in range(3)]
        s3.delete_object(Bucket=bucket, Key='obj')
        s3.delete_object(Bucket=bucket, Key='other')
        # Both objects' chunks are queued by now; once the unpinned ones
        # are gone, a collection chose the pinned ones too and ran.
        self.wait_for(lambda: not (other_chunks & self.chunk_names(srv)),
                      'the unpinned chunks were never collected')
        time.sleep(0.5)             # a few more collections
        self.assertEqual(self.chunk_names(srv) & before, before,
                         'a pinned chunk file was unlinked')
        for s, got in readers:
            self.assertTrue(self.read_rest(s, got, size) == body,
                            'a download lost bytes to the collector')
        # Unpinned, they go with a later collection: the queue kept them.
        self.wait_for(lambda: not (before & self.chunk_names(srv)),
                      'the chunks of the finished downloads stayed')
        srv.check_logs()

    def test_rewrite_of_the_same_bytes_keeps_them(self):
        # Delete and write the same bytes again at once, over and over: a
        # collection that chose the chunks before the write committed must
        # see the new reference before it unlinks. The timing is not
        # controlled and the window (between the collection's commit and
        # its unlink job) is short: with the reference re-check removed this
        # still passed, so it guards the common path, not that race.
        srv = self.start()
        s3 = srv.boto3_client()
        bucket = self.new_bucket(client=s3)
        body = os.urandom(8 * self.CHUNK + 100)
        key = 'k0'
        s3.put_object(Bucket=bucket, Key=key, Body=body)
        for i in range(1, scaled(60, 20)):
            s3.delete_object(Bucket=bucket, Key=key)
            time.sleep((i % 7) * 0.015)
            key = 'k%d' % i
            s3.put_object(Bucket=bucket, Key=key, Body=body)
            time.sleep((i % 5) * 0.02)
            got = s3.get_object(Bucket=bucket, Key=key)['Body'].read()
            self.assertTrue(got == body, 'round %d lost bytes' % i)
        time.sleep(0.3)
        got = s3.get_object(Bucket=bucket, Key=key)['Body'].read()
        self.assertTrue(got == body, 'the last copy lost bytes')
        srv.check_logs()


class GcDedupRaceTest(S3gwTestCase):
    """Each writer deletes its object and at once puts the same bytes under
    a new key, over and over: its chunk files go to the collector's queue
    and are written again while a collection may be choosing them, and a
    filler keeps the queue long (so each collection runs for a while). With
    two workers, the collector runs in one and the writers' pins are in
    both. Every PUT that was acknowledged must read back with its MD5 until
    the test deletes it."""

    shared_server = False
    CHUNK = 64 * 1024

    def test_reput_of_the_same_bytes_races_the_collector(self):
        srv = self.start_server(conf={'chunk_size': '64k',
                                      'inline_max': '4k',
                                      'gc_interval': '10ms',
                                      'worker_processes': '2'})
        s3 = srv.boto3_client()
        bucket = self.new_bucket(client=s3)
        seconds = scaled(10, 8)
        stop = time.monotonic() + seconds
        errors = []
        counts = []

        def check(c, key, md5, when):
            got = c.get_object(Bucket=bucket, Key=key)['Body'].read()
            if hashlib.md5(got).hexdigest() != md5:
                errors.append('%s read back wrong %s' % (key, when))

        def writer(w):
            c = srv.boto3_client()
            # A chunk shared by the writer's two bodies, and one of each.
            common = os.urandom(self.CHUNK)
            bodies = [common + os.urandom(self.CHUNK + 100 * i)
                      for i in range(2)]
            key, n = None, 0
            try:
                while time.monotonic() < stop and not errors:
                    body = bodies[n % 2]
                    if key is not None:
                        c.delete_object(Bucket=bucket, Key=key)
                    key = 'w%d-%d' % (w, n)
                    c.put_object(Bucket=bucket, Key=key, Body=body)
                    md5 = hashlib.md5(body).hexdigest()
                    check(c, key, md5, 'after its PUT')
                    n += 1
                time.sleep(0.3)     # a few more collections
                check(c, key, md5, 'at the end')
                counts.append(n)
            except Exception as e:      # a 500 or a cut body: the finding
                errors.append('writer %d, round %d: %r' % (w, n, e))

        def filler(f):
            c = srv.boto3_client()
            n = 0
            while time.monotonic() < stop and not errors:
                keys = ['f%d-%d' % (f, n + i) for i in range(100)]
                for k in keys:
                    c.put_object(Bucket=bucket, Key=k,
                                 Body=os.urandom(8 * 1024))
                for k in keys:
                    c.delete_object(Bucket=bucket, Key=k)
                n += 100

        threads = [threading.Thread(target=writer, args=(w,))
                   for w in range(6)]
        threads += [threading.Thread(target=filler, args=(f,))
                    for f in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(errors, [])
        figure('gc dedup race: %d rounds of delete + PUT of the same bytes'
               ' in %d s' % (sum(counts), seconds))
        srv.check_logs()
