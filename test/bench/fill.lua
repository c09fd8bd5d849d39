-- test/bench/fill.lua: PUTs N small objects with distinct keys, as fast as
-- the connections go, into a bucket whose policy lets anyone PutObject (so
-- no URL needs signing). Each thread stops after its share is answered.
-- Usage:
--   wrk -t T -c C -d LONG -s fill.lua URL -- BUCKET N THREADS MARKER
-- wrk's main thread sleeps the whole -d whatever its threads do, so each
-- thread, once its share is answered, creates the file MARKER.<id>; the
-- caller waits for all of them and stops wrk with SIGINT. done() prints
-- "fill: ok=N non2xx=N".

local counter = 0
local threads = {}

function setup(thread)
    thread:set("id", counter)
    counter = counter + 1
    table.insert(threads, thread)
end

function init(args)
    bucket = args[1]
    share = math.ceil(tonumber(args[2]) / tonumber(args[3]))
    sent, ok, bad = 0, 0, 0
    body = string.rep("f", 64)
    marker = args[4] .. "." .. id
end

function request()
    sent = sent + 1
    return wrk.format("PUT", string.format("/%s/t%d/k%08d", bucket, id, sent),
                      nil, body)
end

function response(status, headers, resp_body)
    if status >= 200 and status <= 299 then
        ok = ok + 1
    else
        bad = bad + 1
    end
    if ok + bad == share then
        local f = io.open(marker, "w")
        if f then
            f:close()
        end
        wrk.thread:stop()
    end
end

function done(summary, latency, requests)
    local ok_all, bad_all = 0, 0
    for _, t in ipairs(threads) do
        ok_all = ok_all + (t:get("ok") or 0)
        bad_all = bad_all + (t:get("bad") or 0)
    end
    io.write(string.format("fill: ok=%d non2xx=%d\n", ok_all, bad_all))
end
