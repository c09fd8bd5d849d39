#!/bin/sh
# test/bench/run.sh: first compare.py's table (s3gw against nginx, one row
# per goal of issue 14, with the machine's limits); then (unless
# BENCH_TABLE_ONLY=1) throughput and memory of a 1 GiB PUT and GET on loopback,
# with curl (so the client is not the bottleneck) and with boto3; then
# multipart.py (copy and complete), access.py (access decisions),
# replication.py (a replication backlog drained to another s3gw),
# versions.py (a listing's cost of old versions) and gcstall.py (small PUTs
# while the collector unlinks 2,000 chunk files). Prints
# figures; asserts nothing. Usage: sh test/bench/run.sh [SIZE_MIB]
set -eu
cd "$(dirname "$0")/../.."
BIN=${S3GW_BIN:-build/s3gw}
if [ "${BENCH_QUICK:-0}" = 1 ]; then MIB=${1:-64}; else MIB=${1:-1024}; fi
python3 test/bench/compare.py "$BIN"
[ "${BENCH_TABLE_ONLY:-0}" = 1 ] && exit 0
TMP=$(mktemp -d)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
AK=bench SK=bench-secret
trap 'kill $PID 2>/dev/null; rm -rf "$TMP"' EXIT INT TERM

run_server() {
    "$BIN" -g "listen 127.0.0.1:$PORT; data_dir $TMP/data; access_log off; fsync $1; user bench { access_key $AK; secret_key $SK; }" \
        >"$TMP/out" 2>"$TMP/err" &
    PID=$!
    for i in $(seq 50); do
        curl -s -o /dev/null "http://127.0.0.1:$PORT/" && break
        sleep 0.1
    done
}

s3curl() {
    curl -s --aws-sigv4 "aws:amz:us-east-1:s3" --user "$AK:$SK" "$@"
}

head -c $((MIB * 1048576)) /dev/urandom > "$TMP/blob"
for fs in on off; do
    run_server $fs
    s3curl -X PUT "http://127.0.0.1:$PORT/bench" -o /dev/null
    put=$(s3curl -T "$TMP/blob" -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" \
          -w '%{speed_upload}' -o /dev/null "http://127.0.0.1:$PORT/bench/blob")
    get=$(s3curl -w '%{speed_download}' -o "$TMP/back" "http://127.0.0.1:$PORT/bench/blob")
    cmp -s "$TMP/blob" "$TMP/back" || echo "bench: GET returned different bytes!"
    hwm=$(awk '/VmHWM/ {print $2}' /proc/$PID/status)
    echo "figure: fsync $fs, curl, $MIB MiB: PUT $((${put%.*} / 1048576)) MiB/s, GET $((${get%.*} / 1048576)) MiB/s, server VmHWM ${hwm} KiB"
    kill $PID; wait $PID 2>/dev/null || true
    rm -rf "$TMP/data" "$TMP/back"
done

run_server on
python3 - "$PORT" "$AK" "$SK" "$TMP/blob" "$MIB" <<'PY'
import sys, time, hashlib, boto3
from botocore.config import Config
port, ak, sk, path, mib = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
s3 = boto3.client('s3', endpoint_url='http://127.0.0.1:%s' % port, aws_access_key_id=ak,
                  aws_secret_access_key=sk, region_name='us-east-1',
                  config=Config(s3={'addressing_style': 'path'}))
s3.create_bucket(Bucket='bench')
t = time.time()
with open(path, 'rb') as f:
    s3.put_object(Bucket='bench', Key='blob', Body=f)
put = mib / (time.time() - t)
t = time.time()
body = s3.get_object(Bucket='bench', Key='blob')['Body']
while body.read(1 << 20):
    pass
get = mib / (time.time() - t)
print('figure: fsync on, boto3 put_object/get_object, %d MiB: PUT %.0f MiB/s, GET %.0f MiB/s' % (mib, put, get))
PY
echo "figure: server VmHWM after boto3 $(awk '/VmHWM/ {print $2}' /proc/$PID/status) KiB"
python3 test/bench/multipart.py "$BIN"
python3 test/bench/access.py "$BIN"
python3 test/bench/replication.py "$BIN"
python3 test/bench/versions.py "$BIN"
python3 test/bench/gcstall.py "$BIN"
