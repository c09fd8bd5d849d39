"""Object tagging: GetObjectTagging, PutObjectTagging, DeleteObjectTagging;
S3's limits on tags; malformed bodies; tags and the object's content (an
update rewrites the record only); x-amz-tagging-directive on CopyObject;
tags across a restart; tag updates racing overwrites."""

import base64
import hashlib
import os
import threading
import time
import unittest

from harness import (MiB, S3gwTestCase, build_request, etag_of, s3_quote,
                     scaled, unique_name)


def tagset(d):
    return {'TagSet': [{'Key': k, 'Value': v} for k, v in d.items()]}


class TaggingTest(S3gwTestCase):

    conf = {'chunk_size': '1m', 'gc_interval': '100ms'}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.bucket = unique_name('tagging')
        cls.s3.create_bucket(Bucket=cls.bucket)

    def put(self, key, body, **kw):
        return self.s3.put_object(Bucket=self.bucket, Key=key, Body=body, **kw)

    def tags(self, key, bucket=None):
        r = self.s3.get_object_tagging(Bucket=bucket or self.bucket, Key=key)
        return {t['Key']: t['Value'] for t in r['TagSet']}

    def put_tags(self, key, d, **kw):
        return self.s3.put_object_tagging(Bucket=self.bucket, Key=key,
                                          Tagging=tagset(d), **kw)

    def raw_put_tags(self, key, body, headers=None):
        return self.server.signed(
            'PUT', '/%s/%s?tagging' % (self.bucket, s3_quote(key)),
            headers=headers, body=body)

    # --- The three operations -------------------------------------------

    def test_put_get_delete(self):
        data = b'tag me' * 100
        self.put('obj', data, Metadata={'m': 'v'})
        self.assertEqual(self.tags('obj'), {})
        want = {'project': 'blue', 'cost centre': '12 34',
                'sym+bols=&<>"\'': 'a&b<c>d"e\'f', 'ünï': '日本語',
                'empty': ''}
        r = self.put_tags('obj', want)
        self.assertEqual(r['ResponseMetadata']['HTTPStatusCode'], 200)
        self.assertEqual(self.tags('obj'), want)

        # Replaced whole, not merged.
        self.put_tags('obj', {'only': 'one'})
        self.assertEqual(self.tags('obj'), {'only': 'one'})

        r = self.s3.delete_object_tagging(Bucket=self.bucket, Key='obj')
        self.assertEqual(r['ResponseMetadata']['HTTPStatusCode'], 204)
        self.assertEqual(self.tags('obj'), {})
        r = self.s3.delete_object_tagging(Bucket=self.bucket, Key='obj')
        self.assertEqual(r['ResponseMetadata']['HTTPStatusCode'], 204)

        # An empty TagSet clears too.
        self.put_tags('obj', {'a': '1'})
        self.put_tags('obj', {})
        self.assertEqual(self.tags('obj'), {})

    def test_tags_leave_the_object_alone(self):
        data = os.urandom(2 * MiB + 99)
        self.put('content', data, Metadata={'m': 'v'},
                 ContentType='text/x-kept')
        h0 = self.s3.head_object(Bucket=self.bucket, Key='content')
        chunks = self.server.chunk_files()
        time.sleep(1.1)
        self.put_tags('content', {'k': 'v'})
        self.s3.delete_object_tagging(Bucket=self.bucket, Key='content')
        self.put_tags('content', {'k2': 'v2'})
        self.assertEqual(self.server.chunk_files(), chunks)
        h = self.s3.head_object(Bucket=self.bucket, Key='content')
        for k in ('ETag', 'ContentLength', 'ContentType', 'Metadata',
                  'LastModified'):
            self.assertEqual(h[k], h0[k], k)
        g = self.s3.get_object(Bucket=self.bucket, Key='content')
        self.assertEqual(g['Body'].read(), data)

        # The rewritten records hold each chunk exactly once: deleting the
        # object reclaims them all, and not before.
        mine = {hashlib.sha256(data[i:i + MiB]).hexdigest()
                for i in range(0, len(data), MiB)}
        names = lambda: {os.path.basename(f)
                         for f in self.server.chunk_files()}
        time.sleep(0.5)
        self.assertTrue(mine <= names())
        self.s3.delete_object(Bucket=self.bucket, Key='content')
        deadline = time.monotonic() + 15
        while mine & names() and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertFalse(mine & names(), 'chunks were not reclaimed')

    def test_overwrite_drops_tags(self):
        self.put('ow', b'one')
        self.put_tags('ow', {'a': 'b'})
        self.put('ow', b'two')
        self.assertEqual(self.tags('ow'), {})

    def test_raw_xml(self):
        self.put('xml', b'x')
        self.put_tags('xml', {'k&': 'v<'})
        r = self.server.signed('GET', '/%s/xml?tagging' % self.bucket)
        self.assertEqual(r.status, 200, r)
        self.assertIn(b'xmlns="http://s3.amazonaws.com/doc/2006-03-01/"',
                      r.body)
        root = r.xml()
        self.assertEqual(root.tag, 'Tagging')
        tags = root.findall('TagSet/Tag')
        self.assertEqual([(t.findtext('Key'), t.findtext('Value'))
                          for t in tags], [('k&', 'v<')])

        # Namespaced, with whitespace, in a different order of Key/Value.
        body = (b'<?xml version="1.0" encoding="UTF-8"?>\n'
                b'<Tagging xmlns="http://s3.amazonaws.com/doc/2006-03-01/">\n'
                b'  <TagSet>\n'
                b'    <Tag><Value>v1</Value><Key>k1</Key></Tag>\n'
                b'    <Tag><Key>k2</Key><Value/></Tag>\n'
                b'  </TagSet>\n'
                b'</Tagging>\n')
        r = self.raw_put_tags('xml', body)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(self.tags('xml'), {'k1': 'v1', 'k2': ''})

        md5 = base64.b64encode(hashlib.md5(body).digest()).decode()
        r = self.raw_put_tags('xml', body, headers={'Content-MD5': md5})
        self.assertEqual(r.status, 200, r)
        bad = base64.b64encode(hashlib.md5(b'other').digest()).decode()
        self.assertRawError(self.raw_put_tags('xml', body,
                                              headers={'Content-MD5': bad}),
                            400, 'BadDigest')

    # --- Errors ------------------------------------------------------------

    def test_invalid_tags(self):
        self.put('inv', b'x')
        self.put_tags('inv', {'keep': 'me'})
        ok = [
            {'k%d' % i: 'v' for i in range(10)},
            {'k' * 128: 'v' * 256},
            {'ü' * 128: '日' * 256},        # characters, not bytes
        ]
        bad = [
            {'k%d' % i: 'v' for i in range(11)},
            {'k' * 129: 'v'},
            {'k': 'v' * 257},
            {'ü' * 129: 'v'},
            {'aws:reserved': 'v'},
        ]
        for d in bad:
            with self.subTest(bad=list(d.items())[:1]):
                self.assertS3Error('InvalidTag', 400, self.put_tags, 'inv', d)
        self.assertEqual(self.tags('inv'), {'keep': 'me'})
        dup = {'TagSet': [{'Key': 'a', 'Value': '1'},
                          {'Key': 'a', 'Value': '2'}]}
        resp = self.assertS3Error('InvalidTag', 400,
                                  self.s3.put_object_tagging,
                                  Bucket=self.bucket, Key='inv', Tagging=dup)
        self.assertIn('same key', resp['Error']['Message'])
        # boto3 refuses an empty key itself.
        self.assertRawError(self.raw_put_tags(
            'inv', b'<Tagging><TagSet><Tag><Key></Key><Value>v</Value></Tag>'
                   b'</TagSet></Tagging>'), 400, 'InvalidTag')
        for d in ok:
            with self.subTest(ok=list(d.items())[:1]):
                self.put_tags('inv', d)
                self.assertEqual(self.tags('inv'), d)

    def test_malformed_xml(self):
        self.put('mal', b'x')
        bodies = [
            b'',
            b'not xml',
            b'<Tagging><TagSet><Tag><Key>a</Key><Value>b</Value></Tag>',
            b'<Tags><TagSet/></Tags>',
            b'<Tagging/>',
            b'<Tagging><TagSet><Tag><Key>a</Key></Tag></TagSet></Tagging>',
            b'<Tagging><TagSet><Tag><Value>a</Value></Tag></TagSet>'
            b'</Tagging>',
            b'<Tagging><TagSet><Tag><Key>a</Key><Key>b</Key><Value>c</Value>'
            b'</Tag></TagSet></Tagging>',
            b'<Tagging><TagSet><Tag><Key>a</Key><Value>b</Value><Extra/>'
            b'</Tag></TagSet></Tagging>',
            b'<Tagging><TagSet/><TagSet/></Tagging>',
            b'<Tagging><Other><Tag><Key>a</Key><Value>b</Value></Tag></Other>'
            b'</Tagging>',
            b'<!DOCTYPE x [<!ENTITY a "b">]><Tagging><TagSet/></Tagging>',
            b'<Tagging><TagSet>' + b' ' * (70 * 1024) + b'</TagSet></Tagging>',
        ]
        for body in bodies:
            with self.subTest(body=body[:60]):
                self.assertRawError(self.raw_put_tags('mal', body), 400,
                                    'MalformedXML')
        self.assertEqual(self.tags('mal'), {})

    def test_missing_and_foreign(self):
        for fn, kw in ((self.s3.get_object_tagging, {}),
                       (self.s3.put_object_tagging,
                        {'Tagging': tagset({'a': 'b'})}),
                       (self.s3.delete_object_tagging, {})):
            with self.subTest(op=fn.__name__):
                self.assertS3Error('NoSuchKey', 404, fn, Bucket=self.bucket,
                                   Key='no/such/key', **kw)
                self.assertS3Error('NoSuchBucket', 404, fn,
                                   Bucket=unique_name('nosuch'), Key='k', **kw)
        bob = self.server.boto3_client('bob')
        theirs = self.new_bucket(client=bob, hint='bob-tags')
        bob.put_object(Bucket=theirs, Key='k', Body=b'bob')
        bob.put_object_tagging(Bucket=theirs, Key='k',
                               Tagging=tagset({'owner': 'bob'}))
        for fn, kw in ((self.s3.get_object_tagging, {}),
                       (self.s3.put_object_tagging,
                        {'Tagging': tagset({'a': 'b'})}),
                       (self.s3.delete_object_tagging, {})):
            with self.subTest(op=fn.__name__, bucket='bob'):
                self.assertS3Error('AccessDenied', 403, fn, Bucket=theirs,
                                   Key='k', **kw)
        r = bob.get_object_tagging(Bucket=theirs, Key='k')
        self.assertEqual(r['TagSet'], [{'Key': 'owner', 'Value': 'bob'}])

    def test_version_id(self):
        self.put('ver', b'v')
        self.s3.put_object_tagging(Bucket=self.bucket, Key='ver',
                                   VersionId='null', Tagging=tagset({'a': '1'}))
        r = self.s3.get_object_tagging(Bucket=self.bucket, Key='ver',
                                       VersionId='null')
        self.assertEqual(r['TagSet'], [{'Key': 'a', 'Value': '1'}])
        self.assertS3Error('InvalidArgument', 400, self.s3.get_object_tagging,
                           Bucket=self.bucket, Key='ver', VersionId='abc123')
        self.assertS3Error('InvalidArgument', 400,
                           self.s3.delete_object_tagging,
                           Bucket=self.bucket, Key='ver', VersionId='abc123')

    def test_client_gone_before_the_answer(self):
        self.put('gone', b'x')
        body = (b'<Tagging><TagSet><Tag><Key>k</Key><Value>v</Value></Tag>'
                b'</TagSet></Tagging>')
        path = '/%s/gone?tagging' % self.bucket
        mark = len(self.server.access_log_lines())
        for i in range(20):
            hdrs = self.server.sign('PUT', path, body=body)
            c = self.server.conn()
            c.send(build_request('PUT', path, hdrs, body))
            c.close()
            hdrs = self.server.sign('DELETE', path)
            c = self.server.conn()
            c.send(build_request('DELETE', path, hdrs))
            c.close()
        # The abandoned requests are still served: wait for all 40 in the
        # access log (by count, not by the clock: a loaded machine under
        # ASan needs more than a fixed pause), then write last.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and sum(
                1 for l in self.server.access_log_lines()[mark:]
                if '/gone?tagging' in l) < 40:
            time.sleep(0.05)
        self.put_tags('gone', {'after': 'all'})
        self.assertEqual(self.tags('gone'), {'after': 'all'})

    # --- CopyObject's tagging directive ---------------------------------

    def copy(self, src, dst, **kw):
        return self.s3.copy_object(Bucket=self.bucket, Key=dst,
                                   CopySource={'Bucket': self.bucket,
                                               'Key': src}, **kw)

    def test_copy_tagging_directive(self):
        self.put('csrc', b'copy my tags')
        self.put_tags('csrc', {'a': '1', 'b': 'two'})

        self.copy('csrc', 'c/default')
        self.assertEqual(self.tags('c/default'), {'a': '1', 'b': 'two'})
        # COPY ignores x-amz-tagging.
        self.copy('csrc', 'c/copy', TaggingDirective='COPY', Tagging='x=y')
        self.assertEqual(self.tags('c/copy'), {'a': '1', 'b': 'two'})
        # Metadata REPLACE does not touch the tags.
        self.copy('csrc', 'c/meta', MetadataDirective='REPLACE')
        self.assertEqual(self.tags('c/meta'), {'a': '1', 'b': 'two'})

        self.copy('csrc', 'c/replace', TaggingDirective='REPLACE',
                  Tagging='x=1&two%20words=a%26b&plus+sign=%C3%BC&novalue')
        self.assertEqual(self.tags('c/replace'),
                         {'x': '1', 'two words': 'a&b', 'plus sign': 'ü',
                          'novalue': ''})
        self.copy('csrc', 'c/none', TaggingDirective='REPLACE')
        self.assertEqual(self.tags('c/none'), {})
        self.assertEqual(self.tags('csrc'), {'a': '1', 'b': 'two'})

        # Onto itself, new tags are a change.
        self.copy('csrc', 'csrc', TaggingDirective='REPLACE', Tagging='n=1')
        self.assertEqual(self.tags('csrc'), {'n': '1'})
        self.assertEqual(self.s3.get_object(Bucket=self.bucket,
                                            Key='csrc')['Body'].read(),
                         b'copy my tags')

        for tagging, code in (
                ('&'.join('k%d=v' % i for i in range(11)), 'InvalidTag'),
                ('a=1&a=2', 'InvalidTag'),
                ('k=' + 'v' * 257, 'InvalidTag'),
                ('%zz=1', 'InvalidArgument')):
            with self.subTest(tagging=tagging[:30]):
                self.assertS3Error(code, 400, self.copy, 'csrc', 'c/bad',
                                   TaggingDirective='REPLACE', Tagging=tagging)
        self.assertS3Error(None, 404, self.s3.head_object,
                           Bucket=self.bucket, Key='c/bad')

    # --- Durability and races --------------------------------------------

    def test_tags_survive_restart(self):
        self.put('durable', os.urandom(MiB + 1))
        self.put_tags('durable', {'survives': 'restart', 'ü': 'ß'})
        self.put('durable-cleared', b'x')
        self.put_tags('durable-cleared', {'a': 'b'})
        self.s3.delete_object_tagging(Bucket=self.bucket,
                                      Key='durable-cleared')
        self.server.restart()
        self.assertEqual(self.tags('durable'), {'survives': 'restart',
                                                'ü': 'ß'})
        self.assertEqual(self.tags('durable-cleared'), {})

    def test_tagging_races_overwrites(self):
        """Tag updates interleaved with overwrites: each one succeeds (an
        update that loses the race to an overwrite counts as done before
        it), no overwrite is undone by a tag update, and the record stays
        whole."""
        key = 'race'
        self.put(key, b'start')
        stop = threading.Event()
        errors, last = [], {}

        def writer():
            s3 = self.server.boto3_client()
            i = 0
            try:
                while not stop.is_set():
                    body = b'version %d' % i
                    s3.put_object(Bucket=self.bucket, Key=key, Body=body)
                    last['body'] = body
                    i += 1
            except Exception as e:      # noqa: BLE001
                errors.append(e)

        w = threading.Thread(target=writer)
        w.start()
        try:
            s3 = self.server.boto3_client()
            for i in range(scaled(100, 30)):
                if i % 3 == 2:
                    r = s3.delete_object_tagging(Bucket=self.bucket, Key=key)
                    self.assertEqual(
                        r['ResponseMetadata']['HTTPStatusCode'], 204)
                else:
                    r = s3.put_object_tagging(Bucket=self.bucket, Key=key,
                                              Tagging=tagset({'n': str(i)}))
                    self.assertEqual(
                        r['ResponseMetadata']['HTTPStatusCode'], 200)
        finally:
            stop.set()
            w.join(120)
        self.assertEqual(errors, [])
        g = self.s3.get_object(Bucket=self.bucket, Key=key)
        body = g['Body'].read()
        self.assertEqual(body, last['body'])
        self.assertEqual(g['ETag'], etag_of(body))
        self.put_tags(key, {'final': 'yes'})
        self.assertEqual(self.tags(key), {'final': 'yes'})


if __name__ == '__main__':
    unittest.main()
