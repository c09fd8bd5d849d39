"""Durability order and crash loops.

A kill -9 cannot show a missing fsync: the page cache outlives the process.
So the first tests trace the real server with strace and check, request by
request, that the 200 of a PUT went out only after everything it promises
was on disk, in the right order:

  chunk: write(tmp) ... fdatasync(tmp) -> rename(tmp, chunks/XX/<sha256>)
         -> fsync(chunks/XX)
  index: data.mdb pages written -> fdatasync(data.mdb) -> meta page written
         through the O_DSYNC descriptor (what LMDB does on commit without
         MDB_NOSYNC)
  then:  the first byte of "HTTP/1.1 200" on that client's socket.

The same checker must report the missing syncs of a server with fsync off,
so it is shown to be able to fail.

The last test kills the server with SIGKILL 100 times under a mixed load
(small and multi-chunk PUTs, overwrites, deletes, copies, multipart uploads)
and checks after every restart that each acknowledged operation is there,
byte-exact.
"""

import hashlib
import os
import random
import re
import shutil
import signal
import subprocess
import threading
import time

from harness import (BIN, MiB, ClientError, S3gwTestCase, Server, clean_env,
                     figure, port_open, scaled, stream_sha256)


# ==== Tracing ================================================================

STRACE = shutil.which('strace')

# Every call that writes, syncs, names a file or accepts a connection. The
# pwritev forms are not what Debian's LMDB uses (lseek + writev), but a
# build that used them must not make its page writes invisible here.
TRACE_CALLS = ('openat', 'write', 'writev', 'pwrite64', 'pwritev',
               'pwritev2', 'sendmsg', 'sendto', 'fsync', 'fdatasync',
               'msync', 'rename', 'renameat', 'renameat2', 'close',
               'accept4')
WRITE_CALLS = ('write', 'writev', 'pwrite64', 'pwritev', 'pwritev2',
               'sendmsg', 'sendto')
PWRITE_CALLS = ('pwrite64', 'pwritev', 'pwritev2')
SYNC_CALLS = ('fsync', 'fdatasync')
RENAME_CALLS = ('rename', 'renameat', 'renameat2')

# LMDB puts its two meta pages first and uses the OS page size for a new
# environment; a write inside those two pages is a meta-page write, the
# one that makes a commit visible.
PAGE_SIZE = os.sysconf('SC_PAGE_SIZE')

# strace prints each time (-ttt) in microseconds and each duration (-T) the
# same way, so start + duration may overshoot the real end by a few of
# them. The order of the lines is exact; the times must only agree with it.
TS_SLACK = 5e-6


def strace_unusable():
    """Why these tests must be skipped: strace is missing or ptrace is not
    permitted (None when tracing works). Any other failure of strace fails
    the tests."""
    if STRACE is None:
        return 'strace is not installed (test/deps.sh installs it)'
    p = subprocess.run([STRACE, '-f', '-o', os.devnull, 'true'],
                       capture_output=True, text=True, timeout=60,
                       stdin=subprocess.DEVNULL)
    if p.returncode == 0:
        return None
    if 'Operation not permitted' in p.stderr or 'EPERM' in p.stderr:
        return 'ptrace is not permitted here: %s' % p.stderr.strip()
    raise AssertionError('strace -f true exited %d: %s'
                         % (p.returncode, p.stderr.strip()))


class Call:
    """One system call of the trace. start/end are the numbers of the lines
    where it began and where it returned (the same line unless strace split
    it into "<unfinished ...>" and "<... resumed>"); t0/t1 are the times."""

    __slots__ = ('pid', 'name', 'args', 'ret', 'start', 'end', 't0', 't1',
                 'fd', 'path')

    def __init__(self, pid, name, args, start, t0):
        self.pid, self.name, self.args = pid, name, args
        self.start, self.t0 = start, t0
        self.ret, self.end, self.t1 = '', start, t0
        self.fd = self.path = None

    def result(self):
        """The return value as a number, or None (error or unknown)."""
        m = re.match(r'(-?\d+)', self.ret)
        return int(m.group(1)) if m and not self.ret.startswith('-') \
            else None

    def data(self):
        """The first string argument as strace printed it (escaped)."""
        m = _STR.search(self.args)
        return m.group(1) if m else ''

    def offset(self):
        """The last numeric argument (the offset of pwrite64/pwritev)."""
        m = re.search(r',\s*(\d+)\Z', self.args)
        return int(m.group(1)) if m else None

    def __repr__(self):
        return 'line %d: %d %s(%s) = %s' % (self.start + 1, self.pid,
                                            self.name, self.args[:120],
                                            self.ret)


_LINE = re.compile(r'(\d+)\s+(\d+\.\d+) (.*)\Z', re.S)
_RESUMED = re.compile(r'<\.\.\. (\w+) resumed>(.*)\Z', re.S)
_DURATION = re.compile(r'\s*<(\d+\.\d+)>\Z')
# The first argument as -y/-yy prints it: 12</a/path> or
# 7<TCP:[127.0.0.1:9000->127.0.0.1:51234]>.
_FD = re.compile(r'(\d+)<(.*?)>(?:,|\Z)', re.S)
_STR = re.compile(r'"((?:[^"\\]|\\.)*)"', re.S)
_UNFINISHED = ' <unfinished ...>'


