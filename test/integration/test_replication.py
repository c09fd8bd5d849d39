"""Bucket replication at work: a source s3gw pushes the objects its rules
match to another s3gw and to moto_server over signed HTTP, or copies them
into a bucket of its own; deletes follow when DeleteMarkerReplication says
so; a destination that is down delays the queue, which drains when it is
back, even across a kill -9 of the source; a destination that refuses the
keys marks the change failed, with the reason in the log."""

import hashlib
import os
import shutil
import socket
import subprocess
import sys
import time

from harness import (MiB, ClientError, PatternReader, S3gwTestCase, Server,
                     clean_env, free_port, scaled, unique_name)

ROLE = 'arn:aws:iam::123456789012:role/replication'


def target(name, url, bucket, ak='AKADMIN', sk='SECRETADMIN'):
    return ('replication_target %s { endpoint %s; access_key %s; '
            'secret_key %s; region us-east-1; buckets %s; }\n'
            % (name, url, ak, sk, bucket))


def rule(dest, priority=1, prefix=None, deletes=True, tags=None):
    r = {'ID': 'r%d' % priority, 'Priority': priority, 'Status': 'Enabled',
         'DeleteMarkerReplication': {
             'Status': 'Enabled' if deletes else 'Disabled'},
         'Destination': {'Bucket': 'arn:aws:s3:::' + dest}}
    if tags:
        r['Filter'] = {'And': {'Prefix': prefix or '', 'Tags': [
            {'Key': k, 'Value': v} for k, v in tags.items()]}}
    else:
        r['Filter'] = {'Prefix': prefix} if prefix is not None else {}
    return r


def wait_for(fn, timeout=30.0, what='condition'):
    deadline = time.monotonic() + timeout
    while True:
        try:
            v = fn()
            if v:
                return v
        except ClientError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError('timed out waiting for %s' % what)
        time.sleep(0.1)


