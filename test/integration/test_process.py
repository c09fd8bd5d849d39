"""The process: -v, -t (config check with file:line errors), -g, the ready
line, the access log, graceful shutdown on SIGTERM/SIGINT with uploads in
flight, and what the logs must never contain."""

import email.utils
import hashlib
import os
import re
import signal
import subprocess
import time
import unittest

from harness import (BIN, S3gwTestCase, Server, build_request, clean_env,
                     etag_of, free_port, port_open, s3_quote)


def run_bin(*args, timeout=20):
    return subprocess.run([BIN] + list(args), capture_output=True, text=True,
                          timeout=timeout, env=clean_env(),
                          stdin=subprocess.DEVNULL)


class ConfigTest(S3gwTestCase):

    shared_server = False

    def conf_file(self, text, name='s3gw.conf'):
        srv = Server(start=False)
        self.addCleanup(srv.close)
        path = os.path.join(srv.dir, name)
        with open(path, 'w') as f:
            f.write(text)
        return path

    def test_version(self):
        p = run_bin('-v')
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertRegex(p.stdout + p.stderr, r'(?i)s3gw\S*\s.*\d+\.\d+')

    def test_check_good_config(self):
        srv = Server(start=False)
        self.addCleanup(srv.close)
        p = run_bin('-t', '-c', srv.conf_path)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn('syntax is ok', p.stdout + p.stderr)
        self.assertFalse(port_open(srv.port), '-t must not start serving')

    def test_check_example_config(self):
        example = os.path.join(os.path.dirname(os.path.dirname(
            os.path.dirname(os.path.abspath(__file__)))), 's3gw.conf.example')
        if not os.path.exists(example):
            self.skipTest('no s3gw.conf.example yet')
        p = run_bin('-t', '-c', example)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn('syntax is ok', p.stdout + p.stderr)

    BAD = [
        # (config text, line the error must name, or None for any line)
        ('listen 127.0.0.1:1;\ndata_dir /tmp/x;\nbogus_directive 1;\n', 3),
        ('region us-east-1;\nchunk_size 4x;\n', 2),
        ('log_level loud;\n', 1),
        ('fsync maybe;\n', 1),
        ('region us-east-1;\n\n\nfsync;\n', 4),
        ('inline_max -4k;\n', 1),
        ('header_timeout soon;\n', 1),
        ('listen nowhere:port;\n', 1),
        ('region us-east-1\nfsync on;\n', None),
        ('user a { access_key A; secret_key B;\n', None),
        ('user a { access_key A; secret_key B; }\n}\n', None),
        ('user a {\n  access_key A;\n  secret_key B;\n  color red;\n}\n', 4),
        ('user a { access_key A; }\n', None),
        ('"unterminated\n', None),
    ]

    def test_check_bad_configs(self):
        for text, line in self.BAD:
            with self.subTest(config=text):
                path = self.conf_file(text)
                p = run_bin('-t', '-c', path)
                self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
                want = re.escape(path) + ':' + (str(line) if line else r'\d+') \
                    + ':'
                self.assertRegex(p.stderr, want)
                self.assertNotIn('syntax is ok', p.stdout + p.stderr)

    def test_bad_config_does_not_start(self):
        path = self.conf_file('bogus_directive 1;\n')
        p = run_bin('-c', path)
        self.assertEqual(p.returncode, 1)
        self.assertRegex(p.stderr, re.escape(path) + ':1:')

    def test_missing_config_file(self):
        p = run_bin('-t', '-c', '/nonexistent/s3gw.conf')
        self.assertEqual(p.returncode, 1)
        self.assertIn('/nonexistent/s3gw.conf', p.stderr)

    def test_bad_option(self):
        p = run_bin('--no-such-option')
        self.assertNotEqual(p.returncode, 0)
        self.assertTrue(p.stderr)

    def test_g_checks_too(self):
        p = run_bin('-t', '-g', 'bogus_directive 1;')
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        p = run_bin('-t', '-g', 'log_level debug;')
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn('syntax is ok', p.stdout + p.stderr)

    def test_embedded_default_with_g(self):
        srv = Server(start=False)
        self.addCleanup(srv.close)
        port = srv.port
        env = clean_env()
        with open(srv.stderr_path, 'wb') as err:
            proc = subprocess.Popen(
                [BIN, '-g', 'listen 127.0.0.1:%d; data_dir %s;'
                 % (port, srv.data_dir)],
                stdout=subprocess.DEVNULL, stderr=err, env=env, cwd=srv.dir)
        try:
            deadline = time.monotonic() + 20
            while not port_open(port) and time.monotonic() < deadline:
                self.assertIsNone(proc.poll(), srv.log_tail())
                time.sleep(0.05)
            r = srv.http('GET', '/')
            self.assertEqual(r.status, 403, r)
            self.assertEqual(r.code, 'AccessDenied')
            self.assertIn('s3gw ready', srv.stderr_text())
        finally:
            proc.send_signal(signal.SIGTERM)
            rc = proc.wait(20)
        self.assertEqual(rc, 0, srv.log_tail())
        srv.check_logs()

    def test_g_user_secret_never_printed(self):
        # The start-up summary shows the embedded default's public keys,
        # but a secret given with -g (over the embedded default or over a
        # config file) stays on the command line.
        srv = Server(start=False)
        self.addCleanup(srv.close)
        users = 'user eve { access_key AKEVE; secret_key EVE-SECRET-g1; }'
        for args in ([], ['-c', srv.conf_path]):
            with self.subTest(args=args):
                out_path = os.path.join(srv.dir, 'g-stdout.log')
                with open(out_path, 'wb') as out, \
                        open(srv.stderr_path, 'wb') as err:
                    proc = subprocess.Popen(
                        [BIN] + args + ['-g', 'listen 127.0.0.1:%d; '
                                        'data_dir %s; %s'
                                        % (srv.port, srv.data_dir, users)],
                        stdout=out, stderr=err, env=clean_env(),
                        cwd=srv.dir, stdin=subprocess.DEVNULL)
                try:
                    deadline = time.monotonic() + 20
                    while 's3gw ready' not in srv.stderr_text():
                        self.assertIsNone(proc.poll(), srv.log_tail())
                        self.assertLess(time.monotonic(), deadline)
                        time.sleep(0.05)
                finally:
                    proc.send_signal(signal.SIGTERM)
                    rc = proc.wait(20)
                self.assertEqual(rc, 0, srv.log_tail())
                with open(out_path, 'rb') as f:
                    logs = f.read().decode() + srv.stderr_text()
                self.assertIn('AKEVE', logs)
                self.assertNotIn('EVE-SECRET-g1', logs)
                if not args:
                    self.assertIn('s3gwadmin-secret-change-me', logs)

    def test_g_overrides_config(self):
        other = free_port()
        srv = Server(args=['-g', 'listen 127.0.0.1:%d;' % other], start=False)
        self.addCleanup(srv.close)
        # The harness waits for the config's port; wait for -g's instead.
        srv.port, conf_port = other, srv.port
        srv.url = 'http://127.0.0.1:%d' % other
        srv.host = '127.0.0.1:%d' % other
        srv.start()
        s3 = srv.boto3_client()
        s3.create_bucket(Bucket='gover')
        self.assertEqual([b['Name'] for b in s3.list_buckets()['Buckets']],
                         ['gover'])
        # A listen given with -g replaces the file's listens.
        self.assertNotEqual(conf_port, other)
        self.assertFalse(port_open(conf_port))


