"""test/bench/versions.py: what old versions cost a listing. ListObjectsV2
of 1000 keys (one page) in an unversioned bucket, next to the same in a
versioned bucket where each key has 10 versions (9 of them noncurrent):
the objects database holds only current versions, so the second figure
should stay within 2x of the first (a seek per key at most; here none).
Then ListObjectVersions of the versioned bucket, page by page, for scale.
Listings are timed as raw signed GETs on one kept-alive connection (the
server's cost; boto3's XML parsing would be most of a boto3 figure). Bodies
are small (inline), written with 16 threads of boto3 calls. Prints
figures; asserts nothing. Usage: python3 test/bench/versions.py
[S3GW_BIN]"""

import http.client
import sys
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor

from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

import benchlib

KEYS, VERSIONS, ROUNDS = 1000, 10, 50


def fill(s3, bucket, versions):
    def put(i):
        key = 'key/%05d' % (i % KEYS)
        s3.put_object(Bucket=bucket, Key=key, Body=b'%d' % i)
    with ThreadPoolExecutor(16) as ex:
        list(ex.map(put, range(KEYS * versions)))


class Raw:
    """Signed GETs on one connection."""

    def __init__(self, url):
        self.url = url
        self.conn = http.client.HTTPConnection(urllib.parse.urlparse(url)
                                               .netloc)
        self.creds = Credentials(benchlib.AK, benchlib.SK)

    def get(self, path):
        req = AWSRequest(method='GET', url=self.url + path)
        req.headers['x-amz-content-sha256'] = 'UNSIGNED-PAYLOAD'
        S3SigV4Auth(self.creds, 's3', 'us-east-1').add_auth(req)
        self.conn.request('GET', path, headers=dict(req.headers.items()))
        r = self.conn.getresponse()
        body = r.read()
        assert r.status == 200, body
        return body


def list_ms(raw, bucket):
    """The best of ROUNDS ListObjectsV2 calls of the whole bucket, in ms."""
    best = None
    for _ in range(ROUNDS):
        t = time.monotonic()
        body = raw.get('/%s?list-type=2&max-keys=1000' % bucket)
        dt = (time.monotonic() - t) * 1000
        assert body.count(b'<Key>') == KEYS
        best = dt if best is None else min(best, dt)
    return best


def versions_ms(s3, raw, bucket):
    """ListObjectVersions page by page: the markers from boto3, the timing
    from raw GETs of the same pages."""
    n, kw, total = 0, {}, 0.0
    while True:
        q = '/%s?versions=&max-keys=1000' % bucket
        if kw:
            q += '&key-marker=%s&version-id-marker=%s' % (
                urllib.parse.quote(kw['KeyMarker'], safe=''),
                kw['VersionIdMarker'])
        t = time.monotonic()
        raw.get(q)
        total += time.monotonic() - t
        r = s3.list_object_versions(Bucket=bucket, MaxKeys=1000, **kw)
        n += len(r.get('Versions', []))
        if not r['IsTruncated']:
            break
        kw = {'KeyMarker': r['NextKeyMarker'],
              'VersionIdMarker': r['NextVersionIdMarker']}
    assert n == KEYS * VERSIONS, n
    return total * 1000


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else 'build/s3gw'
    with benchlib.server(binary) as (url, _):
        s3 = benchlib.client(url, max_pool_connections=16)
        s3.create_bucket(Bucket='plain')
        s3.create_bucket(Bucket='versioned')
        s3.put_bucket_versioning(Bucket='versioned', VersioningConfiguration={
            'Status': 'Enabled'})
        fill(s3, 'plain', 1)
        fill(s3, 'versioned', VERSIONS)
        raw = Raw(url)
        plain = list_ms(raw, 'plain')
        versioned = list_ms(raw, 'versioned')
        print('figure: ListObjectsV2 of %d keys: unversioned %.1f ms, '
              '%d versions per key %.1f ms (%.2fx)'
              % (KEYS, plain, VERSIONS, versioned, versioned / plain))
        print('figure: ListObjectVersions of %d versions (%d pages): %.1f ms'
              % (KEYS * VERSIONS, KEYS * VERSIONS // 1000,
                 versions_ms(s3, raw, 'versioned')))


if __name__ == '__main__':
    main()
