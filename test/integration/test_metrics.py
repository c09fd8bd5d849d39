"""The status listener (status_listen): /metrics in the Prometheus text
format, parsed with prometheus_client's own parser (Debian's
python3-prometheus-client), /health and /ready, 404 elsewhere; off by
default, and the S3 listener keeps /metrics as an S3 path.

The workload is sent as raw SigV4 requests (signed by botocore) so that
every byte of every body is known: s3gw_received_bytes_total counts
request body bytes as read from the connection, s3gw_sent_bytes_total
response body bytes (not heads), and the counters must move by exactly
those amounts."""

import os
import socket
import subprocess
import sys
import time
import unittest
import urllib.error
import urllib.request

from harness import S3gwTestCase, Server, free_port, unique_name

try:
    from prometheus_client.parser import text_string_to_metric_families
except ImportError:
    # Debian's package is pure Python and lives in the system python's
    # dist-packages, which a pyenv python3 (the one with boto3) does not
    # search.
    sys.path.append('/usr/lib/python3/dist-packages')
    from prometheus_client.parser import text_string_to_metric_families

MiB = 1024 * 1024


def fetch(port, path, method='GET', timeout=30):
    """(status, headers, body bytes) of one request to 127.0.0.1:port."""
    req = urllib.request.Request('http://127.0.0.1:%d%s' % (port, path),
                                 method=method)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


class Scrape:
    """One /metrics answer, parsed: samples by (name, sorted labels)."""

    def __init__(self, port):
        status, headers, body = fetch(port, '/metrics')
        assert status == 200, (status, body)
        self.content_type = headers.get('Content-Type')
        self.text = body.decode()
        self.families = {f.name: f for f in
                         text_string_to_metric_families(self.text)}
        self.samples = {}
        for f in self.families.values():
            for s in f.samples:
                self.samples[(s.name, tuple(sorted(s.labels.items())))] = \
                    s.value

    def get(self, name, **labels):
        return self.samples.get((name, tuple(sorted(labels.items()))), 0.0)

    def total(self, name):
        return sum(v for (n, _), v in self.samples.items() if n == name)


