"""test/bench/compare.py: s3gw against nginx on the same box, one table.

Starts Debian's nginx (one worker, static root, WebDAV PUT, no fsync,
access_log off) and s3gw (access_log off, fsync on) on free loopback ports
with the same objects (1000 of 4 KiB, 4 of 64 MiB), drives both with the
same clients (wrk with test/bench/urls.lua over SigV4 presigned URLs for
4 KiB; test/bench/bigclient.c for 64 MiB and HEAD latency), interleaves the
targets (nginx, s3gw, nginx, s3gw...) over BENCH_ROUNDS rounds and prints
one row per goal of issue 14 with medians, the ratio reached and the goal,
then the machine's limits (openssl speed, dd with and without O_DSYNC).
Rows that cannot run (no wrk, a server that refuses worker_processes 2)
say n/a and why. Asserts nothing.

Environment: BENCH_ROUNDS (3), BENCH_SECONDS per run (5), BENCH_OBJECTS
for the start-up row (1000000), BENCH_QUICK=1 (1 round, 2 s runs, 20000
objects, smaller big objects), BENCH_DIR (where the data goes: the dd
limits are measured there too), BENCH_DROP_CACHES=1 (as root: make the
object cold with /proc/sys/vm/drop_caches instead of posix_fadvise).
Usage: python3 test/bench/compare.py [S3GW_BIN]"""

import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

import benchlib

HERE = os.path.dirname(os.path.abspath(__file__))
QUICK = os.environ.get('BENCH_QUICK') == '1'
ROUNDS = int(os.environ.get('BENCH_ROUNDS', '1' if QUICK else '3'))
SECS = float(os.environ.get('BENCH_SECONDS', '2' if QUICK else '5'))
OBJECTS = int(os.environ.get('BENCH_OBJECTS', '20000' if QUICK else '1000000'))
KiB, MiB = 1024, 1024 * 1024
SMALL, NSMALL, BIG, NBIG = 4 * KiB, 1000, 64 * MiB, 4
COLD = (512 if QUICK else 2048) * MiB
RSS_PUT = (256 if QUICK else 1024) * MiB
S3GW_PORT = benchlib.free_port()
EXPIRES = 7 * 24 * 3600


def log(msg):
    print('bench: ' + msg, file=sys.stderr, flush=True)


def wait_port(port, proc, limit=20.0):
    """True once port accepts; False when proc exited first or on time."""
    end = time.monotonic() + limit
    while time.monotonic() < end:
        if proc.poll() is not None:
            return False
        try:
            socket.create_connection(('127.0.0.1', port)).close()
            return True
        except OSError:
            time.sleep(0.01)
    return False


def stop(proc, sig=signal.SIGTERM):
    if proc is not None and proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# ---- the servers ---------------------------------------------------------

NGINX_CONF = '''
worker_processes 1;
daemon off;
%(user)s
pid %(dir)s/nginx.pid;
error_log %(dir)s/error.log;
events { worker_connections 4096; }
http {
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
    keepalive_timeout 65;
    client_body_temp_path %(dir)s/body;
    server {
        listen 127.0.0.1:%(port)d;
        root %(root)s;
        location / {
            dav_methods PUT;
            create_full_put_path on;
            client_max_body_size 0;
        }
    }
}
'''


