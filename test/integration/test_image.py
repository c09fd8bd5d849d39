"""The container image: Dockerfile, contrib/docker-entrypoint.sh and
contrib/docker-healthcheck.sh.

EntrypointTest runs always, on both builds: the entrypoint script on this
machine with S3GW_BIN pointing at the binary under test, so the
environment-to-config logic is proven against the real server with boto3,
and refused values are seen refused before any server starts.

ImageTest builds the image with podman and runs it (once: on the ASan pass
it is skipped, since the image compiles its own binary from the same
sources). No registry is reachable here, so the Debian 12 base is made with
mmdebstrap (minbase, bookworm, this machine's apt sources, docs and man
pages left out as in debian:12-slim) and imported as BASE_IMAGE; it stays in
podman's storage and is reused by later runs. podman wants runc (crun
refuses the hybrid cgroup setup) and ulimits no higher than the machine's:
a containers.conf for that is written to build/podman/ and named by
CONTAINERS_CONF. It is skipped, with the reason printed, only when podman
cannot run a container at all."""

import json
import http.client
import os
import re
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import time
import unittest

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from harness import (BAD_LOG, BIN, REPO, SANITIZE, clean_env, figure,
                     free_port, port_open)

ENTRYPOINT = os.path.join(REPO, 'contrib', 'docker-entrypoint.sh')
HEALTHCHECK = os.path.join(REPO, 'contrib', 'docker-healthcheck.sh')
PODMAN_DIR = os.path.join(REPO, 'build', 'podman')
BASE_IMAGE = 'localhost/s3gw-test-debian:12-slim'
IMAGE = 'localhost/s3gw-test:latest'

# What debian:12-slim leaves out (its dpkg path excludes).
SLIM_EXCLUDES = ['/usr/share/doc/*', '/usr/share/info/*', '/usr/share/man/*',
                 '/usr/share/groff/*', '/usr/share/lintian/*',
                 '/usr/share/linda/*', '/usr/share/locale/*']


def client(port, ak, sk, region='us-east-1'):
    return boto3.client(
        's3', endpoint_url='http://127.0.0.1:%d' % port,
        aws_access_key_id=ak, aws_secret_access_key=sk, region_name=region,
        config=Config(signature_version='s3v4',
                      s3={'addressing_style': 'path'},
                      retries={'total_max_attempts': 1},
                      connect_timeout=10, read_timeout=30))


def wait_port(port, proc=None, timeout=30):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if port_open(port):
            return True
        if proc is not None and proc.poll() is not None:
            return False
        time.sleep(0.05)
    return False


def entry_env(tmp, **env):
    """The entrypoint's environment: no S3GW_* of the caller's (the test
    runner's own S3GW_BIN or S3GW_SANITIZE), TMPDIR under tmp."""
    base = {k: v for k, v in clean_env().items() if not k.startswith('S3GW_')}
    base['S3GW_BIN'] = BIN
    base['TMPDIR'] = tmp
    base.update(env)
    return base


