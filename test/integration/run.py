#!/usr/bin/env python3
"""test/integration/run.py: runs the integration tests against the real
binary ($S3GW_BIN, default build/s3gw) with the stdlib unittest runner.

    python3 test/integration/run.py                    # everything
    python3 test/integration/run.py test_http          # one file
    python3 test/integration/run.py HttpTest.test_pipelining test_list

Arguments keep the tests whose id (module.Class.test_name) contains any of
them. With -j N (or S3GW_TEST_JOBS=N) the test files run in N processes at
once, longest file first; each file's output is printed whole when it ends,
and the summary adds up theirs. Tests already keep to their own server,
port and directories, so files are independent. The last line is always `integration: N passed, N failed` (with
`, N skipped` when some were skipped); the exit status is 1 when a test
failed or errored, or when none ran."""

import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)


def flatten(suite):
    for t in suite:
        if isinstance(t, unittest.TestSuite):
            yield from flatten(t)
        else:
            yield t


def select(filters, module=None):
    loader = unittest.TestLoader()
    found = loader.discover(HERE, pattern='test_*.py', top_level_dir=HERE)
    return [t for t in flatten(found)
            if (not filters or any(f in t.id() for f in filters))
            and (module is None or t.id().split('.')[0] == module)]


def run_one_process(argv, module=None):
    filters = [a for a in argv if not a.startswith('-')]
    tests = select(filters, module)
    suite = unittest.TestSuite(tests)
    result = unittest.TextTestRunner(stream=sys.stdout, verbosity=2,
                                     buffer=False).run(suite)

    # Count tests, not reports: a test with several failed subtests, or
    # that failed and then errored in its cleanup, fails once. A class
    # whose setUpClass or cleanup failed counts once too (its tests did not
    # run, or were already counted).
    failed_ids, holders = set(), 0
    for t, _ in result.failures + result.errors + \
            [(t, None) for t in result.unexpectedSuccesses]:
        if isinstance(t, unittest.TestCase):
            failed_ids.add(getattr(t, 'test_case', t).id())
        else:
            holders += 1
    failed = len(failed_ids) + holders
    skipped = len({t.id() for t, _ in result.skipped})
    passed = max(0, result.testsRun - len(failed_ids) - skipped -
                 len(result.expectedFailures))
    line = 'integration: %d passed, %d failed' % (passed, failed)
    if skipped:
        line += ', %d skipped' % skipped
    sys.stdout.flush()
    print(line, flush=True)
    return 1 if failed or result.testsRun == 0 else 0


SUMMARY = re.compile(r'^integration: (\d+) passed, (\d+) failed'
                     r'(?:, (\d+) skipped)?$')


RUN_FIRST = ('test_image',)


def run_parallel(argv, jobs):
    """Runs each test file with a selected test in a child process of its
    own, jobs at a time; returns the exit status."""
    filters = [a for a in argv if not a.startswith('-')]
    # Big files first, so the long ones overlap the rest; the image test
    # first of all: its cold container build takes minutes in a small file.
    modules = sorted({t.id().split('.')[0] for t in select(filters)},
                     key=lambda m: (m not in RUN_FIRST,
                                    -os.path.getsize(os.path.join(HERE,
                                                                  m + '.py'))))
    if not modules:
        print('integration: 0 passed, 0 failed', flush=True)
        return 1
    lock = threading.Lock()
    totals = {'passed': 0, 'failed': 0, 'skipped': 0}
    queue = list(modules)
    start = time.monotonic()

    def worker():
        while True:
            with lock:
                if not queue:
                    return
                module = queue.pop(0)
            t0 = time.monotonic()
            with tempfile.TemporaryFile('w+') as out:
                rc = subprocess.call(
                    [sys.executable, os.path.abspath(__file__),
                     '--module=' + module] + filters,
                    stdout=out, stderr=subprocess.STDOUT)
                out.seek(0)
                text = out.read()
            passed = failed = skipped = 0
            m = None
            for line in text.splitlines():
                m = SUMMARY.match(line) or m
            if m:
                passed, failed = int(m.group(1)), int(m.group(2))
                skipped = int(m.group(3) or 0)
            # The file's own summary is not the run's: only the last
            # "integration:" line may start with that word (test/run.sh).
            text = re.sub(r'(?m)^integration:', module + ':', text)
            if rc != 0 and failed == 0:
                failed = 1
                text += ('\n=== %s: exit status %d without a counted '
                         'failure: counted as 1 failed\n' % (module, rc))
            with lock:
                totals['passed'] += passed
                totals['failed'] += failed
                totals['skipped'] += skipped
                sys.stdout.write('=== %s (%.0fs)\n%s' % (
                    module, time.monotonic() - t0, text))
                sys.stdout.flush()

    threads = [threading.Thread(target=worker) for _ in range(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    line = 'integration: %d passed, %d failed' % (totals['passed'],
                                                  totals['failed'])
    if totals['skipped']:
        line += ', %d skipped' % totals['skipped']
    print('=== %d files, %d at a time, %.0fs' % (
        len(modules), jobs, time.monotonic() - start))
    print(line, flush=True)
    return 1 if totals['failed'] or totals['passed'] == 0 else 0


def main(argv):
    module = None
    jobs = int(os.environ.get('S3GW_TEST_JOBS') or 1)
    rest = []
    i = 0
    while i < len(argv):
        a = argv[i]
        if a.startswith('--module='):
            module = a.split('=', 1)[1]
        elif a == '-j' and i + 1 < len(argv):
            jobs = int(argv[i + 1])
            i += 1
        elif a.startswith('-j') and a[2:].isdigit():
            jobs = int(a[2:])
        else:
            rest.append(a)
        i += 1
    if module is not None or jobs <= 1:
        return run_one_process(rest, module)
    return run_parallel(rest, jobs)


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