def nginx_start(tmp, root):
    """(process, port) of a one-worker nginx serving root, or (None, why)."""
    exe = shutil.which('nginx') or '/usr/sbin/nginx'
    if not os.path.exists(exe):
        return None, 'nginx is not installed'
    d = os.path.join(tmp, 'nginx')
    os.makedirs(d + '/body', exist_ok=True)
    port = benchlib.free_port()
    conf = NGINX_CONF % {'dir': d, 'root': root, 'port': port,
                         'user': 'user root;' if os.getuid() == 0 else ''}
    with open(d + '/nginx.conf', 'w') as f:
        f.write(conf)
    proc = subprocess.Popen([exe, '-p', d, '-c', d + '/nginx.conf',
                             '-e', d + '/error.log'],
                            stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    if not wait_port(port, proc):
        stop(proc)
        return None, 'nginx did not start (see its error.log)'
    return proc, port


def s3gw_spawn(binary, data_dir, workers=1, fsync='on', port=S3GW_PORT):
    """(process, its stderr file) of an s3gw starting on port."""
    err = tempfile.TemporaryFile()
    proc = subprocess.Popen(
        [binary, '-g', 'listen 127.0.0.1:%d; data_dir %s; access_log off; '
         'fsync %s; worker_processes %d; user bench { access_key %s; '
         'secret_key %s; }' % (port, data_dir, fsync, workers, benchlib.AK,
                               benchlib.SK)],
        stdout=subprocess.DEVNULL, stderr=err)
    return proc, err


def s3gw_start(binary, data_dir, workers=1, fsync='on', port=S3GW_PORT):
    """(process, None) of an s3gw listening on port, or (None, why not)."""
    proc, err = s3gw_spawn(binary, data_dir, workers, fsync, port)
    if wait_port(port, proc, 120):
        return proc, None
    stop(proc)
    err.seek(0)
    lines = err.read().decode(errors='replace').strip().splitlines()
    return None, (lines[-1] if lines else 'exited with %s' % proc.returncode)


def server_pids(proc):
    """The server's processes: its own pid and its children (workers)."""
    pids = [proc.pid]
    for p in os.listdir('/proc'):
        if p.isdigit():
            try:
                with open('/proc/%s/stat' % p) as f:
                    if int(f.read().rsplit(')', 1)[1].split()[1]) == proc.pid:
                        pids.append(int(p))
            except (OSError, ValueError, IndexError):
                pass
    return pids


def rss_kib(pid, field='VmRSS'):
    try:
        with open('/proc/%d/status' % pid) as f:
            for line in f:
                if line.startswith(field + ':'):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


# ---- clients ---------------------------------------------------------------

def wrk(port, method, pathfile, conns, body=0, seconds=None):
    """{'ops', 'p99_ms', 'bad'} of one wrk run over pathfile."""
    threads = min(2, conns)
    # a long timeout: wrk leaves timed-out requests out of its latencies
    cmd = ['wrk', '-t', str(threads), '-c', str(conns), '--timeout', '30s',
           '-d', '%ds' % (seconds or SECS),
           '-s', os.path.join(HERE, 'urls.lua'),
           'http://127.0.0.1:%d' % port, '--', method, pathfile]
    if body:
        cmd.append(str(body))
    out = subprocess.run(cmd, capture_output=True, text=True).stdout
    m = re.search(r'bench: requests=(\d+) duration_us=(\d+) p50_us=(\d+) '
                  r'p99_us=(\d+) non2xx=(\d+) socket_errors=(\d+)', out)
    if m is None:
        return {'ops': 0.0, 'p99_ms': 0.0, 'bad': -1}
    n, us, _, p99, bad, sock = (int(x) for x in m.groups())
    return {'ops': n / (us / 1e6), 'p99_ms': p99 / 1000.0, 'bad': bad + sock}


def big(client, mode, port, conns, seconds, pathfile, size=None):
    """{'mbps', 'bad'} of one bigclient get/put run."""
    cmd = [client, mode, '127.0.0.1', str(port), str(conns), str(seconds)]
    if size is not None:
        cmd.append(str(size))
    cmd.append(pathfile)
    out = subprocess.run(cmd, capture_output=True, text=True).stdout
    m = re.search(r'mbps=([\d.]+) requests=(\d+) errors=(\d+)', out)
    if m is None:
        return {'mbps': 0.0, 'bad': -1}
    return {'mbps': float(m.group(1)), 'bad': int(m.group(3))}


def head_prober(client, port, path):
    return subprocess.Popen([client, 'head', '127.0.0.1', str(port), path],
                            stdout=subprocess.PIPE, text=True)


def head_result(proc):
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=30)
    m = re.search(r'count=(\d+) p50_us=(\d+) p99_us=(\d+) max_us=(\d+) '
                  r'errors=(\d+)', out)
    if m is None or int(m.group(1)) == 0:
        return None
    return {'p99_ms': int(m.group(3)) / 1000.0, 'n': int(m.group(1)),
            'max_ms': int(m.group(4)) / 1000.0, 'bad': int(m.group(5))}


def build_client(binary):
    out = os.path.join(os.path.dirname(os.path.abspath(binary)), 'bench')
    os.makedirs(out, exist_ok=True)
    exe = os.path.join(out, 'bigclient')
    subprocess.run(['cc', '-O2', '-std=c11', '-Wall', '-Wextra', '-Werror',
                    '-pthread', '-o', exe, os.path.join(HERE, 'bigclient.c')],
                   check=True)
    return exe


# ---- machine limits --------------------------------------------------------

