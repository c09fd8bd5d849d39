"""ListObjectsV2 and ListObjects (v1): order, prefix, delimiter and
CommonPrefixes, max-keys and pagination, continuation-token, start-after,
fetch-owner, encoding-type=url."""

import unittest
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote, unquote_plus

from harness import S3gwTestCase, etag_of, unique_name


KEYS = ['a', 'b/1', 'b/2', 'b/c/3', 'b/c/4', 'b/d', 'c', 'd/', 'd/x',
        'e f', 'e/f/g/h', 'f+g', 'z', '\u00e9t\u00e9', '\u4e2d/\u6587']


def bkey(k):
    return k.encode()


class ListTest(S3gwTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.bucket = unique_name('list')
        cls.s3.create_bucket(Bucket=cls.bucket)
        for k in KEYS:
            cls.s3.put_object(Bucket=cls.bucket, Key=k, Body=k.encode())
        cls.sorted_keys = sorted(KEYS, key=bkey)

    def v2(self, **kw):
        return self.s3.list_objects_v2(Bucket=self.bucket, **kw)

    def v1(self, **kw):
        return self.s3.list_objects(Bucket=self.bucket, **kw)

    def keys(self, page):
        return [o['Key'] for o in page.get('Contents', [])]

    def prefixes(self, page):
        return [p['Prefix'] for p in page.get('CommonPrefixes', [])]

    def expected(self, prefix='', delimiter=None, after=None):
        """(keys, common prefixes) the way S3 computes them."""
        keys, cps = [], []
        for k in self.sorted_keys:
            if not k.startswith(prefix):
                continue
            if after is not None and bkey(k) <= bkey(after):
                continue
            rest = k[len(prefix):]
            if delimiter and delimiter in rest:
                cp = prefix + rest[:rest.index(delimiter) + len(delimiter)]
                if cp not in cps:
                    cps.append(cp)
            else:
                keys.append(k)
        return keys, cps

    # --- V2 ---------------------------------------------------------------

    def test_v2_all(self):
        page = self.v2()
        self.assertEqual(self.keys(page), self.sorted_keys)
        self.assertEqual(page['KeyCount'], len(KEYS))
        self.assertFalse(page['IsTruncated'])
        self.assertEqual(page['Name'], self.bucket)
        self.assertEqual(page['MaxKeys'], 1000)
        self.assertNotIn('NextContinuationToken', page)
        for o in page['Contents']:
            self.assertEqual(o['Size'], len(o['Key'].encode()))
            self.assertEqual(o['ETag'], etag_of(o['Key'].encode()))
            self.assertEqual(o['StorageClass'], 'STANDARD')
            self.assertIsNotNone(o['LastModified'])
            self.assertNotIn('Owner', o)

    def test_v2_prefix(self):
        for prefix in ('b/', 'b/c', 'd/', 'e', 'nothing', '\u4e2d'):
            with self.subTest(prefix=prefix):
                page = self.v2(Prefix=prefix)
                want, _ = self.expected(prefix)
                self.assertEqual(self.keys(page), want)
                self.assertEqual(page['KeyCount'], len(want))
                self.assertEqual(page['Prefix'], prefix)

    def test_v2_delimiter(self):
        for prefix in ('', 'b/', 'b/c/', 'd/', 'e', 'e/'):
            with self.subTest(prefix=prefix):
                page = self.v2(Prefix=prefix, Delimiter='/')
                want, cps = self.expected(prefix, '/')
                self.assertEqual(self.keys(page), want)
                self.assertEqual(self.prefixes(page), cps)
                self.assertEqual(page['KeyCount'], len(want) + len(cps))
                self.assertEqual(page['Delimiter'], '/')
        page = self.v2(Delimiter='/')
        self.assertEqual(self.prefixes(page),
                         ['b/', 'd/', 'e/', '\u4e2d/'])
        # A delimiter other than '/'.
        page = self.v2(Delimiter='c')
        want, cps = self.expected('', 'c')
        self.assertEqual((self.keys(page), self.prefixes(page)), (want, cps))
        self.assertEqual(cps, ['b/c', 'c'])

    def paginate_v2(self, max_keys, **kw):
        keys, cps, pages, token = [], [], 0, None
        for _ in range(len(KEYS) + 3):
            extra = {'ContinuationToken': token} if token else {}
            page = self.v2(MaxKeys=max_keys, **kw, **extra)
            pages += 1
            self.assertLessEqual(page['KeyCount'], max_keys)
            self.assertEqual(page['KeyCount'], len(self.keys(page)) +
                             len(self.prefixes(page)))
            keys += self.keys(page)
            cps += self.prefixes(page)
            if token:
                self.assertEqual(page['ContinuationToken'], token)
            if not page['IsTruncated']:
                self.assertNotIn('NextContinuationToken', page)
                return keys, cps, pages
            self.assertGreater(page['KeyCount'], 0)
            token = page['NextContinuationToken']
            self.assertTrue(token)
        self.fail('pagination did not end')

    def test_v2_pagination(self):
        for n in (1, 2, 3, 7, len(KEYS) - 1, len(KEYS), 1000):
            with self.subTest(max_keys=n):
                keys, cps, pages = self.paginate_v2(n)
                self.assertEqual(keys, self.sorted_keys)
                self.assertEqual(cps, [])
                # Without a delimiter every truncated page is full.
                self.assertEqual(pages, max(1, -(-len(KEYS) // n)))

    def test_v2_pagination_with_delimiter(self):
        want, want_cps = self.expected('', '/')
        for n in (1, 2, 3, 5):
            with self.subTest(max_keys=n):
                keys, cps, _ = self.paginate_v2(n, Delimiter='/')
                self.assertEqual(keys, want)
                self.assertEqual(cps, want_cps)

    def test_v2_pagination_with_prefix_and_start_after(self):
        want, _ = self.expected('b/', after='b/1')
        keys, _, _ = self.paginate_v2(2, Prefix='b/', StartAfter='b/1')
        self.assertEqual(keys, want)

    def test_v2_start_after(self):
        for after in ('', 'a', 'b/', 'b/c/3', 'b/zzz', 'e f', 'zz', '0'):
            with self.subTest(start_after=after):
                page = self.v2(StartAfter=after)
                want, _ = self.expected(after=after or None)
                self.assertEqual(self.keys(page), want)
                if after:
                    self.assertEqual(page['StartAfter'], after)

    def test_v2_token_wins_over_start_after(self):
        first = self.v2(MaxKeys=3)
        page = self.v2(MaxKeys=3, StartAfter='a',
                       ContinuationToken=first['NextContinuationToken'])
        self.assertEqual(self.keys(page), self.sorted_keys[3:6])

    def test_v2_max_keys_zero(self):
        page = self.v2(MaxKeys=0)
        self.assertEqual(page['KeyCount'], 0)
        self.assertEqual(self.keys(page), [])
        self.assertEqual(page['MaxKeys'], 0)

    def test_v2_fetch_owner(self):
        page = self.v2(FetchOwner=True, MaxKeys=2)
        for o in page['Contents']:
            self.assertTrue(o['Owner']['ID'])
        owner = self.s3.list_buckets()['Owner']['ID']
        self.assertEqual(page['Contents'][0]['Owner']['ID'], owner)
        page = self.v2(FetchOwner=False, MaxKeys=2)
        for o in page['Contents']:
            self.assertNotIn('Owner', o)

    def test_v2_encoding_type_url(self):
        # boto3 decodes only when it chose encoding-type itself; asking for it
        # explicitly shows the raw, encoded values.
        page = self.v2(EncodingType='url', Delimiter='/')
        self.assertEqual(page['EncodingType'], 'url')
        keys = self.keys(page)
        for k in keys:
            self.assertTrue(k.isascii(), k)
            self.assertNotIn(' ', k)
        want, cps = self.expected('', '/')
        self.assertEqual([unquote_plus(k) for k in keys], want)
        self.assertEqual([unquote_plus(p) for p in self.prefixes(page)], cps)
        # Prefix and delimiter are echoed encoded too.
        page = self.v2(EncodingType='url', Prefix='\u4e2d/')
        self.assertEqual(unquote_plus(page['Prefix']), '\u4e2d/')
        self.assertTrue(page['Prefix'].isascii())
        # Raw request: the same, without boto3 in between.
        r = self.server.signed('GET', '/%s?encoding-type=url&list-type=2'
                               '&prefix=e' % self.bucket)
        self.assertEqual(r.status, 200, r)
        root = r.xml()
        self.assertEqual(root.findtext('EncodingType'), 'url')
        got = [c.findtext('Key') for c in root.findall('Contents')]
        self.assertEqual([unquote_plus(k) for k in got], ['e f', 'e/f/g/h'])
        self.assertNotIn('e f', got)

    def test_v2_boto3_default_decoding(self):
        # boto3 sends encoding-type=url on its own and decodes the answer.
        page = self.v2()
        self.assertEqual(self.keys(page), self.sorted_keys)

    def test_v2_without_encoding_raw(self):
        r = self.server.signed('GET', '/%s?list-type=2&prefix=%s' %
                               (self.bucket, quote('\u00e9', safe='')))
        self.assertEqual(r.status, 200, r)
        root = r.xml()
        self.assertEqual([c.findtext('Key') for c in root.findall('Contents')],
                         ['\u00e9t\u00e9'])
        self.assertEqual(root.findtext('KeyCount'), '1')
        self.assertEqual(root.findtext('IsTruncated'), 'false')

    def test_v2_errors(self):
        for q in ('max-keys=abc', 'max-keys=-1', 'continuation-token=%21%21bogus',
                  'encoding-type=base64'):
            with self.subTest(query=q):
                r = self.server.signed('GET', '/%s?list-type=2&%s'
                                       % (self.bucket, q))
                self.assertRawError(r, 400, 'InvalidArgument')
        self.assertS3Error('NoSuchBucket', 404, self.s3.list_objects_v2,
                           Bucket=unique_name('nolist'))

    # --- V1 -------------------------------------------------------------------

    def test_v1_all(self):
        page = self.v1()
        self.assertEqual(self.keys(page), self.sorted_keys)
        self.assertFalse(page['IsTruncated'])
        self.assertNotIn('NextMarker', page)
        self.assertEqual(page.get('Marker', ''), '')

    def test_v1_marker_pagination(self):
        keys, marker = [], ''
        for _ in range(len(KEYS) + 2):
            page = self.v1(MaxKeys=4, Marker=marker)
            batch = self.keys(page)
            self.assertLessEqual(len(batch), 4)
            keys += batch
            # Without a delimiter S3 gives no NextMarker: the client uses
            # the last key.
            self.assertNotIn('NextMarker', page)
            if not page['IsTruncated']:
                break
            marker = batch[-1]
        self.assertEqual(keys, self.sorted_keys)

    def test_v1_next_marker_with_delimiter(self):
        want, want_cps = self.expected('', '/')
        keys, cps, marker = [], [], ''
        for _ in range(len(KEYS) + 2):
            page = self.v1(MaxKeys=2, Marker=marker, Delimiter='/')
            keys += self.keys(page)
            cps += self.prefixes(page)
            if not page['IsTruncated']:
                break
            self.assertIn('NextMarker', page)
            last = max(self.keys(page) + self.prefixes(page), key=bkey)
            self.assertEqual(page['NextMarker'], last)
            marker = page['NextMarker']
        self.assertEqual(keys, want)
        self.assertEqual(cps, want_cps)

    def test_v1_prefix_delimiter_marker(self):
        page = self.v1(Prefix='b/', Delimiter='/', Marker='b/1')
        self.assertEqual(self.keys(page), ['b/2', 'b/d'])
        self.assertEqual(self.prefixes(page), ['b/c/'])
        page = self.v1(Prefix='b/', Delimiter='/', Marker='b/c/')
        self.assertEqual(self.keys(page), ['b/d'])
        self.assertEqual(self.prefixes(page), [])

    def test_v1_encoding_type_url(self):
        page = self.v1(EncodingType='url', Prefix='e')
        self.assertEqual([unquote_plus(k) for k in self.keys(page)],
                         ['e f', 'e/f/g/h'])
        self.assertNotIn('e f', self.keys(page))


class ListManyTest(S3gwTestCase):
    """More than 1000 keys: the default page size and the max-keys cap."""

    N = 1005

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.bucket = unique_name('many')
        cls.s3.create_bucket(Bucket=cls.bucket)
        cls.all = ['k%05d' % i for i in range(cls.N)]
        with ThreadPoolExecutor(8) as ex:
            list(ex.map(lambda k: cls.s3.put_object(Bucket=cls.bucket, Key=k,
                                                    Body=b''), cls.all))

    def test_default_page_is_1000(self):
        page = self.s3.list_objects_v2(Bucket=self.bucket)
        self.assertEqual(page['KeyCount'], 1000)
        self.assertTrue(page['IsTruncated'])
        rest = self.s3.list_objects_v2(
            Bucket=self.bucket,
            ContinuationToken=page['NextContinuationToken'])
        self.assertEqual([o['Key'] for o in page['Contents']] +
                         [o['Key'] for o in rest['Contents']], self.all)
        self.assertFalse(rest['IsTruncated'])

    def test_max_keys_capped_at_1000(self):
        page = self.s3.list_objects_v2(Bucket=self.bucket, MaxKeys=5000)
        self.assertEqual(page['KeyCount'], 1000)
        self.assertTrue(page['IsTruncated'])
        page = self.s3.list_objects(Bucket=self.bucket, MaxKeys=5000)
        self.assertEqual(len(page['Contents']), 1000)
        self.assertTrue(page['IsTruncated'])

    def test_paginator(self):
        pages = self.s3.get_paginator('list_objects_v2').paginate(
            Bucket=self.bucket, PaginationConfig={'PageSize': 300})
        keys = [o['Key'] for p in pages for o in p.get('Contents', [])]
        self.assertEqual(keys, self.all)


class ListEmptyTest(S3gwTestCase):

    def test_empty_bucket(self):
        name = self.new_bucket()
        page = self.s3.list_objects_v2(Bucket=name)
        self.assertEqual(page['KeyCount'], 0)
        self.assertFalse(page['IsTruncated'])
        self.assertNotIn('Contents', page)
        page = self.s3.list_objects(Bucket=name)
        self.assertNotIn('Contents', page)
        self.assertFalse(page['IsTruncated'])

    def test_keys_of_other_buckets_do_not_leak(self):
        a, b = self.new_bucket(hint='lista'), self.new_bucket(hint='listb')
        self.s3.put_object(Bucket=a, Key='only-a', Body=b'1')
        self.s3.put_object(Bucket=b, Key='only-b', Body=b'2')
        self.assertEqual([o['Key'] for o in self.s3.list_objects_v2(
            Bucket=a)['Contents']], ['only-a'])
        self.assertEqual([o['Key'] for o in self.s3.list_objects_v2(
            Bucket=b, StartAfter='')['Contents']], ['only-b'])
        # A bucket whose name is a prefix of another's.
        c = a + '0'
        self.s3.create_bucket(Bucket=c)
        self.s3.put_object(Bucket=c, Key='only-c', Body=b'3')
        self.assertEqual([o['Key'] for o in self.s3.list_objects_v2(
            Bucket=a)['Contents']], ['only-a'])


if __name__ == '__main__':
    unittest.main()
