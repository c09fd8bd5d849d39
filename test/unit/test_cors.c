/* test/unit/test_cors.c: s3/cors, the CORS model: reading and checking
 * CORSConfiguration documents (each error S3 gives, in its order), the
 * document given back, origin, method and header matching, the first rule
 * winning, the cors_default rule, and the response headers of a rule. */
#include "s3/cors.h"
#include "test/unit/unit.h"

#define NS      " xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\""
#define DOC(r)  "<CORSConfiguration" NS ">" r "</CORSConfiguration>"
#define RULE(x) "<CORSRule>" x "</CORSRule>"
#define O(v)    "<AllowedOrigin>" v "</AllowedOrigin>"
#define M(v)    "<AllowedMethod>" v "</AllowedMethod>"
#define H(v)    "<AllowedHeader>" v "</AllowedHeader>"
#define E(v)    "<ExposeHeader>" v "</ExposeHeader>"
#define MINR     O("https://example.com") M("GET")

static gw_pool_t  *test_pool;

static gw_pool_t *
test_cors_pool(void)
{
    if (test_pool == NULL) {
        test_pool = gw_pool_create(4096);
    }
    return test_pool;
}

static s3_cors_conf_t *
test_cors_ok(const char *doc)
{
    s3_cors_conf_t  *c = NULL;
    const char      *msg;
    int              rc;

    rc = s3_cors_parse(test_cors_pool(), doc, strlen(doc), &c, &msg);
    if (rc != S3_ERR_NONE) {
        fprintf(stderr, "  rejected (%s: %s): %s\n", s3_error_code(rc),
                msg ? msg : "", doc);
    }
    CHECK_EQ_INT(rc, S3_ERR_NONE);
    return c;
}

/* The error a document gets, with its message (or "" for the default). */
static int
test_cors_err(const char *doc, const char **msg)
{
    s3_cors_conf_t  *c;
    const char      *m = NULL;
    int              rc;

    rc = s3_cors_parse(test_cors_pool(), doc, strlen(doc), &c, &m);
    *msg = m ? m : "";
    return rc;
}

#define CHECK_MALFORMED(doc)                                                \
    do {                                                                    \
        const char  *m_;                                                    \
        CHECK_EQ_INT(test_cors_err((doc), &m_), S3_ERR_MALFORMED_XML);      \
    } while (0)

#define CHECK_INVALID(doc, want)                                            \
    do {                                                                    \
        const char  *m_;                                                    \
        CHECK_EQ_INT(test_cors_err((doc), &m_), S3_ERR_INVALID_REQUEST);    \
        CHECK_EQ_STR(m_, (want));                                           \
    } while (0)

static gw_str_t
test_str(const char *s)
{
    gw_str_t  v;

    v.base = s;
    v.len = strlen(s);
    return v;
}

static const s3_cors_rule_t *
test_match(const s3_cors_conf_t *c, const char *origin, const char *method,
           const char *headers)
{
    gw_str_t  h = test_str(headers ? headers : "");

    return s3_cors_match(c, test_str(origin), test_str(method),
                         headers ? &h : NULL);
}

/* Whether a rule allowing GET from pattern alone allows origin: the
 * origin comparison as s3_cors_match makes it. */
static int
test_origin(const char *pattern, const char *origin)
{
    gw_str_t        o = test_str(pattern), m = test_str("GET");
    s3_cors_rule_t  r;
    s3_cors_conf_t  c;

    memset(&r, 0, sizeof(r));
    r.origins = &o;
    r.norigins = 1;
    r.methods = &m;
    r.nmethods = 1;
    c.rules = &r;
    c.nrules = 1;
    return s3_cors_match(&c, test_str(origin), m, NULL) != NULL;
}

