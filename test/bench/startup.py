"""test/bench/startup.py: how long s3gw takes from exec to its first HTTP
answer on a given data_dir (fill one with build/bench-fill), and how long
the background sweep for orphan chunk files then takes. Prints figures;
asserts nothing.

    python3 test/bench/startup.py DATA_DIR [ROUNDS] [BIN ...]

Several binaries are timed in interleaved rounds (the machine may be busy);
the median of each is printed. The data_dir is used as it is: copy it first
if a binary must not upgrade it."""

import os
import socket
import statistics
import subprocess
import sys
import time


def free_port():
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    port = s.getsockname()[1]
    s.close()
    return port


def first_answer(port, deadline):
    """Polls until an HTTP request gets any answer."""
    while time.monotonic() < deadline:
        try:
            c = socket.create_connection(('127.0.0.1', port), timeout=1)
        except OSError:
            time.sleep(0.001)
            continue
        try:
            c.sendall(b'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
            if c.recv(64).startswith(b'HTTP/1.1'):
                return True
        except OSError:
            pass
        finally:
            c.close()
        time.sleep(0.001)
    return False


def one_start(binary, data_dir, sweep):
    port = free_port()
    err = open(os.path.join(os.path.dirname(data_dir), 'startup.err'), 'w')
    t0 = time.monotonic()
    p = subprocess.Popen(
        [binary, '-g', 'listen 127.0.0.1:%d; data_dir %s; access_log off; '
         'log_level info; gc_interval 100ms;' % (port, data_dir)],
        stdout=subprocess.DEVNULL, stderr=err)
    try:
        if not first_answer(port, t0 + 120):
            raise SystemExit('%s did not answer' % binary)
        up = time.monotonic() - t0
        swept = None
        if sweep:
            # The sweep's end: the process goes idle (no CPU for a while).
            swept = wait_idle(p.pid, t0)
        return up, swept
    finally:
        p.terminate()
        p.wait()
        err.close()


def cpu_ticks(pid):
    with open('/proc/%d/stat' % pid) as f:
        fields = f.read().rsplit(')', 1)[1].split()
    return int(fields[11]) + int(fields[12])


def wait_idle(pid, t0):
    last, quiet, t_last = cpu_ticks(pid), 0, time.monotonic()
    while quiet < 20:
        time.sleep(0.1)
        now = cpu_ticks(pid)
        if now == last:
            quiet += 1
        else:
            quiet, last, t_last = 0, now, time.monotonic()
    return t_last - t0


def main():
    data_dir = os.path.abspath(sys.argv[1])
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    bins = sys.argv[3:] or ['build/s3gw']
    times = {b: [] for b in bins}
    sweeps = {b: [] for b in bins}
    for r in range(rounds):
        for b in bins:
            up, swept = one_start(b, data_dir, sweep=(r == 0))
            times[b].append(up)
            if swept is not None:
                sweeps[b].append(swept)
    for b in bins:
        print('figure: %s: exec to first answer, median of %d: %.3f s '
              '(min %.3f, max %.3f); busy until %.1f s after exec'
              % (b, rounds, statistics.median(times[b]), min(times[b]),
                 max(times[b]), sweeps[b][0]))


if __name__ == '__main__':
    main()
