/* test/unit/test_conf.c: core/conf. Most cases write a small config to a
 * temp file, load it, and compare the error with "PATH:LINE: message". */
#include "core/gw.h"
#include "core/conf.h"
#include "core/log.h"
#include "test/unit/unit.h"

#include <arpa/inet.h>
#include <unistd.h>

#define TEST_CONF_EXAMPLE  "s3gw.conf.example"

static char  test_conf_path[64];
static char  test_conf_err[512];

static void
test_conf_write(const char *text, size_t len)
{
    FILE  *fp;
    int    fd;

    if (test_conf_path[0] == '\0') {
        strcpy(test_conf_path, "/tmp/s3gw-test-conf-XXXXXX");
        fd = mkstemp(test_conf_path);
        CHECK(fd >= 0);
        close(fd);
    }
    fp = fopen(test_conf_path, "wb");
    CHECK(fp != NULL);
    CHECK(fwrite(text, 1, len, fp) == len);
    CHECK(fclose(fp) == 0);
}

/* Loads text as a file (and extra as -g); returns gw_conf_load's result. */
static int
test_conf_load(gw_conf_t *cf, const char *text, const char *extra)
{
    int  rc;

    test_conf_write(text, strlen(text));
    rc = gw_conf_load(cf, test_conf_path, extra, test_conf_err,
                      sizeof(test_conf_err));
    unlink(test_conf_path);
    return rc;
}

/* The text must load. */
#define CHECK_LOAD_OK(cf, text, extra)                                      \
    do {                                                                    \
        int  rc_ = test_conf_load((cf), (text), (extra));                   \
        if (rc_ != GW_OK) {                                                 \
            fprintf(stderr, "# %s:%d: load failed: %s\n", __FILE__,         \
                    __LINE__, test_conf_err);                               \
            exit(1);                                                        \
        }                                                                   \
    } while (0)

/* The text must fail with err == PATH ":LINE: message" (msg starts with
 * the ":LINE"), and leave the defaults behind. */
#define CHECK_LOAD_ERR(text, msg)                                           \
    do {                                                                    \
        gw_conf_t  cf_;                                                     \
        char       want_[600];                                              \
        CHECK_EQ_INT(test_conf_load(&cf_, (text), NULL), GW_EINVAL);        \
        snprintf(want_, sizeof(want_), "%s%s", test_conf_path, (msg));      \
        CHECK_EQ_STR(test_conf_err, want_);                                 \
        CHECK_EQ_INT(cf_.nusers, 0);                                        \
        CHECK_EQ_INT(cf_.chunk_size, 4 << 20);                              \
        gw_conf_free(&cf_);                                                 \
    } while (0)

/* The -g text must fail with exactly this error. */
#define CHECK_EXTRA_ERR(extra, msg)                                         \
    do {                                                                    \
        gw_conf_t  cf_;                                                     \
        CHECK_EQ_INT(gw_conf_load(&cf_, NULL, (extra), test_conf_err,       \
                                  sizeof(test_conf_err)), GW_EINVAL);       \
        CHECK_EQ_STR(test_conf_err, (msg));                                 \
        gw_conf_free(&cf_);                                                 \
    } while (0)

static void
test_conf_check_defaults(const gw_conf_t *cf)
{
    CHECK_EQ_INT(cf->nlisten, 1);
    CHECK_EQ_STR(cf->listen[0].host, "127.0.0.1");
    CHECK_EQ_INT(cf->listen[0].port, 9000);
    CHECK_EQ_INT(cf->status_listen.port, 0);        /* off */
    CHECK_EQ_STR(cf->data_dir, "./data");
    CHECK_EQ_STR(cf->region, "us-east-1");
    CHECK(cf->server_name == NULL);
    CHECK(cf->website_domain == NULL);
    CHECK_EQ_INT(cf->fsync, 1);
    CHECK_EQ_INT(cf->log_level, GW_LOG_INFO);
    CHECK_EQ_INT(cf->default_object_ownership, GW_CONF_OWNERSHIP_WRITER);
    CHECK_EQ_STR(cf->access_log, "stdout");
    CHECK_EQ_INT(cf->access_log_format, GW_CONF_LOG_TEXT);
    CHECK_EQ_INT(cf->chunk_size, 4 << 20);
    CHECK_EQ_INT(cf->inline_max, 4096);
    CHECK_EQ_INT(cf->max_header_size, 16384);
    CHECK_EQ_INT(cf->max_headers, 100);
    CHECK_EQ_INT(cf->max_url, 8192);
    CHECK(cf->max_object_size == 5ull << 30);
    CHECK(cf->index_max_size == 64ull << 30);
    CHECK_EQ_INT(cf->header_timeout_ms, 30000);
    CHECK_EQ_INT(cf->idle_timeout_ms, 60000);
    CHECK_EQ_INT(cf->client_body_timeout_ms, 60000);
    CHECK_EQ_INT(cf->shutdown_timeout_ms, 10000);
    CHECK_EQ_INT(cf->gc_interval_ms, 2000);
    CHECK_EQ_INT(cf->lifecycle_day_ms, 86400000);
    CHECK_EQ_INT(cf->max_connections, 1024);
    CHECK_EQ_INT(cf->limit_conn_per_ip, 0);                 /* auto */
    CHECK_EQ_INT(gw_conf_conn_per_ip(cf), 256);
    CHECK_EQ_INT(cf->worker_processes, 0);                  /* auto */
    CHECK(gw_conf_workers(cf) >= 1 && gw_conf_workers(cf) <= 64);
    CHECK_EQ_INT(cf->listen[0].ssl, 0);
    CHECK(cf->ssl_certificate == NULL);
    CHECK(cf->ssl_certificate_key == NULL);
    CHECK(cf->ssl_ciphers == NULL);
    CHECK_EQ_INT(cf->ssl_protocols, GW_CONF_TLSV12 | GW_CONF_TLSV13);
}

static void
test_conf_check_equal(const gw_conf_t *a, const gw_conf_t *b)
{
    size_t  i;

    CHECK_EQ_INT(a->nlisten, b->nlisten);
    for (i = 0; i < a->nlisten; i++) {
        CHECK_EQ_STR(a->listen[i].host, b->listen[i].host);
        CHECK_EQ_INT(a->listen[i].port, b->listen[i].port);
        CHECK_EQ_INT(a->listen[i].ssl, b->listen[i].ssl);
        CHECK_EQ_INT(a->listen[i].proxy_protocol,
                     b->listen[i].proxy_protocol);
    }
    CHECK_EQ_STR(a->status_listen.host, b->status_listen.host);
    CHECK_EQ_INT(a->status_listen.port, b->status_listen.port);
    CHECK_EQ_INT(a->ssl_protocols, b->ssl_protocols);
    CHECK_EQ_STR(a->data_dir, b->data_dir);
    CHECK_EQ_STR(a->region, b->region);
    CHECK((a->server_name == NULL) == (b->server_name == NULL));
    CHECK((a->website_domain == NULL) == (b->website_domain == NULL));
    CHECK_EQ_INT(a->fsync, b->fsync);
    CHECK_EQ_INT(a->log_level, b->log_level);
    CHECK_EQ_INT(a->default_object_ownership, b->default_object_ownership);
    CHECK_EQ_STR(a->access_log, b->access_log);
    CHECK_EQ_INT(a->access_log_format, b->access_log_format);
    CHECK_EQ_INT(a->chunk_size, b->chunk_size);
    CHECK_EQ_INT(a->inline_max, b->inline_max);
    CHECK_EQ_INT(a->max_header_size, b->max_header_size);
    CHECK_EQ_INT(a->max_headers, b->max_headers);
    CHECK_EQ_INT(a->max_url, b->max_url);
    CHECK(a->max_object_size == b->max_object_size);
    CHECK(a->index_max_size == b->index_max_size);
    CHECK_EQ_INT(a->header_timeout_ms, b->header_timeout_ms);
    CHECK_EQ_INT(a->idle_timeout_ms, b->idle_timeout_ms);
    CHECK_EQ_INT(a->client_body_timeout_ms, b->client_body_timeout_ms);
    CHECK_EQ_INT(a->shutdown_timeout_ms, b->shutdown_timeout_ms);
    CHECK_EQ_INT(a->gc_interval_ms, b->gc_interval_ms);
    CHECK_EQ_INT(a->lifecycle_day_ms, b->lifecycle_day_ms);
    CHECK_EQ_INT(a->max_connections, b->max_connections);
    CHECK_EQ_INT(a->limit_conn_per_ip, b->limit_conn_per_ip);
    CHECK_EQ_INT(a->worker_processes, b->worker_processes);
    CHECK_EQ_INT(a->nusers, b->nusers);
    for (i = 0; i < a->nusers; i++) {
        CHECK_EQ_STR(a->users[i].name, b->users[i].name);
        CHECK_EQ_STR(a->users[i].access_key, b->users[i].access_key);
        CHECK_EQ_STR(a->users[i].secret_key, b->users[i].secret_key);
        CHECK_EQ_STR(a->users[i].display_name, b->users[i].display_name);
        CHECK_EQ_STR(a->users[i].canonical_id, b->users[i].canonical_id);
    }
}

TEST(conf_defaults)
{
    gw_conf_t  cf;

    gw_conf_init(&cf);
    test_conf_check_defaults(&cf);
    CHECK_EQ_INT(cf.nusers, 0);
    CHECK_EQ_STR(cf.file, "(embedded)");
    gw_conf_free(&cf);
    gw_conf_free(&cf);
    test_conf_check_defaults(&cf);
}