TEST(cors_parse)
{
    s3_cors_conf_t  *c;
    s3_xml_t         x;
    char             id[300];
    const char      *want;

    c = test_cors_ok("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" DOC(
        RULE("<ID>rule-1</ID>" O("https://example.com")
             O("https://*.example.org") M("GET") M("PUT") M("POST")
             M("DELETE") M("HEAD") H("Authorization") H("x-amz-*")
             E("ETag") E("x-amz-request-id")
             "<MaxAgeSeconds>3000</MaxAgeSeconds>")
        RULE(O("*") M("GET"))));
    CHECK_EQ_INT(c->nrules, 2);
    CHECK_EQ_INT(c->rules[0].id.len, 6);
    CHECK_EQ_INT(c->rules[0].norigins, 2);
    CHECK_EQ_INT(c->rules[0].nmethods, 5);
    CHECK_EQ_INT(c->rules[0].nheaders, 2);
    CHECK_EQ_INT(c->rules[0].nexpose, 2);
    CHECK_EQ_INT(c->rules[0].max_age, 3000);
    CHECK(c->rules[1].id.base == NULL);
    CHECK_EQ_INT(c->rules[1].max_age, S3_CORS_NO_MAX_AGE);

    /* Given back in S3's element order, whatever order it came in. */
    c = test_cors_ok(DOC(RULE("<MaxAgeSeconds>0042</MaxAgeSeconds>"
                              E("ETag") H("*") O("https://a.test") M("PUT")
                              "<ID>a&amp;b</ID>")));
    s3_cors_xml(c, &x, test_cors_pool());
    want = "<CORSRule><ID>a&amp;b</ID><AllowedMethod>PUT</AllowedMethod>"
           "<AllowedOrigin>https://a.test</AllowedOrigin>"
           "<AllowedHeader>*</AllowedHeader><MaxAgeSeconds>42</MaxAgeSeconds>"
           "<ExposeHeader>ETag</ExposeHeader></CORSRule>";
    CHECK(x.len > strlen(want));
    CHECK(memmem(x.buf, x.len, want, strlen(want)) != NULL);

    /* The limits: 255 bytes of ID, 2^31 - 1 seconds, an empty origin. */
    memset(id, 'a', 255);
    id[255] = '\0';
    {
        char  doc[1024];

        snprintf(doc, sizeof(doc), DOC(RULE(MINR "<ID>%s</ID>")), id);
        test_cors_ok(doc);
        snprintf(doc, sizeof(doc), DOC(RULE(MINR "<ID>%sa</ID>")), id);
        CHECK_MALFORMED(doc);
    }
    test_cors_ok(DOC(RULE(MINR "<MaxAgeSeconds>2147483647</MaxAgeSeconds>")));
    test_cors_ok(DOC(RULE(O("") M("GET"))));
    test_cors_ok("<s3:CORSConfiguration xmlns:s3=\"http://s3.amazonaws.com/"
                 "doc/2006-03-01/\"><s3:CORSRule><s3:AllowedOrigin>*"
                 "</s3:AllowedOrigin><s3:AllowedMethod>GET</s3:AllowedMethod>"
                 "</s3:CORSRule></s3:CORSConfiguration>");
}

TEST(cors_rule_count)
{
    static char  doc[64 * 1024];
    size_t       n, i;

    for (n = 100; n <= 101; n++) {
        strcpy(doc, "<CORSConfiguration>");
        for (i = 0; i < n; i++) {
            strcat(doc, RULE(MINR));
        }
        strcat(doc, "</CORSConfiguration>");
        if (n == 100) {
            CHECK_EQ_INT(test_cors_ok(doc)->nrules, 100);
        } else {
            CHECK_MALFORMED(doc);
        }
    }
}

