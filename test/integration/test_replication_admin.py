"""The replication queue from the command line: `s3gw replication list`
shows every change waiting for a destination (pending or failed, with the
reason), `s3gw replication retry` makes failed changes pending again; both
run on the data_dir of the config while the server runs, and opening the
store from another process disturbs nothing of the server's (its temp
files, its chunks not yet committed, an upload in flight). The pusher says
how deep the queue is in the log. Errors (no store, a newer store format,
a wrong command) exit 1 with a message and change nothing."""

import hashlib
import os
import re
import subprocess

from harness import (BIN, MiB, ClientError, Lmdb, PatternReader,
                     S3gwTestCase, clean_env, free_port, s3_quote, scaled)
from test_replication import ROLE, rule, target, wait_for

ISO = re.compile(r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$')
HEADER = ['bucket', 'key', 'destination', 'change', 'state', 'attempts',
          'next_try', 'queued', 'error']
SANITIZER = re.compile(r'Sanitizer|runtime error:')
EVIL = 'evil\x1b[2J\nkey'             # a key that would clear a terminal
EVIL_SHOWN = 'evil\\x1b[2J\\x0akey'
STORE_FORMAT = 4


def admin(srv, *args, conf=None):
    """Runs `s3gw -c CONF replication ARGS...`; returns (exit status,
    stdout, stderr) as text. Its stderr must carry no sanitizer report."""
    p = subprocess.run([BIN, '-c', conf or srv.conf_path] + list(args),
                       stdin=subprocess.DEVNULL, capture_output=True,
                       env=clean_env(), timeout=60, cwd=srv.dir)
    out = p.stdout.decode('utf-8', 'replace')
    err = p.stderr.decode('utf-8', 'replace')
    assert not SANITIZER.search(err), err
    return p.returncode, out, err


def listing(srv, bucket=None):
    """`replication list [bucket]`: (rows as lists of fields, summary)."""
    rc, out, err = admin(srv, 'replication', 'list',
                         *([bucket] if bucket else []))
    assert rc == 0, (rc, out, err)
    lines = out.split('\n')
    assert lines[-1] == '', out               # ends with a newline
    assert lines[0].split('\t') == HEADER, out
    rows = [l.split('\t') for l in lines[1:-2]]
    for r in rows:
        assert len(r) == len(HEADER), r
    return rows, lines[-2]


def row_of(rows, key):
    found = [r for r in rows if r[1] == key]
    assert len(found) == 1, (key, rows)
    return dict(zip(HEADER, found[0]))


def meta_record(store_format):
    """The meta record (store.h): format 1, field 1 = u32 store format."""
    return (bytes([1, 1, 4, 0, 0, 0]) + store_format.to_bytes(4, 'little')
            + bytes([0]))


class ReplicationAdminTest(S3gwTestCase):

    shared_server = False

    def test_failed_listed_then_retried(self):
        # A source whose target has the wrong secret: every change fails
        # with 403 and waits, failed, for an admin.
        dst = self.start_server()
        d3 = dst.boto3_client()
        d3.create_bucket(Bucket='dst')
        src = self.start_server(extra=target('dst', dst.url, 'dst',
                                             sk='WRONG-SECRET'))
        s3 = src.boto3_client()
        for b in ('src', 'src2'):
            s3.create_bucket(Bucket=b)
            s3.put_bucket_replication(Bucket=b, ReplicationConfiguration={
                'Role': ROLE, 'Rules': [rule('dst')]})
        s3.put_object(Bucket='src', Key='k', Body=b'one')
        s3.put_object(Bucket='src', Key=EVIL, Body=b'two')
        s3.put_object(Bucket='src', Key='gone', Body=b'three')
        s3.delete_object(Bucket='src', Key='gone')
        s3.put_object(Bucket='src2', Key='k2', Body=b'four')

        # Listed while the server runs, as the pusher settles them.
        wait_for(lambda: listing(src)[1] == '0 pending, 4 failed',
                 what='four failed changes in the list')
        rows, summary = listing(src)
        self.assertEqual(len(rows), 4, rows)
        for key, change in (('k', 'put'), (EVIL_SHOWN, 'put'),
                            ('gone', 'delete')):
            r = row_of(rows, key)
            self.assertEqual((r['bucket'], r['destination'], r['change'],
                              r['state'], r['next_try']),
                             ('src', 'dst', change, 'failed', '-'), r)
            self.assertGreaterEqual(int(r['attempts']), 1, r)
            self.assertRegex(r['queued'], ISO)
            self.assertIn('403 SignatureDoesNotMatch', r['error'])
        self.assertEqual(row_of(rows, 'k2')['bucket'], 'src2')
        # The key's control bytes are escaped: nothing reaches a terminal
        # raw, and the line and its columns stay whole.
        rc, out, _ = admin(src, 'replication', 'list')
        self.assertNotIn('\x1b', out)
        self.assertIn(EVIL_SHOWN, out)
        rows, summary = listing(src, 'src')
        self.assertEqual(summary, '0 pending, 3 failed in bucket src')
        self.assertEqual(sorted(r[1] for r in rows),
                         sorted(['k', EVIL_SHOWN, 'gone']))
        rc, out, err = admin(src, 'replication', 'list', 'nosuch')
        self.assertEqual(rc, 0, err)
        self.assertTrue(out.endswith('\n0 pending, 0 failed in bucket '
                                     'nosuch\n'), out)
        self.assertIn('no bucket "nosuch"', err)
        self.assertEqual(s3.head_object(Bucket='src', Key='k')
                         ['ReplicationStatus'], 'FAILED')

        # The right keys, and a restart: failed changes stay failed (they
        # are never retried on their own), and the log says how many wait.
        src.extra = target('dst', dst.url, 'dst')
        src.write_conf()
        src.restart()
        wait_for(lambda: 'replication: queue: 0 pending, 4 failed'
                 in src.stderr_text(), what='the queue depth in the log')
        self.assertEqual(listing(src)[1], '0 pending, 4 failed')
        with self.assertRaises(ClientError):
            d3.head_object(Bucket='dst', Key='k')

        # Retry one bucket: its changes are delivered, the other's wait.
        rc, out, err = admin(src, 'replication', 'retry', 'src')
        self.assertEqual((rc, out), (0, '3 failed changes queued again in '
                                        'bucket src\n'), err)
        for key in ('k', EVIL):
            wait_for(lambda: d3.head_object(Bucket='dst', Key=key),
                     what='%r at the destination' % key)
        wait_for(lambda: listing(src)[1] == '0 pending, 1 failed',
                 what='the retried changes leaving the queue')
        self.assertEqual(d3.get_object(Bucket='dst', Key=EVIL)['Body']
                         .read(), b'two')
        self.assertEqual([r[1] for r in listing(src)[0]], ['k2'])
        wait_for(lambda: s3.head_object(Bucket='src', Key='k').get(
            'ReplicationStatus') == 'COMPLETED', what='COMPLETED')
        with self.assertRaises(ClientError):
            d3.head_object(Bucket='dst', Key='k2')

        # Retry the rest: nothing is left.
        rc, out, err = admin(src, 'replication', 'retry')
        self.assertEqual((rc, out), (0, '1 failed change queued again\n'),
                         err)
        wait_for(lambda: d3.head_object(Bucket='dst', Key='k2'),
                 what='k2 at the destination')
        wait_for(lambda: listing(src) == ([], '0 pending, 0 failed'),
                 what='an empty queue')
        rc, out, err = admin(src, 'replication', 'retry')
        self.assertEqual((rc, out), (0, '0 failed changes queued again\n'),
                         err)
        self.assertEqual(sorted(o['Key'] for o in d3.list_objects_v2(
            Bucket='dst')['Contents']), sorted(['k', EVIL, 'k2']))

    def test_no_disturbance_during_an_upload(self):
        # A destination that is down: changes wait, pending, with backoff.
        dead = 'http://127.0.0.1:%d' % free_port()
        srv = self.start_server(extra=target('down', dead, 'dst'))
        s3 = srv.boto3_client()
        s3.create_bucket(Bucket='src')
        s3.put_bucket_replication(Bucket='src', ReplicationConfiguration={
            'Role': ROLE, 'Rules': [rule('dst')]})
        s3.put_object(Bucket='src', Key='before', Body=b'x')
        wait_for(lambda: int(row_of(listing(srv)[0], 'before')['attempts'])
                 >= 1, what='a failed try')
        r = row_of(listing(srv)[0], 'before')
        self.assertEqual((r['change'], r['state']), ('put', 'pending'), r)
        self.assertRegex(r['next_try'], ISO)
        self.assertRegex(r['queued'], ISO)
        self.assertNotEqual(r['error'], '-')

        # An upload stopped halfway: its first chunk is renamed into
        # place but not committed (no reference in the index), the second
        # is a temp file. store_open would sweep the one and queue the
        # other for collection; the admin commands must not.
        size = scaled(12 * MiB, 9 * MiB)
        body = PatternReader(size, seed=3).read()
        half = 6 * MiB
        chunk1 = hashlib.sha256(body[:4 * MiB]).hexdigest()
        chunk1_path = os.path.join(srv.data_dir, 'chunks', chunk1[:2], chunk1)
        path = '/src/%s' % s3_quote('big upload')
        hdrs = srv.sign('PUT', path, payload_hash='UNSIGNED-PAYLOAD')
        hdrs.append(('Content-Length', str(size)))
        with srv.conn(timeout=60) as c:
            c.request('PUT', path, hdrs)
            c.send(body[:half])
            wait_for(lambda: os.path.exists(chunk1_path)
                     and srv.tmp_files(), what='the upload halfway')
            tmp_before = srv.tmp_files()
            for args in (('list',), ('list', 'src'), ('retry',),
                         ('retry', 'src'), ('list',)):
                rc, out, err = admin(srv, 'replication', *args)
                self.assertEqual(rc, 0, (args, out, err))
            self.assertEqual(srv.tmp_files(), tmp_before)
            self.assertTrue(os.path.exists(chunk1_path))
            db = Lmdb(os.path.join(srv.data_dir, 'index'))
            try:
                with self.assertRaises(OSError) as cm:
                    db.get('gcq', bytes.fromhex(chunk1))
                self.assertEqual(cm.exception.errno, -30798)  # NOTFOUND
            finally:
                db.close()
            c.send(body[half:])
            resp = c.read_response('PUT')
        self.assertEqual(resp.status, 200, resp)
        got = s3.get_object(Bucket='src', Key='big upload')['Body'].read()
        self.assertEqual(hashlib.sha256(got).hexdigest(),
                         hashlib.sha256(body).hexdigest())
        self.assertEqual(row_of(listing(srv)[0], 'big upload')['state'],
                         'pending')
        srv.check_logs()

    def test_errors(self):
        srv = self.start_server()
        s3 = srv.boto3_client()
        s3.create_bucket(Bucket='bkt')
        srv.stop()

        # Usage mistakes: exit 1, the usage on stderr.
        for args in (('replication',), ('replication', 'frob'),
                     ('replication', 'list', 'a', 'b'), ('frob',),
                     ('-t', 'replication', 'list')):
            rc, out, err = admin(srv, *args)
            self.assertEqual(rc, 1, args)
            self.assertIn('replication list [BUCKET]', err)
        rc, out, err = admin(srv, 'replication', 'retry', 'x' * 64)
        self.assertEqual(rc, 1)
        self.assertIn('is not a bucket name', err)

        # No store in data_dir: nothing is created there.
        empty = os.path.join(srv.dir, 'empty')
        os.makedirs(empty)
        conf = os.path.join(srv.dir, 'empty.conf')
        with open(conf, 'w') as f:
            f.write(srv.conf_text().replace(srv.data_dir, empty))
        for verb in ('list', 'retry'):
            rc, out, err = admin(srv, 'replication', verb, conf=conf)
            self.assertEqual((rc, out), (1, ''), err)
            self.assertIn('replication %s: no store in data_dir "%s"'
                          % (verb, empty), err)
        self.assertEqual(os.listdir(empty), [])

        # A store of a newer format: refused, named, unchanged.
        db = Lmdb(os.path.join(srv.data_dir, 'index'))
        try:
            db.put('meta', b'format', meta_record(STORE_FORMAT + 1))
        finally:
            db.close()
        for verb in ('list', 'retry'):
            rc, out, err = admin(srv, 'replication', verb)
            self.assertEqual((rc, out), (1, ''), err)
            self.assertIn('store format 5, newer than store format 4', err)
        db = Lmdb(os.path.join(srv.data_dir, 'index'))
        try:
            self.assertEqual(db.get('meta', b'format'),
                             meta_record(STORE_FORMAT + 1))
        finally:
            db.close()
        db = Lmdb(os.path.join(srv.data_dir, 'index'))
        try:
            db.put('meta', b'format', meta_record(STORE_FORMAT))
        finally:
            db.close()
        # And the same store, readable again: an empty queue.
        self.assertEqual(listing(srv), ([], '0 pending, 0 failed'))