TEST(conf_embedded_matches_example)
{
    gw_conf_t   emb, file, init;
    FILE       *fp;
    char       *text;
    long        n;

    /* The embedded text is the file, byte for byte. */
    fp = fopen(TEST_CONF_EXAMPLE, "rb");
    CHECK(fp != NULL);
    CHECK(fseek(fp, 0, SEEK_END) == 0);
    n = ftell(fp);
    CHECK(n > 0);
    rewind(fp);
    text = gw_alloc((size_t) n + 1);
    CHECK(fread(text, 1, (size_t) n, fp) == (size_t) n);
    text[n] = '\0';
    fclose(fp);
    CHECK_EQ_STR(gw_conf_default_text, text);
    gw_free(text);

    CHECK_EQ_INT(gw_conf_load(&emb, NULL, NULL, test_conf_err,
                              sizeof(test_conf_err)), GW_OK);
    CHECK_EQ_INT(gw_conf_load(&file, TEST_CONF_EXAMPLE, NULL, test_conf_err,
                              sizeof(test_conf_err)), GW_OK);
    CHECK_EQ_STR(emb.file, "(embedded)");
    CHECK_EQ_STR(file.file, TEST_CONF_EXAMPLE);
    test_conf_check_equal(&emb, &file);

    /* The example states the built-in defaults, and one user. */
    test_conf_check_defaults(&emb);
    gw_conf_init(&init);
    init.users = emb.users;
    init.nusers = emb.nusers;
    test_conf_check_equal(&emb, &init);
    CHECK_EQ_INT(emb.nusers, 1);
    CHECK_EQ_STR(emb.users[0].name, "admin");
    CHECK_EQ_STR(emb.users[0].access_key, "s3gwadmin");
    CHECK_EQ_STR(emb.users[0].secret_key, "s3gwadmin-secret-change-me");
    CHECK_EQ_STR(emb.users[0].display_name, "admin");
    /* SHA-256 of "s3gw:admin". */
    CHECK_EQ_STR(emb.users[0].canonical_id,
                 "26fc6d0133115abd5c6efbfa0b7e91ca"
                 "6cd72c7b98057c7f02f1913a77ee403e");
    gw_conf_free(&emb);
    gw_conf_free(&file);
}

TEST(conf_setters)
{
    gw_conf_t  cf;

    CHECK_LOAD_OK(&cf,
        "listen 10.1.2.3:80;\n"
        "listen [::1]:9001;\n"
        "listen *:9002;\n"
        "listen 9003;\n"
        "listen localhost:9004;\n"
        "listen [::]:9005;\n"
        "listen [0:0:0:0:0:0:0:1]:9006;\n"
        "data_dir /var/lib/s3gw;\n"
        "region eu-west-3;\n"
        "server_name S3.Example.COM;\n"
        "website_domain Web.Example.COM;\n"
        "fsync off;\n"
        "log_level debug;\n"
        "default_object_ownership BucketOwnerEnforced;\n"
        "access_log /var/log/s3gw/access.log;\n"
        "chunk_size 64k;\n"
        "inline_max 0;\n"
        "max_header_size 1M;\n"
        "max_headers 8;\n"
        "max_url 256;\n"
        "max_object_size 5t;\n"
        "index_max_size 1t;\n"
        "header_timeout 500ms;\n"
        "idle_timeout 1d;\n"
        "client_body_timeout 1500ms;\n"
        "shutdown_timeout 0;\n"
        "gc_interval 2m;\n"
        "lifecycle_day 10s;\n"
        "max_connections 100000;\n"
        "limit_conn_per_ip 7;\n"
        "worker_processes 64;\n", NULL);
    CHECK_EQ_INT(cf.nlisten, 7);
    CHECK_EQ_STR(cf.listen[0].host, "10.1.2.3");
    CHECK_EQ_INT(cf.listen[0].port, 80);
    CHECK_EQ_STR(cf.listen[1].host, "::1");
    CHECK_EQ_INT(cf.listen[1].port, 9001);
    CHECK_EQ_STR(cf.listen[2].host, "0.0.0.0");
    CHECK_EQ_STR(cf.listen[3].host, "0.0.0.0");
    CHECK_EQ_INT(cf.listen[3].port, 9003);
    CHECK_EQ_STR(cf.listen[4].host, "127.0.0.1");
    CHECK_EQ_STR(cf.listen[5].host, "::");
    CHECK_EQ_STR(cf.listen[6].host, "::1");
    CHECK_EQ_STR(cf.data_dir, "/var/lib/s3gw");
    CHECK_EQ_STR(cf.region, "eu-west-3");
    CHECK_EQ_STR(cf.server_name, "s3.example.com");
    CHECK_EQ_STR(cf.website_domain, "web.example.com");
    CHECK_EQ_INT(cf.fsync, 0);
    CHECK_EQ_INT(cf.log_level, GW_LOG_DEBUG);
    CHECK_EQ_INT(cf.default_object_ownership, GW_CONF_OWNERSHIP_ENFORCED);
    CHECK_EQ_STR(cf.access_log, "/var/log/s3gw/access.log");
    CHECK_EQ_INT(cf.chunk_size, 65536);
    CHECK_EQ_INT(cf.inline_max, 0);
    CHECK_EQ_INT(cf.max_header_size, 1 << 20);
    CHECK_EQ_INT(cf.max_headers, 8);
    CHECK_EQ_INT(cf.max_url, 256);
    CHECK(cf.max_object_size == 5ull << 40);
    CHECK(cf.index_max_size == 1ull << 40);
    CHECK_EQ_INT(cf.header_timeout_ms, 500);
    CHECK_EQ_INT(cf.idle_timeout_ms, 86400000);
    CHECK_EQ_INT(cf.client_body_timeout_ms, 1500);
    CHECK_EQ_INT(cf.shutdown_timeout_ms, 0);
    CHECK_EQ_INT(cf.gc_interval_ms, 120000);
    CHECK_EQ_INT(cf.lifecycle_day_ms, 10000);
    CHECK_EQ_INT(cf.max_connections, 100000);
    CHECK_EQ_INT(cf.limit_conn_per_ip, 7);
    CHECK_EQ_INT(gw_conf_conn_per_ip(&cf), 7);
    CHECK_EQ_INT(cf.worker_processes, 64);
    CHECK_EQ_STR(cf.file, test_conf_path);
    gw_conf_free(&cf);

    /* "auto" follows max_connections; a number stands on its own. */
    CHECK_LOAD_OK(&cf, "max_connections 10; limit_conn_per_ip 5;"
                       "limit_conn_per_ip auto;", NULL);
    CHECK_EQ_INT(cf.limit_conn_per_ip, 0);
    CHECK_EQ_INT(gw_conf_conn_per_ip(&cf), 2);
    gw_conf_free(&cf);
    CHECK_LOAD_OK(&cf, "max_connections 3;", NULL);
    CHECK_EQ_INT(gw_conf_conn_per_ip(&cf), 1);
    gw_conf_free(&cf);
    CHECK_LOAD_OK(&cf, "max_connections 3; limit_conn_per_ip 50;", NULL);
    CHECK_EQ_INT(gw_conf_conn_per_ip(&cf), 50);
    gw_conf_free(&cf);

    /* More spellings of the same kinds. */
    CHECK_LOAD_OK(&cf, "fsync ON; chunk_size 1048576; idle_timeout 90;\n"
                       "header_timeout 1h; log_level crit; access_log off;\n"
                       "gc_interval 10ms; max_object_size 1K;", NULL);
    CHECK_EQ_INT(cf.fsync, 1);
    CHECK_EQ_INT(cf.chunk_size, 1 << 20);
    CHECK_EQ_INT(cf.idle_timeout_ms, 90000);
    CHECK_EQ_INT(cf.header_timeout_ms, 3600000);
    CHECK_EQ_INT(cf.log_level, GW_LOG_CRIT);
    CHECK_EQ_STR(cf.access_log, "off");
    CHECK_EQ_INT(cf.gc_interval_ms, 10);
    CHECK(cf.max_object_size == 1024);
    gw_conf_free(&cf);

    /* Bad values, each named with its file, line and directive. */
    CHECK_LOAD_ERR("\n\nchunk_size 12q;", ":3: invalid size \"12q\" in "
                   "\"chunk_size\"");
    CHECK_LOAD_ERR("chunk_size k;", ":1: invalid size \"k\" in "
                   "\"chunk_size\"");
    CHECK_LOAD_ERR("chunk_size -4m;", ":1: invalid size \"-4m\" in "
                   "\"chunk_size\"");
    CHECK_LOAD_ERR("chunk_size 4mb;", ":1: invalid size \"4mb\" in "
                   "\"chunk_size\"");
    CHECK_LOAD_ERR("chunk_size 1.5m;", ":1: invalid size \"1.5m\" in "
                   "\"chunk_size\"");
    CHECK_LOAD_ERR("max_object_size 99999999999999999999999;",
                   ":1: invalid size \"99999999999999999999999\" in "
                   "\"max_object_size\"");
    CHECK_LOAD_ERR("max_object_size 99999999999t;",
                   ":1: size \"99999999999t\" in \"max_object_size\" is out "
                   "of range (1k..5t)");
    CHECK_LOAD_ERR("index_max_size 1m;",
                   ":1: size \"1m\" in \"index_max_size\" is out "
                   "of range (16m..64t)");
    CHECK_LOAD_ERR("fsync yes;", ":1: invalid value \"yes\" in \"fsync\", "
                   "it must be \"on\" or \"off\"");
    CHECK_LOAD_ERR("default_object_ownership bucketownerenforced;",
                   ":1: invalid setting \"bucketownerenforced\" in "
                   "\"default_object_ownership\" (use ObjectWriter, "
                   "BucketOwnerPreferred or BucketOwnerEnforced)");
    CHECK_LOAD_ERR("log_level loud;", ":1: invalid log level \"loud\" in "
                   "\"log_level\" (use crit, alert, error, warn, notice, "
                   "info or debug)");
    CHECK_LOAD_ERR("idle_timeout 5w;", ":1: invalid time \"5w\" in "
                   "\"idle_timeout\" (use ms, s, m, h or d)");
    CHECK_LOAD_ERR("idle_timeout 5S;", ":1: invalid time \"5S\" in "
                   "\"idle_timeout\" (use ms, s, m, h or d)");
    CHECK_LOAD_ERR("idle_timeout s;", ":1: invalid time \"s\" in "
                   "\"idle_timeout\"");
    CHECK_LOAD_ERR("max_headers 1e3;", ":1: invalid number \"1e3\" in "
                   "\"max_headers\"");
    CHECK_LOAD_ERR("max_headers 10k;", ":1: invalid number \"10k\" in "
                   "\"max_headers\"");
    CHECK_LOAD_ERR("region eu/west;", ":1: invalid value \"eu/west\" in "
                   "\"region\" (use letters, digits, \"-\" and \"_\")");
    CHECK_LOAD_ERR("server_name .example.com;", ":1: invalid host name "
                   "\".example.com\" in \"server_name\"");
    CHECK_LOAD_ERR("server_name 'a b';", ":1: invalid host name \"a b\" in "
                   "\"server_name\"");
    CHECK_LOAD_ERR("website_domain web_x;", ":1: invalid host name "
                   "\"web_x\" in \"website_domain\"");
    CHECK_LOAD_ERR("server_name s3.test;\nwebsite_domain S3.test;",
                   ":2: \"website_domain\" must not be \"server_name\" "
                   "(s3.test)");
    CHECK_LOAD_ERR("data_dir '';", ":1: \"data_dir\" must be 1 to 4095 "
                   "characters long");
    CHECK_LOAD_ERR("data_dir 'a\\nb';", ":1: invalid character \"a\\x0ab\" "
                   "in \"data_dir\" (control characters are not allowed)");
    CHECK_LOAD_ERR("listen 127.0.0.1;", ":1: invalid port \"127.0.0.1\" in "
                   "\"listen\"");
    CHECK_LOAD_ERR("access_log 'a\\tb';", ":1: invalid character "
                   "\"a\\x09b\" in \"access_log\" (control characters are "
                   "not allowed)");
    CHECK_LOAD_ERR("listen 127.0.0.1:0;", ":1: invalid port \"0\" in "
                   "\"listen\"");
    CHECK_LOAD_ERR("listen 127.0.0.1:65536;", ":1: invalid port \"65536\" in "
                   "\"listen\"");
    CHECK_LOAD_ERR("listen 127.0.0.1:;", ":1: invalid port \"\" in "
                   "\"listen\"");
    CHECK_LOAD_ERR("listen 300.0.0.1:80;", ":1: invalid address "
                   "\"300.0.0.1\" in \"listen\"");
    CHECK_LOAD_ERR("listen example.com:80;", ":1: invalid address "
                   "\"example.com\" in \"listen\"");
    CHECK_LOAD_ERR("listen ::1:80;", ":1: invalid address \"::1:80\" in "
                   "\"listen\" (write IPv6 addresses as [ADDRESS]:PORT)");
    CHECK_LOAD_ERR("status_listen 127.0.0.1:0;", ":1: invalid port \"0\" "
                   "in \"status_listen\"");
    CHECK_LOAD_ERR("status_listen example.com:9001;", ":1: invalid address "
                   "\"example.com\" in \"status_listen\"");
    CHECK_LOAD_ERR("status_listen 127.0.0.1:9001 ssl;", ":1: invalid "
                   "number of arguments in \"status_listen\" directive");
    CHECK_LOAD_ERR("listen [::1]80;", ":1: invalid address \"[::1]80\" in "
                   "\"listen\" (expected [ADDRESS]:PORT)");
    CHECK_LOAD_ERR("listen [1.2.3.4]:80;", ":1: invalid address \"1.2.3.4\" "
                   "in \"listen\"");
    CHECK_LOAD_ERR("listen :80;", ":1: invalid address \":80\" in "
                   "\"listen\" (write IPv6 addresses as [ADDRESS]:PORT)");
    CHECK_LOAD_ERR("listen 1.2.3.4:80;\nlisten 1.2.3.4:80;",
                   ":2: duplicate \"listen\" \"1.2.3.4:80\"");
    CHECK_LOAD_ERR("listen 1; listen 2; listen 3; listen 4; listen 5;\n"
                   "listen 6; listen 7; listen 8; listen 9;",
                   ":2: too many \"listen\" directives (at most 8)");
}