TEST(cors_malformed)
{
    CHECK_MALFORMED("");
    CHECK_MALFORMED("AllowedOrigin: *");
    CHECK_MALFORMED("<CORSConfiguration><CORSRule>" MINR
                    "</CORSConfiguration>");
    CHECK_MALFORMED("<!DOCTYPE CORSConfiguration>" DOC(RULE(MINR)));
    CHECK_MALFORMED("<CORSRules>" RULE(MINR) "</CORSRules>");
    CHECK_MALFORMED(RULE(MINR));
    CHECK_MALFORMED("<CORSConfiguration><Rule>" MINR "</Rule>"
                    "</CORSConfiguration>");
    CHECK_MALFORMED(DOC(""));
    CHECK_MALFORMED("<CORSConfiguration/>");
    CHECK_MALFORMED(DOC(MINR));
    CHECK_MALFORMED(DOC(RULE(MINR) "<Owner>me</Owner>"));
    CHECK_MALFORMED(DOC(RULE(MINR) "text"));
    CHECK_MALFORMED(DOC(RULE(RULE(MINR))));
    CHECK_MALFORMED(DOC(RULE("")));
    CHECK_MALFORMED(DOC(RULE(M("GET"))));
    CHECK_MALFORMED(DOC(RULE(O("*"))));
    CHECK_MALFORMED(DOC(RULE(MINR) RULE(M("GET"))));
    CHECK_MALFORMED(DOC(RULE(MINR "text")));
    CHECK_MALFORMED(DOC(RULE(MINR "<AllowedHeaders>*</AllowedHeaders>")));
    CHECK_MALFORMED(DOC(RULE(MINR "<allowedheader>*</allowedheader>")));
    CHECK_MALFORMED(DOC(RULE("<AllowedOrigin><O>*</O></AllowedOrigin>"
                             M("GET"))));
    CHECK_MALFORMED(DOC(RULE(MINR "<MaxAgeSeconds></MaxAgeSeconds>")));
    CHECK_MALFORMED(DOC(RULE(MINR "<MaxAgeSeconds>-1</MaxAgeSeconds>")));
    CHECK_MALFORMED(DOC(RULE(MINR "<MaxAgeSeconds>1.5</MaxAgeSeconds>")));
    CHECK_MALFORMED(DOC(RULE(MINR "<MaxAgeSeconds>3000s</MaxAgeSeconds>")));
    CHECK_MALFORMED(DOC(RULE(MINR "<MaxAgeSeconds>2147483648</MaxAgeSeconds>")));
    CHECK_MALFORMED(DOC(RULE(MINR "<MaxAgeSeconds>1</MaxAgeSeconds>"
                             "<MaxAgeSeconds>1</MaxAgeSeconds>")));
    CHECK_MALFORMED(DOC(RULE(MINR "<ID>a</ID><ID>b</ID>")));
    /* The shape of the whole document is checked before any value. */
    CHECK_MALFORMED(DOC(RULE(O("*") M("PATCH")) RULE(M("GET"))));
}

TEST(cors_invalid)
{
    static const char *const  bad[] = {
        "OPTIONS", "PATCH", "get", "Get", " GET", "GET,PUT", "*", ""
    };
    char                      doc[256], want[128];
    size_t                    i;

    for (i = 0; i < GW_NELEMS(bad); i++) {
        snprintf(doc, sizeof(doc), DOC(RULE(O("*") M("GET")
                                            "<AllowedMethod>%s"
                                            "</AllowedMethod>")), bad[i]);
        snprintf(want, sizeof(want), "Found unsupported HTTP method in CORS "
                 "config. Unsupported method is %s", bad[i]);
        CHECK_INVALID(doc, want);
    }
    CHECK_INVALID(DOC(RULE(O("https://*.example.*") M("GET"))),
                  "AllowedOrigin \"https://*.example.*\" can not have more "
                  "than one wildcard.");
    CHECK_INVALID(DOC(RULE(O("https://a.test") O("**") M("GET"))),
                  "AllowedOrigin \"**\" can not have more than one "
                  "wildcard.");
    CHECK_INVALID(DOC(RULE(MINR H("x-*-meta-*"))),
                  "AllowedHeader \"x-*-meta-*\" can not have more than one "
                  "wildcard.");
    CHECK_INVALID(DOC(RULE(MINR E("x-amz-*"))),
                  "ExposeHeader \"x-amz-*\" contains wildcard. We currently "
                  "do not support wildcard for ExposeHeader.");
    /* Within a rule: methods, origins, headers, exposed headers; the
     * first rule that has one decides. */
    CHECK_INVALID(DOC(RULE(E("x-*") H("*-*") O("*.*") M("PATCH"))),
                  "Found unsupported HTTP method in CORS config. Unsupported "
                  "method is PATCH");
    CHECK_INVALID(DOC(RULE(E("x-*") H("*-*") O("*.*") M("GET"))),
                  "AllowedOrigin \"*.*\" can not have more than one "
                  "wildcard.");
    CHECK_INVALID(DOC(RULE(E("x-*") H("*-*") MINR)),
                  "AllowedHeader \"*-*\" can not have more than one "
                  "wildcard.");
    CHECK_INVALID(DOC(RULE(MINR) RULE(MINR E("x-*")) RULE(O("*") M("PUTS"))),
                  "ExposeHeader \"x-*\" contains wildcard. We currently do "
                  "not support wildcard for ExposeHeader.");
}

