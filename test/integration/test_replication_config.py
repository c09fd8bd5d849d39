"""Bucket replication, the configuration half: Put, Get and
DeleteBucketReplication with S3's V1 and V2 schemas; every validation error
S3 gives, sent through boto3; the digest S3 requires on the body; who may
read and change a configuration (the owner, or whom a bucket policy
grants s3:Get/PutReplicationConfiguration); destinations served by a
replication_target of the server's configuration; a configuration across
a restart and after its bucket is deleted; the AWS CLI v1. The buckets
need no versioning (s3gw has none). What replication does with it is
test_replication.py's."""

import base64
import hashlib
import json
import os
import subprocess
import uuid

from harness import BIN, S3gwTestCase, clean_env, unique_name

ROLE = 'arn:aws:iam::123456789012:role/replication'
REMOTE = 'remote-dest'          # served by the class server's target
TARGETS = '''
replication_target remote {
    endpoint https://replica.invalid:9443;
    access_key REMOTEKEY;
    secret_key remote-secret-never-shown;
    region eu-west-1;
    buckets %s remote-dest-2;
}
''' % REMOTE


def account_id(name):
    d = hashlib.sha256(b's3gw:' + name.encode()).digest()
    return ''.join(str(b % 10) for b in d[:12])


def schema_msg(what, verb):
    return ('%s %s for this version of Cross Region Replication '
            'configuration schema. Please refer to S3 Developer Guide for '
            'more information.' % (what, verb))


def arn(bucket):
    return 'arn:aws:s3:::' + bucket


def v2_rule(priority, dest, **kw):
    rule = {'Priority': priority, 'Status': 'Enabled', 'Filter': {},
            'DeleteMarkerReplication': {'Status': 'Disabled'},
            'Destination': {'Bucket': arn(dest)}}
    rule.update(kw)
    return rule


def v1_rule(prefix, dest, **kw):
    rule = {'Prefix': prefix, 'Status': 'Enabled',
            'Destination': {'Bucket': arn(dest)}}
    rule.update(kw)
    return rule


def config(*rules, role=ROLE):
    return {'Role': role, 'Rules': list(rules)}