class MetricsTest(S3gwTestCase):

    shared_server = False

    def status_server(self, conf=None, **kw):
        port = free_port()
        conf = dict(conf or {})
        conf['status_listen'] = '127.0.0.1:%d' % port
        srv = self.start_server(conf=conf, **kw)
        srv.status_port = port
        return srv

    def test_workload_moves_counters_exactly(self):
        srv = self.status_server()
        bucket = unique_name('metrics')
        r = srv.signed('PUT', '/' + bucket)
        self.assertEqual(r.status, 200, r.body)
        before = Scrape(srv.status_port)
        self.assertEqual(before.content_type,
                         'text/plain; version=0.0.4; charset=utf-8')
        # The families, with their types, as a Prometheus server sees them.
        types = {'s3gw_requests': 'counter',
                 's3gw_request_duration_seconds': 'histogram',
                 's3gw_received_bytes': 'counter',
                 's3gw_sent_bytes': 'counter',
                 's3gw_open_connections': 'gauge',
                 's3gw_gc_collected_chunks': 'counter',
                 's3gw_commit_batch_ops': 'histogram',
                 's3gw_store_objects': 'gauge',
                 's3gw_store_chunks': 'gauge',
                 's3gw_store_dedup_ratio': 'gauge',
                 's3gw_disk_free_bytes': 'gauge',
                 's3gw_gc_queue_chunks': 'gauge',
                 's3gw_replication_queue': 'gauge'}
        for name, t in types.items():
            self.assertIn(name, before.families, before.text)
            self.assertEqual(before.families[name].type, t, name)

        # 3 PutObject, 5 GetObject (one of a missing key), 1 DeleteObject.
        bodies = {'a': b'x' * 1000, 'b': os.urandom(20000),
                  'c': os.urandom(300000)}
        for k, body in bodies.items():
            r = srv.signed('PUT', '/%s/%s' % (bucket, k), body=body)
            self.assertEqual(r.status, 200, r.body)
        sent = 0
        for k in ('a', 'b', 'c', 'a'):
            r = srv.signed('GET', '/%s/%s' % (bucket, k))
            self.assertEqual(r.status, 200)
            self.assertEqual(r.body, bodies[k])
            sent += len(r.body)
        r = srv.signed('GET', '/%s/missing' % bucket)
        self.assertEqual(r.status, 404)
        self.assertTrue(len(r.body) > 0)
        sent += len(r.body)
        r = srv.signed('DELETE', '/%s/a' % bucket)
        self.assertEqual(r.status, 204)
        after = Scrape(srv.status_port)

        def moved(name, **labels):
            return after.get(name, **labels) - before.get(name, **labels)

        self.assertEqual(moved('s3gw_requests_total', op='PutObject',
                               status='2xx'), 3)
        self.assertEqual(moved('s3gw_requests_total', op='GetObject',
                               status='2xx'), 4)
        self.assertEqual(moved('s3gw_requests_total', op='GetObject',
                               status='4xx'), 1)
        self.assertEqual(moved('s3gw_requests_total', op='DeleteObject',
                               status='2xx'), 1)
        # Nothing else was counted: the scrapes are not S3 requests.
        self.assertEqual(after.total('s3gw_requests_total')
                         - before.total('s3gw_requests_total'), 9)
        for op, n in (('PutObject', 3), ('GetObject', 5),
                      ('DeleteObject', 1)):
            self.assertEqual(moved('s3gw_request_duration_seconds_count',
                                   op=op), n, op)
            self.assertEqual(moved('s3gw_request_duration_seconds_bucket',
                                   op=op, le='+Inf'), n, op)
            self.assertGreater(moved('s3gw_request_duration_seconds_sum',
                                     op=op), 0, op)
        self.assertEqual(moved('s3gw_received_bytes_total'),
                         sum(len(b) for b in bodies.values()))
        self.assertEqual(moved('s3gw_sent_bytes_total'), sent)
        # Each PUT and the DELETE committed in some group commit.
        self.assertGreaterEqual(moved('s3gw_commit_batch_ops_sum'), 4)
        self.assertGreaterEqual(moved('s3gw_commit_batch_ops_count'), 1)
        # The store: b and c are left; c is above inline_max (4k) and is
        # stored in one chunk, as is b.
        self.assertEqual(after.get('s3gw_store_objects'), 2)
        self.assertEqual(after.get('s3gw_store_chunks'), 2)
        self.assertEqual(after.get('s3gw_store_chunk_bytes'), 320000)
        self.assertEqual(after.get('s3gw_store_dedup_ratio'), 1.0)
        self.assertEqual(after.get('s3gw_store_bytes_exact'), 1)
        self.assertGreater(after.get('s3gw_disk_free_bytes'), 0)
        self.assertEqual(after.get('s3gw_replication_queue',
                                   state='pending'), 0)

    def test_dedup_ratio_and_gc(self):
        srv = self.status_server(conf={'gc_interval': '100ms'})
        bucket = unique_name('dedup')
        self.assertEqual(srv.signed('PUT', '/' + bucket).status, 200)
        body = os.urandom(100000)
        for k in ('one', 'two'):
            r = srv.signed('PUT', '/%s/%s' % (bucket, k), body=body)
            self.assertEqual(r.status, 200, r.body)
        s = Scrape(srv.status_port)
        self.assertEqual(s.get('s3gw_store_objects'), 2)
        self.assertEqual(s.get('s3gw_store_chunks'), 1)
        self.assertEqual(s.get('s3gw_store_chunk_bytes'), 100000)
        self.assertEqual(s.get('s3gw_store_referenced_bytes'), 200000)
        self.assertEqual(s.get('s3gw_store_dedup_ratio'), 2.0)
        gc0 = s.get('s3gw_gc_collected_chunks_total')
        for k in ('one', 'two'):
            self.assertEqual(srv.signed('DELETE', '/%s/%s'
                                        % (bucket, k)).status, 204)
        # The collector runs on its own timer (gc_interval): wait for it.
        deadline = time.monotonic() + 120
        while True:
            s = Scrape(srv.status_port)
            if s.get('s3gw_gc_collected_chunks_total') > gc0:
                break
            self.assertLess(time.monotonic(), deadline, s.text)
            time.sleep(0.2)
        self.assertEqual(s.get('s3gw_gc_collected_chunks_total') - gc0, 1)
        self.assertEqual(s.get('s3gw_store_chunks'), 0)
        self.assertEqual(s.get('s3gw_store_objects'), 0)

    def test_lifecycle_due_gauge(self):
        # A lifecycle day of two seconds, so a pass starts soon after the
        # rule is put; an Expiration Date in the past makes every object
        # of the bucket due at that pass, whatever its age.
        import concurrent.futures as cf
        import datetime
        n = 600                 # one walk finds them all (S3_LC_SCAN 1000)
        srv = self.status_server(conf={'lifecycle_day': '2s'})
        s3 = srv.boto3_client()
        bucket = unique_name('lcdue')
        s3.create_bucket(Bucket=bucket)
        with cf.ThreadPoolExecutor(8) as ex:
            list(ex.map(lambda i: s3.put_object(Bucket=bucket,
                                                Key='d/%04d' % i, Body=b'x'),
                        range(n)))
        s = Scrape(srv.status_port)
        self.assertIn('s3gw_lifecycle_due', s.families)
        self.assertEqual(s.get('s3gw_lifecycle_due'), 0)
        s3.put_bucket_lifecycle_configuration(
            Bucket=bucket, LifecycleConfiguration={'Rules': [{
                'ID': 'past', 'Status': 'Enabled', 'Filter': {'Prefix': 'd/'},
                'Expiration': {'Date': datetime.datetime(
                    2020, 1, 1, tzinfo=datetime.timezone.utc)}}]})
        # The walk holds all n and queues them 100 a tick (a tenth of the
        # lifecycle day): the gauge shows them, less what has committed,
        # and falls to 0 step by step as they go (not only when the next
        # pass starts).
        seen = []
        deadline = time.monotonic() + 60
        while not seen or seen[-1] != 0 or max(seen) == 0:
            self.assertLess(time.monotonic(), deadline, seen[-20:])
            seen.append(Scrape(srv.status_port).get('s3gw_lifecycle_due'))
            time.sleep(0.02)
        self.assertLessEqual(max(seen), n)
        self.assertGreaterEqual(max(seen), n - 100, seen)
        self.assertTrue(any(0 < v <= n - 200 for v in seen), seen)
        self.assertEqual(s3.list_objects_v2(Bucket=bucket)['KeyCount'], 0)
        self.assertEqual(Scrape(srv.status_port).get('s3gw_lifecycle_due'),
                         0)

    def test_open_connections_gauge(self):
        srv = self.status_server()
        # The harness's own readiness probe may still be closing: wait for
        # the server to have no S3 connection at all.
        deadline = time.monotonic() + 60
        while Scrape(srv.status_port).get('s3gw_open_connections') != 0:
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.05)
        g0 = 0
        c = srv.conn(timeout=30)
        c.request('GET', '/', {'Host': srv.host})
        resp = c.read_response()
        self.assertEqual(resp.status, 403)      # unsigned ListBuckets
        # The connection stays open (keep-alive) and is counted.
        self.assertEqual(Scrape(srv.status_port).get(
            's3gw_open_connections'), g0 + 1)
        c.close()
        deadline = time.monotonic() + 60
        while Scrape(srv.status_port).get('s3gw_open_connections') != g0:
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.05)

    def test_health_ready_and_other_paths(self):
        srv = self.status_server()
        status, headers, body = fetch(srv.status_port, '/health')
        self.assertEqual((status, body), (200, b'ok\n'))
        status, _, body = fetch(srv.status_port, '/ready')
        self.assertEqual((status, body), (200, b'ready\n'))
        for path in ('/', '/metrics/', '/healthz', '/bucket/key',
                     '/metricsx'):
            status, _, body = fetch(srv.status_port, path)
            self.assertEqual(status, 404, path)
        status, headers, _ = fetch(srv.status_port, '/metrics',
                                   method='POST')
        self.assertEqual(status, 405)
        self.assertEqual(headers.get('Allow'), 'GET, HEAD')
        # A query string does not change the path.
        status, _, body = fetch(srv.status_port, '/health?x=1')
        self.assertEqual((status, body), (200, b'ok\n'))

    def test_s3_port_keeps_metrics_path(self):
        srv = self.status_server()
        r = srv.http('GET', '/metrics', {'Host': srv.host})
        # An S3 answer: an anonymous request for bucket "metrics".
        self.assertIn(r.status, (403, 404))
        self.assertIn(b'<Error>', r.body)
        self.assertNotIn(b'# TYPE', r.body)

    def test_off_by_default_and_from_g(self):
        port = free_port()
        srv = self.start_server()
        with self.assertRaises(OSError):
            socket.create_connection(('127.0.0.1', port), timeout=5).close()
        srv.stop()
        srv2 = self.start_server(
            args=['-g', 'status_listen 127.0.0.1:%d;' % port])
        status, _, body = fetch(port, '/health')
        self.assertEqual((status, body), (200, b'ok\n'))
        srv2.stop()

    def test_status_port_taken_fails_start(self):
        blocker = socket.socket()
        blocker.bind(('127.0.0.1', 0))
        blocker.listen(1)
        self.addCleanup(blocker.close)
        port = blocker.getsockname()[1]
        srv = Server(conf={'status_listen': '127.0.0.1:%d' % port},
                     start=False)
        self.addCleanup(srv.close)
        with self.assertRaises(AssertionError) as cm:
            srv.start()
        self.assertIn('status_listen', str(cm.exception))

    def test_bad_status_listen_refused(self):
        srv = Server(conf={'status_listen': '127.0.0.1:0'}, start=False)
        self.addCleanup(srv.close)
        from harness import BIN
        p = subprocess.run([BIN, '-t', '-c', srv.conf_path],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 1)
        self.assertIn('invalid port "0" in "status_listen"', p.stderr)


