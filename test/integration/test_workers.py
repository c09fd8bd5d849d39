"""worker_processes N: a master and N workers on one data_dir.

Which worker serves a connection is the kernel's choice (SO_REUSEPORT):
the tests find it out with `ss -tnp` (the server-side socket of a client
port names its process) and open connections until one lands where they
need it."""
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest

from harness import MiB, S3gwTestCase, figure, scaled, unique_name


def children(pid):
    """The pids of pid's child processes."""
    with open('/proc/%d/task/%d/children' % (pid, pid)) as f:
        return sorted(int(x) for x in f.read().split())


def cpu_ticks(pid):
    with open('/proc/%d/stat' % pid) as f:
        fields = f.read().rsplit(')', 1)[1].split()
    return int(fields[11]) + int(fields[12])        # utime + stime


def worker_pids(srv):
    """index -> pid of the running workers, from the master's log."""
    out = {}
    for m in re.finditer(r'worker (\d+) started \(pid (\d+)\)',
                         srv.stderr_text()):
        out[int(m.group(1))] = int(m.group(2))
    alive = set(children(srv.pid))
    return {i: p for i, p in out.items() if p in alive}


def server_pid_of(srv, sock):
    """The pid of the worker holding the server side of client socket."""
    cport = sock.getsockname()[1]
    for _ in range(100):
        out = subprocess.run(
            ['ss', '-tnpH', 'state', 'established',
             '( sport = :%d and dport = :%d )' % (srv.port, cport)],
            capture_output=True, text=True).stdout
        m = re.search(r'pid=(\d+)', out)
        if m:
            return int(m.group(1))
        time.sleep(0.02)
    raise AssertionError('no server socket for client port %d' % cport)


def connect(srv, rcvbuf=None):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.settimeout(30)
    s.connect(('127.0.0.1', srv.port))
    return s


def connect_to(srv, pid, rcvbuf=None, tries=200):
    """A connection the worker pid serves."""
    for _ in range(tries):
        s = connect(srv, rcvbuf)
        if server_pid_of(srv, s) == pid:
            return s
        s.close()
    raise AssertionError('no connection landed on worker pid %d' % pid)


def send_request(srv, s, method, key_path):
    target = srv.presign(method, key_path)
    s.sendall(('%s %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n'
               % (method, target, srv.host)).encode())


def read_head(s):
    buf = b''
    while b'\r\n\r\n' not in buf:
        d = s.recv(4096)
        if not d:
            raise AssertionError('closed before the head: %r' % buf)
        buf += d
    head, rest = buf.split(b'\r\n\r\n', 1)
    return head.decode('latin-1'), rest


def read_all(s, rest):
    out = [rest]
    while True:
        d = s.recv(1 << 16)
        if not d:
            return b''.join(out)
        out.append(d)


