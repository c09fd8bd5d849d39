"""Bucket policy condition keys and actions as Amazon S3 documents them:
every key of the "Condition keys for Amazon S3" reference page and the
global aws:* keys parse; keys a request carries are compared, keys it does
not carry are absent (...IfExists and Null true hold, other operators do
not); conditional writes (s3:if-none-match, s3:ObjectCreationOperation);
s3:RequestObjectTag on PutObject and on PutObjectTagging's body;
s3:ExistingObjectTag on the object actions that read an existing object;
the multipart actions on object ARNs. Two users (admin owns the buckets,
bob is another account) through boto3 and the aws CLI."""

import hashlib
import json

from harness import S3gwTestCase, unique_name


def account_id(name):
    d = hashlib.sha256(b's3gw:' + name.encode()).digest()
    return ''.join(str(b % 10) for b in d[:12])


BOB = 'arn:aws:iam::%s:user/bob' % account_id('bob')
ADMIN = 'arn:aws:iam::%s:user/admin' % account_id('admin')

# The keys this server refused before it knew the whole reference page.
NEW_KEYS = [
    's3:x-amz-server-side-encryption-customer-algorithm',
    's3:if-match', 's3:if-none-match', 's3:ObjectCreationOperation',
    's3:AccessGrantScope', 's3:AccessGrantsInstanceArn',
    's3:AccessGrantsLocationScope', 's3:ExistingJobOperation',
    's3:ExistingJobPriority', 's3:InventoryAccessibleOptionalFields',
    's3:JobSuspendedCause', 's3:RequestJobOperation', 's3:RequestJobPriority',
    's3:destinationRegion', 's3:isReplicationPauseRequest',
    's3:x-amz-bucket-namespace', 's3:BucketTag/team',
    's3:AccessPointTag/team', 'aws:SourceVpcArn', 'aws:VpceAccount',
    'aws:VpceOrgID', 'aws:VpceOrgPaths', 'aws:RoleSessionName',
    'aws:AssumedRoot', 'aws:ChatbotSourceArn',
]


def policy(*statements):
    return json.dumps({'Version': '2012-10-17', 'Statement': list(statements)})


