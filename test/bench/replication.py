"""test/bench/replication.py: how fast the replication pusher drains a
backlog into another s3gw, next to the same load uploaded straight to that
s3gw with boto3 (8 threads, as many as a target's default max_connections).

Two loads: 2000 objects of 4 KiB and 20 objects of 64 MiB (each 64 MiB
object with bytes of its own, so no chunk is shared). Each load is queued
on the source twice:
  - while the destination is down (its process stopped): the source's
    tries fail and back off (0.5 s doubling, capped at 30 s, per entry),
    then the destination starts and the drain is timed until the last
    object is listed there; so this figure includes the wait for the
    entries' retry timers;
  - while the destination is stalled (SIGSTOP): the first connections hang
    and nothing fails, so nothing backs off; the destination resumes
    (SIGCONT) and the drain is timed the same way: the pusher's own pace.
Both servers run with the defaults (fsync on). Prints figures; asserts
nothing. Usage: python3 test/bench/replication.py [S3GW_BIN]"""

import os
import shutil
import signal
import struct
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

import benchlib

KiB, MiB = 1024, 1024 * 1024
LOADS = (('2000 x 4 KiB', 2000, 4 * KiB), ('20 x 64 MiB', 20, 64 * MiB))
CHUNK = 4 * MiB                       # the servers' default chunk_size


def bodies(n, size):
    """n bodies of size bytes, made one at a time: a random block stamped
    with the object's number at every chunk boundary."""
    base = os.urandom(size)

    def body(i):
        b = bytearray(base)
        for off in range(0, size, CHUNK):
            b[off:off + 8] = struct.pack('>Q', i)
        return bytes(b)
    return body


def upload(s3, bucket, prefix, n, body):
    """Seconds to PUT n objects prefix%05d with 8 threads."""
    def put(i):
        s3.put_object(Bucket=bucket, Key='%s%05d' % (prefix, i), Body=body(i))
    t = time.monotonic()
    with ThreadPoolExecutor(8) as ex:
        list(ex.map(put, range(n)))
    return time.monotonic() - t


def count(s3, bucket, prefix):
    pages = s3.get_paginator('list_objects_v2').paginate(Bucket=bucket,
                                                         Prefix=prefix)
    return sum(p.get('KeyCount', 0) for p in pages)


def wait_drained(d3, prefix, n, t0, limit=900):
    """Seconds from t0 until n objects under prefix are listed at the
    destination (None after limit), and until the first one was."""
    first = None
    while time.monotonic() - t0 < limit:
        got = count(d3, 'dst', prefix)
        if got and first is None:
            first = time.monotonic() - t0
        if got >= n:
            return time.monotonic() - t0, first
        time.sleep(0.1)
    return None, first


def rate(what, n, size, s):
    return ('%s: %.1f s, %.0f objects/s, %.1f MB/s'
            % (what, s, n / s, n * size / 1e6 / s))


def hwm_kib(pid):
    with open('/proc/%d/status' % pid) as f:
        for line in f:
            if line.startswith('VmHWM:'):
                return int(line.split()[1])
    return 0


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else 'build/s3gw'
    tmp = tempfile.mkdtemp(prefix='s3gw-bench-repl-')
    dport, sport = benchlib.free_port(), benchlib.free_port()
    ddata, sdata = tmp + '/dst', tmp + '/src'
    slog = open(tmp + '/src.log', 'wb')
    dst = benchlib.start(binary, dport, ddata)
    src = None
    try:
        d3 = benchlib.client('http://127.0.0.1:%d' % dport,
                             max_pool_connections=16)
        d3.create_bucket(Bucket='dst')
        src = benchlib.start(
            binary, sport, sdata,
            'replication_target dst { endpoint http://127.0.0.1:%d; '
            'access_key %s; secret_key %s; buckets dst; }'
            % (dport, benchlib.AK, benchlib.SK), stderr=slog)
        s3 = benchlib.client('http://127.0.0.1:%d' % sport,
                             max_pool_connections=16)
        s3.create_bucket(Bucket='src')
        s3.put_bucket_replication(Bucket='src', ReplicationConfiguration={
            'Role': 'arn:aws:iam::123456789012:role/bench',
            'Rules': [{'ID': 'all', 'Priority': 1, 'Status': 'Enabled',
                       'Filter': {}, 'DeleteMarkerReplication':
                       {'Status': 'Disabled'},
                       'Destination': {'Bucket': 'arn:aws:s3:::dst'}}]})

        for name, n, size in LOADS:
            body = bodies(n, size)
            tag = '%dx%d/' % (n, size)
            s = upload(d3, 'dst', 'direct/' + tag, n, body)
            print('figure: ' + rate('%s straight to the destination with '
                                    'boto3' % name, n, size, s), flush=True)

            # Down: the destination's process is gone while the load is
            # queued; it starts again on the same data and port.
            benchlib.stop(dst)
            q = upload(s3, 'src', 'down/' + tag, n, body)
            t0 = time.monotonic()
            dst = benchlib.start(binary, dport, ddata)
            s, first = wait_drained(d3, 'down/' + tag, n, t0)
            if s is None:
                print('figure: %s queued while down: not drained in 900 s'
                      % name)
            else:
                print('figure: ' + rate(
                    '%s queued in %.1f s while the destination was down, '
                    'drained after it started (first object after %.1f s)'
                    % (name, q, first), n, size, s), flush=True)

            # Stalled: the destination stops answering, but nothing fails.
            dst.send_signal(signal.SIGSTOP)
            try:
                q = upload(s3, 'src', 'stalled/' + tag, n, body)
            finally:
                t0 = time.monotonic()
                dst.send_signal(signal.SIGCONT)
            s, first = wait_drained(d3, 'stalled/' + tag, n, t0)
            if s is None:
                print('figure: %s queued while stalled: not drained in 900 s'
                      % name)
            else:
                print('figure: ' + rate(
                    '%s queued in %.1f s while the destination was stalled, '
                    'drained after it resumed (first object after %.1f s)'
                    % (name, q, first), n, size, s), flush=True)

        slog.flush()
        with open(tmp + '/src.log', 'rb') as f:
            log = f.read().decode('utf-8', 'replace')
        print('figure: source VmHWM %d KiB, destination VmHWM %d KiB; source '
              'log: %d tries to be retried, %d failed'
              % (hwm_kib(src.pid), hwm_kib(dst.pid),
                 log.count('will be retried'), log.count(' failed (')),
              flush=True)
    finally:
        if dst.poll() is None:
            dst.send_signal(signal.SIGCONT)
            benchlib.stop(dst)
        if src is not None:
            benchlib.stop(src)
        slog.close()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == '__main__':
    main()
