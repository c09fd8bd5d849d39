"""Real clients with their default settings: the aws CLI (s3 and s3api; v1
from the default python3 and Debian's v2), s3cmd and rclone, each driven as
a user would."""

import filecmp
import json
import os
import shutil
import subprocess
import tempfile
import unittest

from harness import S3gwTestCase, clean_env, etag_of, unique_name


class _ClientBase(S3gwTestCase):

    AWS = 'aws'

    def aws(self, *args, **kw):
        return self.server.aws(*args, binary=self.AWS, **kw)

    def setUp(self):
        super().setUp()
        self.work = tempfile.mkdtemp(prefix='s3gw-client-')
        self.addCleanup(shutil.rmtree, self.work, ignore_errors=True)

    def file(self, name, data):
        path = os.path.join(self.work, name)
        with open(path, 'wb') as f:
            f.write(data)
        return path

    def ok(self, proc):
        self.assertEqual(proc.returncode, 0,
                         'exit %d\nstdout: %s\nstderr: %s'
                         % (proc.returncode, proc.stdout[-2000:],
                            proc.stderr[-2000:]))
        return proc.stdout



class AwsCliTest(_ClientBase):

    # --- aws CLI ------------------------------------------------------------

    def test_aws_cli_s3(self):
        aws = self.aws
        bucket = unique_name('awscli')
        self.ok(aws('s3', 'mb', 's3://' + bucket))
        self.assertIn(bucket, self.ok(aws('s3', 'ls')))

        small = self.file('small.txt', b'hello from the aws cli\n')
        big_data = os.urandom(9 * 1024 * 1024 + 17)
        big = self.file('big.bin', big_data)
        self.ok(aws('s3', 'cp', small, 's3://%s/dir/small.txt' % bucket))
        self.ok(aws('s3', 'cp', big, 's3://%s/dir/big.bin' % bucket))

        out = self.ok(aws('s3', 'ls', 's3://%s/' % bucket))
        self.assertIn('PRE dir/', out)
        out = self.ok(aws('s3', 'ls', '--recursive', 's3://%s' % bucket))
        self.assertIn('dir/small.txt', out)
        self.assertIn('dir/big.bin', out)
        self.assertIn(str(len(big_data)), out)

        down = os.path.join(self.work, 'down.bin')
        self.ok(aws('s3', 'cp', 's3://%s/dir/big.bin' % bucket, down))
        self.assertTrue(filecmp.cmp(big, down, shallow=False))
        down_small = os.path.join(self.work, 'down.txt')
        self.ok(aws('s3', 'cp', 's3://%s/dir/small.txt' % bucket, down_small))
        self.assertTrue(filecmp.cmp(small, down_small, shallow=False))

        # Streamed from stdin and to stdout.
        self.ok(aws('s3', 'cp', '-', 's3://%s/stdin.txt' % bucket,
                    input='piped text\n'))
        self.assertEqual(self.ok(aws('s3', 'cp', 's3://%s/stdin.txt' % bucket,
                                     '-')), 'piped text\n')

        # Sync a directory up and back.
        tree = os.path.join(self.work, 'tree')
        os.makedirs(os.path.join(tree, 'sub'))
        for name in ('a.txt', 'sub/b.txt', 'sub/c d.txt'):
            with open(os.path.join(tree, name), 'w') as f:
                f.write(name * 10)
        self.ok(aws('s3', 'sync', tree, 's3://%s/tree' % bucket))
        back = os.path.join(self.work, 'back')
        self.ok(aws('s3', 'sync', 's3://%s/tree' % bucket, back))
        for name in ('a.txt', 'sub/b.txt', 'sub/c d.txt'):
            self.assertTrue(filecmp.cmp(os.path.join(tree, name),
                                        os.path.join(back, name),
                                        shallow=False), name)

        self.ok(aws('s3', 'rm', 's3://%s/dir/small.txt' % bucket))
        out = self.ok(aws('s3', 'ls', '--recursive', 's3://%s' % bucket))
        self.assertNotIn('dir/small.txt', out)

        proc = aws('s3', 'rb', 's3://' + bucket)
        self.assertNotEqual(proc.returncode, 0, 'rb of a non-empty bucket')
        self.ok(aws('s3', 'rm', '--recursive', 's3://%s' % bucket))
        self.ok(aws('s3', 'rb', 's3://' + bucket))
        self.assertNotIn(bucket, self.ok(aws('s3', 'ls')))

    def test_aws_cli_s3api(self):
        aws = self.aws
        bucket = unique_name('s3api')
        self.ok(aws('s3api', 'create-bucket', '--bucket', bucket))
        self.ok(aws('s3api', 'head-bucket', '--bucket', bucket))
        data = os.urandom(100000)
        src = self.file('body.bin', data)
        out = json.loads(self.ok(aws(
            's3api', 'put-object', '--bucket', bucket, '--key', 'k/obj.bin',
            '--body', src, '--content-type', 'application/x-test',
            '--metadata', 'color=green,size=big')))
        self.assertEqual(out['ETag'], etag_of(data))

        dst = os.path.join(self.work, 'out.bin')
        out = json.loads(self.ok(aws('s3api', 'get-object', '--bucket', bucket,
                                     '--key', 'k/obj.bin', dst)))
        self.assertEqual(out['ContentLength'], len(data))
        self.assertEqual(out['ContentType'], 'application/x-test')
        self.assertEqual(out['Metadata'], {'color': 'green', 'size': 'big'})
        with open(dst, 'rb') as f:
            self.assertEqual(f.read(), data)

        out = json.loads(self.ok(aws('s3api', 'get-object', '--bucket', bucket,
                                     '--key', 'k/obj.bin', '--range',
                                     'bytes=10-19', dst)))
        self.assertEqual(out['ContentRange'], 'bytes 10-19/%d' % len(data))
        with open(dst, 'rb') as f:
            self.assertEqual(f.read(), data[10:20])

        out = json.loads(self.ok(aws('s3api', 'head-object', '--bucket',
                                     bucket, '--key', 'k/obj.bin')))
        self.assertEqual(out['ContentLength'], len(data))
        out = json.loads(self.ok(aws('s3api', 'list-objects-v2', '--bucket',
                                     bucket)))
        self.assertEqual([o['Key'] for o in out['Contents']], ['k/obj.bin'])
        out = json.loads(self.ok(aws('s3api', 'list-objects', '--bucket',
                                     bucket)))
        self.assertEqual([o['Key'] for o in out['Contents']], ['k/obj.bin'])

        proc = aws('s3api', 'get-object', '--bucket', bucket, '--key',
                   'missing', dst)
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn('NoSuchKey', proc.stderr)

        self.ok(aws('s3api', 'delete-object', '--bucket', bucket, '--key',
                    'k/obj.bin'))
        self.ok(aws('s3api', 'delete-bucket', '--bucket', bucket))
        proc = aws('s3api', 'head-bucket', '--bucket', bucket)
        self.assertNotEqual(proc.returncode, 0)

    def test_aws_cli_bad_credentials(self):
        # A user the server does not know under these keys.
        self.server.users['mallory'] = ('AKADMIN', 'WRONGSECRET')
        self.addCleanup(self.server.users.pop, 'mallory')
        proc = self.aws('s3', 'ls', user='mallory')
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn('SignatureDoesNotMatch', proc.stderr)



