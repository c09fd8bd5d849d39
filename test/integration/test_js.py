"""The JavaScript clients with their default settings: the AWS SDK for
JavaScript v3 (aws-chunked bodies with CRC32 trailers, lib-storage
multipart, presigned URLs) and minio-js (signed payloads, multipart
streams, bucket policies), each driving test/js/clients.mjs against the real
binary. test/deps.sh installs them (npm ci in test/js)."""

import os
import subprocess
import unittest

from harness import S3gwTestCase, clean_env, unique_name

HERE = os.path.dirname(os.path.abspath(__file__))
JS = os.path.join(os.path.dirname(HERE), 'js')


class JsClientTest(S3gwTestCase):

    def run_js(self, which):
        ak, sk = self.server.users['admin'][:2]
        env = clean_env(S3GW_URL=self.server.url, S3GW_REGION=self.server.region,
                        S3GW_AK=ak, S3GW_SK=sk,
                        S3GW_PREFIX=unique_name('js-' + which),
                        NODE_NO_WARNINGS='1')
        self.assertTrue(os.path.isdir(os.path.join(JS, 'node_modules')),
                        'test/js/node_modules is missing: run test/deps.sh')
        proc = subprocess.run(['node', os.path.join(JS, 'clients.mjs'), which],
                              env=env, capture_output=True, text=True,
                              timeout=300, cwd=JS)
        lines = proc.stdout.splitlines()
        self.assertEqual(proc.returncode, 0,
                         'stdout:\n%s\nstderr:\n%s' % (proc.stdout[-4000:],
                                                       proc.stderr[-2000:]))
        self.assertEqual(lines[-1], 'done ' + which)
        return [l[3:] for l in lines if l.startswith('ok ')]

    def test_aws_sdk_v3(self):
        done = self.run_js('sdk')
        self.assertIn('multipart upload (lib-storage)', done)
        self.assertIn('bucket policy and ACL', done)
        self.assertEqual(len(done), 11, done)

    def test_minio_js(self):
        done = self.run_js('minio')
        self.assertIn('multipart put of a stream', done)
        self.assertIn('bucket policy', done)
        self.assertEqual(len(done), 10, done)


if __name__ == '__main__':
    unittest.main()
