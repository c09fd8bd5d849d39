"""test/bench/access.py: what access decisions cost. Anonymous GETs of a
1 KiB object with wrk (keep-alive, loopback): readable through its object
ACL, then through a bucket policy of 20 statements with conditions (parsed
and evaluated on every request), then signed GETs by the owner with boto3
for comparison. Prints figures; asserts nothing.
Usage: python3 test/bench/access.py [S3GW_BIN]"""

import json
import os
import re
import shutil
import subprocess
import sys
import time

import benchlib


def wrk(url, seconds=5):
    out = subprocess.run(['wrk', '-t', '1', '-c', '16', '-d', '%ds' % seconds,
                          url], capture_output=True, text=True, check=True)
    rate = re.search(r'Requests/sec:\s+([\d.]+)', out.stdout)
    lat = re.search(r'Latency\s+(\S+)', out.stdout)
    non2xx = re.search(r'Non-2xx or 3xx responses: (\d+)', out.stdout)
    return float(rate.group(1)), lat.group(1), int(non2xx.group(1)) \
        if non2xx else 0


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else 'build/s3gw'
    if shutil.which('wrk') is None:
        print('figure: access bench skipped: wrk is not installed')
        return
    with benchlib.server(binary) as (url, _):
        s3 = benchlib.client(url)
        s3.create_bucket(Bucket='acl')
        s3.put_object(Bucket='acl', Key='k', Body=os.urandom(1024),
                      ACL='public-read')
        rate, lat, bad = wrk(url + '/acl/k')
        print('figure: anonymous GET 1 KiB, object ACL public-read: %.0f '
              'req/s, latency %s, %d errors' % (rate, lat, bad))

        s3.create_bucket(Bucket='pol')
        s3.put_object(Bucket='pol', Key='k', Body=os.urandom(1024))
        statements = [{
            'Sid': 'S%d' % i, 'Effect': 'Allow', 'Principal': '*',
            'Action': ['s3:GetObject', 's3:GetObjectVersion'],
            'Resource': 'arn:aws:s3:::pol/prefix-%d/*' % i,
            'Condition': {'IpAddress': {'aws:SourceIp': '10.%d.0.0/16' % i}}}
            for i in range(19)]
        statements.append({
            'Sid': 'Public', 'Effect': 'Allow', 'Principal': '*',
            'Action': 's3:GetObject', 'Resource': 'arn:aws:s3:::pol/*',
            'Condition': {'IpAddress': {'aws:SourceIp': '127.0.0.0/8'},
                          'StringNotLike': {'aws:UserAgent': '*evil*'}}})
        text = json.dumps({'Version': '2012-10-17', 'Statement': statements})
        s3.put_bucket_policy(Bucket='pol', Policy=text)
        rate, lat, bad = wrk(url + '/pol/k')
        print('figure: anonymous GET 1 KiB, bucket policy of 20 statements '
              '(%d bytes): %.0f req/s, latency %s, %d errors'
              % (len(text), rate, lat, bad))

        n, t = 2000, time.time()
        for _ in range(n):
            s3.get_object(Bucket='acl', Key='k')['Body'].read()
        print('figure: signed GET 1 KiB by the owner, one boto3 client: '
              '%.0f req/s (boto3-bound)' % (n / (time.time() - t)))


if __name__ == '__main__':
    main()
