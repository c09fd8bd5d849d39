/* test/unit/runner.c: runs every test of test_list.h, or the ones named on
 * the command line, each in a forked child with a timeout, and prints TAP
 * followed by a "N passed, N failed" line. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test/unit/test_list.h"

#define DECLARE(name) void test_##name(void);
TEST_LIST(DECLARE)

typedef struct {
    const char  *name;
    void       (*fn)(void);
} test_entry_t;

#define ENTRY(name) { #name, test_##name },
static const test_entry_t  tests[] = { TEST_LIST(ENTRY) };

#define TEST_TIMEOUT_S  60

static int
run_one(const test_entry_t *t)
{
    pid_t  pid;
    int    status;

    fflush(stdout);
    pid = fork();
    if (pid < 0) {
        return -1;
    }
    if (pid == 0) {
        alarm(TEST_TIMEOUT_S);
        t->fn();
        fflush(stdout);
        _exit(0);
    }
    if (waitpid(pid, &status, 0) < 0) {
        return -1;
    }
    if (WIFSIGNALED(status)) {
        fprintf(stderr, "# %s: killed by signal %d%s\n", t->name,
                WTERMSIG(status),
                WTERMSIG(status) == SIGALRM ? " (timeout)" : "");
        return -1;
    }
    return WEXITSTATUS(status) == 0 ? 0 : -1;
}

int
main(int argc, char **argv)
{
    size_t  i, n = sizeof(tests) / sizeof(tests[0]);
    int     j, passed = 0, failed = 0, selected;

    printf("TAP version 13\n");
    for (i = 0; i < n; i++) {
        selected = argc < 2;
        for (j = 1; j < argc; j++) {
            selected |= strcmp(argv[j], tests[i].name) == 0;
        }
        if (!selected) {
            continue;
        }
        if (run_one(&tests[i]) == 0) {
            printf("ok %d - %s\n", passed + failed + 1, tests[i].name);
            passed++;
        } else {
            printf("not ok %d - %s\n", passed + failed + 1, tests[i].name);
            failed++;
        }
    }
    printf("1..%d\n", passed + failed);
    printf("unit: %d passed, %d failed\n", passed, failed);
    return failed == 0 && passed > 0 ? 0 : 1;
}
