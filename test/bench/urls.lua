-- test/bench/urls.lua: wrk over a list of request paths (presigned for
-- s3gw; nginx ignores the query string), each thread starting at its own
-- place in the list. Usage:
--   wrk -s urls.lua URL -- METHOD PATHFILE [BODY_BYTES]
-- done() prints one line for test/bench/compare.py: the request count,
-- the duration, p50/p99 latency and the errors, non-2xx answers included.

local counter = 0
local threads = {}

function setup(thread)
    thread:set("id", counter)
    counter = counter + 1
    table.insert(threads, thread)
end

function init(args)
    method = args[1]
    paths = {}
    for line in io.lines(args[2]) do
        if #line > 0 then
            paths[#paths + 1] = line
        end
    end
    local size = tonumber(args[3] or "0")
    if size > 0 then
        body = string.rep("b", size)
    end
    -- spread threads (and their connections) over the list
    idx = (id * 7919) % #paths
    bad = 0
end

function request()
    idx = idx % #paths + 1
    return wrk.format(method, paths[idx], nil, body)
end

function response(status, headers, resp_body)
    if status < 200 or status > 299 then
        bad = bad + 1
    end
end

function done(summary, latency, requests)
    local non2xx = 0
    for _, t in ipairs(threads) do
        non2xx = non2xx + (t:get("bad") or 0)
    end
    local e = summary.errors
    io.write(string.format(
        "bench: requests=%d duration_us=%d p50_us=%d p99_us=%d " ..
        "non2xx=%d socket_errors=%d\n",
        summary.requests, summary.duration, latency:percentile(50),
        latency:percentile(99), non2xx,
        e.connect + e.read + e.write + e.timeout))
end