TEST(conf_bounds)
{
    gw_conf_t  cf;

    CHECK_LOAD_ERR("chunk_size 63k;", ":1: size \"63k\" in \"chunk_size\" "
                   "is out of range (64k..64m)");
    CHECK_LOAD_ERR("chunk_size 65m;", ":1: size \"65m\" in \"chunk_size\" "
                   "is out of range (64k..64m)");
    CHECK_LOAD_ERR("inline_max 257k;", ":1: size \"257k\" in \"inline_max\" "
                   "is out of range (0..256k)");
    CHECK_LOAD_ERR("max_header_size 1023;", ":1: size \"1023\" in "
                   "\"max_header_size\" is out of range (1k..1m)");
    CHECK_LOAD_ERR("max_url 255;", ":1: size \"255\" in \"max_url\" is out "
                   "of range (256..64k)");
    CHECK_LOAD_ERR("max_object_size 6t;", ":1: size \"6t\" in "
                   "\"max_object_size\" is out of range (1k..5t)");
    CHECK_LOAD_ERR("max_headers 7;", ":1: number \"7\" in \"max_headers\" is "
                   "out of range (8..1000)");
    CHECK_LOAD_ERR("max_headers 1001;", ":1: number \"1001\" in "
                   "\"max_headers\" is out of range (8..1000)");
    CHECK_LOAD_ERR("max_connections 0;", ":1: number \"0\" in "
                   "\"max_connections\" is out of range (1..100000)");
    CHECK_LOAD_ERR("limit_conn_per_ip 0;", ":1: number \"0\" in "
                   "\"limit_conn_per_ip\" is out of range (1..100000)");
    CHECK_LOAD_ERR("limit_conn_per_ip many;", ":1: invalid number "
                   "\"many\" in \"limit_conn_per_ip\"");
    CHECK_LOAD_ERR("worker_processes 65;", ":1: number \"65\" in "
                   "\"worker_processes\" is out of range (1..64)");
    CHECK_LOAD_ERR("worker_processes 0;", ":1: number \"0\" in "
                   "\"worker_processes\" is out of range (1..64)");
    CHECK_LOAD_ERR("client_body_timeout 2d;", ":1: time \"2d\" in "
                   "\"client_body_timeout\" is out of range (100ms..1d)");
    CHECK_LOAD_ERR("header_timeout 99ms;", ":1: time \"99ms\" in "
                   "\"header_timeout\" is out of range (100ms..1h)");
    CHECK_LOAD_ERR("idle_timeout 2d;", ":1: time \"2d\" in "
                   "\"idle_timeout\" is out of range (100ms..1d)");
    CHECK_LOAD_ERR("lifecycle_day 500ms;", ":1: time \"500ms\" in "
                   "\"lifecycle_day\" is out of range (1s..1d)");
    CHECK_LOAD_ERR("lifecycle_day 2d;", ":1: time \"2d\" in "
                   "\"lifecycle_day\" is out of range (1s..1d)");
    CHECK_LOAD_ERR("gc_interval 99999999999999999d;", ":1: time "
                   "\"99999999999999999d\" in \"gc_interval\" is out of "
                   "range (10ms..1h)");
    /* inline_max must stay below chunk_size; reported at the later one. */
    CHECK_LOAD_ERR("chunk_size 64k;\ninline_max 64k;\n",
                   ":2: \"inline_max\" (64k) must be less than "
                   "\"chunk_size\" (64k)");
    CHECK_LOAD_ERR("inline_max 128k;\n\nchunk_size 64k;\n",
                   ":3: \"inline_max\" (128k) must be less than "
                   "\"chunk_size\" (64k)");
    CHECK_EXTRA_ERR("inline_max 256k; chunk_size 128k;", "(command line):1: "
                    "\"inline_max\" (256k) must be less than \"chunk_size\" "
                    "(128k)");
    /* The edges themselves are fine. */
    CHECK_LOAD_OK(&cf, "chunk_size 257k; inline_max 256k; max_headers 1000;"
                       "max_url 64k; max_header_size 1k;", NULL);
    CHECK_EQ_INT(cf.inline_max, 256 * 1024);
    gw_conf_free(&cf);
}

