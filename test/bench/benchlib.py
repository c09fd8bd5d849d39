"""test/bench/benchlib.py: what the Python benchmarks share: a throw-away
s3gw on a free loopback port with one user, and a boto3 client for it."""

import contextlib
import shutil
import socket
import subprocess
import tempfile
import time

import boto3
from botocore.config import Config

AK, SK = 'bench', 'benchsk'


def free_port():
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    port = s.getsockname()[1]
    s.close()
    return port


def start(binary, port, data_dir, directives='', stderr=None):
    """Starts s3gw on 127.0.0.1:port with its data in data_dir (kept from
    an earlier run there); returns the process once it listens. stderr: a
    file for its log (default: none)."""
    srv = subprocess.Popen(
        [binary, '-g', 'listen 127.0.0.1:%d; data_dir %s; access_log off;'
         ' %s user bench { access_key %s; secret_key %s; }'
         % (port, data_dir, directives, AK, SK)],
        stdout=subprocess.DEVNULL, stderr=stderr or subprocess.DEVNULL)
    for _ in range(100):
        try:
            socket.create_connection(('127.0.0.1', port)).close()
            break
        except OSError:
            time.sleep(0.05)
    return srv


def stop(srv):
    srv.terminate()
    srv.wait(timeout=30)


@contextlib.contextmanager
def server(binary, directives=''):
    """Yields (url, tmp dir) of a running s3gw; stops it afterwards."""
    tmp = tempfile.mkdtemp(prefix='s3gw-bench-')
    port = free_port()
    srv = start(binary, port, tmp + '/data', directives)
    try:
        yield 'http://127.0.0.1:%d' % port, tmp
    finally:
        stop(srv)
        shutil.rmtree(tmp, ignore_errors=True)


def client(url, **config):
    return boto3.client('s3', endpoint_url=url, aws_access_key_id=AK,
                        aws_secret_access_key=SK, region_name='us-east-1',
                        config=Config(s3={'addressing_style': 'path'},
                                      **config))
