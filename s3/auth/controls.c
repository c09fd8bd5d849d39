/* s3/auth/controls.c: Object Ownership and Block Public Access settings:
 * their documents and stored forms (see controls.h). Both stored forms
 * start with a version digit, so a later encoding can be told apart. */
#include "s3/auth/controls.h"
#include "s3/error.h"

#include <string.h>

static const char  *const s3_ownership_names[] = {
    [S3_OWNERSHIP_WRITER] = "ObjectWriter",
    [S3_OWNERSHIP_PREFERRED] = "BucketOwnerPreferred",
    [S3_OWNERSHIP_ENFORCED] = "BucketOwnerEnforced",
};

int
s3_ownership_by_name(const char *s, size_t len)
{
    size_t  i;

    for (i = 0; i < GW_NELEMS(s3_ownership_names); i++) {
        if (strlen(s3_ownership_names[i]) == len
            && memcmp(s3_ownership_names[i], s, len) == 0)
        {
            return (int) i;
        }
    }
    return -1;
}

const char *
s3_ownership_name(int ownership)
{
    if (ownership < 0 || (size_t) ownership >= GW_NELEMS(s3_ownership_names)) {
        return s3_ownership_names[S3_OWNERSHIP_WRITER];
    }
    return s3_ownership_names[ownership];
}

/* ==== OwnershipControls ==== */

typedef struct {
    int       value;             /* of the ObjectOwnership read, or -1 */
    unsigned  rules, in_rule;    /* Rules seen; ObjectOwnership in this one */
} s3_ownership_parse_t;

static int
s3_ownership_elem(void *ud, int depth, const char *name, const char *text,
                  size_t len)
{
    s3_ownership_parse_t  *st = ud;

    switch (depth) {
    case 1:
        return strcmp(name, "OwnershipControls") == 0 && st->rules == 1
               ? 0 : GW_EINVAL;
    case 2:
        /* S3 takes one rule, with one setting. */
        if (strcmp(name, "Rule") != 0 || st->in_rule != 1 || ++st->rules > 1)
        {
            return GW_EINVAL;
        }
        return 0;
    case 3:
        if (strcmp(name, "ObjectOwnership") != 0 || st->in_rule++ > 0) {
            return GW_EINVAL;
        }
        st->value = s3_ownership_by_name(text, len);
        return st->value < 0 ? GW_EINVAL : 0;
    default:
        return GW_EINVAL;
    }
}

int
s3_ownership_parse_xml(const char *buf, size_t len, int *out)
{
    s3_ownership_parse_t  st = { -1, 0, 0 };

    if (s3_xml_parse(buf, len, s3_ownership_elem, &st) != GW_OK
        || st.value < 0)
    {
        return S3_ERR_MALFORMED_XML;
    }
    *out = st.value;
    return S3_ERR_NONE;
}

void
s3_ownership_xml(int ownership, s3_xml_t *x, gw_pool_t *pool)
{
    s3_xml_begin(x, pool, "OwnershipControls");
    s3_xml_open(x, "Rule");
    s3_xml_elem_str(x, "ObjectOwnership", s3_ownership_name(ownership));
    s3_xml_close(x, "Rule");
    s3_xml_end(x, "OwnershipControls");
}

char *
s3_ownership_encode(gw_pool_t *pool, int ownership, size_t *len)
{
    char  *s = gw_pool_sprintf(pool, "1 %s", s3_ownership_name(ownership));

    *len = strlen(s);
    return s;
}

int
s3_ownership_decode(const char *buf, size_t len, int *out)
{
    int  v;

    if (buf == NULL || len < 3 || buf[0] != '1' || buf[1] != ' ') {
        return GW_ECORRUPT;
    }
    v = s3_ownership_by_name(buf + 2, len - 2);
    if (v < 0) {
        return GW_ECORRUPT;
    }
    *out = v;
    return GW_OK;
}

