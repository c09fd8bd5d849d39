"""Multipart uploads: CreateMultipartUpload, UploadPart,
CompleteMultipartUpload, AbortMultipartUpload, ListParts and
ListMultipartUploads.

A big file through boto3's upload_file/download_file at its default
concurrency (2 GiB; 128 MiB on an ASan build, S3GW_SANITIZE=1) in bounded
server memory; part order, re-uploads and completion with a subset of parts;
every error CompleteMultipartUpload and UploadPart can give; conditional
completion; ListParts and ListMultipartUploads paging; composite and
full-object checksums; the aws CLI, s3cmd and rclone; parts that outlive a
restart; and the chunk files of parts, which completion, abort and delete
must all reclaim.

Chunk files are named by the SHA-256 of their bytes and every part is cut
into chunk_size pieces from its own start, so the tests know exactly which
files a part makes and can watch them appear and go."""

import base64
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import time
import unittest
import zlib
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote
from xml.sax.saxutils import escape

from harness import (MiB, SANITIZE, ClientError, S3gwTestCase,
                     build_request, checksum_b64, clean_env, crc64nvme,
                     etag_of, figure, s3_quote, scaled, sha256_hex,
                     stream_sha256, unique_name)

PART = 5 * MiB                  # the smallest part that may be followed
CHUNK = 1 * MiB                 # chunk_size of the classes that count chunks
NS = 'http://s3.amazonaws.com/doc/2006-03-01/'

# The CRC-64/NVME the tests compute (harness.crc64nvme): reflected
# polynomial 0x9A6C9329AC4BC9B5, init and xorout all ones.
assert crc64nvme(b'123456789') == 0xAE8B14860A799888


def mp_etag(parts):
    """The ETag of an object completed from these parts (bytes, in order)."""
    h = hashlib.md5(b''.join(hashlib.md5(p).digest() for p in parts))
    return '"%s-%d"' % (h.hexdigest(), len(parts))


def chunk_names(data, size=CHUNK):
    """The chunk files one part of these bytes makes."""
    return {sha256_hex(data[i:i + size]) for i in range(0, len(data), size)}


def raw_checksum(algorithm, data):
    return base64.b64decode(checksum_b64(algorithm, data))


def part_checksum(algorithm, data):
    """UploadPart arguments that send a checksum of this algorithm: botocore
    computes CRC32, SHA1 and SHA256 itself (in a header or a trailer);
    CRC32C and CRC64NVME need awscrt, so their values are given."""
    if algorithm in ('CRC32C', 'CRC64NVME'):
        return {'Checksum' + algorithm: checksum_b64(algorithm, data)}
    return {'ChecksumAlgorithm': algorithm}


def complete_xml(parts, ns=True):
    """A <CompleteMultipartUpload> body; parts: (number, etag) pairs."""
    body = ''.join('<Part><PartNumber>%s</PartNumber><ETag>%s</ETag></Part>'
                   % (n, escape(e)) for n, e in parts)
    return ('<CompleteMultipartUpload%s>%s</CompleteMultipartUpload>'
            % (' xmlns="%s"' % NS if ns else '', body)).encode()


def wait_for(pred, timeout=5.0, step=0.05):
    """Polls pred until it is true (returns True) or timeout (False)."""
    deadline = time.monotonic() + timeout
    while True:
        if pred():
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(step)


class MultipartCase(S3gwTestCase):
    """Small chunks and a busy collector, so that chunk files of parts can
    be counted and their reclamation seen within a second or two."""

    conf = {'chunk_size': '1m', 'gc_interval': '100ms'}

    # --- shorthands ----------------------------------------------------------

    def create(self, bucket, key, client=None, **kw):
        r = (client or self.s3).create_multipart_upload(Bucket=bucket,
                                                        Key=key, **kw)
        self.assertEqual((r['Bucket'], r['Key']), (bucket, key))
        return r['UploadId']

    def part(self, bucket, key, uid, n, data, client=None, **kw):
        r = (client or self.s3).upload_part(Bucket=bucket, Key=key,
                                            UploadId=uid, PartNumber=n,
                                            Body=data, **kw)
        self.assertEqual(r['ETag'], etag_of(data))
        return r['ETag']

    def complete(self, bucket, key, uid, parts, client=None, **kw):
        """parts: (number, etag) pairs."""
        return (client or self.s3).complete_multipart_upload(
            Bucket=bucket, Key=key, UploadId=uid,
            MultipartUpload={'Parts': [{'PartNumber': n, 'ETag': e}
                                       for n, e in parts]}, **kw)

    def upload(self, bucket, key, datas, **kw):
        """A whole upload of these parts (numbered from 1); returns the
        CompleteMultipartUpload answer."""
        uid = self.create(bucket, key)
        etags = [self.part(bucket, key, uid, i + 1, d)
                 for i, d in enumerate(datas)]
        return self.complete(bucket, key, uid,
                             list(zip(range(1, len(datas) + 1), etags)), **kw)

    def body(self, bucket, key, **kw):
        return self.s3.get_object(Bucket=bucket, Key=key, **kw)['Body'].read()

    def mp_path(self, bucket, key, query):
        return '/%s/%s?%s' % (bucket, s3_quote(key), query)

    def raw_complete(self, bucket, key, uid, body, headers=None):
        return self.server.signed(
            'POST', self.mp_path(bucket, key, 'uploadId=' + uid),
            headers=headers, body=body)

    def upload_ids(self, bucket, **kw):
        r = self.s3.list_multipart_uploads(Bucket=bucket, **kw)
        return [(u['Key'], u['UploadId']) for u in r.get('Uploads', [])]

    def send_part_head(self, bucket, key, uid, n, body):
        """Opens a connection and sends UploadPart's head (signed for all
        of body); returns the connection."""
        path = self.mp_path(bucket, key, 'partNumber=%d&uploadId=%s'
                            % (n, uid))
        hdrs = self.server.sign('PUT', path, body=body)
        hdrs.append(('Content-Length', str(len(body))))
        c = self.server.conn(timeout=30)
        c.send(build_request('PUT', path, hdrs))
        return c

    # --- chunk files ---------------------------------------------------------

    def chunk_path(self, name):
        return os.path.join(self.server.data_dir, 'chunks', name[:2], name)

    def present(self, names):
        return {n for n in names if os.path.exists(self.chunk_path(n))}

    def assertChunksPresent(self, names, msg=None):
        names = set(names)
        self.assertEqual(self.present(names), names, msg)

    def assertChunksReclaimed(self, names, timeout=5.0, msg=None):
        """Every one of these chunk files disappears within timeout."""
        names = set(names)
        wait_for(lambda: not self.present(names), timeout)
        self.assertEqual(self.present(names), set(),
                         msg or 'chunk files not reclaimed')

    def settled_chunk_count(self, timeout=10.0):
        """The number of chunk files once the collector has nothing left
        to do (the same count over several collector periods)."""
        deadline = time.monotonic() + timeout
        last, same = None, 0
        while time.monotonic() < deadline:
            n = len(self.server.chunk_files())
            same = same + 1 if n == last else 0
            last = n
            if same >= 6:
                return n
            time.sleep(0.1)
        return last

    def assertError(self, code, status, fn, *args, **kw):
        return self.assertS3Error(code, status, fn, *args, **kw)

    def assertNoSuchUpload(self, b, k, uid, what='', complete=True):
        part = [(1, '"%s"' % ('0' * 32))]
        for name, fn, kw in (
                ('UploadPart', self.s3.upload_part,
                 dict(Bucket=b, Key=k, UploadId=uid, PartNumber=1,
                      Body=b'data')),
                ('ListParts', self.s3.list_parts,
                 dict(Bucket=b, Key=k, UploadId=uid)),
                ('Complete', self.complete, dict(bucket=b, key=k, uid=uid,
                                                 parts=part)),
                ('Abort', self.s3.abort_multipart_upload,
                 dict(Bucket=b, Key=k, UploadId=uid))):
            if name == 'Complete' and not complete:
                continue
            with self.subTest(op=name, case=what):
                self.assertError('NoSuchUpload', 404, fn, **kw)


# --- 1. A big file with boto3's managed transfers ----------------------------