TEST(cors_origin_match)
{
    CHECK(test_origin("*", "https://example.com"));
    CHECK(test_origin("*", "null"));
    CHECK(test_origin("https://example.com", "https://example.com"));
    CHECK(!test_origin("https://example.com", "http://example.com"));
    CHECK(!test_origin("https://example.com", "https://example.com:8443"));
    CHECK(!test_origin("https://example.com", "https://example.com/"));
    CHECK(!test_origin("https://example.com", "https://www.example.com"));
    CHECK(test_origin("http://*.example.com", "http://www.example.com"));
    CHECK(test_origin("http://*.example.com", "http://a.b.example.com"));
    CHECK(!test_origin("http://*.example.com", "http://example.com"));
    CHECK(!test_origin("http://*.example.com", "https://www.example.com"));
    CHECK(!test_origin("http://*.example.com", "http://www.example.com.evil"));
    CHECK(test_origin("https://example.com:*", "https://example.com:8443"));
    CHECK(!test_origin("https://example.com:*", "https://example.com"));
    CHECK(test_origin("http*", "https://example.com"));
    CHECK(test_origin("start*end", "startend"));
    CHECK(!test_origin("ab*ba", "aba"));          /* no overlap */
    /* Origins compare case-sensitively, the wildcard takes any case. */
    CHECK(!test_origin("https://example.com", "https://EXAMPLE.com"));
    CHECK(!test_origin("https://Example.com", "https://example.com"));
    CHECK(!test_origin("http://*.example.com", "http://www.Example.com"));
    CHECK(test_origin("http://*.example.com", "http://WWW.example.com"));
    CHECK(test_origin("", ""));
    CHECK(!test_origin("", "https://example.com"));
}

TEST(cors_match)
{
    s3_cors_conf_t        *c;
    const s3_cors_rule_t  *r;

    c = test_cors_ok(DOC(
        RULE("<ID>exact</ID>" O("https://example.com") M("GET") M("PUT"))
        RULE("<ID>pattern</ID>" O("https://*.com") M("GET") H("*"))
        RULE("<ID>amz</ID>" O("https://amz.test") M("PUT") H("X-Amz-*")
             H("content-type"))
        RULE("<ID>any</ID>" O("*") M("GET") M("HEAD"))));

    /* Methods: exact, from the list. */
    CHECK((r = test_match(c, "https://example.com", "PUT", NULL)) != NULL);
    CHECK_EQ_INT(r->id.base[0], 'e');
    CHECK(test_match(c, "https://example.com", "DELETE", NULL) == NULL);
    CHECK(test_match(c, "https://example.com", "get", NULL) == NULL);
    CHECK(test_match(c, "https://example.com", "OPTIONS", NULL) == NULL);
    /* The first rule that allows all three wins. */
    CHECK_EQ_INT(test_match(c, "https://example.com", "GET", NULL)->id.base[0],
                 'e');
    CHECK_EQ_INT(test_match(c, "https://example.com", "HEAD", NULL)->id.base[0],
                 'a');
    CHECK_EQ_INT(test_match(c, "https://example.com", "GET",
                            "x-amz-date")->id.base[0], 'p');
    CHECK_EQ_INT(test_match(c, "https://example.com", "GET", "")->id.base[0],
                 'e');
    CHECK_EQ_INT(test_match(c, "https://example.com", "GET",
                            " , ,")->id.base[0], 'e');
    /* Headers: every one named, case-insensitively, with the wildcard. */
    CHECK(test_match(c, "https://amz.test", "PUT",
                     "X-AMZ-DATE, Content-Type,x-amz-meta-a") != NULL);
    CHECK(test_match(c, "https://amz.test", "PUT", "x-amz-") != NULL);
    CHECK(test_match(c, "https://amz.test", "PUT", "x-amz") == NULL);
    CHECK(test_match(c, "https://amz.test", "PUT", "x-amzn-trace-id") == NULL);
    CHECK(test_match(c, "https://amz.test", "PUT",
                     "x-amz-date, authorization") == NULL);
    /* A rule without AllowedHeader allows no request header. */
    CHECK(test_match(c, "https://example.org", "HEAD", "content-type")
          == NULL);
    CHECK(test_match(c, "https://example.org", "PUT", NULL) == NULL);
    CHECK(test_match(NULL, "https://example.org", "GET", NULL) == NULL);
}