class ReplicationConfigTest(S3gwTestCase):

    extra_conf = TARGETS

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.bob = cls.server.boto3_client('bob')
        # boto3 checks required members itself; S3's answers to documents
        # without them need a client that sends what it is given.
        cls.raw = cls.server.boto3_client(parameter_validation=False)
        cls.dest = unique_name('dest')
        cls.s3.create_bucket(Bucket=cls.dest)
        cls.dest2 = unique_name('dest2')
        cls.s3.create_bucket(Bucket=cls.dest2)

    def put(self, bucket, conf, client=None):
        return (client or self.s3).put_bucket_replication(
            Bucket=bucket, ReplicationConfiguration=conf)

    def get(self, bucket, client=None):
        r = (client or self.s3).get_bucket_replication(Bucket=bucket)
        return r['ReplicationConfiguration']

    def assertNoConfig(self, bucket):
        resp = self.assertS3Error('ReplicationConfigurationNotFoundError',
                                  404, self.s3.get_bucket_replication,
                                  Bucket=bucket)
        self.assertEqual(resp['Error']['Message'],
                         'The replication configuration was not found')
        self.assertEqual(resp['Error'].get('BucketName'), bucket)

    def assertGeneratedId(self, rule_id):
        # As S3 makes them: base64 of the text of a random UUID.
        self.assertEqual(len(rule_id), 48, rule_id)
        text = base64.b64decode(rule_id).decode()
        self.assertEqual(uuid.UUID(text).version, 4)

    # --- Round trips ------------------------------------------------------

    def test_v2_round_trip(self):
        bucket = self.new_bucket()
        self.assertNoConfig(bucket)
        rules = [
            v2_rule(1, self.dest, ID='everything',
                    DeleteMarkerReplication={'Status': 'Enabled'}),
            v2_rule(7, self.dest2, ID='logs <&>',
                    Filter={'Prefix': 'logs/\u00e9'}, Status='Disabled',
                    ExistingObjectReplication={'Status': 'Enabled'},
                    Destination={'Bucket': arn(self.dest2),
                                 'StorageClass': 'GLACIER_IR'}),
            v2_rule(3, self.dest, ID='tagged',
                    Filter={'Tag': {'Key': 'team', 'Value': 'blue'}}),
            v2_rule(2, self.dest,
                    Filter={'And': {'Prefix': 'a/', 'Tags': [
                        {'Key': 'k1', 'Value': ''},
                        {'Key': 'k2', 'Value': 'x&y'}]}},
                    Destination={'Bucket': arn(self.dest),
                                 'StorageClass': 'STANDARD'}),
        ]
        r = self.put(bucket, config(*rules))
        self.assertEqual(r['ResponseMetadata']['HTTPStatusCode'], 200)
        got = self.get(bucket)
        self.assertEqual(got['Role'], ROLE)
        self.assertEqual(len(got['Rules']), 4)
        # The rule without an ID got one, as S3 gives.
        self.assertGeneratedId(got['Rules'][3].pop('ID'))
        self.assertEqual(got['Rules'], rules)

        # Replaced whole.
        self.put(bucket, config(v2_rule(5, self.dest, ID='only')))
        self.assertEqual([r['ID'] for r in self.get(bucket)['Rules']],
                         ['only'])

        r = self.s3.delete_bucket_replication(Bucket=bucket)
        self.assertEqual(r['ResponseMetadata']['HTTPStatusCode'], 204)
        self.assertNoConfig(bucket)
        # Deleting what is not there succeeds, as in S3.
        r = self.s3.delete_bucket_replication(Bucket=bucket)
        self.assertEqual(r['ResponseMetadata']['HTTPStatusCode'], 204)

    def test_v1_round_trip(self):
        bucket = self.new_bucket()
        rules = [v1_rule('docs/', self.dest, ID='docs'),
                 v1_rule('img/', self.dest, ID='img', Status='Disabled',
                         Destination={'Bucket': arn(self.dest),
                                      'StorageClass': 'REDUCED_REDUNDANCY'})]
        self.put(bucket, config(*rules))
        got = self.get(bucket)
        self.assertEqual(got['Rules'], rules)
        for rule in got['Rules']:
            self.assertNotIn('Priority', rule)
            self.assertNotIn('Filter', rule)

        self.put(bucket, config(v1_rule('', self.dest)))
        (rule,) = self.get(bucket)['Rules']
        self.assertEqual(rule['Prefix'], '')
        self.assertGeneratedId(rule['ID'])

    def test_missing_bucket_and_methods(self):
        name = unique_name('never-made')
        for fn, kw in ((self.s3.get_bucket_replication, {}),
                       (self.s3.delete_bucket_replication, {}),
                       (self.s3.put_bucket_replication,
                        {'ReplicationConfiguration':
                         config(v2_rule(1, self.dest))})):
            self.assertS3Error('NoSuchBucket', 404, fn, Bucket=name, **kw)
        bucket = self.new_bucket()
        resp = self.server.signed('POST', '/%s?replication' % bucket)
        self.assertRawError(resp, 405, 'MethodNotAllowed')

    # --- What S3 refuses --------------------------------------------------

    def test_validation_errors(self):
        bucket = self.new_bucket()
        d = self.dest
        long_id = 'i' * 256
        long_prefix = 'p' * 1025
        cases = [
            # (configuration, status, code, message or None)
            (config(v2_rule(1, d, Priority=None)),
             400, 'InvalidRequest', schema_msg('Priority',
                                                 'must be specified')),
            (config(v2_rule(1, d, DeleteMarkerReplication=None)),
             400, 'InvalidRequest', schema_msg('DeleteMarkerReplication',
                                                 'must be specified')),
            (config(v1_rule('a', d, Priority=1)),
             400, 'InvalidRequest', schema_msg('Priority', 'cannot be used')),
            (config(v1_rule('a', d, DeleteMarkerReplication={
                'Status': 'Disabled'})),
             400, 'InvalidRequest', schema_msg('DeleteMarkerReplication',
                                                 'cannot be used')),
            (config(v1_rule('a', d), v2_rule(1, d)),
             400, 'InvalidRequest', schema_msg('Filter', 'cannot be used')),
            (config(v2_rule(1, d), v2_rule(1, d)),
             400, 'InvalidRequest', 'Found duplicate priority 1.'),
            (config(v2_rule(-1, d)),
             400, 'InvalidRequest',
             'Priority must be between 0 and 2147483647.'),
            (config(v2_rule(1, d, ID='x'), v2_rule(2, d, ID='x')),
             400, 'InvalidArgument', 'Rule Id must be unique'),
            (config(v2_rule(1, d, ID=long_id)),
             400, 'InvalidArgument', 'Rule Id cannot be greater than 255'),
            (config(v2_rule(1, d, Filter={'Prefix': long_prefix})),
             400, 'InvalidArgument', 'Rule prefix cannot be longer than '
             'maximum allowed key length of 1024'),
            (config(v2_rule(1, d, Destination={'Bucket': d})),
             400, 'InvalidArgument', 'Invalid bucket ARN'),
            (config(v2_rule(1, d, Destination={
                'Bucket': 'arn:aws:s3:::Bad_Name'})),
             400, 'InvalidArgument', 'The specified bucket is not valid.'),
            (config(v2_rule(1, bucket)),
             400, 'InvalidRequest', 'Destination bucket cannot be the same '
             'as the source bucket.'),
            (config(v2_rule(1, d, Filter={'Tag': {'Key': 'k', 'Value': 'v'}},
                            DeleteMarkerReplication={'Status': 'Enabled'})),
             400, 'InvalidRequest', 'Delete marker replication is not '
             'supported if any Tag filter is specified. Please refer to S3 '
             'Developer Guide for more information.'),
            (config(v2_rule(1, d, Filter={'And': {'Tags': [
                {'Key': 'k', 'Value': '1'}, {'Key': 'k', 'Value': '2'}]}})),
             400, 'InvalidRequest', 'Duplicate Tag Keys are not allowed.'),
            (config(v2_rule(1, d, Filter={'Tag': {'Key': 'k' * 129,
                                                  'Value': 'v'}})),
             400, 'InvalidTag',
             'The TagKey you have provided is too long, max 128'),
            (config(v1_rule('logs/', d), v1_rule('logs/2024/', d)),
             400, 'InvalidRequest',
             "Found overlapping prefixes 'logs/' and 'logs/2024/'"),
            (config(v1_rule('a', d), v1_rule('b', self.dest2)),
             400, 'InvalidRequest',
             'The destination bucket must be same for all rules'),
            (config(*[v2_rule(i, d) for i in range(1001)]),
             400, 'InvalidRequest',
             'Number of defined replication rules cannot exceed 1000'),
            (config(v2_rule(1, unique_name('nowhere'))),
             400, 'InvalidRequest', 'Destination bucket must exist.'),
            # The schema itself: MalformedXML.
            (config(v2_rule(1, d, Status='On')), 400, 'MalformedXML', None),
            (config(v2_rule(1, d, Destination={'Bucket': arn(d),
                                               'StorageClass': 'COLD'})),
             400, 'MalformedXML', None),
            (config(v2_rule(1, d, DeleteMarkerReplication={'Status': 'x'})),
             400, 'MalformedXML', None),
            (config(v2_rule(1, d, Filter={'Prefix': 'a', 'Tag': {
                'Key': 'k', 'Value': 'v'}})), 400, 'MalformedXML', None),
            (config(v2_rule(1, d, Filter={'And': {'Prefix': 'a'}})),
             400, 'MalformedXML', None),
            (config(v2_rule(1, d, Prefix='a')), 400, 'MalformedXML', None),
            (config(v2_rule(1, d, Status=None)), 400, 'MalformedXML', None),
            (config(v2_rule(1, d, Destination={})), 400, 'MalformedXML',
             None),
            ({'Rules': [v2_rule(1, d)]}, 400, 'MalformedXML', None),
            ({'Role': ROLE, 'Rules': []}, 400, 'MalformedXML', None),
            # What this server does not do: 501, naming it.
            (config(v2_rule(1, d, Destination={'Bucket': arn(d),
                                               'Account': '123456789012'})),
             501, 'NotImplemented', 'The replication configuration element '
             'Account is not implemented by this server'),
            (config(v2_rule(1, d, Destination={
                'Bucket': arn(d), 'Account': '123456789012',
                'AccessControlTranslation': {'Owner': 'Destination'}})),
             501, 'NotImplemented', 'The replication configuration element '
             'Account is not implemented by this server'),
            (config(v2_rule(1, d, Destination={
                'Bucket': arn(d),
                'AccessControlTranslation': {'Owner': 'Destination'}})),
             501, 'NotImplemented', 'The replication configuration element '
             'AccessControlTranslation is not implemented by this server'),
            (config(v2_rule(1, d, SourceSelectionCriteria={
                'SseKmsEncryptedObjects': {'Status': 'Enabled'}})),
             501, 'NotImplemented', 'The replication configuration element '
             'SourceSelectionCriteria is not implemented by this server'),
            (config(v2_rule(1, d, Destination={
                'Bucket': arn(d), 'Metrics': {'Status': 'Enabled'}})),
             501, 'NotImplemented', 'The replication configuration element '
             'Metrics is not implemented by this server'),
        ]
        # A configuration that is there stays as it was after each refusal.
        self.put(bucket, config(v2_rule(9, d, ID='kept')))
        for conf, status, code, message in cases:
            for rule in conf.get('Rules', []):
                for k in [k for k, v in rule.items() if v is None]:
                    del rule[k]
            with self.subTest(code=code, message=message):
                resp = self.assertS3Error(code, status, self.put, bucket,
                                          conf, client=self.raw)
                if message is not None:
                    self.assertEqual(resp['Error']['Message'], message)
        self.assertEqual([r['ID'] for r in self.get(bucket)['Rules']],
                         ['kept'])

    def test_body_digest_and_size(self):
        bucket = self.new_bucket()
        path = '/%s?replication' % bucket
        body = ('<ReplicationConfiguration xmlns="http://s3.amazonaws.com/'
                'doc/2006-03-01/"><Role>%s</Role><Rule><ID>raw</ID>'
                '<Priority>1</Priority><Status>Enabled</Status><Filter/>'
                '<DeleteMarkerReplication><Status>Disabled</Status>'
                '</DeleteMarkerReplication><Destination><Bucket>%s</Bucket>'
                '</Destination></Rule></ReplicationConfiguration>'
                % (ROLE, arn(self.dest))).encode()
        md5 = base64.b64encode(hashlib.md5(body).digest()).decode()
        # S3 requires Content-MD5 (or a checksum) on this body.
        resp = self.server.signed('PUT', path, body=body)
        self.assertRawError(resp, 400, 'InvalidRequest')
        self.assertEqual(resp.xml().findtext('Message'),
                         'Missing required header for this request: '
                         'Content-MD5')
        self.assertNoConfig(bucket)
        resp = self.server.signed(
            'PUT', path, body=body,
            headers={'Content-MD5': base64.b64encode(b'x' * 16).decode()})
        self.assertRawError(resp, 400, 'BadDigest')
        self.assertNoConfig(bucket)
        resp = self.server.signed('PUT', path, body=body,
                                  headers={'Content-MD5': md5})
        self.assertEqual(resp.status, 200, resp)
        self.assertEqual(self.get(bucket)['Rules'][0]['ID'], 'raw')

        # Not XML, and too long to be a configuration (over 2 MiB).
        bad = b'<ReplicationConfiguration><Role>'
        resp = self.server.signed(
            'PUT', path, body=bad,
            headers={'Content-MD5':
                     base64.b64encode(hashlib.md5(bad).digest()).decode()})
        self.assertRawError(resp, 400, 'MalformedXML')
        big = b' ' * (2 * 1024 * 1024 + 1)
        resp = self.server.signed(
            'PUT', path, body=big,
            headers={'Content-MD5':
                     base64.b64encode(hashlib.md5(big).digest()).decode()})
        self.assertRawError(resp, 400, 'MalformedXML')
        self.assertEqual(self.get(bucket)['Rules'][0]['ID'], 'raw')

    # --- Who may -------------------------------------------------------------

    def test_permissions(self):
        bucket = self.new_bucket()
        conf = config(v2_rule(1, self.dest, ID='mine'))
        self.put(bucket, conf)
        # Another account without a grant: denied, whatever it tries.
        for fn, kw in ((self.bob.get_bucket_replication, {}),
                       (self.bob.delete_bucket_replication, {}),
                       (self.bob.put_bucket_replication,
                        {'ReplicationConfiguration': conf})):
            self.assertS3Error('AccessDenied', 403, fn, Bucket=bucket, **kw)

        bob = 'arn:aws:iam::%s:user/bob' % account_id('bob')

        def grant(*actions):
            self.s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({
                'Version': '2012-10-17',
                'Statement': [{'Effect': 'Allow', 'Principal': {'AWS': bob},
                               'Action': list(actions),
                               'Resource': arn(bucket)}]}))

        # s3:GetReplicationConfiguration reads, and only reads.
        grant('s3:GetReplicationConfiguration')
        self.assertEqual(self.get(bucket, client=self.bob)['Rules'][0]['ID'],
                         'mine')
        self.assertS3Error('AccessDenied', 403, self.put, bucket,
                           config(v2_rule(2, self.dest, ID='bobs')),
                           client=self.bob)
        self.assertS3Error('AccessDenied', 403,
                           self.bob.delete_bucket_replication, Bucket=bucket)

        # s3:PutReplicationConfiguration puts, and deletes (as in S3).
        grant('s3:PutReplicationConfiguration')
        self.put(bucket, config(v2_rule(2, self.dest, ID='bobs')),
                 client=self.bob)
        self.assertEqual(self.get(bucket)['Rules'][0]['ID'], 'bobs')
        self.assertS3Error('AccessDenied', 403,
                           self.bob.get_bucket_replication, Bucket=bucket)
        self.bob.delete_bucket_replication(Bucket=bucket)
        self.assertNoConfig(bucket)

        # An explicit Deny stops even the owner.
        self.s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({
            'Version': '2012-10-17',
            'Statement': [{'Effect': 'Deny', 'Principal': '*',
                           'Action': 's3:PutReplicationConfiguration',
                           'Resource': arn(bucket)}]}))
        self.assertS3Error('AccessDenied', 403, self.put, bucket, conf)
        self.s3.delete_bucket_policy(Bucket=bucket)
        self.put(bucket, conf)

    # --- Destinations ------------------------------------------------------

    def test_destinations(self):
        bucket = self.new_bucket()
        # Served by the configured target: need not exist here.
        self.put(bucket, config(v2_rule(1, REMOTE),
                                v2_rule(2, 'remote-dest-2')))
        self.assertEqual([r['Destination']['Bucket']
                          for r in self.get(bucket)['Rules']],
                         [arn(REMOTE), arn('remote-dest-2')])
        # A bucket of this server (same-site), whoever owns it: S3 checks
        # the Role only when it replicates, and s3gw's pusher will check.
        bobs = self.new_bucket(client=self.bob, hint='bobs-dest')
        self.put(bucket, config(v2_rule(1, bobs), v2_rule(2, REMOTE)))
        # Neither: refused, and the configuration stays as it was.
        resp = self.assertS3Error('InvalidRequest', 400, self.put, bucket,
                                  config(v2_rule(1, REMOTE),
                                         v2_rule(2, 'remote-dest-3')))
        self.assertEqual(resp['Error']['Message'],
                         'Destination bucket must exist.')
        self.assertEqual(len(self.get(bucket)['Rules']), 2)
        # The target's secret never reaches the log.
        self.assertNotIn('remote-secret-never-shown',
                         self.server.stderr_text()
                         + self.server.stdout_text())

    def test_target_for_any_bucket(self):
        srv = self.start_server(extra='''
            replication_target everywhere {
                endpoint http://127.0.0.1:9;
                access_key K; secret_key S;
                buckets *;
            }''')
        s3 = srv.boto3_client()
        s3.create_bucket(Bucket='source-bucket')
        s3.put_bucket_replication(Bucket='source-bucket',
                                  ReplicationConfiguration=config(
                                      v2_rule(1, 'anything-at-all')))
        self.assertEqual(s3.get_bucket_replication(Bucket='source-bucket')
                         ['ReplicationConfiguration']['Rules'][0]
                         ['Destination']['Bucket'], arn('anything-at-all'))

        # Without the target, the same destination must exist here.
        plain = self.start_server()
        s3 = plain.boto3_client()
        s3.create_bucket(Bucket='source-bucket')
        self.assertS3Error('InvalidRequest', 400, s3.put_bucket_replication,
                           Bucket='source-bucket',
                           ReplicationConfiguration=config(
                               v2_rule(1, 'anything-at-all')))

    def test_check_targets(self):
        """s3gw -t names file:line of a target's mistake, never its secret;
        a good target passes."""
        path = os.path.join(self.server.dir, 'targets.conf')
        bad = ('replication_target r {\n'
               '    endpoint http://replica.test;\n'
               '    access_key AK;\n'
               '    secret_key checked-secret-never-shown;\n'
               '    buckets *;\n'
               '    tls_verify off;\n'
               '}\n')
        for text, err in ((bad, ':6: "tls_verify" needs an https:// '
                                'endpoint in replication_target "r"'),
                          (bad.replace('    tls_verify off;\n', '')
                           .replace('http://', 'https://')
                           .replace('buckets *', 'buckets Bad_Bucket'),
                           ':5: invalid bucket name "Bad_Bucket" in '
                           '"buckets"'),
                          (bad.replace('    tls_verify off;\n', ''), None)):
            with open(path, 'w') as f:
                f.write(text)
            p = subprocess.run([BIN, '-t', '-c', path], capture_output=True,
                               text=True, timeout=20, env=clean_env(),
                               stdin=subprocess.DEVNULL)
            out = p.stdout + p.stderr
            self.assertNotIn('checked-secret-never-shown', out)
            if err is None:
                self.assertEqual(p.returncode, 0, out)
                self.assertIn('syntax is ok', out)
            else:
                self.assertEqual(p.returncode, 1, out)
                self.assertIn(path + err, p.stderr)

    # --- Lifetime ----------------------------------------------------------

    def test_restart_and_bucket_delete(self):
        srv = self.start_server()
        s3 = srv.boto3_client()
        for b in ('src-a', 'src-b', 'dst-a'):
            s3.create_bucket(Bucket=b)
        conf_a = config(v2_rule(3, 'dst-a', ID='a',
                                Filter={'Prefix': 'x/'}))
        conf_b = config(v1_rule('y/', 'dst-a', ID='b'))
        s3.put_bucket_replication(Bucket='src-a',
                                  ReplicationConfiguration=conf_a)
        s3.put_bucket_replication(Bucket='src-b',
                                  ReplicationConfiguration=conf_b)
        srv.restart()
        s3 = srv.boto3_client()
        self.assertEqual(s3.get_bucket_replication(Bucket='src-a')
                         ['ReplicationConfiguration'], conf_a)
        self.assertEqual(s3.get_bucket_replication(Bucket='src-b')
                         ['ReplicationConfiguration'], conf_b)

        # The configuration goes with its bucket: a new bucket of the same
        # name starts without one.
        s3.delete_bucket(Bucket='src-a')
        s3.create_bucket(Bucket='src-a')
        self.assertS3Error('ReplicationConfigurationNotFoundError', 404,
                           s3.get_bucket_replication, Bucket='src-a')
        self.assertEqual(s3.get_bucket_replication(Bucket='src-b')
                         ['ReplicationConfiguration'], conf_b)

    # --- The AWS CLI -------------------------------------------------------

    def test_aws_cli(self):
        bucket = self.new_bucket()
        conf = config(v2_rule(4, self.dest, ID='cli',
                              Filter={'Prefix': 'cli/'}))
        path = os.path.join(self.server.dir, 'replication.json')
        with open(path, 'w') as f:
            json.dump(conf, f)
        proc = self.server.aws('s3api', 'put-bucket-replication', '--bucket',
                               bucket, '--replication-configuration',
                               'file://' + path)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        proc = self.server.aws('s3api', 'get-bucket-replication', '--bucket',
                               bucket)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(json.loads(proc.stdout)['ReplicationConfiguration'],
                         conf)
        proc = self.server.aws('s3api', 'delete-bucket-replication',
                               '--bucket', bucket)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        proc = self.server.aws('s3api', 'get-bucket-replication', '--bucket',
                               bucket)
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn('ReplicationConfigurationNotFoundError', proc.stderr)
