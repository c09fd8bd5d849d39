"""The TLS listener: a test CA and server certificates made with the openssl
CLI, and real clients (boto3, the aws CLI, curl, openssl s_client, Python's
ssl) on an ssl listen next to a plain one: objects of several chunks and a
large one streamed both ways, multipart, presigned URLs, the protocol floor,
config errors caught by `s3gw -t`, certificates reloaded by SIGHUP (and a
broken one refused), plain HTTP sent to the TLS port, and clients that
reset in the middle of a handshake or a download."""

import hashlib
import http.client
import json
import os
import re
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

import boto3
from botocore.config import Config

from harness import (BIN, MiB, PatternReader, S3gwTestCase, Server,
                     clean_env, free_port, scaled)

OPENSSL = shutil.which('openssl') or '/usr/bin/openssl'


def run_openssl(*args, input=None, timeout=30):
    return subprocess.run([OPENSSL] + list(args), capture_output=True,
                          input=input, timeout=timeout, env=clean_env())


class TestCA:
    """A CA and server certificates (SAN IP:127.0.0.1 and DNS:localhost)
    in a temp directory."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix='s3gw-tls-')
        self.ca = os.path.join(self.dir, 'ca.pem')
        self.ca_key = os.path.join(self.dir, 'ca.key')
        r = run_openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes',
                        '-keyout', self.ca_key, '-out', self.ca, '-days', '2',
                        '-subj', '/CN=s3gw test CA')
        assert r.returncode == 0, r.stderr
        with open(os.path.join(self.dir, 'ext'), 'w') as f:
            f.write('subjectAltName=IP:127.0.0.1,DNS:localhost\n')

    def issue(self, name, serial):
        """Writes NAME.pem and NAME.key signed by the CA; returns both."""
        cert = os.path.join(self.dir, name + '.pem')
        key = os.path.join(self.dir, name + '.key')
        csr = os.path.join(self.dir, name + '.csr')
        r = run_openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout',
                        key, '-out', csr, '-subj', '/CN=localhost')
        assert r.returncode == 0, r.stderr
        r = run_openssl('x509', '-req', '-in', csr, '-CA', self.ca, '-CAkey',
                        self.ca_key, '-set_serial', str(serial), '-days', '2',
                        '-extfile', os.path.join(self.dir, 'ext'), '-out',
                        cert)
        assert r.returncode == 0, r.stderr
        return cert, key

    def close(self):
        shutil.rmtree(self.dir, ignore_errors=True)


def peer_serial(port, ca, version=None):
    """The serial number of the certificate a new handshake gets."""
    ctx = ssl.create_default_context(cafile=ca)
    if version is not None:
        ctx.minimum_version = ctx.maximum_version = version
    with socket.create_connection(('127.0.0.1', port), timeout=10) as s:
        with ctx.wrap_socket(s, server_hostname='127.0.0.1') as t:
            return int(t.getpeercert()['serialNumber'], 16)


class TLSTest(S3gwTestCase):
    extra_conf = None

    @classmethod
    def setUpClass(cls):
        cls.pki = TestCA()
        cls.addClassCleanup(cls.pki.close)
        cls.cert, cls.key = cls.pki.issue('server', 0x1001)
        # Copies the config points at, so a test can replace them.
        cls.live_cert = os.path.join(cls.pki.dir, 'live.pem')
        cls.live_key = os.path.join(cls.pki.dir, 'live.key')
        shutil.copy(cls.cert, cls.live_cert)
        shutil.copy(cls.key, cls.live_key)
        cls.tls_port = free_port()
        cls.extra_conf = ('listen 127.0.0.1:%d ssl;\nssl_certificate %s;\n'
                          'ssl_certificate_key %s;\n'
                          % (cls.tls_port, cls.live_cert, cls.live_key))
        super().setUpClass()
        cls.tls_url = 'https://127.0.0.1:%d' % cls.tls_port
        cls.tls = cls.client(cls.tls_url)

    @classmethod
    def client(cls, url, **cfg):
        ak, sk = cls.server.users['admin'][:2]
        conf = dict(signature_version='s3v4', s3={'addressing_style': 'path'},
                    retries={'total_max_attempts': 1}, connect_timeout=10,
                    read_timeout=60)
        conf.update(cfg)
        return boto3.session.Session().client(
            's3', endpoint_url=url, region_name=cls.server.region,
            aws_access_key_id=ak, aws_secret_access_key=sk,
            verify=cls.pki.ca, config=Config(**conf))

    def wait_log(self, pattern, since, timeout=10):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.server.stderr_text().encode()[since:].decode()
            if re.search(pattern, text):
                return text
            time.sleep(0.05)
        self.fail('no log line matching %r\n%s' % (pattern,
                                                   self.server.log_tail()))

    # --- clients -----------------------------------------------------------

    def test_multichunk_put_get_md5(self):
        b = self.new_bucket(self.tls)
        data = os.urandom(9 * MiB + 12345)     # three 4 MiB chunks
        r = self.tls.put_object(Bucket=b, Key='k', Body=data)
        self.assertEqual(r['ETag'].strip('"'), hashlib.md5(data).hexdigest())
        got = self.tls.get_object(Bucket=b, Key='k')['Body'].read()
        self.assertEqual(hashlib.md5(got).hexdigest(),
                         hashlib.md5(data).hexdigest())
        # A range across a chunk boundary, from the chunk files.
        got = self.tls.get_object(Bucket=b, Key='k',
                                  Range='bytes=4194000-8388999')['Body']
        self.assertEqual(got.read(), data[4194000:8389000])
        # The plain listener serves the same store at the same time.
        got = self.s3.get_object(Bucket=b, Key='k')['Body'].read()
        self.assertEqual(got, data)

    def test_large_object_streamed_both_ways(self):
        size = scaled(64 * MiB, 16 * MiB)
        b = self.new_bucket(self.tls)
        body = PatternReader(size, seed=7)
        self.tls.put_object(Bucket=b, Key='big', Body=body,
                            ContentLength=size)
        resp = self.tls.get_object(Bucket=b, Key='big')
        h, n = hashlib.sha256(), 0
        for part in resp['Body'].iter_chunks(1 << 20):
            h.update(part)
            n += len(part)
        self.assertEqual(n, size)
        self.assertEqual(h.hexdigest(), PatternReader(size, seed=7).digest())
        # Memory stays bounded: a slice per connection, not the object.
        if not os.environ.get('S3GW_SANITIZE'):
            self.assertLess(self.server.rss_kib()['VmHWM'], 200 * 1024)

    def test_multipart_and_presigned(self):
        b = self.new_bucket(self.tls)
        up = self.tls.create_multipart_upload(Bucket=b, Key='mp')
        parts, whole = [], b''
        for i in (1, 2):
            data = os.urandom(5 * MiB if i == 1 else 1234)
            whole += data
            r = self.tls.upload_part(Bucket=b, Key='mp', PartNumber=i,
                                     UploadId=up['UploadId'], Body=data)
            parts.append({'PartNumber': i, 'ETag': r['ETag']})
        self.tls.complete_multipart_upload(
            Bucket=b, Key='mp', UploadId=up['UploadId'],
            MultipartUpload={'Parts': parts})
        url = self.tls.generate_presigned_url(
            'get_object', Params={'Bucket': b, 'Key': 'mp'}, ExpiresIn=300)
        self.assertTrue(url.startswith('https://127.0.0.1:%d/'
                                       % self.tls_port), url)
        ctx = ssl.create_default_context(cafile=self.pki.ca)
        with urllib.request.urlopen(url, context=ctx, timeout=30) as r:
            self.assertEqual(r.read(), whole)

    def test_curl_and_aws_cli(self):
        b = self.new_bucket(self.tls)
        self.tls.put_object(Bucket=b, Key='c', Body=b'curl over tls')
        url = self.tls.generate_presigned_url(
            'get_object', Params={'Bucket': b, 'Key': 'c'}, ExpiresIn=300)
        r = subprocess.run(['curl', '-sS', '--fail', '--cacert', self.pki.ca,
                            url], capture_output=True, timeout=30,
                           env=clean_env())
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, b'curl over tls')
        # Without the CA the client refuses the certificate.
        r = subprocess.run(['curl', '-sS', url], capture_output=True,
                           timeout=30, env=clean_env())
        self.assertNotEqual(r.returncode, 0)

        src = os.path.join(self.server.dir, 'cli-src')
        with open(src, 'wb') as f:
            f.write(os.urandom(6 * MiB))
        plain = self.server.url
        self.server.url = self.tls_url
        try:
            r = self.server.aws('--ca-bundle', self.pki.ca, 's3', 'cp', src,
                                's3://%s/cli' % b)
            self.assertEqual(r.returncode, 0, r.stderr)
            dst = src + '.back'
            r = self.server.aws('--ca-bundle', self.pki.ca, 's3', 'cp',
                                's3://%s/cli' % b, dst)
            self.assertEqual(r.returncode, 0, r.stderr)
        finally:
            self.server.url = plain
        with open(src, 'rb') as f1, open(dst, 'rb') as f2:
            self.assertEqual(f1.read(), f2.read())

    def test_secure_transport_condition(self):
        b = self.new_bucket(self.tls)
        self.tls.put_object(Bucket=b, Key='o', Body=b'x')
        self.tls.put_bucket_policy(Bucket=b, Policy=json.dumps({
            'Version': '2012-10-17',
            'Statement': [{'Effect': 'Deny', 'Principal': '*',
                           'Action': 's3:GetObject',
                           'Resource': 'arn:aws:s3:::%s/*' % b,
                           'Condition': {'Bool': {
                               'aws:SecureTransport': 'false'}}}]}))
        self.assertEqual(self.tls.get_object(Bucket=b, Key='o')['Body']
                         .read(), b'x')
        self.assertS3Error('AccessDenied', 403, self.s3.get_object,
                           Bucket=b, Key='o')

    # --- protocol ---------------------------------------------------------

    def test_protocol_versions(self):
        base = ['s_client', '-connect', '127.0.0.1:%d' % self.tls_port,
                '-CAfile', self.pki.ca, '-verify_return_error']
        for v in ('-tls1_2', '-tls1_3'):
            r = run_openssl(*(base + [v]), input=b'Q\n')
            self.assertEqual(r.returncode, 0, (v, r.stderr))
            self.assertIn(b'Verify return code: 0 (ok)', r.stdout)
        # The client is allowed TLS 1.1 (security level 0): the server
        # refuses it.
        r = run_openssl(*(base + ['-tls1_1', '-cipher', 'DEFAULT@SECLEVEL=0']),
                        input=b'Q\n')
        self.assertNotEqual(r.returncode, 0, r.stdout)
        self.assertIn(b'no peer certificate available', r.stdout)

    def test_protocols_directive(self):
        port = free_port()
        srv = self.start_server(extra='listen 127.0.0.1:%d ssl;\n'
                                'ssl_certificate %s;\nssl_certificate_key %s;'
                                '\nssl_protocols TLSv1.3;\n'
                                % (port, self.cert, self.key))
        self.assertEqual(peer_serial(port, self.pki.ca), 0x1001)
        with self.assertRaises(ssl.SSLError):
            peer_serial(port, self.pki.ca, ssl.TLSVersion.TLSv1_2)
        self.assertTrue(srv.running())

    def test_plain_http_to_tls_port(self):
        with socket.create_connection(('127.0.0.1', self.tls_port), 10) as s:
            s.sendall(b'GET / HTTP/1.1\r\nHost: x\r\n\r\n')
            got = b''
            while True:
                d = s.recv(4096)
                if not d:
                    break
                got += d
        self.assertTrue(got.startswith(b'HTTP/1.1 400 '), got)
        self.assertIn(b'The plain HTTP request was sent to HTTPS port', got)

    # --- config -----------------------------------------------------------

    def check_conf(self, extra):
        srv = Server(extra=extra, start=False)
        try:
            return subprocess.run([BIN, '-t', '-c', srv.conf_path],
                                  capture_output=True, text=True, timeout=30,
                                  env=clean_env())
        finally:
            shutil.rmtree(srv.dir, ignore_errors=True)

    def test_config_errors(self):
        tls = ('listen 127.0.0.1:9443 ssl;\nssl_certificate %s;\n'
               'ssl_certificate_key %s;\n' % (self.cert, self.key))
        r = self.check_conf(tls)
        self.assertEqual(r.returncode, 0, r.stderr)
        r = self.check_conf(tls + 'ssl_protocols TLSv1.1 TLSv1.2;\n')
        self.assertEqual(r.returncode, 1)
        self.assertRegex(r.stderr, r's3gw\.conf:\d+: "TLSv1\.1" in '
                         r'"ssl_protocols" is not supported')
        r = self.check_conf('listen 127.0.0.1:9443 ssl;\n')
        self.assertEqual(r.returncode, 1)
        self.assertRegex(r.stderr, r's3gw\.conf:\d+: no "ssl_certificate" is '
                         r'defined for the "listen \.\.\. ssl" directive')
        # A certificate file that is not one, and a key of another cert.
        junk = os.path.join(self.pki.dir, 'junk.pem')
        with open(junk, 'w') as f:
            f.write('not a certificate\n')
        r = self.check_conf('listen 127.0.0.1:9443 ssl;\nssl_certificate %s;'
                            '\nssl_certificate_key %s;\n' % (junk, self.key))
        self.assertEqual(r.returncode, 1)
        self.assertIn('cannot load ssl_certificate', r.stderr)
        other_cert, other_key = self.pki.issue('other', 0x3003)
        r = self.check_conf('listen 127.0.0.1:9443 ssl;\nssl_certificate %s;'
                            '\nssl_certificate_key %s;\n'
                            % (self.cert, other_key))
        self.assertEqual(r.returncode, 1)
        self.assertIn('key values mismatch', r.stderr)

    # --- reload -----------------------------------------------------------

    def test_sighup_reloads_certificate(self):
        b = self.new_bucket(self.tls)
        self.tls.put_object(Bucket=b, Key='o', Body=b'before')
        ctx = ssl.create_default_context(cafile=self.pki.ca)
        old = http.client.HTTPSConnection('127.0.0.1', self.tls_port,
                                          context=ctx, timeout=10)
        self.addCleanup(old.close)
        url = self.tls.generate_presigned_url(
            'get_object', Params={'Bucket': b, 'Key': 'o'}, ExpiresIn=300)
        path = url[url.index('/', 8):]
        old.request('GET', path)
        self.assertEqual(old.getresponse().read(), b'before')
        self.assertEqual(peer_serial(self.tls_port, self.pki.ca), 0x1001)

        new_cert, new_key = self.pki.issue('renewed', 0x2002)
        shutil.copy(new_cert, self.live_cert)
        shutil.copy(new_key, self.live_key)
        mark = self.server.log_size()
        self.server.send_signal(signal.SIGHUP)
        self.wait_log(r'TLS certificate .* serial 2002', mark)
        self.assertEqual(peer_serial(self.tls_port, self.pki.ca), 0x2002)
        # The connection opened before goes on, on its old session.
        old.request('GET', path)
        self.assertEqual(old.getresponse().read(), b'before')
        self.assertEqual(int(old.sock.getpeercert()['serialNumber'], 16),
                         0x1001)

        # A broken certificate is refused; the one in use stays.
        with open(self.live_cert, 'w') as f:
            f.write('-----BEGIN CERTIFICATE-----\ngarbage\n')
        mark = self.server.log_size()
        self.server.send_signal(signal.SIGHUP)
        self.wait_log(r'\[error\].*TLS certificate not reloaded, the old '
                      r'one stays: cannot load ssl_certificate', mark)
        self.assertEqual(peer_serial(self.tls_port, self.pki.ca), 0x2002)
        self.assertEqual(self.tls.get_object(Bucket=b, Key='o')['Body']
                         .read(), b'before')
        shutil.copy(self.cert, self.live_cert)
        shutil.copy(self.key, self.live_key)

    # --- resets -------------------------------------------------------------

    def reset(self, s):
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                     struct.pack('ii', 1, 0))
        s.close()

    def test_resets_mid_handshake_and_mid_download(self):
        # Half a ClientHello, then a reset.
        hello = run_openssl('s_client', '-connect',
                            '127.0.0.1:%d' % self.tls_port, input=b'Q\n')
        self.assertEqual(hello.returncode, 0)
        for _ in range(5):
            s = socket.create_connection(('127.0.0.1', self.tls_port), 10)
            s.sendall(b'\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03'
                      + os.urandom(40))
            time.sleep(0.05)
            self.reset(s)
        # A completed handshake, then nothing but a reset.
        ctx = ssl.create_default_context(cafile=self.pki.ca)
        s = socket.create_connection(('127.0.0.1', self.tls_port), 10)
        t = ctx.wrap_socket(s, server_hostname='localhost')
        self.reset(t)

        # Downloads cut after a few MiB, from the chunk files.
        size = scaled(64 * MiB, 16 * MiB)
        b = self.new_bucket(self.tls)
        self.tls.put_object(Bucket=b, Key='big', Body=PatternReader(size),
                            ContentLength=size)
        url = self.tls.generate_presigned_url(
            'get_object', Params={'Bucket': b, 'Key': 'big'}, ExpiresIn=300)
        path = url[url.index('/', 8):]
        for _ in range(3):
            s = socket.create_connection(('127.0.0.1', self.tls_port), 10)
            t = ctx.wrap_socket(s, server_hostname='localhost')
            t.sendall(('GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n'
                       % (path, self.tls_port)).encode())
            got = 0
            while got < 3 * MiB:
                got += len(t.recv(1 << 16))
            self.reset(t)
        time.sleep(0.5)
        self.assertTrue(self.server.running())
        self.assertEqual(self.tls.head_object(Bucket=b, Key='big')
                         ['ContentLength'], size)
        resp = self.tls.get_object(Bucket=b, Key='big')
        h = hashlib.sha256()
        for part in resp['Body'].iter_chunks(1 << 20):
            h.update(part)
        self.assertEqual(h.hexdigest(), PatternReader(size).digest())


if __name__ == '__main__':
    unittest.main()
