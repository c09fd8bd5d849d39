"""test/bench/gcstall.py: what a big collection costs the writers. Small
PUTs (4 KiB, inline: one index commit each) at 16 connections with wrk, while
2,000 objects of one chunk file each are deleted and the collector unlinks
their files; the same PUTs without the delete alongside. Prints p99 and
ops/s of both, per binary, medians of interleaved rounds. Asserts nothing.

Environment: BENCH_ROUNDS (3; 1 with BENCH_QUICK=1), BENCH_SECONDS per
wrk run (3), GCSTALL_OBJECTS (2000).
Usage: python3 test/bench/gcstall.py BIN [BIN...]   (release builds)"""

import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import benchlib
import compare

ROUNDS = int(os.environ.get('BENCH_ROUNDS',
                            '1' if os.environ.get('BENCH_QUICK') == '1'
                            else '3'))
SECS = int(float(os.environ.get('BENCH_SECONDS', '3')))
OBJECTS = int(os.environ.get('GCSTALL_OBJECTS', '2000'))
CONF = 'chunk_size 64k; inline_max 4k; gc_interval 100ms;'


def fill(url, keys):
    """Puts one 16 KiB object (one chunk file) per key."""
    def put(part):
        c = benchlib.client(url)
        for k in part:
            c.put_object(Bucket='bench', Key=k, Body=os.urandom(16 * 1024))
    parts = [keys[i::8] for i in range(8)]
    with ThreadPoolExecutor(8) as ex:
        list(ex.map(put, parts))


def chunk_count(data):
    return sum(len(files) for _, _, files in os.walk(data + '/chunks'))


def one(binary, with_delete):
    tmp = tempfile.mkdtemp(prefix='s3gw-gcstall-')
    port = benchlib.free_port()
    srv = benchlib.start(binary, port, tmp + '/data', CONF)
    url = 'http://127.0.0.1:%d' % port
    try:
        s3 = benchlib.client(url)
        s3.create_bucket(Bucket='bench')
        keys = ['d%05d' % i for i in range(OBJECTS)]
        fill(url, keys)
        signer = compare.presigner(port)
        paths = compare.path_file(tmp, 'put', [
            compare.presign(signer, 'put_object', 'p%04d' % i)
            for i in range(1000)])
        time.sleep(0.3)
        before = chunk_count(tmp + '/data')
        res = {}

        def run():
            res.update(compare.wrk(port, 'PUT', paths, 16, body=4096,
                                   seconds=SECS))
        t = threading.Thread(target=run)
        t.start()
        if with_delete:
            time.sleep(0.5)
            for i in range(0, len(keys), 1000):
                s3.delete_objects(Bucket='bench', Delete={
                    'Objects': [{'Key': k} for k in keys[i:i + 1000]],
                    'Quiet': True})
        t.join()
        res['left'] = chunk_count(tmp + '/data')
        res['before'] = before
        return res
    finally:
        benchlib.stop(srv)
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    bins = sys.argv[1:]
    got = {(b, d): [] for b in bins for d in (False, True)}
    for r in range(ROUNDS):
        for d in (False, True):
            for b in bins:
                x = one(b, d)
                got[(b, d)].append(x)
                print('round %d %s delete=%d: %.0f ops/s p99 %.1f ms bad %d'
                      ' chunk files %d -> %d' % (r, b, d, x['ops'],
                                                 x['p99_ms'], x['bad'],
                                                 x['before'], x['left']),
                      file=sys.stderr, flush=True)
    print('| binary | delete alongside | PUT 4 KiB c=16 ops/s | p99 ms '
          '(median, min to max) |')
    print('|---|---|--:|--:|')
    for b in bins:
        for d in (False, True):
            xs = got[(b, d)]
            p = [x['p99_ms'] for x in xs]
            print('| %s | %s | %.0f | %.1f (%.1f to %.1f) |'
                  % (b, '%d objects' % OBJECTS if d else 'no',
                     statistics.median(x['ops'] for x in xs),
                     statistics.median(p), min(p), max(p)))


if __name__ == '__main__':
    main()
