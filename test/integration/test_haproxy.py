"""Behind HAProxy (Debian's haproxy, run in the foreground with its own
config), in the two ways people deploy it:

- mode http with `option forwardfor`: SigV4 (boto3 and the aws CLI, plain,
  multipart, presigned) survives the proxy, 256 MiB streams both ways
  without buffering, and aws:SourceIp sees the X-Forwarded-For address
  only when the proxy's address is a trusted_proxy.
- PROXY protocol v2 (`send-proxy-v2`, mode tcp and mode http, plain and
  TLS passthrough) to `listen ... proxy_protocol`, so bucket policies see
  the client's address; and raw sockets on that listener: a header sent
  byte by byte, version 1, LOCAL, no header, garbage, and silence past
  header_timeout.

Loopback only: HAProxy listens on 127.0.0.2 and connects to s3gw from
127.0.0.3 (trusted) or 127.0.0.4 (not trusted); clients come from
127.0.0.1 or 127.0.0.9."""

import hashlib
import http.client
import io
import json
import os
import shutil
import signal
import socket
import ssl
import struct
import subprocess
import tempfile
import time
import unittest
import urllib.request

from harness import (MiB, PatternReader, S3gwTestCase, free_port, scaled,
                     unique_name)
import test_tls

HAPROXY = shutil.which('haproxy') or '/usr/sbin/haproxy'

# Timeouts long enough for a 256 MiB body on a loaded machine; neither
# request nor response is buffered (no `option http-buffer-request`).
HAPROXY_GLOBAL = '''
global
    maxconn 256
defaults
    timeout connect 10s
    timeout client 120s
    timeout server 120s
    timeout http-request 30s
'''


def start_haproxy(cls, conf, ports):
    """Writes conf into a temp dir, runs haproxy -db on it (foreground, no
    master-worker), waits until each of ports accepts on 127.0.0.2."""
    d = tempfile.mkdtemp(prefix='s3gw-haproxy-')
    cls.addClassCleanup(shutil.rmtree, d, ignore_errors=True)
    path = os.path.join(d, 'haproxy.cfg')
    with open(path, 'w') as f:
        f.write(HAPROXY_GLOBAL + conf)
    r = subprocess.run([HAPROXY, '-c', '-f', path], capture_output=True,
                       text=True, timeout=30)
    assert r.returncode == 0, r.stdout + r.stderr
    errlog = open(os.path.join(d, 'stderr'), 'w')
    proc = subprocess.Popen([HAPROXY, '-db', '-f', path],
                            stdout=subprocess.DEVNULL, stderr=errlog)
    cls.addClassCleanup(errlog.close)

    def stop():
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    cls.addClassCleanup(stop)
    for port in ports:
        for _ in range(400):
            if proc.poll() is not None:
                raise AssertionError('haproxy exited: %s' % open(
                    os.path.join(d, 'stderr')).read())
            try:
                socket.create_connection(('127.0.0.2', port), 1).close()
                break
            except OSError:
                time.sleep(0.05)
    return proc


def get_from(source, port, path, headers=None, tls_ca=None):
    """One GET to 127.0.0.2:port from the source address, over HTTP or
    (tls_ca) HTTPS; returns (status, body)."""
    if tls_ca is not None:
        ctx = ssl.create_default_context(cafile=tls_ca)
        ctx.check_hostname = False
        conn = http.client.HTTPSConnection('127.0.0.2', port, timeout=30,
                                           source_address=(source, 0),
                                           context=ctx)
    else:
        conn = http.client.HTTPConnection('127.0.0.2', port, timeout=30,
                                          source_address=(source, 0))
    try:
        conn.request('GET', path, headers=headers or {})
        r = conn.getresponse()
        return r.status, r.read()
    finally:
        conn.close()


def policy_for(bucket, cidr):
    return json.dumps({
        'Version': '2012-10-17',
        'Statement': [{'Effect': 'Allow', 'Principal': '*',
                       'Action': 's3:GetObject',
                       'Resource': 'arn:aws:s3:::%s/*' % bucket,
                       'Condition': {'IpAddress': {'aws:SourceIp': cidr}}}]})