class PolicyKeysTest(S3gwTestCase):

    conf = {'log_level': 'debug'}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.bob = cls.server.boto3_client('bob')

    def put_policy(self, bucket, *statements):
        self.s3.put_bucket_policy(Bucket=bucket, Policy=policy(*statements))

    def allow_bob(self, bucket, action, condition=None, resource=None):
        st = {'Effect': 'Allow', 'Principal': {'AWS': BOB}, 'Action': action,
              'Resource': resource or 'arn:aws:s3:::%s/*' % bucket}
        if condition is not None:
            st['Condition'] = condition
        return st

    def denied(self, fn, **kw):
        self.assertS3Error('AccessDenied', 403, fn, **kw)

    # --- Parsing ------------------------------------------------------------

    def test_every_documented_key_parses(self):
        bucket = self.new_bucket()
        for key in NEW_KEYS:
            for op in ('Null', 'StringEqualsIfExists', 'ForAnyValue:StringLike'):
                with self.subTest(key=key, op=op):
                    value = 'true' if op == 'Null' else 'x*'
                    self.put_policy(bucket, self.allow_bob(
                        bucket, 's3:GetObject', {op: {key: value}}))
                    got = json.loads(self.s3.get_bucket_policy(
                        Bucket=bucket)['Policy'])
                    self.assertIn(key, json.dumps(got))
        # Names compare without case, as IAM's.
        self.put_policy(bucket, self.allow_bob(
            bucket, 's3:PutObject', {'Null': {'S3:IF-NONE-MATCH': 'false'}}))
        # A key nobody documents is still refused.
        for key in ('s3:if-nonematch', 's3:made-up', 'aws:SourceVpcArns',
                    's3:BucketTag/'):
            with self.subTest(key=key):
                r = self.assertS3Error(
                    'MalformedPolicy', 400, self.s3.put_bucket_policy,
                    Bucket=bucket, Policy=policy(self.allow_bob(
                        bucket, 's3:GetObject', {'Null': {key: 'true'}})))
                self.assertEqual(r['Error']['Message'],
                                 'Policy has an invalid condition key')

    def test_aws_cli_puts_a_conditional_write_policy(self):
        bucket = self.new_bucket()
        doc = policy({'Sid': 'OnlyNewKeys', 'Effect': 'Deny',
                      'Principal': '*', 'Action': 's3:PutObject',
                      'Resource': 'arn:aws:s3:::%s/*' % bucket,
                      'Condition': {'Null': {'s3:if-none-match': 'true'},
                                    'Bool': {'s3:ObjectCreationOperation':
                                             'true'}}})
        r = self.server.aws('s3api', 'put-bucket-policy', '--bucket', bucket,
                            '--policy', doc)
        self.assertEqual(r.returncode, 0, r.stderr)
        r = self.server.aws('s3api', 'get-bucket-policy', '--bucket', bucket)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn('s3:ObjectCreationOperation', r.stdout)
        # Even the owner now writes only keys that do not exist yet.
        self.denied(self.s3.put_object, Bucket=bucket, Key='k', Body=b'1')
        self.s3.put_object(Bucket=bucket, Key='k', Body=b'1', IfNoneMatch='*')
        self.assertS3Error('PreconditionFailed', 412, self.s3.put_object,
                           Bucket=bucket, Key='k', Body=b'2', IfNoneMatch='*')

    # --- Keys the request carries, and keys it does not ---------------------

    def test_absent_keys(self):
        bucket = self.new_bucket()
        self.s3.put_object(Bucket=bucket, Key='k', Body=b'v')
        sse_c = 's3:x-amz-server-side-encryption-customer-algorithm'
        cases = [
            # (condition, does it hold for a request without the key?)
            ({'StringEquals': {sse_c: 'AES256'}}, False),
            ({'StringNotEquals': {sse_c: 'AES256'}}, True),
            ({'StringEqualsIfExists': {sse_c: 'AES256'}}, True),
            ({'Null': {sse_c: 'true'}}, True),
            ({'Null': {sse_c: 'false'}}, False),
            ({'Bool': {'s3:ObjectCreationOperation': 'true'}}, False),
            ({'BoolIfExists': {'s3:ObjectCreationOperation': 'false'}}, True),
            ({'StringLike': {'s3:if-none-match': '*'}}, False),
            ({'NumericLessThan': {'s3:ExistingJobPriority': '10'}}, False),
            ({'NumericLessThanIfExists': {'s3:RequestJobPriority': '1'}},
             True),
            ({'ForAnyValue:StringEquals':
              {'s3:InventoryAccessibleOptionalFields': 'Size'}}, False),
            ({'StringEquals': {'s3:BucketTag/team': 'blue'}}, False),
            ({'Null': {'aws:SourceVpcArn': 'true'}}, True),
        ]
        for cond, holds in cases:
            with self.subTest(cond=cond):
                self.put_policy(bucket, self.allow_bob(bucket, 's3:GetObject',
                                                       cond))
                if holds:
                    self.assertEqual(self.bob.get_object(
                        Bucket=bucket, Key='k')['Body'].read(), b'v')
                else:
                    self.denied(self.bob.get_object, Bucket=bucket, Key='k')

    def test_conditional_write_keys(self):
        bucket = self.new_bucket()
        # bob may create objects only with If-None-Match (never overwrite),
        # and run multipart uploads, whose parts carry no conditions.
        self.put_policy(
            bucket,
            self.allow_bob(bucket, 's3:PutObject',
                           {'Null': {'s3:if-none-match': 'false'}}),
            self.allow_bob(bucket, 's3:PutObject',
                           {'Bool': {'s3:ObjectCreationOperation': 'false'}}))
        self.denied(self.bob.put_object, Bucket=bucket, Key='a', Body=b'1')
        self.bob.put_object(Bucket=bucket, Key='a', Body=b'1', IfNoneMatch='*')
        self.assertS3Error('PreconditionFailed', 412, self.bob.put_object,
                           Bucket=bucket, Key='a', Body=b'2', IfNoneMatch='*')
        # If-Match is another key: it does not stand in for If-None-Match.
        etag = self.bob.head_object(Bucket=bucket, Key='a')['ETag']
        self.denied(self.bob.put_object, Bucket=bucket, Key='a', Body=b'3',
                    IfMatch=etag)

        mp = self.bob.create_multipart_upload(Bucket=bucket, Key='big')
        part = self.bob.upload_part(Bucket=bucket, Key='big', PartNumber=1,
                                    UploadId=mp['UploadId'], Body=b'p' * 100)
        parts = {'Parts': [{'PartNumber': 1, 'ETag': part['ETag']}]}
        # Completing creates the object: it wants If-None-Match.
        self.denied(self.bob.complete_multipart_upload, Bucket=bucket,
                    Key='big', UploadId=mp['UploadId'],
                    MultipartUpload=parts)
        self.bob.complete_multipart_upload(
            Bucket=bucket, Key='big', UploadId=mp['UploadId'],
            MultipartUpload=parts, IfNoneMatch='*')
        self.assertEqual(self.bob.get_object(Bucket=bucket, Key='big')
                         ['Body'].read(), b'p' * 100)
        # A copy creates an object too.
        self.denied(self.bob.copy_object, Bucket=bucket, Key='c',
                    CopySource={'Bucket': bucket, 'Key': 'a'})

    def test_if_match_key(self):
        bucket = self.new_bucket()
        self.s3.put_object(Bucket=bucket, Key='a', Body=b'1')
        etag = self.s3.head_object(Bucket=bucket, Key='a')['ETag']
        # Overwrites only of the version bob has seen.
        self.put_policy(bucket, self.allow_bob(
            bucket, 's3:PutObject', {'StringLike': {'s3:if-match': '"*"'}}))
        self.denied(self.bob.put_object, Bucket=bucket, Key='a', Body=b'2')
        self.bob.put_object(Bucket=bucket, Key='a', Body=b'2', IfMatch=etag)
        self.assertS3Error('PreconditionFailed', 412, self.bob.put_object,
                           Bucket=bucket, Key='a', Body=b'3', IfMatch=etag)

    def test_resource_account_and_version_id(self):
        bucket = self.new_bucket()
        self.s3.put_object(Bucket=bucket, Key='k', Body=b'v')
        for key in ('s3:ResourceAccount', 'aws:ResourceAccount'):
            with self.subTest(key=key):
                self.put_policy(bucket, self.allow_bob(
                    bucket, 's3:GetObject',
                    {'StringEquals': {key: account_id('admin')}}))
                self.bob.get_object(Bucket=bucket, Key='k')
                self.put_policy(bucket, self.allow_bob(
                    bucket, 's3:GetObject',
                    {'StringEquals': {key: account_id('bob')}}))
                self.denied(self.bob.get_object, Bucket=bucket, Key='k')
        # s3:versionid is the versionId the request names.
        self.put_policy(bucket, self.allow_bob(
            bucket, ['s3:GetObjectTagging', 's3:GetObjectVersionTagging'],
            {'StringEquals': {'s3:versionid': 'null'}}))
        self.bob.get_object_tagging(Bucket=bucket, Key='k', VersionId='null')
        self.denied(self.bob.get_object_tagging, Bucket=bucket, Key='k')

    def test_website_redirect_location_key(self):
        bucket = self.new_bucket()
        self.put_policy(bucket, {
            'Effect': 'Deny', 'Principal': '*', 'Action': 's3:PutObject',
            'Resource': 'arn:aws:s3:::%s/*' % bucket,
            'Condition': {
                'StringNotLike': {'s3:x-amz-website-redirect-location': '/*'},
                'Null': {'s3:x-amz-website-redirect-location': 'false'}}})
        self.s3.put_object(Bucket=bucket, Key='plain', Body=b'x')
        self.s3.put_object(Bucket=bucket, Key='local', Body=b'x',
                           WebsiteRedirectLocation='/other')
        self.denied(self.s3.put_object, Bucket=bucket, Key='away', Body=b'x',
                    WebsiteRedirectLocation='https://elsewhere.example/')

    # --- Tags of the request and of the object ------------------------------

    def test_request_object_tag_on_put_object(self):
        bucket = self.new_bucket()
        self.put_policy(
            bucket,
            self.allow_bob(bucket, 's3:PutObject', {
                'StringEquals': {'s3:RequestObjectTag/team': 'blue'},
                'ForAllValues:StringEquals': {
                    's3:RequestObjectTagKeys': ['team', 'env']}}),
            {'Effect': 'Deny', 'Principal': '*', 'Action': 's3:PutObject',
             'Resource': 'arn:aws:s3:::%s/*' % bucket,
             'Condition': {'StringEquals':
                           {'s3:RequestObjectTag/class': 'secret'}}})
        self.bob.put_object(Bucket=bucket, Key='a', Body=b'x',
                            Tagging='team=blue')
        self.bob.put_object(Bucket=bucket, Key='b', Body=b'x',
                            Tagging='team=blue&env=dev')
        for tagging in ('team=red', 'team=blue&cost=1', 'env=dev', None,
                        'Team=blue'):
            with self.subTest(tagging=tagging):
                kw = {'Tagging': tagging} if tagging is not None else {}
                self.denied(self.bob.put_object, Bucket=bucket, Key='c',
                            Body=b'x', **kw)
        # The explicit Deny stops even the owner.
        self.denied(self.s3.put_object, Bucket=bucket, Key='d', Body=b'x',
                    Tagging='class=secret')
        self.s3.put_object(Bucket=bucket, Key='d', Body=b'x',
                           Tagging='class=open')
        # CreateMultipartUpload carries the tags of the object to be.
        self.bob.create_multipart_upload(Bucket=bucket, Key='m',
                                         Tagging='team=blue')
        self.denied(self.bob.create_multipart_upload, Bucket=bucket, Key='m',
                    Tagging='team=red')
        # bob wrote it, so bob owns it and reads its tags.
        got = self.bob.get_object_tagging(Bucket=bucket, Key='b')['TagSet']
        self.assertEqual(sorted((t['Key'], t['Value']) for t in got),
                         [('env', 'dev'), ('team', 'blue')])

    def test_request_object_tag_on_put_object_tagging(self):
        bucket = self.new_bucket()
        self.s3.put_object(Bucket=bucket, Key='k', Body=b'x')
        self.put_policy(
            bucket,
            self.allow_bob(bucket, 's3:PutObjectTagging', {
                'StringEquals': {'s3:RequestObjectTag/team': 'blue'}}),
            {'Effect': 'Deny', 'Principal': '*',
             'Action': 's3:PutObjectTagging',
             'Resource': 'arn:aws:s3:::%s/*' % bucket,
             'Condition': {'ForAnyValue:StringEquals':
                           {'s3:RequestObjectTagKeys': 'legal-hold'}}})

        def tagset(**tags):
            return {'TagSet': [{'Key': k.replace('_', '-'), 'Value': v}
                               for k, v in tags.items()]}

        self.bob.put_object_tagging(Bucket=bucket, Key='k',
                                    Tagging=tagset(team='blue'))
        self.assertEqual(self.s3.get_object_tagging(
            Bucket=bucket, Key='k')['TagSet'], [{'Key': 'team',
                                                 'Value': 'blue'}])
        self.denied(self.bob.put_object_tagging, Bucket=bucket, Key='k',
                    Tagging=tagset(team='red'))
        self.denied(self.bob.put_object_tagging, Bucket=bucket, Key='k',
                    Tagging=tagset())
        self.denied(self.s3.put_object_tagging, Bucket=bucket, Key='k',
                    Tagging=tagset(team='blue', legal_hold='on'))
        self.s3.put_object_tagging(Bucket=bucket, Key='k',
                                   Tagging=tagset(team='green'))
        self.assertEqual(self.s3.get_object_tagging(
            Bucket=bucket, Key='k')['TagSet'], [{'Key': 'team',
                                                 'Value': 'green'}])
        # A refused caller hears AccessDenied whatever its body; one the
        # policy may allow hears what is wrong with the body.
        bad = b'<Tagging><TagSet><Tag><Key>a</Key></Tag></TagSet></Tagging>'
        r = self.server.signed('PUT', '/%s/k?tagging' % bucket, body=bad,
                               user='bob')
        self.assertRawError(r, 403, 'AccessDenied')
        r = self.server.signed('PUT', '/%s/k?tagging' % bucket, body=bad)
        self.assertRawError(r, 400, 'MalformedXML')
        # Anonymous callers are refused too.
        r = self.server.http('PUT', '/%s/k?tagging' % bucket,
                             body=b'<Tagging><TagSet/></Tagging>')
        self.assertRawError(r, 403, 'AccessDenied')
        # Without a policy, the owner's decision stands before the body.
        other = self.new_bucket()
        self.s3.put_object(Bucket=other, Key='k', Body=b'x')
        self.denied(self.bob.put_object_tagging, Bucket=other, Key='k',
                    Tagging=tagset(team='blue'))
        self.s3.put_object_tagging(Bucket=other, Key='k',
                                   Tagging=tagset(team='blue'))

    def test_existing_object_tag(self):
        bucket = self.new_bucket()
        self.s3.put_object(Bucket=bucket, Key='pub', Body=b'p',
                           Tagging='public=yes')
        self.s3.put_object(Bucket=bucket, Key='priv', Body=b'q')
        cond = {'StringEquals': {'s3:ExistingObjectTag/public': 'yes'}}
        self.put_policy(bucket, self.allow_bob(
            bucket, ['s3:GetObject', 's3:GetObjectTagging',
                     's3:GetObjectAcl', 's3:PutObjectTagging',
                     's3:DeleteObjectTagging'], cond))
        self.assertEqual(self.bob.get_object(Bucket=bucket, Key='pub')
                         ['Body'].read(), b'p')
        self.bob.head_object(Bucket=bucket, Key='pub')
        self.bob.get_object_tagging(Bucket=bucket, Key='pub')
        self.bob.get_object_acl(Bucket=bucket, Key='pub')
        self.denied(self.bob.get_object, Bucket=bucket, Key='priv')
        self.denied(self.bob.get_object_tagging, Bucket=bucket, Key='priv')
        self.denied(self.bob.get_object_acl, Bucket=bucket, Key='priv')
        self.denied(self.bob.delete_object_tagging, Bucket=bucket, Key='priv')
        self.denied(self.bob.put_object_tagging, Bucket=bucket, Key='priv',
                    Tagging={'TagSet': [{'Key': 'public', 'Value': 'yes'}]})
        # Removing the tag that allowed it ends bob's access.
        self.bob.delete_object_tagging(Bucket=bucket, Key='pub')
        self.denied(self.bob.get_object, Bucket=bucket, Key='pub')
        # The copy source is an existing object read with s3:GetObject.
        self.s3.put_object_tagging(Bucket=bucket, Key='pub', Tagging={
            'TagSet': [{'Key': 'public', 'Value': 'yes'}]})
        dst = self.new_bucket(client=self.bob)
        self.bob.copy_object(Bucket=dst, Key='c',
                             CopySource={'Bucket': bucket, 'Key': 'pub'})
        self.denied(self.bob.copy_object, Bucket=dst, Key='c',
                    CopySource={'Bucket': bucket, 'Key': 'priv'})

    # --- Multipart actions on object ARNs -----------------------------------

    def test_multipart_actions_on_object_arns(self):
        bucket = self.new_bucket()
        ups = {}
        for key in ('in/a', 'in/b', 'out/c'):
            ups[key] = self.s3.create_multipart_upload(
                Bucket=bucket, Key=key)['UploadId']
        self.put_policy(
            bucket,
            self.allow_bob(bucket, 's3:ListMultipartUploadParts',
                           resource='arn:aws:s3:::%s/in/*' % bucket),
            self.allow_bob(bucket, 's3:AbortMultipartUpload',
                           resource='arn:aws:s3:::%s/in/a' % bucket),
            {'Effect': 'Deny', 'Principal': {'AWS': ADMIN},
             'Action': ['s3:AbortMultipartUpload',
                        's3:ListMultipartUploadParts'],
             'Resource': 'arn:aws:s3:::%s/out/*' % bucket})
        r = self.bob.list_parts(Bucket=bucket, Key='in/b',
                                UploadId=ups['in/b'])
        self.assertEqual(r['UploadId'], ups['in/b'])
        self.denied(self.bob.list_parts, Bucket=bucket, Key='out/c',
                    UploadId=ups['out/c'])
        self.denied(self.bob.abort_multipart_upload, Bucket=bucket,
                    Key='in/b', UploadId=ups['in/b'])
        self.bob.abort_multipart_upload(Bucket=bucket, Key='in/a',
                                        UploadId=ups['in/a'])
        self.assertS3Error('NoSuchUpload', 404, self.s3.list_parts,
                           Bucket=bucket, Key='in/a', UploadId=ups['in/a'])
        # The explicit Deny stops the owner (and initiator) too.
        self.denied(self.s3.list_parts, Bucket=bucket, Key='out/c',
                    UploadId=ups['out/c'])
        self.denied(self.s3.abort_multipart_upload, Bucket=bucket,
                    Key='out/c', UploadId=ups['out/c'])
        self.s3.abort_multipart_upload(Bucket=bucket, Key='in/b',
                                       UploadId=ups['in/b'])
        # The multipart actions name objects: on a bucket ARN alone they
        # apply to nothing, as S3 says.
        for action in ('s3:AbortMultipartUpload',
                       's3:ListMultipartUploadParts'):
            with self.subTest(action=action):
                r = self.assertS3Error(
                    'MalformedPolicy', 400, self.s3.put_bucket_policy,
                    Bucket=bucket, Policy=policy(self.allow_bob(
                        bucket, action, resource='arn:aws:s3:::' + bucket)))
                self.assertEqual(r['Error']['Message'], 'Action does not '
                                 'apply to any resource(s) in statement')
        # The aws CLI's own spelling of such a policy.
        doc = policy(self.allow_bob(
            bucket, ['s3:AbortMultipartUpload', 's3:ListMultipartUploadParts',
                     's3:PutObject'],
            resource=['arn:aws:s3:::%s/*' % bucket]))
        r = self.server.aws('s3api', 'put-bucket-policy', '--bucket', bucket,
                            '--policy', doc)
        self.assertEqual(r.returncode, 0, r.stderr)
        up = self.bob.create_multipart_upload(Bucket=bucket, Key='bob/x')
        self.bob.list_parts(Bucket=bucket, Key='bob/x',
                            UploadId=up['UploadId'])
        self.bob.abort_multipart_upload(Bucket=bucket, Key='bob/x',
                                        UploadId=up['UploadId'])
        self.s3.abort_multipart_upload(Bucket=bucket, Key='out/c',
                                       UploadId=ups['out/c'])

    def test_unknown_bucket_for_policy_keys(self):
        self.assertS3Error('NoSuchBucket', 404, self.s3.put_bucket_policy,
                           Bucket=unique_name('absent'),
                           Policy=policy({'Effect': 'Allow', 'Principal': '*',
                                          'Action': 's3:GetObject',
                                          'Resource': 'arn:aws:s3:::x/*'}))