class EntrypointTest(unittest.TestCase):

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix='s3gw-entry-')
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)

    def run_entry(self, *args, **env):
        return subprocess.run([ENTRYPOINT] + list(args),
                              env=entry_env(self.tmp, **env),
                              capture_output=True, text=True, timeout=60)

    def start_entry(self, **env):
        err = open(os.path.join(self.tmp, 'stderr'), 'w+')
        self.addCleanup(err.close)
        proc = subprocess.Popen([ENTRYPOINT], env=entry_env(self.tmp, **env),
                                stdout=subprocess.DEVNULL, stderr=err)
        self.addCleanup(lambda: proc.poll() is None and proc.kill())
        return proc, err

    def test_environment_configures_the_server(self):
        p1, p2 = free_port(), free_port()
        # Quotes, a backslash and a dollar survive the quoting as they are.
        secret = 'se"cr\\et$HOME\'x'
        proc, err = self.start_entry(
            S3GW_ACCESS_KEY='AKENTRY', S3GW_SECRET_KEY=secret,
            S3GW_USER='carol', S3GW_REGION='eu-west-3',
            S3GW_LISTEN='127.0.0.1:%d 127.0.0.1:%d' % (p1, p2),
            S3GW_DATA_DIR=os.path.join(self.tmp, 'data'),
            S3GW_FSYNC='off', S3GW_SHUTDOWN_TIMEOUT='3s',
            S3GW_LOG_LEVEL='info', S3GW_MAX_OBJECT_SIZE='1m',
            S3GW_WORKER_PROCESSES='1', S3GW_TRUSTED_PROXY='127.0.0.3 ::1')
        self.assertTrue(wait_port(p1, proc) and wait_port(p2, proc),
                        open(err.name).read())

        # exec: the entrypoint's process is the server itself, so SIGTERM
        # sent to it (PID 1 in a container) reaches s3gw.
        self.assertEqual(os.path.realpath('/proc/%d/exe' % proc.pid),
                         os.path.realpath(BIN))
        with open('/proc/%d/cmdline' % proc.pid, 'rb') as f:
            cmdline = f.read().decode()
        self.assertNotIn('se"cr', cmdline)
        conf = cmdline.split('\0')[2]
        self.assertEqual(stat.S_IMODE(os.stat(conf).st_mode), 0o600)

        s3 = client(p1, 'AKENTRY', secret, region='eu-west-3')
        s3.create_bucket(Bucket='entry')
        s3.put_object(Bucket='entry', Key='k', Body=b'hello')
        self.assertEqual(client(p2, 'AKENTRY', secret, 'eu-west-3').get_object(
            Bucket='entry', Key='k')['Body'].read(), b'hello')
        owner = s3.list_buckets()['Owner']
        self.assertEqual(owner['DisplayName'], 'carol')
        # The region and the secret are the environment's, not defaults.
        with self.assertRaises(ClientError) as cm:
            client(p1, 'AKENTRY', secret).list_buckets()
        self.assertIn('eu-west-3', str(cm.exception))
        with self.assertRaises(ClientError) as cm:
            client(p1, 'AKENTRY', 'wrong', 'eu-west-3').list_buckets()
        self.assertEqual(cm.exception.response['Error']['Code'],
                         'SignatureDoesNotMatch')
        with self.assertRaises(ClientError) as cm:
            client(p1, 's3gwadmin', 's3gwadmin-secret-change-me',
                   'eu-west-3').list_buckets()
        self.assertEqual(cm.exception.response['Error']['Code'],
                         'InvalidAccessKeyId')
        # max_object_size 1m
        with self.assertRaises(ClientError) as cm:
            s3.put_object(Bucket='entry', Key='big', Body=b'x' * ((1 << 20) + 1))
        self.assertEqual(cm.exception.response['Error']['Code'],
                         'EntityTooLarge')

        # The HEALTHCHECK script: healthy on the first listen address,
        # unhealthy where nothing answers.
        env = clean_env(S3GW_LISTEN='127.0.0.1:%d' % p1)
        self.assertEqual(subprocess.run([HEALTHCHECK], env=env,
                                        timeout=30).returncode, 0)
        env = clean_env(S3GW_LISTEN=str(free_port()))
        self.assertNotEqual(subprocess.run(
            [HEALTHCHECK], env=env, stderr=subprocess.DEVNULL,
            timeout=30).returncode, 0)

        t0 = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        self.assertEqual(proc.wait(timeout=30), 0)
        self.assertLess(time.monotonic() - t0, 3 + 2)
        log = open(err.name).read()
        self.assertIn('signal 15: shutting down', log)
        self.assertIn('exiting', log)
        self.assertNotIn(secret, log)
        self.assertIsNone(BAD_LOG.search(log), log)

    def test_tls_and_status_from_the_environment(self):
        """S3GW_TLS_LISTEN with the certificate variables and
        S3GW_STATUS_LISTEN: HTTPS with the test certificate, /health and
        /metrics on the status port."""
        p1, p2, p3 = free_port(), free_port(), free_port()
        cert = os.path.join(self.tmp, 'cert.pem')
        key = os.path.join(self.tmp, 'key.pem')
        subprocess.run(['openssl', 'req', '-x509', '-newkey', 'rsa:2048',
                        '-nodes', '-days', '2', '-subj', '/CN=localhost',
                        '-addext', 'subjectAltName=IP:127.0.0.1',
                        '-keyout', key, '-out', cert], check=True,
                       capture_output=True, timeout=60)
        proc, err = self.start_entry(
            S3GW_ACCESS_KEY='AKTLS', S3GW_SECRET_KEY='tls-secret',
            S3GW_LISTEN='127.0.0.1:%d' % p1,
            S3GW_TLS_LISTEN='127.0.0.1:%d' % p2,
            S3GW_SSL_CERTIFICATE=cert, S3GW_SSL_CERTIFICATE_KEY=key,
            S3GW_STATUS_LISTEN='127.0.0.1:%d' % p3,
            S3GW_DATA_DIR=os.path.join(self.tmp, 'data'), S3GW_FSYNC='off',
            S3GW_WORKER_PROCESSES='1')
        self.assertTrue(wait_port(p2, proc) and wait_port(p3, proc),
                        open(err.name).read())
        s3 = boto3.client(
            's3', endpoint_url='https://127.0.0.1:%d' % p2, verify=cert,
            aws_access_key_id='AKTLS', aws_secret_access_key='tls-secret',
            region_name='us-east-1',
            config=Config(signature_version='s3v4',
                          s3={'addressing_style': 'path'}))
        s3.create_bucket(Bucket='tls-entry')
        s3.put_object(Bucket='tls-entry', Key='k', Body=b'over tls')
        self.assertEqual(s3.get_object(Bucket='tls-entry', Key='k')['Body']
                         .read(), b'over tls')
        for path, want in (('/health', b'ok'), ('/metrics', b's3gw_')):
            c = http.client.HTTPConnection('127.0.0.1', p3, timeout=30)
            c.request('GET', path)
            r = c.getresponse()
            self.assertEqual(r.status, 200, path)
            self.assertIn(want, r.read())
            c.close()
        proc.send_signal(signal.SIGTERM)
        self.assertEqual(proc.wait(timeout=30), 0)

    def test_secret_key_file(self):
        port = free_port()
        path = os.path.join(self.tmp, 'secret')
        with open(path, 'w') as f:
            f.write('from-a-file\n')
        proc, err = self.start_entry(
            S3GW_ACCESS_KEY='AKFILE', S3GW_SECRET_KEY_FILE=path,
            S3GW_LISTEN='127.0.0.1:%d' % port,
            S3GW_DATA_DIR=os.path.join(self.tmp, 'data'), S3GW_FSYNC='off')
        self.assertTrue(wait_port(port, proc), open(err.name).read())
        client(port, 'AKFILE', 'from-a-file').list_buckets()
        proc.send_signal(signal.SIGTERM)
        self.assertEqual(proc.wait(timeout=30), 0)

        r = self.run_entry(S3GW_ACCESS_KEY='AK', S3GW_SECRET_KEY='x',
                           S3GW_SECRET_KEY_FILE=path)
        self.assertEqual(r.returncode, 1)
        self.assertIn('not both', r.stderr)

    def assertRefused(self, r, *words):
        self.assertEqual(r.returncode, 1, r.stderr)
        for w in words:
            self.assertIn(w, r.stderr)
        # Nothing is left behind: the generated file is gone with it.
        self.assertEqual([n for n in os.listdir(self.tmp)
                          if n.startswith('s3gw-conf.')], [])

    def test_refused_values(self):
        port = free_port()
        ok = dict(S3GW_ACCESS_KEY='AK', S3GW_SECRET_KEY='SK',
                  S3GW_LISTEN='127.0.0.1:%d' % port,
                  S3GW_DATA_DIR=os.path.join(self.tmp, 'data'))
        # Each of these would end the directive and write another one
        # (a second listen, a user of the attacker's) if passed through.
        bad = [('S3GW_REGION', 'us-east-1; listen 127.0.0.1:1'),
               ('S3GW_SECRET_KEY', 'x; } user evil { access_key E'),
               ('S3GW_ACCESS_KEY', 'AK{'),
               ('S3GW_DATA_DIR', '/tmp/x\nlisten 127.0.0.1:1;'),
               ('S3GW_LOG_LEVEL', 'info\t'),
               ('S3GW_LISTEN', '127.0.0.1:%d}' % port),
               ('S3GW_TRUSTED_PROXY', '10.0.0.1;'),
               ('S3GW_USER', 'a}b')]
        for var, value in bad:
            with self.subTest(var=var):
                r = self.run_entry(**dict(ok, **{var: value}))
                self.assertRefused(r, var, "may not contain ';', '{', '}'")
                self.assertFalse(port_open(port))

        r = self.run_entry(S3GW_ACCESS_KEY='AK')
        self.assertRefused(r, 'set S3GW_ACCESS_KEY and S3GW_SECRET_KEY')
        r = self.run_entry(S3GW_SECRET_KEY='SK', S3GW_ACCESS_KEY='')
        self.assertRefused(r, 'set S3GW_ACCESS_KEY and S3GW_SECRET_KEY')

        # A value s3gw refuses is named by its variable, not only by the
        # line of a file the user never wrote.
        for var, value, words in [
                ('S3GW_FSYNC', 'maybe', 'must be "on" or "off"'),
                ('S3GW_SHUTDOWN_TIMEOUT', 'soon', 'shutdown_timeout'),
                ('S3GW_ACCESS_KEY', 'a b', 'access_key')]:
            with self.subTest(var=var):
                r = self.run_entry(**dict(ok, **{var: value}))
                self.assertRefused(r, words, 'the value comes from ' + var)

    def test_arguments(self):
        env = dict(S3GW_ACCESS_KEY='AK', S3GW_SECRET_KEY='SK',
                   S3GW_DATA_DIR=os.path.join(self.tmp, 'data'))
        # Options go to s3gw after the generated -c: -t checks it.
        r = self.run_entry('-t', **env)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn('test is successful', r.stdout)
        self.assertRegex(r.stdout, r's3gw-conf\.[^/]+/s3gw\.conf')
        # Anything else runs instead of the server (a shell, say).
        r = self.run_entry('sh', '-c', 'echo other', **env)
        self.assertEqual((r.returncode, r.stdout), (0, 'other\n'))


