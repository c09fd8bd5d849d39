"""test/integration/harness.py: starts the real s3gw binary for the integration
tests and gives them clients to talk to it.

Each Server gets a fresh temp directory (config, data dir, logs) and a free
loopback port, and runs build/s3gw (or $S3GW_BIN) with a config written for
it. Stopping a server asserts a clean exit (0), and every check of its stderr
fails the test on an [alert]/[crit] line or any sanitizer report, the way
nginx-tests does.

The clients: boto3 (path-style), the aws CLI and s3cmd with throw-away
config files, raw HTTP over a socket (RawConn), SigV4-signed raw requests
(signed with botocore's signer, so the signatures are an independent
implementation's), and presigned URLs with a chosen clock.

Environment: S3GW_BIN (binary; default build/s3gw under the repo root),
S3GW_SANITIZE=1 (an ASan build: big sizes shrink, RSS limits are reported but
not asserted), S3GW_KEEP_TMP=1 (keep the temp directories), S3GW_TEST_TIMEOUT
(seconds one test may run before the whole run is aborted; default 600).
"""

import base64
import ctypes
import ctypes.util
import datetime
import faulthandler
import hashlib
import hmac
import itertools
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest
import xml.etree.ElementTree as ET
import zlib
from unittest import mock
from urllib.parse import quote


# --- A clean environment -------------------------------------------------
#
# A stray AWS_PROFILE, AWS_CA_BUNDLE, AWS_ENDPOINT_URL or proxy variable from
# the developer's shell must not change what boto3, the aws CLI or s3cmd do,
# so every AWS_* and proxy variable is dropped here, at import, before boto3
# reads anything, and again for every subprocess (clean_env()).

_PROXY_VARS = ('http_proxy', 'https_proxy', 'all_proxy', 'no_proxy',
               'HTTP_PROXY', 'HTTPS_PROXY', 'ALL_PROXY', 'NO_PROXY')


def _scrub(env):
    for name in list(env):
        if name.startswith('AWS_') or name in _PROXY_VARS \
                or name in ('BOTO_CONFIG', 'S3CMD_CONFIG'):
            del env[name]
    # Nothing but 127.0.0.1 is ever contacted; make sure no proxy is used
    # and that botocore never tries the EC2 metadata service for credentials.
    env['NO_PROXY'] = env['no_proxy'] = '127.0.0.1,localhost'
    env['AWS_EC2_METADATA_DISABLED'] = 'true'
    env['AWS_CONFIG_FILE'] = os.devnull
    env['AWS_SHARED_CREDENTIALS_FILE'] = os.devnull
    return env


_scrub(os.environ)

import boto3                                    # noqa: E402 (after _scrub)
import botocore.auth                            # noqa: E402
from botocore.awsrequest import AWSRequest      # noqa: E402
from botocore.config import Config              # noqa: E402
from botocore.credentials import Credentials    # noqa: E402
from botocore.exceptions import ClientError     # noqa: E402,F401 (re-export)


def clean_env(**extra):
    """A copy of os.environ without inherited AWS_*/proxy settings, plus
    extra (values of None remove a variable)."""
    env = _scrub(dict(os.environ))
    for k, v in extra.items():
        if v is None:
            env.pop(k, None)
        else:
            env[k] = str(v)
    return env


# --- Configuration of the run --------------------------------------------

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))


def _resolve_bin():
    b = os.environ.get('S3GW_BIN') or 'build/s3gw'
    if os.path.isabs(b):
        return b
    if os.path.exists(b):
        return os.path.abspath(b)
    return os.path.join(REPO, b)


BIN = _resolve_bin()
SANITIZE = os.environ.get('S3GW_SANITIZE') == '1'
KEEP_TMP = os.environ.get('S3GW_KEEP_TMP') == '1'
TEST_TIMEOUT = float(os.environ.get('S3GW_TEST_TIMEOUT') or 600)
REGION = 'us-east-1'
USERS = {
    'admin': ('AKADMIN', 'SECRETADMIN'),
    'bob': ('AKBOB', 'SECRETBOB'),
}
BAD_LOG = re.compile(r'\[alert\]|\[crit\]|Sanitizer|runtime error:')
EMPTY_SHA256 = hashlib.sha256(b'').hexdigest()
MiB = 1024 * 1024

DEFAULT_DIRECTIVES = {
    'region': REGION,
    'fsync': 'on',
    'log_level': 'info',
    'access_log': 'stdout',
    'chunk_size': '4m',
    'inline_max': '4k',
    'max_header_size': '16k',
    'max_headers': '100',
    'max_url': '8k',
    'header_timeout': '30s',
    'idle_timeout': '60s',
    'shutdown_timeout': '10s',
    # One process unless a test asks for more (the default is auto: one
    # per CPU): tests count on one collector, one loop and one pid.
    'worker_processes': '1',
}


