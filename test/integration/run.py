#!/usr/bin/env python3
"""test/integration/run.py: runs the integration tests against the real
binary ($S3GW_BIN, default build/s3gw) with the stdlib unittest runner.

    python3 test/integration/run.py                    # everything
    python3 test/integration/run.py test_http          # one file
    python3 test/integration/run.py HttpTest.test_pipelining test_list

Arguments keep the tests whose id (module.Class.test_name) contains any of
them. The last line is always `integration: N passed, N failed` (with
`, N skipped` when some were skipped); the exit status is 1 when a test
failed or errored, or when none ran."""

import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)


def flatten(suite):
    for t in suite:
        if isinstance(t, unittest.TestSuite):
            yield from flatten(t)
        else:
            yield t


def main(argv):
    filters = [a for a in argv if not a.startswith('-')]
    loader = unittest.TestLoader()
    found = loader.discover(HERE, pattern='test_*.py', top_level_dir=HERE)
    tests = [t for t in flatten(found)
             if not filters or any(f in t.id() for f in filters)]
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


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
