#!/bin/sh
# contrib/docker-entrypoint.sh: the container image's entrypoint. Turns the
# S3GW_* environment into a configuration file and then execs s3gw, so that
# the server is PID 1 and gets SIGTERM itself (graceful stop within
# shutdown_timeout) and SIGHUP (reload).
#
#   s3gw-entrypoint                       serve the configuration below
#   s3gw-entrypoint -t | -g '...' | replication list ...
#                                         the same, with s3gw's own options
#                                         or command after -c CONFIG
#   s3gw-entrypoint CMD ARGS...           run CMD instead (a shell, say)
#
# The configuration is the embedded default (every directive keeps the
# default s3gw.conf.example gives it) with these changes:
#   listen 0.0.0.0:9000; data_dir /data;  unless S3GW_LISTEN / S3GW_DATA_DIR
#   one user, S3GW_USER (default "admin"), with S3GW_ACCESS_KEY and
#   S3GW_SECRET_KEY (or S3GW_SECRET_KEY_FILE, a file holding it); without
#   keys the container refuses to start rather than serve well-known ones
#   S3GW_<DIRECTIVE> for the directives listed in S3GW_SIMPLE below, and
#   S3GW_LISTEN / S3GW_TRUSTED_PROXY as space-separated lists, and
#   S3GW_TLS_LISTEN: addresses listened on with ssl (the certificate in
#   S3GW_SSL_CERTIFICATE / S3GW_SSL_CERTIFICATE_KEY)
# An empty variable counts as unset. A value holding ';', '{', '}' or a
# control character (newline, tab...) is refused: it could only be an
# attempt to write another directive. Anything else is written as a quoted
# string, so quotes and backslashes in a secret are kept as they are.
#
# The keys go into a file (mode 0600, under $TMPDIR) read with -c, not on
# the command line, where every user of the host could read them with ps.
# S3GW_BIN names the binary (default: s3gw on PATH); the tests point it at
# a build of their own.

set -eu

ME=s3gw-entrypoint
BIN=${S3GW_BIN:-s3gw}

# The directives that take one value, as S3GW_<NAME in capitals>.
S3GW_SIMPLE="region data_dir log_level access_log fsync worker_processes
shutdown_timeout server_name website_domain max_connections
limit_conn_per_ip max_object_size chunk_size inline_max index_max_size
gc_interval multipart_expire complete_keepalive lifecycle_day
header_timeout idle_timeout client_body_timeout max_header_size
max_headers max_url default_object_ownership ssl_certificate
ssl_certificate_key ssl_protocols status_listen access_log_format"

die() {
    echo "$ME: $*" >&2
    exit 1
}

# check VAR VALUE: refuses what could end the directive or start another.
check() {
    case $2 in
    *[\;{}]* | *[[:cntrl:]]*)
        die "$1: the value may not contain ';', '{', '}' or control" \
            "characters such as a newline or a tab"
        ;;
    esac
}

# quoted VALUE: VALUE as a double-quoted config string.
quoted() {
    printf '"%s"' "$(printf '%s' "$1" | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g')"
}

# directive NAME VAR VALUE: one line of the file; the comment names the
# variable, so s3gw's "file:line" message leads back to it.
directive() {
    check "$2" "$3"
    printf '%s %s;  # %s\n' "$1" "$(quoted "$3")" "$2"
}

# env VAR: the variable's value, or nothing when unset.
env_value() {
    eval "printf '%s' \"\${$1-}\""
}

generate() {
    for name in $S3GW_SIMPLE; do
        var=S3GW_$(echo "$name" | tr 'a-z' 'A-Z')
        val=$(env_value "$var")
        if [ -z "$val" ]; then
            case $name in
            data_dir) val=/data ;;
            *) continue ;;
            esac
        fi
        directive "$name" "$var" "$val"
    done

    check S3GW_LISTEN "${S3GW_LISTEN:-}"
    for addr in ${S3GW_LISTEN:-0.0.0.0:9000}; do
        directive listen S3GW_LISTEN "$addr"
    done
    check S3GW_TLS_LISTEN "${S3GW_TLS_LISTEN:-}"
    for addr in ${S3GW_TLS_LISTEN:-}; do
        printf 'listen %s ssl;  # %s\n' "$(quoted "$addr")" S3GW_TLS_LISTEN
    done
    check S3GW_TRUSTED_PROXY "${S3GW_TRUSTED_PROXY:-}"
    for addr in ${S3GW_TRUSTED_PROXY:-}; do
        directive trusted_proxy S3GW_TRUSTED_PROXY "$addr"
    done

    secret=${S3GW_SECRET_KEY:-}
    if [ -n "${S3GW_SECRET_KEY_FILE:-}" ]; then
        [ -z "$secret" ] || die "set S3GW_SECRET_KEY or" \
            "S3GW_SECRET_KEY_FILE, not both"
        [ -r "$S3GW_SECRET_KEY_FILE" ] || die "S3GW_SECRET_KEY_FILE:" \
            "cannot read $S3GW_SECRET_KEY_FILE"
        # $(...) drops the file's trailing newlines, as a secret wants.
        secret=$(cat "$S3GW_SECRET_KEY_FILE")
        [ -n "$secret" ] || die "S3GW_SECRET_KEY_FILE: $S3GW_SECRET_KEY_FILE" \
            "is empty"
    fi
    if [ -z "${S3GW_ACCESS_KEY:-}" ] || [ -z "$secret" ]; then
        die "set S3GW_ACCESS_KEY and S3GW_SECRET_KEY (or" \
            "S3GW_SECRET_KEY_FILE): the keys of the first user, for" \
            "example -e S3GW_ACCESS_KEY=admin -e S3GW_SECRET_KEY=\$(openssl" \
            "rand -hex 20)"
    fi
    user=${S3GW_USER:-admin}
    check S3GW_USER "$user"
    check S3GW_ACCESS_KEY "$S3GW_ACCESS_KEY"
    check S3GW_SECRET_KEY "$secret"
    printf 'user %s {  # S3GW_USER\n' "$(quoted "$user")"
    directive '    access_key' S3GW_ACCESS_KEY "$S3GW_ACCESS_KEY"
    directive '    secret_key' S3GW_SECRET_KEY "$secret"
    printf '}\n'
}

case ${1:-} in
'' | -* | replication) ;;
*) exec "$@" ;;
esac

umask 077
dir=$(mktemp -d "${TMPDIR:-/tmp}/s3gw-conf.XXXXXX") ||
    die "cannot make a directory under ${TMPDIR:-/tmp}"
conf=$dir/s3gw.conf
# A die inside generate ends only its subshell, so the directory goes too.
if ! (generate) > "$conf"; then
    rm -rf "$dir"
    exit 1
fi

if [ $# -eq 0 ]; then
    # Check first, so that a refused value is named by its variable.
    if ! out=$("$BIN" -t -c "$conf" 2>&1); then
        echo "$out" >&2
        line=$(echo "$out" | sed -n 's/^s3gw: [^ ]*:\([0-9][0-9]*\): .*/\1/p' |
               head -n 1)
        if [ -n "$line" ]; then
            var=$(sed -n "${line}s/.*# \\(S3GW_[A-Z_]*\\)\$/\\1/p" "$conf")
            [ -z "$var" ] || echo "$ME: the value comes from $var" >&2
        fi
        rm -rf "$dir"
        exit 1
    fi
fi
exec "$BIN" -c "$conf" "$@"
