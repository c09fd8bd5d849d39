"""A real browser against the store: Debian's headless Chromium, driven by
test/js/browser.mjs (playwright-core), does what a web page does and the
test asserts on what the browser saw.

- CORS: a page served from another origin (http://app.test:P, a small
  HTTP server of this test) fetch()es from the store: reads an object and
  an exposed header, PUTs to a presigned URL with a Content-Type and an
  x-amz-meta-* header (which makes the browser send a preflight first), and
  is blocked when it runs on an origin no rule allows.
- Website: the browser opens a site hosted on the website endpoint
  (website_domain web.test) and follows the index, a subdirectory without
  its slash, a routing-rule redirect and the custom 404 page.
- POST Object: an HTML form with a signed policy posts a file and the
  browser lands on success_action_redirect.

Names under .test are mapped to 127.0.0.1 inside the browser
(--host-resolver-rules); nothing leaves loopback. test/deps.sh installs
chromium and, in test/js, playwright-core."""

import html
import http.server
import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
import unittest

from harness import S3gwTestCase, clean_env, free_port, unique_name

HERE = os.path.dirname(os.path.abspath(__file__))
JS = os.path.join(os.path.dirname(HERE), 'js')
CHROMIUM = shutil.which('chromium') or '/usr/bin/chromium'


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


