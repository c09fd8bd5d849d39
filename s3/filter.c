/* s3/filter.c: tags and IDs of configuration rule filters (see
 * s3/filter.h). */
#include "s3/filter.h"
#include "s3/error.h"
#include "core/hash.h"

int
s3_filter_tag_read(gw_pool_t *pool, const s3_xml_node_t *tag, gw_kv_t **tags,
                   size_t *ntags)
{
    const s3_xml_node_t  *c, *key = NULL, *value = NULL;
    gw_kv_t             *t;

    for (c = tag->child; c != NULL; c = c->next) {
        if (s3_xml_is(c, "Key") ? s3_xml_once(&key, c) != GW_OK
            : !s3_xml_is(c, "Value") || s3_xml_once(&value, c) != GW_OK)
        {
            return GW_EINVAL;
        }
    }
    if (key == NULL || value == NULL) {
        return GW_EINVAL;
    }
    t = gw_pool_alloc(pool, (*ntags + 1) * sizeof(*t));
    if (*ntags > 0) {
        memcpy(t, *tags, *ntags * sizeof(*t));
    }
    t[*ntags].name = s3_xml_str(key);
    t[*ntags].value = s3_xml_str(value);
    *tags = t;
    (*ntags)++;
    return GW_OK;
}

int
s3_filter_tags_check(const gw_kv_t *tags, size_t n, const char **msg)
{
    size_t  i, j;

    for (i = 0; i < n; i++) {
        if (tags[i].name.len == 0) {
            *msg = "The TagKey you have provided is invalid";
            return S3_ERR_INVALID_TAG;
        }
        if (gw_utf8_chars(tags[i].name) > S3_FILTER_TAG_KEY_MAX) {
            *msg = "The TagKey you have provided is too long, max 128";
            return S3_ERR_INVALID_TAG;
        }
        if (gw_utf8_chars(tags[i].value) > S3_FILTER_TAG_VALUE_MAX) {
            *msg = "The TagValue you have provided is too long, max 256";
            return S3_ERR_INVALID_TAG;
        }
        for (j = 0; j < i; j++) {
            if (gw_str_eq(tags[i].name, tags[j].name)) {
                *msg = "Duplicate Tag Keys are not allowed.";
                return S3_ERR_INVALID_REQUEST;
            }
        }
    }
    return S3_ERR_NONE;
}

int
s3_filter_tags_match(const gw_kv_t *want, size_t nwant, const gw_kv_t *have,
                     size_t nhave)
{
    size_t  i, j;

    for (i = 0; i < nwant; i++) {
        for (j = 0; j < nhave; j++) {
            if (gw_str_eq(want[i].name, have[j].name)) {
                break;
            }
        }
        if (j == nhave || !gw_str_eq(want[i].value, have[j].value)) {
            return 0;
        }
    }
    return 1;
}

void
s3_filter_tag_xml(s3_xml_t *x, const gw_kv_t *t)
{
    s3_xml_open(x, "Tag");
    s3_xml_elem(x, "Key", t->name.base, t->name.len);
    s3_xml_elem(x, "Value", t->value.base, t->value.len);
    s3_xml_close(x, "Tag");
}

gw_str_t
s3_filter_new_id(gw_pool_t *pool)
{
    static const char  hex[] = "0123456789abcdef";
    unsigned char      u[16];
    char               text[37], *b64;
    size_t             i, o = 0;
    gw_str_t           id;

    gw_random_bytes(u, sizeof(u));
    u[6] = (unsigned char) ((u[6] & 0x0f) | 0x40);
    u[8] = (unsigned char) ((u[8] & 0x3f) | 0x80);
    for (i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10) {
            text[o++] = '-';
        }
        text[o++] = hex[u[i] >> 4];
        text[o++] = hex[u[i] & 15];
    }
    text[o] = '\0';
    b64 = gw_pool_alloc(pool, GW_BASE64_LEN(o) + 1);
    id.len = gw_base64_encode(b64, (const unsigned char *) text, o);
    id.base = b64;
    return id;
}
