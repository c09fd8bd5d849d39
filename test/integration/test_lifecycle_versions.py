"""Bucket lifecycle in versioned buckets, with a lifecycle day of two
seconds: Expiration gives the current version a delete marker and keeps
the old one (and never gives a marker another); NoncurrentVersionExpiration
removes noncurrent versions NoncurrentDays after they became noncurrent,
keeping the NewerNoncurrentVersions newest, and their chunks are reclaimed;
ExpiredObjectDeleteMarker removes a marker once nothing is behind it; a key
with more versions than a tick looks at is done over several ticks and
across a restart; what no rule takes stays."""

import concurrent.futures as cf
import os
import time

from harness import S3gwTestCase

DAY = 2                         # seconds in a lifecycle day
WAIT = 40                       # the most a test waits for the worker


class LifecycleVersionsTest(S3gwTestCase):
    """Each test on a server of its own (one restarts it)."""

    shared_server = False

    def server_for(self, **conf):
        conf.setdefault('lifecycle_day', '%ds' % DAY)
        srv = self.start_server(conf=conf)
        return srv, srv.boto3_client()

    def versioned_bucket(self, s3, rules):
        b = self.new_bucket(s3)
        s3.put_bucket_versioning(Bucket=b, VersioningConfiguration={
            'Status': 'Enabled'})
        s3.put_bucket_lifecycle_configuration(
            Bucket=b, LifecycleConfiguration={'Rules': rules})
        return b

    def versions(self, s3, b):
        """{key: [(version id, is latest, is a marker)], newest first}."""
        out = {}
        for page in s3.get_paginator('list_object_versions').paginate(
                Bucket=b):
            for v in page.get('Versions', []):
                out.setdefault(v['Key'], []).append(
                    (v['VersionId'], v['IsLatest'], False, v['LastModified']))
            for v in page.get('DeleteMarkers', []):
                out.setdefault(v['Key'], []).append(
                    (v['VersionId'], v['IsLatest'], True, v['LastModified']))
        # The listing gives each kind newest first; merged, the current
        # one first and the rest by time (to the second: ties keep the
        # listing's order, so only keys with markers are sorted).
        for k in out:
            if any(v[2] for v in out[k]):
                out[k].sort(key=lambda v: (not v[1], -v[3].timestamp()))
            out[k] = [v[:3] for v in out[k]]
        return out

    def wait_for(self, what, cond, timeout=WAIT):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if cond():
                return
            time.sleep(0.2)
        self.fail('waited %ds for %s' % (timeout, what))

    def put_versions(self, s3, b, key, n, body=lambda i: b'v%d' % i):
        return [s3.put_object(Bucket=b, Key=key, Body=body(i))['VersionId']
                for i in range(n)]

    def test_expiration_adds_a_marker(self):
        srv, s3 = self.server_for()
        b = self.versioned_bucket(s3, [
            {'ID': 'exp', 'Status': 'Enabled', 'Filter': {'Prefix': 'e/'},
             'Expiration': {'Days': 1}}])
        v1 = s3.put_object(Bucket=b, Key='e/a', Body=b'one')['VersionId']
        s3.put_object(Bucket=b, Key='x', Body=b'stay')

        def marked():
            return [m for _, latest, m in self.versions(s3, b).get('e/a', [])
                    if latest and m]

        self.wait_for('the delete marker', marked)
        got = self.versions(s3, b)
        self.assertEqual(len(got['e/a']), 2, got)
        self.assertEqual(got['e/a'][1], (v1, False, False))
        self.assertIn('lifecycle: expired %s/e/a (rule exp)' % b,
                      srv.stderr_text())
        # The old version is still there to read.
        r = s3.get_object(Bucket=b, Key='e/a', VersionId=v1)
        self.assertEqual(r['Body'].read(), b'one')
        # Two more days: the marker is not given another.
        time.sleep(2 * DAY)
        got = self.versions(s3, b)
        self.assertEqual(len(got['e/a']), 2, got)
        self.assertEqual(got['x'][0][1:], (True, False))

    def test_noncurrent_days_and_newer_versions(self):
        srv, s3 = self.server_for(chunk_size='64k', inline_max='1k')
        b = self.versioned_bucket(s3, [
            {'ID': 'nc', 'Status': 'Enabled', 'Filter': {'Prefix': 'n/'},
             'NoncurrentVersionExpiration': {'NoncurrentDays': 1}},
            {'ID': 'keep2', 'Status': 'Enabled', 'Filter': {'Prefix': 'k/'},
             'NoncurrentVersionExpiration': {
                 'NoncurrentDays': 1, 'NewerNoncurrentVersions': 2}}])
        before = len(srv.chunk_files())
        big = lambda i: os.urandom(100 * 1024)      # two chunks each
        n = self.put_versions(s3, b, 'n/a', 3, big)
        s3.delete_object(Bucket=b, Key='n/a')        # a marker on top
        nm = self.put_versions(s3, b, 'n/m', 1)[0]   # then a marker that
        s3.delete_object(Bucket=b, Key='n/m')        # becomes noncurrent
        s3.put_object(Bucket=b, Key='n/m', Body=b'back')
        k = self.put_versions(s3, b, 'k/a', 5, big)
        o = self.put_versions(s3, b, 'o/a', 3, big)
        self.assertEqual(len(srv.chunk_files()), before + 2 * 11)

        def done():
            got = self.versions(s3, b)
            return (len(got.get('n/a', [])) == 1
                    and len(got.get('n/m', [])) == 1
                    and len(got.get('k/a', [])) == 3)

        self.wait_for('the noncurrent versions to go', done)
        got = self.versions(s3, b)
        # n/a: only its current delete marker is left (the marker is not
        # lone until now, and no rule removes lone markers here).
        self.assertTrue(got['n/a'][0][1] and got['n/a'][0][2], got['n/a'])
        self.assertEqual(got['n/m'][0][1:], (True, False))
        self.assertNotIn(nm, [v[0] for v in got['n/m']])
        # k/a: the current version and the two newest noncurrent ones.
        self.assertEqual([v[0] for v in got['k/a']], k[::-1][:3])
        # o/a: no rule, all three stay.
        self.assertEqual([v[0] for v in got['o/a']], o[::-1])
        self.assertIn('lifecycle: removed noncurrent version %s/n/a' % b,
                      srv.stderr_text())
        # The chunks of the removed versions are reclaimed: three of n/a,
        # two of k/a.
        self.wait_for('the chunks', lambda: len(srv.chunk_files())
                      == before + 2 * 6)
        for v in k[::-1][:3]:
            self.assertEqual(len(s3.get_object(Bucket=b, Key='k/a',
                                               VersionId=v)['Body'].read()),
                             100 * 1024)
        # Days later, the kept ones are still kept.
        time.sleep(2 * DAY)
        self.assertEqual([v[0] for v in self.versions(s3, b)['k/a']],
                         k[::-1][:3])
        got = self.versions(s3, b)
        self.assertEqual(len(got['n/a']), 1)
        self.assertFalse(set(n) & {v[0] for v in got['n/a']})

    def test_expired_object_delete_marker(self):
        srv, s3 = self.server_for()
        b = self.versioned_bucket(s3, [
            {'ID': 'dm', 'Status': 'Enabled', 'Filter': {'Prefix': 'm/'},
             'Expiration': {'ExpiredObjectDeleteMarker': True}},
            {'ID': 'all', 'Status': 'Enabled', 'Filter': {'Prefix': 'a/'},
             'Expiration': {'Days': 1},
             'NoncurrentVersionExpiration': {'NoncurrentDays': 1}}])
        # m/lone: a marker and nothing else; m/hides: a marker over a
        # version; z/lone: a lone marker no rule takes.
        s3.delete_object(Bucket=b, Key='m/lone')
        hidden = s3.put_object(Bucket=b, Key='m/hides', Body=b'x')['VersionId']
        s3.delete_object(Bucket=b, Key='m/hides')
        s3.delete_object(Bucket=b, Key='z/lone')
        # a/k: expires to a marker, loses its old version, and then the
        # lone marker goes too (Expiration Days cleans up markers): the key
        # is gone altogether.
        s3.put_object(Bucket=b, Key='a/k', Body=b'x')
        self.wait_for('the lone marker to go',
                      lambda: 'm/lone' not in self.versions(s3, b))
        got = self.versions(s3, b)
        self.assertEqual(len(got['m/hides']), 2, got)
        self.assertEqual(len(got['z/lone']), 1, got)
        self.assertIn('lifecycle: removed delete marker %s/m/lone' % b,
                      srv.stderr_text())
        # Once the hidden version is deleted, the marker is alone: it goes.
        s3.delete_object(Bucket=b, Key='m/hides', VersionId=hidden)
        self.wait_for('the second marker to go',
                      lambda: 'm/hides' not in self.versions(s3, b))
        self.wait_for('a/k to go altogether',
                      lambda: 'a/k' not in self.versions(s3, b))
        self.assertIn('lifecycle: expired %s/a/k (rule all)' % b,
                      srv.stderr_text())
        self.assertEqual(set(self.versions(s3, b)), {'z/lone'})

    def test_many_versions_across_ticks_and_a_restart(self):
        srv, s3 = self.server_for()
        b = self.new_bucket(s3)
        s3.put_bucket_versioning(Bucket=b, VersioningConfiguration={
            'Status': 'Enabled'})
        # More versions of one key than a tick looks at (1000), then a key
        # after it, and a key no rule takes.
        total = 2500
        with cf.ThreadPoolExecutor(8) as ex:
            list(ex.map(lambda i: s3.put_object(Bucket=b, Key='n/big',
                                                Body=b'%d' % i),
                        range(total)))
        after = self.put_versions(s3, b, 'n/next', 8)
        other = self.put_versions(s3, b, 'o/keep', 8)
        newest = [v[0] for v in self.versions(s3, b)['n/big'][:6]]
        # The rule comes once every old version is due (a noncurrent day,
        # rounded up: two at most), so that one pass has them all to do.
        time.sleep(2 * DAY)
        s3.put_bucket_lifecycle_configuration(
            Bucket=b, LifecycleConfiguration={'Rules': [
                {'ID': 'nc', 'Status': 'Enabled', 'Filter': {'Prefix': 'n/'},
                 'NoncurrentVersionExpiration': {
                     'NoncurrentDays': 1, 'NewerNoncurrentVersions': 5}}]})

        def count(key):
            return len(self.versions(s3, b).get(key, []))

        # Stop mid-way (100 removals a tick), start again: the rest goes.
        self.wait_for('removals to begin', lambda: count('n/big') < total)
        srv.stop()
        srv.start()
        s3 = srv.boto3_client()
        self.assertTrue('lifecycle: resuming the pass' in srv.stderr_text(),
                        'the restart did not resume the pass')
        self.wait_for('the removals to finish',
                      lambda: count('n/big') == 6 and count('n/next') == 6)
        got = self.versions(s3, b)
        self.assertEqual([v[0] for v in got['n/big']], newest)
        self.assertEqual([v[0] for v in got['n/next']], after[::-1][:6])
        self.assertEqual([v[0] for v in got['o/keep']], other[::-1])