class ComposeTest(unittest.TestCase):
    """contrib/compose.yaml and its nginx.conf hold together (nginx -t on
    the real file; the compose file's wiring as README describes it)."""

    def test_nginx_conf_and_compose(self):
        tmp = tempfile.mkdtemp(prefix='s3gw-compose-')
        self.addCleanup(shutil.rmtree, tmp, ignore_errors=True)
        main = os.path.join(tmp, 'main.conf')
        with open(main, 'w') as f:
            f.write('pid %s/nginx.pid;\nerror_log %s/error.log;\n'
                    'events {}\nhttp { include %s; }\n'
                    % (tmp, tmp, os.path.join(REPO, 'contrib', 'nginx.conf')))
        nginx = shutil.which('nginx') or '/usr/sbin/nginx'
        r = subprocess.run([nginx, '-t', '-p', tmp, '-c', main],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)

        try:
            import yaml
        except ImportError:
            self.skipTest('no PyYAML in this python3 to read compose.yaml')
        with open(os.path.join(REPO, 'contrib', 'compose.yaml')) as f:
            svc = yaml.safe_load(f)['services']
        self.assertEqual(svc['nginx']['network_mode'], 'service:s3gw')
        env = svc['s3gw']['environment']
        self.assertEqual(env['S3GW_LISTEN'], '127.0.0.1:9000')
        self.assertEqual(env['S3GW_TRUSTED_PROXY'], '127.0.0.1')
        with open(os.path.join(REPO, 'contrib', 'nginx.conf')) as f:
            self.assertIn('proxy_pass http://127.0.0.1:9000;', f.read())
        self.assertTrue(all(k.startswith('S3GW_') for k in env))


