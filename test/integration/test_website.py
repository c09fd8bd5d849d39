"""Static website hosting: Put/Get/DeleteBucketWebsite through boto3 (each
element round-trips, each validation error is S3's), and the website
endpoint (Host BUCKET.web.localhost:PORT, website_domain web.localhost)
through raw HTTP: index and error documents, 302 to a folder, 403 or 404
for a missing key by anonymous ListBucket, routing rules, redirect-all,
object redirects set by put, copy and multipart, Range, HEAD, 304, 405 and
HTML error pages; x-amz-website-redirect-location on the REST endpoint;
and the same site behind nginx with server_name *.web.example.com."""

import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest

from botocore.exceptions import ClientError

from harness import S3gwTestCase, free_port, unique_name

NGINX = shutil.which('nginx') or '/usr/sbin/nginx'


def public_read(s3, bucket, listing=False):
    actions = ['s3:GetObject'] + (['s3:ListBucket'] if listing else [])
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({
        'Version': '2012-10-17',
        'Statement': [{'Effect': 'Allow', 'Principal': '*',
                       'Action': actions,
                       'Resource': ['arn:aws:s3:::%s/*' % bucket,
                                    'arn:aws:s3:::%s' % bucket]}]}))


class WebsiteConfigTest(S3gwTestCase):

    conf = {'website_domain': 'web.localhost'}

    def test_round_trip(self):
        b = self.new_bucket()
        self.assertS3Error('NoSuchWebsiteConfiguration', 404,
                           self.s3.get_bucket_website, Bucket=b)
        cfg = {
            'IndexDocument': {'Suffix': 'index.html'},
            'ErrorDocument': {'Key': 'err/404.html'},
            'RoutingRules': [
                {'Condition': {'KeyPrefixEquals': 'docs/'},
                 'Redirect': {'ReplaceKeyPrefixWith': 'documents/',
                              'HttpRedirectCode': '302'}},
                {'Condition': {'HttpErrorCodeReturnedEquals': '404',
                               'KeyPrefixEquals': 'x<&>'},
                 'Redirect': {'HostName': 'example.com', 'Protocol': 'https',
                              'ReplaceKeyWith': 'missing.html'}},
            ]}
        self.s3.put_bucket_website(Bucket=b, WebsiteConfiguration=cfg)
        got = self.s3.get_bucket_website(Bucket=b)
        for k in ('IndexDocument', 'ErrorDocument', 'RoutingRules'):
            self.assertEqual(got[k], cfg[k])
        self.s3.put_bucket_website(Bucket=b, WebsiteConfiguration={
            'RedirectAllRequestsTo': {'HostName': 'example.org',
                                      'Protocol': 'https'}})
        got = self.s3.get_bucket_website(Bucket=b)
        self.assertEqual(got['RedirectAllRequestsTo'],
                         {'HostName': 'example.org', 'Protocol': 'https'})
        self.assertNotIn('IndexDocument', got)
        self.s3.delete_bucket_website(Bucket=b)
        self.assertS3Error('NoSuchWebsiteConfiguration', 404,
                           self.s3.get_bucket_website, Bucket=b)
        self.s3.delete_bucket_website(Bucket=b)      # absent: still 204
        self.assertS3Error('NoSuchBucket', 404, self.s3.get_bucket_website,
                           Bucket=b + '-none')

    def test_validation(self):
        b = self.new_bucket()
        bad = [
            ({'IndexDocument': {'Suffix': ''}}, 'InvalidArgument'),
            ({'IndexDocument': {'Suffix': 'a/index.html'}}, 'InvalidArgument'),
            ({'ErrorDocument': {'Key': 'e.html'}}, 'InvalidArgument'),
            ({'RedirectAllRequestsTo': {'HostName': 'x.com'},
              'IndexDocument': {'Suffix': 'i.html'}}, 'InvalidArgument'),
            ({'IndexDocument': {'Suffix': 'i.html'},
              'RoutingRules': [{'Redirect': {'ReplaceKeyWith': 'a',
                                             'ReplaceKeyPrefixWith': 'b'}}]},
             'InvalidArgument'),
            ({'IndexDocument': {'Suffix': 'i.html'},
              'RoutingRules': [{'Redirect': {'HttpRedirectCode': '300'}}]},
             'InvalidArgument'),
            ({'IndexDocument': {'Suffix': 'i.html'},
              'RoutingRules': [{'Condition': {
                  'HttpErrorCodeReturnedEquals': '200'},
                  'Redirect': {'HostName': 'a.com'}}]}, 'InvalidArgument'),
            ({'IndexDocument': {'Suffix': 'i.html'},
              'RoutingRules': [{'Redirect': {'Protocol': 'ftp'}}]},
             'InvalidArgument'),
            ({'IndexDocument': {'Suffix': 'i.html'},
              'RoutingRules': [{'Redirect': {'HostName': 'a.com'}}] * 51},
             'InvalidArgument'),
        ]
        for cfg, code in bad:
            with self.subTest(cfg=cfg):
                self.assertS3Error(code, 400, self.s3.put_bucket_website,
                                   Bucket=b, WebsiteConfiguration=cfg)
        self.assertS3Error('NoSuchWebsiteConfiguration', 404,
                           self.s3.get_bucket_website, Bucket=b)
        # 50 rules are fine.
        self.s3.put_bucket_website(Bucket=b, WebsiteConfiguration={
            'IndexDocument': {'Suffix': 'i.html'},
            'RoutingRules': [{'Redirect': {'HostName': 'a.com'}}] * 50})
        for body in (b'<WebsiteConfiguration><IndexDocument><Suffix>i'
                     b'</Suffix></IndexDocument><Bogus/></WebsiteConfiguration>',
                     b'<WebsiteConfiguration><IndexDocument>',
                     b'<Other/>'):
            r = self.server.signed('PUT', '/%s?website' % b,
                                           body=body)
            self.assertRawError(r, 400, 'MalformedXML')

    def test_access_control(self):
        b = self.new_bucket()
        cfg = {'IndexDocument': {'Suffix': 'index.html'}}
        other = self.server.boto3_client(user='bob')
        self.assertS3Error('AccessDenied', 403, other.put_bucket_website,
                           Bucket=b, WebsiteConfiguration=cfg)
        self.s3.put_bucket_website(Bucket=b, WebsiteConfiguration=cfg)
        self.assertS3Error('AccessDenied', 403, other.get_bucket_website,
                           Bucket=b)
        self.assertS3Error('AccessDenied', 403, other.delete_bucket_website,
                           Bucket=b)
        self.s3.put_bucket_policy(Bucket=b, Policy=json.dumps({
            'Version': '2012-10-17',
            'Statement': [{'Effect': 'Allow',
                           'Principal': {'AWS': '*'},
                           'Action': ['s3:GetBucketWebsite'],
                           'Resource': 'arn:aws:s3:::%s' % b}]}))
        self.assertEqual(other.get_bucket_website(Bucket=b)['IndexDocument'],
                         {'Suffix': 'index.html'})
        self.assertS3Error('AccessDenied', 403, other.delete_bucket_website,
                           Bucket=b)

    def test_redirect_location_on_rest(self):
        b = self.new_bucket()
        self.s3.put_object(Bucket=b, Key='a', Body=b'x',
                           WebsiteRedirectLocation='/b.html')
        self.assertEqual(self.s3.head_object(Bucket=b, Key='a')
                         ['WebsiteRedirectLocation'], '/b.html')
        self.assertEqual(self.s3.get_object(Bucket=b, Key='a')
                         ['WebsiteRedirectLocation'], '/b.html')
        for bad in ('b.html', 'ftp://x', '/' + 'x' * 2048):
            with self.subTest(bad=bad[:20]):
                self.assertS3Error('InvalidRedirectLocation', 400,
                                   self.s3.put_object, Bucket=b, Key='c',
                                   Body=b'', WebsiteRedirectLocation=bad)
        self.s3.put_object(Bucket=b, Key='c', Body=b'',
                           WebsiteRedirectLocation='https://x.example/' +
                           'y' * 2020)
        self.assertS3Error('InvalidRedirectLocation', 400,
                           self.s3.copy_object, Bucket=b, Key='d',
                           CopySource={'Bucket': b, 'Key': 'a'},
                           WebsiteRedirectLocation='nope')
        self.assertS3Error('InvalidRedirectLocation', 400,
                           self.s3.create_multipart_upload, Bucket=b,
                           Key='m', WebsiteRedirectLocation='nope')
        # Copying onto itself with a new location is a change.
        self.s3.copy_object(Bucket=b, Key='a', CopySource={'Bucket': b,
                                                           'Key': 'a'},
                            WebsiteRedirectLocation='/new.html')
        self.assertEqual(self.s3.head_object(Bucket=b, Key='a')
                         ['WebsiteRedirectLocation'], '/new.html')