def parse_trace(path):
    """The calls of an `strace -f -ttt -T -y -yy` file in the order they
    began, with split calls merged."""
    calls, pending = [], {}
    with open(path, encoding='latin-1') as f:
        for n, line in enumerate(f):
            m = _LINE.match(line.rstrip('\n'))
            if m is None:
                continue
            pid, ts, rest = int(m.group(1)), float(m.group(2)), m.group(3)
            if rest.startswith(('---', '+++')):
                continue                        # signals, exits
            r = _RESUMED.match(rest)
            if r is not None:
                c = pending.pop(pid, None)
                if c is None or c.name != r.group(1):
                    raise AssertionError('trace line %d resumes a call that '
                                         'never began: %s' % (n + 1, rest))
                tail = r.group(2)
                c.t1 = ts
            elif rest.endswith(_UNFINISHED):
                name, _, args = rest[:-len(_UNFINISHED)].partition('(')
                pending[pid] = Call(pid, name, args, n, ts)
                continue
            else:
                name, _, tail = rest.partition('(')
                c = Call(pid, name, '', n, ts)
            i = tail.rfind(') = ')
            if i < 0:                           # "= ?": killed inside
                c.args += tail
                c.ret = '?'
            else:
                c.args += tail[:i]
                ret = tail[i + 4:]
                d = _DURATION.search(ret)
                if d is not None:
                    ret = ret[:d.start()]
                    if r is None:
                        c.t1 = c.t0 + float(d.group(1))
                c.ret = ret
            c.end = n
            fm = _FD.match(c.args)
            if fm is not None:
                c.fd, c.path = int(fm.group(1)), fm.group(2)
            calls.append(c)
    calls.sort(key=lambda c: c.start)
    return calls


def before(a, b):
    """a returned before b began: in the trace's order, and by its clock."""
    return a.end < b.start and a.t1 <= b.t0 + TS_SLACK


def disorder(calls):
    """Pairs the order of lines and the timestamps disagree on (the check
    of the parser itself: a badly merged call would show up here)."""
    bad = []
    ends = sorted(calls, key=lambda c: c.end)
    j, latest = 0, None
    for c in calls:                              # by start line
        while j < len(ends) and ends[j].end < c.start:
            if latest is None or ends[j].t1 > latest.t1:
                latest = ends[j]
            j += 1
        if latest is not None and latest.t1 > c.t0 + TS_SLACK:
            bad.append((latest, c))
    return bad


def moved(calls, x, y):
    """The calls with a copy of x moved to just before y began (for the
    checker's own test)."""
    out = []
    for c in calls:
        if c is x:
            c = Call(x.pid, x.name, x.args, y.start - 0.5, y.t0)
            c.ret, c.end, c.t1, c.fd, c.path = (x.ret, c.start, y.t0, x.fd,
                                                x.path)
        out.append(c)
    out.sort(key=lambda c: c.start)
    return out


class PutRecord:
    """One PUT the test sent: on which connection (the client's port), as
    which request on it, the key, the ETag and the chunks (sha256 hex,
    length) it must have produced."""

    def __init__(self, label, client_port, index, key, data, chunk_size,
                 inline_max):
        self.label = label
        self.client_port = client_port
        self.index = index
        self.key = key
        self.md5 = hashlib.md5(data).hexdigest()
        self.chunks = []
        if len(data) > inline_max:
            for off in range(0, len(data), chunk_size):
                piece = data[off:off + chunk_size]
                self.chunks.append((hashlib.sha256(piece).hexdigest(),
                                    len(piece)))