TEST(conf_syntax)
{
    gw_conf_t  cf;

    /* Comments, odd spacing, quotes and escapes. */
    CHECK_LOAD_OK(&cf,
        "# a comment\n"
        "  region\tap-south-1 ;# trailing comment; data_dir /nope;\n"
        "data_dir \"/srv/my data;{}#\";\n"
        "user u1 { access_key AK1; secret_key \"q\\\"uo\\'te\\\\d\\x\"; "
        "display_name 'O\\'Brien \"Bob\"'; }\n"
        "user\nu2\n{\naccess_key\nAK2\n;\nsecret_key s#not-a-comment;}\n",
        NULL);
    CHECK_EQ_STR(cf.region, "ap-south-1");
    CHECK_EQ_STR(cf.data_dir, "/srv/my data;{}#");
    CHECK_EQ_INT(cf.nusers, 2);
    CHECK_EQ_STR(cf.users[0].secret_key, "q\"uo'te\\d\\x");
    CHECK_EQ_STR(cf.users[0].display_name, "O'Brien \"Bob\"");
    CHECK_EQ_STR(cf.users[1].secret_key, "s#not-a-comment");
    gw_conf_free(&cf);

    /* Quotes must be followed by a separator. */
    CHECK_LOAD_ERR("access_log '/tmp/it''s';", ":1: unexpected \"'\" after "
                   "a quoted string");
    CHECK_LOAD_ERR("region \"a\"b;", ":1: unexpected \"b\" after a quoted "
                   "string");
    CHECK_LOAD_ERR("\nregion \"us-east-1;\n\n", ":2: unexpected end of file "
                   "in the string that starts here");
    CHECK_LOAD_ERR("region 'x\\", ":1: unexpected end of file in the string "
                   "that starts here");

    /* Directives. */
    CHECK_LOAD_ERR("\n\n\n\n\n\nlisen 127.0.0.1:9000;",
                   ":7: unknown directive \"lisen\"");
    CHECK_LOAD_ERR("\nlisten 127.0.0.1:9000", ":2: directive \"listen\" has "
                   "no \";\"");
    CHECK_LOAD_ERR("listen 127.0.0.1:9000 { }", ":1: directive \"listen\" "
                   "has no \";\"");
    CHECK_LOAD_ERR("region;", ":1: invalid number of arguments in "
                   "\"region\" directive");
    CHECK_LOAD_ERR("region a b;", ":1: invalid number of arguments in "
                   "\"region\" directive");
    CHECK_LOAD_ERR("region a b c d e f g h i j k;", ":1: invalid number of "
                   "arguments in \"region\" directive");
    CHECK_LOAD_ERR("; region a;", ":1: unexpected \";\"");
    CHECK_LOAD_ERR("{ }", ":1: unexpected \"{\"");
    CHECK_LOAD_ERR("region a;\n}", ":2: unexpected \"}\"");
    CHECK_LOAD_ERR("\"\" x;", ":1: unknown directive \"\"");
    CHECK_LOAD_ERR("bad\001name;", ":1: unknown directive \"bad\\x01name\"");
    {
        /* The NUL is inside the text, so write it with its length. */
        gw_conf_t  c2;
        char       want[600];

        test_conf_write("region a;\nx\0y;", 14);
        CHECK_EQ_INT(gw_conf_load(&c2, test_conf_path, NULL, test_conf_err,
                                  sizeof(test_conf_err)), GW_EINVAL);
        snprintf(want, sizeof(want), "%s:2: unexpected NUL byte",
                 test_conf_path);
        CHECK_EQ_STR(test_conf_err, want);
        unlink(test_conf_path);
    }
    /* A long name is cut short in the message. */
    CHECK_LOAD_ERR("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                   "aaaaaaaaaaaaaaaaaaaaaaaaaaaa;",
                   ":1: unknown directive "
                   "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...\"");

    /* status_listen: the forms of listen; -g replaces the file's. */
    CHECK_LOAD_OK(&cf, "status_listen [::1]:9001;", NULL);
    CHECK_EQ_STR(cf.status_listen.host, "::1");
    CHECK_EQ_INT(cf.status_listen.port, 9001);
    CHECK_EQ_INT(cf.nlisten, 1);                    /* S3's untouched */
    gw_conf_free(&cf);
    CHECK_LOAD_OK(&cf, "status_listen 9001;", "status_listen localhost:9002;");
    CHECK_EQ_STR(cf.status_listen.host, "127.0.0.1");
    CHECK_EQ_INT(cf.status_listen.port, 9002);
    gw_conf_free(&cf);

    /* Empty and comment-only files give the defaults. */
    CHECK_LOAD_OK(&cf, "", NULL);
    test_conf_check_defaults(&cf);
    CHECK_EQ_INT(cf.nusers, 0);
    gw_conf_free(&cf);
    CHECK_LOAD_OK(&cf, "# nothing\n  \n# here", NULL);
    test_conf_check_defaults(&cf);
    gw_conf_free(&cf);

    /* A missing file. */
    CHECK_EQ_INT(gw_conf_load(&cf, "/nonexistent/s3gw.conf", NULL,
                              test_conf_err, sizeof(test_conf_err)),
                 GW_EINVAL);
    CHECK_EQ_STR(test_conf_err, "/nonexistent/s3gw.conf: cannot open: "
                 "No such file or directory");
    gw_conf_free(&cf);
    /* A directory opens but cannot be read. */
    CHECK_EQ_INT(gw_conf_load(&cf, "/", NULL, test_conf_err,
                              sizeof(test_conf_err)), GW_EINVAL);
    CHECK_EQ_STR(test_conf_err, "/: cannot read: Is a directory");
    gw_conf_free(&cf);
    /* A tiny or absent err buffer is fine. */
    CHECK_EQ_INT(gw_conf_load(&cf, NULL, "bogus;", test_conf_err, 5),
                 GW_EINVAL);
    CHECK_EQ_STR(test_conf_err, "(com");
    CHECK_EQ_INT(gw_conf_load(&cf, NULL, "bogus;", NULL, 0), GW_EINVAL);
    gw_conf_free(&cf);
}

TEST(conf_blocks)
{
    CHECK_LOAD_ERR("user a {\n  access_key AK;\n  secret_key SK;\n\n",
                   ":5: unexpected end of file, expecting \"}\"");
    CHECK_LOAD_ERR("user a {\n  user b { }\n}", ":2: \"user\" directive is "
                   "not allowed here");
    CHECK_LOAD_ERR("user a {\n  region x;\n}", ":2: \"region\" directive is "
                   "not allowed here");
    CHECK_LOAD_ERR("\n\n\naccess_key AK;", ":4: \"access_key\" directive is "
                   "not allowed here");
    CHECK_LOAD_ERR("user a;", ":1: directive \"user\" has no opening \"{\"");
    CHECK_LOAD_ERR("user { access_key AK; }", ":1: invalid number of "
                   "arguments in \"user\" directive");
    CHECK_LOAD_ERR("user a b { access_key AK; }", ":1: invalid number of "
                   "arguments in \"user\" directive");
    CHECK_LOAD_ERR("user a { access_key AK }", ":1: directive \"access_key\" "
                   "has no \";\"");
    CHECK_LOAD_ERR("user a { { } }", ":1: unexpected \"{\"");
    CHECK_LOAD_ERR("user a { access_key AK; secret_key SK; } }",
                   ":1: unexpected \"}\"");
    CHECK_LOAD_ERR("user a { { access_key x; }", ":1: unexpected \"{\"");
}

TEST(conf_command_line)
{
    gw_conf_t  cf;

    /* -g moves the server and the data. */
    CHECK_LOAD_OK(&cf, "listen 127.0.0.1:9000;\nlisten [::1]:9000;\n"
                       "data_dir /a;\n",
                  "listen 127.0.0.1:9123; data_dir /tmp/b;");
    CHECK_EQ_INT(cf.nlisten, 1);
    CHECK_EQ_STR(cf.listen[0].host, "127.0.0.1");
    CHECK_EQ_INT(cf.listen[0].port, 9123);
    CHECK_EQ_STR(cf.data_dir, "/tmp/b");
    gw_conf_free(&cf);

    /* Several listens in one -g accumulate; other file values stay. */
    CHECK_LOAD_OK(&cf, "listen 1.1.1.1:1; region r1;",
                  "listen 2.2.2.2:2;\nlisten 3.3.3.3:3;");
    CHECK_EQ_INT(cf.nlisten, 2);
    CHECK_EQ_STR(cf.listen[0].host, "2.2.2.2");
    CHECK_EQ_STR(cf.listen[1].host, "3.3.3.3");
    CHECK_EQ_STR(cf.region, "r1");
    gw_conf_free(&cf);

    /* -g on the embedded default, with a user. */
    CHECK_EQ_INT(gw_conf_load(&cf, NULL, "fsync off; user bob { access_key "
                              "BOBKEY; secret_key bobsecret; }",
                              test_conf_err, sizeof(test_conf_err)), GW_OK);
    CHECK_EQ_INT(cf.fsync, 0);
    CHECK_EQ_INT(cf.nlisten, 1);
    CHECK_EQ_INT(cf.listen[0].port, 9000);
    CHECK_EQ_INT(cf.nusers, 2);
    CHECK_EQ_STR(cf.users[1].name, "bob");
    CHECK_EQ_STR(cf.file, "(embedded)");
    gw_conf_free(&cf);

    /* Empty -g text is fine. */
    CHECK_EQ_INT(gw_conf_load(&cf, NULL, "", test_conf_err,
                              sizeof(test_conf_err)), GW_OK);
    gw_conf_free(&cf);

    /* Errors in -g are named (command line). */
    CHECK_EXTRA_ERR("data_dir /x; lisen 1;",
                    "(command line):1: unknown directive \"lisen\"");
    CHECK_EXTRA_ERR("data_dir /x;\nchunk_size 1q;",
                    "(command line):2: invalid size \"1q\" in "
                    "\"chunk_size\"");
    CHECK_EXTRA_ERR("listen 9000", "(command line):1: directive \"listen\" "
                    "has no \";\"");
}