class MultipartBigFileTest(S3gwTestCase):

    SIZE = scaled(2048 * MiB, 128 * MiB)
    BLOCK = 8 * MiB                 # = TransferConfig's default part size
    HWM_LIMIT_KIB = 64 * 1024

    def test_upload_file_download_file(self):
        work = tempfile.mkdtemp(prefix='s3gw-mp-big-')
        self.addCleanup(shutil.rmtree, work, ignore_errors=True)
        free = min(shutil.disk_usage(work).free,
                   shutil.disk_usage(self.server.data_dir).free)
        if free < 3 * self.SIZE + 512 * MiB:
            self.skipTest('only %d MiB free for 3 x %d MiB'
                          % (free // MiB, self.SIZE // MiB))
        src, dst = os.path.join(work, 'src.bin'), os.path.join(work, 'dst.bin')
        sha, part_md5s = hashlib.sha256(), []
        with open(src, 'wb') as f:
            for _ in range(self.SIZE // self.BLOCK):
                b = os.urandom(self.BLOCK)
                sha.update(b)
                part_md5s.append(hashlib.md5(b).digest())
                f.write(b)
        nparts = len(part_md5s)
        want_etag = '"%s-%d"' % (hashlib.md5(b''.join(part_md5s)).hexdigest(),
                                 nparts)
        bucket = self.new_bucket()

        t0 = time.monotonic()
        self.s3.upload_file(src, bucket, 'big.bin')
        up_s = time.monotonic() - t0
        os.unlink(src)

        h = self.s3.head_object(Bucket=bucket, Key='big.bin')
        self.assertEqual(h['ContentLength'], self.SIZE)
        self.assertEqual(h['ETag'], want_etag)
        self.assertTrue(h['ETag'].endswith('-%d"' % nparts), h['ETag'])
        self.assertEqual(self.upload_count(bucket), 0)

        t0 = time.monotonic()
        self.s3.download_file(bucket, 'big.bin', dst)
        down_s = time.monotonic() - t0
        got = hashlib.sha256()
        with open(dst, 'rb') as f:
            while True:
                b = f.read(self.BLOCK)
                if not b:
                    break
                got.update(b)
        self.assertEqual(os.path.getsize(dst), self.SIZE)
        self.assertEqual(got.hexdigest(), sha.hexdigest())
        os.unlink(dst)

        # Every 8 MiB part makes two 4 MiB chunk files, nothing more.
        self.assertEqual(len(self.server.chunk_files()),
                         self.SIZE // (4 * MiB))

        mem = self.server.rss_kib()
        mb = self.SIZE / 1e6
        figure('multipart upload_file %d MiB (%d parts): %.1f s, %.1f MB/s'
               % (self.SIZE // MiB, nparts, up_s, mb / up_s))
        figure('multipart download_file %d MiB: %.1f s, %.1f MB/s'
               % (self.SIZE // MiB, down_s, mb / down_s))
        figure('server after multipart %d MiB: VmHWM %d KiB, VmRSS %d KiB'
               % (self.SIZE // MiB, mem['VmHWM'], mem['VmRSS']))
        if not SANITIZE:
            self.assertLess(mem['VmHWM'], self.HWM_LIMIT_KIB,
                            'server memory grew with the upload')

    def upload_count(self, bucket):
        r = self.s3.list_multipart_uploads(Bucket=bucket)
        return len(r.get('Uploads', []))


# --- 2-6. The API ------------------------------------------------------------

class MultipartTest(MultipartCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.bucket = unique_name('mp')
        cls.s3.create_bucket(Bucket=cls.bucket)

    # --- round trip ----------------------------------------------------------

    def test_roundtrip_etag_metadata_ranges_part_numbers(self):
        b = self.bucket
        # Parts that do not end on chunk boundaries, and a short last one.
        d = [os.urandom(PART + 1), os.urandom(PART + 12345), os.urandom(777)]
        whole = b''.join(d)
        uid = self.create(b, 'dir/obj one', ContentType='application/x-mp',
                          Metadata={'color': 'blue'},
                          CacheControl='max-age=60', Tagging='t1=a&t2=b',
                          StorageClass='REDUCED_REDUNDANCY')
        self.assertRegex(uid, r'^[0-9a-f]{32}$')
        etags = [self.part(b, 'dir/obj one', uid, i + 1, x)
                 for i, x in enumerate(d)]
        r = self.complete(b, 'dir/obj one', uid, [(1, etags[0]),
                                                  (2, etags[1]),
                                                  (3, etags[2])])
        self.assertEqual(r['ETag'], mp_etag(d))
        self.assertEqual((r['Bucket'], r['Key']), (b, 'dir/obj one'))
        self.assertEqual(r['Location'], '%s/%s/dir/obj%%20one'
                         % (self.server.url, b))
        self.assertEqual(self.upload_ids(b, Prefix='dir/obj one'), [])

        h = self.s3.head_object(Bucket=b, Key='dir/obj one')
        self.assertEqual(h['ContentLength'], len(whole))
        self.assertEqual(h['ETag'], mp_etag(d))
        self.assertEqual(h['ContentType'], 'application/x-mp')
        self.assertEqual(h['CacheControl'], 'max-age=60')
        self.assertEqual(h['Metadata'], {'color': 'blue'})
        self.assertEqual(h.get('StorageClass'), 'REDUCED_REDUNDANCY')
        self.assertEqual(h['ResponseMetadata']['HTTPHeaders']
                         .get('x-amz-tagging-count'), '2')
        self.assertEqual(self.s3.get_object_tagging(
            Bucket=b, Key='dir/obj one')['TagSet'],
            [{'Key': 't1', 'Value': 'a'}, {'Key': 't2', 'Value': 'b'}])
        g = self.s3.get_object(Bucket=b, Key='dir/obj one')
        self.assertEqual(g['ETag'], mp_etag(d))
        self.assertEqual(stream_sha256(g['Body']),
                         (sha256_hex(whole), len(whole)))

        # Ranges across the part and chunk boundaries.
        for lo, hi in ((PART - 10, PART + 10), (0, 2 * PART + 12345 + 776),
                       (2 * PART + 12340, 2 * PART + 12350),
                       (CHUNK - 1, 3 * CHUNK + 1)):
            with self.subTest(range=(lo, hi)):
                g = self.s3.get_object(Bucket=b, Key='dir/obj one',
                                       Range='bytes=%d-%d' % (lo, hi))
                self.assertEqual(g['Body'].read(), whole[lo:hi + 1])

        # GetObject/HeadObject ?partNumber=N: that part's bytes.
        off = 0
        for n, x in enumerate(d, 1):
            with self.subTest(part=n):
                g = self.s3.get_object(Bucket=b, Key='dir/obj one',
                                       PartNumber=n)
                self.assertEqual(g['ResponseMetadata']['HTTPStatusCode'], 206)
                self.assertEqual(g['PartsCount'], 3)
                self.assertEqual(g['ContentRange'], 'bytes %d-%d/%d'
                                 % (off, off + len(x) - 1, len(whole)))
                self.assertEqual(g['Body'].read(), x)
                h = self.s3.head_object(Bucket=b, Key='dir/obj one',
                                        PartNumber=n)
                self.assertEqual(h['ContentLength'], len(x))
                off += len(x)
        self.assertError(None, 416, self.s3.head_object, Bucket=b,
                         Key='dir/obj one', PartNumber=4)
        self.assertError('InvalidPartNumber', 416, self.s3.get_object,
                         Bucket=b, Key='dir/obj one', PartNumber=4)

    def test_single_part_and_empty_part(self):
        b = self.bucket
        # One part, smaller than 5 MiB: it is the last part, so allowed.
        r = self.upload(b, 'one-small', [b'tiny'])
        self.assertEqual(r['ETag'], mp_etag([b'tiny']))
        self.assertEqual(self.body(b, 'one-small'), b'tiny')
        # One empty part: an empty object with a multipart ETag.
        r = self.upload(b, 'one-empty', [b''])
        self.assertEqual(r['ETag'], mp_etag([b'']))
        h = self.s3.head_object(Bucket=b, Key='one-empty')
        self.assertEqual((h['ContentLength'], h['ETag']), (0, mp_etag([b''])))
        self.assertEqual(self.body(b, 'one-empty'), b'')
        # A big part then an empty last one.
        d = os.urandom(PART)
        r = self.upload(b, 'then-empty', [d, b''])
        self.assertEqual(r['ETag'], mp_etag([d, b'']))
        self.assertEqual(self.body(b, 'then-empty'), d)

    # --- 2. part order, re-uploads, subsets ----------------------------------

    def test_out_of_order_and_reuploaded_parts(self):
        b, k = self.bucket, 'ooo'
        d1, d2, d3 = (os.urandom(PART + 3), os.urandom(PART + 5),
                      os.urandom(4321))
        first2 = os.urandom(PART + 7)
        uid = self.create(b, k)
        e3 = self.part(b, k, uid, 3, d3)
        e1 = self.part(b, k, uid, 1, d1)
        old2 = self.part(b, k, uid, 2, first2)
        self.assertChunksPresent(chunk_names(first2))
        e2 = self.part(b, k, uid, 2, d2)         # the later upload wins
        self.assertNotEqual(old2, e2)

        parts = self.s3.list_parts(Bucket=b, Key=k, UploadId=uid)['Parts']
        self.assertEqual([(p['PartNumber'], p['ETag'], p['Size'])
                          for p in parts],
                         [(1, e1, len(d1)), (2, e2, len(d2)),
                          (3, e3, len(d3))])
        # The replaced part's chunks are no longer held by anything.
        self.assertChunksReclaimed(chunk_names(first2))

        # The first upload of part 2 is gone: its ETag is refused.
        self.assertError('InvalidPart', 400, self.complete, b, k, uid,
                         [(1, e1), (2, old2), (3, e3)])
        r = self.complete(b, k, uid, [(1, e1), (2, e2), (3, e3)])
        self.assertEqual(r['ETag'], mp_etag([d1, d2, d3]))
        self.assertEqual(self.body(b, k), d1 + d2 + d3)

    def test_complete_with_subset_of_parts(self):
        b, k = self.bucket, 'subset'
        d = {n: os.urandom(PART + n) for n in (1, 2, 3, 4)}
        d[5] = os.urandom(1000)
        uid = self.create(b, k)
        etags = {n: self.part(b, k, uid, n, d[n]) for n in sorted(d)}
        for n in d:
            self.assertChunksPresent(chunk_names(d[n]))
        # Parts 1, 3 and 4 (not 2, not 5): 4 is the last part here.
        r = self.complete(b, k, uid, [(1, etags[1]), (3, etags[3]),
                                      (4, etags[4])])
        self.assertEqual(r['ETag'], mp_etag([d[1], d[3], d[4]]))
        self.assertEqual(self.body(b, k), d[1] + d[3] + d[4])
        self.assertEqual(self.s3.head_object(Bucket=b, Key=k)['ContentLength'],
                         3 * PART + 8)
        self.assertChunksReclaimed(chunk_names(d[2]) | chunk_names(d[5]))
        self.assertChunksPresent(chunk_names(d[1]) | chunk_names(d[3])
                                 | chunk_names(d[4]))
        g = self.s3.get_object(Bucket=b, Key=k, PartNumber=2)
        self.assertEqual((g['PartsCount'], g['Body'].read()), (3, d[3]))

    # --- 3. errors -----------------------------------------------------------

    def test_complete_errors(self):
        b, k = self.bucket, 'errors'
        d1, d2, d3, d4 = (os.urandom(PART), os.urandom(PART), b'x' * 100,
                          b'y' * 200)
        uid = self.create(b, k)
        e1, e2, e3, e4 = (self.part(b, k, uid, n, x)
                          for n, x in ((1, d1), (2, d2), (3, d3), (4, d4)))
        bad = '"%s"' % ('0' * 32)
        # InvalidPart: an ETag that is not the part's; a part never uploaded;
        # a multipart-looking ETag; an ETag that does not parse.
        for parts in ([(1, e1), (2, bad), (3, e3)],
                      [(1, e1), (2, e2), (7, e3)],
                      [(1, e1), (2, e2.rstrip('"') + '-1"')],
                      [(1, e1), (2, 'not-an-etag')]):
            with self.subTest(parts=parts):
                self.assertError('InvalidPart', 400, self.complete, b, k,
                                 uid, parts)
        # InvalidPartOrder: descending, and a number listed twice.
        for parts in ([(2, e2), (1, e1)], [(1, e1), (3, e3), (2, e2)],
                      [(1, e1), (1, e1)]):
            with self.subTest(parts=parts):
                self.assertError('InvalidPartOrder', 400, self.complete, b,
                                 k, uid, parts)
        # EntityTooSmall: a part under 5 MiB that is not the last.
        self.assertError('EntityTooSmall', 400, self.complete, b, k, uid,
                         [(1, e1), (3, e3), (4, e4)])
        self.assertError('EntityTooSmall', 400, self.complete, b, k, uid,
                         [(3, e3), (4, e4)])

        # MalformedXML: no parts, not XML, no body, the wrong root, a part
        # without a number, a number that is not one.
        path_body = [
            b'<CompleteMultipartUpload xmlns="%s"></CompleteMultipartUpload>'
            % NS.encode(),
            b'<CompleteMultipartUpload/>',
            b'garbage, not XML at all',
            b'',
            b'<CompleteMultipartUpload><Part><PartNumber>1</PartNumber>'
            b'<ETag>' + e1.encode() + b'</ETag></Part>',
            b'<Delete><Part><PartNumber>1</PartNumber><ETag>'
            + e1.encode() + b'</ETag></Part></Delete>',
            b'<CompleteMultipartUpload><Part><ETag>' + e1.encode()
            + b'</ETag></Part></CompleteMultipartUpload>',
            complete_xml([('one', e1)]),
            complete_xml([('-1', e1)]),
        ]
        for body in path_body:
            with self.subTest(body=body[:80]):
                r = self.raw_complete(b, k, uid, body)
                self.assertRawError(r, 400, 'MalformedXML')

        # None of that touched the upload.
        parts = self.s3.list_parts(Bucket=b, Key=k, UploadId=uid)['Parts']
        self.assertEqual([p['PartNumber'] for p in parts], [1, 2, 3, 4])
        self.assertFalse(self.object_exists(b, k))

        # An ETag with white space around it, as a pretty-printed document
        # has it, is still that part's ETag: the error is then about part
        # 3's size, not about an unknown part.
        r = self.raw_complete(b, k, uid, (
            '<CompleteMultipartUpload xmlns="%s">\n'
            '  <Part>\n    <PartNumber>1</PartNumber>\n'
            '    <ETag>\n      %s\n    </ETag>\n  </Part>\n'
            '  <Part><PartNumber>3</PartNumber><ETag>%s</ETag></Part>\n'
            '  <Part><PartNumber>4</PartNumber><ETag> %s </ETag></Part>\n'
            '</CompleteMultipartUpload>\n' % (NS, e1, e3, e4)).encode())
        with self.subTest('ETags padded with white space'):
            self.assertRawError(r, 400, 'EntityTooSmall')

        # ETags unquoted and entity-quoted; elements in any order.
        r = self.raw_complete(b, k, uid, (
            '<CompleteMultipartUpload xmlns="%s">'
            '<Part><PartNumber>1</PartNumber><ETag>%s</ETag></Part>'
            '<Part><PartNumber>2</PartNumber>'
            '<ETag>&quot;%s&quot;</ETag></Part>'
            '<Part><ETag>%s</ETag><PartNumber>4</PartNumber></Part>'
            '</CompleteMultipartUpload>'
            % (NS, e1.strip('"'), e2.strip('"'), e4)).encode())
        self.assertEqual(r.status, 200, r)
        root = r.xml()
        self.assertEqual(root.tag, 'CompleteMultipartUploadResult')
        self.assertEqual(root.findtext('ETag'), mp_etag([d1, d2, d4]))
        self.assertEqual(root.findtext('Key'), k)
        self.assertEqual(root.findtext('Bucket'), b)
        self.assertEqual(self.body(b, k), d1 + d2 + d4)

    def object_exists(self, b, k):
        try:
            self.s3.head_object(Bucket=b, Key=k)
            return True
        except ClientError as e:
            self.assertEqual(e.response['ResponseMetadata']['HTTPStatusCode'],
                             404)
            return False

    def test_no_such_upload(self):
        b = self.bucket
        # Ids that never existed: the right shape, the wrong shape.
        for uid in ('0' * 32, 'f' * 32, 'abc', '0' * 33, 'Z' * 32):
            self.assertNoSuchUpload(b, 'nsu', uid, 'bogus id %r' % uid)

        d = os.urandom(PART)
        # After abort.
        uid = self.create(b, 'nsu')
        self.part(b, 'nsu', uid, 1, d)
        r = self.s3.abort_multipart_upload(Bucket=b, Key='nsu', UploadId=uid)
        self.assertEqual(r['ResponseMetadata']['HTTPStatusCode'], 204)
        self.assertNoSuchUpload(b, 'nsu', uid, 'after abort')
        self.assertChunksReclaimed(chunk_names(d))

        # After complete.
        uid = self.create(b, 'nsu')
        e = self.part(b, 'nsu', uid, 1, b'done')
        self.complete(b, 'nsu', uid, [(1, e)])
        # A retried Complete answers as the first one did while the key
        # holds its object (test_multipart_retry.py).
        self.assertNoSuchUpload(b, 'nsu', uid, 'after complete',
                                complete=False)
        self.assertEqual(self.body(b, 'nsu'), b'done')

        # An upload id used with another key, or another bucket.
        other = self.new_bucket(hint='nsu-other')
        uid = self.create(b, 'owner-key')
        e = self.part(b, 'owner-key', uid, 1, b'mine')
        self.assertNoSuchUpload(b, 'other-key', uid, 'other key')
        self.assertNoSuchUpload(b, 'owner-key/', uid, 'key + suffix')
        self.assertNoSuchUpload(b, 'owner-ke', uid, 'key prefix')
        self.assertNoSuchUpload(other, 'owner-key', uid, 'other bucket')
        self.assertError('NoSuchBucket', 404, self.s3.list_parts,
                         Bucket='no-such-bucket-mp', Key='owner-key',
                         UploadId=uid)
        # ... and the upload is intact.
        parts = self.s3.list_parts(Bucket=b, Key='owner-key',
                                   UploadId=uid)['Parts']
        self.assertEqual([(p['PartNumber'], p['ETag']) for p in parts],
                         [(1, e)])
        self.complete(b, 'owner-key', uid, [(1, e)])
        self.assertEqual(self.body(b, 'owner-key'), b'mine')
        self.assertFalse(self.object_exists(b, 'other-key'))

        # CreateMultipartUpload in a bucket that does not exist.
        self.assertError('NoSuchBucket', 404, self.s3.create_multipart_upload,
                         Bucket='no-such-bucket-mp', Key='k')

    def test_part_number_bounds(self):
        b, k = self.bucket, 'partno'
        uid = self.create(b, k)
        for n in (0, 10001, 65536 + 1, 4294967297):
            with self.subTest(part=n):
                self.assertError('InvalidArgument', 400, self.s3.upload_part,
                                 Bucket=b, Key=k, UploadId=uid, PartNumber=n,
                                 Body=b'x')
        for q in ('partNumber=abc', 'partNumber=-1', 'partNumber=',
                  'partNumber=1.5', 'partNumber=%2B1'):
            with self.subTest(query=q):
                r = self.server.signed(
                    'PUT', self.mp_path(b, k, '%s&uploadId=%s' % (q, uid)),
                    body=b'x')
                self.assertRawError(r, 400, 'InvalidArgument')
        # 1 and 10000 are both fine; nothing else was stored.
        e1 = self.part(b, k, uid, 1, b'first')
        e2 = self.part(b, k, uid, 10000, b'last')
        parts = self.s3.list_parts(Bucket=b, Key=k, UploadId=uid)['Parts']
        self.assertEqual([(p['PartNumber'], p['ETag']) for p in parts],
                         [(1, e1), (10000, e2)])
        # A part number out of range in CompleteMultipartUpload.
        for n in ('0', '10001'):
            with self.subTest(complete_part=n):
                r = self.raw_complete(b, k, uid, complete_xml([(n, e1)]))
                self.assertEqual(r.status, 400, r)
                self.assertIn(r.code, ('MalformedXML', 'InvalidArgument',
                                       'InvalidPart'), r)
        self.s3.abort_multipart_upload(Bucket=b, Key=k, UploadId=uid)

    def test_other_user_is_refused(self):
        b, k = self.bucket, 'private'
        uid = self.create(b, k)
        e = self.part(b, k, uid, 1, b'secret')
        bob = self.server.boto3_client('bob')
        for name, fn, kw in (
                ('Create', bob.create_multipart_upload, dict(Bucket=b, Key=k)),
                ('UploadPart', bob.upload_part,
                 dict(Bucket=b, Key=k, UploadId=uid, PartNumber=1,
                      Body=b'evil')),
                ('ListParts', bob.list_parts,
                 dict(Bucket=b, Key=k, UploadId=uid)),
                ('ListUploads', bob.list_multipart_uploads, dict(Bucket=b)),
                ('Complete', bob.complete_multipart_upload,
                 dict(Bucket=b, Key=k, UploadId=uid,
                      MultipartUpload={'Parts': [{'PartNumber': 1,
                                                  'ETag': e}]})),
                ('Abort', bob.abort_multipart_upload,
                 dict(Bucket=b, Key=k, UploadId=uid))):
            with self.subTest(op=name):
                self.assertError('AccessDenied', 403, fn, **kw)
        parts = self.s3.list_parts(Bucket=b, Key=k, UploadId=uid)['Parts']
        self.assertEqual([(p['PartNumber'], p['ETag']) for p in parts],
                         [(1, e)])
        self.s3.abort_multipart_upload(Bucket=b, Key=k, UploadId=uid)

    # --- 4. conditional completion -------------------------------------------

    def test_conditional_complete(self):
        b = self.bucket
        old = self.s3.put_object(Bucket=b, Key='cond', Body=b'old')['ETag']
        uid = self.create(b, 'cond')
        e = self.part(b, 'cond', uid, 1, b'new')
        self.assertError('PreconditionFailed', 412, self.complete, b, 'cond',
                         uid, [(1, e)], IfNoneMatch='*')
        self.assertError('PreconditionFailed', 412, self.complete, b, 'cond',
                         uid, [(1, e)], IfMatch='"%s"' % ('1' * 32))
        self.assertError('PreconditionFailed', 412, self.complete, b, 'cond',
                         uid, [(1, e)], IfMatch=old.rstrip('"') + '-1"')
        # Failed preconditions leave both the object and the upload.
        self.assertEqual(self.body(b, 'cond'), b'old')
        parts = self.s3.list_parts(Bucket=b, Key='cond', UploadId=uid)['Parts']
        self.assertEqual([p['ETag'] for p in parts], [e])
        r = self.complete(b, 'cond', uid, [(1, e)], IfMatch=old)
        self.assertEqual(r['ETag'], mp_etag([b'new']))
        self.assertEqual(self.body(b, 'cond'), b'new')
        # If-Match now needs the multipart ETag.
        uid = self.create(b, 'cond')
        e2 = self.part(b, 'cond', uid, 1, b'newer')
        self.assertError('PreconditionFailed', 412, self.complete, b, 'cond',
                         uid, [(1, e2)], IfMatch=old)
        r = self.complete(b, 'cond', uid, [(1, e2)], IfMatch=mp_etag([b'new']))
        self.assertEqual(self.body(b, 'cond'), b'newer')

        # If-None-Match: * on a new key succeeds, once.
        u1, u2 = self.create(b, 'cond-new'), self.create(b, 'cond-new')
        e1 = self.part(b, 'cond-new', u1, 1, b'one')
        e2 = self.part(b, 'cond-new', u2, 1, b'two')
        self.complete(b, 'cond-new', u1, [(1, e1)], IfNoneMatch='*')
        self.assertError('PreconditionFailed', 412, self.complete, b,
                         'cond-new', u2, [(1, e2)], IfNoneMatch='*')
        self.assertEqual(self.body(b, 'cond-new'), b'one')
        # If-Match on a key that does not exist.
        u3 = self.create(b, 'cond-missing')
        e3 = self.part(b, 'cond-missing', u3, 1, b'three')
        self.assertError('NoSuchKey', 404, self.complete, b, 'cond-missing',
                         u3, [(1, e3)], IfMatch=old)
        for u, k in ((u2, 'cond-new'), (u3, 'cond-missing')):
            self.s3.abort_multipart_upload(Bucket=b, Key=k, UploadId=u)

    # --- 5. listing ----------------------------------------------------------

    def test_list_parts_pagination(self):
        b, k = self.bucket, 'lp'
        uid = self.create(b, k)
        datas = {n: os.urandom(10 + n) for n in (1, 2, 3, 5, 8)}
        etags = {n: self.part(b, k, uid, n, d) for n, d in datas.items()}

        r = self.s3.list_parts(Bucket=b, Key=k, UploadId=uid)
        self.assertEqual((r['Bucket'], r['Key'], r['UploadId']), (b, k, uid))
        self.assertFalse(r['IsTruncated'])
        self.assertEqual(r['Initiator']['ID'], r['Owner']['ID'])
        self.assertEqual(r['StorageClass'], 'STANDARD')
        for p in r['Parts']:
            self.assertEqual(p['ETag'], etags[p['PartNumber']])
            self.assertEqual(p['Size'], len(datas[p['PartNumber']]))
            self.assertIn('LastModified', p)
        self.assertEqual([p['PartNumber'] for p in r['Parts']],
                         [1, 2, 3, 5, 8])

        pages, marker = [], None
        for _ in range(10):
            kw = {} if marker is None else {'PartNumberMarker': marker}
            r = self.s3.list_parts(Bucket=b, Key=k, UploadId=uid, MaxParts=2,
                                   **kw)
            self.assertEqual(r['MaxParts'], 2)
            self.assertEqual(r['PartNumberMarker'], marker or 0)
            nums = [p['PartNumber'] for p in r['Parts']]
            pages.append(nums)
            if not r['IsTruncated']:
                break
            self.assertEqual(r['NextPartNumberMarker'], nums[-1])
            marker = r['NextPartNumberMarker']
        self.assertEqual(pages, [[1, 2], [3, 5], [8]])

        # A marker between parts, and past the last one.
        r = self.s3.list_parts(Bucket=b, Key=k, UploadId=uid,
                               PartNumberMarker=4)
        self.assertEqual([p['PartNumber'] for p in r['Parts']], [5, 8])
        r = self.s3.list_parts(Bucket=b, Key=k, UploadId=uid,
                               PartNumberMarker=8)
        self.assertEqual((r.get('Parts', []), r['IsTruncated']), ([], False))
        # boto3's paginator sees every part once.
        seen = []
        for page in self.s3.get_paginator('list_parts').paginate(
                Bucket=b, Key=k, UploadId=uid,
                PaginationConfig={'PageSize': 2}):
            seen.extend(p['PartNumber'] for p in page.get('Parts', []))
        self.assertEqual(seen, [1, 2, 3, 5, 8])
        for q in ('max-parts=abc', 'part-number-marker=-1'):
            with self.subTest(query=q):
                r = self.server.signed('GET', self.mp_path(
                    b, k, '%s&uploadId=%s' % (q, uid)))
                self.assertRawError(r, 400, 'InvalidArgument')
        self.s3.abort_multipart_upload(Bucket=b, Key=k, UploadId=uid)

    def test_list_parts_of_many_parts(self):
        """More parts than one ListParts page (1000) holds, numbered past
        255 (two-byte part numbers sort numerically, not by their low
        byte), uploaded concurrently."""
        b, k = self.bucket, 'many-parts'
        uid = self.create(b, k)
        numbers = list(range(1, 1001)) + [1025, 1280, 4096, 9999, 10000]
        client = self.server.boto3_client(max_pool_connections=10)

        def put(n):
            return n, client.upload_part(Bucket=b, Key=k, UploadId=uid,
                                         PartNumber=n,
                                         Body=b'part %d' % n)['ETag']
        with ThreadPoolExecutor(8) as ex:
            etags = dict(ex.map(put, reversed(numbers)))
        r = self.s3.list_parts(Bucket=b, Key=k, UploadId=uid)
        self.assertTrue(r['IsTruncated'])
        self.assertEqual(r['MaxParts'], 1000)
        self.assertEqual([p['PartNumber'] for p in r['Parts']],
                         list(range(1, 1001)))
        self.assertEqual(r['NextPartNumberMarker'], 1000)
        r = self.s3.list_parts(Bucket=b, Key=k, UploadId=uid, MaxParts=5000,
                               PartNumberMarker=1000)
        self.assertFalse(r['IsTruncated'])
        self.assertEqual([(p['PartNumber'], p['ETag']) for p in r['Parts']],
                         [(n, etags[n]) for n in numbers[1000:]])
        seen = []
        for page in self.s3.get_paginator('list_parts').paginate(
                Bucket=b, Key=k, UploadId=uid):
            seen += [(p['PartNumber'], p['ETag']) for p in page['Parts']]
        self.assertEqual(seen, [(n, etags[n]) for n in numbers])
        # Completing from parts 1 and 10000 only: too small, and nothing
        # else; the last part alone is fine.
        self.assertError('EntityTooSmall', 400, self.complete, b, k, uid,
                         [(1, etags[1]), (10000, etags[10000])])
        self.complete(b, k, uid, [(10000, etags[10000])])
        self.assertEqual(self.body(b, k), b'part 10000')

    def list_all_uploads(self, bucket, page_size, **kw):
        """Every page of ListMultipartUploads; returns (uploads as
        (key, id), common prefixes, pages)."""
        ups, cps, marker, pages = [], [], None, 0
        for _ in range(40):
            args = dict(kw, MaxUploads=page_size)
            if marker is not None:
                args['KeyMarker'], args['UploadIdMarker'] = marker
            r = self.s3.list_multipart_uploads(Bucket=bucket, **args)
            pages += 1
            ups += [(u['Key'], u['UploadId']) for u in r.get('Uploads', [])]
            cps += [c['Prefix'] for c in r.get('CommonPrefixes', [])]
            if not r['IsTruncated']:
                return ups, cps, pages
            marker = (r['NextKeyMarker'], r.get('NextUploadIdMarker') or '')
        self.fail('ListMultipartUploads never stopped being truncated; '
                  'so far %d uploads, prefixes %r' % (len(ups), cps[:12]))

    def test_list_multipart_uploads(self):
        b = self.new_bucket()
        keys = ['a/1', 'a/2', 'b/x/1', 'c', 'c', 'c', 'd']
        # All begun in one second (the three of 'c' then sort by id); see
        # test_list_multipart_uploads_pages_within_one_key for the others.
        if time.time() % 1 > 0.5:
            time.sleep(1.01 - time.time() % 1)
        made = [(k, self.create(b, k)) for k in keys]
        ids = {}
        for k, u in made:
            ids.setdefault(k, []).append(u)

        r = self.s3.list_multipart_uploads(Bucket=b)
        self.assertEqual(r['Bucket'], b)
        self.assertFalse(r['IsTruncated'])
        got = [(u['Key'], u['UploadId']) for u in r['Uploads']]
        self.assertEqual(sorted(got), sorted(made))
        self.assertEqual([k for k, _ in got], sorted(keys))
        for u in r['Uploads']:
            self.assertEqual(u['StorageClass'], 'STANDARD')
            self.assertEqual(u['Initiator']['ID'], u['Owner']['ID'])
            self.assertIn('Initiated', u)

        self.assertEqual(self.upload_ids(b, Prefix='a/'),
                         [('a/1', ids['a/1'][0]), ('a/2', ids['a/2'][0])])
        self.assertEqual(self.upload_ids(b, Prefix='zzz'), [])

        r = self.s3.list_multipart_uploads(Bucket=b, Delimiter='/')
        self.assertEqual([u['Key'] for u in r['Uploads']],
                         ['c', 'c', 'c', 'd'])
        self.assertEqual([c['Prefix'] for c in r['CommonPrefixes']],
                         ['a/', 'b/'])
        self.assertEqual(r['Delimiter'], '/')
        r = self.s3.list_multipart_uploads(Bucket=b, Delimiter='/',
                                           Prefix='b/')
        self.assertNotIn('Uploads', r)
        self.assertEqual([c['Prefix'] for c in r['CommonPrefixes']], ['b/x/'])
        r = self.s3.list_multipart_uploads(Bucket=b, Delimiter='/',
                                           Prefix='a/')
        self.assertEqual([u['Key'] for u in r['Uploads']], ['a/1', 'a/2'])
        self.assertNotIn('CommonPrefixes', r)

        # key-marker alone: keys after it.
        self.assertEqual([k for k, _ in self.upload_ids(b, KeyMarker='b/x/1')],
                         ['c', 'c', 'c', 'd'])
        self.assertEqual([k for k, _ in self.upload_ids(b, KeyMarker='c')],
                         ['d'])
        # upload-id-marker: the uploads of key-marker after that one.
        c_ids = [u for k, u in self.upload_ids(b, Prefix='c')]
        self.assertEqual(sorted(c_ids), sorted(ids['c']))
        after = self.upload_ids(b, KeyMarker='c', UploadIdMarker=c_ids[0])
        self.assertEqual(after, [('c', c_ids[1]), ('c', c_ids[2]),
                                 ('d', ids['d'][0])])
        # upload-id-marker without key-marker is ignored.
        self.assertEqual(len(self.upload_ids(b, UploadIdMarker=c_ids[0])), 7)

        r = self.s3.list_multipart_uploads(Bucket=b, MaxUploads=2)
        self.assertTrue(r['IsTruncated'])
        self.assertEqual(r['MaxUploads'], 2)
        self.assertEqual([u['Key'] for u in r['Uploads']], ['a/1', 'a/2'])
        self.assertEqual(r['NextKeyMarker'], 'a/2')
        self.assertEqual(r['NextUploadIdMarker'], ids['a/2'][0])

        # Paging one by one sees every upload once, in order.
        ups, cps, pages = self.list_all_uploads(b, 1)
        self.assertEqual(ups, got)
        self.assertEqual(pages, 7)
        ups, cps, _ = self.list_all_uploads(b, 3)
        self.assertEqual(ups, got)

        # Aborted and completed uploads leave the listing.
        self.s3.abort_multipart_upload(Bucket=b, Key='c', UploadId=c_ids[1])
        e = self.part(b, 'd', ids['d'][0], 1, b'd')
        self.complete(b, 'd', ids['d'][0], [(1, e)])
        self.assertEqual(sorted(u for _, u in self.upload_ids(b)),
                         sorted(u for k, u in made
                                if u not in (c_ids[1], ids['d'][0])))

    def test_list_multipart_uploads_pages_with_delimiter(self):
        """A page that ends on a common prefix: the next page starts after
        every upload under it (as ListObjects does), not inside it."""
        b = self.new_bucket()
        keys = ['a/1', 'a/2', 'a/3', 'b/1', 'b/2', 'c', 'd/1']
        for k in keys:
            self.create(b, k)
        r = self.s3.list_multipart_uploads(Bucket=b, Delimiter='/')
        self.assertEqual([c['Prefix'] for c in r['CommonPrefixes']],
                         ['a/', 'b/', 'd/'])
        self.assertEqual([u['Key'] for u in r['Uploads']], ['c'])
        for size in (1, 2):
            with self.subTest(page_size=size):
                ups, cps, _ = self.list_all_uploads(b, size, Delimiter='/')
                self.assertEqual(cps, ['a/', 'b/', 'd/'])
                self.assertEqual([k for k, _ in ups], ['c'])

    def test_list_multipart_uploads_pages_within_one_key(self):
        """Several uploads of one key, begun in different seconds: listed by
        initiation time, and paging one at a time loses none of them even
        when a later upload's id sorts before an earlier one's."""
        b, k = self.new_bucket(), 'same-key'
        made = []
        for _ in range(8):
            time.sleep(1.02 - time.time() % 1)
            made.append(self.create(b, k))
            if any(made[i] > made[j] for i in range(len(made))
                   for j in range(i + 1, len(made))):
                break
        r = self.s3.list_multipart_uploads(Bucket=b)
        listed = [u['UploadId'] for u in r['Uploads']]
        self.assertEqual(listed, made, 'not in initiation order')
        inits = [u['Initiated'] for u in r['Uploads']]
        self.assertEqual(inits, sorted(inits))
        ups, _, _ = self.list_all_uploads(b, 1)
        self.assertEqual([u for _, u in ups], made,
                         'paging with max-uploads=1 lost or repeated uploads')

    def test_abort_every_upload_while_paging(self):
        """The cleanup loop everyone writes: page through the uploads and
        abort each one as it is listed. The next page's upload-id-marker
        then names an upload that is gone; the listing must still go on
        with the uploads after it."""
        b = self.new_bucket()
        keys = ['k', 'k', 'k', 'k', 'm', 'm', 'n']
        made = [self.create(b, k) for k in keys]
        aborted = []
        for page in self.s3.get_paginator('list_multipart_uploads').paginate(
                Bucket=b, PaginationConfig={'PageSize': 1}):
            for u in page.get('Uploads', []):
                self.s3.abort_multipart_upload(Bucket=b, Key=u['Key'],
                                               UploadId=u['UploadId'])
                aborted.append(u['UploadId'])
        with self.subTest('aborted while paging'):
            self.assertEqual(self.upload_ids(b), [],
                             'the loop aborted %d of %d uploads'
                             % (len(aborted), len(made)))
            self.assertEqual(sorted(aborted), sorted(made))
        for k, u in self.upload_ids(b):
            self.s3.abort_multipart_upload(Bucket=b, Key=k, UploadId=u)

        # The same with the marker's upload completed instead.
        made = [self.create(b, 'k') for _ in range(3)]
        r = self.s3.list_multipart_uploads(Bucket=b, MaxUploads=1)
        first = r['Uploads'][0]['UploadId']
        e = self.part(b, 'k', first, 1, b'k')
        self.complete(b, 'k', first, [(1, e)])
        rest = self.upload_ids(b, KeyMarker=r['NextKeyMarker'],
                               UploadIdMarker=r['NextUploadIdMarker'])
        with self.subTest('the marker\'s upload completed'):
            self.assertEqual(sorted(u for _, u in rest),
                             sorted(u for u in made if u != first))

    def test_upload_ids_are_unguessable(self):
        b = self.bucket
        ids = [self.create(b, 'ids') for _ in range(20)]
        ids += [self.create(b, 'ids-%d' % i) for i in range(5)]
        for u in ids:
            self.assertRegex(u, r'^[0-9a-f]{32}$')
        self.assertEqual(len(set(ids)), len(ids))
        # Not a counter: ids made one after the other differ widely.
        for a, z in zip(ids, ids[1:]):
            self.assertGreater(sum(x != y for x, y in zip(a, z)), 8, (a, z))
        for k, u in self.upload_ids(b, Prefix='ids'):
            self.s3.abort_multipart_upload(Bucket=b, Key=k, UploadId=u)
        self.assertEqual(self.upload_ids(b, Prefix='ids'), [])

    def test_keys_long_and_unicode(self):
        b = self.new_bucket()
        keys = ['\u00fc/\u00f1 \u540d\u524d+%&?=.txt', 'K' * 1024,
                'L' * 500 + 'b', 'L' * 500 + 'a']
        datas = {}
        uids = {k: self.create(b, k) for k in keys}
        r = self.s3.list_multipart_uploads(Bucket=b)
        self.assertEqual([u['Key'] for u in r['Uploads']], sorted(keys))
        # encoding-type=url (botocore leaves these keys encoded).
        r = self.s3.list_multipart_uploads(Bucket=b, EncodingType='url')
        self.assertEqual(r.get('EncodingType'), 'url')
        self.assertEqual([u['Key'] for u in r['Uploads']],
                         [quote(k, safe='/') for k in sorted(keys)])
        self.assertEqual([c['Prefix'] for c in self.s3.list_multipart_uploads(
            Bucket=b, Delimiter='/').get('CommonPrefixes', [])], ['\u00fc/'])
        for k in keys:
            with self.subTest(key=k[:20]):
                datas[k] = os.urandom(PART + 1)
                e1 = self.part(b, k, uids[k], 1, datas[k])
                e2 = self.part(b, k, uids[k], 2, k.encode())
                lp = self.s3.list_parts(Bucket=b, Key=k, UploadId=uids[k])
                self.assertEqual(lp['Key'], k)
                r = self.complete(b, k, uids[k], [(1, e1), (2, e2)])
                self.assertEqual(r['Key'], k)
                self.assertEqual(self.body(b, k), datas[k] + k.encode())
        self.assertEqual(sorted(o['Key'] for o in self.s3.list_objects_v2(
            Bucket=b)['Contents']), sorted(keys))
        self.assertError('KeyTooLongError', 400,
                         self.s3.create_multipart_upload, Bucket=b,
                         Key='K' * 1025)

    def test_part_too_large_is_refused_before_its_body(self):
        b, k = self.bucket, 'too-large'
        uid = self.create(b, k)
        path = self.mp_path(b, k, 'partNumber=1&uploadId=' + uid)
        hdrs = self.server.sign('PUT', path, payload_hash='UNSIGNED-PAYLOAD')
        hdrs.append(('Content-Length', str(5 * 1024 * MiB + 1)))
        with self.server.conn() as c:
            c.request('PUT', path, hdrs)
            r = c.read_response('PUT')
        self.assertRawError(r, 400, 'EntityTooLarge')
        # No Content-Length at all.
        r = self.server.http('PUT', path, self.server.sign('PUT', path))
        self.assertRawError(r, 411, 'MissingContentLength')
        self.assertEqual(self.s3.list_parts(Bucket=b, Key=k, UploadId=uid)
                         .get('Parts', []), [])
        # A CompleteMultipartUpload body far larger than 10000 parts need.
        body = b'<CompleteMultipartUpload>' + b' ' * (8 * MiB)
        path = self.mp_path(b, k, 'uploadId=' + uid)
        hdrs = self.server.sign('POST', path, body=body)
        hdrs.append(('Content-Length', str(len(body))))
        with self.server.conn() as c:
            c.send(build_request('POST', path, hdrs) + body[:4096])
            r = c.read_response('POST')
        self.assertRawError(r, 400, 'EntityTooLarge')
        self.s3.abort_multipart_upload(Bucket=b, Key=k, UploadId=uid)

    def test_abort_while_a_part_streams_in(self):
        b, k = self.bucket, 'abort-midway'
        uid = self.create(b, k)
        kept = os.urandom(PART)
        e1 = self.part(b, k, uid, 1, kept)
        body = os.urandom(3 * CHUNK + 5)
        with self.send_part_head(b, k, uid, 2, body) as c:
            c.send(body[:2 * CHUNK + 100])
            time.sleep(0.3)
            self.s3.abort_multipart_upload(Bucket=b, Key=k, UploadId=uid)
            c.send(body[2 * CHUNK + 100:])
            r = c.read_response('PUT')
        self.assertRawError(r, 404, 'NoSuchUpload')
        self.assertNoSuchUpload(b, k, uid, 'aborted while a part came in')
        self.assertChunksReclaimed(chunk_names(body) | chunk_names(kept))
        self.assertTrue(wait_for(lambda: not self.server.tmp_files()),
                        self.server.tmp_files())
        self.assertError('InvalidPart', 400, self.complete, b, k,
                         self.create(b, k), [(1, e1)])

    def test_client_gone_midway_through_a_part(self):
        b, k = self.bucket, 'gone-midway'
        uid = self.create(b, k)
        body = os.urandom(3 * CHUNK + 5)
        c = self.send_part_head(b, k, uid, 1, body)
        c.send(body[:2 * CHUNK + 100])
        time.sleep(0.3)
        c.close()
        self.assertChunksReclaimed(chunk_names(body))
        self.assertTrue(wait_for(lambda: not self.server.tmp_files()),
                        self.server.tmp_files())
        self.assertEqual(self.s3.list_parts(Bucket=b, Key=k, UploadId=uid)
                         .get('Parts', []), [])
        # The upload itself goes on.
        e = self.part(b, k, uid, 1, body)
        self.complete(b, k, uid, [(1, e)])
        self.assertEqual(self.body(b, k), body)

    # --- 6. checksums --------------------------------------------------------

    def test_composite_checksums(self):
        b = self.bucket
        datas = [os.urandom(PART + 7), os.urandom(PART + 1), os.urandom(1000)]
        for alg in ('CRC32', 'SHA256', 'CRC32C', 'SHA1'):
            with self.subTest(algorithm=alg):
                k = 'ck-composite-' + alg
                field = 'Checksum' + alg
                r = self.s3.create_multipart_upload(Bucket=b, Key=k,
                                                    ChecksumAlgorithm=alg)
                uid = r['UploadId']
                self.assertEqual(r.get('ChecksumAlgorithm'), alg)
                self.assertEqual(r.get('ChecksumType'), 'COMPOSITE')
                parts = []
                for n, d in enumerate(datas, 1):
                    p = self.s3.upload_part(Bucket=b, Key=k, UploadId=uid,
                                            PartNumber=n, Body=d,
                                            **part_checksum(alg, d))
                    self.assertEqual(p[field], checksum_b64(alg, d))
                    parts.append({'PartNumber': n, 'ETag': p['ETag'],
                                  field: p[field]})
                lp = self.s3.list_parts(Bucket=b, Key=k, UploadId=uid)
                self.assertEqual(lp.get('ChecksumAlgorithm'), alg)
                self.assertEqual([p.get(field) for p in lp['Parts']],
                                 [checksum_b64(alg, d) for d in datas])
                want = '%s-%d' % (checksum_b64(alg, b''.join(
                    raw_checksum(alg, d) for d in datas)), len(datas))
                r = self.s3.complete_multipart_upload(
                    Bucket=b, Key=k, UploadId=uid,
                    MultipartUpload={'Parts': parts})
                self.assertEqual(r.get(field), want)
                self.assertEqual(r.get('ChecksumType'), 'COMPOSITE')
                self.assertEqual(r['ETag'], mp_etag(datas))
                h = self.s3.head_object(Bucket=b, Key=k,
                                        ChecksumMode='ENABLED')
                self.assertEqual(h.get(field), want)
                self.assertEqual(h.get('ChecksumType'), 'COMPOSITE')
                g = self.s3.get_object(Bucket=b, Key=k, ChecksumMode='ENABLED')
                self.assertEqual(g.get(field), want)
                self.assertEqual(g['Body'].read(), b''.join(datas))

    def test_full_object_checksums(self):
        b = self.bucket
        datas = [os.urandom(PART + 3), os.urandom(PART + 5), os.urandom(777)]
        whole = b''.join(datas)
        for alg in ('CRC32', 'CRC32C', 'CRC64NVME'):
            with self.subTest(algorithm=alg):
                k = 'ck-full-' + alg
                field = 'Checksum' + alg
                r = self.s3.create_multipart_upload(
                    Bucket=b, Key=k, ChecksumAlgorithm=alg,
                    ChecksumType='FULL_OBJECT')
                uid = r['UploadId']
                self.assertEqual(r.get('ChecksumType'), 'FULL_OBJECT')
                parts = []
                for n, d in enumerate(datas, 1):
                    p = self.s3.upload_part(Bucket=b, Key=k, UploadId=uid,
                                            PartNumber=n, Body=d,
                                            **part_checksum(alg, d))
                    self.assertEqual(p[field], checksum_b64(alg, d))
                    parts.append({'PartNumber': n, 'ETag': p['ETag'],
                                  field: p[field]})
                want = checksum_b64(alg, whole)
                r = self.s3.complete_multipart_upload(
                    Bucket=b, Key=k, UploadId=uid,
                    MultipartUpload={'Parts': parts})
                self.assertEqual(r.get(field), want)
                self.assertEqual(r.get('ChecksumType'), 'FULL_OBJECT')
                h = self.s3.head_object(Bucket=b, Key=k,
                                        ChecksumMode='ENABLED')
                self.assertEqual(h.get(field), want)
                self.assertEqual(h.get('ChecksumType'), 'FULL_OBJECT')
                if alg == 'CRC32':
                    self.assertEqual(base64.b64decode(h[field]),
                                     (zlib.crc32(whole) & 0xFFFFFFFF)
                                     .to_bytes(4, 'big'))
                # botocore checks a full-object checksum as it reads.
                g = self.s3.get_object(Bucket=b, Key=k, ChecksumMode='ENABLED')
                self.assertEqual(g['Body'].read(), whole)

        # CRC64NVME is full-object even when not asked; SHA256 cannot be.
        r = self.s3.create_multipart_upload(Bucket=b, Key='ck-nvme',
                                            ChecksumAlgorithm='CRC64NVME')
        self.assertEqual(r.get('ChecksumType'), 'FULL_OBJECT')
        self.s3.abort_multipart_upload(Bucket=b, Key='ck-nvme',
                                       UploadId=r['UploadId'])
        for alg, typ in (('SHA256', 'FULL_OBJECT'), ('SHA1', 'FULL_OBJECT'),
                         ('CRC64NVME', 'COMPOSITE'), ('MD5', None),
                         (None, 'COMPOSITE'), ('CRC32', 'BOTH')):
            with self.subTest(algorithm=alg, type=typ):
                kw = {}
                if alg:
                    kw['ChecksumAlgorithm'] = alg
                if typ:
                    kw['ChecksumType'] = typ
                self.assertError('InvalidRequest', 400,
                                 self.s3.create_multipart_upload, Bucket=b,
                                 Key='ck-bad', **kw)
        self.assertEqual(self.upload_ids(b, Prefix='ck-bad'), [])

    def test_checksums_of_a_subset_of_parts(self):
        """Only the parts listed in the completion count, in both kinds."""
        b = self.bucket
        d = {n: os.urandom(PART + n) for n in (1, 2, 3)}
        for alg, typ in (('SHA256', 'COMPOSITE'), ('CRC32', 'FULL_OBJECT')):
            with self.subTest(algorithm=alg, type=typ):
                k = 'ck-subset-%s' % alg
                field = 'Checksum' + alg
                uid = self.create(b, k, ChecksumAlgorithm=alg,
                                  ChecksumType=typ)
                etags = {n: self.part(b, k, uid, n, d[n],
                                      **part_checksum(alg, d[n]))
                         for n in (1, 2, 3)}
                r = self.s3.complete_multipart_upload(
                    Bucket=b, Key=k, UploadId=uid, MultipartUpload={
                        'Parts': [{'PartNumber': n, 'ETag': etags[n],
                                   field: checksum_b64(alg, d[n])}
                                  for n in (1, 3)]})
                if typ == 'COMPOSITE':
                    want = '%s-2' % checksum_b64(alg, raw_checksum(alg, d[1])
                                                 + raw_checksum(alg, d[3]))
                else:
                    want = checksum_b64(alg, d[1] + d[3])
                self.assertEqual(r.get(field), want)
                h = self.s3.head_object(Bucket=b, Key=k,
                                        ChecksumMode='ENABLED')
                self.assertEqual((h.get(field), h.get('ChecksumType')),
                                 (want, typ))
                self.assertEqual(self.body(b, k), d[1] + d[3])

    def test_complete_checks_the_checksums_it_is_given(self):
        """Checksums a client sends with CompleteMultipartUpload (each
        part's in the document, the whole object's in a header) are
        verified: a wrong one fails the completion."""
        b = self.bucket
        d1, d2 = os.urandom(PART + 1), os.urandom(1000)

        def attempt(alg, typ, ck2=None, **kw):
            field = 'Checksum' + alg
            k = 'ck-verify-%s' % alg
            uid = self.create(b, k, ChecksumAlgorithm=alg, ChecksumType=typ)
            e1 = self.part(b, k, uid, 1, d1, **part_checksum(alg, d1))
            e2 = self.part(b, k, uid, 2, d2, **part_checksum(alg, d2))
            return self.s3.complete_multipart_upload(
                Bucket=b, Key=k, UploadId=uid, MultipartUpload={'Parts': [
                    {'PartNumber': 1, 'ETag': e1,
                     field: checksum_b64(alg, d1)},
                    {'PartNumber': 2, 'ETag': e2,
                     field: ck2 or checksum_b64(alg, d2)}]}, **kw)

        cases = [('SHA256', 'COMPOSITE', 'part',
                  dict(ck2=checksum_b64('SHA256', d2 + b'!'))),
                 ('CRC32', 'FULL_OBJECT', 'part',
                  dict(ck2=checksum_b64('CRC32', d2 + b'!'))),
                 ('CRC32', 'FULL_OBJECT', 'object',
                  dict(ChecksumCRC32=checksum_b64('CRC32', d1)))]
        for alg, typ, wrong, kw in cases:
            with self.subTest(algorithm=alg, wrong=wrong):
                with self.assertRaises(ClientError) as cm:
                    attempt(alg, typ, **kw)
                resp = cm.exception.response
                self.assertEqual(resp['ResponseMetadata']['HTTPStatusCode'],
                                 400)
                self.assertIn(resp['Error']['Code'],
                              ('InvalidPart', 'BadDigest', 'InvalidRequest'))
        # The right ones complete it.
        r = attempt('CRC32', 'FULL_OBJECT',
                    ChecksumCRC32=checksum_b64('CRC32', d1 + d2))
        self.assertEqual(r['ChecksumCRC32'], checksum_b64('CRC32', d1 + d2))
        r = attempt('SHA256', 'COMPOSITE')
        self.assertEqual(self.body(b, 'ck-verify-SHA256'), d1 + d2)
        for k, u in self.upload_ids(b, Prefix='ck-verify-'):
            self.s3.abort_multipart_upload(Bucket=b, Key=k, UploadId=u)

    def test_default_checksum_is_full_object_crc64nvme(self):
        """No algorithm anywhere (parts sent without checksums): the object
        gets a full-object CRC64NVME, as S3 gives every object now."""
        b, k = self.bucket, 'ck-default'
        plain = self.server.boto3_client(
            request_checksum_calculation='when_required')
        datas = [os.urandom(PART + 11), os.urandom(PART), os.urandom(5000)]
        whole = b''.join(datas)
        uid = self.create(b, k, client=plain)
        etags = []
        for n, d in enumerate(datas, 1):
            p = plain.upload_part(Bucket=b, Key=k, UploadId=uid, PartNumber=n,
                                  Body=d)
            self.assertEqual(p['ETag'], etag_of(d))
            self.assertNotIn('ChecksumCRC32', p)
            etags.append(p['ETag'])
        r = self.complete(b, k, uid, list(zip((1, 2, 3), etags)), client=plain)
        self.assertEqual(r['ETag'], mp_etag(datas))
        want = base64.b64encode(crc64nvme(whole).to_bytes(8, 'big')).decode()
        h = self.s3.head_object(Bucket=b, Key=k, ChecksumMode='ENABLED')
        self.assertEqual(h.get('ChecksumCRC64NVME'), want)
        self.assertEqual(h.get('ChecksumType'), 'FULL_OBJECT')
        g = self.s3.get_object(Bucket=b, Key=k, ChecksumMode='ENABLED')
        self.assertEqual(g['Body'].read(), whole)

    def test_part_checksum_errors(self):
        b, k = self.bucket, 'ck-errors'
        uid = self.create(b, k, ChecksumAlgorithm='SHA256')
        # A part whose declared checksum is wrong is refused and not stored.
        self.assertError('BadDigest', 400, self.s3.upload_part, Bucket=b,
                         Key=k, UploadId=uid, PartNumber=1, Body=b'abc',
                         ChecksumSHA256=checksum_b64('SHA256', b'abd'))
        lp = self.s3.list_parts(Bucket=b, Key=k, UploadId=uid)
        self.assertEqual(lp.get('Parts', []), [])
        # A part with another algorithm's checksum: refused at UploadPart
        # (as S3 does) or at the latest at completion.
        d = os.urandom(1000)
        try:
            p = self.s3.upload_part(Bucket=b, Key=k, UploadId=uid,
                                    PartNumber=1, Body=d,
                                    ChecksumAlgorithm='CRC32')
        except ClientError as e:
            self.assertEqual(e.response['Error']['Code'], 'InvalidRequest')
        else:
            self.assertError('InvalidRequest', 400, self.complete, b, k, uid,
                             [(1, p['ETag'])])
        self.s3.abort_multipart_upload(Bucket=b, Key=k, UploadId=uid)


# --- 8, 9. Restarts and reclaimed chunk files --------------------------------

class MultipartChunkTest(MultipartCase):

    def test_delete_and_abort_reclaim_every_chunk(self):
        b = self.new_bucket()
        base = self.settled_chunk_count()
        d1, d3 = os.urandom(PART + 100), os.urandom(3000)
        # Part 2 repeats part 1: the object refers to the same chunks twice.
        r = self.upload(b, 'built', [d1, d1, d3])
        self.assertEqual(r['ETag'], mp_etag([d1, d1, d3]))
        self.assertEqual(self.body(b, 'built'), d1 + d1 + d3)
        mine = chunk_names(d1) | chunk_names(d3)
        self.assertEqual(self.settled_chunk_count(), base + len(mine))
        self.assertChunksPresent(mine)

        # An aborted upload with a few parts (one shared with the object).
        dx, dy = os.urandom(PART + 1), os.urandom(2 * MiB)
        uid = self.create(b, 'aborted')
        self.part(b, 'aborted', uid, 1, dx)
        self.part(b, 'aborted', uid, 2, dy)
        self.part(b, 'aborted', uid, 3, d3)
        self.part(b, 'aborted', uid, 2, dy[::-1])      # replaced
        self.s3.abort_multipart_upload(Bucket=b, Key='aborted', UploadId=uid)
        self.assertChunksReclaimed(chunk_names(dx) | chunk_names(dy)
                                   | chunk_names(dy[::-1]))
        self.assertEqual(self.settled_chunk_count(), base + len(mine))
        self.assertEqual(self.body(b, 'built'), d1 + d1 + d3)

        # Completing over a multipart object releases the old one's chunks.
        d4 = os.urandom(PART + 2)
        self.upload(b, 'built', [d4, d3])
        self.assertChunksReclaimed(chunk_names(d1))
        self.assertEqual(self.body(b, 'built'), d4 + d3)
        mine = chunk_names(d4) | chunk_names(d3)
        self.assertEqual(self.settled_chunk_count(), base + len(mine))

        # Deleting it releases everything.
        self.s3.delete_object(Bucket=b, Key='built')
        self.assertChunksReclaimed(mine)
        self.assertEqual(self.settled_chunk_count(), base)

        # An object put whole, sharing chunks with an upload that is then
        # aborted: the object keeps them.
        whole = os.urandom(3 * CHUNK)
        self.s3.put_object(Bucket=b, Key='whole', Body=whole)
        uid = self.create(b, 'shares')
        self.part(b, 'shares', uid, 1, whole[:2 * CHUNK])
        self.s3.abort_multipart_upload(Bucket=b, Key='shares', UploadId=uid)
        time.sleep(0.5)
        self.assertChunksPresent(chunk_names(whole))
        self.assertEqual(self.body(b, 'whole'), whole)
        self.s3.delete_object(Bucket=b, Key='whole')
        self.assertChunksReclaimed(chunk_names(whole))
        self.assertEqual(self.settled_chunk_count(), base)
        self.s3.delete_bucket(Bucket=b)

    def test_parts_survive_restart(self):
        b, k = self.new_bucket(), 'restart/obj'
        d = [os.urandom(PART + 9), os.urandom(PART + 1), os.urandom(123)]
        uid = self.create(b, k, Metadata={'kept': 'yes'},
                          ChecksumAlgorithm='CRC32')
        e1 = self.part(b, k, uid, 1, d[0], ChecksumAlgorithm='CRC32')
        e2 = self.part(b, k, uid, 2, d[1], ChecksumAlgorithm='CRC32')
        doomed = self.create(b, 'restart/doomed')
        dz = os.urandom(PART)
        self.part(b, 'restart/doomed', doomed, 1, dz)

        self.server.restart()
        s3 = type(self).s3 = self.server.boto3_client()

        self.assertChunksPresent(chunk_names(d[0]) | chunk_names(d[1])
                                 | chunk_names(dz))
        self.assertEqual(sorted(self.upload_ids(b)),
                         sorted([(k, uid), ('restart/doomed', doomed)]))
        parts = s3.list_parts(Bucket=b, Key=k, UploadId=uid)['Parts']
        self.assertEqual([(p['PartNumber'], p['ETag'], p['Size'])
                          for p in parts],
                         [(1, e1, len(d[0])), (2, e2, len(d[1]))])
        e3 = self.part(b, k, uid, 3, d[2], client=s3,
                       ChecksumAlgorithm='CRC32')
        r = s3.complete_multipart_upload(
            Bucket=b, Key=k, UploadId=uid,
            MultipartUpload={'Parts': [
                {'PartNumber': n, 'ETag': e,
                 'ChecksumCRC32': checksum_b64('CRC32', x)}
                for n, e, x in zip((1, 2, 3), (e1, e2, e3), d)]})
        self.assertEqual(r['ETag'], mp_etag(d))
        h = s3.head_object(Bucket=b, Key=k, ChecksumMode='ENABLED')
        self.assertEqual(h['Metadata'], {'kept': 'yes'})
        self.assertEqual(h['ChecksumCRC32'], '%s-3' % checksum_b64(
            'CRC32', b''.join(raw_checksum('CRC32', x) for x in d)))
        self.assertEqual(s3.get_object(Bucket=b, Key=k)['Body'].read(),
                         b''.join(d))

        # Killed outright, the upload and its parts are still there.
        self.server.kill9()
        self.server.start()
        s3 = type(self).s3 = self.server.boto3_client()
        self.assertEqual(self.upload_ids(b), [('restart/doomed', doomed)])
        self.assertChunksPresent(chunk_names(dz))
        self.assertEqual(s3.get_object(Bucket=b, Key=k)['Body'].read(),
                         b''.join(d))
        s3.abort_multipart_upload(Bucket=b, Key='restart/doomed',
                                  UploadId=doomed)
        self.assertChunksReclaimed(chunk_names(dz))

    def test_killed_while_a_part_streams_in(self):
        """kill -9 halfway through a part: the upload and its earlier parts
        survive; the chunk files already written for the unfinished part
        are orphans, swept at start-up and collected."""
        b, k = self.new_bucket(), 'killed'
        base = self.settled_chunk_count()
        uid = self.create(b, k)
        d1 = os.urandom(PART + 1)
        e1 = self.part(b, k, uid, 1, d1)
        body = os.urandom(4 * CHUNK + 5)
        c = self.send_part_head(b, k, uid, 2, body)
        c.send(body[:3 * CHUNK + 100])
        # Wait for the first full chunks to reach their place.
        first = {sha256_hex(body[i * CHUNK:(i + 1) * CHUNK]) for i in (0, 1)}
        wait_for(lambda: self.present(first) == first, 5.0)
        self.server.kill9()
        c.close()
        self.server.start()
        s3 = type(self).s3 = self.server.boto3_client()
        self.assertChunksReclaimed(chunk_names(body))
        self.assertEqual(self.server.tmp_files(), [])
        parts = s3.list_parts(Bucket=b, Key=k, UploadId=uid)['Parts']
        self.assertEqual([(p['PartNumber'], p['ETag']) for p in parts],
                         [(1, e1)])
        e2 = self.part(b, k, uid, 2, body, client=s3)
        self.complete(b, k, uid, [(1, e1), (2, e2)], client=s3)
        self.assertEqual(self.body(b, k), d1 + body)
        s3.delete_object(Bucket=b, Key=k)
        self.assertChunksReclaimed(chunk_names(d1) | chunk_names(body))
        self.assertEqual(self.settled_chunk_count(), base)

    def test_concurrent_parts_completes_and_aborts(self):
        """Racing requests on one upload: the same part number uploaded by
        several clients at once (one of them wins whole), and a completion
        racing an abort (exactly one wins). Every chunk file of a loser is
        reclaimed."""
        b = self.new_bucket()
        base = self.settled_chunk_count()
        client = self.server.boto3_client(max_pool_connections=20)
        for round_no in range(3):
            k = 'race-%d' % round_no
            uid = self.create(b, k)
            datas = [os.urandom(PART + i) for i in range(6)]

            def put(d, k=k, uid=uid):
                return client.upload_part(Bucket=b, Key=k, UploadId=uid,
                                          PartNumber=1, Body=d)['ETag']
            with ThreadPoolExecutor(6) as ex:
                etags = list(ex.map(put, datas))
            parts = self.s3.list_parts(Bucket=b, Key=k, UploadId=uid)['Parts']
            self.assertEqual(len(parts), 1)
            won = etags.index(parts[0]['ETag'])
            last = self.part(b, k, uid, 2, b'tail')

            def finish(what, k=k, uid=uid, e=parts[0]['ETag'], last=last):
                try:
                    if what == 'complete':
                        self.complete(b, k, uid, [(1, e), (2, last)],
                                      client=client)
                    else:
                        client.abort_multipart_upload(Bucket=b, Key=k,
                                                      UploadId=uid)
                    return what
                except ClientError as exc:
                    return exc.response['Error']['Code']
            with ThreadPoolExecutor(2) as ex:
                results = list(ex.map(finish, ['complete', 'abort']))
            self.assertIn(results, (['complete', 'NoSuchUpload'],
                                    ['NoSuchUpload', 'abort']))
            if results[0] == 'complete':
                self.assertEqual(self.body(b, k), datas[won] + b'tail')
                self.s3.delete_object(Bucket=b, Key=k)
            self.assertChunksReclaimed(set().union(
                *(chunk_names(d) for d in datas)))
        self.assertEqual(self.settled_chunk_count(), base)

    def test_delete_bucket_with_uploads_in_progress(self):
        """A bucket with uploads in progress is either refused
        (BucketNotEmpty) or deleted with its uploads; never deleted while
        its uploads (and their chunk files) live on to reappear in a new
        bucket of the same name, whoever owns it."""
        b = self.new_bucket()
        d = os.urandom(2 * MiB)
        uid = self.create(b, 'pending')
        e = self.part(b, 'pending', uid, 1, d)
        try:
            self.s3.delete_bucket(Bucket=b)
        except ClientError as exc:
            self.assertEqual(exc.response['Error']['Code'], 'BucketNotEmpty')
            self.s3.abort_multipart_upload(Bucket=b, Key='pending',
                                           UploadId=uid)
            self.assertChunksReclaimed(chunk_names(d))
            self.s3.delete_bucket(Bucket=b)
            return
        # Deleted: the upload must have gone with it, parts and all.
        with self.subTest('chunk files of the deleted upload'):
            self.assertChunksReclaimed(
                chunk_names(d), msg='the parts of an upload in a deleted '
                'bucket keep their chunk files')
        bob = self.server.boto3_client('bob')
        bob.create_bucket(Bucket=b)
        self.addCleanup(bob.delete_bucket, Bucket=b)
        with self.subTest('listed in a new bucket of the same name'):
            r = bob.list_multipart_uploads(Bucket=b)
            self.assertEqual(r.get('Uploads', []), [],
                             'another user\'s new bucket lists the deleted '
                             'bucket\'s upload')
        with self.subTest('completed in a new bucket of the same name'):
            try:
                bob.complete_multipart_upload(
                    Bucket=b, Key='pending', UploadId=uid,
                    MultipartUpload={'Parts': [{'PartNumber': 1,
                                                'ETag': e}]})
            except ClientError as exc:
                self.assertEqual(exc.response['Error']['Code'],
                                 'NoSuchUpload')
            else:
                self.addCleanup(bob.delete_object, Bucket=b, Key='pending')
                self.fail('another user completed the deleted bucket\'s '
                          'upload into his bucket (and can read its bytes)')


class MultipartKeepaliveTest(MultipartCase):
    """complete_keepalive 0: every completion answers 200 at once and sends
    its result, or its error, as a document after it (as S3 does with a
    long one); SDKs read an error there as an error."""

    conf = dict(MultipartCase.conf, complete_keepalive='0')

    def test_results_and_errors_after_an_early_200(self):
        b = self.new_bucket()
        d1, d2 = os.urandom(PART + 1), b'tail'
        uid = self.create(b, 'k')
        e1 = self.part(b, 'k', uid, 1, d1)
        e2 = self.part(b, 'k', uid, 2, d2)
        e3 = self.part(b, 'k', uid, 3, b'three')
        # Errors found by the commit arrive after the 200.
        for code, parts, kw in (
                ('InvalidPart', [(1, e1), (2, e1)], {}),
                ('InvalidPart', [(1, e1), (4, e2)], {}),
                ('EntityTooSmall', [(1, e1), (2, e2), (3, e3)], {}),
                ('PreconditionFailed', [(1, e1), (2, e2)],
                 {'IfMatch': '"%s"' % ('2' * 32)}),
                ('NoSuchKey', [(1, e1), (2, e2)],
                 {'IfMatch': '"%s"' % ('2' * 32)})):
            with self.subTest(code=code, parts=parts):
                if code == 'PreconditionFailed':
                    self.s3.put_object(Bucket=b, Key='k', Body=b'old')
                else:
                    self.s3.delete_object(Bucket=b, Key='k')
                r = self.raw_complete(b, 'k', uid, complete_xml(parts),
                                      headers={'If-Match': kw['IfMatch']}
                                      if kw else None)
                self.assertEqual(r.status, 200, r)
                self.assertEqual(r.code, code, r)
                self.assertTrue(r.body.startswith(b'<?xml'), r)
                with self.assertRaises(ClientError) as cm:
                    self.complete(b, 'k', uid, parts, **kw)
                self.assertEqual(cm.exception.response['Error']['Code'],
                                 code)
        self.s3.delete_object(Bucket=b, Key='k')
        # Errors found before the commit are plain ones.
        r = self.raw_complete(b, 'k', uid, complete_xml([(2, e2), (1, e1)]))
        self.assertRawError(r, 400, 'InvalidPartOrder')
        r = self.raw_complete(b, 'k', uid, b'junk')
        self.assertRawError(r, 400, 'MalformedXML')
        # And the result itself, to boto3 and on the wire.
        r = self.complete(b, 'k', uid, [(1, e1), (2, e2)])
        self.assertEqual(r['ETag'], mp_etag([d1, d2]))
        self.assertEqual(self.body(b, 'k'), d1 + d2)
        uid = self.create(b, 'raw')
        e = self.part(b, 'raw', uid, 1, b'raw')
        r = self.raw_complete(b, 'raw', uid, complete_xml([(1, e)]))
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.xml().tag, 'CompleteMultipartUploadResult')
        self.assertEqual(r.xml().findtext('ETag'), mp_etag([b'raw']))
        self.assertEqual(r.body.count(b'<?xml'), 1, r.body)


# --- 7. Clients --------------------------------------------------------------

class MultipartClientTest(S3gwTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # The aws CLI's own defaults (multipart above 8 MB, 8 MB parts);
        # the harness raises them for its other tests.
        d = cls.server._tool_dir('aws-admin')
        ak, sk = cls.server.users['admin']
        with open(os.path.join(d, 'config'), 'w') as f:
            f.write('[default]\nregion = %s\noutput = json\n'
                    's3 =\n    addressing_style = path\n'
                    '    multipart_threshold = 8MB\n'
                    '    multipart_chunksize = 8MB\n' % cls.server.region)
        with open(os.path.join(d, 'credentials'), 'w') as f:
            f.write('[default]\naws_access_key_id = %s\n'
                    'aws_secret_access_key = %s\n' % (ak, sk))
        # s3cmd with multipart on.
        cfg = cls.server.s3cmd_config()
        with open(cfg) as f:
            text = f.read()
        with open(cfg, 'w') as f:
            f.write(text.replace('enable_multipart = False',
                                 'enable_multipart = True'))
        cls.bucket = unique_name('mpclients')
        cls.s3.create_bucket(Bucket=cls.bucket)

    def setUp(self):
        super().setUp()
        self.work = tempfile.mkdtemp(prefix='s3gw-mp-client-')
        self.addCleanup(shutil.rmtree, self.work, ignore_errors=True)

    def file(self, name, data):
        path = os.path.join(self.work, name)
        with open(path, 'wb') as f:
            f.write(data)
        return path

    def read(self, path):
        with open(path, 'rb') as f:
            return f.read()

    def ok(self, proc):
        self.assertEqual(proc.returncode, 0,
                         'exit %d\nstdout: %s\nstderr: %s'
                         % (proc.returncode, proc.stdout[-2000:],
                            proc.stderr[-2000:]))
        return proc.stdout

    def assertMultipart(self, key, data, nparts):
        h = self.s3.head_object(Bucket=self.bucket, Key=key)
        self.assertEqual(h['ContentLength'], len(data))
        self.assertRegex(h['ETag'], r'^"[0-9a-f]{32}-%d"$' % nparts)
        g = self.s3.get_object(Bucket=self.bucket, Key=key)
        self.assertEqual(stream_sha256(g['Body'])[0], sha256_hex(data))
        self.assertEqual(self.s3.list_multipart_uploads(
            Bucket=self.bucket, Prefix=key).get('Uploads', []), [])
        return h['ETag']

    def test_aws_cli_s3_cp(self):
        data = os.urandom(40 * 1000 * 1000)
        src = self.file('up.bin', data)
        url = 's3://%s/cli/forty.bin' % self.bucket
        self.ok(self.server.aws('s3', 'cp', src, url))
        # 40 MB in 8 MiB parts: 5 parts, the last one short.
        parts = [data[i:i + 8 * MiB] for i in range(0, len(data), 8 * MiB)]
        self.assertEqual(self.assertMultipart('cli/forty.bin', data, 5),
                         mp_etag(parts))
        down = os.path.join(self.work, 'down.bin')
        self.ok(self.server.aws('s3', 'cp', url, down))
        self.assertEqual(sha256_hex(self.read(down)), sha256_hex(data))

    def test_aws_cli_s3api(self):
        aws, b, k = self.server.aws, self.bucket, 'cli/s3api.bin'
        out = json.loads(self.ok(aws('s3api', 'create-multipart-upload',
                                     '--bucket', b, '--key', k,
                                     '--content-type', 'text/x-parts')))
        uid = out['UploadId']
        datas = [os.urandom(PART + 1), os.urandom(4096)]
        etags = []
        for n, d in enumerate(datas, 1):
            out = json.loads(self.ok(aws(
                's3api', 'upload-part', '--bucket', b, '--key', k,
                '--upload-id', uid, '--part-number', str(n),
                '--body', self.file('p%d' % n, d))))
            self.assertEqual(out['ETag'], etag_of(d))
            etags.append(out['ETag'])
        out = json.loads(self.ok(aws('s3api', 'list-parts', '--bucket', b,
                                     '--key', k, '--upload-id', uid)))
        self.assertEqual([p['ETag'] for p in out['Parts']], etags)
        out = json.loads(self.ok(aws('s3api', 'list-multipart-uploads',
                                     '--bucket', b, '--prefix', k)))
        self.assertEqual([u['UploadId'] for u in out['Uploads']], [uid])
        spec = json.dumps({'Parts': [{'PartNumber': n, 'ETag': e}
                                     for n, e in enumerate(etags, 1)]})
        out = json.loads(self.ok(aws(
            's3api', 'complete-multipart-upload', '--bucket', b, '--key', k,
            '--upload-id', uid, '--multipart-upload', spec)))
        self.assertEqual(out['ETag'], mp_etag(datas))
        self.assertMultipart(k, b''.join(datas), 2)
        h = self.s3.head_object(Bucket=b, Key=k)
        self.assertEqual(h['ContentType'], 'text/x-parts')
        # And an aborted one.
        out = json.loads(self.ok(aws('s3api', 'create-multipart-upload',
                                     '--bucket', b, '--key', k + '.2')))
        self.ok(aws('s3api', 'abort-multipart-upload', '--bucket', b, '--key',
                    k + '.2', '--upload-id', out['UploadId']))
        proc = aws('s3api', 'list-parts', '--bucket', b, '--key', k + '.2',
                   '--upload-id', out['UploadId'])
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn('NoSuchUpload', proc.stderr)

    def test_s3cmd_multipart(self):
        data = os.urandom(30 * 1000 * 1000)
        src = self.file('up.bin', data)
        url = 's3://%s/s3cmd/thirty.bin' % self.bucket
        self.ok(self.server.s3cmd('put', '--multipart-chunk-size-mb=5', src,
                                  url))
        parts = [data[i:i + 5 * MiB] for i in range(0, len(data), 5 * MiB)]
        self.assertEqual(self.assertMultipart('s3cmd/thirty.bin', data, 6),
                         mp_etag(parts))
        down = os.path.join(self.work, 'down.bin')
        self.ok(self.server.s3cmd('get', url, down))
        self.assertEqual(sha256_hex(self.read(down)), sha256_hex(data))

    def test_rclone_multipart(self):
        data = os.urandom(30 * 1000 * 1000)
        up = os.path.join(self.work, 'up')
        os.makedirs(up)
        with open(os.path.join(up, 'thirty.bin'), 'wb') as f:
            f.write(data)
        self.ok(self.server.rclone('copy', '--s3-upload-cutoff', '5M',
                            '--s3-chunk-size', '5M', up,
                            'gw:%s/rclone' % self.bucket))
        parts = [data[i:i + 5 * MiB] for i in range(0, len(data), 5 * MiB)]
        self.assertEqual(self.assertMultipart('rclone/thirty.bin', data, 6),
                         mp_etag(parts))
        self.ok(self.server.rclone('check', up, 'gw:%s/rclone' % self.bucket))
        back = os.path.join(self.work, 'back')
        self.ok(self.server.rclone('copy', 'gw:%s/rclone' % self.bucket, back))
        self.assertEqual(sha256_hex(self.read(os.path.join(back,
                                                           'thirty.bin'))),
                         sha256_hex(data))


if __name__ == '__main__':
    unittest.main()