class ReplicationTest(S3gwTestCase):

    shared_server = False

    def pair(self, dest_bucket='dst', ak='AKADMIN', sk='SECRETADMIN'):
        """A destination s3gw with dest_bucket, and a source s3gw whose
        target serves it; returns (src, dst, src client, dst client)."""
        dst = self.start_server()
        d3 = dst.boto3_client()
        d3.create_bucket(Bucket=dest_bucket)
        src = self.start_server(extra=target('dst', dst.url, dest_bucket,
                                             ak, sk))
        return src, dst, src.boto3_client(), d3

    def replicate(self, s3, bucket, *rules):
        s3.put_bucket_replication(Bucket=bucket, ReplicationConfiguration={
            'Role': ROLE, 'Rules': list(rules)})

    def assertSameObject(self, s3a, ba, s3b, bb, key):
        a = s3a.get_object(Bucket=ba, Key=key)
        b = s3b.get_object(Bucket=bb, Key=key)
        self.assertEqual(hashlib.sha256(a['Body'].read()).hexdigest(),
                         hashlib.sha256(b['Body'].read()).hexdigest(), key)
        for h in ('ETag', 'ContentType', 'Metadata', 'ContentLength',
                  'CacheControl', 'ContentDisposition'):
            self.assertEqual(a.get(h), b.get(h), '%s of %s' % (h, key))
        ta = s3a.get_object_tagging(Bucket=ba, Key=key)['TagSet']
        tb = s3b.get_object_tagging(Bucket=bb, Key=key)['TagSet']
        self.assertEqual(sorted(t['Key'] for t in ta),
                         sorted(t['Key'] for t in tb))

    def test_s3gw_to_s3gw(self):
        src, dst, s3, d3 = self.pair()
        s3.create_bucket(Bucket='src')
        self.replicate(s3, 'src', rule('dst'))
        s3.put_object(Bucket='src', Key='small.txt', Body=b'hello',
                      ContentType='text/plain', Metadata={'a': 'b'},
                      CacheControl='no-cache', Tagging='t=1&u=x%20y',
                      ContentDisposition='inline')
        big = PatternReader(scaled(10 * MiB, 5 * MiB), seed=7)
        s3.put_object(Bucket='src', Key='dir/big key+é.bin', Body=big)
        s3.put_object(Bucket='src', Key='empty', Body=b'')
        for key in ('small.txt', 'dir/big key+é.bin', 'empty'):
            wait_for(lambda: d3.head_object(Bucket='dst', Key=key),
                     what=key)
            self.assertSameObject(s3, 'src', d3, 'dst', key)
            # x-amz-replication-status: PENDING, then COMPLETED.
            wait_for(lambda: s3.head_object(Bucket='src', Key=key).get(
                'ReplicationStatus') == 'COMPLETED', what='COMPLETED')
        # An overwrite follows; so does a delete.
        s3.put_object(Bucket='src', Key='small.txt', Body=b'second')
        wait_for(lambda: d3.get_object(Bucket='dst', Key='small.txt')
                 ['Body'].read() == b'second', what='the overwrite')
        s3.delete_object(Bucket='src', Key='small.txt')
        s3.delete_objects(Bucket='src', Delete={'Objects': [{'Key': 'empty'}]})
        wait_for(lambda: 'Contents' not in d3.list_objects_v2(
            Bucket='dst', Prefix='small') and 'Contents' not in
            d3.list_objects_v2(Bucket='dst', Prefix='empty'),
            what='the deletes')
        self.assertEqual([o['Key'] for o in d3.list_objects_v2(
            Bucket='dst')['Contents']], ['dir/big key+é.bin'])

    def test_multipart_source_keeps_its_parts(self):
        # A multipart object goes as a multipart upload with the same part
        # boundaries: the replica's ETag is the source's "md5-N".
        src, dst, s3, d3 = self.pair()
        s3.create_bucket(Bucket='src')
        self.replicate(s3, 'src', rule('dst'))
        key = 'mp/obj'
        up = s3.create_multipart_upload(Bucket='src', Key=key,
                                        ContentType='x/y', Metadata={'p': 'q'},
                                        Tagging='k=v')
        parts = []
        sizes = [5 * MiB, 5 * MiB + 123, 7777]
        for i, n in enumerate(sizes, 1):
            body = PatternReader(n, seed=i).read()
            r = s3.upload_part(Bucket='src', Key=key, PartNumber=i,
                               UploadId=up['UploadId'], Body=body)
            parts.append({'PartNumber': i, 'ETag': r['ETag']})
        s3.complete_multipart_upload(Bucket='src', Key=key,
                                     UploadId=up['UploadId'],
                                     MultipartUpload={'Parts': parts})
        wait_for(lambda: d3.head_object(Bucket='dst', Key=key), what=key)
        self.assertSameObject(s3, 'src', d3, 'dst', key)
        self.assertTrue(d3.head_object(Bucket='dst', Key=key)['ETag']
                        .endswith('-3"'))
        self.assertEqual(d3.list_multipart_uploads(Bucket='dst')
                         .get('Uploads', []), [])

    def test_existing_objects(self):
        # ExistingObjectReplication Enabled: the objects already there are
        # queued a batch at a time, durably: a kill -9 in the middle of the
        # backfill loses none of them.
        src, dst, s3, d3 = self.pair()
        s3.create_bucket(Bucket='src')
        n = scaled(450, 150)
        for i in range(n):
            s3.put_object(Bucket='src', Key='old/%04d' % i, Body=b'%d' % i)
        s3.put_object(Bucket='src', Key='skip/me', Body=b'x')
        r = rule('dst', prefix='old/')
        r['ExistingObjectReplication'] = {'Status': 'Enabled'}
        self.replicate(s3, 'src', r)
        time.sleep(0.3)
        src.kill9()
        src.start()

        def count():
            pages = d3.get_paginator('list_objects_v2').paginate(
                Bucket='dst')
            return sum(len(p.get('Contents', [])) for p in pages)
        wait_for(lambda: count() == n, timeout=120, what='the backfill')
        self.assertEqual(d3.get_object(Bucket='dst', Key='old/0042')
                         ['Body'].read(), b'42')
        time.sleep(0.5)
        self.assertEqual(count(), n)            # skip/me stays behind

    def test_both_ways_without_ping_pong(self):
        # Two servers replicating to each other (east on a, west on b): a
        # replica is marked REPLICA where it lands and is not sent back.
        b = self.start_server()
        b3 = b.boto3_client()
        b3.create_bucket(Bucket='west')
        a = self.start_server(extra=target('b', b.url, 'west'))
        a3 = a.boto3_client()
        a3.create_bucket(Bucket='east')
        b.stop()
        b.extra = target('a', a.url, 'east')
        b.write_conf()
        b.start()
        b3 = b.boto3_client()
        self.replicate(a3, 'east', rule('west'))
        self.replicate(b3, 'west', rule('east'))
        a3.put_object(Bucket='east', Key='from-a', Body=b'1')
        b3.put_object(Bucket='west', Key='from-b', Body=b'2')
        for s3, bucket, key in ((b3, 'west', 'from-a'),
                                (a3, 'east', 'from-b')):
            wait_for(lambda: s3.head_object(Bucket=bucket, Key=key),
                     what=key)
            self.assertEqual(s3.head_object(Bucket=bucket, Key=key)
                             ['ReplicationStatus'], 'REPLICA')
        wait_for(lambda: a3.head_object(Bucket='east', Key='from-a')
                 ['ReplicationStatus'] == 'COMPLETED', what='COMPLETED')
        time.sleep(1.0)
        puts = [l for l in a.access_log_lines() + b.access_log_lines()
                if ' PUT /' in l and '/from-' in l]
        self.assertEqual(len(puts), 4, puts)    # 2 by clients, 2 replicas

    def test_replica_needs_replicate_object(self):
        # Only whom s3:ReplicateObject allows may write a replica.
        srv = self.start_server()
        s3 = srv.boto3_client()
        s3.create_bucket(Bucket='rbkt')
        policy = {'Version': '2012-10-17', 'Statement': [{
            'Effect': 'Allow', 'Principal': {'AWS': '*'},
            'Action': 's3:PutObject', 'Resource': 'arn:aws:s3:::rbkt/*'}]}
        import json
        s3.put_bucket_policy(Bucket='rbkt', Policy=json.dumps(policy))
        bob = srv.boto3_client('bob')

        def mark(params, **kw):
            params['headers']['x-amz-replication-status'] = 'REPLICA'
        bob.meta.events.register('before-call.s3.PutObject', mark)
        with self.assertRaises(ClientError) as cm:
            bob.put_object(Bucket='rbkt', Key='k', Body=b'x')
        self.assertEqual(cm.exception.response['Error']['Code'],
                         'AccessDenied')
        bob.meta.events.unregister('before-call.s3.PutObject', mark)
        bob.put_object(Bucket='rbkt', Key='k', Body=b'x')
        s3.meta.events.register('before-call.s3.PutObject', mark)
        s3.put_object(Bucket='rbkt', Key='r', Body=b'y')
        self.assertEqual(s3.head_object(Bucket='rbkt', Key='r')
                         ['ReplicationStatus'], 'REPLICA')

    def test_filters_and_deletes_disabled(self):
        src, dst, s3, d3 = self.pair()
        s3.create_bucket(Bucket='src')
        self.replicate(s3, 'src', rule('dst', 1, prefix='logs/',
                                       deletes=False),
                       rule('dst', 2, prefix='', tags={'ship': 'yes'},
                            deletes=False))
        s3.put_object(Bucket='src', Key='other/no', Body=b'x')
        s3.put_object(Bucket='src', Key='other/yes', Body=b'y',
                      Tagging='ship=yes')
        s3.put_object(Bucket='src', Key='logs/a', Body=b'z')
        wait_for(lambda: d3.head_object(Bucket='dst', Key='logs/a'))
        wait_for(lambda: d3.head_object(Bucket='dst', Key='other/yes'))
        time.sleep(0.5)
        self.assertEqual(sorted(o['Key'] for o in d3.list_objects_v2(
            Bucket='dst')['Contents']), ['logs/a', 'other/yes'])
        # Delete marker replication disabled: the replica stays.
        s3.delete_object(Bucket='src', Key='logs/a')
        time.sleep(0.5)
        d3.head_object(Bucket='dst', Key='logs/a')

    def test_same_site(self):
        srv = self.start_server()
        s3 = srv.boto3_client()
        s3.create_bucket(Bucket='here-src')
        s3.create_bucket(Bucket='here-dst')
        self.replicate(s3, 'here-src', rule('here-dst'))
        s3.put_object(Bucket='here-src', Key='k', Body=b'local copy',
                      Metadata={'m': '1'})
        wait_for(lambda: s3.head_object(Bucket='here-dst', Key='k'))
        self.assertSameObject(s3, 'here-src', s3, 'here-dst', 'k')
        self.assertEqual(s3.head_object(Bucket='here-dst', Key='k')
                         ['ReplicationStatus'], 'REPLICA')
        s3.delete_object(Bucket='here-src', Key='k')
        wait_for(lambda: 'Contents' not in s3.list_objects_v2(
            Bucket='here-dst'), what='the delete')

    def test_destination_down_then_kill9_then_back(self):
        src, dst, s3, d3 = self.pair()
        s3.create_bucket(Bucket='src')
        self.replicate(s3, 'src', rule('dst'))
        dst.stop()
        n = scaled(200, 50)
        for i in range(n):
            s3.put_object(Bucket='src', Key='q/%04d' % i, Body=b'%d' % i)
        self.assertEqual(s3.head_object(Bucket='src', Key='q/0000')
                         ['ReplicationStatus'], 'PENDING')
        time.sleep(1.0)                 # failed tries, backing off
        src.kill9()
        src.start()
        dst.start()
        d3 = dst.boto3_client()

        def count():
            pages = d3.get_paginator('list_objects_v2').paginate(
                Bucket='dst')
            return sum(len(p.get('Contents', [])) for p in pages)
        wait_for(lambda: count() == n, timeout=90, what='the backlog')
        self.assertEqual(d3.get_object(Bucket='dst', Key='q/0007')
                         ['Body'].read(), b'7')

    def test_refused_keys_fail_with_the_reason(self):
        src, dst, s3, d3 = self.pair(sk='WRONG-SECRET')
        s3.create_bucket(Bucket='src')
        self.replicate(s3, 'src', rule('dst'))
        s3.put_object(Bucket='src', Key='k', Body=b'v')
        wait_for(lambda: 'failed' in src.stderr_text() and
                 '403 SignatureDoesNotMatch' in src.stderr_text(),
                 what='the failure in the log')
        wait_for(lambda: s3.head_object(Bucket='src', Key='k').get(
            'ReplicationStatus') == 'FAILED', what='FAILED')
        with self.assertRaises(ClientError):
            d3.head_object(Bucket='dst', Key='k')