TEST(conf_users)
{
    gw_conf_t              cf;
    const gw_conf_user_t  *u;

    CHECK_LOAD_OK(&cf,
        "user alice {\n"
        "    access_key AKIAALICE;\n"
        "    secret_key 'alice/secret+key';\n"
        "    display_name \"Alice Example\";\n"
        "    canonical_id 0123456789ABCDEF0123456789abcdef"
        "0123456789abcdef0123456789ABCDEF;\n"
        "}\n"
        "user bob { access_key BOB_key-1.2~3; secret_key b; }\n", NULL);
    CHECK_EQ_INT(cf.nusers, 2);
    CHECK_EQ_STR(cf.users[0].display_name, "Alice Example");
    CHECK_EQ_STR(cf.users[0].canonical_id,
                 "0123456789abcdef0123456789abcdef"
                 "0123456789abcdef0123456789abcdef");
    CHECK_EQ_STR(cf.users[1].display_name, "bob");
    CHECK_EQ_STR(cf.users[1].canonical_id,
                 "5292f5d2e03c49dfcef224bc5a84b342"
                 "928936992429ad5f85f5c68023a4bd1a");
    u = gw_conf_user_by_access_key(&cf, "AKIAALICE", 9);
    CHECK(u == &cf.users[0]);
    CHECK(gw_conf_user_by_access_key(&cf, "AKIAALICEX", 9) == u);
    CHECK(gw_conf_user_by_access_key(&cf, "AKIAALIC", 8) == NULL);
    CHECK(gw_conf_user_by_access_key(&cf, "akiaalice", 9) == NULL);
    CHECK(gw_conf_user_by_access_key(&cf, "BOB_key-1.2~3", 13)
          == &cf.users[1]);
    gw_conf_free(&cf);

    /* A block with an existing name replaces the user, in -g too. */
    CHECK_LOAD_OK(&cf, "user a { access_key K1; secret_key S1; }\n"
                       "user b { access_key K2; secret_key S2; }\n"
                       "user a { access_key K3; secret_key S3; "
                       "display_name A; }\n",
                  "user b { access_key K1; secret_key S4; }");
    CHECK_EQ_INT(cf.nusers, 2);
    CHECK_EQ_STR(cf.users[0].access_key, "K3");
    CHECK_EQ_STR(cf.users[0].display_name, "A");
    CHECK_EQ_STR(cf.users[1].access_key, "K1");
    CHECK_EQ_STR(cf.users[1].secret_key, "S4");
    CHECK(gw_conf_user_by_access_key(&cf, "K2", 2) == NULL);
    gw_conf_free(&cf);

    /* A later directive in a block wins, as at top level. */
    CHECK_LOAD_OK(&cf, "user a { access_key K1; access_key K2; "
                       "secret_key S; }", NULL);
    CHECK_EQ_STR(cf.users[0].access_key, "K2");
    gw_conf_free(&cf);

    CHECK_LOAD_ERR("\nuser a {\n secret_key S;\n}",
                   ":2: user \"a\" has no \"access_key\"");
    CHECK_LOAD_ERR("user a {\n access_key AKX;\n}",
                   ":1: user \"a\" has no \"secret_key\"");
    CHECK_LOAD_ERR("user a { access_key K1; secret_key S; }\n"
                   "user b { access_key K1; secret_key S; }",
                   ":2: duplicate access key \"K1\" in users \"a\" and "
                   "\"b\"");
    CHECK_LOAD_ERR("user a { access_key K1; secret_key S; canonical_id "
                   "00000000000000000000000000000000"
                   "00000000000000000000000000000000; }\n"
                   "user b { access_key K2; secret_key S; canonical_id "
                   "00000000000000000000000000000000"
                   "00000000000000000000000000000000; }",
                   ":2: duplicate \"canonical_id\" in users \"a\" and \"b\"");
    CHECK_LOAD_ERR("user a { access_key 'AK/1'; secret_key S; }",
                   ":1: invalid value \"AK/1\" in \"access_key\" (use "
                   "letters, digits, \"-\", \"_\", \".\" and \"~\")");
    CHECK_LOAD_ERR("user a { access_key AK; secret_key S; }\n"
                   "user a { access_key AK; secret_key S; canonical_id 12; }",
                   ":2: invalid value \"12\" in \"canonical_id\" (expected "
                   "64 hex digits)");
    CHECK_LOAD_ERR("user a { access_key ''; }", ":1: \"access_key\" must be "
                   "1 to 128 characters long");
    CHECK_LOAD_ERR("user 'a b' { }", ":1: invalid user name \"a b\" in "
                   "\"user\" (use printable ASCII without spaces)");
    /* Secrets are never echoed. */
    CHECK_LOAD_ERR("user a { access_key AK1; secret_key 'top\tsecret'; }",
                   ":1: invalid character in \"secret_key\" (control "
                   "characters are not allowed)");
    CHECK_LOAD_ERR("user a { access_key AK1; secret_key 's\xc3\xa9" "cret'; }",
                   ":1: invalid value in \"secret_key\" (use printable "
                   "ASCII)");
    CHECK_LOAD_ERR("user a { access_key AK1; secret_key ''; }",
                   ":1: \"secret_key\" must be 1 to 256 characters long");
}

TEST(conf_summary)
{
    gw_conf_t  cf;
    char      *out = NULL;
    size_t     len = 0;
    FILE      *fp;

    CHECK_LOAD_OK(&cf, "listen [::1]:9001; listen *:9002; region r2;"
                       "server_name s3.test; data_dir /d;"
                       "website_domain web.test;"
                       "user admin { access_key AK1; secret_key SK1; }", NULL);
    fp = open_memstream(&out, &len);
    CHECK(fp != NULL);
    gw_conf_print_summary(&cf, fp);
    fclose(fp);
    CHECK(strstr(out, "http://[::1]:9001") != NULL);
    CHECK(strstr(out, "http://0.0.0.0:9002") != NULL);
    CHECK(strstr(out, "r2") != NULL);
    CHECK(strstr(out, "/d") != NULL);
    CHECK(strstr(out, "s3.test") != NULL);
    CHECK(strstr(out, "BUCKET.web.test") != NULL);
    CHECK(strstr(out, "AK1") != NULL);
    CHECK(strstr(out, "SK1") == NULL);     /* a file's secret stays there */
    /* The account id derived from SHA-256 of "s3gw:admin". */
    CHECK(strstr(out, "account 829117092010") != NULL);
    free(out);
    gw_conf_free(&cf);

    /* The embedded default's keys are public: shown so clients can use them. */
    out = NULL;
    CHECK(gw_conf_load(&cf, NULL, NULL, NULL, 0) == GW_OK);
    fp = open_memstream(&out, &len);
    gw_conf_print_summary(&cf, fp);
    fclose(fp);
    CHECK(strstr(out, "s3gwadmin-secret-change-me") != NULL);
    free(out);
    gw_conf_free(&cf);

    /* But not a secret given with -g, even over the embedded default, nor
     * a -g user replacing the default one. */
    out = NULL;
    CHECK(gw_conf_load(&cf, NULL, "user eve { access_key AKEVE; "
                       "secret_key EVESECRET; } user admin { access_key AK2;"
                       " secret_key ADMINSECRET; }", NULL, 0) == GW_OK);
    fp = open_memstream(&out, &len);
    gw_conf_print_summary(&cf, fp);
    fclose(fp);
    CHECK(strstr(out, "AKEVE") != NULL);
    CHECK(strstr(out, "AK2") != NULL);
    CHECK(strstr(out, "EVESECRET") == NULL);
    CHECK(strstr(out, "ADMINSECRET") == NULL);
    CHECK(strstr(out, "s3gwadmin-secret-change-me") == NULL);
    free(out);
    gw_conf_free(&cf);

    out = NULL;
    gw_conf_init(&cf);
    fp = open_memstream(&out, &len);
    gw_conf_print_summary(&cf, fp);
    fclose(fp);
    CHECK(strstr(out, "http://127.0.0.1:9000") != NULL);
    CHECK(strstr(out, "none") != NULL);
    free(out);
}

/* listen ... ssl and the ssl_* directives. The certificate's contents are
 * checked where it is loaded (http/tls.c, test_tls.py); here only that the
 * files are readable and the directives fit together. */
TEST(conf_tls)
{
    gw_conf_t  cf;

    CHECK_LOAD_OK(&cf, "listen 127.0.0.1:9000;\n"
                  "listen [::1]:9443 ssl;\n"
                  "ssl_certificate " TEST_CONF_EXAMPLE ";\n"
                  "ssl_certificate_key " TEST_CONF_EXAMPLE ";\n"
                  "ssl_protocols TLSv1.3;\n"
                  "ssl_ciphers ECDHE+AESGCM;\n", NULL);
    CHECK_EQ_INT(cf.nlisten, 2);
    CHECK_EQ_INT(cf.listen[0].ssl, 0);
    CHECK_EQ_INT(cf.listen[1].ssl, 1);
    CHECK_EQ_STR(cf.listen[1].host, "::1");
    CHECK_EQ_STR(cf.ssl_certificate, TEST_CONF_EXAMPLE);
    CHECK_EQ_STR(cf.ssl_certificate_key, TEST_CONF_EXAMPLE);
    CHECK_EQ_STR(cf.ssl_ciphers, "ECDHE+AESGCM");
    CHECK_EQ_INT(cf.ssl_protocols, GW_CONF_TLSV13);
    gw_conf_free(&cf);

    /* -g moves the TLS listener like any listen. */
    CHECK_LOAD_OK(&cf, "ssl_certificate " TEST_CONF_EXAMPLE ";\n"
                  "ssl_certificate_key " TEST_CONF_EXAMPLE ";\n",
                  "listen 127.0.0.1:9443 ssl; ssl_protocols TLSv1.2;");
    CHECK_EQ_INT(cf.nlisten, 1);
    CHECK_EQ_INT(cf.listen[0].ssl, 1);
    CHECK_EQ_INT(cf.ssl_protocols, GW_CONF_TLSV12);
    gw_conf_free(&cf);

    CHECK_LOAD_ERR("listen 127.0.0.1:9443 tls;", ":1: invalid parameter "
                   "\"tls\" in \"listen\" (they are \"ssl\" and "
                   "\"proxy_protocol\")");
    CHECK_LOAD_ERR("listen 127.0.0.1:9443 ssl ssl;", ":1: invalid parameter "
                   "\"ssl\" in \"listen\" (they are \"ssl\" and "
                   "\"proxy_protocol\")");
    CHECK_LOAD_ERR("listen 127.0.0.1:9000;\nlisten 127.0.0.1:9443 ssl;\n",
                   ":2: no \"ssl_certificate\" is defined for the "
                   "\"listen ... ssl\" directive");
    CHECK_LOAD_ERR("ssl_certificate " TEST_CONF_EXAMPLE ";\n",
                   ":1: no \"ssl_certificate_key\" is defined for "
                   "\"ssl_certificate\"");
    CHECK_LOAD_ERR("ssl_certificate /nonexistent/cert.pem;",
                   ":1: cannot read \"ssl_certificate\" "
                   "\"/nonexistent/cert.pem\": No such file or directory");
    CHECK_LOAD_ERR("ssl_protocols TLSv1.1 TLSv1.2;", ":1: \"TLSv1.1\" in "
                   "\"ssl_protocols\" is not supported: TLSv1.2 and TLSv1.3 "
                   "only");
    CHECK_LOAD_ERR("ssl_protocols TLSv1;", ":1: \"TLSv1\" in "
                   "\"ssl_protocols\" is not supported: TLSv1.2 and TLSv1.3 "
                   "only");
    CHECK_LOAD_ERR("ssl_protocols TLSv1.4;", ":1: invalid protocol "
                   "\"TLSv1.4\" in \"ssl_protocols\" (TLSv1.2 or TLSv1.3)");
    CHECK_EXTRA_ERR("listen 127.0.0.1:9443 ssl;", "(command line):1: no "
                    "\"ssl_certificate\" is defined for the \"listen ... "
                    "ssl\" directive");
}