class OrderChecker:
    """Checks the trace of a server for the durability order of each PUT.

    check() returns problems as (label, kind, text); the kinds are
    'response' (the 200 cannot be found), 'chunk-rename', 'chunk-write',
    'chunk-sync', 'dir-fsync', 'index-commit', 'index-order' and
    'index-sync'."""

    def __init__(self, calls, port, data_dir):
        self.calls, self.port, self.data_dir = calls, port, data_dir
        self.path = None        # of the trace, for messages
        data_dir = os.path.realpath(data_dir)
        self.chunks_dir = os.path.join(data_dir, 'chunks')
        self.mdb = os.path.join(data_dir, 'index', 'data.mdb')
        sock = re.compile(r'TCP:\[127\.0\.0\.1:%d->127\.0\.0\.1:(\d+)\]\Z'
                          % port)
        self.responses = {}     # client port -> response writes, in order
        self.renames = {}       # sha256 hex -> renames into chunks/XX/
        self.writes = {}        # fd path -> writes
        self.syncs = {}         # fd path -> fsync/fdatasync
        self.msyncs = []
        self.mdb_opens = []     # (call, opened with O_DSYNC or O_SYNC)
        self.mdb_writes = []
        for c in calls:
            if c.result() is None:
                continue
            if c.name in WRITE_CALLS and c.path is not None:
                m = sock.match(c.path)
                if m is not None:
                    d = c.data()
                    if d.startswith('HTTP/1.1 ') \
                            and not d.startswith('HTTP/1.1 1'):
                        self.responses.setdefault(int(m.group(1)),
                                                  []).append(c)
                    continue
                self.writes.setdefault(c.path, []).append(c)
                if c.path == self.mdb:
                    self.mdb_writes.append(c)
            elif c.name in SYNC_CALLS and c.path is not None:
                self.syncs.setdefault(c.path, []).append(c)
            elif c.name == 'msync':
                # The only file s3gw maps is data.mdb (LMDB; msync only
                # with MDB_WRITEMAP, which s3gw does not set).
                self.msyncs.append(c)
            elif c.name in RENAME_CALLS:
                src, dst = self._rename_paths(c)
                if dst is not None and os.path.dirname(
                        os.path.dirname(dst)) == self.chunks_dir:
                    c.path = src
                    self.renames.setdefault(os.path.basename(dst),
                                            []).append((c, src, dst))
            elif c.name == 'openat':
                m = _FD.match(c.ret)
                if m is not None and m.group(2) == self.mdb:
                    self.mdb_opens.append(
                        (c, int(m.group(1)),
                         bool(re.search(r'\bO_(D?SYNC)\b', c.args))))
        self.commits = self._commits()

    @staticmethod
    def _rename_paths(c):
        """(source, destination) of a rename, renameat or renameat2."""
        if c.name == 'rename':
            s = _STR.findall(c.args)
            return (s[0], s[1]) if len(s) >= 2 else (None, None)
        pairs = re.findall(r'(?:-?\d+|AT_FDCWD)<([^>]*)>,\s*"((?:[^"\\]|'
                           r'\\.)*)"', c.args)
        if len(pairs) < 2:
            return None, None
        return tuple(p if p.startswith('/') else os.path.join(d, p)
                     for d, p in pairs[:2])

    def mdb_syncs(self):
        return self.syncs.get(self.mdb, []) + self.msyncs

    def _dsync(self, w):
        """Whether write w went through a descriptor of data.mdb opened
        with O_DSYNC/O_SYNC (durable when it returns)."""
        flag = False
        for c, fd, dsync in self.mdb_opens:
            if fd == w.fd and c.end < w.start:
                flag = dsync
        return flag

    @staticmethod
    def _is_meta(w):
        off = w.offset() if w.name in PWRITE_CALLS else None
        return off is not None and off < 2 * PAGE_SIZE

    def _commits(self):
        """data.mdb writes cut into commits: each ends with its meta-page
        write. LMDB has one writer at a time, so commits do not overlap."""
        commits, pages = [], []
        for w in self.mdb_writes:
            if self._is_meta(w):
                commits.append((pages, w))
                pages = []
            else:
                pages.append(w)
        if pages:
            commits.append((pages, None))       # never finished
        return commits

    def _durable_at(self, w, limit):
        """The call after which write w to data.mdb is on disk: itself when
        it went through the O_DSYNC descriptor, else the first sync of
        data.mdb begun after it and ended before `limit`. None if none."""
        if self._dsync(w):
            return w
        for s in sorted(self.mdb_syncs(), key=lambda s: s.start):
            if before(w, s) and before(s, limit):
                return s
        return None

    def check(self, puts):
        problems, facts = [], {'chunks': 0, 'index_syncs': set(),
                               'meta_writes': set(), 'orders': []}

        def bad(p, kind, text):
            problems.append((p.label, kind, text))

        for p in puts:
            got = self.responses.get(p.client_port, [])
            if p.index >= len(got):
                bad(p, 'response', 'no response %d on the connection from '
                    'port %d (%d found)' % (p.index + 1, p.client_port,
                                            len(got)))
                continue
            resp = got[p.index]
            if not resp.data().startswith('HTTP/1.1 200 ') \
                    or p.md5 not in resp.data():
                bad(p, 'response', 'response %d on port %d is not the 200 '
                    'with ETag %s: %r' % (p.index + 1, p.client_port, p.md5,
                                          resp))
                continue
            order = []
            durable_chunks = []
            for sha, length in p.chunks:
                rn = [r for r in self.renames.get(sha, ())
                      if before(r[0], resp)]
                if not rn:
                    bad(p, 'chunk-rename', 'chunk %s was not renamed into '
                        'chunks/%s/ before the response (%r)'
                        % (sha, sha[:2], resp))
                    continue
                ren, tmp, dst = rn[-1]
                writes = [w for w in self.writes.get(tmp, ())
                          if w.start < ren.start]
                written = sum(w.result() for w in writes)
                if written != length:
                    bad(p, 'chunk-write', '%d bytes were written to %s '
                        'before its rename to %s, not %d'
                        % (written, tmp, dst, length))
                    continue
                syncs = [s for s in self.syncs.get(tmp, ())
                         if before(writes[-1], s) and before(s, ren)]
                if not syncs:
                    bad(p, 'chunk-sync', 'chunk %s: %s was not fdatasync\'ed '
                        'between its last write (%r) and its rename (%r)'
                        % (sha, tmp, writes[-1], ren))
                dirsyncs = [s for s in self.syncs.get(os.path.dirname(dst),
                                                      ())
                            if before(ren, s) and before(s, resp)]
                if not dirsyncs:
                    bad(p, 'dir-fsync', 'chunk %s: directory %s was not '
                        'fsync\'ed between the rename (%r) and the response '
                        '(%r)' % (sha, os.path.dirname(dst), ren, resp))
                    continue
                facts['chunks'] += 1
                durable_chunks.append(dirsyncs[0])
                if syncs:
                    durable_chunks.append(syncs[0])
                    order += [syncs[0], ren, dirsyncs[0]]
            self._check_index(p, resp, durable_chunks, bad, facts, order)
            if not [x for x in problems if x[0] == p.label]:
                facts['orders'].append((p, order + [resp]))
        return problems, facts

    def _check_index(self, p, resp, durable_chunks, bad, facts, order):
        """The commit that first wrote the key: after the chunks were
        durable, its pages synced before its meta page, and that meta page
        durable before the response."""
        for pages, meta in self.commits:
            if any(p.key in w.args for w in pages):
                break
        else:
            bad(p, 'index-commit', 'no data.mdb write carries the key %r'
                % p.key)
            return
        first = pages[0]
        if not before(first, resp):
            bad(p, 'index-order', 'the commit of %r began writing data.mdb '
                '(%r) only after the response (%r)' % (p.key, first, resp))
            return
        late = [c for c in durable_chunks if not before(c, first)]
        if late:
            bad(p, 'index-order', 'the commit of %r wrote data.mdb (%r) '
                'before its chunks were durable (%r)' % (p.key, first,
                                                         late[0]))
        if meta is None or not before(meta, resp):
            bad(p, 'index-order', 'the meta page of the commit of %r was not '
                'written before the response (%r, %r)' % (p.key, meta, resp))
            return
        sync = [s for s in self.mdb_syncs()
                if before(pages[-1], s) and before(s, meta)]
        if not sync:
            bad(p, 'index-sync', 'data.mdb was not synced between the pages '
                'of the commit of %r (last %r) and its meta page (%r)'
                % (p.key, pages[-1], meta))
        at = self._durable_at(meta, resp)
        if at is None:
            bad(p, 'index-sync', 'the meta page write of the commit of %r '
                '(%r) went through a descriptor without O_DSYNC and no sync '
                'of data.mdb followed it before the response (%r)'
                % (p.key, meta, resp))
            return
        if sync:
            facts['index_syncs'].add(sync[0].name)
            order += [pages[-1], sync[0], meta]
        facts['meta_writes'].add('%s(data.mdb%s)' % (
            meta.name, ', O_DSYNC fd' if at is meta else ''))


