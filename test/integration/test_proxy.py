"""Behind nginx, as people deploy it: signed requests, streamed uploads and
downloads and multipart through a real reverse proxy (Host kept, request
and response bodies not buffered), and aws:SourceIp taken from
X-Forwarded-For only because the proxy is a trusted_proxy. Loopback only:
clients come from 127.0.0.1 or 127.0.0.9, nginx listens on 127.0.0.2 and
connects to s3gw from 127.0.0.3."""

import hashlib
import io
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest

from harness import MiB, PatternReader, S3gwTestCase, free_port, unique_name

NGINX = shutil.which('nginx') or '/usr/sbin/nginx'

NGINX_CONF = '''
worker_processes 1;
error_log %(dir)s/error.log;
pid %(dir)s/nginx.pid;
events { worker_connections 256; }
http {
    access_log off;
    client_body_temp_path %(dir)s/body;
    proxy_temp_path %(dir)s/proxy;
    fastcgi_temp_path %(dir)s/fastcgi;
    uwsgi_temp_path %(dir)s/uwsgi;
    scgi_temp_path %(dir)s/scgi;
    server {
        listen 127.0.0.2:%(port)d;
        client_max_body_size 0;
        location / {
            proxy_pass http://127.0.0.1:%(upstream)d;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_request_buffering off;
            proxy_buffering off;
            proxy_bind 127.0.0.3;
        }
    }
}
'''


def http_from(source, port, path, headers=None):
    """One GET to 127.0.0.2:port from the source address; (status, body)."""
    with socket.create_connection(('127.0.0.2', port), timeout=10,
                                  source_address=(source, 0)) as s:
        head = 'GET %s HTTP/1.1\r\nHost: 127.0.0.2:%d\r\nConnection: close\r\n' \
               % (path, port)
        for k, v in (headers or {}).items():
            head += '%s: %s\r\n' % (k, v)
        s.sendall((head + '\r\n').encode())
        data = b''
        while True:
            part = s.recv(65536)
            if not part:
                break
            data += part
    status = int(data.split(b' ', 2)[1])
    return status, data.split(b'\r\n\r\n', 1)[1]


class NginxTest(S3gwTestCase):

    conf = {'trusted_proxy': '127.0.0.3'}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.ndir = tempfile.mkdtemp(prefix='s3gw-nginx-')
        cls.addClassCleanup(shutil.rmtree, cls.ndir, ignore_errors=True)
        cls.nport = free_port()
        with open(os.path.join(cls.ndir, 'nginx.conf'), 'w') as f:
            f.write(NGINX_CONF % {'dir': cls.ndir, 'port': cls.nport,
                                  'upstream': cls.server.port})
        cls.nginx = subprocess.Popen(
            [NGINX, '-p', cls.ndir, '-c', os.path.join(cls.ndir, 'nginx.conf'),
             '-g', 'daemon off;'], stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE)
        cls.addClassCleanup(cls.stop_nginx)
        for _ in range(100):
            try:
                socket.create_connection(('127.0.0.2', cls.nport), 1).close()
                break
            except OSError:
                time.sleep(0.05)
        cls.proxied = cls.server.boto3_client(
            endpoint='http://127.0.0.2:%d' % cls.nport)

    @classmethod
    def stop_nginx(cls):
        cls.nginx.send_signal(signal.SIGQUIT)
        cls.nginx.wait(timeout=30)

    def test_streams_through_the_proxy(self):
        bucket = unique_name('proxy')
        self.proxied.create_bucket(Bucket=bucket)
        body = PatternReader(64 * MiB, seed=7)
        self.proxied.put_object(Bucket=bucket, Key='big', Body=body)
        got = hashlib.sha256()
        stream = self.proxied.get_object(Bucket=bucket, Key='big')['Body']
        for part in iter(lambda: stream.read(MiB), b''):
            got.update(part)
        self.assertEqual(got.hexdigest(), body.digest())
        # Multipart with boto3's defaults (8 MiB parts, several at once).
        data = os.urandom(20 * MiB + 5)
        self.proxied.upload_fileobj(io.BytesIO(data), bucket, 'mp')
        r = self.proxied.get_object(Bucket=bucket, Key='mp')
        self.assertTrue(r['ETag'].endswith('-3"'), r['ETag'])
        self.assertEqual(r['Body'].read(), data)
        # The same server answers directly too: one store, two doors.
        self.assertEqual(self.s3.head_object(Bucket=bucket, Key='mp')
                         ['ContentLength'], len(data))

    def test_source_ip_comes_from_the_proxy(self):
        bucket = unique_name('proxyip')
        self.s3.create_bucket(Bucket=bucket)
        self.s3.put_object(Bucket=bucket, Key='k', Body=b'for the office')
        self.s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({
            'Version': '2012-10-17',
            'Statement': [{'Effect': 'Allow', 'Principal': '*',
                           'Action': 's3:GetObject',
                           'Resource': 'arn:aws:s3:::%s/*' % bucket,
                           'Condition': {'IpAddress': {
                               'aws:SourceIp': '127.0.0.9/32'}}}]}))
        path = '/%s/k' % bucket
        self.assertEqual(http_from('127.0.0.9', self.nport, path),
                         (200, b'for the office'))
        status, _ = http_from('127.0.0.1', self.nport, path)
        self.assertEqual(status, 403)
        # A forged X-Forwarded-For is only the leftmost hop; the address
        # nginx saw is what counts.
        status, _ = http_from('127.0.0.1', self.nport, path,
                              {'X-Forwarded-For': '127.0.0.9'})
        self.assertEqual(status, 403)


if __name__ == '__main__':
    unittest.main()
