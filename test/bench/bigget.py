"""test/bench/bigget.py: big GETs against small requests (issue 14).

Prints, for each s3gw binary given (several: rounds interleave them, so a
busy machine's drift hits all alike), and for nginx (sendfile on, one
worker) on the same 64 MiB file when it is installed:

- HEAD latency (p50/p99/max over a keep-alive connection, one HEAD every
  2 ms) while idle, and while curl reads a cold 2 GiB object (page cache
  dropped first: needs root, else the figure says "warm");
- GET 64 MiB MB/s with curl at 1 and at 4 connections, warm.

Asserts nothing. Usage:
  python3 test/bench/bigget.py [-r ROUNDS] [--big-mib N] BIN [BIN ...]
"""

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402

MiB = 1 << 20


def curl_get(url, path, out='/dev/null'):
    r = subprocess.run(['curl', '-s', '--aws-sigv4', 'aws:amz:us-east-1:s3',
                        '--user', '%s:%s' % (benchlib.AK, benchlib.SK),
                        '-w', '%{speed_download} %{size_download}',
                        '-o', out, url + path],
                       capture_output=True, text=True, check=True)
    speed, size = r.stdout.split()
    return float(speed), int(size)


def curl_put(url, path, src):
    subprocess.run(['curl', '-s', '-f', '--aws-sigv4', 'aws:amz:us-east-1:s3',
                    '--user', '%s:%s' % (benchlib.AK, benchlib.SK),
                    '-H', 'x-amz-content-sha256: UNSIGNED-PAYLOAD',
                    '-o', '/dev/null', '-T', src, url + path], check=True)


class HeadProbe(threading.Thread):
    """HEADs a presigned URL over one keep-alive connection every gap
    seconds until stopped; keeps each round trip's time."""

    def __init__(self, port, target, gap=0.002):
        super().__init__(daemon=True)
        self.port, self.target, self.gap = port, target, gap
        self.times = []
        self.stop = threading.Event()

    def run(self):
        s = socket.create_connection(('127.0.0.1', self.port))
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        req = ('HEAD %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n'
               % (self.target, self.port)).encode()
        while not self.stop.is_set():
            t0 = time.perf_counter()
            s.sendall(req)
            buf = b''
            while b'\r\n\r\n' not in buf:
                d = s.recv(4096)
                if not d:
                    raise ConnectionError('HEAD connection closed')
                buf += d
            self.times.append(time.perf_counter() - t0)
            if not buf.startswith(b'HTTP/1.1 200'):
                raise RuntimeError(buf[:200])
            time.sleep(self.gap)
        s.close()


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * p))] * 1000


def lat(xs):
    return 'p50 %.2f p99 %.2f max %.2f ms (n=%d)' % (
        pct(xs, 0.5), pct(xs, 0.99), max(xs) * 1000, len(xs))


def drop_caches():
    try:
        os.sync()
        with open('/proc/sys/vm/drop_caches', 'w') as f:
            f.write('3\n')
        return 'cold'
    except OSError:
        return 'warm'


def head_target(url, key):
    s3 = benchlib.client(url)
    u = s3.generate_presigned_url('head_object', Params={
        'Bucket': 'bench', 'Key': key}, ExpiresIn=3600)
    return u[len(url):]


def one_round(binary, data_dir, port, big_mib, res):
    url = 'http://127.0.0.1:%d' % port
    srv = benchlib.start(binary, port, data_dir, 'fsync off;')
    try:
        target = head_target(url, 'small')
        p = HeadProbe(port, target)
        p.start()
        time.sleep(1.0)
        p.stop.set()
        p.join()
        res.setdefault('idle', []).extend(p.times)

        state = drop_caches()
        p = HeadProbe(port, target)
        p.start()
        speed, size = curl_get(url, '/bench/big')
        p.stop.set()
        p.join()
        assert size == big_mib * MiB, size
        res.setdefault('during', []).extend(p.times)
        res.setdefault('big', []).append(speed / MiB)
        res['state'] = state

        curl_get(url, '/bench/m64')
        for _ in range(3):
            res.setdefault('c1', []).append(curl_get(url, '/bench/m64')[0] / MiB)
        res.setdefault('c4', []).append(parallel(url, '/bench/m64', 4))
    finally:
        benchlib.stop(srv)