class MotoReplicationTest(S3gwTestCase):
    """s3gw -> moto_server: replication speaks plain S3 to anything."""

    shared_server = False

    def setUp(self):
        super().setUp()
        port = free_port()
        env = clean_env()
        self.moto = subprocess.Popen(
            [sys.executable, '-m', 'moto.server', '-H', '127.0.0.1', '-p',
             str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            env=env)
        self.addCleanup(self.moto.wait)
        self.addCleanup(self.moto.terminate)
        self.url = 'http://127.0.0.1:%d' % port
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(('127.0.0.1', port), 0.5).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def test_to_moto(self):
        import boto3
        m3 = boto3.client('s3', endpoint_url=self.url,
                          aws_access_key_id='testing',
                          aws_secret_access_key='testing',
                          region_name='us-east-1')
        m3.create_bucket(Bucket='moto-dst')
        src = self.start_server(extra=target('moto', self.url, 'moto-dst',
                                             'testing', 'testing'))
        s3 = src.boto3_client()
        s3.create_bucket(Bucket='src')
        s3.put_bucket_replication(Bucket='src', ReplicationConfiguration={
            'Role': ROLE, 'Rules': [rule('moto-dst')]})
        body = os.urandom(scaled(6 * MiB, 2 * MiB))
        s3.put_object(Bucket='src', Key='a/b.bin', Body=body,
                      ContentType='application/x-test',
                      Metadata={'k': 'v'})
        wait_for(lambda: m3.head_object(Bucket='moto-dst', Key='a/b.bin'),
                 what='the object at moto')
        got = m3.get_object(Bucket='moto-dst', Key='a/b.bin')
        self.assertEqual(got['Body'].read(), body)
        self.assertEqual(got['ContentType'], 'application/x-test')
        self.assertEqual(got['Metadata'], {'k': 'v'})
        self.assertEqual(got['ETag'],
                         s3.head_object(Bucket='src', Key='a/b.bin')['ETag'])
        # A multipart source keeps its parts there too.
        import io
        big = os.urandom(scaled(12 * MiB, 11 * MiB))
        s3.upload_fileobj(io.BytesIO(big), 'src', 'mp.bin')
        wait_for(lambda: m3.head_object(Bucket='moto-dst', Key='mp.bin'),
                 what='the multipart object at moto')
        self.assertEqual(m3.get_object(Bucket='moto-dst', Key='mp.bin')
                         ['Body'].read(), big)
        self.assertEqual(m3.head_object(Bucket='moto-dst', Key='mp.bin')
                         ['ETag'], s3.head_object(Bucket='src',
                                                  Key='mp.bin')['ETag'])
