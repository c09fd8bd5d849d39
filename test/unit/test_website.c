/* test/unit/test_website.c: the website configuration model
 * (s3/website.c): validation with S3's errors, the stored form, the index
 * document mapping and routing-rule evaluation. */
#include "s3/website.h"
#include "test/unit/unit.h"

#define DOC(body)  "<WebsiteConfiguration xmlns=\"http://s3.amazonaws.com/" \
                   "doc/2006-03-01/\">" body "</WebsiteConfiguration>"
#define INDEX      "<IndexDocument><Suffix>index.html</Suffix></IndexDocument>"

static s3_web_conf_t *
parse_ok(gw_pool_t *pool, const char *doc)
{
    s3_web_conf_t  *c = NULL;
    const char     *msg;
    int             rc = s3_website_parse(pool, doc, strlen(doc), &c, &msg);

    if (rc != S3_ERR_NONE) {
        fprintf(stderr, "# refused (%d, %s): %s\n", rc, msg ? msg : "", doc);
    }
    CHECK_EQ_INT(rc, S3_ERR_NONE);
    return c;
}

static void
parse_err(gw_pool_t *pool, const char *doc, int err, const char *msg_part)
{
    s3_web_conf_t  *c;
    const char     *msg = NULL;

    CHECK_EQ_INT(s3_website_parse(pool, doc, strlen(doc), &c, &msg), err);
    if (msg_part != NULL) {
        CHECK(msg != NULL && strstr(msg, msg_part) != NULL);
    }
}

TEST(website_parse)
{
    gw_pool_t      *pool = gw_pool_create(4096);
    s3_web_conf_t  *c, *d;
    s3_xml_t        x, y;

    c = parse_ok(pool, DOC(INDEX "<ErrorDocument><Key>e.html</Key>"
                           "</ErrorDocument><RoutingRules><RoutingRule>"
                           "<Condition><KeyPrefixEquals>a/</KeyPrefixEquals>"
                           "<HttpErrorCodeReturnedEquals>404"
                           "</HttpErrorCodeReturnedEquals></Condition>"
                           "<Redirect><HostName>h.example</HostName>"
                           "<Protocol>https</Protocol><HttpRedirectCode>302"
                           "</HttpRedirectCode><ReplaceKeyPrefixWith>b/"
                           "</ReplaceKeyPrefixWith></Redirect></RoutingRule>"
                           "</RoutingRules>"));
    CHECK(gw_str_eq_lit(c->suffix, "index.html"));
    CHECK(c->has_error_doc && gw_str_eq_lit(c->error_key, "e.html"));
    CHECK_EQ_INT(c->nrules, 1);
    CHECK(c->rules[0].has_prefix && gw_str_eq_lit(c->rules[0].prefix, "a/"));
    CHECK_EQ_INT(c->rules[0].error_code, 404);
    CHECK_EQ_INT(c->rules[0].code, 302);
    CHECK(gw_str_eq_lit(c->rules[0].host, "h.example"));
    CHECK(gw_str_eq_lit(c->rules[0].protocol, "https"));
    CHECK(c->rules[0].has_replace_prefix && !c->rules[0].has_replace_key);
    /* The stored form reads back as the same document. */
    s3_website_xml(c, &x, pool);
    d = parse_ok(pool, gw_pool_strndup(pool, x.buf, x.len));
    s3_website_xml(d, &y, pool);
    CHECK(x.len == y.len && memcmp(x.buf, y.buf, x.len) == 0);

    c = parse_ok(pool, DOC("<RedirectAllRequestsTo><HostName>w.example"
                           "</HostName></RedirectAllRequestsTo>"));
    CHECK(c->redirect_all && c->all_protocol.len == 0);
    gw_pool_destroy(pool);
}