def scaled(full, sanitized):
    """full on a normal build, sanitized on an ASan build (S3GW_SANITIZE=1)."""
    return sanitized if SANITIZE else full


def figure(text):
    """Prints a measured figure; run.py's output keeps these lines."""
    print('figure: ' + text, flush=True)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def port_open(port, timeout=0.5):
    try:
        with socket.create_connection(('127.0.0.1', port), timeout=timeout):
            return True
    except OSError:
        return False


def md5_hex(data):
    return hashlib.md5(data).hexdigest()


def etag_of(data):
    return '"%s"' % hashlib.md5(data).hexdigest()


def sha256_hex(data):
    return hashlib.sha256(data).hexdigest()


def s3_quote(s):
    """URI-encodes a key or bucket the way SigV4 wants it in a path: every
    byte but the unreserved ones and '/'."""
    return quote(s, safe='/~')


def http_date(dt):
    """RFC 7231 date of an aware or naive-UTC datetime."""
    if dt.tzinfo is not None:
        dt = dt.astimezone(datetime.timezone.utc).replace(tzinfo=None)
    return dt.strftime('%a, %d %b %Y %H:%M:%S GMT')


# --- Checksums S3 knows (base64 of the big-endian digest) -----------------

def _crc_table(poly, bits):
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ poly if c & 1 else c >> 1
        table.append(c)
    return table


_CRC32C_TABLE = _crc_table(0x82F63B78, 32)
_CRC64NVME_TABLE = _crc_table(0x9A6C9329AC4BC9B5, 64)


