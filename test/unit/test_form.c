/* test/unit/test_form.c: http/form, the multipart/form-data parser. */
#include "http/form.h"
#include "test/unit/unit.h"

/* What the callbacks saw, as one string: "P<name>|<filename or ->|<ct>;"
 * per part, its data, "E;" at its end. */
typedef struct {
    char    log[4096];
    size_t  len;
    int     stop_at_part;     /* stop (GW_DONE) at this part's start, 1-based */
    int     parts;
} form_log_t;

static void
log_add(form_log_t *l, const char *s, size_t n)
{
    CHECK(l->len + n < sizeof(l->log));
    memcpy(l->log + l->len, s, n);
    l->len += n;
    l->log[l->len] = '\0';
}

static int
on_part(void *ud, const http_form_part_t *p)
{
    form_log_t  *l = ud;

    if (++l->parts == l->stop_at_part) {
        return GW_DONE;
    }
    log_add(l, "P", 1);
    log_add(l, p->name.base, p->name.len);
    log_add(l, "|", 1);
    if (p->filename.base != NULL) {
        log_add(l, p->filename.base, p->filename.len);
    } else {
        log_add(l, "-", 1);
    }
    log_add(l, "|", 1);
    log_add(l, p->content_type.base ? p->content_type.base : "",
            p->content_type.len);
    log_add(l, ";", 1);
    return GW_OK;
}

static int
on_data(void *ud, const char *at, size_t len)
{
    CHECK(len > 0);
    log_add(ud, at, len);
    return GW_OK;
}

static int
on_end(void *ud)
{
    log_add(ud, ";E;", 3);
    return GW_OK;
}

static const http_form_cb_t  cb = { on_part, on_data, on_end };

/* Parses body in the pieces cuts gives (offsets, ascending, ncuts of them):
 * the first error, or finish's verdict. */
static int
parse(const char *boundary, const char *body, size_t len, const size_t *cuts,
      size_t ncuts, form_log_t *l)
{
    http_form_t  *f = malloc(sizeof(*f));
    gw_str_t      b = { boundary, strlen(boundary) };
    size_t        off = 0, i, end;
    int           rc = GW_OK;

    memset(l, 0, sizeof(*l));
    http_form_init(f, b, &cb, l);
    for (i = 0; i <= ncuts && rc == GW_OK; i++) {
        end = i < ncuts ? cuts[i] : len;
        /* an exact-size copy, so an over-read shows under ASan */
        char  *piece = malloc(end - off + 1);

        memcpy(piece, body + off, end - off);
        rc = http_form_feed(f, piece, end - off);
        free(piece);
        off = end;
    }
    if (rc == GW_OK) {
        rc = http_form_finish(f);
    }
    free(f);
    return rc;
}

static const char  sample[] =
    "preamble to ignore\r\n"
    "--AaB03x\r\n"
    "Content-Disposition: form-data; name=\"key\"\r\n"
    "\r\n"
    "user/${filename}\r\n"
    "--AaB03x  \r\n"
    "content-disposition: form-data; name=\"x-amz-meta-a\"\r\n"
    "\r\n"
    "\r\n--AaB03 not yet\r\r\n-\r\n--AaB03x\r\n"
    "Content-Disposition: form-data; name=\"file\"; filename=\"a b.txt\"\r\n"
    "Content-Type: text/plain\r\n"
    "\r\n"
    "line1\r\nline2\r\n-\r\n--AaB0\r\n--AaB03x--\r\n"
    "epilogue --AaB03x junk";

static const char  sample_log[] =
    "Pkey|-|;user/${filename};E;"
    "Px-amz-meta-a|-|;\r\n--AaB03 not yet\r\r\n-;E;"
    "Pfile|a b.txt|text/plain;line1\r\nline2\r\n-\r\n--AaB0;E;";

TEST(form_sample_whole)
{
    form_log_t  l;

    CHECK_EQ_INT(parse("AaB03x", sample, sizeof(sample) - 1, NULL, 0, &l),
                 GW_OK);
    CHECK_EQ_STR(l.log, sample_log);
}

