"""test/integration/test_reload.py: SIGHUP re-reads the whole configuration
without dropping a connection (users, limits; an invalid file changes
nothing and names file:line; restart-only directives are named), SIGUSR1
reopens the access log after logrotate's rename, access_log_format json,
and the systemd readiness protocol (READY/RELOADING/STOPPING on
$NOTIFY_SOCKET) plus contrib/s3gw.service."""

import hashlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest

from harness import (MiB, PatternReader, S3gwTestCase, port_open, scaled,
                     unique_name)

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))


def wait_for(pred, what, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(0.05)
    raise AssertionError('timed out waiting for ' + what)


class ReloadTest(S3gwTestCase):
    shared_server = False

    def reload(self, srv, expect='reloaded'):
        mark = len(srv.stderr_text())
        srv.send_signal(signal.SIGHUP)
        wait_for(lambda: expect in srv.stderr_text()[mark:], repr(expect))
        return srv.stderr_text()[mark:]

    def test_new_user_signs_while_a_big_upload_goes_on(self):
        srv = self.start_server()
        s3 = srv.boto3_client()
        bucket = self.new_bucket(s3)
        size = scaled(1024 * MiB, 128 * MiB)
        path = '/%s/big' % bucket
        hdrs = srv.sign('PUT', path, {'Content-Length': str(size)},
                        payload_hash='UNSIGNED-PAYLOAD')
        up = socket.create_connection(('127.0.0.1', srv.port), timeout=120)
        self.addCleanup(up.close)
        head = 'PUT %s HTTP/1.1\r\n' % path + ''.join(
            '%s: %s\r\n' % kv for kv in hdrs) + '\r\n'
        up.sendall(head.encode())
        body = PatternReader(size, seed=15)
        md5 = hashlib.md5()

        def send(n):
            while n > 0:
                block = body.read(min(n, MiB))
                md5.update(block)
                up.sendall(block)
                n -= len(block)

        send(size // 4)
        # Mid-upload: a new user, then a reload.
        srv.users['dave'] = ('AKDAVE15', 'SECRETDAVE15')
        srv.write_conf()
        log = self.reload(srv)
        self.assertIn('reloaded %d users' % len(srv.users), log)
        dave = srv.boto3_client('dave')
        dave.create_bucket(Bucket=bucket + '-d')
        dave.put_object(Bucket=bucket + '-d', Key='k', Body=b'dave')
        self.assertEqual(dave.get_object(Bucket=bucket + '-d', Key='k')
                         ['Body'].read(), b'dave')
        self.assertLess(body.tell(), size, 'the upload was not in flight')
        send(size - body.tell())
        up.settimeout(600)
        resp = b''
        while b'\r\n\r\n' not in resp:
            got = up.recv(65536)
            self.assertTrue(got, 'connection closed before the answer')
            resp += got
        self.assertTrue(resp.startswith(b'HTTP/1.1 200'), resp[:300])
        self.assertIn(md5.hexdigest().encode(), resp.lower())
        h = s3.head_object(Bucket=bucket, Key='big')
        self.assertEqual(h['ContentLength'], size)
        self.assertEqual(h['ETag'].strip('"'), md5.hexdigest())

    def test_limit_applies_and_invalid_file_is_refused(self):
        srv = self.start_server()
        s3 = srv.boto3_client()
        bucket = self.new_bucket(s3)
        s3.put_object(Bucket=bucket, Key='a', Body=b'x' * 2048)
        kept = srv.conn()                  # open across the reloads
        self.addCleanup(kept.close)
        srv.directives['max_object_size'] = '1k'
        srv.write_conf()
        self.reload(srv)
        self.assertS3Error('EntityTooLarge', 400, s3.put_object,
                           Bucket=bucket, Key='b', Body=b'x' * 2048)
        s3.put_object(Bucket=bucket, Key='c', Body=b'x' * 1000)

        # A broken file: refused with file:line, the 1k limit and the
        # users stay.
        srv.users['eve'] = ('AKEVE15', 'SECRETEVE15')
        srv.directives['max_object_size'] = '1m'
        text = srv.conf_text() + 'chunk_size 12q;\n'
        with open(srv.conf_path, 'w') as f:
            f.write(text)
        line = text.count('\n')
        log = self.reload(srv, 'not reloaded')
        self.assertRegex(log, r'\[error\] .*configuration not reloaded, the '
                         r'old one stays: .*s3gw\.conf:%d: invalid size '
                         r'"12q"' % line)
        self.assertS3Error('EntityTooLarge', 400, s3.put_object,
                           Bucket=bucket, Key='d', Body=b'x' * 2048)
        self.assertS3Error('InvalidAccessKeyId', 403,
                           srv.boto3_client('eve').list_buckets)
        # The connection opened before the reloads still serves.
        kept.request('HEAD', '/' + bucket, srv.sign('HEAD', '/' + bucket))
        self.assertEqual(kept.read_response('HEAD').status, 200)

    def test_restart_only_directives_are_named(self):
        srv = self.start_server()
        s3 = srv.boto3_client()
        bucket = self.new_bucket(s3)
        s3.put_object(Bucket=bucket, Key='k', Body=b'v')
        elsewhere = os.path.join(srv.dir, 'other-data')
        os.makedirs(elsewhere)
        srv.directives['chunk_size'] = '8m'
        srv.directives['idle_timeout'] = '30s'
        text = srv.conf_text().replace('data_dir %s;' % srv.data_dir,
                                       'data_dir %s;' % elsewhere)
        text = text.replace('listen 127.0.0.1:%d;' % srv.port,
                            'listen 127.0.0.1:%d;' % (srv.port + 1))
        with open(srv.conf_path, 'w') as f:
            f.write(text)
        log = self.reload(srv)
        for name in ('listen', 'data_dir', 'chunk_size'):
            self.assertIn('[warn] %s changed: needs a restart, the old value '
                          'stays' % name, log)
        self.assertNotIn('idle_timeout changed', log)
        # Still on the old port and the old data.
        self.assertEqual(s3.get_object(Bucket=bucket, Key='k')['Body']
                         .read(), b'v')
        self.assertEqual(os.listdir(elsewhere), [])
        srv.write_conf()

    def test_sigusr1_reopens_the_access_log(self):
        logdir = tempfile.mkdtemp(prefix='s3gw-rot-')
        self.addCleanup(shutil.rmtree, logdir, True)
        path = os.path.join(logdir, 'access.log')
        srv = self.start_server(conf={'access_log': path})
        s3 = srv.boto3_client()
        bucket = self.new_bucket(s3)
        before = [s3.put_object(Bucket=bucket, Key='b%d' % i, Body=b'1')
                  ['ResponseMetadata']['RequestId'] for i in range(20)]
        os.rename(path, path + '.1')
        # Lines written between the rename and the signal still go to the
        # renamed file, as with nginx: none is lost.
        between = s3.put_object(Bucket=bucket, Key='between', Body=b'1')[
            'ResponseMetadata']['RequestId']
        mark = len(srv.stderr_text())
        srv.send_signal(signal.SIGUSR1)
        wait_for(lambda: 'reopened access_log' in srv.stderr_text()[mark:],
                 'the reopen')
        after = [s3.put_object(Bucket=bucket, Key='a%d' % i, Body=b'1')
                 ['ResponseMetadata']['RequestId'] for i in range(20)]
        with open(path + '.1') as f:
            old = f.read()
        wait_for(lambda: all(r in open(path).read() for r in after),
                 'the new lines')
        with open(path) as f:
            new = f.read()
        for rid in before + [between]:
            self.assertIn(rid, old)
            self.assertNotIn(rid, new)
        for rid in after:
            self.assertIn(rid, new)
            self.assertNotIn(rid, old)

    def test_sigusr1_with_an_unwritable_path_keeps_the_old_file(self):
        logdir = tempfile.mkdtemp(prefix='s3gw-rot-')
        self.addCleanup(shutil.rmtree, logdir, True)
        path = os.path.join(logdir, 'sub', 'access.log')
        os.makedirs(os.path.dirname(path))
        srv = self.start_server(conf={'access_log': path})
        s3 = srv.boto3_client()
        os.rename(os.path.dirname(path), os.path.join(logdir, 'moved'))
        mark = len(srv.stderr_text())
        srv.send_signal(signal.SIGUSR1)
        wait_for(lambda: 'cannot reopen' in srv.stderr_text()[mark:],
                 'the error')
        rid = s3.list_buckets()['ResponseMetadata']['RequestId']
        wait_for(lambda: rid in open(os.path.join(logdir, 'moved',
                                                  'access.log')).read(),
                 'the line in the old file')

    def test_json_access_log(self):
        srv = self.start_server(conf={'access_log_format': 'json'})
        s3 = srv.boto3_client()
        bucket = self.new_bucket(s3)
        key = 'q"uo\\te\nnew\tline'
        s3.put_object(Bucket=bucket, Key=key, Body=b'12345')
        got = s3.get_object(Bucket=bucket, Key=key)
        rid = got['ResponseMetadata']['RequestId']
        # A key that is not UTF-8, and a control byte, by a raw request.
        raw = '/%s/bin%%FF%%01x' % bucket
        r = srv.http('PUT', raw, srv.sign('PUT', raw, body=b'z') +
                     [('Content-Length', '1'), ('User-Agent', 'ua "1"'),
                      ('Referer', 'http://r/')], b'z')
        wait_for(lambda: len(srv.access_log_lines()) >= 4, 'log lines')
        recs = [json.loads(l) for l in srv.access_log_lines()]
        get = [x for x in recs if x['request_id'] == rid]
        self.assertEqual(len(get), 1, recs)
        g = get[0]
        self.assertEqual(g['method'], 'GET')
        self.assertEqual(g['status'], 200)
        self.assertEqual(g['bytes_sent'], 5)
        self.assertEqual(g['operation'], 'GetObject')
        self.assertEqual(g['bucket'], bucket)
        self.assertEqual(g['key'], key)
        self.assertEqual(g['user'], 'admin')
        self.assertEqual(g['access_key'], srv.users['admin'][0])
        self.assertEqual(g['remote_addr'], '127.0.0.1')
        self.assertIsInstance(g['remote_port'], int)
        self.assertIsInstance(g['request_time_ms'], int)
        self.assertIn('Boto3', g['user_agent'])
        self.assertIsNone(g['referer'])
        self.assertRegex(g['time'],
                         r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$')
        self.assertTrue(g['uri'].startswith('/%s/' % bucket))
        rid2 = r.header('x-amz-request-id')
        p = [x for x in recs if x['request_id'] == rid2][0]
        self.assertEqual(p['status'], r.status)
        self.assertEqual(p['uri'], raw)
        self.assertEqual(p['user_agent'], 'ua "1"')
        self.assertEqual(p['referer'], 'http://r/')
        if p['key'] is not None:
            self.assertEqual(p['key'], 'bin\u00ff\u0001x')
        # Every line is plain ASCII: the escapes carry the other bytes.
        for l in srv.access_log_lines():
            l.encode('ascii')
        # A reload to the text format applies to the next line.
        srv.directives['access_log_format'] = 'text'
        srv.write_conf()
        self.reload(srv)
        rid3 = s3.list_buckets()['ResponseMetadata']['RequestId']
        wait_for(lambda: rid3 in srv.stdout_text(), 'the text line')
        last = [l for l in srv.access_log_lines() if rid3 in l][0]
        self.assertFalse(last.startswith('{'), last)


class NotifyTest(S3gwTestCase):
    shared_server = False

    def test_ready_reloading_stopping(self):
        d = tempfile.mkdtemp(prefix='s3gw-notify-')
        self.addCleanup(shutil.rmtree, d, True)
        path = os.path.join(d, 'notify.sock')
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.addCleanup(sock.close)
        sock.bind(path)
        sock.settimeout(60)
        from harness import Server
        srv = Server(start=False, env={'NOTIFY_SOCKET': path})
        self.addCleanup(srv.close)
        srv.start()
        msg = sock.recv(4096).decode()
        self.assertEqual(msg, 'READY=1')
        # READY=1 only once the listener accepts.
        self.assertTrue(port_open(srv.port, 5))
        srv.boto3_client().list_buckets()
        srv.send_signal(signal.SIGHUP)
        msg = sock.recv(4096).decode()
        self.assertRegex(msg, r'^RELOADING=1\nMONOTONIC_USEC=\d+$')
        self.assertEqual(sock.recv(4096).decode(), 'READY=1')
        # An invalid reload still ends with READY=1 (the old config runs).
        with open(srv.conf_path, 'a') as f:
            f.write('bogus_directive 1;\n')
        srv.send_signal(signal.SIGHUP)
        self.assertTrue(sock.recv(4096).decode().startswith('RELOADING=1'))
        self.assertEqual(sock.recv(4096).decode(), 'READY=1')
        srv.write_conf()
        srv.stop()                         # asserts exit 0
        self.assertEqual(sock.recv(4096).decode(), 'STOPPING=1')

    def test_no_notify_socket_is_harmless(self):
        from harness import Server
        srv = Server(start=False, env={'NOTIFY_SOCKET': '/nonexistent/x'})
        self.addCleanup(srv.close)
        srv.start()
        srv.boto3_client().list_buckets()

    def test_unit_file(self):
        unit = os.path.join(REPO, 'contrib', 's3gw.service')
        with open(unit) as f:
            text = f.read()
        for want in ('Type=notify', 'ExecReload=/bin/kill -HUP $MAINPID',
                     'NoNewPrivileges=yes', 'ProtectSystem=strict',
                     'ReadWritePaths=', 'User=s3gw', 'LimitNOFILE='):
            self.assertIn(want, text)
        tool = shutil.which('systemd-analyze')
        if tool is None:
            self.skipTest('systemd-analyze is not installed')
        # verify checks ExecStart's binary exists: point it at ours.
        d = tempfile.mkdtemp(prefix='s3gw-unit-')
        self.addCleanup(shutil.rmtree, d, True)
        from harness import BIN
        mine = os.path.join(d, 's3gw.service')
        with open(mine, 'w') as f:
            f.write(text.replace('/usr/local/bin/s3gw',
                                 os.path.abspath(BIN)))
        r = subprocess.run([tool, 'verify', mine], capture_output=True,
                           text=True, timeout=120)
        bad = [l for l in (r.stdout + r.stderr).splitlines()
               if 's3gw.service' in l]
        self.assertEqual(bad, [], r.stdout + r.stderr)


if __name__ == '__main__':
    unittest.main()