def openssl_mbps(alg):
    secs = '1' if QUICK else '3'
    out = subprocess.run(['openssl', 'speed', '-seconds', secs,
                          '-bytes', '16384', '-evp', alg],
                         capture_output=True, text=True).stdout
    for line in out.splitlines():
        if line.startswith(alg):
            return float(line.split()[-1].rstrip('k')) / 1000.0
    return 0.0


def dd_ops(directory, count, dsync):
    path = os.path.join(directory, 'dd.tmp')
    cmd = ['dd', 'if=/dev/zero', 'of=' + path, 'bs=4k', 'count=%d' % count]
    if dsync:
        cmd.append('oflag=dsync')
    err = subprocess.run(cmd, capture_output=True, text=True).stderr
    os.unlink(path)
    m = re.search(r'copied, ([\d.e-]+) s', err)
    return count / float(m.group(1)) if m else 0.0


def commit_floor(directory, count):
    """Commits/s of what one LMDB commit of a small PUT asks of the disk,
    without LMDB: 4 KiB pages written at 4 places of an allocated file and
    fdatasync'ed, then one 4 KiB meta page through an O_DSYNC descriptor
    (strace of s3gw at c=1: 4 page writes, one fdatasync, one O_DSYNC
    write per commit). LMDB needs the second write ordered after the
    first, so a commit costs two durable writes where dd pays one."""
    path = os.path.join(directory, 'commit.tmp')
    page, pages = 4096, 2048
    with open(path, 'wb') as f:
        f.write(b'\0' * page * pages)
        f.flush()
        os.fsync(f.fileno())
    fd = os.open(path, os.O_WRONLY)
    meta = os.open(path, os.O_WRONLY | os.O_DSYNC)
    buf = os.urandom(page)
    try:
        t0 = time.monotonic()
        for i in range(count):
            for j in range(4):
                os.pwrite(fd, buf, page * (2 + (i * 7 + j * 509) % (pages - 2)))
            os.fdatasync(fd)
            os.pwrite(meta, buf, page * (i & 1))
        return count / (time.monotonic() - t0)
    finally:
        os.close(fd)
        os.close(meta)
        os.unlink(path)


def limits(directory):
    lim = {'md5': openssl_mbps('md5'), 'sha256': openssl_mbps('sha256')}
    lim['dsync'] = statistics.median(
        dd_ops(directory, 500 if QUICK else 2000, True) for _ in range(ROUNDS))
    lim['commit'] = statistics.median(
        commit_floor(directory, 300 if QUICK else 1000)
        for _ in range(ROUNDS))
    lim['nosync'] = statistics.median(
        dd_ops(directory, 20000 if QUICK else 100000, False)
        for _ in range(ROUNDS))
    return lim


# ---- the objects -----------------------------------------------------------

def write_random(path, size):
    with open(path, 'wb') as f:
        for off in range(0, size, 8 * MiB):
            f.write(os.urandom(min(8 * MiB, size - off)))


def presigner(port):
    return benchlib.client('http://127.0.0.1:%d' % port,
                           signature_version='s3v4', max_pool_connections=16)


def presign(s3, method, key, bucket='bench'):
    """The path and query of a SigV4 presigned URL (UNSIGNED-PAYLOAD)."""
    url = s3.generate_presigned_url(method, Params={'Bucket': bucket,
                                                    'Key': key},
                                    ExpiresIn=EXPIRES)
    return url[url.index('/', len('http://')):]


def path_file(tmp, name, paths):
    path = os.path.join(tmp, name + '.txt')
    with open(path, 'w') as f:
        f.write('\n'.join(paths) + '\n')
    return path


def make_data(tmp, s3):
    """The same objects in nginx's root and in s3gw; returns the path files
    the clients read (nginx takes the same paths: it ignores queries)."""
    root = os.path.join(tmp, 'www')
    os.makedirs(root + '/bench')
    s3.create_bucket(Bucket='bench')

    def small(i):
        body = os.urandom(SMALL)
        with open('%s/bench/g%04d' % (root, i), 'wb') as f:
            f.write(body)
        s3.put_object(Bucket='bench', Key='g%04d' % i, Body=body)
    with ThreadPoolExecutor(16) as ex:
        list(ex.map(small, range(NSMALL)))
    for i in range(NBIG):
        path = '%s/bench/big%d' % (root, i)
        write_random(path, BIG)
        with open(path, 'rb') as f:
            s3.put_object(Bucket='bench', Key='big%d' % i, Body=f)
    files = {
        'get_small': [presign(s3, 'get_object', 'g%04d' % i)
                      for i in range(NSMALL)],
        'put_small': [presign(s3, 'put_object', 'p%04d' % i)
                      for i in range(NSMALL)],
        'get_big': [presign(s3, 'get_object', 'big%d' % i)
                    for i in range(NBIG)],
        'put_big': [presign(s3, 'put_object', 'q%d' % i) for i in range(NBIG)],
        'cold_put': [presign(s3, 'put_object', 'cold')],
        'cold_get': [presign(s3, 'get_object', 'cold')],
        'rss_put': [presign(s3, 'put_object', 'rss')],
    }
    paths = {k: path_file(tmp, k, v) for k, v in files.items()}
    paths['head'] = presign(s3, 'head_object', 'g0000')
    return root, paths, files


