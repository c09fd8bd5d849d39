"""The large-PUT pipeline: bodies hashed off the loop (MD5 in order, CRCs per
segment joined in order, the signed payload's SHA-256) while the chunk
writer stores them. Bodies of several hash segments and chunks, every
checksum algorithm and wrong ones, signed payloads, resets while hash jobs
are in flight, and concurrent big PUTs read back by MD5."""

import base64
import hashlib
import os
import socket
import struct
import threading
import time
import unittest

from harness import (S3gwTestCase, checksum_b64, etag_of, sha256_hex,
                     unique_name)

MiB = 1024 * 1024
# Past the 64 KiB hashed on the loop, over several 1 MiB hash segments and
# 1 MiB chunks, and not a multiple of either.
SIZE = 5 * MiB + 1234


def body_of(seed, size=SIZE):
    import random
    return random.Random(seed).randbytes(size)


class PutPipeTest(S3gwTestCase):
    conf = {'chunk_size': '1m'}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.bucket = unique_name('pipe')
        cls.s3.create_bucket(Bucket=cls.bucket)

    def assert_absent(self, key):
        with self.assertRaises(Exception) as cm:
            self.s3.head_object(Bucket=self.bucket, Key=key)
        self.assertEqual(cm.exception.response['Error']['Code'], '404')

    def test_every_checksum_algorithm(self):
        # boto3 for the algorithms it computes itself; a declared header for
        # the CRCs it needs the CRT for.
        data = body_of(1)
        for alg in ('CRC32', 'CRC32C', 'CRC64NVME', 'SHA1', 'SHA256'):
            with self.subTest(alg=alg):
                key = 'ck-' + alg
                want = checksum_b64(alg, data)
                if alg in ('CRC32', 'SHA1', 'SHA256'):
                    r = self.s3.put_object(Bucket=self.bucket, Key=key,
                                           Body=data, ChecksumAlgorithm=alg)
                    self.assertEqual(r['ETag'], etag_of(data))
                    self.assertEqual(r['Checksum' + alg], want)
                else:
                    hdr = {'x-amz-checksum-' + alg.lower(): want}
                    r = self.server.signed(
                        'PUT', '/%s/%s' % (self.bucket, key), hdr, data,
                        payload_hash='UNSIGNED-PAYLOAD', timeout=60)
                    self.assertEqual(r.status, 200, r)
                    self.assertEqual(r.header('ETag'), etag_of(data))
                    self.assertEqual(
                        r.header('x-amz-checksum-' + alg.lower()), want)
                got = self.s3.get_object(Bucket=self.bucket, Key=key)
                self.assertEqual(hashlib.md5(got['Body'].read()).hexdigest(),
                                 hashlib.md5(data).hexdigest())

    def test_wrong_checksum_and_md5(self):
        data = body_of(2)
        other = data[:-1] + bytes([data[-1] ^ 1])
        for alg in ('CRC32', 'CRC32C', 'CRC64NVME', 'SHA1', 'SHA256'):
            with self.subTest(alg=alg):
                key = 'bad-' + alg
                hdr = {'x-amz-checksum-' + alg.lower(): checksum_b64(alg, other)}
                r = self.server.signed('PUT', '/%s/%s' % (self.bucket, key),
                                       hdr, data, payload_hash='UNSIGNED-PAYLOAD',
                                       timeout=60)
                self.assertRawError(r, 400, 'BadDigest')
                self.assert_absent(key)
        md5 = base64.b64encode(hashlib.md5(other).digest()).decode()
        r = self.server.signed('PUT', '/%s/badmd5' % self.bucket,
                               {'Content-MD5': md5}, data,
                               payload_hash='UNSIGNED-PAYLOAD', timeout=60)
        self.assertRawError(r, 400, 'BadDigest')
        self.assert_absent('badmd5')

    def test_signed_payload(self):
        data = body_of(3)
        path = '/%s/signed' % self.bucket
        r = self.server.signed('PUT', path, None, data, timeout=60)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.header('ETag'), etag_of(data))
        # Signed for other bytes: refused after the whole body is hashed.
        r = self.server.signed('PUT', '/%s/mismatch' % self.bucket, None, data,
                               payload_hash=sha256_hex(data[1:]), timeout=60)
        self.assertRawError(r, 400, 'XAmzContentSHA256Mismatch')
        self.assert_absent('mismatch')

    def _reset_after(self, key, sent, size=SIZE, pause=0.0):
        """Sends the head and `sent` bytes of a size-byte body, then resets."""
        path = '/%s/%s' % (self.bucket, key)
        hdrs = self.server.sign('PUT', path, None, b'',
                                payload_hash='UNSIGNED-PAYLOAD')
        hdrs.append(('Content-Length', str(size)))
        c = self.server.conn(timeout=30)
        c.request('PUT', path, hdrs, None)
        chunk = body_of(4, min(sent, MiB)) if sent else b''
        left = sent
        while left > 0:
            c.send(chunk[:min(left, len(chunk))])
            left -= min(left, len(chunk))
        if pause:
            time.sleep(pause)
        c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                          struct.pack('ii', 1, 0))
        c.sock.close()

    def test_reset_mid_body(self):
        # Inside the inline prefix, just past a chunk end inside a hash
        # segment (the writer holds views of it), with hash segments in
        # flight, at a segment's edge, and with the whole body sent (the
        # end waits for the hash jobs when the connection goes).
        for i, sent in enumerate((1000, MiB + 64 * 1024 + 5, 3 * MiB + 17,
                                  4 * MiB, SIZE)):
            with self.subTest(sent=sent):
                self._reset_after('reset%d' % i, sent)
        # The server goes on and nothing half-written shows.
        self.s3.put_object(Bucket=self.bucket, Key='after', Body=b'x')
        for i in range(4):
            self.assert_absent('reset%d' % i)
        deadline = time.time() + 30
        while self.server.tmp_files() and time.time() < deadline:
            time.sleep(0.2)
        self.assertEqual(self.server.tmp_files(), [])

    def test_reset_then_shutdown(self):
        # Chunk and hash jobs of reset uploads are still in the thread pool
        # when SIGTERM arrives: the store must outlive them (a job once
        # touched the freed store), and the server exits 0 with a clean log.
        for round_ in range(3):
            with self.subTest(round=round_):
                srv = self.start_server(conf={'chunk_size': '1m'})
                srv.boto3_client().create_bucket(Bucket='bkt')
                socks = []
                for i in range(4):
                    path = '/bkt/k%d' % i
                    hdrs = srv.sign('PUT', path, None, b'',
                                    payload_hash='UNSIGNED-PAYLOAD')
                    hdrs.append(('Content-Length', str(8 * MiB)))
                    c = srv.conn(timeout=30)
                    c.request('PUT', path, hdrs, None)
                    c.send(body_of(5, 3 * MiB + 4321))
                    socks.append(c)
                for c in socks:
                    c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                      struct.pack('ii', 1, 0))
                    c.sock.close()
                srv.stop()

    def test_concurrent_big_puts(self):
        datas = [body_of(10 + i, 3 * MiB + i) for i in range(4)]
        errs = []

        def put(i):
            try:
                c = self.server.boto3_client()
                r = c.put_object(Bucket=self.bucket, Key='c%d' % i,
                                 Body=datas[i])
                if r['ETag'] != etag_of(datas[i]):
                    errs.append('etag %d' % i)
            except Exception as e:      # reported below
                errs.append(repr(e))

        ts = [threading.Thread(target=put, args=(i,)) for i in range(4)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        self.assertEqual(errs, [])
        for i in range(4):
            got = self.s3.get_object(Bucket=self.bucket, Key='c%d' % i)
            self.assertEqual(hashlib.md5(got['Body'].read()).digest(),
                             hashlib.md5(datas[i]).digest())


if __name__ == '__main__':
    unittest.main()