/* listen ... proxy_protocol, alone or with ssl in either order. */
TEST(conf_proxy_protocol)
{
    gw_conf_t  cf;
    FILE      *fp;
    char       out[4096];
    size_t     n;

    CHECK_LOAD_OK(&cf, "listen 127.0.0.1:9000;\n"
                  "listen 127.0.0.1:9001 proxy_protocol;\n"
                  "listen [::1]:9443 ssl proxy_protocol;\n"
                  "listen 127.0.0.1:9444 proxy_protocol ssl;\n"
                  "ssl_certificate " TEST_CONF_EXAMPLE ";\n"
                  "ssl_certificate_key " TEST_CONF_EXAMPLE ";\n", NULL);
    CHECK_EQ_INT(cf.nlisten, 4);
    CHECK_EQ_INT(cf.listen[0].proxy_protocol, 0);
    CHECK_EQ_INT(cf.listen[1].proxy_protocol, 1);
    CHECK_EQ_INT(cf.listen[1].ssl, 0);
    CHECK_EQ_INT(cf.listen[2].proxy_protocol, 1);
    CHECK_EQ_INT(cf.listen[2].ssl, 1);
    CHECK_EQ_INT(cf.listen[3].proxy_protocol, 1);
    CHECK_EQ_INT(cf.listen[3].ssl, 1);
    fp = fmemopen(out, sizeof(out) - 1, "w");
    CHECK(fp != NULL);
    gw_conf_print_summary(&cf, fp);
    n = (size_t) ftell(fp);
    fclose(fp);
    out[n] = '\0';
    CHECK(strstr(out, "http://127.0.0.1:9001  (PROXY protocol)\n") != NULL);
    CHECK(strstr(out, "http://127.0.0.1:9000\n") != NULL);
    gw_conf_free(&cf);

    CHECK_LOAD_ERR("listen 127.0.0.1:9001 proxy_protocol proxy_protocol;",
                   ":1: invalid parameter \"proxy_protocol\" in \"listen\" "
                   "(they are \"ssl\" and \"proxy_protocol\")");
    CHECK_LOAD_ERR("listen 127.0.0.1:9001 proxy;", ":1: invalid parameter "
                   "\"proxy\" in \"listen\" (they are \"ssl\" and "
                   "\"proxy_protocol\")");
    CHECK_LOAD_ERR("listen 127.0.0.1:9001 ssl proxy_protocol x;", ":1: "
                   "invalid number of arguments in \"listen\" directive");
}

/* Random bytes, and random sequences of config-ish tokens (which get much
 * deeper into the parser), must load or fail cleanly, never crash. */
TEST(conf_garbage)
{
    static const char  *pieces[] = {
        "user", "u", "{", "}", ";", " ", "\n", "#", "\"", "'", "\\",
        "listen", "[::1]:9000", "127.0.0.1:1", "*:2", "access_key",
        "secret_key", "AK", "SK", "canonical_id", "display_name",
        "chunk_size", "4m", "inline_max", "64k", "idle_timeout", "5ms",
        "fsync", "on", "log_level", "debug", "data_dir", "region", "x",
        "\xff", "\t", "999999999999999999999", "0",
    };
    char               buf[512];
    uint64_t           s = 0x2545F4914F6CDD1Dull;
    gw_conf_t          cf;
    size_t             n, len, k;
    int                i, rc, ok = 0;

    for (i = 0; i < 4000; i++) {
        len = 0;
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        n = s % sizeof(buf);
        if (i % 2 == 0) {
            for (len = 0; len < n; len++) {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                buf[len] = (char) (s >> 24);
            }
        } else {
            while (len < n) {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                k = strlen(pieces[s % GW_NELEMS(pieces)]);
                if (len + k + 1 > sizeof(buf)) {
                    break;
                }
                memcpy(buf + len, pieces[s % GW_NELEMS(pieces)], k);
                len += k;
                buf[len++] = (s >> 40) % 3 ? ' ' : ';';
            }
        }
        test_conf_write(buf, len);
        test_conf_err[0] = '\0';
        rc = gw_conf_load(&cf, test_conf_path, i % 3 ? NULL : "region z;",
                          test_conf_err, sizeof(test_conf_err));
        CHECK(rc == GW_OK || rc == GW_EINVAL);
        if (rc == GW_OK) {
            ok++;
            CHECK(cf.nlisten >= 1);
        } else {
            CHECK(strncmp(test_conf_err, test_conf_path,
                          strlen(test_conf_path)) == 0
                  || strncmp(test_conf_err, "(command line):", 15) == 0);
        }
        gw_conf_free(&cf);
    }
    unlink(test_conf_path);
    CHECK(ok > 0);
}

TEST(conf_accounts_and_proxies)
{
    gw_conf_t              cf;
    gw_conf_cidr_t         c;
    unsigned char          a4[4] = { 10, 1, 2, 3 }, a6[16] = { 0x20, 0x01,
                                     0x0d, 0xb8 }, mapped[16] = { 0 };
    FILE                  *fp;
    char                   err[512];

    CHECK_LOAD_OK(&cf,
        "user alice { access_key A; secret_key S; account_id 123456789012;\n"
        "             email alice@example.com; }\n"
        "user bob { access_key B; secret_key S; }\n"
        "trusted_proxy 10.0.0.0/8;\n"
        "trusted_proxy 2001:db8::/32;\n"
        "trusted_proxy 127.0.0.1;\n", NULL);
    CHECK_EQ_STR(cf.users[0].account_id, "123456789012");
    CHECK_EQ_STR(cf.users[0].email, "alice@example.com");
    CHECK(cf.users[1].email == NULL);
    /* Derived from SHA-256 of "s3gw:bob" (5292f5d2...): each byte mod 10. */
    CHECK_EQ_STR(cf.users[1].account_id, "265040336268");
    CHECK_EQ_INT(cf.ntrusted_proxy, 3);
    CHECK(gw_conf_cidr_match(&cf.trusted_proxy[0], AF_INET, a4));
    a4[0] = 11;
    CHECK(!gw_conf_cidr_match(&cf.trusted_proxy[0], AF_INET, a4));
    CHECK(gw_conf_cidr_match(&cf.trusted_proxy[1], AF_INET6, a6));
    CHECK(!gw_conf_cidr_match(&cf.trusted_proxy[0], AF_INET6, a6));
    /* ::ffff:127.0.0.1 is 127.0.0.1. */
    mapped[10] = mapped[11] = 0xff;
    mapped[12] = 127;
    mapped[15] = 1;
    CHECK(gw_conf_cidr_match(&cf.trusted_proxy[2], AF_INET6, mapped));
    gw_conf_free(&cf);

    CHECK_EQ_INT(gw_conf_cidr_parse("10.0.0.0/33", 11, &c), GW_EINVAL);
    CHECK_EQ_INT(gw_conf_cidr_parse("10.0.0.0/", 9, &c), GW_EINVAL);
    CHECK_EQ_INT(gw_conf_cidr_parse("nonsense", 8, &c), GW_EINVAL);
    CHECK_EQ_INT(gw_conf_cidr_parse("::/0", 4, &c), GW_OK);
    CHECK_EQ_INT(c.bits, 0);
    CHECK(gw_conf_cidr_match(&c, AF_INET6, a6));
    CHECK_EQ_INT(gw_conf_cidr_parse("10.0.0.0/12", 11, &c), GW_OK);
    a4[0] = 10;
    a4[1] = 15;
    CHECK(gw_conf_cidr_match(&c, AF_INET, a4));
    a4[1] = 16;
    CHECK(!gw_conf_cidr_match(&c, AF_INET, a4));

    CHECK_LOAD_ERR("trusted_proxy 10.0.0.0/40;",
                   ":1: invalid address \"10.0.0.0/40\" in \"trusted_proxy\" "
                   "(expected ADDRESS or ADDRESS/BITS)");
    CHECK_LOAD_ERR("user a { access_key K; secret_key S; account_id 12; }",
                   ":1: invalid value \"12\" in \"account_id\" "
                   "(expected 12 digits)");
    CHECK_LOAD_ERR("user a { access_key K1; secret_key S; account_id "
                   "111111111111; }\nuser b { access_key K2; secret_key S; "
                   "account_id 111111111111; }",
                   ":2: duplicate \"account_id\" in users \"a\" and \"b\"");

    /* Reloading takes the new users and proxies and keeps the old users'
     * memory for requests still holding them. */
    fp = fopen(test_conf_path, "w");
    CHECK(fp != NULL);
    fputs("user a { access_key K1; secret_key S; }\n", fp);
    fclose(fp);
    CHECK_EQ_INT(gw_conf_load(&cf, test_conf_path, NULL, err, sizeof(err)),
                 GW_OK);
    {
        const gw_conf_user_t  *held = gw_conf_user_by_access_key(&cf, "K1", 2);

        fp = fopen(test_conf_path, "w");
        CHECK(fp != NULL);
        fputs("user b { access_key K2; secret_key S; }\n"
              "trusted_proxy 192.0.2.1;\nchunk_size 1m;\n", fp);
        fclose(fp);
        CHECK_EQ_INT(gw_conf_reload_users(&cf, test_conf_path, NULL, err,
                                          sizeof(err)), GW_OK);
        CHECK(gw_conf_user_by_access_key(&cf, "K1", 2) == NULL);
        CHECK(gw_conf_user_by_access_key(&cf, "K2", 2) != NULL);
        CHECK_EQ_INT(cf.ntrusted_proxy, 1);
        CHECK_EQ_INT(cf.chunk_size, 4 << 20);     /* needs a restart */
        CHECK_EQ_STR(held->secret_key, "S");      /* still allocated */
    }
    fp = fopen(test_conf_path, "w");
    CHECK(fp != NULL);
    fputs("user c { secret_key S; }\n", fp);
    fclose(fp);
    CHECK_EQ_INT(gw_conf_reload_users(&cf, test_conf_path, NULL, err,
                                      sizeof(err)), GW_EINVAL);
    CHECK(strstr(err, "has no \"access_key\"") != NULL);
    CHECK(gw_conf_user_by_access_key(&cf, "K2", 2) != NULL);
    gw_conf_free(&cf);
}