class TracedServer(Server):
    """s3gw under `strace -f`, writing the trace to <dir>/trace.txt.
    Signals go to the server itself (strace holds fatal signals back while
    it runs a command)."""

    def __init__(self, **kw):
        super().__init__(start=False, **kw)
        self.trace_path = os.path.join(self.dir, 'trace.txt')
        self.server_pid = None

    def start(self, timeout=60.0):
        assert not self.running(), 'already running'
        env = clean_env()
        # LeakSanitizer stops the world with ptrace, which a traced process
        # cannot have; leaks are looked for by every other test.
        opts = [o for o in env.get('ASAN_OPTIONS', '').split(':')
                if o and not o.startswith('detect_leaks=')]
        env['ASAN_OPTIONS'] = ':'.join(opts + ['detect_leaks=0'])
        cmd = [STRACE, '-f', '-ttt', '-T', '-y', '-yy', '-s', '4096',
               '-e', 'trace=' + ','.join(TRACE_CALLS),
               '-o', self.trace_path, BIN, '-c', self.conf_path] + self.args
        with open(self.stdout_path, 'ab') as out, \
                open(self.stderr_path, 'ab') as err:
            self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                         stdout=out, stderr=err,
                                         cwd=self.dir, env=env)
        deadline = time.monotonic() + timeout
        while not port_open(self.port, 0.25):
            if self.proc.poll() is not None:
                self.exit_codes.append(self.proc.returncode)
                self.proc = None
                raise AssertionError('traced s3gw exited before it listened'
                                     '\n%s' % self.log_tail())
            if time.monotonic() > deadline:
                self.kill9()
                raise AssertionError('traced s3gw did not listen within %gs'
                                     '\n%s' % (timeout, self.log_tail()))
            time.sleep(0.05)
        self.server_pid = self._child_pid()

    def _child_pid(self):
        p = self.proc.pid
        try:
            with open('/proc/%d/task/%d/children' % (p, p)) as f:
                kids = f.read().split()
        except OSError:
            kids = []
        if not kids:                            # no CONFIG_PROC_CHILDREN
            for d in os.listdir('/proc'):
                try:
                    with open('/proc/%s/stat' % d) as f:
                        if int(f.read().rsplit(')', 1)[1].split()[1]) == p:
                            kids.append(d)
                except (OSError, ValueError, IndexError):
                    continue
        if len(kids) != 1:
            raise AssertionError('strace %d has children %r, not one s3gw'
                                 % (p, kids))
        return int(kids[0])

    def send_signal(self, sig):
        os.kill(self.server_pid, sig)

    def kill9(self):
        if self.proc is None:
            return
        if self.server_pid is None and self.proc.poll() is None:
            try:
                self.server_pid = self._child_pid()
            except AssertionError:
                pass
        if self.proc.poll() is None and self.server_pid is not None:
            try:
                os.kill(self.server_pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if self.proc.poll() is None and self.server_pid is None:
            self.proc.kill()
        self.wait(30)


class DurabilityOrderTest(S3gwTestCase):
    """The 200 of a PUT follows the syncs of everything it made, in order."""

    shared_server = False
    CHUNK = MiB
    INLINE = 4096

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.no_trace = strace_unusable()
        if cls.no_trace:
            print('skipping %s: %s' % (cls.__name__, cls.no_trace),
                  flush=True)

    def setUp(self):
        super().setUp()
        if self.no_trace:
            self.skipTest(self.no_trace)

    def traced_run(self, fsync):
        """Starts a traced server, PUTs a mix from three connections at
        once, stops it; returns (checker, puts)."""
        srv = TracedServer(conf={'fsync': fsync, 'chunk_size': '1m',
                                 'inline_max': '4k'})
        self.addCleanup(srv.close)
        srv.start()
        bucket = self.new_bucket(client=srv.boto3_client())
        # Per connection: objects of 1..4 chunks (one exactly on the chunk
        # boundary, one a byte over inline_max) and inline ones (empty, at
        # inline_max).
        sizes = [scaled(3 * MiB, 2 * MiB), 0, 2 * MiB + 4321, 100,
                 self.INLINE + 1, self.INLINE, scaled(4 * MiB - 7, MiB + 1),
                 1]
        plans, puts, errors = [], [], []
        for t in range(3):
            rnd = random.Random(1000 + t)
            plans.append([('order/t%d/obj-%02d.bin' % (t, i),
                           rnd.randbytes(n)) for i, n in enumerate(sizes)])

        def client(t):
            try:
                with srv.conn(timeout=60) as c:
                    port = c.sock.getsockname()[1]
                    for i, (key, data) in enumerate(plans[t]):
                        path = '/%s/%s' % (bucket, key)
                        c.request('PUT', path, srv.sign('PUT', path,
                                                        body=data), data)
                        r = c.read_response('PUT')
                        if r.status != 200:
                            errors.append('%s: %r' % (key, r))
                            return
                        puts.append(PutRecord(
                            '%s (%d bytes)' % (key, len(data)), port, i, key,
                            data, self.CHUNK, self.INLINE))
            except Exception as e:                  # noqa: BLE001
                errors.append('connection %d: %r' % (t, e))

        threads = [threading.Thread(target=client, args=(t,))
                   for t in range(3)]
        for th in threads:
            th.start()
        for th in threads:
            th.join(300)
        self.assertFalse(any(th.is_alive() for th in threads), 'PUTs hung')
        self.assertEqual(errors, [])
        # Everything reads back (the trace is of a working server).
        s3 = srv.boto3_client()
        for t in range(3):
            for key, data in plans[t]:
                self.assertEqual(s3.get_object(Bucket=bucket, Key=key)
                                 ['Body'].read(), data, key)
        srv.stop()                      # the trace is complete only now
        calls = parse_trace(srv.trace_path)
        self.assertEqual(disorder(calls)[:3], [],
                         'trace times disagree with the order of its lines')
        checker = OrderChecker(calls, srv.port, srv.data_dir)
        checker.path = srv.trace_path
        return checker, puts

    def test_every_200_follows_its_syncs(self):
        checker, puts = self.traced_run('on')
        problems, facts = checker.check(puts)
        if problems:
            self.fail('%d problems in the trace %s:\n%s' % (
                len(problems), checker.path, '\n'.join(
                    '%s [%s]: %s' % p for p in problems[:20])))
        big = [p for p in puts if p.chunks]
        self.assertEqual(facts['chunks'], sum(len(p.chunks) for p in big))
        self.assertGreaterEqual(len(big), 9)
        # One chain, as evidence of what the order looked like.
        p, chain = max(facts['orders'], key=lambda o: len(o[0].chunks))
        print('order of %s:\n  %s' % (p.label, '\n  '.join(
            '%-9s %s' % (c.name, c.path if c.name not in RENAME_CALLS
                         else ' -> '.join(_STR.findall(c.args)))
            for c in chain)), flush=True)
        figure('durability order: %d PUTs (%d with %d chunk files, %d '
               'inline) on 3 connections: every chunk fdatasync\'ed, renamed '
               'and its directory fsync\'ed, then data.mdb pages + %s + %s, '
               'before the first byte of the 200'
               % (len(puts), len(big), facts['chunks'], len(puts) - len(big),
                  '/'.join(sorted(facts['index_syncs'])),
                  '/'.join(sorted(facts['meta_writes']))))

    def test_checker_reports_fsync_off(self):
        # The same load on a server with fsync off (no fdatasync, no
        # directory fsync, MDB_NOSYNC): the checker must find every missing
        # sync, and nothing else.
        checker, puts = self.traced_run('off')
        problems, _ = checker.check(puts)
        kinds = {}
        for label, kind, _ in problems:
            kinds.setdefault(label, set()).add(kind)
        for p in puts:
            want = {'index-sync'}
            if p.chunks:
                want |= {'chunk-sync', 'dir-fsync'}
            self.assertEqual(kinds.get(p.label), want,
                             '%s: reported %s' % (p.label, [
                                 x for x in problems if x[0] == p.label]))
        figure('durability order checker on fsync off: %d problems reported '
               'for %d PUTs (%s)' % (len(problems), len(puts), ', '.join(
                   '%s %d' % (k, sum(1 for x in problems if x[1] == k))
                   for k in sorted({x[1] for x in problems}))))

    def test_checker_reports_reordering(self):
        # Each step of a real, good trace moved to the wrong side of another
        # must be reported: the checker goes by order, not by presence.
        # (Moving a call keeps its timestamps consistent with the order.)
        checker, puts = self.traced_run('on')
        problems, facts = checker.check(puts)
        self.assertEqual(problems, [])
        # A chunk whose directory no other fsync touched while requests
        # were served (another one would cover its rename, rightly; the
        # start-up syncs of every directory come before any rename).
        served = min(c.start for c in checker.calls if c.name == 'accept4')
        dir_syncs = {}
        for c in checker.calls:
            if c.name in SYNC_CALLS and c.start > served:
                dir_syncs[c.path] = dir_syncs.get(c.path, 0) + 1
        for p, chain in facts['orders']:
            alone = [i for i in range(0, len(chain) - 4, 3)
                     if dir_syncs[chain[i + 2].path] == 1]
            if alone:
                break
        else:
            self.fail('every chunk directory was fsync\'ed more than once')
        label, i = p.label, alone[0]
        sync, ren, dsync = chain[i:i + 3]
        page, mdb_sync, meta, resp = chain[-4:]
        cases = [
            # (what, line to move, the line it goes before, reported kind)
            ('200 before the directory fsync', resp, dsync, 'dir-fsync'),
            ('directory fsync before the rename', dsync, ren, 'dir-fsync'),
            ('fdatasync of the chunk after its rename', sync, dsync,
             'chunk-sync'),
            ('fdatasync of data.mdb before its last page', mdb_sync, page,
             'index-sync'),
            ('200 before the fdatasync of data.mdb', resp, mdb_sync,
             'index-order'),
            ('200 before the meta page write', resp, meta, 'index-order'),
        ]
        # PUTs that group commit put into the same LMDB commit lose the
        # same data.mdb sync when it moves, and only that one finding.
        same_commit = {q.label for q, ch in facts['orders']
                       if q.label != label and mdb_sync in ch[-4:]}
        for what, move, to, kind in cases:
            with self.subTest(what):
                got, _ = OrderChecker(moved(checker.calls, move, to),
                                      checker.port,
                                      checker.data_dir).check(puts)
                self.assertIn(kind, {k for lb, k, _ in got if lb == label},
                              got)
                others = [x for x in got if x[0] != label]
                if move is mdb_sync:
                    self.assertEqual({x[0] for x in others}, same_commit,
                                     others)
                    self.assertEqual({x[1] for x in others} - {'index-sync'},
                                     set(), others)
                else:
                    self.assertEqual(others, [])


# ==== kill -9 under a mixed load, 100 times ================================

NOTHING = object()          # no operation in flight on a key


class DirectorySyncTest(S3gwTestCase):
    """The names that lead to stored bytes are durable too: at start, before
    it listens, the server fsyncs data_dir's entry in its parent, data_dir,
    index/, chunks/, tmp/ and each chunks/XX (where chunk files are renamed
    into place), so a power cut after a first start cannot lose a
    directory under acknowledged chunks."""

    shared_server = False

    def setUp(self):
        super().setUp()
        why = strace_unusable()
        if why:
            self.skipTest(why)

    def synced_dirs(self, fsync):
        srv = TracedServer(conf={'fsync': fsync})
        self.addCleanup(srv.close)
        srv.start()
        srv.stop()
        data = os.path.realpath(srv.data_dir)
        synced = set()
        for c in parse_trace(srv.trace_path):
            if c.name in ('fsync', 'fdatasync') and c.path \
                    and c.result() == 0:
                synced.add(os.path.realpath(c.path))
        want = {os.path.dirname(data), data} | {
            os.path.join(data, d) for d in ('index', 'chunks', 'tmp')} | {
            os.path.join(data, 'chunks', '%02x' % i) for i in range(256)}
        return want, synced

    def test_start_syncs_the_store_directories(self):
        want, synced = self.synced_dirs('on')
        self.assertEqual(sorted(want - synced), [])

    def test_fsync_off_syncs_none(self):
        want, synced = self.synced_dirs('off')
        self.assertEqual(sorted(want & synced), [])


class KeyState:
    """What a key holds: None (no object) or (sha256 hex, size, ETag), as
    the last acknowledged operation left it; `pending` is the result of the
    one operation sent and not acknowledged, which may or may not have
    happened."""

    __slots__ = ('acked', 'pending', 'history')

    def __init__(self):
        self.acked = None
        self.pending = NOTHING
        self.history = []

    def note(self, text):
        self.history.append(text)
        del self.history[:-12]


def content(data):
    return (hashlib.sha256(data).hexdigest(), len(data),
            '"%s"' % hashlib.md5(data).hexdigest())


def show(state):
    if state is NOTHING:
        return '-'
    if state is None:
        return 'absent'
    return '%s..(%d B, %s)' % (state[0][:12], state[1], state[2])


class Kill9LoopTest(S3gwTestCase):
    """kill -9 at random moments of a mixed load, restart on the same data
    dir, and find every acknowledged operation there, byte-exact."""

    shared_server = False
    CYCLES = scaled(100, 30)
    THREADS = 3
    KEYS = 6                    # per thread; each thread owns its keys
    CHUNK = 256 * 1024
    MIN_PART = 5 * MiB

    def test_kill9_loop_mixed_load(self):
        srv = self.start_server(conf={'chunk_size': '256k',
                                      'inline_max': '4k',
                                      'gc_interval': '100ms'})
        admin = srv.boto3_client(connect_timeout=5, read_timeout=60)
        bucket = self.new_bucket(client=admin)
        states = {'t%d/k%d' % (t, k): KeyState()
                  for t in range(self.THREADS) for k in range(self.KEYS)}
        clients = [srv.boto3_client(connect_timeout=5, read_timeout=60)
                   for _ in range(self.THREADS)]
        stats = {'acked': 0, 'ops': {}, 'inflight': 0, 'applied': 0,
                 'not_applied': 0, 'same': 0, 'gets': 0, 'bytes': 0,
                 'tmp_at_kill': 0}
        hashed = {}
        rnd = random.Random(20240611)
        t_start = time.monotonic()
        snap_at = self.CYCLES - 4
        snapshot = os.path.join(srv.dir, 'data-after-kill-%d' % snap_at)
        for cycle in range(1, self.CYCLES + 1):
            self.run_cycle(srv, clients, bucket, states, stats, cycle,
                           rnd.uniform(*scaled((0.2, 1.0), (0.3, 1.2))))
            # Dead server: every file under chunks/ must be whole and named
            # by its content (renamed only once complete).
            self.check_chunks(srv, hashed)
            if srv.tmp_files():
                stats['tmp_at_kill'] += 1
            if cycle == snap_at:
                shutil.copytree(srv.data_dir, snapshot)
            srv.start()
            self.assertEqual(srv.tmp_files(), [], 'temp files survived '
                             'the restart after kill %d' % cycle)
            self.verify(admin, bucket, states, stats, cycle)
            srv.check_logs()
            if cycle == snap_at:
                then = {k: st.acked for k, st in states.items()}
        figure('kill -9 loop: %d cycles in %.0f s, %d acknowledged '
               'operations verified (%s), %d in flight at a kill (%d '
               'applied, %d not, %d either way the same), temp files left '
               'by %d kills, %d GETs (%.0f MiB) byte-exact, %d chunk files '
               'checked'
               % (self.CYCLES, time.monotonic() - t_start, stats['acked'],
                  ', '.join('%s %d' % kv for kv in sorted(
                      stats['ops'].items())),
                  stats['inflight'], stats['applied'], stats['not_applied'],
                  stats['same'], stats['tmp_at_kill'], stats['gets'],
                  stats['bytes'] / MiB, len(hashed)))

        # The check itself: the data dir as it was after kill `snap_at`
        # (a consistent store that lost the acknowledged operations of the
        # last cycles) must fail it.
        self.assertNotEqual(then, {k: st.acked for k, st in states.items()},
                            'the last cycles changed nothing')
        srv.kill9()
        shutil.rmtree(srv.data_dir)
        shutil.copytree(snapshot, srv.data_dir)
        srv.start()
        with self.assertRaisesRegex(AssertionError, 'holds'):
            self.verify(admin, bucket, states, stats, self.CYCLES + 1)

    def run_cycle(self, srv, clients, bucket, states, stats, cycle, length):
        stop, kill_started = threading.Event(), threading.Event()
        errors, counts = [], []

        def worker(t):
            rnd = random.Random(cycle * 100 + t)
            keys = ['t%d/k%d' % (t, k) for k in range(self.KEYS)]
            done = {}
            counts.append(done)
            while not stop.is_set():
                try:
                    op = self.one_op(clients[t], bucket, keys, states, rnd)
                except (ClientError, AssertionError) as e:
                    # The server answered, with an error or a wrong ETag:
                    # never the kill's doing.
                    errors.append('thread %d: %r' % (t, e))
                    return
                except Exception as e:              # noqa: BLE001
                    if not kill_started.is_set():
                        errors.append('thread %d before the kill: %r'
                                      % (t, e))
                    return
                done[op] = done.get(op, 0) + 1

        threads = [threading.Thread(target=worker, args=(t,), daemon=True)
                   for t in range(self.THREADS)]
        for th in threads:
            th.start()
        time.sleep(length)
        kill_started.set()
        srv.kill9()
        stop.set()
        for th in threads:
            th.join(120)
            self.assertFalse(th.is_alive(), 'a load thread hung')
        self.assertEqual(errors, [], 'operations failed in cycle %d'
                         % cycle)
        for done in counts:
            for op, n in done.items():
                stats['ops'][op] = stats['ops'].get(op, 0) + n
                stats['acked'] += n
        self.assertTrue(counts and any(counts), 'no operation was '
                        'acknowledged in cycle %d' % cycle)

    def one_op(self, s3, bucket, keys, states, rnd):
        """Sends one operation on a key of this thread and records it: its
        expected result as pending before the request that changes the key
        goes out, as acknowledged once the 2xx is in. Returns its name."""
        key = rnd.choice(keys)
        st = states[key]
        sources = [k for k in keys if k != key and states[k].acked]
        r = rnd.random()
        if r < 0.28:
            op, n = 'put-small', rnd.choice((0, 1, rnd.randint(2, 4095),
                                             4096))
        elif r < 0.53:
            op, n = 'put-chunks', rnd.randint(4097, 5 * self.CHUNK + 999)
        elif r < 0.68:
            op = 'delete'
        elif r < 0.83 and sources:
            op = 'copy'
        else:
            op = 'multipart'
        if op.startswith('put'):
            data = rnd.randbytes(n)
            result = content(data)
            st.pending = result
            st.note('put %s' % show(result))
            resp = s3.put_object(Bucket=bucket, Key=key, Body=data)
            self.assertEqual(resp['ETag'], result[2], key)
        elif op == 'delete':
            result = None
            st.pending = result
            st.note('delete')
            s3.delete_object(Bucket=bucket, Key=key)
        elif op == 'copy':
            src = rnd.choice(sources)
            result = states[src].acked
            st.pending = result
            st.note('copy from %s %s' % (src, show(result)))
            resp = s3.copy_object(Bucket=bucket, Key=key,
                                  CopySource={'Bucket': bucket, 'Key': src})
            self.assertEqual(resp['CopyObjectResult']['ETag'], result[2],
                             key)
        else:
            # One part of any size, or a full 5 MiB part and a tail.
            sizes = [rnd.randint(0, 3 * self.CHUNK)]
            if rnd.random() < 0.25:
                sizes = [self.MIN_PART, rnd.randint(1, self.CHUNK)]
            parts = [rnd.randbytes(n) for n in sizes]
            up = s3.create_multipart_upload(Bucket=bucket, Key=key)
            done = []
            for i, part in enumerate(parts, 1):
                p = s3.upload_part(Bucket=bucket, Key=key, PartNumber=i,
                                   UploadId=up['UploadId'], Body=part)
                done.append({'PartNumber': i, 'ETag': p['ETag']})
            whole = b''.join(parts)
            etag = '"%s-%d"' % (hashlib.md5(b''.join(
                hashlib.md5(p).digest() for p in parts)).hexdigest(),
                len(parts))
            result = (hashlib.sha256(whole).hexdigest(), len(whole), etag)
            # Only the completion changes the key.
            st.pending = result
            st.note('multipart %s' % show(result))
            resp = s3.complete_multipart_upload(
                Bucket=bucket, Key=key, UploadId=up['UploadId'],
                MultipartUpload={'Parts': done})
            self.assertEqual(resp['ETag'], etag, key)
        st.acked, st.pending = result, NOTHING
        st.history[-1] += ' (acknowledged)'
        return op

    def verify(self, s3, bucket, states, stats, cycle):
        """After a restart every key is as its last acknowledged operation
        left it, or as the one unacknowledged operation would have."""
        listed = {}
        for page in s3.get_paginator('list_objects_v2').paginate(
                Bucket=bucket):
            for o in page.get('Contents', []):
                listed[o['Key']] = (o['Size'], o['ETag'])
        self.assertEqual(set(listed) - set(states), set(),
                         'listed keys that were never written')
        for key, st in sorted(states.items()):
            try:
                g = s3.get_object(Bucket=bucket, Key=key)
                sha, n = stream_sha256(g['Body'])
            except ClientError as e:
                if e.response['Error']['Code'] != 'NoSuchKey':
                    self.fail('after kill %d, GET %s: %s; history: %s'
                              % (cycle, key, e, '; '.join(st.history)))
                got = None
            except Exception as e:                  # noqa: BLE001
                self.fail('after kill %d, reading %s failed: %r; history: %s'
                          % (cycle, key, e, '; '.join(st.history)))
            else:
                got = (sha, n, g['ETag'])
                stats['gets'] += 1
                stats['bytes'] += n
            allowed = [st.acked]
            if st.pending is not NOTHING:
                allowed.append(st.pending)
            self.assertIn(got, allowed, 'after kill %d, %s holds %s; '
                          'acknowledged: %s, in flight: %s; history: %s'
                          % (cycle, key, show(got), show(st.acked),
                             show(st.pending), '; '.join(st.history)))
            if got is None:
                self.assertNotIn(key, listed, 'deleted %s is listed' % key)
            else:
                self.assertEqual(listed.get(key), (got[1], got[2]),
                                 'listing disagrees with GET on %s' % key)
            if st.pending is not NOTHING:
                stats['inflight'] += 1
                if st.pending == st.acked:
                    stats['same'] += 1
                elif got == st.pending:
                    stats['applied'] += 1
                else:
                    stats['not_applied'] += 1
                st.note('after kill %d: %s' % (cycle, show(got)))
            # What survived is the only state there is now.
            st.acked, st.pending = got, NOTHING

    def check_chunks(self, srv, hashed):
        """Every chunk file is named by the SHA-256 of its bytes. Files
        are immutable once renamed, so each is hashed once."""
        for f in srv.chunk_files():
            s = os.stat(f)
            sig = (s.st_ino, s.st_size, s.st_mtime_ns)
            if hashed.get(f) == sig:
                continue
            h = hashlib.sha256()
            with open(f, 'rb') as fh:
                for b in iter(lambda: fh.read(MiB), b''):
                    h.update(b)
            self.assertEqual(h.hexdigest(), os.path.basename(f),
                             'torn or misnamed chunk file %s' % f)
            self.assertEqual(os.path.basename(os.path.dirname(f)),
                             os.path.basename(f)[:2], f)
            hashed[f] = sig


if __name__ == '__main__':
    import unittest
    unittest.main()