class Pages:
    """The web application's origin: a static HTTP server on 127.0.0.1
    serving the files a test writes into its directory."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix='s3gw-pages-')
        self.port = free_port()
        handler = lambda *a, **k: _Quiet(*a, directory=self.dir, **k)
        self.httpd = http.server.ThreadingHTTPServer(('127.0.0.1', self.port),
                                                     handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever,
                                       daemon=True)
        self.thread.start()
        self.write('index.html', '<html><body>app</body></html>')

    def origin(self, host='app.test'):
        return 'http://%s:%d' % (host, self.port)

    def write(self, name, text):
        with open(os.path.join(self.dir, name), 'w') as f:
            f.write(text)

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        shutil.rmtree(self.dir, ignore_errors=True)


class BrowserTest(S3gwTestCase):
    conf = {'website_domain': 'web.test'}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.pages = Pages()
        cls.addClassCleanup(cls.pages.close)

    def browse(self, *steps):
        """Runs the steps in one browser; returns one result per step."""
        self.assertTrue(os.path.exists(CHROMIUM),
                        'chromium is missing: run test/deps.sh')
        self.assertTrue(os.path.isdir(os.path.join(JS, 'node_modules',
                                                   'playwright-core')),
                        'playwright-core is missing: run test/deps.sh')
        plan = {'resolve': 'MAP *.test 127.0.0.1', 'steps': list(steps)}
        with tempfile.NamedTemporaryFile('w', suffix='.json') as f:
            json.dump(plan, f)
            f.flush()
            proc = subprocess.run(
                ['node', os.path.join(JS, 'browser.mjs'), f.name],
                env=clean_env(CHROMIUM=CHROMIUM, NODE_NO_WARNINGS='1'),
                capture_output=True, text=True, timeout=120, cwd=JS)
        self.assertEqual(proc.returncode, 0, proc.stderr[-3000:])
        results = json.loads(proc.stdout.splitlines()[-1])
        self.assertEqual(len(results), len(steps))
        return results

    def store(self):
        return self.server.url

    def access_lines_since(self, n):
        return self.server.access_log_lines()[n:]

    # ==== CORS ====

    def make_cors_bucket(self):
        b = unique_name('cors')
        self.s3.create_bucket(Bucket=b)
        self.s3.put_bucket_cors(Bucket=b, CORSConfiguration={'CORSRules': [{
            'AllowedOrigins': [self.pages.origin()],
            'AllowedMethods': ['GET', 'PUT', 'HEAD'],
            'AllowedHeaders': ['content-type', 'x-amz-meta-*'],
            'ExposeHeaders': ['ETag', 'x-amz-meta-colour'],
            'MaxAgeSeconds': 60,
        }]})
        return b

    def test_cors_get_reads_object_and_exposed_header(self):
        b = self.make_cors_bucket()
        self.s3.put_object(Bucket=b, Key='hello.txt', Body=b'hello browser',
                           Metadata={'colour': 'blue'})
        url = self.s3.generate_presigned_url(
            'get_object', Params={'Bucket': b, 'Key': 'hello.txt'})
        [got] = self.browse({'do': 'fetch', 'page': self.pages.origin() + '/',
                             'url': url,
                             'read': ['etag', 'x-amz-meta-colour',
                                      'x-amz-request-id']})
        self.assertNotIn('error', got, got)
        self.assertEqual(got['status'], 200)
        self.assertEqual(got['text'], 'hello browser')
        self.assertEqual(got['headers']['x-amz-meta-colour'], 'blue')
        self.assertTrue(got['headers']['etag'].startswith('"'))
        # Not exposed: the browser hides it from the page.
        self.assertIsNone(got['headers']['x-amz-request-id'])

    def test_cors_presigned_put_with_preflight(self):
        b = self.make_cors_bucket()
        # Signed with the two headers the page sends: x-amz-meta-colour
        # is not a header a page may send without asking first.
        url = self.store() + self.server.presign(
            'PUT', '/%s/up.txt' % b,
            headers={'Content-Type': 'text/plain',
                     'x-amz-meta-colour': 'green'})
        mark = len(self.server.access_log_lines())
        [got] = self.browse({'do': 'fetch', 'page': self.pages.origin() + '/',
                             'url': url, 'method': 'PUT',
                             'headers': {'Content-Type': 'text/plain',
                                         'x-amz-meta-colour': 'green'},
                             'body': 'put from a page', 'read': ['etag']})
        self.assertNotIn('error', got, got)
        self.assertEqual(got['status'], 200, got)
        head = self.s3.head_object(Bucket=b, Key='up.txt')
        self.assertEqual(head['ContentType'], 'text/plain')
        self.assertEqual(head['Metadata'], {'colour': 'green'})
        self.assertEqual(got['headers']['etag'], head['ETag'])
        body = self.s3.get_object(Bucket=b, Key='up.txt')['Body'].read()
        self.assertEqual(body, b'put from a page')
        # The browser asked first: OPTIONS reached the store before the PUT.
        pat = re.compile(r' (OPTIONS|PUT) /%s/up\.txt' % re.escape(b))
        methods = [m.group(1) for m in map(pat.search,
                                           self.access_lines_since(mark)) if m]
        self.assertIn('OPTIONS', methods)
        self.assertLess(methods.index('OPTIONS'), methods.index('PUT'))

    def test_cors_other_origin_is_blocked(self):
        b = self.make_cors_bucket()
        self.s3.put_object(Bucket=b, Key='secret.txt', Body=b'no')
        get_url = self.s3.generate_presigned_url(
            'get_object', Params={'Bucket': b, 'Key': 'secret.txt'})
        put_url = self.s3.generate_presigned_url(
            'put_object', Params={'Bucket': b, 'Key': 'evil.txt',
                                  'ContentType': 'text/plain'})
        evil = self.pages.origin('evil.test') + '/'
        got_get, got_put = self.browse(
            {'do': 'fetch', 'page': evil, 'url': get_url},
            {'do': 'fetch', 'page': evil, 'url': put_url, 'method': 'PUT',
             'headers': {'Content-Type': 'text/plain'}, 'body': 'x'})
        self.assertIn('Failed to fetch', got_get.get('error', ''), got_get)
        self.assertIn('Failed to fetch', got_put.get('error', ''), got_put)
        # The preflight was refused, so the PUT itself never ran.
        with self.assertRaises(self.s3.exceptions.ClientError):
            self.s3.head_object(Bucket=b, Key='evil.txt')

    def test_cors_page_reads_an_error(self):
        b = self.make_cors_bucket()
        url = self.s3.generate_presigned_url(
            'get_object', Params={'Bucket': b, 'Key': 'missing.txt'})
        [got] = self.browse({'do': 'fetch', 'page': self.pages.origin() + '/',
                             'url': url})
        self.assertNotIn('error', got, got)
        self.assertEqual(got['status'], 404)
        self.assertIn('<Code>NoSuchKey</Code>', got['text'])

    # ==== website ====

    def make_site(self):
        b = unique_name('site')
        self.s3.create_bucket(Bucket=b)
        self.s3.put_bucket_policy(Bucket=b, Policy=json.dumps({
            'Version': '2012-10-17',
            'Statement': [{'Effect': 'Allow', 'Principal': '*',
                           'Action': ['s3:GetObject', 's3:ListBucket'],
                           'Resource': ['arn:aws:s3:::%s' % b,
                                        'arn:aws:s3:::%s/*' % b]}]}))
        pages = {
            'index.html': '<html><head><title>Home</title></head><body>'
                          '<a href="docs">docs</a> home page</body></html>',
            'docs/index.html': '<html><head><title>Docs</title></head>'
                               '<body>the docs index '
                               '<a href="../index.html">home</a></body></html>',
            'new/page.html': '<html><head><title>New</title></head>'
                             '<body>moved here</body></html>',
            'error.html': '<html><head><title>Oops</title></head>'
                          '<body>custom not found page</body></html>',
        }
        for k, v in pages.items():
            self.s3.put_object(Bucket=b, Key=k, Body=v.encode(),
                               ContentType='text/html')
        self.s3.put_bucket_website(Bucket=b, WebsiteConfiguration={
            'IndexDocument': {'Suffix': 'index.html'},
            'ErrorDocument': {'Key': 'error.html'},
            'RoutingRules': [{
                'Condition': {'KeyPrefixEquals': 'old/'},
                'Redirect': {'ReplaceKeyPrefixWith': 'new/',
                             'HttpRedirectCode': '302'},
            }],
        })
        return b, 'http://%s.web.test:%d' % (b, self.server.port)

    def test_website_in_a_browser(self):
        _, site = self.make_site()
        home, docs, moved, missing = self.browse(
            {'do': 'visit', 'url': site + '/'},
            {'do': 'visit', 'url': site + '/docs'},
            {'do': 'visit', 'url': site + '/old/page.html'},
            {'do': 'visit', 'url': site + '/nothing/here.html'})
        self.assertEqual((home['status'], home['title']), (200, 'Home'), home)
        self.assertIn('home page', home['text'])
        # docs -> 302 docs/ -> the index document of docs/.
        self.assertEqual(docs['chain'], [302, 200], docs)
        self.assertEqual(docs['url'], site + '/docs/')
        self.assertEqual(docs['title'], 'Docs')
        self.assertEqual(moved['chain'], [302, 200], moved)
        self.assertEqual(moved['url'], site + '/new/page.html')
        self.assertEqual(moved['title'], 'New')
        self.assertEqual(missing['status'], 404, missing)
        self.assertEqual(missing['title'], 'Oops')
        self.assertIn('custom not found page', missing['text'])

    def test_website_links_are_followed(self):
        _, site = self.make_site()
        docs, back = self.browse(
            {'do': 'click', 'url': site + '/', 'selector': 'a[href="docs"]'},
            {'do': 'click', 'url': site + '/docs/',
             'selector': 'a[href="../index.html"]'})
        # The relative link "docs" -> 302 docs/ -> its index document.
        self.assertEqual(docs['chain'], [302, 200], docs)
        self.assertEqual((docs['url'], docs['title']),
                         (site + '/docs/', 'Docs'))
        self.assertEqual((back['url'], back['title']),
                         (site + '/index.html', 'Home'), back)

    def test_website_private_site(self):
        private = unique_name('private')
        self.s3.create_bucket(Bucket=private)
        self.s3.put_object(Bucket=private, Key='index.html', Body=b'secret',
                           ContentType='text/html')
        self.s3.put_bucket_website(Bucket=private, WebsiteConfiguration={
            'IndexDocument': {'Suffix': 'index.html'}})
        [denied] = self.browse(
            {'do': 'visit',
             'url': 'http://%s.web.test:%d/' % (private, self.server.port)})
        self.assertEqual(denied['status'], 403, denied)
        self.assertNotIn('secret', denied['text'])
        self.assertIn('AccessDenied', denied['text'])

    # ==== POST Object ====

    def test_form_upload_lands_on_redirect(self):
        b = unique_name('form')
        self.s3.create_bucket(Bucket=b)
        done = self.pages.origin() + '/done.html'
        post = self.s3.generate_presigned_post(
            b, 'uploads/${filename}',
            Fields={'success_action_redirect': done,
                    'Content-Type': 'text/plain'},
            Conditions=[['starts-with', '$key', 'uploads/'],
                        {'success_action_redirect': done},
                        {'Content-Type': 'text/plain'},
                        ['content-length-range', 1, 1 << 20]],
            ExpiresIn=600)
        inputs = ''.join('<input type="hidden" name="%s" value="%s">\n'
                         % (html.escape(k), html.escape(v))
                         for k, v in post['fields'].items())
        self.pages.write('form.html', (
            '<html><body><form action="%s" method="post" '
            'enctype="multipart/form-data">\n%s'
            '<input type="file" name="file">\n'
            '<input type="submit" value="Upload"></form></body></html>')
            % (html.escape(post['url']), inputs))
        self.pages.write('done.html',
                         '<html><head><title>Done</title></head>'
                         '<body>uploaded</body></html>')
        [got] = self.browse({'do': 'form',
                             'page': self.pages.origin() + '/form.html',
                             'file': {'name': 'report.txt',
                                      'text': 'form upload from a browser'}})
        self.assertEqual(got.get('title'), 'Done', got)
        self.assertEqual(got['chain'], [303, 200], got)
        self.assertTrue(got['url'].startswith(done + '?'), got['url'])
        obj = self.s3.get_object(Bucket=b, Key='uploads/report.txt')
        self.assertEqual(obj['Body'].read(), b'form upload from a browser')
        self.assertEqual(obj['ContentType'], 'text/plain')
        self.assertIn('key=uploads%2Freport.txt', got['url'])
        self.assertIn('bucket=' + b, got['url'])


if __name__ == '__main__':
    unittest.main()