class AwsCliV2Test(AwsCliTest):
    """The same with AWS CLI v2 (Debian's awscli package, /usr/bin/aws)."""

    AWS = '/usr/bin/aws'

    @classmethod
    def setUpClass(cls):
        out = subprocess.run([cls.AWS, '--version'], capture_output=True,
                             text=True, env=clean_env())
        assert out.stdout.startswith('aws-cli/2.'), \
            'no AWS CLI v2 at %s: %r (test/deps.sh installs Debian\'s ' \
            'awscli)' % (cls.AWS, out.stdout + out.stderr)
        super().setUpClass()


class ClientTest(_ClientBase):

    # --- s3cmd --------------------------------------------------------------

    def test_s3cmd(self):
        s3cmd = self.server.s3cmd
        bucket = unique_name('s3cmd')
        self.ok(s3cmd('mb', 's3://' + bucket))
        self.assertIn('s3://' + bucket, self.ok(s3cmd('ls')))

        data = os.urandom(300000)
        src = self.file('up.bin', data)
        self.ok(s3cmd('put', src, 's3://%s/path/up.bin' % bucket))
        self.ok(s3cmd('put', self.file('t.txt', b'text'),
                      's3://%s/t.txt' % bucket))

        out = self.ok(s3cmd('ls', 's3://%s' % bucket))
        self.assertIn('DIR', out)
        self.assertIn('s3://%s/path/' % bucket, out)
        self.assertIn('s3://%s/t.txt' % bucket, out)
        out = self.ok(s3cmd('ls', '--recursive', 's3://%s' % bucket))
        self.assertIn('s3://%s/path/up.bin' % bucket, out)
        self.assertIn(str(len(data)), out)

        out = self.ok(s3cmd('info', 's3://%s/path/up.bin' % bucket))
        self.assertIn('File size: %d' % len(data), out)
        self.assertIn(etag_of(data).strip('"'), out)

        dst = os.path.join(self.work, 'down.bin')
        self.ok(s3cmd('get', 's3://%s/path/up.bin' % bucket, dst))
        with open(dst, 'rb') as f:
            self.assertEqual(f.read(), data)

        proc = s3cmd('rb', 's3://' + bucket)
        self.assertNotEqual(proc.returncode, 0, 'rb of a non-empty bucket')
        self.ok(s3cmd('del', 's3://%s/path/up.bin' % bucket))
        self.ok(s3cmd('del', 's3://%s/t.txt' % bucket))
        out = self.ok(s3cmd('ls', 's3://%s' % bucket))
        self.assertEqual(out.strip(), '')
        self.ok(s3cmd('rb', 's3://' + bucket))
        self.assertNotIn('s3://' + bucket, self.ok(s3cmd('ls')))

    # --- rclone -------------------------------------------------------------

    def test_rclone(self):
        bucket = unique_name('rclone')
        self.ok(self.server.rclone('mkdir', 'gw:' + bucket))
        tree = os.path.join(self.work, 'tree')
        os.makedirs(os.path.join(tree, 'sub'))
        files = {'a.bin': os.urandom(5000), 'sub/b.bin': os.urandom(200000),
                 'sub/empty': b''}
        for name, data in files.items():
            with open(os.path.join(tree, name), 'wb') as f:
                f.write(data)
        self.ok(self.server.rclone('copy', tree, 'gw:%s/t' % bucket))
        out = self.ok(self.server.rclone('lsf', '-R', 'gw:%s/t' % bucket))
        self.assertEqual(sorted(l for l in out.splitlines()
                                if not l.endswith('/')), sorted(files))
        self.ok(self.server.rclone('check', tree, 'gw:%s/t' % bucket))
        back = os.path.join(self.work, 'back')
        self.ok(self.server.rclone('copy', 'gw:%s/t' % bucket, back))
        for name, data in files.items():
            with open(os.path.join(back, name), 'rb') as f:
                self.assertEqual(f.read(), data, name)
        self.ok(self.server.rclone('delete', 'gw:%s/t/sub/b.bin' % bucket))
        out = self.ok(self.server.rclone('lsf', '-R', 'gw:%s/t' % bucket))
        self.assertNotIn('sub/b.bin', out)
        self.ok(self.server.rclone('delete', 'gw:' + bucket))
        self.ok(self.server.rclone('rmdir', 'gw:' + bucket))
        self.assertS3Error(None, 404, self.s3.head_bucket, Bucket=bucket)


if __name__ == '__main__':
    unittest.main()