TEST(conf_replication_targets)
{
    gw_conf_t                cf;
    const gw_conf_target_t  *t;
    char                    *out = NULL;
    size_t                   len = 0;
    FILE                    *fp;

    CHECK_LOAD_OK(&cf,
        "max_connections 5;\n"
        "replication_target remote {\n"
        "    endpoint https://Replica.Example.com:9443/;\n"
        "    access_key AK1;  secret_key 'SK1/secret+key';\n"
        "    region eu-west-1;\n"
        "    buckets bk1 bk2.x;\n"
        "    buckets bk3;\n"
        "    tls_verify off;\n"
        "    ca_file " TEST_CONF_EXAMPLE ";\n"
        "    max_connections 16;\n"
        "}\n"
        "replication_target any { endpoint http://127.0.0.1; access_key A;"
        " secret_key S; buckets *; }\n"
        "replication_target v6 { endpoint https://[::1]:1; access_key A;"
        " secret_key S; buckets z-1; }\n", NULL);
    /* The top-level max_connections is still the server's. */
    CHECK_EQ_INT(cf.max_connections, 5);
    CHECK_EQ_INT(cf.ntargets, 3);
    t = &cf.targets[0];
    CHECK_EQ_STR(t->name, "remote");
    CHECK_EQ_STR(t->endpoint, "https://Replica.Example.com:9443/");
    CHECK_EQ_INT(t->https, 1);
    CHECK_EQ_STR(t->host, "replica.example.com");
    CHECK_EQ_INT(t->port, 9443);
    CHECK_EQ_STR(t->access_key, "AK1");
    CHECK_EQ_STR(t->secret_key, "SK1/secret+key");
    CHECK_EQ_STR(t->region, "eu-west-1");
    CHECK_EQ_INT(t->nbuckets, 3);
    CHECK_EQ_STR(t->buckets[0], "bk1");
    CHECK_EQ_STR(t->buckets[1], "bk2.x");
    CHECK_EQ_STR(t->buckets[2], "bk3");
    CHECK_EQ_INT(t->tls_verify, 0);
    CHECK_EQ_STR(t->ca_file, TEST_CONF_EXAMPLE);
    CHECK_EQ_INT(t->max_connections, 16);
    /* The defaults. */
    t = &cf.targets[1];
    CHECK_EQ_INT(t->https, 0);
    CHECK_EQ_STR(t->host, "127.0.0.1");
    CHECK_EQ_INT(t->port, 80);
    CHECK_EQ_STR(t->region, "us-east-1");
    CHECK_EQ_INT(t->tls_verify, 1);
    CHECK(t->ca_file == NULL);
    CHECK_EQ_INT(t->max_connections, 8);
    t = &cf.targets[2];
    CHECK_EQ_STR(t->host, "::1");
    CHECK_EQ_INT(t->port, 1);

    /* The first target whose buckets name it, or "*". */
    CHECK(gw_conf_target_for_bucket(&cf, "bk3", 3) == &cf.targets[0]);
    CHECK(gw_conf_target_for_bucket(&cf, "bk3x", 3) == &cf.targets[0]);
    CHECK(gw_conf_target_for_bucket(&cf, "bk2", 3) == &cf.targets[1]);
    CHECK(gw_conf_target_for_bucket(&cf, "z-1", 3) == &cf.targets[1]);

    /* Listed without the secret key. */
    fp = open_memstream(&out, &len);
    CHECK(fp != NULL);
    gw_conf_print_summary(&cf, fp);
    fclose(fp);
    CHECK(strstr(out, "replication target remote: "
                      "https://Replica.Example.com:9443/, access key AK1, "
                      "buckets bk1 bk2.x bk3\n") != NULL);
    CHECK(strstr(out, "SK1") == NULL);
    free(out);
    gw_conf_free(&cf);
    CHECK_EQ_INT(cf.ntargets, 0);
    CHECK(cf.targets == NULL);

    /* Without "*", a bucket no target names has none; a block with the
     * name of an earlier one (here from -g) replaces it. */
    CHECK_LOAD_OK(&cf,
        "replication_target a { endpoint https://a.test; access_key A;"
        " secret_key S; buckets xx1 xx2; }\n"
        "replication_target b { endpoint https://b.test; access_key B;"
        " secret_key S; buckets xx3; }\n",
        "replication_target a { endpoint https://c.test:8443; access_key C;"
        " secret_key S; buckets xx4; }");
    CHECK_EQ_INT(cf.ntargets, 2);
    CHECK_EQ_STR(cf.targets[0].host, "c.test");
    CHECK_EQ_INT(cf.targets[0].port, 8443);
    CHECK(gw_conf_target_for_bucket(&cf, "xx1", 3) == NULL);
    CHECK(gw_conf_target_for_bucket(&cf, "xx4", 3) == &cf.targets[0]);
    CHECK(gw_conf_target_for_bucket(&cf, "xx3", 3) == &cf.targets[1]);
    CHECK(gw_conf_target_for_bucket(&cf, "nope", 4) == NULL);
    gw_conf_free(&cf);

    /* The embedded default has none. */
    CHECK_EQ_INT(gw_conf_load(&cf, NULL, NULL, NULL, 0), GW_OK);
    CHECK_EQ_INT(cf.ntargets, 0);
    CHECK(gw_conf_target_for_bucket(&cf, "any", 3) == NULL);
    gw_conf_free(&cf);
}

#define TARGET_OK  "endpoint https://r.test; access_key A; secret_key S; " \
                   "buckets *;"

TEST(conf_replication_target_errors)
{
    gw_conf_t  cf;

    CHECK_LOAD_ERR("\nreplication_target r {\n access_key A; secret_key S;"
                   " buckets *;\n}", ":2: replication_target \"r\" has no "
                   "\"endpoint\"");
    CHECK_LOAD_ERR("replication_target r { endpoint https://r.test; "
                   "secret_key S; buckets *; }", ":1: replication_target "
                   "\"r\" has no \"access_key\"");
    CHECK_LOAD_ERR("replication_target r { endpoint https://r.test; "
                   "access_key A; buckets *; }", ":1: replication_target "
                   "\"r\" has no \"secret_key\"");
    CHECK_LOAD_ERR("replication_target r { endpoint https://r.test; "
                   "access_key A; secret_key 'hidden-secret'; }",
                   ":1: replication_target \"r\" has no \"buckets\"");

    /* endpoint */
    CHECK_LOAD_ERR("\n\nreplication_target r {\n endpoint ftp://x;\n}",
                   ":4: invalid endpoint \"ftp://x\" in \"endpoint\" "
                   "(expected http://HOST[:PORT] or https://HOST[:PORT])");
    CHECK_LOAD_ERR("replication_target r { endpoint https://; }",
                   ":1: invalid endpoint \"https://\" in \"endpoint\" "
                   "(expected http://HOST[:PORT] or https://HOST[:PORT])");
    CHECK_LOAD_ERR("replication_target r { endpoint r.test:9000; }",
                   ":1: invalid endpoint \"r.test:9000\" in \"endpoint\" "
                   "(expected http://HOST[:PORT] or https://HOST[:PORT])");
    CHECK_LOAD_ERR("replication_target r { endpoint https://r.test/bucket; }",
                   ":1: invalid endpoint \"https://r.test/bucket\" in "
                   "\"endpoint\" (expected http://HOST[:PORT] or "
                   "https://HOST[:PORT])");
    CHECK_LOAD_ERR("replication_target r { endpoint http://-r.test; }",
                   ":1: invalid endpoint \"http://-r.test\" in \"endpoint\" "
                   "(expected http://HOST[:PORT] or https://HOST[:PORT])");
    CHECK_LOAD_ERR("replication_target r { endpoint https://[zz]:1; }",
                   ":1: invalid endpoint \"https://[zz]:1\" in \"endpoint\" "
                   "(expected http://HOST[:PORT] or https://HOST[:PORT])");
    CHECK_LOAD_ERR("replication_target r { endpoint https://u@r.test; }",
                   ":1: invalid endpoint \"https://u@r.test\" in "
                   "\"endpoint\" (expected http://HOST[:PORT] or "
                   "https://HOST[:PORT])");
    CHECK_LOAD_ERR("replication_target r { endpoint https://r.test:0; }",
                   ":1: invalid port \"0\" in \"endpoint\"");
    CHECK_LOAD_ERR("replication_target r { endpoint https://r.test:65536; }",
                   ":1: invalid port \"65536\" in \"endpoint\"");
    CHECK_LOAD_ERR("replication_target r { endpoint https://r.test:; }",
                   ":1: invalid port \"\" in \"endpoint\"");

    /* buckets */
    CHECK_LOAD_ERR("replication_target r { buckets ok-name Bad_Name; }",
                   ":1: invalid bucket name \"Bad_Name\" in \"buckets\" (use "
                   "lowercase letters, digits, \".\" and \"-\", or \"*\")");
    CHECK_LOAD_ERR("replication_target r { buckets ab; }",
                   ":1: invalid bucket name \"ab\" in \"buckets\" (3 to 63 "
                   "characters, or \"*\")");
    CHECK_LOAD_ERR("replication_target r { buckets; }",
                   ":1: invalid number of arguments in \"buckets\" "
                   "directive");
    CHECK_LOAD_ERR("replication_target r { buckets a01 a02 a03 a04 a05 a06 "
                   "a07 a08 a09; }", ":1: invalid number of arguments in "
                   "\"buckets\" directive");

    /* TLS settings need TLS. */
    CHECK_LOAD_ERR("replication_target r {\n endpoint http://r.test;\n"
                   " tls_verify on;\n access_key A; secret_key S;"
                   " buckets *;\n}", ":3: \"tls_verify\" needs an https:// "
                   "endpoint in replication_target \"r\"");
    CHECK_LOAD_ERR("replication_target r {\n endpoint http://r.test;\n"
                   " access_key A; secret_key S; buckets *;\n ca_file "
                   TEST_CONF_EXAMPLE ";\n}", ":4: \"ca_file\" needs an "
                   "https:// endpoint in replication_target \"r\"");
    CHECK_LOAD_ERR("replication_target r {\n ca_file /nonexistent/ca.pem;\n}",
                   ":2: cannot read \"ca_file\" \"/nonexistent/ca.pem\": No "
                   "such file or directory");
    CHECK_LOAD_ERR("replication_target r { tls_verify maybe; }",
                   ":1: invalid value \"maybe\" in \"tls_verify\", it must be "
                   "\"on\" or \"off\"");
    CHECK_LOAD_ERR("replication_target r { max_connections 0; }",
                   ":1: number \"0\" in \"max_connections\" is out of range "
                   "(1..1024)");
    CHECK_LOAD_ERR("replication_target r { max_connections 1025; }",
                   ":1: number \"1025\" in \"max_connections\" is out of "
                   "range (1..1024)");
    CHECK_LOAD_ERR("replication_target r { region 'eu west'; }",
                   ":1: invalid value \"eu west\" in \"region\" (use letters, "
                   "digits, \"-\" and \"_\")");

    /* Where directives may appear. */
    CHECK_LOAD_ERR("endpoint https://r.test;", ":1: \"endpoint\" directive "
                   "is not allowed here");
    CHECK_LOAD_ERR("buckets *;", ":1: \"buckets\" directive is not allowed "
                   "here");
    CHECK_LOAD_ERR("user u { access_key A; secret_key S; buckets *; }",
                   ":1: \"buckets\" directive is not allowed here");
    CHECK_LOAD_ERR("replication_target r { user u { } }", ":1: \"user\" "
                   "directive is not allowed here");
    CHECK_LOAD_ERR("replication_target r { email a@b.c; }", ":1: \"email\" "
                   "directive is not allowed here");
    CHECK_LOAD_ERR("replication_target r;", ":1: directive "
                   "\"replication_target\" has no opening \"{\"");
    CHECK_LOAD_ERR("replication_target { " TARGET_OK " }", ":1: invalid "
                   "number of arguments in \"replication_target\" directive");
    CHECK_LOAD_ERR("replication_target 'a b' { " TARGET_OK " }",
                   ":1: invalid target name \"a b\" in \"replication_target\" "
                   "(use printable ASCII without spaces)");
    CHECK_LOAD_ERR("replication_target r {\n " TARGET_OK "\n\n",
                   ":4: unexpected end of file, expecting \"}\"");

    /* A secret key never shows in an error. */
    CHECK_LOAD_ERR("replication_target r { endpoint https://r.test; "
                   "access_key A; secret_key 'top\tsecret'; buckets *; }",
                   ":1: invalid character in \"secret_key\" (control "
                   "characters are not allowed)");
    CHECK_EQ_INT(test_conf_load(&cf, "replication_target r { endpoint "
                                "https://r.test; secret_key "
                                "'hidden-secret'; buckets *; }", NULL),
                 GW_EINVAL);
    CHECK(strstr(test_conf_err, "hidden-secret") == NULL);
    CHECK_EQ_INT(cf.ntargets, 0);
    gw_conf_free(&cf);
}