class HAProxyHttpTest(S3gwTestCase):
    """mode http + option forwardfor, in front of a plain listener."""

    conf = {'trusted_proxy': '127.0.0.3'}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.hport = free_port()       # trusted: connects from 127.0.0.3
        cls.uport = free_port()       # untrusted: connects from 127.0.0.4
        up = cls.server.port
        start_haproxy(cls, '''
frontend trusted
    mode http
    bind 127.0.0.2:%(h)d
    option forwardfor
    default_backend s3gw_trusted
backend s3gw_trusted
    mode http
    server s1 127.0.0.1:%(up)d source 127.0.0.3
frontend untrusted
    mode http
    bind 127.0.0.2:%(u)d
    option forwardfor
    default_backend s3gw_untrusted
backend s3gw_untrusted
    mode http
    server s1 127.0.0.1:%(up)d source 127.0.0.4
''' % {'h': cls.hport, 'u': cls.uport, 'up': up}, [cls.hport, cls.uport])
        cls.url = 'http://127.0.0.2:%d' % cls.hport
        cls.proxied = cls.server.boto3_client(endpoint=cls.url,
                                              read_timeout=120)

    def test_sigv4_through_the_proxy(self):
        b = self.new_bucket(self.proxied)
        self.proxied.put_object(Bucket=b, Key='a/one', Body=b'1' * 1000)
        self.proxied.put_object(Bucket=b, Key='a/two', Body=b'')
        self.assertEqual(self.proxied.get_object(Bucket=b, Key='a/one')
                         ['Body'].read(), b'1' * 1000)
        keys = [o['Key'] for o in self.proxied.list_objects_v2(
            Bucket=b, Prefix='a/')['Contents']]
        self.assertEqual(keys, ['a/one', 'a/two'])
        # Multipart with boto3's defaults (8 MiB parts, several at once).
        data = os.urandom(17 * MiB + 3)
        self.proxied.upload_fileobj(io.BytesIO(data), b, 'mp')
        r = self.proxied.get_object(Bucket=b, Key='mp')
        self.assertTrue(r['ETag'].endswith('-3"'), r['ETag'])
        self.assertEqual(r['Body'].read(), data)
        # Presigned GET and PUT, signed for the proxy's Host.
        url = self.proxied.generate_presigned_url(
            'get_object', Params={'Bucket': b, 'Key': 'a/one'}, ExpiresIn=300)
        self.assertEqual(urllib.request.urlopen(url, timeout=30).read(),
                         b'1' * 1000)
        url = self.proxied.generate_presigned_url(
            'put_object', Params={'Bucket': b, 'Key': 'pre'}, ExpiresIn=300)
        req = urllib.request.Request(url, data=b'presigned', method='PUT')
        self.assertEqual(urllib.request.urlopen(req, timeout=30).status, 200)
        self.assertEqual(self.s3.get_object(Bucket=b, Key='pre')['Body']
                         .read(), b'presigned')
        # The aws CLI (its own signer, aws-chunked uploads).
        src = os.path.join(self.server.dir, 'cli-src')
        with open(src, 'wb') as f:
            f.write(os.urandom(3 * MiB))
        r = self.server.aws('--endpoint-url', self.url, 's3', 'cp', src,
                            's3://%s/cli' % b)
        self.assertEqual(r.returncode, 0, r.stderr)
        dst = src + '.back'
        r = self.server.aws('--endpoint-url', self.url, 's3', 'cp',
                            's3://%s/cli' % b, dst)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(src, 'rb') as f1, open(dst, 'rb') as f2:
            self.assertEqual(f1.read(), f2.read())
        r = self.server.aws('--endpoint-url', self.url, 's3', 'ls',
                            's3://%s/a/' % b)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn('one', r.stdout)

    def test_large_streams_both_ways(self):
        size = scaled(256, 64) * MiB
        b = self.new_bucket(self.proxied)
        body = PatternReader(size, seed=15)
        md5 = hashlib.md5()
        for part in iter(lambda: body.read(MiB), b''):
            md5.update(part)
        body.seek(0)
        r = self.proxied.put_object(Bucket=b, Key='big', Body=body)
        self.assertEqual(r['ETag'].strip('"'), md5.hexdigest())
        got = hashlib.md5()
        n = 0
        stream = self.proxied.get_object(Bucket=b, Key='big')['Body']
        for part in iter(lambda: stream.read(MiB), b''):
            got.update(part)
            n += len(part)
        self.assertEqual(n, size)
        self.assertEqual(got.hexdigest(), md5.hexdigest())

    def test_source_ip_only_from_a_trusted_proxy(self):
        b = self.new_bucket()
        self.s3.put_object(Bucket=b, Key='k', Body=b'for the office')
        self.s3.put_bucket_policy(Bucket=b,
                                  Policy=policy_for(b, '127.0.0.9/32'))
        path = '/%s/k' % b
        self.assertEqual(get_from('127.0.0.9', self.hport, path),
                         (200, b'for the office'))
        self.assertEqual(get_from('127.0.0.1', self.hport, path)[0], 403)
        # HAProxy appends the address it saw: a forged header is only the
        # leftmost hop and counts for nothing.
        self.assertEqual(get_from('127.0.0.1', self.hport, path,
                                  {'X-Forwarded-For': '127.0.0.9'})[0], 403)
        # Through a proxy s3gw does not trust, X-Forwarded-For is ignored
        # and the proxy's own address (127.0.0.4) is the source.
        self.assertEqual(get_from('127.0.0.9', self.uport, path)[0], 403)
        self.s3.put_bucket_policy(Bucket=b,
                                  Policy=policy_for(b, '127.0.0.4/32'))
        self.assertEqual(get_from('127.0.0.9', self.uport, path)[0], 200)


