"""Bucket replication at work: a source s3gw pushes the objects its rules
match to another s3gw and to moto_server over signed HTTP, or copies them
into a bucket of its own; deletes follow when DeleteMarkerReplication says
so; a destination that is down delays the queue, which drains when it is
back, even across a kill -9 of the source; a destination that refuses the
keys marks the change failed, with the reason in the log.

Over https: a destination s3gw behind nginx (nginx-light) with a
certificate made by the openssl CLI for this run, trusted through the
target's ca_file; without it (the system store) the certificate is refused
and named in the log, and tls_verify off sends anyway.

A 1 GiB object (128 MiB under ASan), sent whole or as boto3's 8 MiB parts,
arrives with the source's bytes and ETag while the source's memory stays
under 64 MiB (asserted on a normal build, printed as a figure always).
3000 changes (500 under ASan) queued while the destination is down, a
kill -9 of the source, 300 more after its restart: every one arrives, and
the drain's duration is printed."""

import hashlib
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

from harness import (KEEP_TMP, SANITIZE, MiB, ClientError, PatternReader,
                     S3gwTestCase, Server, clean_env, figure, free_port,
                     port_open, scaled, stream_sha256, unique_name)

ROLE = 'arn:aws:iam::123456789012:role/replication'
NGINX = shutil.which('nginx') or '/usr/sbin/nginx'

# The README's "Behind nginx" settings, behind an https listener.
TLS_PROXY_CONF = '''
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
        listen 127.0.0.1:%(port)d ssl;
        ssl_certificate %(cert)s;
        ssl_certificate_key %(key)s;
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
        }
    }
}
'''


def target(name, url, bucket, ak='AKADMIN', sk='SECRETADMIN', more=''):
    """A replication_target block; more: further directives of it."""
    return ('replication_target %s { endpoint %s; access_key %s; '
            'secret_key %s; region us-east-1; buckets %s; %s}\n'
            % (name, url, ak, sk, bucket, more))


def self_signed(d, name='cert'):
    """A fresh self-signed P-256 certificate for localhost and 127.0.0.1,
    made by the openssl CLI in d; returns (cert path, key path)."""
    cert, key = os.path.join(d, name + '.pem'), os.path.join(d, name + '.key')
    subprocess.run(
        ['openssl', 'req', '-x509', '-newkey', 'ec', '-pkeyopt',
         'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
         '-subj', '/CN=localhost',
         '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
         '-keyout', key, '-out', cert],
        check=True, capture_output=True, timeout=60)
    return cert, key


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