/* The value of response header name of hr, or NULL. */
static const char *
test_resp(http_req_t *hr, const char *name)
{
    size_t  i;

    for (i = 0; i < hr->nout_hdrs; i++) {
        if (strlen(name) == hr->out_hdrs[i].name.len
            && memcmp(hr->out_hdrs[i].name.base, name,
                      hr->out_hdrs[i].name.len) == 0)
        {
            return gw_pool_strndup(hr->pool, hr->out_hdrs[i].value.base,
                                   hr->out_hdrs[i].value.len);
        }
    }
    return NULL;
}

TEST(cors_headers)
{
    s3_cors_conf_t  *c;
    http_req_t       hr;
    gw_str_t         h = test_str("Content-Type,X-Amz-Date ,  x-amz-meta-N");

    c = test_cors_ok(DOC(
        RULE(O("https://*.example.com") M("GET") M("PUT") H("*")
             E("ETag") E("x-amz-request-id")
             "<MaxAgeSeconds>0</MaxAgeSeconds>")
        RULE(O("https://a.test") O("*") M("GET"))));

    memset(&hr, 0, sizeof(hr));
    hr.pool = test_cors_pool();
    s3_cors_headers(&hr, &c->rules[0], test_str("https://app.example.com"),
                    &h);
    CHECK_EQ_STR(test_resp(&hr, "Access-Control-Allow-Origin"),
                 "https://app.example.com");
    CHECK_EQ_STR(test_resp(&hr, "Access-Control-Allow-Methods"), "GET, PUT");
    CHECK_EQ_STR(test_resp(&hr, "Access-Control-Allow-Headers"),
                 "content-type, x-amz-date, x-amz-meta-n");
    CHECK_EQ_STR(test_resp(&hr, "Access-Control-Expose-Headers"),
                 "ETag, x-amz-request-id");
    CHECK_EQ_STR(test_resp(&hr, "Access-Control-Max-Age"), "0");
    CHECK_EQ_STR(test_resp(&hr, "Access-Control-Allow-Credentials"), "true");
    CHECK_EQ_STR(test_resp(&hr, "Vary"), "Origin, Access-Control-Request-"
                 "Headers, Access-Control-Request-Method");

    /* A rule that lists "*" answers "*", even for an origin it names, and
     * allows no credentials. */
    memset(&hr, 0, sizeof(hr));
    hr.pool = test_cors_pool();
    s3_cors_headers(&hr, &c->rules[1], test_str("https://a.test"), NULL);
    CHECK_EQ_STR(test_resp(&hr, "Access-Control-Allow-Origin"), "*");
    CHECK(test_resp(&hr, "Access-Control-Allow-Credentials") == NULL);
    CHECK(test_resp(&hr, "Access-Control-Allow-Headers") == NULL);
    CHECK(test_resp(&hr, "Access-Control-Expose-Headers") == NULL);
    CHECK(test_resp(&hr, "Access-Control-Max-Age") == NULL);
    CHECK_EQ_INT(hr.nout_hdrs, 3);
}

TEST(cors_default_rule)
{
    gw_conf_t        cf;
    s3_cors_conf_t  *c;
    char             err[256];

    CHECK_EQ_INT(gw_conf_load(&cf, NULL, NULL, err, sizeof(err)), GW_OK);
    CHECK(s3_cors_default(test_cors_pool(), &cf) == NULL);
    gw_conf_free(&cf);
    CHECK_EQ_INT(gw_conf_load(&cf, NULL, "cors_default { allowed_origin "
                              "https://app.test http://*.example.com; "
                              "allowed_method GET HEAD; expose_header ETag; "
                              "max_age 60; }", err, sizeof(err)), GW_OK);
    c = s3_cors_default(test_cors_pool(), &cf);
    CHECK(c != NULL && c->nrules == 1);
    CHECK(test_match(c, "http://www.example.com", "HEAD", NULL) != NULL);
    CHECK(test_match(c, "https://app.test", "PUT", NULL) == NULL);
    CHECK(test_match(c, "https://app.test", "GET", "x-amz-date") == NULL);
    CHECK_EQ_INT(c->rules[0].max_age, 60);
    CHECK_EQ_INT(c->rules[0].nexpose, 1);
    gw_conf_free(&cf);
}