TEST(website_parse_errors)
{
    gw_pool_t  *pool = gw_pool_create(4096);
    char        many[8192];
    size_t      i, n;

    parse_err(pool, DOC("<IndexDocument><Suffix></Suffix></IndexDocument>"),
              S3_ERR_INVALID_ARGUMENT, "Suffix");
    parse_err(pool, DOC("<IndexDocument><Suffix>a/b</Suffix></IndexDocument>"),
              S3_ERR_INVALID_ARGUMENT, "Suffix");
    parse_err(pool, DOC("<ErrorDocument><Key>e</Key></ErrorDocument>"),
              S3_ERR_INVALID_ARGUMENT, "IndexDocument");
    parse_err(pool, DOC(INDEX "<RedirectAllRequestsTo><HostName>x</HostName>"
                        "</RedirectAllRequestsTo>"),
              S3_ERR_INVALID_ARGUMENT, "RedirectAllRequestsTo");
    parse_err(pool, DOC(INDEX "<RoutingRules><RoutingRule><Redirect>"
                        "<ReplaceKeyWith>a</ReplaceKeyWith>"
                        "<ReplaceKeyPrefixWith>b</ReplaceKeyPrefixWith>"
                        "</Redirect></RoutingRule></RoutingRules>"),
              S3_ERR_INVALID_ARGUMENT, "not both");
    parse_err(pool, DOC(INDEX "<RoutingRules><RoutingRule><Redirect>"
                        "<HttpRedirectCode>300</HttpRedirectCode></Redirect>"
                        "</RoutingRule></RoutingRules>"),
              S3_ERR_INVALID_ARGUMENT, "(300)");
    parse_err(pool, DOC(INDEX "<RoutingRules><RoutingRule><Condition>"
                        "<HttpErrorCodeReturnedEquals>302"
                        "</HttpErrorCodeReturnedEquals></Condition><Redirect>"
                        "<HostName>a</HostName></Redirect></RoutingRule>"
                        "</RoutingRules>"),
              S3_ERR_INVALID_ARGUMENT, "4XX or 5XX");
    parse_err(pool, DOC(INDEX "<RoutingRules><RoutingRule><Condition/>"
                        "<Redirect><HostName>a</HostName></Redirect>"
                        "</RoutingRule></RoutingRules>"),
              S3_ERR_INVALID_ARGUMENT, "Condition");
    parse_err(pool, DOC(INDEX "<RoutingRules><RoutingRule><Redirect/>"
                        "</RoutingRule></RoutingRules>"),
              S3_ERR_INVALID_ARGUMENT, "Redirect");
    parse_err(pool, DOC(INDEX "<RoutingRules><RoutingRule><Redirect>"
                        "<Protocol>ftp</Protocol></Redirect></RoutingRule>"
                        "</RoutingRules>"),
              S3_ERR_INVALID_ARGUMENT, "protocol");
    parse_err(pool, DOC(INDEX "<RoutingRules><RoutingRule><Redirect>"
                        "<HostName>a&#13;b</HostName></Redirect>"
                        "</RoutingRule></RoutingRules>"),
              S3_ERR_INVALID_ARGUMENT, "HostName");
    /* Malformed: unknown or misplaced elements, duplicates, no root. */
    parse_err(pool, DOC(INDEX "<Bogus/>"), S3_ERR_MALFORMED_XML, NULL);
    parse_err(pool, DOC("<IndexDocument><Key>x</Key></IndexDocument>"),
              S3_ERR_MALFORMED_XML, NULL);
    parse_err(pool, DOC(INDEX INDEX), S3_ERR_MALFORMED_XML, NULL);
    parse_err(pool, DOC(INDEX "<RoutingRules/>"), S3_ERR_MALFORMED_XML, NULL);
    parse_err(pool, DOC(INDEX "<RoutingRules><RoutingRule><Condition>"
                        "<KeyPrefixEquals>a</KeyPrefixEquals></Condition>"
                        "</RoutingRule></RoutingRules>"),
              S3_ERR_MALFORMED_XML, NULL);
    parse_err(pool, "<IndexDocument/>", S3_ERR_MALFORMED_XML, NULL);
    parse_err(pool, "<WebsiteConfiguration>", S3_ERR_MALFORMED_XML, NULL);
    /* At most 50 rules. */
    for (i = 50; i <= 51; i++) {
        n = (size_t) snprintf(many, sizeof(many), "<WebsiteConfiguration>"
                              INDEX "<RoutingRules>");
        for (size_t k = 0; k < i; k++) {
            n += (size_t) snprintf(many + n, sizeof(many) - n, "<RoutingRule>"
                                   "<Redirect><HostName>h</HostName>"
                                   "</Redirect></RoutingRule>");
        }
        snprintf(many + n, sizeof(many) - n,
                 "</RoutingRules></WebsiteConfiguration>");
        if (i == 50) {
            (void) parse_ok(pool, many);
        } else {
            parse_err(pool, many, S3_ERR_INVALID_ARGUMENT, "50");
        }
    }
    gw_pool_destroy(pool);
}