class WebsiteEndpointTest(S3gwTestCase):

    conf = {'website_domain': 'web.localhost'}

    def web(self, bucket, path, method='GET', headers=None, port=None):
        h = {'Host': '%s.web.localhost:%d' % (bucket, self.server.port)}
        h.update(headers or {})
        return self.server.http(method, path, headers=h)

    def site(self, listing=False, **cfg):
        b = self.new_bucket()
        cfg = cfg or {'IndexDocument': {'Suffix': 'index.html'},
                      'ErrorDocument': {'Key': '404.html'}}
        self.s3.put_bucket_website(Bucket=b, WebsiteConfiguration=cfg)
        public_read(self.s3, b, listing)
        return b

    def assertHtml(self, r, status, code):
        self.assertEqual(r.status, status, r.body)
        self.assertTrue(r.header('content-type').startswith('text/html'),
                        r.raw_head)
        self.assertIn(('<li>Code: %s</li>' % code).encode(), r.body)
        self.assertIn(('<title>%d ' % status).encode(), r.body)
        self.assertNotIn(b'<?xml', r.body)

    def test_index_and_folders(self):
        b = self.site()
        self.s3.put_object(Bucket=b, Key='index.html', Body=b'<h1>home</h1>',
                           ContentType='text/html', CacheControl='max-age=9')
        self.s3.put_object(Bucket=b, Key='dir/index.html', Body=b'dir home',
                           ContentType='text/html')
        r = self.web(b, '/')
        self.assertEqual((r.status, r.body), (200, b'<h1>home</h1>'))
        self.assertEqual(r.header('content-type'), 'text/html')
        self.assertEqual(r.header('cache-control'), 'max-age=9')
        self.assertTrue(r.header('etag'))
        self.assertTrue(r.header('last-modified'))
        self.assertEqual(self.web(b, '/dir/').body, b'dir home')
        r = self.web(b, '/dir')
        self.assertEqual(r.status, 302)
        self.assertEqual(r.header('location'), '/dir/')
        # Signatures and query strings change nothing.
        r = self.web(b, '/?website&acl', headers={
            'Authorization': 'AWS4-HMAC-SHA256 Credential=nobody'})
        self.assertEqual((r.status, r.body), (200, b'<h1>home</h1>'))

    def test_range_head_conditional(self):
        b = self.site()
        self.s3.put_object(Bucket=b, Key='f.txt', Body=b'0123456789',
                           ContentType='text/plain')
        r = self.web(b, '/f.txt', headers={'Range': 'bytes=2-4'})
        self.assertEqual((r.status, r.body), (206, b'234'))
        self.assertEqual(r.header('content-range'), 'bytes 2-4/10')
        r = self.web(b, '/f.txt', method='HEAD')
        self.assertEqual((r.status, r.body), (200, b''))
        self.assertEqual(r.header('content-length'), '10')
        etag = r.header('etag')
        r = self.web(b, '/f.txt', headers={'If-None-Match': etag})
        self.assertEqual((r.status, r.body), (304, b''))
        r = self.web(b, '/f.txt', headers={'If-Match': '"nope"'})
        self.assertHtml(r, 412, 'PreconditionFailed')
        r = self.web(b, '/f.txt', headers={'Range': 'bytes=50-'})
        self.assertHtml(r, 416, 'InvalidRange')
        # A large object streams from its chunk files.
        data = os.urandom(300 * 1024)
        self.s3.put_object(Bucket=b, Key='big.bin', Body=data)
        self.assertEqual(self.web(b, '/big.bin').body, data)
        r = self.web(b, '/big.bin', headers={'Range': 'bytes=100000-100009'})
        self.assertEqual(r.body, data[100000:100010])

    def test_error_document_and_missing_keys(self):
        b = self.site()
        self.s3.put_object(Bucket=b, Key='404.html', Body=b'custom missing',
                           ContentType='text/html; charset=utf-8')
        # Anonymous may not list: a missing key is 403, with the document.
        r = self.web(b, '/nope.html')
        self.assertEqual((r.status, r.body), (403, b'custom missing'))
        self.assertEqual(r.header('content-type'), 'text/html; charset=utf-8')
        public_read(self.s3, b, listing=True)
        r = self.web(b, '/nope.html')
        self.assertEqual((r.status, r.body), (404, b'custom missing'))
        r = self.web(b, '/nope.html', method='HEAD')
        self.assertEqual((r.status, r.body), (404, b''))
        # The error document itself unreadable: the HTML page says so.
        self.s3.put_object_acl(Bucket=b, Key='404.html', ACL='private')
        self.s3.put_bucket_policy(Bucket=b, Policy=json.dumps({
            'Version': '2012-10-17',
            'Statement': [{'Effect': 'Allow', 'Principal': '*',
                           'Action': 's3:ListBucket',
                           'Resource': 'arn:aws:s3:::%s' % b}]}))
        r = self.web(b, '/nope<script>.html')
        self.assertHtml(r, 404, 'NoSuchKey')
        self.assertIn(b'Custom Error Document', r.body)
        self.assertIn(b'nope&lt;script&gt;.html', r.body)
        self.assertNotIn(b'<script>', r.body)

    def test_not_public(self):
        b = self.new_bucket()
        self.s3.put_bucket_website(Bucket=b, WebsiteConfiguration={
            'IndexDocument': {'Suffix': 'index.html'}})
        self.s3.put_object(Bucket=b, Key='index.html', Body=b'secret')
        self.assertHtml(self.web(b, '/'), 403, 'AccessDenied')
        self.assertHtml(self.web(b, '/index.html'), 403, 'AccessDenied')
        # An object ACL for AllUsers opens that object only.
        self.s3.put_object(Bucket=b, Key='pub.txt', Body=b'pub',
                           ACL='public-read')
        self.assertEqual(self.web(b, '/pub.txt').body, b'pub')
        self.assertHtml(self.web(b, '/missing'), 403, 'AccessDenied')

    def test_no_configuration_no_bucket_bad_method(self):
        b = self.new_bucket()
        public_read(self.s3, b)
        r = self.web(b, '/')
        self.assertHtml(r, 404, 'NoSuchWebsiteConfiguration')
        self.assertIn(('<li>BucketName: %s</li>' % b).encode(), r.body)
        self.assertHtml(self.web('nosuch-' + b, '/'), 404, 'NoSuchBucket')
        b = self.site()
        for m in ('POST', 'PUT', 'DELETE'):
            r = self.web(b, '/x', method=m)
            self.assertHtml(r, 405, 'MethodNotAllowed')
        # Nothing was written by the PUT.
        self.assertS3Error(None, 404, self.s3.head_object, Bucket=b, Key='x')

    def test_routing_rules(self):
        b = self.site(listing=True, **{
            'IndexDocument': {'Suffix': 'index.html'},
            'RoutingRules': [
                {'Condition': {'KeyPrefixEquals': 'docs/'},
                 'Redirect': {'ReplaceKeyPrefixWith': 'documents/'}},
                {'Condition': {'KeyPrefixEquals': 'old'},
                 'Redirect': {'ReplaceKeyWith': 'new.html',
                              'HttpRedirectCode': '307',
                              'Protocol': 'https'}},
                {'Condition': {'HttpErrorCodeReturnedEquals': '404'},
                 'Redirect': {'HostName': 'fallback.example',
                              'ReplaceKeyPrefixWith': 'report-404/'}},
            ]})
        self.s3.put_object(Bucket=b, Key='docs/a b.html', Body=b'exists')
        self.s3.put_object(Bucket=b, Key='here.html', Body=b'here')
        host = '%s.web.localhost:%d' % (b, self.server.port)
        r = self.web(b, '/docs/a%20b.html')
        self.assertEqual(r.status, 301)
        self.assertEqual(r.header('location'),
                         'http://%s/documents/a%%20b.html' % host)
        r = self.web(b, '/oldpage')
        self.assertEqual(r.status, 307)
        self.assertEqual(r.header('location'), 'https://%s/new.html' % host)
        r = self.web(b, '/gone.html')
        self.assertEqual(r.status, 301)
        self.assertEqual(r.header('location'),
                         'http://fallback.example/report-404/gone.html')
        self.assertEqual(self.web(b, '/here.html').body, b'here')

    def test_redirect_all(self):
        b = self.site(RedirectAllRequestsTo={'HostName': 'www.example.com'})
        r = self.web(b, '/some/page.html')
        self.assertEqual(r.status, 301)
        self.assertEqual(r.header('location'),
                         'http://www.example.com/some/page.html')
        self.s3.put_bucket_website(Bucket=b, WebsiteConfiguration={
            'RedirectAllRequestsTo': {'HostName': 'www.example.com',
                                      'Protocol': 'https'}})
        self.assertEqual(self.web(b, '/').header('location'),
                         'https://www.example.com/')

    def test_object_redirects(self):
        b = self.site()
        self.s3.put_object(Bucket=b, Key='put', Body=b'',
                           WebsiteRedirectLocation='/target.html')
        self.s3.copy_object(Bucket=b, Key='copied',
                            CopySource={'Bucket': b, 'Key': 'put'})
        self.s3.copy_object(Bucket=b, Key='replaced',
                            CopySource={'Bucket': b, 'Key': 'put'},
                            MetadataDirective='REPLACE',
                            WebsiteRedirectLocation='https://x.example/r')
        self.s3.copy_object(Bucket=b, Key='plain',
                            CopySource={'Bucket': b, 'Key': 'put'},
                            MetadataDirective='REPLACE')
        up = self.s3.create_multipart_upload(
            Bucket=b, Key='mp', WebsiteRedirectLocation='http://mp.example/')
        part = self.s3.upload_part(Bucket=b, Key='mp', PartNumber=1,
                                   UploadId=up['UploadId'], Body=b'p')
        self.s3.complete_multipart_upload(
            Bucket=b, Key='mp', UploadId=up['UploadId'],
            MultipartUpload={'Parts': [{'PartNumber': 1,
                                        'ETag': part['ETag']}]})
        for key, loc in (('put', '/target.html'), ('copied', '/target.html'),
                         ('replaced', 'https://x.example/r'),
                         ('mp', 'http://mp.example/')):
            with self.subTest(key=key):
                r = self.web(b, '/' + key)
                self.assertEqual((r.status, r.header('location')), (301, loc))
                self.assertEqual(self.s3.head_object(Bucket=b, Key=key)
                                 ['WebsiteRedirectLocation'], loc)
        r = self.web(b, '/plain')
        self.assertEqual((r.status, r.header('location')), (200, None))

    def test_plain_host_is_rest(self):
        # A Host of exactly the website domain is a plain REST request.
        r = self.server.http('GET', '/', headers={
            'Host': 'web.localhost:%d' % self.server.port})
        self.assertRawError(r, 403, 'AccessDenied')