def crc32c(data, crc=0):
    crc ^= 0xFFFFFFFF
    t = _CRC32C_TABLE
    for b in data:
        crc = t[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def crc64nvme(data, crc=0):
    mask = 0xFFFFFFFFFFFFFFFF
    crc ^= mask
    t = _CRC64NVME_TABLE
    for b in data:
        crc = t[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ mask


# Known answers for "123456789", so a broken helper cannot pass for a
# broken server.
assert crc32c(b'123456789') == 0xE3069283
assert crc64nvme(b'123456789') == 0xAE8B14860A799888

CHECKSUM_ALGORITHMS = ('CRC32', 'CRC32C', 'CRC64NVME', 'SHA1', 'SHA256')


def checksum_b64(algorithm, data):
    """The value S3 puts in x-amz-checksum-<algorithm> for data."""
    a = algorithm.upper()
    if a == 'CRC32':
        raw = (zlib.crc32(data) & 0xFFFFFFFF).to_bytes(4, 'big')
    elif a == 'CRC32C':
        raw = crc32c(data).to_bytes(4, 'big')
    elif a == 'CRC64NVME':
        raw = crc64nvme(data).to_bytes(8, 'big')
    elif a == 'SHA1':
        raw = hashlib.sha1(data).digest()
    elif a == 'SHA256':
        raw = hashlib.sha256(data).digest()
    else:
        raise ValueError(algorithm)
    return base64.b64encode(raw).decode()


# --- Generated data that need not be held in memory -----------------------

class PatternReader:
    """A seekable, read-only file of `size` bytes generated from `seed`.

    The data is a sequence of 1 MiB segments, each a different rotation of one
    random 1 MiB block, so no two chunks of an object repeat (no accidental
    deduplication) while only 2 MiB are ever held. boto3 can seek it back to
    compute the payload hash and still stream the body."""

    SEG = MiB

    def __init__(self, size, seed=0):
        import random
        self.size = size
        self.pos = 0
        self._base = random.Random(seed).randbytes(self.SEG)
        self._seg_no = -1
        self._seg = b''

    def __len__(self):
        return self.size

    def _segment(self, n):
        if n != self._seg_no:
            k = (n * 7919 + 1) % self.SEG
            self._seg = self._base[k:] + self._base[:k]
            self._seg_no = n
        return self._seg

    def read(self, n=-1):
        if n is None or n < 0:
            n = self.size - self.pos
        n = min(n, self.size - self.pos)
        parts = []
        while n > 0:
            seg_no, off = divmod(self.pos, self.SEG)
            take = min(n, self.SEG - off)
            parts.append(self._segment(seg_no)[off:off + take])
            self.pos += take
            n -= take
        return b''.join(parts)

    def seek(self, off, whence=0):
        if whence == 0:
            self.pos = off
        elif whence == 1:
            self.pos += off
        else:
            self.pos = self.size + off
        self.pos = max(0, min(self.pos, self.size))
        return self.pos

    def tell(self):
        return self.pos

    def seekable(self):
        return True

    def readable(self):
        return True

    def close(self):
        pass

    def digest(self):
        """sha256 hex of the whole content; the position is kept."""
        keep, h = self.pos, hashlib.sha256()
        self.pos = 0
        while True:
            b = self.read(MiB)
            if not b:
                break
            h.update(b)
        self.pos = keep
        return h.hexdigest()


def stream_sha256(body, block=MiB):
    """sha256 hex and length of a boto3 StreamingBody, read piece by piece."""
    h, n = hashlib.sha256(), 0
    while True:
        b = body.read(block)
        if not b:
            break
        h.update(b)
        n += len(b)
    return h.hexdigest(), n


# --- Raw HTTP -------------------------------------------------------------

def _strip_ns(elem):
    for e in elem.iter():
        if isinstance(e.tag, str) and '}' in e.tag:
            e.tag = e.tag.split('}', 1)[1]
    return elem


class Response:
    """One parsed HTTP response. headers keep their order and repeats."""

    def __init__(self, version, status, reason, headers, body, raw_head):
        self.version = version
        self.status = status
        self.reason = reason
        self.headers = headers
        self.body = body
        self.raw_head = raw_head

    def header(self, name, default=None):
        name = name.lower()
        for k, v in self.headers:
            if k.lower() == name:
                return v
        return default

    def header_all(self, name):
        name = name.lower()
        return [v for k, v in self.headers if k.lower() == name]

    def xml(self):
        """The body parsed, namespaces dropped from the tags."""
        return _strip_ns(ET.fromstring(self.body))

    @property
    def code(self):
        """The <Code> of an S3 XML error body, or None."""
        try:
            root = self.xml()
        except ET.ParseError:
            return None
        if root.tag != 'Error':
            return None
        return root.findtext('Code')

    def __repr__(self):
        return '<Response %d %s %r>' % (self.status, self.reason,
                                         self.body[:300])


class ConnectionClosed(ConnectionError):
    pass


def build_request(method, target, headers=None, body=None, host=None,
                  version='HTTP/1.1'):
    """Bytes of one request. headers: dict or list of pairs, sent in order.
    Host is added unless given; Content-Length is added for a body unless a
    Content-Length or Transfer-Encoding header is given."""
    items = list(headers.items()) if isinstance(headers, dict) \
        else list(headers or [])
    names = {k.lower() for k, _ in items}
    if 'host' not in names and host is not None:
        items.insert(0, ('Host', host))
    if body is not None and 'content-length' not in names \
            and 'transfer-encoding' not in names:
        items.append(('Content-Length', str(len(body))))
    head = '%s %s %s\r\n' % (method, target, version)
    head += ''.join('%s: %s\r\n' % (k, v) for k, v in items) + '\r\n'
    return head.encode('latin-1') + (body or b'')


class RawConn:
    """A client connection for byte-exact tests: pipelining, 100-continue,
    partial sends, malformed input. Every read has a timeout."""

    def __init__(self, port, timeout=10.0, source=None):
        self.port = port
        self.host = '127.0.0.1:%d' % port
        # source: another loopback address (127.0.0.2...) to connect from,
        # so the server sees a different client.
        self.sock = socket.create_connection(
            ('127.0.0.1', port), timeout=timeout,
            source_address=(source, 0) if source else None)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = bytearray()

    def settimeout(self, t):
        self.sock.settimeout(t)

    def send(self, data):
        self.sock.sendall(data)

    def request(self, method, target, headers=None, body=None):
        self.send(build_request(method, target, headers, body,
                                host=self.host))

    def _fill(self):
        d = self.sock.recv(256 * 1024)
        if not d:
            raise ConnectionClosed('server closed the connection')
        self.buf += d

    def _take_until(self, sep, limit=1 << 20):
        while True:
            i = self.buf.find(sep)
            if i >= 0:
                out = bytes(self.buf[:i])
                del self.buf[:i + len(sep)]
                return out
            if len(self.buf) > limit:
                raise AssertionError('no %r in %d bytes' % (sep, limit))
            self._fill()

    def _take(self, n):
        while len(self.buf) < n:
            self._fill()
        out = bytes(self.buf[:n])
        del self.buf[:n]
        return out

    def read_response(self, method='GET'):
        """Reads one response (a 1xx interim response counts as one)."""
        head = self._take_until(b'\r\n\r\n').decode('latin-1')
        lines = head.split('\r\n')
        parts = lines[0].split(' ', 2)
        version, status = parts[0], int(parts[1])
        reason = parts[2] if len(parts) > 2 else ''
        headers = []
        for line in lines[1:]:
            k, _, v = line.partition(':')
            headers.append((k.strip(), v.strip()))
        r = Response(version, status, reason, headers, b'', head)
        if status < 200 or status in (204, 304) or method == 'HEAD':
            return r
        te = (r.header('Transfer-Encoding') or '').lower()
        cl = r.header('Content-Length')
        if 'chunked' in te:
            body = bytearray()
            while True:
                size = int(self._take_until(b'\r\n').split(b';')[0], 16)
                if size == 0:
                    while self._take_until(b'\r\n'):
                        pass      # trailers, up to the empty line
                    break
                body += self._take(size)
                self._take(2)
            r.body = bytes(body)
        elif cl is not None:
            r.body = self._take(int(cl))
        else:
            try:
                while True:
                    self._fill()
            except ConnectionClosed:
                pass
            r.body = bytes(self.buf)
            self.buf.clear()
        return r

    def closed_by_peer(self, timeout):
        """True if the server closes (EOF or reset) within timeout; False if
        the connection is still open then. Data that arrives is kept."""
        deadline = time.monotonic() + timeout
        try:
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.sock.settimeout(left)
                d = self.sock.recv(65536)
                if not d:
                    return True
                self.buf += d
        except socket.timeout:
            return False
        except (ConnectionResetError, BrokenPipeError):
            return True

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


# --- SigV4 through botocore -----------------------------------------------

class _Signer(botocore.auth.S3SigV4Auth):
    """botocore's S3 SigV4 signer with a chosen payload hash (a streaming
    marker, UNSIGNED-PAYLOAD or a deliberately wrong hash) and clock."""

    def __init__(self, creds, region, payload_hash=None, now=None):
        super().__init__(creds, 's3', region)
        self._payload_hash = payload_hash
        self._now = now

    def payload(self, request):
        if self._payload_hash is not None:
            return self._payload_hash
        return super().payload(request)

    def add_auth(self, request):
        if self._now is None:
            return super().add_auth(request)
        with mock.patch.object(botocore.auth, 'get_current_datetime',
                               lambda *a, **k: self._now):
            return super().add_auth(request)


class _QuerySigner(botocore.auth.S3SigV4QueryAuth):
    def __init__(self, creds, region, expires, now=None):
        super().__init__(creds, 's3', region, expires=expires)
        self._now = now

    def add_auth(self, request):
        if self._now is None:
            return super().add_auth(request)
        with mock.patch.object(botocore.auth, 'get_current_datetime',
                               lambda *a, **k: self._now):
            return super().add_auth(request)


def signing_key(secret, date, region, service='s3'):
    """The SigV4 key (for chunk signatures, which botocore does not do)."""
    def h(k, m):
        return hmac.new(k, m.encode(), hashlib.sha256).digest()
    return h(h(h(h(('AWS4' + secret).encode(), date), region), service),
             'aws4_request')


def hmac_hex(key, msg):
    return hmac.new(key, msg.encode(), hashlib.sha256).hexdigest()


# --- The server -------------------------------------------------------------

class Server:
    """One s3gw process with its own temp directory, config and port.

    conf: directives that override DEFAULT_DIRECTIVES (value None drops one);
    extra: raw config text appended; users: name -> (access key, secret);
    args: extra command-line arguments; env: extra environment variables of
    the process. Starts at once unless start=False."""

    def __init__(self, conf=None, extra='', users=None, args=(), start=True,
                 env=None):
        self.dir = tempfile.mkdtemp(prefix='s3gw-it-')
        self.data_dir = os.path.join(self.dir, 'data')
        os.makedirs(self.data_dir)
        self.port = free_port()
        self.url = 'http://127.0.0.1:%d' % self.port
        self.host = '127.0.0.1:%d' % self.port
        self.conf_path = os.path.join(self.dir, 's3gw.conf')
        self.stdout_path = os.path.join(self.dir, 'stdout.log')
        self.stderr_path = os.path.join(self.dir, 'stderr.log')
        self.users = dict(USERS if users is None else users)
        self.directives = dict(DEFAULT_DIRECTIVES)
        self.directives.update(conf or {})
        self.region = self.directives.get('region') or REGION
        self.extra = extra
        self.args = list(args)
        self.env = dict(env or {})
        self.proc = None
        self.exit_codes = []
        self._log_reported = 0
        self.write_conf()
        if start:
            self.start()

    # Config and process ------------------------------------------------

    def conf_text(self):
        lines = ['# written by test/integration/harness.py',
                 'listen 127.0.0.1:%d;' % self.port,
                 'data_dir %s;' % self.data_dir]
        for k, v in self.directives.items():
            if v is not None:
                lines.append('%s %s;' % (k, v))
        for name, (ak, sk, *more) in self.users.items():
            # An optional third item: more directives of the user block.
            lines.append('user %s { access_key %s; secret_key %s; %s}'
                         % (name, ak, sk, ''.join(
                             '%s %s; ' % kv for kv in
                             (more[0] if more else {}).items())))
        if self.extra:
            lines.append(self.extra)
        return '\n'.join(lines) + '\n'

    def write_conf(self):
        with open(self.conf_path, 'w') as f:
            f.write(self.conf_text())

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def start(self, timeout=20.0):
        """Starts the binary and waits until the port accepts connections."""
        assert not self.running(), 'already running'
        if not os.path.exists(BIN):
            raise AssertionError('s3gw binary not found: %s (build it with '
                                 'make, or set S3GW_BIN)' % BIN)
        out = open(self.stdout_path, 'ab')
        err = open(self.stderr_path, 'ab')
        try:
            self.proc = subprocess.Popen(
                [BIN, '-c', self.conf_path] + self.args,
                stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                cwd=self.dir, env=clean_env(**self.env))
        finally:
            out.close()
            err.close()
        deadline = time.monotonic() + timeout
        while True:
            rc = self.proc.poll()
            if rc is not None:
                self.exit_codes.append(rc)
                self.proc = None
                raise AssertionError('s3gw exited with %d before it listened'
                                     '\n%s' % (rc, self.log_tail()))
            if port_open(self.port, 0.25):
                return
            if time.monotonic() > deadline:
                self.kill9()
                raise AssertionError('s3gw did not listen on %d within %gs\n%s'
                                     % (self.port, timeout, self.log_tail()))
            time.sleep(0.02)

    def send_signal(self, sig):
        os.kill(self.proc.pid, sig)

    def wait(self, timeout):
        """Waits for the process to exit; returns its exit code."""
        rc = self.proc.wait(timeout)
        self.exit_codes.append(rc)
        self.proc = None
        return rc

    def stop(self, timeout=30.0, sig=signal.SIGTERM):
        """SIGTERM (or sig), wait, assert exit code 0 and a clean log. A
        server that already died on its own fails here too."""
        if self.proc is None:
            return
        rc = self.proc.poll()
        if rc is not None:
            self.wait(0)
            self._log_reported = self.log_size()
            raise AssertionError('s3gw had exited on its own with %d\n%s'
                                 % (rc, self.log_tail()))
        self.send_signal(sig)
        try:
            rc = self.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill9()
            raise AssertionError('s3gw did not exit within %gs of signal %d\n%s'
                                 % (timeout, sig, self.log_tail()))
        if rc != 0:
            self._log_reported = self.log_size()
            raise AssertionError('s3gw exited with %d after signal %d\n%s'
                                 % (rc, sig, self.log_tail()))
        self.check_logs()

    def kill9(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.kill()
        self.wait(30)

    def restart(self):
        """Stops (asserting a clean exit) unless kill9() already ended it,
        then starts again on the same data dir, config and port."""
        self.stop()
        self.start()

    def close(self):
        """Stops the server, checks the whole log, removes the temp dir."""
        try:
            self.stop()
            self.check_logs()
        finally:
            if self.proc is not None:
                self.kill9()
            if not KEEP_TMP:
                shutil.rmtree(self.dir, ignore_errors=True)

    # Logs -----------------------------------------------------------------

    def stderr_text(self):
        try:
            with open(self.stderr_path, 'rb') as f:
                return f.read().decode('utf-8', 'replace')
        except FileNotFoundError:
            return ''

    def stdout_text(self):
        try:
            with open(self.stdout_path, 'rb') as f:
                return f.read().decode('utf-8', 'replace')
        except FileNotFoundError:
            return ''

    def log_size(self):
        try:
            return os.path.getsize(self.stderr_path)
        except FileNotFoundError:
            return 0

    def log_tail(self, n=40):
        lines = self.stderr_text().splitlines()
        return '--- s3gw stderr (last %d lines of %s) ---\n%s' % (
            n, self.stderr_path, '\n'.join(lines[-n:]))

    def check_logs(self, since=None):
        """Fails on [alert], [crit], sanitizer reports and runtime errors in
        stderr from byte offset `since` on (default: what no earlier check
        has reported yet, so one report fails one test)."""
        raw = self.stderr_text().encode('utf-8', 'replace')
        if since is None:
            since = self._log_reported
        text = raw[since:].decode('utf-8', 'replace')
        bad = [l for l in text.splitlines() if BAD_LOG.search(l)]
        if bad:
            self._log_reported = len(raw)
            # Sanitizer reports span many lines: show the whole tail.
            raise AssertionError('s3gw logged %d bad line(s):\n%s\n%s'
                                 % (len(bad), '\n'.join(bad[:20]),
                                    self.log_tail(80)))

    def access_log_lines(self):
        return [l for l in self.stdout_text().splitlines() if l.strip()]

    # On-disk state --------------------------------------------------------

    def _files(self, sub):
        root = os.path.join(self.data_dir, sub)
        out = []
        for d, _, files in os.walk(root):
            out.extend(os.path.join(d, f) for f in files)
        return sorted(out)

    def chunk_files(self):
        """Every file under data_dir/chunks."""
        return self._files('chunks')

    def tmp_files(self):
        """Every file under data_dir/tmp."""
        return self._files('tmp')

    def rss_kib(self):
        """{'VmHWM': KiB, 'VmRSS': KiB} of the running server."""
        out = {}
        with open('/proc/%d/status' % self.proc.pid) as f:
            for line in f:
                k, _, v = line.partition(':')
                if k in ('VmHWM', 'VmRSS'):
                    out[k] = int(v.split()[0])
        return out

    # Clients ----------------------------------------------------------------

    def credentials(self, user):
        ak, sk = (self.users[user] if user in self.users else USERS[user])[:2]
        return Credentials(ak, sk)

    def boto3_client(self, user='admin', access_key=None, secret_key=None,
                     region=None, endpoint=None, **config):
        """A boto3 S3 client on this server (or on endpoint, a proxy in
        front of it), path-style, no retries. config: botocore Config
        arguments (merged over the defaults)."""
        if access_key is None:
            ak, sk = self.users[user][:2]
        else:
            ak, sk = access_key, secret_key
        cfg = dict(signature_version='s3v4',
                   s3={'addressing_style': 'path'},
                   retries={'total_max_attempts': 1},
                   connect_timeout=10, read_timeout=30,
                   max_pool_connections=16)
        cfg.update(config)
        session = boto3.session.Session()
        return session.client(
            's3', endpoint_url=endpoint or self.url,
            region_name=region or self.region,
            aws_access_key_id=ak, aws_secret_access_key=sk,
            config=Config(**cfg))

    def _tool_dir(self, name):
        d = os.path.join(self.dir, name)
        os.makedirs(d, exist_ok=True)
        return d

    def aws(self, *args, user='admin', timeout=180, input=None, binary='aws'):
        """Runs `aws --endpoint-url URL args...` (binary: another aws CLI,
        such as Debian's v2) with its own config and credentials files;
        returns the CompletedProcess (text)."""
        ak, sk = self.users[user][:2]
        d = self._tool_dir('aws-' + user)
        cfg, creds = os.path.join(d, 'config'), os.path.join(d, 'credentials')
        if not os.path.exists(cfg):
            with open(cfg, 'w') as f:
                f.write('[default]\nregion = %s\noutput = json\n'
                        's3 =\n    addressing_style = path\n'
                        '    multipart_threshold = 64MB\n'
                        '    multipart_chunksize = 64MB\n' % self.region)
            with open(creds, 'w') as f:
                f.write('[default]\naws_access_key_id = %s\n'
                        'aws_secret_access_key = %s\n' % (ak, sk))
        env = clean_env(AWS_CONFIG_FILE=cfg, AWS_SHARED_CREDENTIALS_FILE=creds,
                        AWS_PAGER='', HOME=d)
        return subprocess.run([binary, '--endpoint-url', self.url] + list(args),
                              env=env, capture_output=True, text=True,
                              timeout=timeout, input=input, cwd=d)

    def rclone(self, *args, user='admin', timeout=180):
        """Runs rclone with a remote named "gw" for this server (path-style,
        one try); returns the CompletedProcess (text)."""
        ak, sk = self.users[user][:2]
        d = self._tool_dir('rclone-' + user)
        env = clean_env(
            HOME=d,
            RCLONE_CONFIG=os.path.join(d, 'rclone.conf'),
            RCLONE_CONFIG_GW_TYPE='s3',
            RCLONE_CONFIG_GW_PROVIDER='Other',
            RCLONE_CONFIG_GW_ACCESS_KEY_ID=ak,
            RCLONE_CONFIG_GW_SECRET_ACCESS_KEY=sk,
            RCLONE_CONFIG_GW_ENDPOINT=self.url,
            RCLONE_CONFIG_GW_REGION=self.region,
            RCLONE_CONFIG_GW_FORCE_PATH_STYLE='true')
        return subprocess.run(['rclone', '--retries', '1',
                               '--low-level-retries', '1'] + list(args),
                              env=env, capture_output=True, text=True,
                              timeout=timeout)

    def s3cmd_config(self, user='admin'):
        ak, sk = self.users[user][:2]
        d = self._tool_dir('s3cmd-' + user)
        path = os.path.join(d, 's3cfg')
        if not os.path.exists(path):
            with open(path, 'w') as f:
                f.write('[default]\n'
                        'access_key = %s\n'
                        'secret_key = %s\n'
                        'host_base = %s\n'
                        'host_bucket = %s\n'
                        'bucket_location = %s\n'
                        'use_https = False\n'
                        'signature_v2 = False\n'
                        'check_ssl_certificate = False\n'
                        'enable_multipart = False\n'
                        'progress_meter = False\n'
                        'proxy_host = \n'
                        'proxy_port = 0\n'
                        % (ak, sk, self.host, self.host, self.region))
        return path

    def s3cmd(self, *args, user='admin', timeout=180):
        """Runs `s3cmd -c CFG args...` (path-style, plain HTTP, SigV4)."""
        cfg = self.s3cmd_config(user)
        d = os.path.dirname(cfg)
        return subprocess.run(['s3cmd', '-c', cfg] + list(args),
                              env=clean_env(HOME=d), capture_output=True,
                              text=True, timeout=timeout, cwd=d)

    def conn(self, timeout=10.0, source=None):
        """A new raw connection (RawConn), from the loopback address source
        if given."""
        return RawConn(self.port, timeout, source)

    def http(self, method, path, headers=None, body=None, timeout=10.0):
        """One raw request on a new connection; returns a Response."""
        with self.conn(timeout) as c:
            c.request(method, path, headers, body)
            return c.read_response(method)

    def sign(self, method, path, headers=None, body=b'', user='admin',
             payload_hash=None, now=None, region=None, access_key=None,
             secret_key=None):
        """SigV4 headers for a raw request, by botocore's signer.

        path is the request target exactly as it will be sent (already
        URI-encoded, with its query string). Every header given is signed,
        plus Host, X-Amz-Date and X-Amz-Content-SHA256 (the body's sha256
        unless payload_hash is given). Returns a list of header pairs;
        send Content-Length (and any unsigned header) besides them."""
        items = list(headers.items()) if isinstance(headers, dict) \
            else list(headers or [])
        if not any(k.lower() == 'host' for k, _ in items):
            items.append(('Host', self.host))
        if access_key is not None:
            creds = Credentials(access_key, secret_key)
        else:
            creds = self.credentials(user)
        req = AWSRequest(method=method, url=self.url + path,
                         headers=dict(items), data=body or b'')
        if payload_hash is None:
            payload_hash = sha256_hex(body or b'')
        _Signer(creds, region or self.region, payload_hash, now).add_auth(req)
        return list(req.headers.items())

    def signed(self, method, path, headers=None, body=None, user='admin',
               timeout=10.0, **sign_args):
        """Signs (see sign()) and sends one raw request; returns a Response."""
        hdrs = self.sign(method, path, headers, body or b'', user=user,
                         **sign_args)
        return self.http(method, path, hdrs, body, timeout)

    def presign(self, method, path, expires=3600, user='admin', now=None,
                headers=None):
        """A presigned request target (path + query) signed by botocore."""
        items = dict(headers or {})
        items.setdefault('Host', self.host)
        req = AWSRequest(method=method, url=self.url + path, headers=items)
        _QuerySigner(self.credentials(user), self.region, expires,
                     now).add_auth(req)
        return req.url[len(self.url):]


# --- The index, directly -----------------------------------------------------

class Lmdb:
    """Just enough of liblmdb (through ctypes) to read and write one key of
    one named database of an index directory, <data_dir>/index, as another
    process may while s3gw runs."""

    class Val(ctypes.Structure):
        _fields_ = [('mv_size', ctypes.c_size_t),
                    ('mv_data', ctypes.c_void_p)]

    def __init__(self, path):
        name = ctypes.util.find_library('lmdb') or 'liblmdb.so.0'
        self.lib = ctypes.CDLL(name)
        self.env = ctypes.c_void_p()
        self.check(self.lib.mdb_env_create(ctypes.byref(self.env)))
        self.check(self.lib.mdb_env_set_maxdbs(self.env, 16))
        self.check(self.lib.mdb_env_open(self.env, path.encode(), 0, 0o644))

    def check(self, rc):
        if rc != 0:
            self.lib.mdb_strerror.restype = ctypes.c_char_p
            raise OSError(rc, self.lib.mdb_strerror(rc).decode())

    def _txn(self, flags):
        txn = ctypes.c_void_p()
        self.check(self.lib.mdb_txn_begin(self.env, None, flags,
                                          ctypes.byref(txn)))
        return txn

    def get(self, db, key):
        txn = self._txn(0x20000)             # MDB_RDONLY
        try:
            dbi = ctypes.c_uint()
            self.check(self.lib.mdb_dbi_open(txn, db.encode(), 0,
                                             ctypes.byref(dbi)))
            k = self.Val(len(key), ctypes.cast(ctypes.c_char_p(key),
                                               ctypes.c_void_p))
            v = self.Val()
            self.check(self.lib.mdb_get(txn, dbi, ctypes.byref(k),
                                        ctypes.byref(v)))
            return ctypes.string_at(v.mv_data, v.mv_size)
        finally:
            self.lib.mdb_txn_abort(txn)

    def put(self, db, key, value):
        txn = self._txn(0)
        try:
            dbi = ctypes.c_uint()
            self.check(self.lib.mdb_dbi_open(txn, db.encode(), 0,
                                             ctypes.byref(dbi)))
            k = self.Val(len(key), ctypes.cast(ctypes.c_char_p(key),
                                               ctypes.c_void_p))
            v = self.Val(len(value), ctypes.cast(ctypes.c_char_p(value),
                                                 ctypes.c_void_p))
            self.check(self.lib.mdb_put(txn, dbi, ctypes.byref(k),
                                        ctypes.byref(v), 0))
        except Exception:
            self.lib.mdb_txn_abort(txn)
            raise
        self.check(self.lib.mdb_txn_commit(txn))

    def reader(self):
        """Begins a read transaction and returns it (end it with
        abort()). While it lasts, the pages of its snapshot stay in use:
        a commit cannot reuse them and must take new ones."""
        return self._txn(0x20000)

    def abort(self, txn):
        self.lib.mdb_txn_abort(txn)

    def close(self):
        self.lib.mdb_env_close(self.env)


# --- unittest base ------------------------------------------------------------

_names = itertools.count(1)


def unique_name(hint='b'):
    """A fresh bucket name from a hint (lower-cased, trimmed)."""
    base = re.sub(r'[^a-z0-9-]+', '-', hint.lower()).strip('-')[:40] or 'b'
    return '%s-%d-%d' % (base, os.getpid() % 10000, next(_names))


class S3gwTestCase(unittest.TestCase):
    """One server per class (fresh data dir), shared by its tests; each test
    works in buckets of its own. After each test the server's stderr since the
    test began is checked; the class cleanup stops the server (exit 0) and
    checks the whole log.

    conf / extra_conf: the class's config overrides (see Server).
    shared_server = False: no class server; tests call start_server()."""

    conf = None
    extra_conf = ''
    shared_server = True
    server = None
    s3 = None

    @classmethod
    def setUpClass(cls):
        if not cls.shared_server:
            return
        cls.server = Server(conf=cls.conf, extra=cls.extra_conf, start=False)
        cls.addClassCleanup(cls.server.close)
        cls.server.start()
        cls.s3 = cls.server.boto3_client()

    def setUp(self):
        faulthandler.dump_traceback_later(TEST_TIMEOUT, exit=True)
        self.addCleanup(faulthandler.cancel_dump_traceback_later)
        if self.server is not None:
            self._log_mark = self.server.log_size()
            self.addCleanup(self._check_server_log)

    def _check_server_log(self):
        self.server.check_logs(since=self._log_mark)

    def start_server(self, conf=None, extra='', **kw):
        """A server of this test's own, closed (and checked) at cleanup."""
        srv = Server(conf=conf, extra=extra, start=False, **kw)
        self.addCleanup(srv.close)
        srv.start()
        return srv

    def new_bucket(self, client=None, hint=None):
        """Creates a bucket named after the test; returns its name."""
        name = unique_name(hint or self._testMethodName.replace('test_', ''))
        (client or self.s3).create_bucket(Bucket=name)
        return name

    def assertS3Error(self, code, status, fn, *args, **kwargs):
        """fn(*args, **kwargs) must raise ClientError with this S3 error code
        (None: any; HEAD responses carry no body, so pass None for them) and
        HTTP status. Returns the error response."""
        with self.assertRaises(ClientError) as cm:
            fn(*args, **kwargs)
        resp = cm.exception.response
        got_status = resp['ResponseMetadata']['HTTPStatusCode']
        got_code = resp.get('Error', {}).get('Code')
        self.assertEqual((got_status, got_code if code else None),
                         (status, code), resp.get('Error'))
        self.assertTrue(resp['ResponseMetadata'].get('RequestId'),
                        'no x-amz-request-id on the error response')
        return resp

    def assertRawError(self, resp, status, code):
        """A raw Response must be this S3 XML error, with a request id."""
        self.assertEqual(resp.status, status, resp)
        self.assertEqual(resp.code, code, resp)
        self.assertTrue(resp.header('x-amz-request-id'), resp.raw_head)
        return resp
