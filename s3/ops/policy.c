/* s3/ops/policy.c: GetBucketPolicy, PutBucketPolicy, DeleteBucketPolicy.
 * The policy is kept as the JSON text it was put with, in the bucket's
 * "policy" configuration document; the language is s3/auth/policy.c's. */
#include "s3/ops/ops.h"
#include "s3/auth/access.h"
#include "s3/auth/policy.h"
#include "s3/payload.h"
#include "s3/record.h"
#include "core/log.h"

#include "llhttp.h"

static int s3_policy_op_get(s3_req_t *r), s3_policy_op_put(s3_req_t *r),
    s3_policy_op_delete(s3_req_t *r);

const s3_route_t  s3_policy_routes[] = {
    { HTTP_GET,    S3_BUCKET, "policy", "GetBucketPolicy", s3_policy_op_get, 0,
      "s3:GetBucketPolicy", NULL },
    { HTTP_PUT,    S3_BUCKET, "policy", "PutBucketPolicy", s3_policy_op_put,
      S3_BODY, "s3:PutBucketPolicy", NULL },
    { HTTP_DELETE, S3_BUCKET, "policy", "DeleteBucketPolicy",
      s3_policy_op_delete, 0, "s3:DeleteBucketPolicy", NULL },
    S3_ROUTE_END
};


static int
s3_policy_op_get(s3_req_t *r)
{
    gw_str_t  v;
    int       rc;

    rc = store_bconf_get(r->ctx->store, r->bucket, STORE_BCONF_POLICY, r->pool,
                         &v);
    if (rc == GW_ENOTFOUND) {
        return S3_ERR_NO_SUCH_BUCKET_POLICY;
    }
    if (rc != GW_OK) {
        gw_log(GW_LOG_ERR, r->http->peer, rc, "bucket policy lookup failed");
        return S3_ERR_INTERNAL_ERROR;
    }
    http_resp_send(r->http, 200, v.base, v.len, "application/json");
    return GW_OK;
}

/* Principals of a policy being put must be users of this server. */
static int
s3_policy_op_known(void *ud, const char *account_id, const char *user,
                const char *canonical_id)
{
    const gw_conf_t  *cf = ud;
    size_t            i;

    for (i = 0; i < cf->nusers; i++) {
        const gw_conf_user_t  *u = &cf->users[i];

        if (canonical_id != NULL ? strcmp(u->canonical_id, canonical_id) == 0
            : strcmp(u->account_id, account_id) == 0
              && (user == NULL || strcmp(u->name, user) == 0))
        {
            return 1;
        }
    }
    return 0;
}

static void
s3_policy_op_put_body(s3_req_t *r, int err, const char *buf, size_t len)
{
    const s3_bucket_access_t  *ba;
    s3_policy_t               *p;
    char                       why[256];
    gw_str_t                   v;
    int                        public;

    if (err == S3_ERR_ENTITY_TOO_LARGE) {
        s3_error(r, S3_ERR_MALFORMED_POLICY, "Policy exceeds the maximum "
                 "allowed document size.");
        return;
    }
    if (err != S3_ERR_NONE) {
        s3_error(r, err, NULL);
        return;
    }
    if (s3_policy_parse(buf, len, r->bucket, s3_policy_op_known,
                        (void *) r->ctx->cf, &p, why, sizeof(why)) != GW_OK)
    {
        s3_error(r, S3_ERR_MALFORMED_POLICY,
                 gw_pool_strndup(r->pool, why, strlen(why)));
        return;
    }
    ba = s3_request_bucket(r);
    public = s3_policy_is_public(p);
    s3_policy_free(p);
    if (ba != NULL && ba->pab.block_policy && public) {
        /* BlockPublicPolicy: S3 refuses the policy, not the request's
         * caller, but answers it as AccessDenied all the same. */
        gw_log(GW_LOG_DEBUG, r->http->peer, 0, "%s BlockPublicPolicy "
               "refuses a public policy", r->http->id);
        s3_error(r, S3_ERR_ACCESS_DENIED, NULL);
        return;
    }
    v.base = buf;
    v.len = len;
    s3_bucket_conf_put(r, STORE_BCONF_POLICY, v, 204);
}

static int
s3_policy_op_put(s3_req_t *r)
{
    int  rc;

    rc = s3_payload_collect(r, S3_POLICY_MAX, s3_policy_op_put_body);
    if (rc == S3_ERR_ENTITY_TOO_LARGE) {
        s3_error(r, S3_ERR_MALFORMED_POLICY, "Policy exceeds the maximum "
                 "allowed document size.");
        return GW_OK;
    }
    return rc == GW_DONE ? GW_OK : rc;
}

static int
s3_policy_op_delete(s3_req_t *r)
{
    gw_str_t  none = { NULL, 0 };

    s3_bucket_conf_put(r, STORE_BCONF_POLICY, none, 204);
    return GW_DONE;
}