class ReadyDiskTest(S3gwTestCase):
    """/ready says 503, with the reason, once the disk of data_dir has less
    than the reserve free, and 200 again once there is room. The data dir
    is a small tmpfs (root only; skipped with the reason otherwise)."""

    shared_server = False
    FS_SIZE = 40 * MiB

    def test_ready_follows_disk(self):
        if os.geteuid() != 0:
            self.skipTest('needs root to mount a tmpfs as the data dir '
                          '(running as uid %d)' % os.geteuid())
        port = free_port()
        srv = Server(conf={'status_listen': '127.0.0.1:%d' % port},
                     start=False)
        p = subprocess.run(['mount', '-t', 'tmpfs', '-o',
                            'size=%d,mode=0755' % self.FS_SIZE, 's3gw-test',
                            srv.data_dir], capture_output=True, text=True)
        if p.returncode != 0:
            srv.close()
            self.skipTest('cannot mount a tmpfs here: %s' % p.stderr.strip())

        def teardown():
            try:
                srv.stop()
            finally:
                subprocess.run(['umount', srv.data_dir], check=False)
                srv.close()
        self.addCleanup(teardown)
        srv.start()
        self.assertEqual(fetch(port, '/ready')[0], 200)

        # Fill the disk up to 4 MiB free: under the 8 MiB reserve.
        st = os.statvfs(srv.data_dir)
        free = st.f_bavail * st.f_frsize
        filler = os.path.join(srv.data_dir, 'filler')
        with open(filler, 'wb') as f:
            f.write(b'\0' * (free - 4 * MiB))
        status, _, body = fetch(port, '/ready')
        self.assertEqual(status, 503, body)
        self.assertIn(b'reserve', body)
        s = Scrape(port)
        self.assertLess(s.get('s3gw_disk_free_bytes'), 8 * MiB)
        # Alive all the same.
        self.assertEqual(fetch(port, '/health')[0], 200)
        os.unlink(filler)
        self.assertEqual(fetch(port, '/ready')[0], 200)


if __name__ == '__main__':
    unittest.main()