def podman(*args, timeout=120, check=True, **kw):
    r = subprocess.run(['podman'] + list(args), capture_output=True,
                       text=True, timeout=timeout, **kw)
    if check and r.returncode != 0:
        raise AssertionError('podman %s: exit %d\n%s%s' % (
            ' '.join(args), r.returncode, r.stdout, r.stderr))
    return r


def machine_limit(resource, cap):
    import resource as res
    hard = res.getrlimit(resource)[1]
    return cap if hard == res.RLIM_INFINITY else min(cap, hard)


def write_containers_conf():
    import resource as res
    os.makedirs(PODMAN_DIR, exist_ok=True)
    path = os.path.join(PODMAN_DIR, 'containers.conf')
    nofile = machine_limit(res.RLIMIT_NOFILE, 20000)
    nproc = machine_limit(res.RLIMIT_NPROC, 8192)
    with open(path, 'w') as f:
        f.write('# Written by test/integration/test_image.py.\n'
                '[containers]\n'
                'default_ulimits = ["nofile=%d:%d", "nproc=%d:%d"]\n'
                '[engine]\nruntime = "runc"\n' % (nofile, nofile,
                                                 nproc, nproc))
    os.environ['CONTAINERS_CONF'] = path


DEBIAN_URI = re.compile(r'(?m)^(URIs:|deb(\s+\[[^]]*\])?)\s+\S+/debian'
                        r'(-security)?/?(\s|$)')