TEST(website_index)
{
    gw_pool_t      *pool = gw_pool_create(4096);
    s3_web_conf_t  *c = parse_ok(pool, DOC(INDEX));
    gw_str_t        out;

    CHECK_EQ_INT(s3_website_index(c, pool, gw_str_lit(""), &out), 1);
    CHECK(gw_str_eq_lit(out, "index.html"));
    CHECK_EQ_INT(s3_website_index(c, pool, gw_str_lit("a/b/"), &out), 1);
    CHECK(gw_str_eq_lit(out, "a/b/index.html"));
    CHECK_EQ_INT(s3_website_index(c, pool, gw_str_lit("a/b"), &out), 0);
    CHECK(gw_str_eq_lit(out, "a/b"));
    s3_website_folder_index(c, pool, gw_str_lit("a/b"), &out);
    CHECK(gw_str_eq_lit(out, "a/b/index.html"));
    gw_pool_destroy(pool);
}

TEST(website_route)
{
    gw_pool_t          *pool = gw_pool_create(4096);
    s3_web_conf_t      *c;
    s3_web_redirect_t   to;

    c = parse_ok(pool, DOC(INDEX "<RoutingRules>"
        "<RoutingRule><Condition><KeyPrefixEquals>docs/</KeyPrefixEquals>"
        "</Condition><Redirect><ReplaceKeyPrefixWith>documents/"
        "</ReplaceKeyPrefixWith></Redirect></RoutingRule>"
        "<RoutingRule><Condition><KeyPrefixEquals>img/</KeyPrefixEquals>"
        "</Condition><Redirect><ReplaceKeyWith>no images.html</ReplaceKeyWith>"
        "<HttpRedirectCode>307</HttpRedirectCode><Protocol>https</Protocol>"
        "</Redirect></RoutingRule>"
        "<RoutingRule><Condition><HttpErrorCodeReturnedEquals>404"
        "</HttpErrorCodeReturnedEquals></Condition><Redirect><HostName>"
        "other.example</HostName><ReplaceKeyPrefixWith>404/"
        "</ReplaceKeyPrefixWith></Redirect></RoutingRule>"
        "<RoutingRule><Condition><KeyPrefixEquals>p/</KeyPrefixEquals>"
        "<HttpErrorCodeReturnedEquals>403</HttpErrorCodeReturnedEquals>"
        "</Condition><Redirect><HostName>h403</HostName></Redirect>"
        "</RoutingRule></RoutingRules>"));

    /* A prefix rule, before the lookup: the prefix replaced, 301, the
     * request's protocol and host. */
    CHECK_EQ_INT(s3_website_route(c, pool, gw_str_lit("docs/a b"), 0, "http",
                                  "site:81", &to), 1);
    CHECK_EQ_INT(to.status, 301);
    CHECK_EQ_STR(to.location, "http://site:81/documents/a%20b");
    /* ReplaceKeyWith, code and protocol of the rule. */
    CHECK_EQ_INT(s3_website_route(c, pool, gw_str_lit("img/x.png"), 0, "http",
                                  "site", &to), 1);
    CHECK_EQ_INT(to.status, 307);
    CHECK_EQ_STR(to.location, "https://site/no%20images.html");
    /* Error-code rules only after that error, and only on it. */
    CHECK_EQ_INT(s3_website_route(c, pool, gw_str_lit("zz"), 0, "http", "site",
                                  &to), 0);
    CHECK_EQ_INT(s3_website_route(c, pool, gw_str_lit("zz"), 404, "https",
                                  "site", &to), 1);
    CHECK_EQ_STR(to.location, "https://other.example/404/zz");
    CHECK_EQ_INT(s3_website_route(c, pool, gw_str_lit("zz"), 403, "http",
                                  "site", &to), 0);
    /* Both conditions must hold. */
    CHECK_EQ_INT(s3_website_route(c, pool, gw_str_lit("p/1"), 403, "http",
                                  "site", &to), 1);
    CHECK_EQ_STR(to.location, "http://h403/p/1");
    /* A prefix rule does not fire again on the error. */
    CHECK_EQ_INT(s3_website_route(c, pool, gw_str_lit("docs/x"), 403, "http",
                                  "site", &to), 0);

    CHECK_EQ_INT(s3_website_redirect_all(c, pool, gw_str_lit("a"), "http",
                                         &to), 0);
    c = parse_ok(pool, DOC("<RedirectAllRequestsTo><HostName>w.example"
                           "</HostName></RedirectAllRequestsTo>"));
    CHECK_EQ_INT(s3_website_redirect_all(c, pool, gw_str_lit("a/b c"),
                                         "https", &to), 1);
    CHECK_EQ_INT(to.status, 301);
    CHECK_EQ_STR(to.location, "https://w.example/a/b%20c");
    gw_pool_destroy(pool);
}