TEST(conf_cors_default)
{
    gw_conf_t  cf;

    /* Off unless given. */
    CHECK_LOAD_OK(&cf, "", NULL);
    CHECK_EQ_INT(cf.cors_default.enabled, 0);
    gw_conf_free(&cf);

    CHECK_LOAD_OK(&cf, "cors_default {\n"
                  "    allowed_origin https://app.example.com "
                  "http://*.example.com;\n"
                  "    allowed_origin *;\n"
                  "    allowed_method GET HEAD PUT;\n"
                  "    allowed_header *;\n"
                  "    expose_header ETag x-amz-request-id;\n"
                  "    max_age 3000;\n"
                  "}\n", NULL);
    CHECK_EQ_INT(cf.cors_default.enabled, 1);
    CHECK_EQ_INT(cf.cors_default.norigins, 3);
    CHECK_EQ_STR(cf.cors_default.origins[1], "http://*.example.com");
    CHECK_EQ_STR(cf.cors_default.origins[2], "*");
    CHECK_EQ_INT(cf.cors_default.nmethods, 3);
    CHECK_EQ_STR(cf.cors_default.methods[2], "PUT");
    CHECK_EQ_INT(cf.cors_default.nheaders, 1);
    CHECK_EQ_INT(cf.cors_default.nexpose, 2);
    CHECK_EQ_INT(cf.cors_default.max_age, 3000);
    gw_conf_free(&cf);

    /* A later block replaces an earlier one, the -g text the file's; no
     * max_age is none. */
    CHECK_LOAD_OK(&cf, "cors_default { allowed_origin https://a.test; "
                  "allowed_method GET; max_age 5; }",
                  "cors_default { allowed_origin https://b.test; "
                  "allowed_method DELETE; }");
    CHECK_EQ_INT(cf.cors_default.norigins, 1);
    CHECK_EQ_STR(cf.cors_default.origins[0], "https://b.test");
    CHECK_EQ_STR(cf.cors_default.methods[0], "DELETE");
    CHECK_EQ_INT(cf.cors_default.max_age == GW_CONF_CORS_NO_MAX_AGE, 1);
    gw_conf_free(&cf);

    CHECK_LOAD_ERR("\ncors_default {\n allowed_origin *;\n"
                   " allowed_method GET PATCH;\n}",
                   ":4: invalid method \"PATCH\" in \"allowed_method\" "
                   "(GET, PUT, POST, DELETE or HEAD)");
    CHECK_LOAD_ERR("cors_default { allowed_origin *; allowed_method get; }",
                   ":1: invalid method \"get\" in \"allowed_method\" "
                   "(GET, PUT, POST, DELETE or HEAD)");
    CHECK_LOAD_ERR("cors_default {\n allowed_origin http://*.*;\n}",
                   ":2: invalid value \"http://*.*\" in \"allowed_origin\" "
                   "(at most one \"*\")");
    CHECK_LOAD_ERR("cors_default {\n allowed_header x-*-*;\n}",
                   ":2: invalid value \"x-*-*\" in \"allowed_header\" "
                   "(at most one \"*\")");
    CHECK_LOAD_ERR("cors_default {\n expose_header x-amz-*;\n}",
                   ":2: invalid header \"x-amz-*\" in \"expose_header\" "
                   "(an exposed header takes no \"*\")");
    CHECK_LOAD_ERR("cors_default {\n max_age 2147483648;\n}",
                   ":2: number \"2147483648\" in \"max_age\" is out of range "
                   "(0..2147483647)");
    CHECK_LOAD_ERR("\ncors_default {\n allowed_method GET;\n}",
                   ":2: cors_default has no \"allowed_origin\"");
    CHECK_LOAD_ERR("cors_default { allowed_origin *; }",
                   ":1: cors_default has no \"allowed_method\"");
    CHECK_LOAD_ERR("cors_default x { allowed_origin *; }",
                   ":1: invalid number of arguments in \"cors_default\" "
                   "directive");
    CHECK_LOAD_ERR("allowed_origin *;",
                   ":1: \"allowed_origin\" directive is not allowed here");
    CHECK_LOAD_ERR("cors_default { endpoint https://x.test; }",
                   ":1: \"endpoint\" directive is not allowed here");
}

/* SIGHUP's restart-only directives: next gets run's values back, each
 * change is named once, and the rest of next is left as read. */
static char    test_conf_changed[512];

static void
test_conf_note(void *ud, const char *name)
{
    GW_UNUSED(ud);
    strcat(test_conf_changed, name);
    strcat(test_conf_changed, " ");
}

TEST(conf_keep_restart)
{
    gw_conf_t  run, next;

    CHECK_LOAD_OK(&run, "listen 127.0.0.1:9000; data_dir /a; "
                  "access_log_format json; max_object_size 1m;", NULL);
    CHECK_EQ_INT(run.access_log_format, GW_CONF_LOG_JSON);
    CHECK_LOAD_OK(&next, "listen 127.0.0.1:9000; data_dir /a; "
                  "max_object_size 2m;", NULL);
    test_conf_changed[0] = '\0';
    CHECK_EQ_INT(gw_conf_keep_restart(&run, &next, test_conf_note, NULL), 0);
    CHECK_EQ_STR(test_conf_changed, "");
    CHECK_EQ_INT(next.max_object_size, 2 << 20);
    gw_conf_free(&next);

    CHECK_LOAD_OK(&next, "listen 127.0.0.1:9001 ; data_dir /b; "
                  "chunk_size 8m; fsync off; max_object_size 2m;", NULL);
    CHECK_EQ_INT(gw_conf_keep_restart(&run, &next, test_conf_note, NULL), 4);
    CHECK_EQ_STR(test_conf_changed, "listen data_dir chunk_size fsync ");
    CHECK_EQ_INT(next.listen[0].port, 9000);
    CHECK_EQ_STR(next.data_dir, "/a");
    CHECK_EQ_INT(next.chunk_size, 4 << 20);
    CHECK_EQ_INT(next.fsync, 1);
    CHECK_EQ_INT(next.max_object_size, 2 << 20);
    gw_conf_free(&next);     /* its data_dir is a copy: no double free */
    CHECK_EQ_STR(run.data_dir, "/a");
    gw_conf_free(&run);

    CHECK_LOAD_ERR("access_log_format xml;", ":1: invalid format \"xml\" in "
                   "\"access_log_format\" (use text or json)");
}