/* Every cut position, and every pair of them, gives the same parts. */
TEST(form_every_split)
{
    form_log_t  l;
    size_t      n = sizeof(sample) - 1, i, j, cuts[2];

    for (i = 0; i <= n; i++) {
        cuts[0] = i;
        CHECK_EQ_INT(parse("AaB03x", sample, n, cuts, 1, &l), GW_OK);
        CHECK_EQ_STR(l.log, sample_log);
        for (j = i; j <= n; j += 7) {
            cuts[1] = j;
            CHECK_EQ_INT(parse("AaB03x", sample, n, cuts, 2, &l), GW_OK);
            CHECK_EQ_STR(l.log, sample_log);
        }
    }
}

TEST(form_byte_at_a_time)
{
    form_log_t  l;
    size_t      n = sizeof(sample) - 1, i, cuts[sizeof(sample)];

    for (i = 0; i < n; i++) {
        cuts[i] = i + 1;
    }
    CHECK_EQ_INT(parse("AaB03x", sample, n, cuts, n - 1, &l), GW_OK);
    CHECK_EQ_STR(l.log, sample_log);
}

/* Near-delimiters cut anywhere: held-back bytes that turn out to be data
 * must be neither lost nor doubled. */
TEST(form_near_delimiters)
{
    static const char  body[] =
        "--abab\r\nContent-Disposition: form-data; name=f\r\n\r\n"
        "x\r\n--aba\r\n-abab\r\r\n--ab\r\n--abab--";
    form_log_t  l;
    size_t      n = sizeof(body) - 1, i;

    for (i = 0; i <= n; i++) {
        CHECK_EQ_INT(parse("abab", body, n, &i, 1, &l), GW_OK);
        CHECK_EQ_STR(l.log, "Pf|-|;x\r\n--aba\r\n-abab\r\r\n--ab;E;");
    }
}

TEST(form_quoted_names)
{
    static const char  body[] =
        "--b\r\nContent-Disposition: form-data; name=\"a\\\"q\\\\b\"; "
        "filename=\"C:\\dir\\f%22.txt\"\r\n\r\nv\r\n"
        "--b\r\nContent-Disposition: FORM-DATA;NAME=tok;Filename=\"\"\r\n"
        "\r\n\r\n--b--\r\n";
    form_log_t  l;

    CHECK_EQ_INT(parse("b", body, sizeof(body) - 1, NULL, 0, &l), GW_OK);
    CHECK_EQ_STR(l.log, "Pa\"q\\b|C:\\dir\\f%22.txt|;v;E;Ptok||;;E;");
}

TEST(form_boundary_header)
{
    gw_str_t  b;

#define CT(s)  ((gw_str_t) { s, sizeof(s) - 1 })
    CHECK_EQ_INT(http_form_boundary(CT("multipart/form-data; boundary=xyz"),
                                    &b), GW_OK);
    CHECK(b.len == 3 && memcmp(b.base, "xyz", 3) == 0);
    CHECK_EQ_INT(http_form_boundary(CT("Multipart/Form-Data;charset=utf-8;"
                                       " BOUNDARY=\"a b'c\""), &b), GW_OK);
    CHECK(b.len == 5 && memcmp(b.base, "a b'c", 5) == 0);
    CHECK_EQ_INT(http_form_boundary(CT("text/plain"), &b), GW_DECLINED);
    CHECK_EQ_INT(http_form_boundary(CT("multipart/form-datax; boundary=a"),
                                    &b), GW_DECLINED);
    CHECK_EQ_INT(http_form_boundary(CT("multipart/form-data"), &b), GW_EINVAL);
    CHECK_EQ_INT(http_form_boundary(CT("multipart/form-data; boundary="), &b),
                 GW_EINVAL);
    CHECK_EQ_INT(http_form_boundary(CT("multipart/form-data; boundary=\"a \""),
                                    &b), GW_EINVAL);
    CHECK_EQ_INT(http_form_boundary(CT("multipart/form-data; boundary=\"a\x01\""),
                                    &b), GW_EINVAL);
    CHECK_EQ_INT(http_form_boundary(CT("multipart/form-data; boundary="
        "12345678901234567890123456789012345678901234567890123456789012345678901"),
        &b), GW_EINVAL);
#undef CT
}