class WorkersTest(S3gwTestCase):

    def workers_server(self, n=2, **conf):
        c = {'worker_processes': str(n)}
        c.update(conf)
        srv = self.start_server(conf=c)
        deadline = time.monotonic() + 20
        while (len(worker_pids(srv)) < n
               or len(re.findall(r'worker \d+ ready', srv.stderr_text())) < n):
            self.assertLess(time.monotonic(), deadline, srv.log_tail())
            time.sleep(0.05)
        return srv

    def wait_for(self, cond, what, timeout=20):
        deadline = time.monotonic() + timeout
        while not cond():
            self.assertLess(time.monotonic(), deadline, what)
            time.sleep(0.05)

    def test_requests_spread_over_workers(self):
        """Concurrent PUTs and GETs are answered, by more than one worker."""
        srv = self.workers_server(2)
        pids = worker_pids(srv)
        self.assertEqual(sorted(pids), [0, 1])
        s3 = srv.boto3_client()
        bucket = unique_name('spread')
        s3.create_bucket(Bucket=bucket)
        # Which worker each of many fresh connections lands on.
        seen = set()
        for _ in range(40):
            c = connect(srv)
            seen.add(server_pid_of(srv, c))
            c.close()
        self.assertEqual(seen, set(pids.values()))
        before = {p: cpu_ticks(p) for p in pids.values()}
        errors = []

        def client(t):
            try:
                c = srv.boto3_client()
                for i in range(scaled(40, 15)):
                    body = os.urandom(1000 + i) + bytes([t])
                    key = 'k%d-%d' % (t, i)
                    c.put_object(Bucket=bucket, Key=key, Body=body)
                    got = c.get_object(Bucket=bucket, Key=key)['Body'].read()
                    if got != body:
                        errors.append(key)
            except Exception as e:              # noqa: BLE001
                errors.append(repr(e))
        threads = [threading.Thread(target=client, args=(t,))
                   for t in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(errors, [])
        # The keys every worker wrote are all listed by any of them.
        keys = s3.list_objects_v2(Bucket=bucket, MaxKeys=1000)['KeyCount']
        self.assertEqual(keys, 8 * scaled(40, 15))
        self.assertEqual(worker_pids(srv), pids, 'a worker died')
        for p in pids.values():
            self.assertGreater(cpu_ticks(p), before[p], 'worker %d idle' % p)

    def test_killed_worker_is_replaced_without_losing_writes(self):
        srv = self.workers_server(2)
        pids = worker_pids(srv)
        s3 = srv.boto3_client()
        bucket = unique_name('kill')
        s3.create_bucket(Bucket=bucket)
        acked = {}
        lock = threading.Lock()
        stop = threading.Event()

        def client(t):
            c = srv.boto3_client()
            i = 0
            while not stop.is_set():
                key = 'k%d-%d' % (t, i)
                body = os.urandom(3000) + key.encode()
                i += 1
                try:
                    c.put_object(Bucket=bucket, Key=key, Body=body)
                except Exception:                # noqa: BLE001
                    continue    # the worker died under it: not acked
                with lock:
                    acked[key] = body
        threads = [threading.Thread(target=client, args=(t,))
                   for t in range(6)]
        for t in threads:
            t.start()
        # By the count of answers, not by the clock: a busy machine may
        # take seconds to make six clients.
        self.wait_for(lambda: len(acked) >= 10, 'no PUT answered', 120)
        victim = pids[1]
        os.kill(victim, signal.SIGKILL)
        self.wait_for(lambda: len(worker_pids(srv)) == 2
                      and victim not in worker_pids(srv).values(),
                      'no worker replaced pid %d' % victim)
        after = len(acked)
        self.wait_for(lambda: len(acked) >= after + 20,
                      'no PUT answered after the restart', 120)
        stop.set()
        for t in threads:
            t.join()
        self.assertIn('worker 1 (pid %d) was killed by signal 9' % victim,
                      srv.stderr_text())
        srv._log_reported = srv.log_size()     # that [alert] was ours
        self.assertGreater(len(acked), 20)
        for key, body in acked.items():
            got = s3.get_object(Bucket=bucket, Key=key)['Body'].read()
            self.assertEqual(got, body, key)
        new = worker_pids(srv)
        self.assertEqual(new[0], pids[0])
        self.assertNotEqual(new[1], victim)

    def test_get_keeps_chunks_alive_against_gc_in_another_worker(self):
        """A GET served by worker 1 reads a big object slowly; worker 2
        deletes it and worker 0 collects; the GET still gets every byte,
        and the chunks go once it is over."""
        srv = self.workers_server(3, chunk_size='64k', gc_interval='50ms')
        pids = worker_pids(srv)
        s3 = srv.boto3_client()
        bucket = unique_name('pin')
        s3.create_bucket(Bucket=bucket)
        size = scaled(24, 12) * MiB
        body = os.urandom(size)
        s3.put_object(Bucket=bucket, Key='big', Body=body)
        nchunks = len(srv.chunk_files())
        self.assertGreater(nchunks, 100)
        path = '/%s/big' % bucket
        # The reader: a small receive buffer, so most of the object is
        # still to be read from the chunk files after the delete.
        g = connect_to(srv, pids[1], rcvbuf=32 * 1024)
        send_request(srv, g, 'GET', path)
        head, rest = read_head(g)
        self.assertIn(' 200 ', head.split('\r\n')[0])
        # The delete, through a worker that neither reads nor collects.
        d = connect_to(srv, pids[2])
        send_request(srv, d, 'DELETE', path)
        dhead, _ = read_head(d)
        self.assertIn(' 204 ', dhead.split('\r\n')[0])
        d.close()
        time.sleep(1.0)                         # many collector ticks
        got = read_all(g, rest)
        g.close()
        self.assertEqual(len(got), size)
        self.assertTrue(got == body, 'the bytes changed')
        # Nothing pins them now: the collector takes them all.
        self.wait_for(lambda: srv.chunk_files() == [],
                      'chunks left: %d' % len(srv.chunk_files()))

    def test_sigterm_drains_every_worker(self):
        """An upload in flight on each worker finishes; then all exit 0."""
        srv = self.workers_server(2, shutdown_timeout='20s')
        pids = worker_pids(srv)
        s3 = srv.boto3_client()
        bucket = unique_name('drain')
        s3.create_bucket(Bucket=bucket)
        size = 256 * 1024
        conns = {}
        for i, pid in pids.items():
            c = connect_to(srv, pid)
            key = '/%s/up%d' % (bucket, i)
            target = srv.presign('PUT', key)
            c.sendall(('PUT %s HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\n'
                       '\r\n' % (target, srv.host, size)).encode())
            c.sendall(b'a' * (size // 2))
            conns[i] = c
        time.sleep(0.3)
        master = srv.pid
        srv.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        for pid in pids.values():
            self.assertTrue(os.path.exists('/proc/%d' % pid),
                            'worker %d left an upload behind' % pid)
        for i, c in conns.items():
            c.sendall(b'b' * (size - size // 2))
            head, _ = read_head(c)
            self.assertIn(' 200 ', head.split('\r\n')[0])
            c.close()
        self.assertEqual(srv.wait(30), 0)
        for pid in pids.values():
            self.assertFalse(os.path.exists('/proc/%d/stat' % pid)
                             and 'Z' not in open('/proc/%d/stat' % pid)
                             .read().split()[2], 'worker %d still runs' % pid)
        self.assertIn('all workers stopped', srv.stderr_text())
        srv.check_logs()
        srv.start()
        s3 = srv.boto3_client()
        for i in pids:
            obj = s3.get_object(Bucket=bucket, Key='up%d' % i)
            self.assertEqual(obj['Body'].read(),
                             b'a' * (size // 2) + b'b' * (size - size // 2))
        self.assertNotEqual(master, srv.pid)

    def test_sighup_adds_a_user_on_every_worker(self):
        srv = self.workers_server(2)
        pids = worker_pids(srv)
        srv.users['late'] = ('AKLATE', 'late-secret')
        srv.write_conf()
        srv.send_signal(signal.SIGHUP)
        reloaded = r'signal 1: configuration .*: reloaded \d+ users'
        self.wait_for(lambda: len(re.findall(reloaded,
                                             srv.stderr_text())) == 2,
                      'the workers did not reload')
        for pid in pids.values():
            c = connect_to(srv, pid)
            c.sendall(('GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n'
                       '\r\n' % (srv.presign('GET', '/', user='late'),
                                 srv.host)).encode())
            head, _ = read_head(c)
            c.close()
            self.assertIn(' 200 ', head.split('\r\n')[0], head)

    def test_master_notifies_and_forwards_sigusr1(self):
        """With several workers the master alone talks to systemd (one
        READY=1, RELOADING/READY around SIGHUP, STOPPING=1), and SIGUSR1
        reaches every worker: after a rename, each reopens the access log."""
        d = tempfile.mkdtemp(prefix='s3gw-wnotify-')
        self.addCleanup(shutil.rmtree, d, True)
        path = os.path.join(d, 'notify.sock')
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.addCleanup(sock.close)
        sock.bind(path)
        sock.settimeout(60)
        log = os.path.join(d, 'access.log')
        srv = self.start_server(conf={'worker_processes': '2',
                                      'access_log': log},
                                env={'NOTIFY_SOCKET': path})
        self.assertEqual(sock.recv(4096).decode(), 'READY=1')
        self.wait_for(lambda: len(re.findall(r'worker \d+ ready',
                                             srv.stderr_text())) == 2,
                      'workers not ready', 60)
        pids = worker_pids(srv)
        srv.send_signal(signal.SIGHUP)
        self.assertRegex(sock.recv(4096).decode(),
                         r'^RELOADING=1\nMONOTONIC_USEC=\d+$')
        self.assertEqual(sock.recv(4096).decode(), 'READY=1')
        os.rename(log, log + '.1')
        mark = len(srv.stderr_text())
        srv.send_signal(signal.SIGUSR1)
        self.wait_for(lambda: len(re.findall(
            'reopened access_log', srv.stderr_text()[mark:])) == 2,
            'not every worker reopened the access log', 60)
        # A request on each worker lands in the new file.
        for pid in pids.values():
            c = connect_to(srv, pid)
            c.sendall(('GET / HTTP/1.1\r\nHost: %s\r\nConnection: close'
                       '\r\n\r\n' % srv.host).encode())
            read_head(c)
            c.close()
        self.wait_for(lambda: os.path.exists(log)
                      and len(open(log).read().splitlines()) >= 2,
                      'the new access log', 60)
        srv.stop()                          # asserts exit 0
        self.assertEqual(sock.recv(4096).decode(), 'STOPPING=1')
        # No worker spoke to the socket: nothing else came.
        sock.settimeout(0.5)
        with self.assertRaises(socket.timeout):
            sock.recv(4096)

    def test_generations_and_map_shared_by_workers(self):
        """Workers take object generations (version ids) from one counter.
        With several workers the index map starts as large as writes that
        add may make it (index_max_size less its last sixteenth: 15 MiB of
        16m, where one worker alone starts at 2 MiB and doubles), so no
        worker has to adopt a map another grew under load: a read that met
        one while its own worker's batch committed failed with a 500."""
        srv = self.workers_server(2, index_max_size='16m')
        s3 = srv.boto3_client()
        bucket = unique_name('gen')
        s3.create_bucket(Bucket=bucket)
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={
            'Status': 'Enabled'})
        nthreads, per = 6, scaled(120, 110)
        errors, bodies = [], {}

        def client(t):
            c = srv.boto3_client()
            try:
                for i in range(per):
                    body = os.urandom(3500)
                    key = 'k%d' % (i % 5) if i % 2 else 'o%d-%d' % (t, i)
                    r = c.put_object(Bucket=bucket, Key=key, Body=body)
                    bodies[(key, r['VersionId'])] = body
            except Exception as e:              # noqa: BLE001
                errors.append(repr(e))
        threads = [threading.Thread(target=client, args=(t,))
                   for t in range(nthreads)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(errors, [])
        # Every write got a version of its own: none was given twice.
        self.assertEqual(len(bodies), nthreads * per)
        listed = set()
        for page in s3.get_paginator('list_object_versions').paginate(
                Bucket=bucket):
            for v in page.get('Versions', []):
                listed.add((v['Key'], v['VersionId']))
        self.assertEqual(listed, set(bodies))
        text = srv.stderr_text()
        self.assertIn('index map grown from 2 to 15 MiB', text)
        self.assertNotIn('by another worker', text)
        # Each version reads back right, from either worker.
        for (key, vid), body in list(bodies.items())[::7]:
            got = s3.get_object(Bucket=bucket, Key=key, VersionId=vid)
            self.assertEqual(got['Body'].read(), body)

    def test_auto(self):
        srv = self.start_server(conf={'worker_processes': 'auto'})
        n = os.cpu_count()
        self.wait_for(lambda: len(worker_pids(srv)) == n
                      or (n == 1 and 's3gw ready' in srv.stderr_text()),
                      'not %d workers' % n)
        s3 = srv.boto3_client()
        bucket = unique_name('auto')
        s3.create_bucket(Bucket=bucket)
        s3.put_object(Bucket=bucket, Key='k', Body=b'v')
        self.assertEqual(s3.get_object(Bucket=bucket, Key='k')['Body'].read(),
                         b'v')


if __name__ == '__main__':
    unittest.main()