def apt_sources():
    """This machine's apt sources, one-line or deb822, for mmdebstrap."""
    out = []
    for d in ('/etc/apt/sources.list', '/etc/apt/sources.list.d'):
        paths = [d] if os.path.isfile(d) else sorted(
            os.path.join(d, n) for n in (os.listdir(d)
                                         if os.path.isdir(d) else [])
            if n.endswith(('.list', '.sources')))
        for p in paths:
            with open(p) as f:
                out.append((p, f.read()))
    return out


def make_base():
    """Imports a minbase Debian 12 as BASE_IMAGE; seconds it took."""
    t0 = time.monotonic()
    work = tempfile.mkdtemp(prefix='s3gw-base-', dir=PODMAN_DIR)
    try:
        tar = os.path.join(work, 'base.tar')
        cmd = ['mmdebstrap', '--variant=minbase', '--quiet']
        cmd += ['--dpkgopt=path-exclude=' + e for e in SLIM_EXCLUDES]
        cmd += ['--dpkgopt=path-include=/usr/share/doc/*/copyright']
        cmd += ['bookworm', tar]
        # The Debian mirrors apt uses here, as files (deb822 or one-line).
        cmd += [p for p, text in apt_sources() if DEBIAN_URI.search(text)]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=1200)
        if r.returncode != 0:
            raise AssertionError('mmdebstrap: exit %d\n%s' % (
                r.returncode, r.stderr[-4000:]))
        podman('import', '--change', 'CMD ["/bin/bash"]', tar, BASE_IMAGE,
               timeout=600)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return time.monotonic() - t0


def build_stages():
    """The IDs of the build stages the Dockerfile left (LABEL s3gw.stage)."""
    return set(podman('images', '-a', '-q', '--no-trunc', '--filter',
                      'label=s3gw.stage=build').stdout.split())


@unittest.skipIf(SANITIZE, 'the image builds its own binary: tested once, '
                 'on the normal pass')
class ImageTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        if shutil.which('podman') is None:
            raise unittest.SkipTest('podman is not installed (test/deps.sh '
                                    'installs it)')
        write_containers_conf()
        made = None
        if podman('image', 'exists', BASE_IMAGE, check=False).returncode:
            made = make_base()
            figure('image: base %s made with mmdebstrap in %.0f s'
                   % (BASE_IMAGE, made))
        r = podman('run', '--rm', '--network=none', BASE_IMAGE, 'true',
                   check=False)
        if r.returncode != 0:
            raise unittest.SkipTest('podman cannot run a container here: '
                                    + r.stderr.strip()[-500:])
        old = podman('image', 'inspect', '--format', '{{.Id}}', IMAGE,
                     check=False).stdout.strip()
        stages = build_stages()
        t0 = time.monotonic()
        podman('build', '--format', 'docker', '--pull=never',
               '--build-arg', 'BUILD_IMAGE=' + BASE_IMAGE,
               '--build-arg', 'RUN_IMAGE=' + BASE_IMAGE,
               '-t', IMAGE, REPO, timeout=1800)
        built = time.monotonic() - t0
        new = podman('image', 'inspect', '--format', '{{.Id}}',
                     IMAGE).stdout.strip()
        # The previous build's images (the run image, untagged now, and its
        # build stage, some 600 MB each) go; this build's stay as the cache.
        stale = stages if build_stages() - stages else set()
        for img in ([old] if old and old != new else []) + sorted(stale):
            podman('rmi', img, check=False)
        size = int(podman('image', 'inspect', '--format', '{{.Size}}',
                          IMAGE).stdout)
        figure('image: podman build %.0f s, image %.1f MB'
               % (built, size / 1e6))
        cls.tag = '%d-%d' % (os.getpid(), int(time.time()))
        cls.volume = 's3gw-test-data-' + cls.tag
        cls.addClassCleanup(podman, 'volume', 'rm', '-f', cls.volume,
                            check=False)

    def run_container(self, name, port, **env):
        args = ['run', '-d', '--name', name, '-p', '127.0.0.1:%d:9000' % port,
                '-v', self.volume + ':/data']
        for k, v in env.items():
            args += ['-e', '%s=%s' % (k, v)]
        podman(*args, IMAGE)
        self.addCleanup(podman, 'rm', '-f', name, check=False)
        if not wait_port(port, timeout=60):
            self.fail('no answer on %d:\n%s' % (
                port, podman('logs', name, check=False).stderr))
        # A published port accepts before the server inside does.
        end = time.monotonic() + 30
        while time.monotonic() < end:
            if podman('healthcheck', 'run', name, check=False).returncode == 0:
                return
            time.sleep(0.2)
        self.fail('never healthy:\n' + podman('logs', name).stderr)

    def test_serves_stops_and_keeps_data(self):
        t0 = time.monotonic()
        info = json.loads(podman('image', 'inspect', IMAGE).stdout)[0]
        # The HEALTHCHECK is kept only by --format docker.
        self.assertEqual(info['Healthcheck']['Test'],
                         ['CMD', '/usr/local/bin/s3gw-healthcheck'])
        self.assertEqual(list(info['Config']['ExposedPorts']), ['9000/tcp'])
        self.assertEqual(list(info['Config']['Volumes']), ['/data'])
        self.assertEqual(info['Config']['User'], 's3gw')

        env = dict(S3GW_ACCESS_KEY='AKIMAGE', S3GW_SECRET_KEY='image-secret',
                   S3GW_REGION='eu-central-1', S3GW_SHUTDOWN_TIMEOUT='4s')
        port, name = free_port(), 's3gw-test-a-' + self.tag
        self.run_container(name, port, **env)
        s3 = client(port, 'AKIMAGE', 'image-secret', 'eu-central-1')
        s3.create_bucket(Bucket='image')
        body = os.urandom(3 * 1024 * 1024 + 7)
        s3.put_object(Bucket='image', Key='obj', Body=body)
        self.assertEqual(s3.get_object(Bucket='image', Key='obj')['Body']
                         .read(), body)

        # Not root, and the server is PID 1 (the entrypoint exec'd it).
        ids = podman('exec', name, 'id', '-u').stdout.strip()
        self.assertEqual(ids, '10001')
        comm = podman('exec', name, 'cat', '/proc/1/comm').stdout.strip()
        self.assertEqual(comm, 's3gw')

        # SIGTERM: a clean stop well before podman's SIGKILL (20 s).
        t1 = time.monotonic()
        podman('stop', '-t', '20', name, timeout=60)
        self.assertLess(time.monotonic() - t1, 4 + 3)
        code = podman('inspect', '--format', '{{.State.ExitCode}}',
                      name).stdout.strip()
        self.assertEqual(code, '0')
        log = podman('logs', name).stderr
        self.assertIn('signal 15: shutting down', log)
        self.assertIn('exiting', log)
        self.assertIsNone(BAD_LOG.search(log), log)

        # The data is in the volume: a new container serves it.
        port, name = free_port(), 's3gw-test-b-' + self.tag
        self.run_container(name, port, **env)
        s3 = client(port, 'AKIMAGE', 'image-secret', 'eu-central-1')
        self.assertEqual(s3.get_object(Bucket='image', Key='obj')['Body']
                         .read(), body)
        podman('stop', '-t', '20', name, timeout=60)
        figure('image: run, stop and restart in %.1f s'
               % (time.monotonic() - t0))

    def test_refuses_to_start_without_keys(self):
        r = podman('run', '--rm', '--network=none', IMAGE, check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn('set S3GW_ACCESS_KEY and S3GW_SECRET_KEY', r.stderr)


if __name__ == '__main__':
    unittest.main()
