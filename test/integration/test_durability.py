"""Durability: what was acknowledged survives a restart and a kill -9, a
crash never leaves a torn object or a torn chunk, and temp files do not
outlive a restart."""

import hashlib
import os
import random
import threading
import time
import unittest

from harness import (MiB, ClientError, PatternReader, S3gwTestCase, etag_of,
                     figure, stream_sha256)


class DurabilityTest(S3gwTestCase):

    shared_server = False

    def list_all(self, s3, bucket):
        keys = {}
        pages = s3.get_paginator('list_objects_v2').paginate(Bucket=bucket)
        for page in pages:
            for o in page.get('Contents', []):
                keys[o['Key']] = o['Size']
        return keys

    def assertNoTmpFiles(self, srv, wait=5.0):
        deadline = time.monotonic() + wait
        while srv.tmp_files() and time.monotonic() < deadline:
            time.sleep(0.1)
        self.assertEqual(srv.tmp_files(), [])

    def assertChunksAddressed(self, srv):
        for f in srv.chunk_files():
            h = hashlib.sha256()
            try:
                with open(f, 'rb') as fh:
                    for b in iter(lambda: fh.read(MiB), b''):
                        h.update(b)
            except FileNotFoundError:
                continue    # an orphan the background sweep just collected
            self.assertEqual(h.hexdigest(), os.path.basename(f),
                             'torn or misnamed chunk file %s' % f)

    def assertOnlyLiveChunks(self, srv, bucket, timeout=60.0):
        """Once the sweep after the restart and the collector are done, the
        chunk files are exactly those of the objects there: the orphans
        of the PUTs the kill cut short are gone, no live one is."""
        s3 = srv.boto3_client()
        live = set()
        for key in self.list_all(s3, bucket):
            body = s3.get_object(Bucket=bucket, Key=key)['Body'].read()
            if len(body) > 4096:                 # inline_max
                live |= {hashlib.sha256(body[i:i + 4 * MiB]).hexdigest()
                         for i in range(0, len(body), 4 * MiB)}
        deadline = time.monotonic() + timeout
        while True:
            files = {os.path.basename(f) for f in srv.chunk_files()}
            if files == live or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        self.assertEqual(live - files, set(), 'live chunks deleted')
        self.assertEqual(files - live, set(), 'orphan chunks left')

    # --- Restart ---------------------------------------------------------

    def test_restart_reads_everything_back(self):
        srv = self.start_server(conf={'chunk_size': '1m'})
        s3 = srv.boto3_client()
        b1 = self.new_bucket(client=s3, hint='keep')
        b2 = self.new_bucket(client=s3, hint='gone')
        objects = {
            'empty': b'',
            'small': b'inline object',
            'at-inline-max': os.urandom(4096),
            'multi/chunk': os.urandom(3 * MiB + 12345),
            'special key +%?#\u00e9': b'special',
            'long/' + 'k' * 1000: b'long key',
        }
        for k, v in objects.items():
            s3.put_object(Bucket=b1, Key=k, Body=v,
                          Metadata={'n': str(len(v))},
                          ContentType='application/x-%d' % len(v))
        s3.put_object(Bucket=b1, Key='overwritten', Body=b'old' * 5000)
        s3.put_object(Bucket=b1, Key='overwritten', Body=b'new')
        objects['overwritten'] = b'new'
        s3.put_object(Bucket=b1, Key='deleted', Body=b'x' * 10000)
        s3.delete_object(Bucket=b1, Key='deleted')
        s3.delete_bucket(Bucket=b2)

        def verify(s3):
            names = [b['Name'] for b in s3.list_buckets()['Buckets']]
            self.assertIn(b1, names)
            self.assertNotIn(b2, names)
            listed = self.list_all(s3, b1)
            self.assertEqual(listed, {k: len(v) for k, v in objects.items()})
            for k, v in objects.items():
                g = s3.get_object(Bucket=b1, Key=k)
                self.assertEqual(g['Body'].read(), v, k)
                self.assertEqual(g['ETag'], etag_of(v))
                if k != 'overwritten':
                    self.assertEqual(g['Metadata'], {'n': str(len(v))})
                    self.assertEqual(g['ContentType'],
                                     'application/x-%d' % len(v))
            g = s3.get_object(Bucket=b1, Key='multi/chunk',
                              Range='bytes=1048570-1048580')
            self.assertEqual(g['Body'].read(),
                             objects['multi/chunk'][1048570:1048581])

        verify(s3)
        srv.restart()                       # SIGTERM, exit 0, start again
        self.assertNoTmpFiles(srv)
        verify(srv.boto3_client())
        srv.kill9()                         # acknowledged means durable
        srv.start()
        self.assertNoTmpFiles(srv)
        s3 = srv.boto3_client()
        verify(s3)
        self.assertChunksAddressed(srv)
        # And it takes new writes.
        s3.put_object(Bucket=b1, Key='after-restart', Body=b'fresh',
                      Metadata={'n': '5'}, ContentType='application/x-5')
        objects['after-restart'] = b'fresh'
        srv.restart()
        verify(srv.boto3_client())

    # --- kill -9 under load ----------------------------------------------

    THREADS = 8
    ROUNDS = 2

    def test_kill9_during_uploads(self):
        srv = self.start_server()
        bucket = self.new_bucket(client=srv.boto3_client())
        # key -> {'acked': sha or None, 'inflight': sha or None}
        state, lock = {}, threading.Lock()
        for round_no in range(self.ROUNDS):
            self.run_round(srv, bucket, state, lock, round_no)
            srv.start()
            self.assertNoTmpFiles(srv)
            self.check_state(srv, bucket, state)
        self.assertChunksAddressed(srv)
        self.assertOnlyLiveChunks(srv, bucket)
        # The server works normally afterwards.
        s3 = srv.boto3_client()
        s3.put_object(Bucket=bucket, Key='after', Body=b'after')
        self.assertEqual(s3.get_object(Bucket=bucket, Key='after')
                         ['Body'].read(), b'after')

    def run_round(self, srv, bucket, state, lock, round_no):
        s3 = srv.boto3_client(max_pool_connections=self.THREADS + 2,
                              connect_timeout=5, read_timeout=60)
        killed = threading.Event()
        acked = [0]
        early_errors = []

        def worker(t):
            rnd = random.Random(round_no * 1000 + t)
            for n in range(200):
                if killed.is_set():
                    return
                if n % 4 == 3:
                    key = 't%d/overwritten' % t     # same key again
                else:
                    key = 'r%d/t%d/%d' % (round_no, t, n)
                src = PatternReader(rnd.randint(2 * MiB, 40 * MiB),
                                    seed=(round_no * 100 + t) * 1000 + n)
                sha = src.digest()
                with lock:
                    st = state.setdefault(key, {'acked': None,
                                                'inflight': None})
                    st['inflight'] = sha
                try:
                    r = s3.put_object(Bucket=bucket, Key=key, Body=src)
                except Exception as e:              # noqa: BLE001
                    if not killed.is_set():
                        early_errors.append('%s: %r' % (key, e))
                    return
                if r['ResponseMetadata']['HTTPStatusCode'] != 200:
                    early_errors.append('%s: %r' % (key, r))
                    return
                with lock:
                    st['acked'], st['inflight'] = sha, None
                    acked[0] += 1

        threads = [threading.Thread(target=worker, args=(t,), daemon=True)
                   for t in range(self.THREADS)]
        t0 = time.monotonic()
        for th in threads:
            th.start()
        while time.monotonic() - t0 < 60:
            with lock:
                enough = acked[0] >= 8
            if enough and time.monotonic() - t0 >= 2.0:
                break
            if early_errors:
                break
            time.sleep(0.05)
        time.sleep(random.uniform(0, 0.3))   # land somewhere mid-transfer
        killed.set()
        srv.kill9()
        for th in threads:
            th.join(60)
            self.assertFalse(th.is_alive(), 'an upload thread hung')
        self.assertEqual(early_errors, [], 'uploads failed before the kill')
        with lock:
            inflight = sum(1 for s in state.values() if s['inflight'])
        figure('kill -9 round %d after %.1f s: %d PUTs acknowledged, %d in '
               'flight' % (round_no, time.monotonic() - t0, acked[0],
                           inflight))

    def check_state(self, srv, bucket, state):
        s3 = srv.boto3_client()
        listed = self.list_all(s3, bucket)
        for key in listed:
            self.assertIn(key, state, 'listed key %r was never written' % key)
        for key, st in state.items():
            allowed = {st['acked'], st['inflight']} - {None}
            if st['acked'] is not None:
                self.assertIn(key, listed,
                              'acknowledged PUT of %r is lost' % key)
            if key not in listed:
                continue
            if st['acked'] is None:
                # Only possible when the server committed and was killed
                # before its 200 got out; then the object must be whole.
                self.assertIsNotNone(st['inflight'])
            try:
                g = s3.get_object(Bucket=bucket, Key=key)
            except ClientError as e:
                self.fail('listed %r cannot be read: %s' % (key, e))
            sha, n = stream_sha256(g['Body'])
            self.assertEqual(n, listed[key], key)
            self.assertIn(sha, allowed, 'object %r is not any version that '
                          'was written (torn write?)' % key)
            # What survived is now the only version that may be seen.
            st['acked'], st['inflight'] = sha, None
        # Forget what never landed.
        for key in [k for k in state if k not in listed]:
            del state[key]


if __name__ == '__main__':
    unittest.main()