def v2_header(src, sport, dst='127.0.0.1', dport=9000, command=1, tlv=b''):
    """A PROXY protocol v2 header for TCP over IPv4."""
    addrs = (socket.inet_aton(src) + socket.inet_aton(dst)
             + struct.pack('!HH', sport, dport))
    return (b'\r\n\r\n\x00\r\nQUIT\n' + bytes([0x20 | command, 0x11])
            + struct.pack('!H', len(addrs) + len(tlv)) + addrs + tlv)


class ProxyProtocolTest(S3gwTestCase):
    """listen ... proxy_protocol (plain and ssl) behind HAProxy's
    send-proxy-v2, and raw sockets on it."""

    conf = {'header_timeout': '3s'}

    @classmethod
    def setUpClass(cls):
        cls.pki = test_tls.TestCA()
        cls.addClassCleanup(cls.pki.close)
        cert, key = cls.pki.issue('server', 0x2001)
        cls.pp_port = free_port()
        cls.pps_port = free_port()
        cls.extra_conf = (
            'listen 127.0.0.1:%d proxy_protocol;\n'
            'listen 127.0.0.1:%d ssl proxy_protocol;\n'
            'ssl_certificate %s;\nssl_certificate_key %s;\n'
            % (cls.pp_port, cls.pps_port, cert, key))
        super().setUpClass()
        cls.tcp_port = free_port()
        cls.http_port = free_port()
        cls.tls_port = free_port()
        start_haproxy(cls, '''
frontend tcp_in
    mode tcp
    bind 127.0.0.2:%(t)d
    default_backend pp_tcp
backend pp_tcp
    mode tcp
    server s1 127.0.0.1:%(pp)d send-proxy-v2 source 127.0.0.3
frontend http_in
    mode http
    bind 127.0.0.2:%(h)d
    default_backend pp_http
backend pp_http
    mode http
    server s1 127.0.0.1:%(pp)d send-proxy-v2 source 127.0.0.3
frontend tls_in
    mode tcp
    bind 127.0.0.2:%(s)d
    default_backend pp_tls
backend pp_tls
    mode tcp
    server s1 127.0.0.1:%(pps)d send-proxy-v2 source 127.0.0.3
''' % {'t': cls.tcp_port, 'h': cls.http_port, 's': cls.tls_port,
       'pp': cls.pp_port, 'pps': cls.pps_port},
            [cls.tcp_port, cls.http_port, cls.tls_port])

    def setUp(self):
        super().setUp()
        self.bucket = self.new_bucket()
        self.s3.put_object(Bucket=self.bucket, Key='k', Body=b'hello')
        self.s3.put_bucket_policy(
            Bucket=self.bucket, Policy=policy_for(self.bucket, '127.0.0.9/32'))
        self.path = '/%s/k' % self.bucket

    def test_policies_see_the_client_through_haproxy(self):
        for port in (self.tcp_port, self.http_port):
            self.assertEqual(get_from('127.0.0.9', port, self.path),
                             (200, b'hello'), port)
            self.assertEqual(get_from('127.0.0.1', port, self.path)[0], 403,
                             port)
        # TLS passthrough: the PROXY header first, then the handshake.
        ca = self.pki.ca
        self.assertEqual(get_from('127.0.0.9', self.tls_port, self.path,
                                  tls_ca=ca), (200, b'hello'))
        self.assertEqual(get_from('127.0.0.1', self.tls_port, self.path,
                                  tls_ca=ca)[0], 403)
        # Signed requests and a streamed body through the mode tcp proxy.
        c = self.server.boto3_client(
            endpoint='http://127.0.0.2:%d' % self.tcp_port)
        data = os.urandom(9 * MiB + 1)
        c.put_object(Bucket=self.bucket, Key='big', Body=data)
        self.assertEqual(c.get_object(Bucket=self.bucket, Key='big')['Body']
                         .read(), data)
        # The access log names the client, not the proxy.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if any(l.startswith('127.0.0.9') or ' 127.0.0.9:' in l
                   or '127.0.0.9 ' in l
                   for l in self.server.access_log_lines()):
                break
            time.sleep(0.1)
        else:
            self.fail('no access log line from 127.0.0.9:\n%s'
                      % '\n'.join(self.server.access_log_lines()[-5:]))

    def raw_get(self, prefix, byte_by_byte=False):
        """Sends prefix then a GET of self.path straight to the
        proxy_protocol listener; returns the status, or None when s3gw
        closed the connection without an answer."""
        req = ('GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close'
               '\r\n\r\n' % self.path).encode()
        with socket.create_connection(('127.0.0.1', self.pp_port),
                                      timeout=30) as s:
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            try:
                if byte_by_byte:
                    for i in range(len(prefix)):
                        s.sendall(prefix[i:i + 1])
                        time.sleep(0.002)
                else:
                    s.sendall(prefix)
                s.sendall(req)
            except (BrokenPipeError, ConnectionResetError):
                return None
            data = b''
            try:
                while True:
                    part = s.recv(65536)
                    if not part:
                        break
                    data += part
            except ConnectionResetError:
                pass
        if not data:
            return None
        return int(data.split(b' ', 2)[1])

    def test_raw_headers(self):
        self.assertEqual(self.raw_get(v2_header('127.0.0.9', 40000)), 200)
        self.assertEqual(self.raw_get(v2_header('127.0.0.8', 40000)), 403)
        # Split over many reads, with a TLV the parser must skip.
        self.assertEqual(self.raw_get(
            v2_header('127.0.0.9', 40001, tlv=b'\x04\x00\x05hello'),
            byte_by_byte=True), 200)
        # Version 1, whole and byte by byte.
        v1 = b'PROXY TCP4 127.0.0.9 127.0.0.1 40002 9000\r\n'
        self.assertEqual(self.raw_get(v1), 200)
        self.assertEqual(self.raw_get(v1, byte_by_byte=True), 200)
        self.assertEqual(self.raw_get(
            b'PROXY TCP6 ::9 ::1 40003 9000\r\n'), 403)
        # LOCAL (the proxy's health check): the socket's address counts.
        self.assertEqual(self.raw_get(v2_header('127.0.0.9', 1, command=0)),
                         403)

    def test_no_or_bad_header_is_refused(self):
        since = self.server.log_size()
        self.assertIsNone(self.raw_get(b''))
        self.assertIsNone(self.raw_get(b'PROXY TCP4 127.0.0.9 x 1 2\r\n'))
        self.assertIsNone(self.raw_get(b'\r\n\r\n\x00\r\nQUIT\n\x13\x11'
                                       b'\x00\x0c' + bytes(12)))
        bad = v2_header('127.0.0.9', 1)
        self.assertIsNone(self.raw_get(bad[:5] + b'X' + bad[6:]))
        text = self.server.stderr_text()[since:]
        self.assertGreaterEqual(text.count('no valid PROXY protocol header'),
                                4, text)
        # Silence: closed at header_timeout (3s), with a line saying why.
        with socket.create_connection(('127.0.0.1', self.pp_port),
                                      timeout=60) as s:
            s.sendall(v2_header('127.0.0.9', 2)[:10])
            self.assertEqual(s.recv(10), b'')
        deadline = time.monotonic() + 10
        while 'within header_timeout' not in self.server.stderr_text():
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.1)
        # The plain listener beside it has no such rule.
        self.assertEqual(self.s3.get_object(Bucket=self.bucket, Key='k')
                         ['Body'].read(), b'hello')


if __name__ == '__main__':
    unittest.main()