TEST(form_errors)
{
    static const struct {
        const char  *body;
        int          rc;
    } cases[] = {
        /* truncated: no close delimiter, or none at all */
        { "--b\r\nContent-Disposition: form-data; name=a\r\n\r\nxx", GW_EINVAL },
        { "", GW_EINVAL },
        { "no delimiter at all", GW_EINVAL },
        { "--b\r\nContent-Disposition: form-data; name=a\r\n", GW_EINVAL },
        /* junk after a delimiter */
        { "--bx\r\n", GW_EINVAL },
        { "--b -\r\n", GW_EINVAL },
        { "--b\rx", GW_EINVAL },
        { "--b-x", GW_EINVAL },
        /* headers */
        { "--b\r\nContent-Disposition: attachment; name=a\r\n\r\n\r\n--b--",
          GW_EINVAL },
        { "--b\r\nContent-Disposition: form-data\r\n\r\n\r\n--b--", GW_EINVAL },
        { "--b\r\nContent-Type: text/plain\r\n\r\n\r\n--b--", GW_EINVAL },
        { "--b\r\n\r\n\r\n--b--", GW_EINVAL },
        { "--b\r\nno colon\r\n\r\n\r\n--b--", GW_EINVAL },
        { "--b\r\nContent-Disposition: form-data; name=\"a\r\n\r\n\r\n--b--",
          GW_EINVAL },
        { "--b\r\nContent-Disposition: form-data; name=a; name=b\r\n\r\n\r\n"
          "--b--", GW_EINVAL },
        { "--b\r\nContent-Disposition: form-data; name=a\r\n"
          "Content-Disposition: form-data; name=a\r\n\r\n\r\n--b--", GW_EINVAL },
        { "--b\r\nX: a\nb\r\nContent-Disposition: form-data; name=a\r\n\r\n"
          "\r\n--b--", GW_EINVAL },
        /* well-formed: the close delimiter right away, and an epilogue */
        { "--b--", GW_OK },
        { "x\r\n--b--\r\nanything", GW_OK },
    };
    form_log_t  l;
    size_t      i;

    for (i = 0; i < GW_NELEMS(cases); i++) {
        int  rc = parse("b", cases[i].body, strlen(cases[i].body), NULL, 0, &l);

        if (rc != cases[i].rc) {
            fprintf(stderr, "# case %zu: %d\n", i, rc);
        }
        CHECK_EQ_INT(rc, cases[i].rc);
    }
}

TEST(form_header_limit)
{
    size_t       n = HTTP_FORM_HEADER_MAX + 64;
    char        *body = malloc(n + 1);
    form_log_t   l;

    memcpy(body, "--b\r\nX-Pad: ", 12);
    memset(body + 12, 'a', n - 12);
    body[n] = '\0';
    CHECK_EQ_INT(parse("b", body, n, NULL, 0, &l), GW_ETOOBIG);
    free(body);
}

/* A callback's stop is returned, and sticks. */
TEST(form_callback_stops)
{
    static const char  body[] =
        "--b\r\nContent-Disposition: form-data; name=a\r\n\r\nv\r\n"
        "--b\r\nContent-Disposition: form-data; name=file\r\n\r\nv\r\n--b--";
    http_form_t  *f = malloc(sizeof(*f));
    form_log_t    l;
    gw_str_t      b = { "b", 1 };

    memset(&l, 0, sizeof(l));
    l.stop_at_part = 2;
    http_form_init(f, b, &cb, &l);
    CHECK_EQ_INT(http_form_feed(f, body, sizeof(body) - 1), GW_DONE);
    CHECK_EQ_INT(http_form_feed(f, "x", 1), GW_DONE);
    CHECK_EQ_INT(http_form_finish(f), GW_EINVAL);
    CHECK_EQ_STR(l.log, "Pa|-|;v;E;");
    free(f);
}