def parallel(url, path, n):
    out = [None] * n

    def go(i):
        out[i] = curl_get(url, path)[1]
    ts = [threading.Thread(target=go, args=(i,)) for i in range(n)]
    t0 = time.perf_counter()
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return sum(out) / (time.perf_counter() - t0) / MiB


def nginx_round(tmp, res):
    if shutil.which('nginx') is None:
        return
    root = os.path.join(tmp, 'www')
    port = benchlib.free_port()
    conf = os.path.join(tmp, 'nginx.conf')
    with open(conf, 'w') as f:
        f.write('daemon off; worker_processes 1; pid %s/nginx.pid;'
                ' error_log %s/nginx.err;'
                ' events { worker_connections 1024; }'
                ' http { access_log off; sendfile on; tcp_nopush on;'
                ' client_body_temp_path %s; proxy_temp_path %s;'
                ' fastcgi_temp_path %s; uwsgi_temp_path %s; scgi_temp_path %s;'
                ' server { listen 127.0.0.1:%d; root %s; } }\n'
                % ((tmp, tmp) + (tmp,) * 5 + (port, root)))
    ng = subprocess.Popen(['nginx', '-c', conf], stderr=subprocess.DEVNULL)
    try:
        url = 'http://127.0.0.1:%d' % port
        for _ in range(50):
            try:
                socket.create_connection(('127.0.0.1', port)).close()
                break
            except OSError:
                time.sleep(0.05)
        curl_get(url, '/m64')
        for _ in range(3):
            res.setdefault('c1', []).append(curl_get(url, '/m64')[0] / MiB)
        res.setdefault('c4', []).append(parallel(url, '/m64', 4))
    finally:
        ng.terminate()
        ng.wait()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('-r', '--rounds', type=int, default=3)
    ap.add_argument('--big-mib', type=int, default=2048)
    ap.add_argument('bins', nargs='+')
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix='s3gw-bigget-')
    try:
        data = os.path.join(tmp, 'data')
        os.makedirs(os.path.join(tmp, 'www'))
        port = benchlib.free_port()
        big = os.path.join(tmp, 'big')
        with open(big, 'wb') as f:
            for _ in range(a.big_mib):
                f.write(os.urandom(MiB))
        m64 = os.path.join(tmp, 'www', 'm64')
        with open(m64, 'wb') as f:
            f.write(os.urandom(64 * MiB))
        srv = benchlib.start(a.bins[0], port, data, 'fsync off;')
        url = 'http://127.0.0.1:%d' % port
        benchlib.client(url).create_bucket(Bucket='bench')
        curl_put(url, '/bench/big', big)
        curl_put(url, '/bench/m64', m64)
        benchlib.client(url).put_object(Bucket='bench', Key='small',
                                        Body=b'x' * 100)
        benchlib.stop(srv)
        os.unlink(big)
        results = [dict() for _ in a.bins]
        ngx = {}
        for _ in range(a.rounds):
            for b, res in zip(a.bins, results):
                one_round(b, data, port, a.big_mib, res)
            nginx_round(tmp, ngx)
        for b, res in zip(a.bins, results):
            print('figure: %s' % b)
            print('  HEAD idle:                   %s' % lat(res['idle']))
            print('  HEAD during %s %d MiB GET: %s' % (
                res['state'], a.big_mib, lat(res['during'])))
            print('  %d MiB %s GET: median %.0f MiB/s' % (
                a.big_mib, res['state'], statistics.median(res['big'])))
            print('  GET 64 MiB warm: c=1 median %.0f MiB/s, c=4 median'
                  ' %.0f MiB/s' % (statistics.median(res['c1']),
                                   statistics.median(res['c4'])))
        if ngx:
            print('figure: nginx (sendfile on, 1 worker)')
            print('  GET 64 MiB warm: c=1 median %.0f MiB/s, c=4 median'
                  ' %.0f MiB/s' % (statistics.median(ngx['c1']),
                                   statistics.median(ngx['c4'])))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == '__main__':
    main()
