"""Size and concurrency: a 1 GiB object streamed through in both directions
in bounded server memory, 100 concurrent clients, deduplication of a big
object. Figures (throughput, server memory) are printed as `figure:` lines.

On an ASan build (S3GW_SANITIZE=1) 1 GiB becomes 128 MiB, 100 clients become
20, and memory limits are printed but not asserted."""

import hashlib
import os
import random
import shutil
import threading
import time
import unittest
from concurrent.futures import ThreadPoolExecutor

from harness import (MiB, SANITIZE, ClientError, PatternReader, S3gwTestCase,
                     etag_of, figure, scaled, sha256_hex, stream_sha256)


class BigObjectTest(S3gwTestCase):

    SIZE = scaled(1024 * MiB, 128 * MiB)
    HWM_LIMIT_KIB = 64 * 1024

    def test_big_object_streams(self):
        free = shutil.disk_usage(self.server.data_dir).free
        if free < 2.5 * self.SIZE + 512 * MiB:
            self.skipTest('only %d MiB free for a %d MiB object'
                          % (free // MiB, self.SIZE // MiB))
        bucket = self.new_bucket()
        src = PatternReader(self.SIZE, seed=20240601)
        md5, sha = hashlib.md5(), hashlib.sha256()
        while True:
            b = src.read(MiB)
            if not b:
                break
            md5.update(b)
            sha.update(b)
        src.seek(0)
        want_sha = sha.hexdigest()

        t0 = time.monotonic()
        r = self.s3.put_object(Bucket=bucket, Key='big', Body=src)
        put_s = time.monotonic() - t0
        self.assertEqual(r['ETag'], '"%s"' % md5.hexdigest())
        after_put = self.server.rss_kib()

        h = self.s3.head_object(Bucket=bucket, Key='big')
        self.assertEqual(h['ContentLength'], self.SIZE)

        t0 = time.monotonic()
        g = self.s3.get_object(Bucket=bucket, Key='big')
        got_sha, n = stream_sha256(g['Body'])
        get_s = time.monotonic() - t0
        self.assertEqual(n, self.SIZE)
        self.assertEqual(got_sha, want_sha)

        # A range deep inside the object.
        a = self.SIZE - 5 * MiB - 3
        g = self.s3.get_object(Bucket=bucket, Key='big',
                               Range='bytes=%d-%d' % (a, a + 99))
        src.seek(a)
        self.assertEqual(g['Body'].read(), src.read(100))

        mem = self.server.rss_kib()
        mb = self.SIZE / 1e6
        figure('PUT %d MiB: %.1f s, %.1f MB/s' % (self.SIZE // MiB, put_s,
                                                  mb / put_s))
        figure('GET %d MiB: %.1f s, %.1f MB/s' % (self.SIZE // MiB, get_s,
                                                  mb / get_s))
        figure('server VmHWM %d KiB, VmRSS %d KiB (after PUT: VmHWM %d KiB)'
               % (mem['VmHWM'], mem['VmRSS'], after_put['VmHWM']))

        chunks = self.server.chunk_files()
        self.assertEqual(len(chunks), -(-self.SIZE // (4 * MiB)))
        for f in random.Random(1).sample(chunks, 3):
            with open(f, 'rb') as fh:
                self.assertEqual(sha256_hex(fh.read()), os.path.basename(f))
        if not SANITIZE:
            self.assertLess(mem['VmHWM'], self.HWM_LIMIT_KIB,
                            'server memory grew with the object size')

        # Copying it only adds chunk references: no new chunk file, the
        # same ETag, the same bytes.
        t0 = time.monotonic()
        c = self.s3.copy_object(Bucket=bucket, Key='big-copy',
                                CopySource={'Bucket': bucket, 'Key': 'big'})
        copy_s = time.monotonic() - t0
        self.assertEqual(c['CopyObjectResult']['ETag'],
                         '"%s"' % md5.hexdigest())
        self.assertEqual(sorted(self.server.chunk_files()), sorted(chunks))
        g = self.s3.get_object(Bucket=bucket, Key='big-copy')
        self.assertEqual(stream_sha256(g['Body']), (want_sha, self.SIZE))
        figure('CopyObject of %d MiB: %.1f ms' % (self.SIZE // MiB,
                                                  copy_s * 1000))


class ConcurrencyTest(S3gwTestCase):

    CLIENTS = scaled(100, 20)
    ROUNDS = 2

    def test_concurrent_clients(self):
        bucket = self.new_bucket()
        client = self.server.boto3_client(
            max_pool_connections=self.CLIENTS + 10, read_timeout=60)
        shared = random.Random(7).randbytes(1536 * 1024)
        sizes = [0, 1, 4096, 4097, 65536, 300000, 2 * MiB + 5]
        barrier = threading.Barrier(self.CLIENTS)

        def work(i):
            rnd = random.Random(i)
            barrier.wait(timeout=120)
            for rnd_no in range(self.ROUNDS):
                # One client in five writes the same bytes as the others of
                # its kind: the shared chunk is written, read and released
                # concurrently.
                data = shared if i % 5 == 0 else \
                    rnd.randbytes(rnd.choice(sizes))
                key = 'c/%03d/%d' % (i, rnd_no)
                r = client.put_object(Bucket=bucket, Key=key, Body=data)
                if r.get('ETag') != etag_of(data):
                    return '%s (%d bytes): PUT answered %r' % (
                        key, len(data), r['ResponseMetadata'])
                g = client.get_object(Bucket=bucket, Key=key)
                body = g['Body'].read()
                if body != data:
                    return '%s: read %d bytes, differ' % (key, len(body))
                if len(data) > 10:
                    g = client.get_object(Bucket=bucket, Key=key,
                                          Range='bytes=5-9')
                    if g['Body'].read() != data[5:10]:
                        return '%s: range differs' % key
                client.delete_object(Bucket=bucket, Key=key)
                try:
                    client.head_object(Bucket=bucket, Key=key)
                    return '%s: still there after delete' % key
                except ClientError as e:
                    if e.response['ResponseMetadata']['HTTPStatusCode'] != 404:
                        return '%s: HEAD after delete: %s' % (key, e)
            return None

        t0 = time.monotonic()
        errors = []
        with ThreadPoolExecutor(self.CLIENTS) as ex:
            futures = [ex.submit(work, i) for i in range(self.CLIENTS)]
            for f in futures:
                try:
                    err = f.result(timeout=300)
                except Exception as e:      # noqa: BLE001 (report them all)
                    err = '%s: %s' % (type(e).__name__, e)
                if err:
                    errors.append(err)
        elapsed = time.monotonic() - t0
        figure('%d clients x %d rounds of put/get/range/delete/head: %.1f s'
               % (self.CLIENTS, self.ROUNDS, elapsed))
        self.assertEqual(errors, [], '%d of %d clients failed'
                         % (len(errors), self.CLIENTS))
        self.assertEqual(self.s3.list_objects_v2(Bucket=bucket)['KeyCount'], 0)
        mem = self.server.rss_kib()
        figure('server after %d clients: VmHWM %d KiB, VmRSS %d KiB'
               % (self.CLIENTS, mem['VmHWM'], mem['VmRSS']))


class DedupTest(S3gwTestCase):

    def test_same_object_twice_adds_no_chunks(self):
        bucket = self.new_bucket()
        data = os.urandom(20 * MiB)
        self.s3.put_object(Bucket=bucket, Key='first', Body=data)
        after_first = self.server.chunk_files()
        self.assertEqual(len(after_first), 5)             # 4 MiB chunks
        self.s3.put_object(Bucket=bucket, Key='second', Body=data)
        self.assertEqual(self.server.chunk_files(), after_first)
        # An object that shares only its first chunks adds only the rest.
        tail_changed = data[:12 * MiB] + os.urandom(8 * MiB)
        self.s3.put_object(Bucket=bucket, Key='third', Body=tail_changed)
        self.assertEqual(len(self.server.chunk_files()), 7)

        self.s3.delete_object(Bucket=bucket, Key='first')
        g = self.s3.get_object(Bucket=bucket, Key='second')
        self.assertEqual(stream_sha256(g['Body'])[0], sha256_hex(data))
        g = self.s3.get_object(Bucket=bucket, Key='third')
        self.assertEqual(stream_sha256(g['Body'])[0], sha256_hex(tail_changed))
        # Writing it again after the delete still reads back whole.
        self.s3.put_object(Bucket=bucket, Key='first', Body=data)
        g = self.s3.get_object(Bucket=bucket, Key='first')
        self.assertEqual(stream_sha256(g['Body'])[0], sha256_hex(data))


if __name__ == '__main__':
    unittest.main()
