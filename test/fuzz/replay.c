/* test/fuzz/replay.c: runs a fuzz target's LLVMFuzzerTestOneInput over the
 * files named on the command line (a corpus), so that every build, gcc
 * included, checks the corpus without libFuzzer (H2O's -runs=1 idea). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
main(int argc, char **argv)
{
    FILE           *fp;
    unsigned char  *buf;
    long            n;
    int             i;

    for (i = 1; i < argc; i++) {
        fp = fopen(argv[i], "rb");
        if (fp == NULL || fseek(fp, 0, SEEK_END) != 0 || (n = ftell(fp)) < 0
            || fseek(fp, 0, SEEK_SET) != 0)
        {
            fprintf(stderr, "replay: cannot read %s\n", argv[i]);
            return 1;
        }
        buf = malloc((size_t) n + 1);
        if (buf == NULL || fread(buf, 1, (size_t) n, fp) != (size_t) n) {
            fprintf(stderr, "replay: cannot read %s\n", argv[i]);
            return 1;
        }
        fclose(fp);
        LLVMFuzzerTestOneInput(buf, (size_t) n);
        free(buf);
    }
    printf("replay: %d inputs\n", argc - 1);
    return 0;
}
