"""A full disk: PUTs fail with a clean S3 error and leave nothing behind,
while DeleteObject and DeleteObjects still commit and free space, and
writes work again once there is room.

The data dir is a small tmpfs mounted for the test, so it needs root; as
anyone else the test is skipped and says why. The mount is always undone
in the cleanup.

While the deletes run, the test holds a read transaction of the index open
(another process, as a backup tool or mdb_stat would): the pages it sees
cannot be reused, so every commit needs new pages from a disk that has
none, and the deletes must get by on the reserve."""

import hashlib
import os
import subprocess
import time
import unittest

from harness import ClientError, Lmdb, S3gwTestCase, Server, unique_name

MiB = 1024 * 1024
FS_SIZE = 40 * MiB          # the reserve (8 MiB) and some 150 objects
OBJECT = 200 * 1024         # under 256 KiB: an early error drains the body
RESERVE = 8 * MiB


class DiskFullTest(S3gwTestCase):

    shared_server = False

    def setUp(self):
        super().setUp()
        if os.geteuid() != 0:
            self.skipTest('needs root to mount a %d MiB tmpfs as the data '
                          'dir (running as uid %d)'
                          % (FS_SIZE // MiB, os.geteuid()))

    def small_server(self):
        srv = Server(conf={'chunk_size': '64k', 'gc_interval': '100ms'},
                     start=False)
        p = subprocess.run(['mount', '-t', 'tmpfs', '-o',
                            'size=%d,mode=0755' % FS_SIZE, 's3gw-test',
                            srv.data_dir], capture_output=True, text=True)
        if p.returncode != 0:
            srv.close()
            self.skipTest('cannot mount a tmpfs as root here: %s'
                          % p.stderr.strip())

        def teardown():
            try:
                srv.stop()
            finally:
                subprocess.run(['umount', srv.data_dir], check=False)
                srv.close()
        self.addCleanup(teardown)
        srv.start()
        return srv

    def free_bytes(self, srv):
        st = os.statvfs(srv.data_dir)
        return st.f_bavail * st.f_frsize

    def assertCleanError(self, e):
        """A full disk answers an S3 error document: 500 InternalError."""
        resp = e.response
        self.assertEqual(resp['ResponseMetadata']['HTTPStatusCode'], 500,
                         resp)
        self.assertEqual(resp['Error']['Code'], 'InternalError', resp)
        self.assertTrue(resp['ResponseMetadata'].get('RequestId'))

    def test_big_put_fills_disk(self):
        # One body larger than the whole disk: a chunk write fails while
        # later bytes are still in the digest pipe's segments, which the
        # chunk writer shares. The writer drops its views, the pipe keeps
        # hashing its own; the client gets 500 (or the connection closes
        # under it), nothing is listed and tmp/ empties. Under ASan a
        # segment freed while the other side still reads it shows here.
        srv = self.small_server()
        s3 = srv.boto3_client()
        bucket = unique_name('bigfull')
        s3.create_bucket(Bucket=bucket)
        size = FS_SIZE + 8 * MiB
        path = '/%s/huge' % bucket
        hdrs = srv.sign('PUT', path, None, b'',
                        payload_hash='UNSIGNED-PAYLOAD')
        hdrs.append(('Content-Length', str(size)))
        c = srv.conn(timeout=60)
        c.request('PUT', path, hdrs, None)
        status = None
        try:
            for _ in range(size // MiB):
                c.send(os.urandom(MiB))     # no chunk alike: no dedup
        except OSError:
            pass                # answered early and closed: fine
        try:
            status = c.read_response('PUT').status
        except (OSError, ValueError):
            pass
        self.assertIn(status, (None, 500))
        c.sock.close()
        keys = [o['Key'] for o in
                s3.list_objects_v2(Bucket=bucket).get('Contents', [])]
        self.assertEqual(keys, [])
        deadline = time.time() + 30
        while srv.tmp_files() and time.time() < deadline:
            time.sleep(0.2)
        self.assertEqual(srv.tmp_files(), [])

    def test_full_disk(self):
        srv = self.small_server()
        s3 = srv.boto3_client()
        bucket = unique_name('full')
        s3.create_bucket(Bucket=bucket)

        # Objects of four 64 KiB chunks each until the disk refuses one.
        stored, n, failed = {}, 0, None
        while failed is None:
            key = 'obj-%04d' % n
            body = os.urandom(OBJECT)
            try:
                s3.put_object(Bucket=bucket, Key=key, Body=body)
                stored[key] = hashlib.sha256(body).hexdigest()
            except ClientError as e:
                self.assertCleanError(e)
                failed = key
            n += 1
            self.assertLess(n, FS_SIZE // OBJECT + 10, 'the disk never filled')
        # Small ones (kept inside the index) fail too, just as cleanly.
        with self.assertRaises(ClientError) as cm:
            for i in range(2000):
                s3.put_object(Bucket=bucket, Key='small-%d' % i,
                              Body=b's' * 3000)
                stored['small-%d' % i] = hashlib.sha256(b's' * 3000) \
                    .hexdigest()
        self.assertCleanError(cm.exception)
        # Something else fills the last bytes: the disk is 100% full.
        with open(os.path.join(srv.data_dir, 'filler'), 'wb',
                  buffering=0) as f:
            try:
                while True:
                    f.write(b'f' * 4096)
            except OSError:
                pass
        self.assertLess(self.free_bytes(srv), 64 * 1024)

        # Nothing of the failed PUT is listed; everything acknowledged is.
        def listed():
            keys = set()
            for page in s3.get_paginator('list_objects_v2').paginate(
                    Bucket=bucket):
                keys.update(o['Key'] for o in page.get('Contents', []))
            return keys
        self.assertEqual(listed(), set(stored))
        self.assertNotIn(failed, listed())

        # Deletes commit on the full disk, even with every page of the
        # index pinned by a reader.
        index = Lmdb(os.path.join(srv.data_dir, 'index'))
        self.addCleanup(index.close)
        reader = [index.reader()]

        def end_reader():
            if reader:
                index.abort(reader.pop())
        self.addCleanup(end_reader)
        # Half one by one (each commit takes new pages), half at once.
        keys = sorted(k for k in stored if k.startswith('obj-'))
        victims = keys[:len(keys) * 3 // 4]
        half = len(victims) // 2
        for k in victims[:half]:
            s3.delete_object(Bucket=bucket, Key=k)
        r = s3.delete_objects(Bucket=bucket, Delete={
            'Objects': [{'Key': k} for k in victims[half:]], 'Quiet': True})
        self.assertEqual(r.get('Errors', []), [])
        for k in victims:
            del stored[k]
        self.assertEqual(listed(), set(stored))
        # They needed the reserve, which the failed PUTs had not touched.
        self.assertIn('released the 8 MiB reserve', srv.stderr_text())
        end_reader()

        # The collector frees their chunks, and writes work again (the
        # reserve is made again first).
        deadline = time.monotonic() + 60
        while True:
            try:
                s3.put_object(Bucket=bucket, Key='after', Body=b'room again')
                break
            except ClientError as e:
                self.assertCleanError(e)
                self.assertLess(time.monotonic(), deadline,
                                'no PUT succeeded after the deletes')
                time.sleep(0.2)
        self.assertGreater(self.free_bytes(srv), RESERVE)
        self.assertEqual(os.path.getsize(os.path.join(srv.data_dir,
                                                      'reserve')), RESERVE)
        self.assertEqual(s3.get_object(Bucket=bucket, Key='after')
                         ['Body'].read(), b'room again')

        # Nothing that was kept was lost.
        for k, sha in stored.items():
            body = s3.get_object(Bucket=bucket, Key=k)['Body'].read()
            self.assertEqual(hashlib.sha256(body).hexdigest(), sha, k)
        self.assertEqual(srv.tmp_files(), [])
        log = srv.stderr_text()
        self.assertNotIn('unknown error', log)
        self.assertIn('no space left on device', log)
        self.assertIn('deletes still run', log)