NGINX_CONF = '''
worker_processes 1;
error_log %(dir)s/error.log;
pid %(dir)s/nginx.pid;
events { worker_connections 64; }
http {
    access_log off;
    client_body_temp_path %(dir)s/body;
    proxy_temp_path %(dir)s/proxy;
    fastcgi_temp_path %(dir)s/fastcgi;
    uwsgi_temp_path %(dir)s/uwsgi;
    scgi_temp_path %(dir)s/scgi;
    server {
        listen 127.0.0.2:%(port)d;
        server_name *.web.example.com;
        location / {
            proxy_pass http://127.0.0.1:%(upstream)d;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_bind 127.0.0.3;
        }
    }
}
'''


@unittest.skipUnless(os.path.exists(NGINX), 'nginx is not installed')
class WebsiteNginxTest(S3gwTestCase):

    conf = {'website_domain': 'web.example.com',
            'trusted_proxy': '127.0.0.3'}

    def test_site_through_nginx(self):
        d = tempfile.mkdtemp(prefix='s3gw-nginx-web-')
        self.addCleanup(shutil.rmtree, d, ignore_errors=True)
        port = free_port()
        with open(os.path.join(d, 'nginx.conf'), 'w') as f:
            f.write(NGINX_CONF % {'dir': d, 'port': port,
                                  'upstream': self.server.port})
        nginx = subprocess.Popen(
            [NGINX, '-p', d, '-c', os.path.join(d, 'nginx.conf'),
             '-g', 'daemon off;'], stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)

        def stop():
            nginx.send_signal(signal.SIGQUIT)
            nginx.wait(timeout=30)
        self.addCleanup(stop)
        for _ in range(100):
            try:
                socket.create_connection(('127.0.0.2', port), 1).close()
                break
            except OSError:
                time.sleep(0.05)
        b = self.new_bucket()
        self.s3.put_bucket_website(Bucket=b, WebsiteConfiguration={
            'IndexDocument': {'Suffix': 'index.html'},
            'RoutingRules': [{'Condition': {'KeyPrefixEquals': 'old/'},
                              'Redirect': {'ReplaceKeyPrefixWith': 'new/'}}]})
        public_read(self.s3, b)
        self.s3.put_object(Bucket=b, Key='index.html', Body=b'via nginx',
                           ContentType='text/html')

        def get(path):
            with socket.create_connection(('127.0.0.2', port),
                                          timeout=10) as s:
                s.sendall(('GET %s HTTP/1.1\r\nHost: %s.web.example.com\r\n'
                           'Connection: close\r\n\r\n' % (path, b)).encode())
                data = b''
                while True:
                    part = s.recv(65536)
                    if not part:
                        break
                    data += part
            head, body = data.split(b'\r\n\r\n', 1)
            return int(head.split(b' ', 2)[1]), head.decode(), body
        status, head, body = get('/')
        self.assertEqual((status, body), (200, b'via nginx'))
        status, head, _ = get('/old/page')
        self.assertEqual(status, 301)
        # $host has no port; nginx answered on plain http.
        self.assertIn('Location: http://%s.web.example.com/new/page' % b,
                      head)
        status, head, body = get('/missing')
        self.assertEqual(status, 403)
        self.assertIn(b'<li>Code: AccessDenied</li>', body)


if __name__ == '__main__':
    unittest.main()
