#!/bin/bash
# contrib/docker-healthcheck.sh: the container image's HEALTHCHECK. Healthy
# when the server answers HTTP on its first S3GW_LISTEN address: an
# anonymous GET / (403 AccessDenied is an answer as good as any). Bash, for
# its /dev/tcp, because the slim run image has no curl and should not need
# one.

set -u

first=${S3GW_LISTEN:-0.0.0.0:9000}
first=${first%% *}
case $first in
*:*) host=${first%:*} port=${first##*:} ;;
*) host= port=$first ;;
esac
case $host in
'' | '*' | 0.0.0.0) host=127.0.0.1 ;;
'[::]') host=::1 ;;
'['*']') host=${host#[} host=${host%]} ;;
esac

exec 3<>"/dev/tcp/$host/$port" || exit 1
printf 'GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n' >&3
IFS= read -r -t 5 status <&3 || exit 1
case $status in
'HTTP/1.1 '[0-9][0-9][0-9]' '*) exit 0 ;;
esac
echo "s3gw-healthcheck: unexpected answer: $status" >&2
exit 1