class ProcessTest(S3gwTestCase):

    shared_server = False

    def test_ready_line_and_access_log(self):
        srv = self.start_server()
        self.assertRegex(srv.stderr_text(),
                         r'\d{4}-?\d\d-?\d\d\S* \[\w+\] .*s3gw ready')
        r = srv.signed('GET', '/')
        self.assertEqual(r.status, 200)
        r = srv.signed('PUT', '/alog')
        self.assertEqual(r.status, 200)
        r = srv.signed('PUT', '/alog/key', body=b'x')
        self.assertEqual(r.status, 200)
        r = srv.signed('GET', '/alog/missing')
        self.assertEqual(r.status, 404)
        with srv.conn() as c:        # two on one connection
            for _ in range(2):
                c.request('GET', '/alog/key', srv.sign('GET', '/alog/key'))
                self.assertEqual(c.read_response().body, b'x')
        srv.stop()
        lines = srv.access_log_lines()
        self.assertEqual(len(lines), 6, lines)
        for line, method, status in zip(lines, ('GET', 'PUT', 'PUT', 'GET',
                                                'GET', 'GET'),
                                        (200, 200, 200, 404, 200, 200)):
            self.assertIn(method, line)
            self.assertRegex(line, r'\b%d\b' % status)
        self.assertIn('/alog/missing', lines[3])

    def test_access_log_line_byte_for_byte(self):
        # The line is built by hand (http/conn.c), not with printf: every
        # field checked exactly against what the client saw, but the
        # duration, which only has its form.
        srv = self.start_server()
        self.assertEqual(srv.signed('PUT', '/alogb').status, 200)
        self.assertEqual(srv.signed('PUT', '/alogb/k%20ey', body=b'hello')
                         .status, 200)
        target = srv.presign('GET', '/alogb/k%20ey')
        with srv.conn() as c:
            port = c.sock.getsockname()[1]
            c.request('GET', target)
            got = c.read_response()
            self.assertEqual(got.body, b'hello')
            c.request('HEAD', '/alogb/k%20ey', srv.sign('HEAD', '/alogb/k%20ey'))
            head = c.read_response('HEAD')
            c.request('GET', '/alogb/none', srv.sign('GET', '/alogb/none'))
            miss = c.read_response()
            self.assertEqual(miss.status, 404)
        srv.stop()
        lines = srv.access_log_lines()[-3:]
        path, query = target.split('?', 1)
        redacted = '&'.join(
            p.split('=', 1)[0] + '=REDACTED'
            if p.lower().startswith('x-amz-signature=') else p
            for p in query.split('&'))
        self.assertIn('X-Amz-Signature=REDACTED', redacted)
        want = [
            ('GET %s?%s 200 5' % (path, redacted), got),
            ('HEAD /alogb/k%20ey 200 0', head),
            ('GET /alogb/none 404 %d' % len(miss.body), miss),
        ]
        for line, (fields, resp) in zip(lines, want):
            self.assertRegex(line, r'^%s \d+ms %s$' % (
                re.escape('127.0.0.1:%d %s' % (port, fields)),
                re.escape(resp.header('x-amz-request-id'))))

    def test_date_header_follows_the_clock(self):
        # The Date value is cached per second: it must still change every
        # second and say the time now, in IMF-fixdate.
        srv = self.start_server()
        dates = []
        with srv.conn() as c:
            for _ in range(2):
                before = time.time()
                c.request('GET', '/', srv.sign('GET', '/'))
                r = c.read_response()
                after = time.time()
                self.assertEqual(r.status, 200)
                d = r.header('Date')
                self.assertRegex(d, r'^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), '
                                 r'\d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|'
                                 r'Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d GMT$')
                t = email.utils.parsedate_to_datetime(d).timestamp()
                self.assertGreaterEqual(t, int(before))
                self.assertLessEqual(t, after)
                dates.append(d)
                time.sleep(1.1)
        self.assertNotEqual(dates[0], dates[1])

    def test_no_secrets_in_logs(self):
        srv = self.start_server(conf={'log_level': 'debug'})
        s3 = srv.boto3_client()
        s3.create_bucket(Bucket='secrets')
        s3.put_object(Bucket='secrets', Key='k', Body=b'v')
        hdrs = srv.sign('GET', '/secrets/k')
        sig = dict(hdrs)['Authorization'].rsplit('Signature=', 1)[1]
        srv.http('GET', '/secrets/k', hdrs)
        target = srv.presign('GET', '/secrets/k')
        psig = target.rsplit('X-Amz-Signature=', 1)[1]
        srv.http('GET', target)
        bad = srv.sign('GET', '/secrets/k', access_key='AKADMIN',
                       secret_key='WRONGSECRET')
        srv.http('GET', '/secrets/k', bad)
        srv.stop()
        logs = srv.stderr_text() + srv.stdout_text()
        for secret in ('SECRETADMIN', 'SECRETBOB', 'WRONGSECRET', sig, psig,
                       dict(bad)['Authorization'].rsplit('=', 1)[1]):
            self.assertNotIn(secret, logs)

    LOG_LINE = re.compile(r'\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ '
                          r'\[(crit|alert|error|warn|notice|info|debug)\] ')
    ACCESS_LINE = re.compile(r'127\.0\.0\.1:\d+ [A-Z]+ \S+ \d{3} \d+ '
                             r'\d+ms [0-9A-F]{16}$')

    def test_request_bytes_cannot_forge_log_lines(self):
        # A key is percent-decoded before it reaches the debug log (the
        # access decision names it): a %0A used to end the line there and
        # start a forged one.
        srv = self.start_server(conf={'log_level': 'debug'})
        s3 = srv.boto3_client()
        s3.create_bucket(Bucket='forge')
        forged = ('x\n2030-01-01T00:00:00Z [error] forged line\r\n'
                  '\x1b[31mred\x7f\u00e9\\x0a')
        path = '/forge/' + s3_quote(forged)
        for method, body in (('PUT', b'v'), ('GET', None), ('HEAD', None),
                             ('DELETE', None)):
            r = srv.signed(method, path, body=body)
            self.assertLess(r.status, 300, r)
        r = srv.signed('GET', '/forge/' + s3_quote(forged + '\x00'))
        self.assertEqual(r.status, 404, r)
        srv.stop()
        err = srv.stderr_text().splitlines()
        ready = [i for i, l in enumerate(err) if 's3gw ready' in l][0]
        for line in err[ready:]:
            self.assertRegex(line, self.LOG_LINE)
        self.assertIn('forge/x\\x0a2030-01-01T00:00:00Z [error] forged line'
                      '\\x0d\\x0a\\x1b[31mred\\x7f\\xc3\\xa9\\x5cx0a',
                      srv.stderr_text())
        lines = srv.access_log_lines()
        self.assertEqual(len(lines), 6, lines)
        for line in lines:
            self.assertRegex(line, self.ACCESS_LINE)

    def test_signatures_redacted_in_access_log(self):
        srv = self.start_server()
        s3 = srv.boto3_client()
        s3.create_bucket(Bucket='redact')
        s3.put_object(Bucket='redact', Key='k', Body=b'v')
        target = srv.presign('GET', '/redact/k')
        psig = target.rsplit('X-Amz-Signature=', 1)[1]
        self.assertEqual(srv.http('GET', target).status, 200)
        # SigV2's query form, and parameters after the signature.
        v2 = ('/redact/k?AWSAccessKeyId=AKADMIN&Signature=V2SIGabc%2B%3D'
              '&Expires=4102444800&x-amz-security-token=TOKEN123')
        srv.http('GET', v2)
        srv.http('GET', '/redact/k?signature=lowerSIG&X%2DAmz%2DSignature='
                 'encSIG&versionId=1')
        srv.stop()
        logs = srv.stdout_text() + srv.stderr_text()
        for secret in (psig, 'V2SIGabc', 'TOKEN123', 'lowerSIG', 'encSIG'):
            self.assertNotIn(secret, logs)
        lines = srv.access_log_lines()
        self.assertIn('X-Amz-Signature=REDACTED', lines[-3])
        self.assertIn('/redact/k?AWSAccessKeyId=AKADMIN&Signature=REDACTED'
                      '&Expires=4102444800&x-amz-security-token=REDACTED ',
                      lines[-2])
        self.assertIn('?signature=REDACTED&X%2DAmz%2DSignature=REDACTED'
                      '&versionId=1 ', lines[-1])

    def test_data_dir_layout(self):
        srv = self.start_server()
        s3 = srv.boto3_client()
        s3.create_bucket(Bucket='layout')
        data = os.urandom(10000)
        s3.put_object(Bucket='layout', Key='k', Body=data)
        for d in ('index', 'chunks', 'tmp'):
            self.assertTrue(os.path.isdir(os.path.join(srv.data_dir, d)), d)
        sha = hashlib.sha256(data).hexdigest()
        self.assertTrue(os.path.isfile(os.path.join(srv.data_dir, 'chunks',
                                                    sha[:2], sha)))

    def slow_upload(self, srv, key, body, sent):
        """Starts a signed PUT and sends only the first `sent` body bytes."""
        path = '/%s/%s' % ('slow', s3_quote(key))
        hdrs = srv.sign('PUT', path, body=body)
        c = srv.conn(timeout=30)
        c.send(build_request('PUT', path, hdrs, body)[:-len(body) + sent])
        return c

    def test_sigterm_finishes_inflight_upload(self):
        srv = self.start_server()
        s3 = srv.boto3_client()
        s3.create_bucket(Bucket='slow')
        body = os.urandom(4 * 1024 * 1024 + 5)
        c = self.slow_upload(srv, 'inflight', body, 1024 * 1024)
        time.sleep(0.3)
        srv.send_signal(signal.SIGTERM)
        # It stops accepting new connections...
        deadline = time.monotonic() + 5
        while port_open(srv.port, 0.2) and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertFalse(port_open(srv.port), 'still accepting after SIGTERM')
        self.assertTrue(srv.running(), 'exited with an upload in flight')
        # ...but finishes the upload in flight.
        c.send(body[1024 * 1024:])
        r = c.read_response('PUT')
        self.assertEqual((r.status, r.header('ETag')), (200, etag_of(body)))
        c.close()
        rc = srv.wait(15)
        self.assertEqual(rc, 0, srv.log_tail())
        srv.check_logs()
        srv.start()
        g = srv.boto3_client().get_object(Bucket='slow', Key='inflight')
        self.assertEqual(g['Body'].read(), body)

    def test_sigint(self):
        srv = self.start_server()
        srv.stop(sig=signal.SIGINT)

    def test_idle_connections_do_not_delay_shutdown(self):
        srv = self.start_server()
        conns = [srv.conn() for _ in range(5)]
        with conns[0] as c:
            c.request('GET', '/', srv.sign('GET', '/'))
            self.assertEqual(c.read_response().status, 200)
            t0 = time.monotonic()
            srv.stop(timeout=10)
            self.assertLess(time.monotonic() - t0, 3.0)
        for c in conns:
            c.close()

    def test_shutdown_timeout_ends_stalled_upload(self):
        srv = self.start_server(conf={'shutdown_timeout': '2s'})
        srv.boto3_client().create_bucket(Bucket='slow')
        body = os.urandom(1024 * 1024)
        c = self.slow_upload(srv, 'stalled', body, 1000)
        time.sleep(0.3)
        t0 = time.monotonic()
        srv.send_signal(signal.SIGTERM)
        srv.wait(15)
        took = time.monotonic() - t0
        self.assertGreater(took, 1.5)
        self.assertLess(took, 8.0)
        c.close()
        srv.check_logs()
        srv.start()
        s3 = srv.boto3_client()
        self.assertS3Error(None, 404, s3.head_object, Bucket='slow',
                           Key='stalled')
        self.assertEqual(srv.tmp_files(), [])

    def test_port_in_use(self):
        srv = self.start_server()
        other = Server(start=False)
        self.addCleanup(other.close)
        other.port = srv.port
        other.write_conf()
        p = run_bin('-c', other.conf_path)
        self.assertNotEqual(p.returncode, 0)
        self.assertTrue(p.stderr.strip())
        self.assertNotRegex(p.stderr, r'Sanitizer|runtime error:')
        # The first server is unaffected.
        self.assertEqual(srv.signed('GET', '/').status, 200)


if __name__ == '__main__':
    unittest.main()
