"""ListMultipartUploads reads one bucket's uploads from an index by bucket,
key and initiation ("upkeys" in store/store.h), from the later of prefix
and key-marker on: only that bucket's uploads appear, in S3's order (key,
then initiation time), however many uploads other buckets hold; pages
follow each other with the markers; a deleted bucket takes its uploads
along and a new bucket of the same name starts empty."""

from harness import S3gwTestCase, unique_name


class UploadIndexTest(S3gwTestCase):

    def uploads(self, bucket, **kw):
        r = self.s3.list_multipart_uploads(Bucket=bucket, **kw)
        return r, [(u['Key'], u['UploadId']) for u in r.get('Uploads', [])]

    def test_only_the_buckets_uploads_in_s3_order(self):
        buckets = [unique_name('upk%d' % i) for i in range(4)]
        for b in buckets:
            self.s3.create_bucket(Bucket=b)
        made = {b: [] for b in buckets}
        # Interleaved across buckets, keys out of order, a key twice.
        for key in ['m', 'a', 'z/1', 'm', 'b', 'a/x', 'z/2']:
            for b in buckets:
                uid = self.s3.create_multipart_upload(
                    Bucket=b, Key=key)['UploadId']
                made[b].append((key, uid))
        for b in buckets:
            # Ids grow with initiation time: sorting by (key, id) is S3's
            # order (key, then initiated).
            want = sorted(made[b])
            self.assertEqual(self.uploads(b)[1], want)
            self.assertEqual(len({u for _, u in want}), 7)
            # Pages of two, by the markers, give the same list.
            got, kw = [], {}
            while True:
                r, page = self.uploads(b, MaxUploads=2, **kw)
                got += page
                if not r['IsTruncated']:
                    break
                kw = {'KeyMarker': r['NextKeyMarker'],
                      'UploadIdMarker': r['NextUploadIdMarker']}
            self.assertEqual(got, want)
            # A prefix, a delimiter, a key-marker past the prefix's start.
            self.assertEqual(self.uploads(b, Prefix='z/')[1],
                             [u for u in want if u[0].startswith('z/')])
            r, page = self.uploads(b, Delimiter='/')
            self.assertEqual(page, [u for u in want if '/' not in u[0]])
            self.assertEqual([p['Prefix'] for p in r['CommonPrefixes']],
                             ['a/', 'z/'])
            self.assertEqual(self.uploads(b, KeyMarker='m')[1],
                             [u for u in want if u[0] > 'm'])
            self.assertEqual(self.uploads(b, Prefix='a', KeyMarker='a')[1],
                             [u for u in want if u[0] == 'a/x'])

        # Deleting a bucket (its uploads aborted first, as S3 asks) leaves
        # the others' alone; a bucket made again under the name is empty.
        gone = buckets[0]
        for key, uid in made[gone]:
            self.s3.abort_multipart_upload(Bucket=gone, Key=key, UploadId=uid)
        self.s3.delete_bucket(Bucket=gone)
        self.s3.create_bucket(Bucket=gone)
        self.assertEqual(self.uploads(gone)[1], [])
        self.assertEqual(self.uploads(buckets[1])[1], sorted(made[buckets[1]]))