/* ==== PublicAccessBlockConfiguration ==== */

/* In S3's order, which is also the stored form's. */
static const char  *const s3_pab_names[4] = {
    "BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy",
    "RestrictPublicBuckets",
};

static void
s3_pab_set(s3_pab_t *pab, size_t i, unsigned v)
{
    switch (i) {
    case 0: pab->block_acls = v; break;
    case 1: pab->ignore_acls = v; break;
    case 2: pab->block_policy = v; break;
    default: pab->restrict_public = v; break;
    }
}

static unsigned
s3_pab_get(const s3_pab_t *pab, size_t i)
{
    switch (i) {
    case 0: return pab->block_acls;
    case 1: return pab->ignore_acls;
    case 2: return pab->block_policy;
    default: return pab->restrict_public;
    }
}

typedef struct {
    s3_pab_t  pab;
    unsigned  seen;
} s3_pab_parse_t;

static int
s3_pab_elem(void *ud, int depth, const char *name, const char *text,
            size_t len)
{
    s3_pab_parse_t  *st = ud;
    size_t           i;

    if (depth == 1) {
        return strcmp(name, "PublicAccessBlockConfiguration") == 0
               ? 0 : GW_EINVAL;
    }
    if (depth != 2) {
        return GW_EINVAL;
    }
    for (i = 0; i < GW_NELEMS(s3_pab_names); i++) {
        if (strcmp(name, s3_pab_names[i]) != 0) {
            continue;
        }
        if (st->seen & (1u << i)) {
            return GW_EINVAL;
        }
        st->seen |= 1u << i;
        if (len == 4 && memcmp(text, "true", 4) == 0) {
            s3_pab_set(&st->pab, i, 1);
        } else if (len == 5 && memcmp(text, "false", 5) == 0) {
            s3_pab_set(&st->pab, i, 0);
        } else {
            return GW_EINVAL;
        }
        return 0;
    }
    return GW_EINVAL;
}

int
s3_pab_parse_xml(const char *buf, size_t len, s3_pab_t *out)
{
    s3_pab_parse_t  st;

    memset(&st, 0, sizeof(st));
    if (s3_xml_parse(buf, len, s3_pab_elem, &st) != GW_OK) {
        return S3_ERR_MALFORMED_XML;
    }
    *out = st.pab;
    return S3_ERR_NONE;
}

void
s3_pab_xml(const s3_pab_t *pab, s3_xml_t *x, gw_pool_t *pool)
{
    size_t  i;

    s3_xml_begin(x, pool, "PublicAccessBlockConfiguration");
    for (i = 0; i < GW_NELEMS(s3_pab_names); i++) {
        s3_xml_elem_str(x, s3_pab_names[i],
                        s3_pab_get(pab, i) ? "true" : "false");
    }
    s3_xml_end(x, "PublicAccessBlockConfiguration");
}

char *
s3_pab_encode(gw_pool_t *pool, const s3_pab_t *pab, size_t *len)
{
    char    *s = gw_pool_alloc(pool, 7);
    size_t   i;

    s[0] = '1';
    s[1] = ' ';
    for (i = 0; i < 4; i++) {
        s[2 + i] = s3_pab_get(pab, i) ? '1' : '0';
    }
    s[6] = '\0';
    *len = 6;
    return s;
}

int
s3_pab_decode(const char *buf, size_t len, s3_pab_t *out)
{
    s3_pab_t  pab;
    size_t    i;

    if (buf == NULL || len != 6 || buf[0] != '1' || buf[1] != ' ') {
        return GW_ECORRUPT;
    }
    memset(&pab, 0, sizeof(pab));
    for (i = 0; i < 4; i++) {
        if (buf[2 + i] != '0' && buf[2 + i] != '1') {
            return GW_ECORRUPT;
        }
        s3_pab_set(&pab, i, buf[2 + i] == '1');
    }
    *out = pab;
    return GW_OK;
}
