/* s3/error.c: the table of S3 errors generated from s3/error.h's
 * S3_ERROR_MAP: status, code and default message of each. */
#include "s3/error.h"

#include <stddef.h>

typedef struct {
    int          status;
    const char  *code;
    const char  *message;
} s3_error_def_t;

static const s3_error_def_t  s3_errors[] = {
    { 500, "InternalError", "We encountered an internal error." },
#define S3_ERR_DEF(name, status, code, msg) { status, code, msg },
    S3_ERROR_MAP(S3_ERR_DEF)
#undef S3_ERR_DEF
};

int
s3_error_status(int err)
{
    return err > 0 && err < S3_ERR_LAST ? s3_errors[err].status : 500;
}

const char *
s3_error_code(int err)
{
    return err > 0 && err < S3_ERR_LAST ? s3_errors[err].code : "InternalError";
}

const char *
s3_error_message(int err)
{
    return err > 0 && err < S3_ERR_LAST ? s3_errors[err].message
                                        : "We encountered an internal error.";
}