def check_urls(port, files):
    """Fails loudly when s3gw refuses the presigned GET or PUT the clients
    will send (a figure of 403s would be worthless)."""
    import http.client
    for method, path, body in (('GET', files['get_small'][0], None),
                               ('PUT', files['put_small'][0], b'x' * SMALL)):
        c = http.client.HTTPConnection('127.0.0.1', port, timeout=10)
        c.request(method, path, body=body)
        r = c.getresponse()
        text = r.read()
        c.close()
        if r.status != 200:
            raise SystemExit('bench: presigned %s refused: %d %s'
                             % (method, r.status, text[:300]))


# ---- phases ----------------------------------------------------------------

def pairs(client, paths):
    """The workloads run against both servers: (name, run(port))."""
    def w(method, key, conns, body=0):
        return lambda port: wrk(port, method, paths[key], conns, body)

    def b(mode, key, conns, size=None):
        return lambda port: big(client, mode, port, conns, SECS, paths[key],
                                size)
    return [('get16', w('GET', 'get_small', 16)),
            ('get128', w('GET', 'get_small', 128)),
            ('put1', w('PUT', 'put_small', 1, SMALL)),
            ('put128', w('PUT', 'put_small', 128, SMALL)),
            ('bget1', b('get', 'get_big', 1)),
            ('bget4', b('get', 'get_big', 4)),
            ('bput1', b('put', 'put_big', 1, BIG)),
            ('bput4', b('put', 'put_big', 4, BIG))]


def interleaved(client, paths, ports):
    """{name: {target: [result per round]}}, targets taking turns."""
    res = {}
    for r in range(ROUNDS):
        log('round %d/%d' % (r + 1, ROUNDS))
        for name, run in pairs(client, paths):
            for target, port in ports:
                res.setdefault(name, {}).setdefault(target, []).append(
                    run(port))
    return res


def make_cold(data_dir):
    """Evicts the chunk files from the page cache; says how."""
    if os.environ.get('BENCH_DROP_CACHES') == '1' and os.getuid() == 0:
        os.sync()
        with open('/proc/sys/vm/drop_caches', 'w') as f:
            f.write('3\n')
        return 'drop_caches'
    for d, _, names in os.walk(os.path.join(data_dir, 'chunks')):
        for n in names:
            fd = os.open(os.path.join(d, n), os.O_RDONLY)
            try:
                os.fdatasync(fd)
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(fd)
    return 'posix_fadvise DONTNEED'


def resident(data_dir):
    """Percent of the chunk files in the page cache (fincore), or None."""
    if shutil.which('fincore') is None:
        return None
    files = [os.path.join(d, n) for d, _, ns in
             os.walk(os.path.join(data_dir, 'chunks')) for n in ns]
    if not files:
        return None
    out = subprocess.run(['fincore', '-b', '-n', '-o', 'RES,SIZE'] + files,
                         capture_output=True, text=True).stdout.split()
    res = sum(int(x) for x in out[0::2])
    size = sum(int(x) for x in out[1::2])
    return 100.0 * res / size if size else None


def head_phase(client, paths, data_dir):
    """HEAD p99 idle and while a cold COLD-byte object is read."""
    big(client, 'put', S3GW_PORT, 1, 0, paths['cold_put'], COLD)
    out = {'idle': [], 'busy': [], 'get': []}
    for _ in range(ROUNDS):
        p = head_prober(client, S3GW_PORT, paths['head'])
        time.sleep(SECS)
        out['idle'].append(head_result(p))
        out['how'] = make_cold(data_dir)
        out['resident'] = resident(data_dir)
        p = head_prober(client, S3GW_PORT, paths['head'])
        time.sleep(0.2)
        out['get'].append(big(client, 'get', S3GW_PORT, 1, 0,
                              paths['cold_get']))
        out['busy'].append(head_result(p))
    return out