def wait_for(fn, timeout=30.0, what='condition', server=None):
    """Polls fn until it returns something true (a ClientError counts as
    false); fails after timeout, with the tail of server's log if given."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            v = fn()
            if v:
                return v
        except ClientError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError('timed out waiting for %s%s' % (
                what, '\n' + server.log_tail() if server else ''))
        time.sleep(0.1)


def reset_hwm(srv):
    """Sets the server's VmHWM back to its VmRSS (clear_refs 5, Linux 4.0
    and later), so that VmHWM then says the peak of what follows. False
    when the kernel does not let us: VmHWM then counts from the start."""
    try:
        with open('/proc/%d/clear_refs' % srv.pid, 'w') as f:
            f.write('5')
        return True
    except OSError:
        return False


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

    def tls_destination(self, dest_bucket='dst'):
        """A destination s3gw with dest_bucket behind nginx, which serves
        https on a free 127.0.0.1 port with a certificate made now and
        stops at cleanup; returns (dst, dst client, https URL, the
        certificate's path)."""
        dst = self.start_server(conf={'trusted_proxy': '127.0.0.1'})
        d3 = dst.boto3_client()
        d3.create_bucket(Bucket=dest_bucket)
        ndir = tempfile.mkdtemp(prefix='s3gw-tls-')
        if not KEEP_TMP:
            self.addCleanup(shutil.rmtree, ndir, ignore_errors=True)
        cert, key = self_signed(ndir)
        port = free_port()
        conf = os.path.join(ndir, 'nginx.conf')
        with open(conf, 'w') as f:
            f.write(TLS_PROXY_CONF % {'dir': ndir, 'port': port, 'cert': cert,
                                      'key': key, 'upstream': dst.port})
        nginx = subprocess.Popen([NGINX, '-p', ndir, '-c', conf,
                                  '-g', 'daemon off;'],
                                 stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)

        def stop():
            nginx.send_signal(signal.SIGQUIT)
            nginx.wait(timeout=30)
        self.addCleanup(stop)
        deadline = time.monotonic() + 20
        while not port_open(port):
            if nginx.poll() is not None or time.monotonic() > deadline:
                with open(os.path.join(ndir, 'error.log')) as f:
                    raise AssertionError('nginx did not listen:\n' + f.read())
            time.sleep(0.05)
        return dst, d3, 'https://127.0.0.1:%d' % port, cert

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
        # The checksum travels with the object: the one the client gave,
        # and s3gw's own CRC64NVME of a body sent without one.
        s3.put_object(Bucket='src', Key='ck-sha', Body=b'sum me',
                      ChecksumAlgorithm='SHA256')
        src.signed('PUT', '/src/ck-crc', body=b'no checksum given',
                   headers={'Content-Length': '17'})
        for key, h in (('ck-sha', 'x-amz-checksum-sha256'),
                       ('ck-crc', 'x-amz-checksum-crc64nvme')):
            wait_for(lambda: d3.head_object(Bucket='dst', Key=key), what=key)
            want = src.signed('HEAD', '/src/' + key, headers={
                'x-amz-checksum-mode': 'ENABLED'}).header(h)
            got = dst.signed('HEAD', '/dst/' + key, headers={
                'x-amz-checksum-mode': 'ENABLED'}).header(h)
            self.assertTrue(want)
            self.assertEqual(got, want, key)
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
            Bucket='dst')['Contents']], ['ck-crc', 'ck-sha',
                                         'dir/big key+é.bin'])

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

    BIG = scaled(1024 * MiB, 128 * MiB)
    HWM_LIMIT_KIB = 64 * 1024

    def push_big(self, upload):
        """A BIG object written to the source by upload(s3, bucket, key,
        body), pushed to a destination s3gw: the replica's bytes, length
        and ETag are the source's, and the source's peak memory while it
        pushes stays under HWM_LIMIT_KIB. Returns the replica's ETag."""
        free = shutil.disk_usage(tempfile.gettempdir()).free
        if free < 2.5 * self.BIG + 512 * MiB:
            self.skipTest('only %d MiB free for two copies of %d MiB'
                          % (free // MiB, self.BIG // MiB))
        src, dst, s3, d3 = self.pair()
        s3.create_bucket(Bucket='src')
        self.replicate(s3, 'src', rule('dst'))
        body = PatternReader(self.BIG, seed=1024)
        want = body.digest()
        t0 = time.monotonic()
        upload(s3, 'src', 'big', body)
        up_s = time.monotonic() - t0
        after_upload = src.rss_kib()
        # The push began at the commit; its peak from here on is what the
        # limit is about (the upload's own peak is printed beside it).
        fresh = reset_hwm(src)
        t0 = time.monotonic()
        wait_for(lambda: s3.head_object(Bucket='src', Key='big').get(
            'ReplicationStatus') in ('COMPLETED', 'FAILED'),
            timeout=scaled(400, 300), what='the push', server=src)
        push_s = time.monotonic() - t0
        mem = src.rss_kib()
        dmem = dst.rss_kib()
        self.assertEqual(s3.head_object(Bucket='src', Key='big')
                         ['ReplicationStatus'], 'COMPLETED', src.log_tail())
        a = s3.head_object(Bucket='src', Key='big')
        b = d3.get_object(Bucket='dst', Key='big')
        self.assertEqual(b['ContentLength'], self.BIG)
        self.assertEqual(b['ETag'], a['ETag'])
        self.assertEqual(stream_sha256(b['Body']), (want, self.BIG))
        mib = self.BIG // MiB
        figure('replication of %d MiB (%s): upload %.1f s, push %.1f s, '
               '%.1f MB/s' % (mib, a['ETag'], up_s, push_s,
                              self.BIG / 1e6 / push_s))
        figure('source VmHWM %s the push %d KiB (after the upload: VmHWM '
               '%d KiB), VmRSS %d KiB; destination VmHWM %d KiB'
               % ('during' if fresh else 'since start, through',
                  mem['VmHWM'], after_upload['VmHWM'], mem['VmRSS'],
                  dmem['VmHWM']))
        if not SANITIZE:
            self.assertLess(mem['VmHWM'], self.HWM_LIMIT_KIB,
                            'the source held the object in memory')
        return b['ETag']

    def test_1gib_object_in_bounded_memory(self):
        def put(s3, bucket, key, body):
            s3.put_object(Bucket=bucket, Key=key, Body=body)
        etag = self.push_big(put)
        self.assertNotIn('-', etag)

    def test_1gib_multipart_object_keeps_its_etag(self):
        # boto3's defaults: 8 MiB parts, several at once. The replica is
        # made of the same parts, so its ETag is the source's "md5-N".
        def upload(s3, bucket, key, body):
            s3.upload_fileobj(body, bucket, key)
        etag = self.push_big(upload)
        self.assertTrue(etag.endswith('-%d"' % -(-self.BIG // (8 * MiB))),
                        etag)

    def test_thousands_queued_drain_after_kill9(self):
        # Thousands of changes wait in the outbox while the destination is
        # down, across a kill -9 of the source; all of them arrive, each
        # with its own bytes, once the destination is back.
        src, dst, s3, d3 = self.pair()
        s3.create_bucket(Bucket='src')
        self.replicate(s3, 'src', rule('dst'))
        dst.stop()
        n = scaled(3000, 500)

        def body(i):
            # One in ten is past inline_max: a chunk file to read.
            b = b'object %05d ' % i
            return b * (6000 // len(b)) if i % 10 == 0 else b

        def put(i):
            s3.put_object(Bucket='src', Key='q/%05d' % i, Body=body(i))
        t0 = time.monotonic()
        with ThreadPoolExecutor(8) as ex:
            list(ex.map(put, range(n)))
        figure('%d PUTs queued for a destination that is down: %.1f s'
               % (n, time.monotonic() - t0))
        self.assertEqual(s3.head_object(Bucket='src', Key='q/00000')
                         ['ReplicationStatus'], 'PENDING')
        time.sleep(1.0)                 # failed tries, backing off
        src.kill9()
        src.start()
        s3 = src.boto3_client()
        # The restarted source queues more behind the backlog: new entries
        # must not take the places of the old ones.
        more = scaled(300, 100)
        with ThreadPoolExecutor(8) as ex:
            list(ex.map(put, range(n, n + more)))
        n += more
        t0 = time.monotonic()
        dst.start()
        d3 = dst.boto3_client()
        first = []

        def listing():
            pages = d3.get_paginator('list_objects_v2').paginate(
                Bucket='dst')
            got = {o['Key']: o['ETag'] for p in pages
                   for o in p.get('Contents', [])}
            if got and not first:
                first.append(time.monotonic() - t0)
            return got
        wait_for(lambda: len(listing()) == n, timeout=180,
                 what='the backlog', server=src)
        drain_s = time.monotonic() - t0
        figure('%d queued changes (%d of them before a kill -9) drained '
               '%.1f s after the destination came back (first arrival after '
               '%.1f s): %.0f objects/s'
               % (n, n - more, drain_s, first[0], n / drain_s))
        got = listing()
        self.assertEqual(got, {'q/%05d' % i: '"%s"' % hashlib.md5(
            body(i)).hexdigest() for i in range(n)})
        for i in random.Random(3).sample(range(n), 20):
            key = 'q/%05d' % i
            self.assertEqual(d3.get_object(Bucket='dst', Key=key)
                             ['Body'].read(), body(i), key)
            wait_for(lambda: s3.head_object(Bucket='src', Key=key).get(
                'ReplicationStatus') == 'COMPLETED', what='COMPLETED')

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

    def test_https_destination_with_its_ca_file(self):
        # s3gw -> nginx (https, the certificate of this run) -> s3gw; the
        # target trusts that one certificate through ca_file.
        dst, d3, url, cert = self.tls_destination()
        src = self.start_server(extra=target('dst', url, 'dst',
                                             more='ca_file %s; ' % cert))
        s3 = src.boto3_client()
        s3.create_bucket(Bucket='src')
        self.replicate(s3, 'src', rule('dst'))
        s3.put_object(Bucket='src', Key='small', Body=b'over tls',
                      ContentType='text/plain', Metadata={'a': 'b'})
        # Three chunk files, streamed through the session.
        s3.put_object(Bucket='src', Key='chunks.bin',
                      Body=PatternReader(10 * MiB + 12345, seed=11))
        up = s3.create_multipart_upload(Bucket='src', Key='mp.bin')
        parts = []
        for i, n in enumerate((5 * MiB, 2 * MiB + 1), 1):
            r = s3.upload_part(Bucket='src', Key='mp.bin', PartNumber=i,
                               UploadId=up['UploadId'],
                               Body=PatternReader(n, seed=20 + i).read())
            parts.append({'PartNumber': i, 'ETag': r['ETag']})
        s3.complete_multipart_upload(Bucket='src', Key='mp.bin',
                                     UploadId=up['UploadId'],
                                     MultipartUpload={'Parts': parts})
        for key in ('small', 'chunks.bin', 'mp.bin'):
            wait_for(lambda: s3.head_object(Bucket='src', Key=key).get(
                'ReplicationStatus') in ('COMPLETED', 'FAILED'),
                what='%s settled' % key, server=src)
            self.assertEqual(s3.head_object(Bucket='src', Key=key)
                             ['ReplicationStatus'], 'COMPLETED',
                             src.log_tail())
            self.assertSameObject(s3, 'src', d3, 'dst', key)
        self.assertTrue(d3.head_object(Bucket='dst', Key='mp.bin')['ETag']
                        .endswith('-2"'))
        s3.delete_object(Bucket='src', Key='small')
        wait_for(lambda: 'Contents' not in d3.list_objects_v2(
            Bucket='dst', Prefix='small'), what='the delete')
        self.assertNotIn('certificate', src.stderr_text())

    def test_https_destination_unknown_certificate(self):
        # No ca_file: the system store, which does not know this run's
        # self-signed certificate. The change waits, the log says why.
        dst, d3, url, cert = self.tls_destination()
        src = self.start_server(extra=target('dst', url, 'dst'))
        s3 = src.boto3_client()
        s3.create_bucket(Bucket='src')
        self.replicate(s3, 'src', rule('dst'))
        s3.put_object(Bucket='src', Key='k', Body=b'not yet')
        wait_for(lambda: [l for l in src.stderr_text().splitlines()
                          if 'src/k -> dst' in l and
                          'certificate verify failed' in l],
                 what='the verification failure in the log', server=src)
        line = [l for l in src.stderr_text().splitlines()
                if 'certificate verify failed' in l][0]
        self.assertIn('self-signed certificate', line)
        self.assertNotEqual(s3.head_object(Bucket='src', Key='k')
                            ['ReplicationStatus'], 'COMPLETED')
        self.assertNotIn('Contents', d3.list_objects_v2(Bucket='dst'))
        # tls_verify off: the queued change goes through once the source
        # runs with it, and so do new ones.
        src.extra = target('dst', url, 'dst', more='tls_verify off; ')
        src.write_conf()
        src.restart()
        s3 = src.boto3_client()
        s3.put_object(Bucket='src', Key='k2', Body=b'unverified')
        for key in ('k', 'k2'):
            wait_for(lambda: d3.head_object(Bucket='dst', Key=key), what=key,
                     server=src)
            self.assertSameObject(s3, 'src', d3, 'dst', key)


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
