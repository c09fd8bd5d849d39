"""The collector unlinks chunk files after its commit, outside the write
transaction (store/index.c). kill -9 at random moments of a delete-heavy
workload: after the restart every live object reads back whole (MD5), and
once the collector has run no chunk file is left that nothing refers to."""

import hashlib
import os
import random
import threading
import time
import unittest

from harness import MiB, S3gwTestCase, scaled


class GcCrashTest(S3gwTestCase):
    shared_server = False

    def churn(self, s3, bucket, live, stop, rnd):
        """Puts and deletes until stop; live maps key -> md5 of what a
        finished PUT stored (deleted keys leave it when the DELETE is
        acknowledged)."""
        i = 0
        while not stop.is_set():
            key = 'k%d' % rnd.randrange(40)
            try:
                if key in live and rnd.random() < 0.6:
                    live[key] = None        # unknown while in flight
                    s3.delete_object(Bucket=bucket, Key=key)
                    live.pop(key, None)
                else:
                    # Small chunks and shared content: chunks are dropped
                    # and written again all the time.
                    body = bytes([rnd.randrange(4)]) * rnd.choice(
                        (70000, 300000, 1000000))
                    live[key] = None        # unknown while in flight
                    s3.put_object(Bucket=bucket, Key=key, Body=body)
                    live[key] = hashlib.md5(body).hexdigest()
            except Exception:
                return                      # the server was killed
            i += 1

    def test_kill9_during_deletes(self):
        srv = self.start_server(conf={'chunk_size': '64k',
                                      'gc_interval': '50ms'})
        s3 = srv.boto3_client()
        bucket = 'gccrash'
        s3.create_bucket(Bucket=bucket)
        rnd = random.Random(14)
        live = {}
        for _ in range(scaled(8, 4)):
            stop = threading.Event()
            t = threading.Thread(target=self.churn,
                                 args=(s3, bucket, live, stop, rnd))
            t.start()
            time.sleep(rnd.uniform(0.3, 1.5))
            srv.kill9()
            stop.set()
            t.join()
            srv.start()
            s3 = srv.boto3_client()
            for key, md5 in list(live.items()):
                try:
                    got = s3.get_object(Bucket=bucket, Key=key)['Body'].read()
                except s3.exceptions.NoSuchKey:
                    # A DELETE or a PUT that was in flight.
                    self.assertIsNone(md5, '%s lost' % key)
                    live.pop(key)
                    continue
                if md5 is not None:
                    self.assertEqual(hashlib.md5(got).hexdigest(), md5, key)
                else:
                    # A PUT or DELETE was in flight: whichever version
                    # stayed is whole (one repeated byte).
                    self.assertEqual(len(set(got)), 1, key)
                    live[key] = hashlib.md5(got).hexdigest()
        # Everything deleted: the collector leaves no chunk file.
        for key in list(live):
            s3.delete_object(Bucket=bucket, Key=key)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and srv.chunk_files():
            time.sleep(0.1)
        self.assertEqual(srv.chunk_files(), [], 'orphan chunk files')
        # And once more after a restart (entries of unlinked files go).
        srv.stop()
        srv.start()
        time.sleep(0.5)
        self.assertEqual(srv.chunk_files(), [])


if __name__ == '__main__':
    unittest.main()