def rss_phase(client, proc, paths):
    """Peak VmRSS of any server process during one RSS_PUT-byte PUT, then
    each process's VmRSS once idle (KiB)."""
    pids = server_pids(proc)
    c = subprocess.Popen([client, 'put', '127.0.0.1', str(S3GW_PORT), '1',
                          '0', str(RSS_PUT), paths['rss_put']],
                         stdout=subprocess.DEVNULL)
    peak = 0
    while c.poll() is None:
        peak = max([peak] + [rss_kib(p) for p in pids])
        time.sleep(0.01)
    time.sleep(1)
    return peak, idle_rss(proc)


def idle_rss(proc):
    """Max VmRSS (KiB) over the workers (the children, or the process
    itself when it has none)."""
    pids = server_pids(proc)
    workers = pids[1:] or pids
    return max(rss_kib(p) for p in workers)


def cpu_seconds(pids):
    """User + system CPU seconds the processes used so far."""
    total = 0
    for pid in pids:
        try:
            with open('/proc/%d/stat' % pid) as f:
                fields = f.read().rsplit(')', 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except (OSError, ValueError, IndexError):
            pass
    return total / os.sysconf('SC_CLK_TCK')


def wrk_cpu(proc, path):
    """A 4 KiB GET c=128 wrk run, with the server's CPU time per request
    ('cpu_us') and the cores it used ('cores') over the run."""
    pids = server_pids(proc)
    c0, t0 = cpu_seconds(pids), time.monotonic()
    r = wrk(S3GW_PORT, 'GET', path, 128)
    cpu, wall = cpu_seconds(pids) - c0, time.monotonic() - t0
    n = r['ops'] * wall
    r['cpu_us'] = cpu / n * 1e6 if n else 0.0
    r['cores'] = cpu / wall if wall else 0.0
    return r


def workers_phase(binary, data_dir, client, paths):
    """4 KiB GET c=128 with 1 and 2 workers, PUT 64 MiB c=4 with 2,
    restarting the server each time; 'why' when 2 is refused."""
    out = {'w1': [], 'w2': [], 'bput4': [], 'fresh1': [], 'fresh2': [],
           'why': None}
    for _ in range(ROUNDS):
        proc, why = s3gw_start(binary, data_dir, 1)
        if proc is None:
            out['why'] = 'server did not start: ' + why
            break
        time.sleep(1)
        out['fresh1'].append(idle_rss(proc))
        out['w1'].append(wrk_cpu(proc, paths['get_small']))
        stop(proc)
        proc, why = s3gw_start(binary, data_dir, 2)
        if proc is None:
            out['why'] = 'server refused worker_processes 2: ' + why
            break
        time.sleep(1)
        out['fresh2'].append(idle_rss(proc))
        out['w2'].append(wrk_cpu(proc, paths['get_small']))
        out['bput4'].append(big(client, 'put', S3GW_PORT, 4, SECS,
                                paths['put_big'], BIG))
        stop(proc)
    return out


def first_answer(binary, data_dir, probe, port):
    """Seconds from exec to the first 200 for probe, or None."""
    req = ('GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nConnection: close\r\n'
           '\r\n' % (probe, port)).encode()
    t0 = time.monotonic()
    proc, _ = s3gw_spawn(binary, data_dir, port=port)
    took = None
    while proc.poll() is None and time.monotonic() - t0 < 300:
        try:
            with socket.create_connection(('127.0.0.1', port)) as s:
                s.sendall(req)
                if s.recv(64).startswith(b'HTTP/1.1 200'):
                    took = time.monotonic() - t0
                    break
        except OSError:
            pass
        time.sleep(0.001)
    stop(proc)
    return took


def fill(port, n, tmp):
    """PUTs n small objects with wrk (c=128); returns (stored, refused,
    seconds)."""
    marker = os.path.join(tmp, 'fill-done')
    t0 = time.monotonic()
    w = subprocess.Popen(['wrk', '-t', '2', '-c', '128', '-d', '36000s',
                          '-s', os.path.join(HERE, 'fill.lua'),
                          'http://127.0.0.1:%d' % port, '--', 'fill', str(n),
                          '2', marker], stdout=subprocess.PIPE, text=True)
    while not all(os.path.exists('%s.%d' % (marker, i)) for i in range(2)):
        if w.poll() is not None:
            break
        time.sleep(0.05)
    w.send_signal(signal.SIGINT)
    out, _ = w.communicate(timeout=60)
    m = re.search(r'fill: ok=(\d+) non2xx=(\d+)', out)
    if m is None:
        return 0, -1, time.monotonic() - t0
    return int(m.group(1)), int(m.group(2)), time.monotonic() - t0


def startup_phase(binary, tmp):
    """Start-up time (exec to first 200) with an empty store and with
    OBJECTS objects, filled through a bucket anyone may PUT to."""
    port = benchlib.free_port()
    d = os.path.join(tmp, 'many')
    out = {'empty': [], 'full': []}
    proc, why = s3gw_start(binary, d, fsync='off', port=port)
    if proc is None:
        out['why'] = why
        return out
    s3 = benchlib.client('http://127.0.0.1:%d' % port)
    s3.create_bucket(Bucket='fill')
    s3.put_bucket_policy(Bucket='fill', Policy=json.dumps({
        'Version': '2012-10-17', 'Statement': [{
            'Effect': 'Allow', 'Principal': '*',
            'Action': ['s3:PutObject', 's3:GetObject'],
            'Resource': 'arn:aws:s3:::fill/*'}]}))
    s3.put_object(Bucket='fill', Key='probe', Body=b'probe')
    stop(proc)
    for _ in range(ROUNDS):
        out['empty'].append(first_answer(binary, d, '/fill/probe', port))
    proc, why = s3gw_start(binary, d, fsync='off', port=port)
    log('filling %d objects' % OBJECTS)
    out['n'], out['refused'], out['fill_s'] = fill(port, OBJECTS, tmp)
    stop(proc)
    for _ in range(ROUNDS):
        out['full'].append(first_answer(binary, d, '/fill/probe', port))
    return out


# ---- the table -------------------------------------------------------------

def med(results, key):
    vals = [r[key] for r in results if r is not None and r.get(key)]
    return statistics.median(vals) if vals else None


def spread(results, key):
    vals = [r[key] for r in results if r is not None and r.get(key)]
    if len(vals) < 2:
        return ''
    return '±%.0f%%' % (50.0 * (max(vals) - min(vals))
                        / statistics.median(vals))


def fmt(v, unit):
    if v is None:
        return 'n/a'
    if unit == 'ops/s':
        return '{:,.0f} ops/s'.format(v)
    if unit == 'MB/s':
        return '{:,.0f} MB/s'.format(v)
    if unit == 'ms':
        return '%.2f ms' % v
    if unit == 's':
        return '%.3f s' % v
    return '{:,.0f} {}'.format(v, unit)


class Table:
    def __init__(self):
        self.rows = []
        self.notes = []

    def add(self, workload, ref_name, ref, s3gw, unit, op, goal,
            spread_='', note=''):
        """A row comparing s3gw to ref (a ratio), or to goal itself when
        ref_name is None (an absolute limit)."""
        if s3gw is None or (ref_name and ref is None):
            ratio = None
        else:
            ratio = s3gw / ref if ref_name else s3gw
        if ratio is None:
            verdict = 'n/a'
        else:
            verdict = 'met' if (ratio >= goal if op == '>=' else
                                ratio <= goal if op == '<=' else
                                ratio < goal) else 'NOT met'
        ref_cell = '%s %s' % (ref_name, fmt(ref, unit)) if ref_name else '-'
        sign = op.replace('>=', '≥').replace('<=', '≤')
        goal_cell = ('%s %s×' % (sign, goal)
                     if ref_name else '%s %s' % (op, fmt(goal, unit)))
        self.rows.append((workload, ref_cell,
                          note or (fmt(s3gw, unit) + (' ' + spread_
                                                      if spread_ else '')),
                          '%.2f×' % ratio if ratio is not None and ref_name
                          else '-', goal_cell, verdict))

    def na(self, workload, why, note=''):
        self.rows.append((workload, '-', 'n/a (%s)' % why, '-', '-', 'n/a'))
        if note:
            self.notes.append('%s: %s' % (workload, note))

    def print(self):
        head = ('workload', 'reference', 's3gw', 'ratio', 'goal', '')
        widths = [max(len(r[i]) for r in self.rows + [head])
                  for i in range(len(head))]
        for r in [head] + [tuple('-' * w for w in widths)] + self.rows:
            print('| ' + ' | '.join(c.ljust(w) for c, w in zip(r, widths))
                  + ' |')
        for n in self.notes:
            print('- ' + n)


def pair_rows(t, res, lim):
    for name, label in (('get16', 'GET 4 KiB c=16'),
                        ('get128', 'GET 4 KiB c=128')):
        n, s = res[name]['nginx'], res[name]['s3gw']
        t.add(label, 'nginx', med(n, 'ops'), med(s, 'ops'), 'ops/s', '>=',
              0.7, spread(s, 'ops'))
        t.add(label + ' p99', 'nginx', med(n, 'p99_ms'), med(s, 'p99_ms'),
              'ms', '<=', 1.5, spread(s, 'p99_ms'))
    s = res['put1']['s3gw']
    t.add('PUT 4 KiB c=1 durable', 'dd dsync', lim['dsync'], med(s, 'ops'),
          'ops/s', '>=', 0.8, spread(s, 'ops'))
    t.notes.append('PUT 4 KiB c=1: nginx (no fsync) %s; the disk work of '
                   'one LMDB commit alone (4 pages + fdatasync, then the '
                   'meta page O_DSYNC) %s, so s3gw reaches %.2f× of '
                   'that floor'
                   % (fmt(med(res['put1']['nginx'], 'ops'), 'ops/s'),
                      fmt(lim['commit'], 'commits/s'),
                      med(s, 'ops') / lim['commit'] if lim['commit'] else 0))
    s = res['put128']['s3gw']
    t.add('PUT 4 KiB c=128 durable', 'nginx',
          med(res['put128']['nginx'], 'ops'), med(s, 'ops'), 'ops/s', '>=',
          1.5, spread(s, 'ops'))
    for name, label in (('bget1', 'GET 64 MiB c=1'),
                        ('bget4', 'GET 64 MiB c=4')):
        s = res[name]['s3gw']
        t.add(label, 'nginx', med(res[name]['nginx'], 'mbps'),
              med(s, 'mbps'), 'MB/s', '>=', 0.95, spread(s, 'mbps'))
    s = res['bput1']['s3gw']
    t.add('PUT 64 MiB c=1', 'md5', lim['md5'], med(s, 'mbps'), 'MB/s', '>=',
          0.8, spread(s, 'mbps'))
    s = res['bput4']['s3gw']
    t.add('(PUT 64 MiB c=4, 1 worker)', 'md5', lim['md5'], med(s, 'mbps'),
          'MB/s', '>=', 1.6, spread(s, 'mbps'))
    t.notes.append('PUT 64 MiB: nginx (no fsync) %s at c=1, %s at c=4; the '
                   'row in brackets is for comparison with the 2-worker row'
                   % (fmt(med(res['bput1']['nginx'], 'mbps'), 'MB/s'),
                      fmt(med(res['bput4']['nginx'], 'mbps'), 'MB/s')))


def other_rows(t, lim, head, rss, wk, st):
    size = '%d GiB' % (COLD // 1024 // MiB) if COLD >= 1024 * MiB \
        else '%d MiB' % (COLD // MiB)
    res = head.get('resident')
    t.notes.append('HEAD during the GET: the object made cold with %s%s; '
                   'the cold GET read %s' % (
                       head.get('how'), ' (%.0f%% of the chunk files cached '
                       'before)' % res if res is not None else '',
                       fmt(med(head['get'], 'mbps'), 'MB/s')))
    t.add('HEAD p99 during a cold %s GET' % size, 'idle',
          med(head['idle'], 'p99_ms'), med(head['busy'], 'p99_ms'),
          'ms', '<=', 2, spread(head['busy'], 'p99_ms'))
    if wk['why'] is not None:
        short = wk['why'].split(':')[0]
        t.na('PUT 64 MiB c=4, worker_processes 2', short)
        t.na('GET 4 KiB c=128, 2 workers vs 1', short, wk['why'])
    else:
        t.add('PUT 64 MiB c=4, worker_processes 2', 'md5', lim['md5'],
              med(wk['bput4'], 'mbps'), 'MB/s', '>=', 1.6,
              spread(wk['bput4'], 'mbps'))
        t.add('GET 4 KiB c=128, 2 workers vs 1', '1 worker',
              med(wk['w1'], 'ops'), med(wk['w2'], 'ops'), 'ops/s', '>=', 1.7,
              spread(wk['w2'], 'ops'))
        t.notes.append('2 workers vs 1: server CPU per 4 KiB GET %.1f µs '
                       'with 1 worker, %.1f µs with 2; the server used %.2f '
                       'and %.2f of the %d cores (wrk the rest)' % (
                           med(wk['w1'], 'cpu_us') or 0,
                           med(wk['w2'], 'cpu_us') or 0,
                           med(wk['w1'], 'cores') or 0,
                           med(wk['w2'], 'cores') or 0,
                           os.cpu_count()))
    if st.get('why'):
        t.na('start-up with %d objects' % OBJECTS, st['why'])
    else:
        full = [x for x in st['full'] if x is not None]
        empty = [x for x in st['empty'] if x is not None]
        t.notes.append('start-up: exec to the first 200 answer; the %s '
                       'objects were PUT in %.1f s by wrk c=128 (fsync off '
                       'for the fill, %d refused); with an empty store: %s'
                       % ('{:,}'.format(st['n'] + 1), st['fill_s'],
                          st['refused'],
                          fmt(statistics.median(empty) if empty else None,
                              's')))
        t.add('start-up, %s objects' % '{:,}'.format(st['n'] + 1), None,
              None, statistics.median(full) if full else None, 's',
              '<', 1.0)
    peak, loaded = rss
    t.add('RSS during a %d MiB PUT' % (RSS_PUT // MiB), None, None,
          peak / 1024.0, 'MiB', '<', 64)
    fresh = max(wk['fresh1']) / 1024.0 if wk['fresh1'] else None
    t.add('idle RSS per worker', None, None, fresh, 'MB', '<', 20)
    t.notes.append('RSS is VmRSS (LMDB\'s mapped pages included), the '
                   'largest over the workers; idle: just started on the '
                   'bench\'s data (2 workers: %s); after all the load: %s'
                   % (fmt(max(wk['fresh2']) / 1024.0, 'MB')
                      if wk['fresh2'] else 'n/a', fmt(loaded / 1024.0, 'MB')))


def main():
    binary = os.path.abspath(sys.argv[1] if len(sys.argv) > 1
                             else 'build/s3gw')
    if shutil.which('wrk') is None:
        print('bench: the comparison wants wrk (apt-get install wrk)')
        return
    client = build_client(binary)
    tmp = tempfile.mkdtemp(prefix='s3gw-compare-',
                           dir=os.environ.get('BENCH_DIR'))
    nginx = s3gw = None
    try:
        log('machine limits')
        lim = limits(tmp)
        data = os.path.join(tmp, 'data')
        s3gw, why = s3gw_start(binary, data)
        if s3gw is None:
            raise SystemExit('bench: s3gw did not start: ' + why)
        s3 = presigner(S3GW_PORT)
        log('writing the objects')
        root, paths, files = make_data(tmp, s3)
        check_urls(S3GW_PORT, files)
        nginx, nport = nginx_start(tmp, root)
        targets = [('s3gw', S3GW_PORT)]
        if nginx is not None:
            targets.insert(0, ('nginx', nport))
        res = interleaved(client, paths, targets)
        stop(nginx)
        nginx = None
        log('HEAD latency, cold GET')
        head = head_phase(client, paths, data)
        log('RSS')
        rss = rss_phase(client, s3gw, paths)
        stop(s3gw)
        s3gw = None
        log('workers')
        wk = workers_phase(binary, data, client, paths)
        log('start-up')
        st = startup_phase(binary, tmp)
        for r in res.values():      # no nginx: its cells say n/a
            r.setdefault('nginx', [])
        report(res, lim, head, rss, wk, st)
    finally:
        stop(nginx)
        stop(s3gw)
        shutil.rmtree(tmp, ignore_errors=True)


def report(res, lim, head, rss, wk, st):
    t = Table()
    pair_rows(t, res, lim)
    other_rows(t, lim, head, rss, wk, st)
    print('s3gw vs nginx (1 worker each unless said; medians of %d round%s '
          'of %g s, interleaved; ± is half the spread over rounds; nginx '
          'never fsyncs, s3gw does)' % (ROUNDS, 's' if ROUNDS > 1 else '',
                                        SECS))
    t.print()
    print('machine: %d cores; one core: md5 %s, sha256 %s (openssl speed, '
          '16 KiB blocks); 4 KiB writes: %s with O_DSYNC, %s without '
          '(dd bs=4k)' % (os.cpu_count(), fmt(lim['md5'], 'MB/s'),
                          fmt(lim['sha256'], 'MB/s'),
                          fmt(lim['dsync'], 'ops/s'),
                          fmt(lim['nosync'], 'ops/s')))
    bad = ['%s/%s: %d' % (n, tgt, sum(x['bad'] for x in rs))
           for n, r in sorted(res.items()) for tgt, rs in r.items()
           if any(x['bad'] for x in rs)]
    if bad:
        print('warning: failed requests (socket errors, non-2xx; -1: the '
              'client printed nothing) in %s' % ', '.join(bad))
    sys.stdout.flush()


if __name__ == '__main__':
    main()
